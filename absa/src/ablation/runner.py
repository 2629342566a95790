"""Resumable ablation runner: a grid file -> one training run per configuration -> one ledger row per finished run.

    python -m absa.src.ablation [--grid absa/models/ablation/grid.yaml] [--only main] [--dry_run]
        [--datasets D ...] [--backbones B ...] [--max_runs N] [--ledger L]
    python -m absa.src.ablation --merge other_ledger.csv ...   # rows of runners that had their own --ledger

Each experiment in the grid expands its list-valued fields into all combinations; every field is a ``TrainConfig``
field but ``name`` and ``paired_with`` (the experiment it is compared with seed by seed, ``paired_experiments``). A
run's id is a hash of its configuration (``config.run_id``), so re-running skips every run already in the ledger:
the grid can run in the background and be interrupted at any time (a row is written only when its run has
finished). Each run trains in its own process, so its peak memory is its own, and this module never imports torch.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml
from tqdm.auto import tqdm

from absa.src.ablation.ledger import ABLATION_DIR, append_row, finished_runs, ledger_row, merge_ledgers
from absa.src.config import TrainConfig, config_arguments, parse_arguments, run_id
from absa.src.data import PACKAGE_DIR
from absa.src.records import RunRecord


@dataclass
class AblationArguments:
    """Which grid runs to train, and where their ledger rows and model folders go."""

    grid: str = field(default=str(ABLATION_DIR / "grid.yaml"), metadata={"help": "YAML grid file"})
    ledger: str = field(default=str(ABLATION_DIR / "results.csv"), metadata={"help": "CSV, one row per run"})
    runs_dir: str = field(default=str(ABLATION_DIR / "runs"), metadata={"help": "exported models (git-ignored)"})
    only: list[str] | None = field(default=None, metadata={"help": "run only these experiment names"})
    datasets: list[str] | None = field(default=None, metadata={"help": "run only runs on these datasets"})
    backbones: list[str] | None = field(default=None, metadata={"help": "run only runs with these backbones"})
    max_runs: int | None = field(default=None, metadata={"help": "stop after this many runs"})
    dry_run: bool = field(default=False, metadata={"help": "list the runs still to do, train nothing"})
    merge: list[str] | None = field(
        default=None,
        metadata={
            "help": "append to --ledger the rows of these ledgers (runners that worked in parallel or on another "
            "machine, each with its own --ledger) whose runs it lacks, then exit"
        },
    )

    def __post_init__(self) -> None:
        if self.max_runs is not None and self.max_runs < 1:
            raise ValueError(f"max_runs must be >= 1, not {self.max_runs!r}")
        if not self.merge and not Path(self.grid).is_file():
            raise ValueError(f"grid {self.grid!r} is not a file")


def expand(grid: dict) -> list[tuple[str, TrainConfig]]:
    """(experiment name, config) for every combination in every experiment of the grid, in file order."""
    known = {f.name for f in fields(TrainConfig)}
    runs = []
    for experiment in grid["experiments"]:
        experiment = dict(experiment)
        name = experiment.pop("name")
        experiment.pop("paired_with", None)  # says how the experiment is read (paired_experiments), not how it runs
        unknown = set(experiment) - known
        if unknown:
            raise ValueError(
                f"experiment {name!r}: unknown field(s) {sorted(unknown)}; TrainConfig has {sorted(known)}"
            )
        keys = list(experiment)
        values = [v if isinstance(v, list) else [v] for v in experiment.values()]
        for combination in itertools.product(*values):
            runs.append((name, TrainConfig(**dict(zip(keys, combination)))))
    return runs


def paired_experiments(grid: dict) -> list[tuple[str, str]]:
    """(changed, base) for every experiment with a ``paired_with: base`` field, in file order, each pair once: the
    grid states, beside the experiment and before it runs, which cell it changes one thing of and is to be compared
    with seed by seed (``paired_table``)."""
    names = {experiment["name"] for experiment in grid["experiments"]}
    pairs = []
    for experiment in grid["experiments"]:
        base = experiment.get("paired_with")
        if base is None:
            continue
        if base not in names or base == experiment["name"]:
            raise ValueError(
                f"experiment {experiment['name']!r}: paired_with {base!r} is not another experiment of "
                f"the grid ({', '.join(sorted(names))})"
            )
        if (experiment["name"], base) not in pairs:
            pairs.append((experiment["name"], base))
    return pairs


def teacher_experiments(grid: dict, folder: str | os.PathLike, root: Path = PACKAGE_DIR.parent) -> list[str]:
    """Names of the grid's experiments whose teacher is ``folder`` (relative teacher paths are read from ``root``,
    the repository root the runner starts in)."""
    folder = Path(folder).resolve()
    return sorted(
        {name for name, config in expand(grid) if config.teacher and (root / config.teacher).resolve() == folder}
    )


def train_in_subprocess(config: TrainConfig) -> RunRecord:
    """Run ``python -m absa.src.train`` with this config; return its run record."""
    subprocess.run([sys.executable, "-m", "absa.src.train", *config_arguments(config)], check=True)
    return RunRecord.load(config.output_dir)


def run_grid(args: AblationArguments, train_fn=train_in_subprocess) -> list[dict]:
    """Train every run of the grid not yet in the ledger; returns the rows written in this call."""
    grid = yaml.safe_load(Path(args.grid).read_text())
    runs = [
        (name, config)
        for name, config in expand(grid)
        if (not args.only or name in args.only)
        and (not args.datasets or config.dataset in args.datasets)
        and (not args.backbones or config.backbone in args.backbones)
    ]
    ledger = Path(args.ledger)
    done = finished_runs(ledger)
    todo = [(name, config) for name, config in runs if run_id(config) not in done]
    print(f"{len(runs)} runs selected, {len(runs) - len(todo)} already in {ledger}, {len(todo)} to do")
    if args.max_runs is not None:
        todo = todo[: args.max_runs]
    rows = []
    for name, config in tqdm(todo, desc="ablation", unit="run", disable=args.dry_run):
        rid = run_id(config)
        if args.dry_run:
            print(
                f"  {rid} {name}: {config.dataset} {config.backbone} {config.regime} lr={config.learning_rate} "
                f"epochs={config.epochs} seed={config.seed}"
            )
            continue
        config.output_dir = str(Path(args.runs_dir) / rid)
        row = ledger_row(name, rid, train_fn(config), finished_runs(ledger))
        append_row(ledger, row)
        rows.append(row)
    return rows


def main() -> None:
    args = parse_arguments(AblationArguments)
    if args.merge:
        added = merge_ledgers(Path(args.ledger), [Path(source) for source in args.merge])
        print(f"{len(added)} row(s) appended to {args.ledger}")
        return
    run_grid(args)
