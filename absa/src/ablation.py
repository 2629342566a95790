"""Resumable ablation runner: a grid file -> one training run per configuration -> one ledger row per finished run.

    python -m absa.src.ablation [--grid absa/models/ablation/grid.yaml] [--only main] [--dry_run]

Each experiment in the grid expands its list-valued fields into all combinations; every field is a ``TrainConfig``
field. A run's id is a hash of its configuration, so re-running skips every run already in the ledger: the grid
can run in the background over several sittings and be interrupted at any time (a row is written only when its
run has finished). Each run trains in its own process, so its peak memory is its own.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml
from tqdm.auto import tqdm
from transformers import HfArgumentParser

from absa.src.data import PACKAGE_DIR
from absa.src.train import TrainConfig

ABLATION_DIR = PACKAGE_DIR / "models" / "ablation"
LEDGER_COLUMNS = [
    "run_id", "experiment", "dataset", "backbone", "regime", "lora_r", "lora_targets", "input_format",
    "class_weights", "lr", "epochs", "seed",
    "best_epoch", "val_pn_f1", "val_acc", "test_pn_f1", "test_acc", "test_macro_f1", "trainable_params",
    "train_seconds", "peak_mem_mb", "device", "commit", "finished_at",
]
# Fields that do not change what a run computes, so they stay out of its id.
NOT_IN_ID = {"output_dir", "data_dir"}


@dataclass
class AblationArguments:
    grid: str = field(default=str(ABLATION_DIR / "grid.yaml"), metadata={"help": "YAML grid file"})
    ledger: str = field(default=str(ABLATION_DIR / "results.csv"), metadata={"help": "CSV, one row per run"})
    runs_dir: str = field(default=str(ABLATION_DIR / "runs"), metadata={"help": "exported models (git-ignored)"})
    only: list[str] | None = field(default=None, metadata={"help": "run only these experiment names"})
    dry_run: bool = field(default=False, metadata={"help": "list the runs still to do, train nothing"})


def expand(grid: dict) -> list[tuple[str, TrainConfig]]:
    """(experiment name, config) for every combination in every experiment of the grid, in file order."""
    known = {f.name for f in fields(TrainConfig)}
    runs = []
    for experiment in grid["experiments"]:
        experiment = dict(experiment)
        name = experiment.pop("name")
        unknown = set(experiment) - known
        if unknown:
            raise ValueError(f"experiment {name!r}: unknown field(s) {sorted(unknown)}; TrainConfig has {sorted(known)}")
        keys = list(experiment)
        values = [v if isinstance(v, list) else [v] for v in experiment.values()]
        for combination in itertools.product(*values):
            runs.append((name, TrainConfig(**dict(zip(keys, combination)))))
    return runs


def run_id(config: TrainConfig) -> str:
    """A stable id of what the run computes (paths excluded)."""
    content = {k: v for k, v in asdict(config).items() if k not in NOT_IN_ID}
    return hashlib.sha1(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]


def finished_runs(ledger: Path) -> set[str]:
    if not ledger.exists():
        return set()
    with open(ledger, newline="") as handle:
        return {row["run_id"] for row in csv.DictReader(handle)}


def ledger_row(experiment: str, rid: str, metrics: dict) -> dict:
    config, val, test = metrics["config"], metrics["validation"], metrics["test"] or {}
    return {
        "run_id": rid, "experiment": experiment, "dataset": config["dataset"], "backbone": config["backbone"],
        "regime": config["regime"], "lora_r": config["lora_r"] if config["regime"] == "lora" else "",
        "lora_targets": config["lora_targets"] if config["regime"] == "lora" else "",
        "input_format": config["input_format"], "class_weights": config["class_weights"],
        "lr": config["learning_rate"], "epochs": config["epochs"], "seed": config["seed"],
        "best_epoch": metrics["best_epoch"], "val_pn_f1": val["pn_macro_f1"], "val_acc": val["accuracy"],
        "test_pn_f1": test.get("pn_macro_f1", ""), "test_acc": test.get("accuracy", ""),
        "test_macro_f1": test.get("macro_f1", ""), "trainable_params": metrics["trainable_params"],
        "train_seconds": metrics["train_seconds"], "peak_mem_mb": metrics["peak_mem_mb"], "device": metrics["device"],
        "commit": metrics["commit"], "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def append_row(ledger: Path, row: dict) -> None:
    """Append one row (with the header if the file is new) and flush it to disk."""
    ledger.parent.mkdir(parents=True, exist_ok=True)
    new = not ledger.exists()
    with open(ledger, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LEDGER_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)
        handle.flush()
        os.fsync(handle.fileno())


def train_in_subprocess(config: TrainConfig) -> dict:
    """Run ``python -m absa.src.train`` with this config; return its metrics.json."""
    args = []
    for key, value in asdict(config).items():
        if value is not None:
            args += [f"--{key}", str(value)]
    subprocess.run([sys.executable, "-m", "absa.src.train", *args], check=True)
    return json.loads((Path(config.output_dir) / "metrics.json").read_text())


def run_grid(args: AblationArguments, train_fn=train_in_subprocess) -> list[dict]:
    """Train every run of the grid not yet in the ledger; returns the rows written in this call."""
    grid = yaml.safe_load(Path(args.grid).read_text())
    runs = [(name, config) for name, config in expand(grid) if not args.only or name in args.only]
    ledger = Path(args.ledger)
    done = finished_runs(ledger)
    todo = [(name, config) for name, config in runs if run_id(config) not in done]
    print(f"{len(runs)} runs in the grid, {len(runs) - len(todo)} already in {ledger}, {len(todo)} to do")
    rows = []
    for name, config in tqdm(todo, desc="ablation", unit="run", disable=args.dry_run):
        rid = run_id(config)
        if args.dry_run:
            print(f"  {rid} {name}: {config.dataset} {config.backbone} {config.regime} lr={config.learning_rate} "
                  f"epochs={config.epochs} seed={config.seed}")
            continue
        config.output_dir = str(Path(args.runs_dir) / rid)
        row = ledger_row(name, rid, train_fn(config))
        append_row(ledger, row)
        rows.append(row)
    return rows


def main() -> None:
    (args,) = HfArgumentParser(AblationArguments).parse_args_into_dataclasses()
    run_grid(args)


if __name__ == "__main__":
    main()
