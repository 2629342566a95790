"""Promote the best ablation run of a benchmark to its per-benchmark folder, ``absa/models/<dataset>``.

    python -m absa.src.promote --dataset semeval14_laptops [--backbone mpnet] [--min_seeds 3]
    python -m absa.src.promote --dataset all        # the general model, to absa/models/general

Chosen on validation only: the configuration with the best mean validation PN-F1 among those with at least
``min_seeds`` seeds in the ledger (any backbone unless one is named), then its seed with the best validation PN-F1.
The run's exported folder is copied; its ``metrics.json`` gains a ``promoted`` entry with the run id, the
rule that chose it and the configuration's test scores over all its seeds (mean ± std), which is the number to quote
for the configuration: the promoted seed's own test score is one draw from it. The model card is rewritten to say so.
A folder that an experiment of the ablation grid names as its teacher is never replaced: its later seeds would learn
from another model than the seeds already in the ledger.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from absa.src.ablation.ledger import ABLATION_DIR, SCORE_COLUMNS, read_ledger
from absa.src.ablation.runner import teacher_experiments
from absa.src.ablation.selection import MIN_SEEDS, best_cell, label, summarize
from absa.src.config import parse_arguments
from absa.src.data import ALL, PACKAGE_DIR
from absa.src.model_card import write_model_card
from absa.src.records import RunRecord


@dataclass
class PromoteArguments:
    """Which benchmark's best configuration to promote, and from where to where."""

    dataset: str = field(default="semeval14_laptops", metadata={"help": "benchmark, or 'all' for the general model"})
    backbone: str | None = field(default=None, metadata={"help": "only this backbone (default: any)"})
    min_seeds: int = field(default=MIN_SEEDS, metadata={"help": "only configurations with at least this many seeds"})
    ledger: str = field(default=str(ABLATION_DIR / "results.csv"), metadata={"help": "the ablation ledger"})
    grid: str = field(
        default=str(ABLATION_DIR / "grid.yaml"),
        metadata={"help": "the ablation grid: a folder its experiments distil from is never replaced"},
    )
    runs_dir: str = field(default=str(ABLATION_DIR / "runs"), metadata={"help": "the runner's model folders"})
    models_dir: str = field(default=str(PACKAGE_DIR / "models"), metadata={"help": "where exported models live"})
    name: str | None = field(default=None, metadata={"help": "folder name (default: the dataset; 'general' for all)"})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing absa/models/<name>"})

    def __post_init__(self) -> None:
        if self.min_seeds < 1:
            raise ValueError(f"min_seeds must be >= 1, not {self.min_seeds!r}")


def promote(args: PromoteArguments) -> Path:
    """Copy the chosen run folder to ``models_dir/<name>`` and return that path."""
    cell = best_cell(read_ledger(args.ledger), args.dataset, args.backbone, args.min_seeds)
    chosen = cell.loc[cell["val_pn_f1"].idxmax()]
    source = Path(args.runs_dir) / chosen["run_id"]
    target = Path(args.models_dir) / (args.name or ("general" if args.dataset == ALL else args.dataset))
    if not (source / "metrics.json").exists():
        raise FileNotFoundError(
            f"run folder {source} not found; the runner keeps it under its runs_dir "
            "(git-ignored), so re-run that configuration with python -m absa.src.ablation"
        )
    if target.is_symlink() or (target.exists() and not args.overwrite):
        raise FileExistsError(f"{target} exists; pass --overwrite to replace it")
    distilling = []
    if target.exists() and Path(args.grid).exists():
        distilling = teacher_experiments(yaml.safe_load(Path(args.grid).read_text()), target)
    if distilling:
        raise FileExistsError(
            f"{target} is the teacher of grid experiment(s) {distilling}: replacing it would change "
            "what their next seeds learn from, unlike the seeds already in the ledger. Promote "
            "under another --name, or move the teacher to a folder of its own and name that in "
            f"{args.grid} (those experiments then get new run ids and run again)"
        )
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("checkpoint*"))

    summary = summarize(cell).iloc[0]
    record = RunRecord.load(target)
    record.promoted = {
        "run_id": chosen["run_id"],
        "experiment": chosen["experiment"],
        "configuration": label(summary),
        "selected_by": f"best mean validation PN-F1 among configurations with {args.min_seeds}+ seeds, "
        "then the seed with the best validation PN-F1",
        "seeds": [int(s) for s in cell["seed"]],
        "configuration_scores_percent": {
            c: {"mean": round(float(summary[f"{c}_mean"]), 2), "std": _rounded_or_none(summary[f"{c}_std"])}
            for c in SCORE_COLUMNS
        },
    }
    record.save(target)
    write_model_card(target, record)
    return target


def _rounded_or_none(value: float) -> float | None:
    """A standard deviation rounded to 2 decimals; ``None`` where there is none (a single seed)."""
    return None if math.isnan(value) else round(float(value), 2)


def main() -> None:
    args = parse_arguments(PromoteArguments)
    target = promote(args)
    promoted = RunRecord.load(target).promoted
    print(f"{promoted['configuration']} ({promoted['experiment']}), run {promoted['run_id']} -> {target}")


if __name__ == "__main__":
    main()
