"""Seed ensembles: average the class probabilities of the seed models of one ablation cell.

    python -m absa.src.ensemble [--dataset semeval14_restaurants] [--backbone minilm]
    python -m absa.src.ensemble --dataset all --backbone mpnet --benchmark mams   # the general model's seeds

The cell is chosen on validation only (``selection.choose_on_validation``): among the configurations on that
dataset and backbone with at least three finished seeds in the ledger, the one with the best mean validation PN-F1.
Its seed models (the run folders under ``absa/models/ablation/runs``, kept by the runner) then predict the benchmark's
test set; the ensemble's label is the argmax of their mean probabilities. Where the benchmark has a validation file of
its own (MAMS), no seed trained on it, so members and ensemble are scored on it too and the ensemble can be chosen over
a single seed on validation. Elsewhere each seed holds out a different validation split, which the other seeds trained
on, and the ensemble has no validation score. Writes aggregates only (no row) to ``absa/reports/ensembles.json``, one
entry per (dataset, backbone, benchmark).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from absa.src.ablation.ledger import ABLATION_DIR, read_ledger
from absa.src.ablation.selection import MIN_SEEDS, best_cell, label, summarize
from absa.src.benchmark import machine
from absa.src.config import parse_arguments
from absa.src.data import ALL, PACKAGE_DIR, data_dir, load_benchmark
from absa.src.files import upsert_json_entry
from absa.src.metrics import classification_metrics
from absa.src.predict import Predictor
from absa.src.records import RunRecord


def member_probabilities(model_dirs: list[Path], texts: list[str], aspects: list[str]) -> tuple[np.ndarray, list]:
    """Class probabilities of every member, shape (members, rows, 3), and the number format each predicted in
    (bf16 where the CPU runs it natively, so scores move by a few rows between CPU families)."""
    missing = [str(d) for d in model_dirs if not (d / "metrics.json").exists()]
    if missing:
        raise FileNotFoundError(
            f"model folder(s) not found: {missing}; the runner keeps them under its runs_dir "
            "(git-ignored), so re-run those configurations with python -m absa.src.ablation"
        )
    probs, precisions = [], []
    for folder in model_dirs:  # one member in memory at a time
        predictor = Predictor(folder)
        probs.append(predictor.predict_proba(texts, aspects, progress=True))
        precisions.append(predictor.precision)
    return np.stack(probs), precisions


@dataclass
class EnsembleArguments:
    """Which cell's seed models to ensemble, and where the scores go."""

    dataset: str = field(default="semeval14_restaurants", metadata={"help": "the ledger's dataset (or 'all')"})
    backbone: str = field(default="minilm", metadata={"help": "minilm | mpnet"})
    benchmark: str | None = field(
        default=None, metadata={"help": "the benchmark to score (default: the dataset; needed with --dataset all)"}
    )
    min_seeds: int = field(default=MIN_SEEDS, metadata={"help": "only configurations with at least this many seeds"})
    ledger: str = field(default=str(ABLATION_DIR / "results.csv"), metadata={"help": "the ablation ledger"})
    runs_dir: str = field(default=str(ABLATION_DIR / "runs"), metadata={"help": "the runner's model folders"})
    data_dir: str | None = field(default=None, metadata={"help": "default $ABSA_DATA_DIR or absa/data"})
    output: str = field(default=str(PACKAGE_DIR / "reports" / "ensembles.json"), metadata={"help": "JSON list"})

    def __post_init__(self) -> None:
        if self.min_seeds < 2:
            raise ValueError(f"min_seeds must be >= 2 (an ensemble of one seed is that seed), not {self.min_seeds!r}")


SCORES = {"pn_macro_f1": "pn_f1", "accuracy": "acc", "macro_f1": "macro_f1"}


def score(gold: np.ndarray, probs: np.ndarray, prefix: str) -> tuple[dict, dict]:
    """(members' scores as lists, ensemble's scores), in percent, named ``<prefix>_pn_f1`` etc."""
    members = [classification_metrics(gold, p.argmax(axis=1)) for p in probs]
    ensemble = classification_metrics(gold, probs.mean(axis=0).argmax(axis=1))
    return (
        {f"{prefix}_{name}": [round(100 * m[key], 2) for m in members] for key, name in SCORES.items()},
        {f"{prefix}_{name}": round(100 * ensemble[key], 2) for key, name in SCORES.items()},
    )


def run(args: EnsembleArguments) -> dict:
    benchmark = args.benchmark or args.dataset
    if benchmark == ALL:
        raise ValueError("--dataset all is scored one benchmark at a time: name it with --benchmark")
    cell = best_cell(read_ledger(args.ledger), args.dataset, args.backbone, args.min_seeds)
    splits = load_benchmark(benchmark, args.data_dir)
    shared_validation = (data_dir(args.data_dir) / benchmark / "validation.csv").exists()
    scored = {"val": "validation", "test": "test"} if shared_validation else {"test": "test"}
    rows = pd.concat(
        [splits[split].to_pandas().assign(prefix=prefix) for prefix, split in scored.items()], ignore_index=True
    )  # every split in one pass, so each member loads once
    folders = [Path(args.runs_dir) / rid for rid in cell["run_id"]]
    probs, precisions = member_probabilities(folders, rows["text"].tolist(), rows["aspect"].tolist())
    records = [RunRecord.load(folder) for folder in folders]
    members, ensemble = {}, {}
    for prefix in scored:
        part = (rows["prefix"] == prefix).to_numpy()
        split_members, split_ensemble = score(rows["label"].to_numpy()[part], probs[:, part], prefix)
        members.update(split_members)
        ensemble.update(split_ensemble)
    entry = {
        "dataset": args.dataset,
        "backbone": args.backbone,
        "benchmark": benchmark,
        "configuration": label(summarize(cell).iloc[0]),
        "experiment": cell["experiment"].iloc[0],
        "selected_by": f"best mean validation PN-F1 among configurations with {args.min_seeds}+ seeds",
        "validation": (
            "the benchmark's validation file, held out by every seed"
            if shared_validation
            else "none: each seed holds out its own validation split, which the others trained on"
        ),
        "run_ids": cell["run_id"].tolist(),
        "seeds": [int(s) for s in cell["seed"]],
        "member_commits": [record.commit for record in records],  # the code that trained each
        "collapsed_members": [rid for rid, record in zip(cell["run_id"], records) if record.collapsed],
        "precision": precisions,  # each member's, with the CPU: what the scores depend on besides the weights
        "machine": machine(),
        "test_rows": len(splits["test"]),
        "members": members,
        "ensemble": ensemble,
    }
    upsert_json_entry(args.output, entry, keys=("dataset", "backbone", "benchmark"))
    return entry


def main() -> None:
    args = parse_arguments(EnsembleArguments)
    entry = run(args)
    print(f"{entry['configuration']} ({entry['dataset']}) on {entry['benchmark']}, seeds {entry['seeds']}")
    for name, values in entry["members"].items():
        print(f"  {name}: members {values}, ensemble {entry['ensemble'][name]}")
    if entry["collapsed_members"]:
        print(f"WARNING: member(s) {entry['collapsed_members']} collapsed in training (they predict the class prior)")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
