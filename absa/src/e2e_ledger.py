"""The aspect-tagger ledger: one CSV row per trained tagger (``absa.src.extract``), so that configurations are
compared as mean ± std over seeds, as the classifier's ablation ledger does.

    python -m absa.src.e2e_ledger RUN_DIR [RUN_DIR ...] [--ledger absa/models/ablation/e2e_results.csv]

Each RUN_DIR is a folder ``extract`` exported; its ``metrics.json`` becomes one row (scores only, no data row). A
run already in the ledger (same configuration and seed) is skipped, so the command can be repeated. This module
never imports torch.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

from absa.src.data import PACKAGE_DIR
from absa.src.files import append_csv_row
from absa.src.records import RunRecord, is_tagger

E2E_LEDGER = PACKAGE_DIR / "models" / "ablation" / "e2e_results.csv"
# the tagger's configuration, and for a pipeline (``absa.src.pipeline``) its classifier's in a few words
CONFIG_COLUMNS = [
    "benchmark",
    "scheme",
    "backbone",
    "regime",
    "lora_r",
    "learning_rate",
    "epochs",
    "batch_size",
    "classifier",
]
SCORES = ("e2e", "extraction", "pn")
COLUMNS = [
    "run_id",
    *CONFIG_COLUMNS,
    "seed",
    "best_epoch",
    *(f"val_{score}_f1" for score in SCORES),
    *(f"test_{score}_f1" for score in SCORES),
    "by_benchmark",
    "train_seconds",
    "device",
    "precision",
    "commit",
]


def run_id(config: dict) -> str:
    """A hash of what a run computes: its configuration and seed, not where it was written."""
    keys = (*CONFIG_COLUMNS, "seed", "max_length", "warmup_ratio")
    content = {key: config[key] for key in keys if key != "classifier" or config.get(key)}
    return hashlib.sha1(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]


def ledger_row(record: RunRecord) -> dict:
    """One ledger row of a tagger's run record: its configuration, seed and F1 scores (fractions)."""
    config = record.config
    by_benchmark = {
        name: {score: scores[score]["f1"] for score in SCORES}
        for name, scores in record.test.get("by_benchmark", {}).items()
    }
    return {
        "run_id": run_id(config),
        **{key: config.get(key, "") for key in CONFIG_COLUMNS},
        "seed": config["seed"],
        "best_epoch": record.best_epoch,
        **{f"val_{score}_f1": record.validation[score]["f1"] for score in SCORES},
        **{f"test_{score}_f1": record.test[score]["f1"] for score in SCORES},
        "by_benchmark": json.dumps(by_benchmark) if by_benchmark else "",
        "train_seconds": record.train_seconds,
        "device": record.device,
        "precision": "bf16" if record.bf16 else "fp32",
        "commit": record.commit,
    }


def add_runs(folders: list[Path], ledger: Path = E2E_LEDGER) -> list[dict]:
    """Append a row for each tagger folder not yet in the ledger; the rows added."""
    for folder in folders:
        if not is_tagger(folder):
            raise ValueError(f"{folder} is not an aspect tagger folder (absa_config.json with task: extract)")
    done = set(read_ledger(ledger)["run_id"])
    added = []
    for folder in folders:
        row = ledger_row(RunRecord.load(folder))
        if row["run_id"] in done:
            continue
        append_csv_row(ledger, row, COLUMNS)
        done.add(row["run_id"])
        added.append(row)
    return added


def read_ledger(ledger: Path = E2E_LEDGER) -> pd.DataFrame:
    """The ledger, scores in percent, with one ``test_<benchmark>_<score>_f1`` column per benchmark a run was
    trained on several of."""
    if not Path(ledger).exists():
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.read_csv(ledger, keep_default_na=False, na_values=[""])
    frame["classifier"] = frame["classifier"].astype(object).fillna("")  # a tagger of its own: no classifier
    scores = [column for column in frame.columns if column.endswith("_f1")]
    frame[scores] = 100 * frame[scores]
    for index, cell in frame["by_benchmark"].items():
        for name, values in (json.loads(cell) if isinstance(cell, str) and cell else {}).items():
            for score, value in values.items():
                frame.loc[index, f"test_{name}_{score}_f1"] = 100 * value
    return frame


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: seeds, and mean and std (ddof=1) of every score column."""
    scores = [column for column in frame.columns if column.endswith("_f1")]
    grouped = frame.groupby(CONFIG_COLUMNS, sort=False, dropna=False)
    summary = grouped.agg(seeds=("seed", "nunique"), minutes=("train_seconds", lambda s: s.mean() / 60))
    for column in scores:
        summary[f"{column}_mean"] = grouped[column].mean()
        summary[f"{column}_std"] = grouped[column].std()
    return summary.reset_index()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="tagger folders exported by absa.src.extract")
    parser.add_argument("--ledger", type=Path, default=E2E_LEDGER)
    args = parser.parse_args(argv)
    try:
        added = add_runs(args.folders, args.ledger)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    print(f"{len(added)} run(s) added to {args.ledger}; {len(args.folders) - len(added)} already there")


if __name__ == "__main__":
    main()
