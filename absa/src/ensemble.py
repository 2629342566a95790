"""Seed ensembles: average the class probabilities of the seed models of one ablation cell.

    python -m absa.src.ensemble [--dataset semeval14_restaurants] [--backbone minilm]

The cell is chosen on validation only: among the configurations on that dataset and backbone with at least two
finished seeds in the ledger, the one with the best mean validation PN-F1. Its seed models (the run folders under
``absa/models/ablation/runs``, kept by the runner) then predict the test set; the ensemble's label is the argmax of
their mean probabilities. The ensemble has no validation score of its own: each seed holds out a different
validation split, which the other seeds trained on. Writes aggregates only (no row) to ``absa/reports/ensembles.json``,
one entry per (dataset, backbone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from transformers import HfArgumentParser

from absa.src.ablation import ABLATION_DIR, CONFIG_COLUMNS, label, read_ledger, summarize
from absa.src.data import PACKAGE_DIR, load_benchmark, upsert_json_entry
from absa.src.metrics import classification_metrics
from absa.src.predict import Predictor


def best_cell(ledger: pd.DataFrame, dataset: str, backbone: str | None, min_seeds: int = 2) -> pd.DataFrame:
    """The ledger rows (one per seed) of the configuration with the best mean validation PN-F1 on this dataset and
    backbone (``None``: any backbone), among configurations with at least ``min_seeds`` seeds."""
    rows = ledger[ledger["dataset"] == dataset]
    if backbone is not None:
        rows = rows[rows["backbone"] == backbone]
    summary = summarize(rows)
    if summary.empty or (summary["seeds"] >= min_seeds).sum() == 0:
        raise ValueError(f"no configuration of {backbone or 'any backbone'} on {dataset} has {min_seeds}+ seeds "
                         "in the ledger")
    summary = summary[summary["seeds"] >= min_seeds]
    best = summary.loc[summary["val_pn_f1_mean"].idxmax()]
    same = (ledger[CONFIG_COLUMNS].astype(str) == best[CONFIG_COLUMNS].astype(str)).all(axis=1)
    return ledger[same]


def member_probabilities(model_dirs: list[Path], texts: list[str], aspects: list[str]) -> np.ndarray:
    """Class probabilities of every member, shape (members, rows, 3)."""
    missing = [str(d) for d in model_dirs if not (d / "metrics.json").exists()]
    if missing:
        raise FileNotFoundError(f"model folder(s) not found: {missing}; the runner keeps them under its runs_dir "
                                "(git-ignored), so re-run those configurations with python -m absa.src.ablation")
    return np.stack([Predictor(d).predict_proba(texts, aspects, progress=True) for d in model_dirs])


@dataclass
class EnsembleArguments:
    dataset: str = "semeval14_restaurants"
    backbone: str = "minilm"
    min_seeds: int = field(default=2, metadata={"help": "only configurations with at least this many seeds"})
    ledger: str = str(ABLATION_DIR / "results.csv")
    runs_dir: str = field(default=str(ABLATION_DIR / "runs"), metadata={"help": "the runner's model folders"})
    data_dir: str | None = None
    output: str = str(PACKAGE_DIR / "reports" / "ensembles.json")


def run(args: EnsembleArguments) -> dict:
    cell = best_cell(read_ledger(args.ledger), args.dataset, args.backbone, args.min_seeds)
    test = load_benchmark(args.dataset, args.data_dir)["test"].to_pandas()
    probs = member_probabilities([Path(args.runs_dir) / rid for rid in cell["run_id"]],
                                 test["text"].tolist(), test["aspect"].tolist())
    gold = test["label"].to_numpy()
    members = [classification_metrics(gold, p.argmax(axis=1)) for p in probs]
    ensemble = classification_metrics(gold, probs.mean(axis=0).argmax(axis=1))
    scores = {"pn_macro_f1": "test_pn_f1", "accuracy": "test_acc", "macro_f1": "test_macro_f1"}
    entry = {
        "dataset": args.dataset, "backbone": args.backbone,
        "configuration": label(summarize(cell).iloc[0]), "experiment": cell["experiment"].iloc[0],
        "selected_by": f"best mean validation PN-F1 among configurations with {args.min_seeds}+ seeds",
        "run_ids": cell["run_id"].tolist(), "seeds": [int(s) for s in cell["seed"]], "test_rows": len(test),
        "members": {name: [round(100 * m[key], 2) for m in members] for key, name in scores.items()},
        "ensemble": {name: round(100 * ensemble[key], 2) for key, name in scores.items()},
    }
    upsert_json_entry(args.output, entry, keys=("dataset", "backbone"))
    return entry


def main() -> None:
    (args,) = HfArgumentParser(EnsembleArguments).parse_args_into_dataclasses()
    entry = run(args)
    print(f"{entry['configuration']} on {entry['dataset']}, seeds {entry['seeds']}")
    for name, values in entry["members"].items():
        print(f"  {name}: members {values}, ensemble {entry['ensemble'][name]}")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
