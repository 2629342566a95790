"""The record of a finished training run (a model folder's ``metrics.json``) as a typed object, and the provenance
it carries (the code's commit)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from absa.src.data import PACKAGE_DIR
from absa.src.files import write_json

METRICS_FILE = "metrics.json"
CODE_PATHS = [":(top)absa/src", ":(top)requirements.txt"]


@dataclass(kw_only=True)
class RunRecord:
    """What a training run did and scored. ``validation`` and ``test`` are ``metrics.classification_metrics``
    dicts (a run on several benchmarks adds ``averaged_over`` and ``by_benchmark``; a tagger's are
    ``metrics.span_metrics``); ``validation`` is None for a refit (it trained on those rows), ``test`` without a
    test file. Fields that older records lack are None."""

    config: dict
    backbone_source: str | None = None
    best_epoch: float
    validation: dict | None
    test: dict | None
    validation_history: list[dict]
    data: dict
    trainable_params: int
    total_params: int
    train_seconds: float
    teacher_seconds: float | None = None
    teacher_fingerprint: str | None = None
    peak_mem_mb: float | None = None
    bf16: bool | None = None
    device: str | None = None
    commit: str | None = None
    library_versions: dict | None = None
    promoted: dict | None = None  # added by ``promote``: where an exported model comes from
    calibration: dict | None = None  # added by ``calibration``: its temperature and calibration errors
    rebuilt_from: dict | None = None  # a rebuild (``train --like``): the recorded run it re-made, and its scores
    collapsed: bool | None = None  # training learned only the class prior (``trainer.collapsed``); None: not checked

    @classmethod
    def from_dict(cls, content: dict) -> RunRecord:
        known = {f.name for f in fields(cls)}
        unknown = set(content) - known
        if unknown:
            raise ValueError(f"unknown run record field(s) {sorted(unknown)}")
        return cls(**content)

    @classmethod
    def load(cls, folder: str | os.PathLike) -> RunRecord:
        """The record of an exported model folder."""
        path = Path(folder) / METRICS_FILE
        if not path.exists():
            raise FileNotFoundError(f"{path} not found: not an exported model folder")
        return cls.from_dict(json.loads(path.read_text()))

    def to_dict(self) -> dict:
        """The ``metrics.json`` content (``promoted``, ``calibration``, ``rebuilt_from``, ``collapsed`` only where
        there are some)."""
        content = asdict(self)
        for key in ("promoted", "calibration", "rebuilt_from", "collapsed"):
            if content[key] is None:
                del content[key]
        return content

    def reference(self, folder: str | os.PathLike) -> dict:
        """What a rebuild of this run keeps beside its own scores: where the run was recorded, how it was computed
        (commit, device, precision, library versions, teacher weights) and what it scored."""

        def scores(split: dict | None) -> dict | None:
            return None if split is None else {k: v for k, v in split.items() if isinstance(v, float)}

        return {
            "folder": str(folder),
            "commit": self.commit,
            "device": self.device,
            "bf16": self.bf16,
            "library_versions": self.library_versions,
            "teacher_fingerprint": self.teacher_fingerprint,
            "best_epoch": self.best_epoch,
            "validation": scores(self.validation),
            "test": scores(self.test),
            "promoted": self.promoted,
        }

    def save(self, folder: str | os.PathLike) -> Path:
        return write_json(Path(folder) / METRICS_FILE, self.to_dict())


def is_tagger(folder: str | os.PathLike) -> bool:
    """Whether an exported folder holds an aspect tagger (``absa.src.extract``) rather than a classifier."""
    path = Path(folder) / "absa_config.json"
    return path.exists() and json.loads(path.read_text()).get("task") == "extract"


def git_commit(repo: str | os.PathLike = PACKAGE_DIR) -> str:
    """HEAD of the repository, with ``-dirty`` when the training code or the pins differ from it (results files
    such as the ablation ledger, which the runner itself changes between runs, do not count)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS],
            cwd=repo,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        # A copy of the tree without .git (e.g. shipped to a GPU machine) names its commit in $ABSA_GIT_COMMIT.
        return os.environ.get("ABSA_GIT_COMMIT", "unknown")
