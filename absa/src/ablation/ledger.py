"""The ablation ledger: one CSV row per finished run (schema, row of a run record, append, merge, read).

Appending is the only write while a grid runs: a row is flushed to disk as soon as its run has finished, so an
interrupted runner loses nothing. A ledger written before a column existed is rewritten once with that column
empty. Reading it never imports torch.
"""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import pandas as pd

from absa.src.data import PACKAGE_DIR
from absa.src.files import append_csv_row, write_atomically
from absa.src.records import RunRecord

ABLATION_DIR = PACKAGE_DIR / "models" / "ablation"
LEDGER = ABLATION_DIR / "results.csv"
LEDGER_COLUMNS = [
    "run_id",
    "experiment",
    "dataset",
    "backbone",
    "regime",
    "lora_r",
    "lora_targets",
    "input_format",
    "class_weights",
    "extra_train",
    "teacher",
    "distill_alpha",
    "distill_temperature",
    "init_from",
    "augment",
    "rdrop_alpha",
    "layer_decay",
    "lr",
    "epochs",
    "seed",
    "best_epoch",
    "val_pn_f1",
    "val_acc",
    "test_pn_f1",
    "test_acc",
    "test_macro_f1",
    "trainable_params",
    "train_seconds",
    "peak_mem_mb",
    "device",
    "precision",
    "commit",
    "finished_at",
    "by_benchmark",
]
# What makes a configuration: runs that share these and differ only in seed form one cell of the summary.
CONFIG_COLUMNS = LEDGER_COLUMNS[LEDGER_COLUMNS.index("experiment") : LEDGER_COLUMNS.index("seed")]
SCORE_COLUMNS = ["val_pn_f1", "test_pn_f1", "test_acc", "test_macro_f1"]


def finished_runs(ledger: Path) -> dict[str, str]:
    """Run id -> experiment of every run in the ledger."""
    if not ledger.exists():
        return {}
    with open(ledger, newline="") as handle:
        return {row["run_id"]: row["experiment"] for row in csv.DictReader(handle)}


def ledger_row(experiment: str, rid: str, record: RunRecord, run_experiments: dict[str, str] | None = None) -> dict:
    """The ledger row of a finished run. ``init_from`` is recorded as the experiment of the run it started from
    when that run is in ``run_experiments`` (run id -> experiment), so that seeds which started from their own
    seed's run form one cell; else as the folder's name."""
    config, val, test = record.config, record.validation, record.test or {}
    start = Path(config["init_from"]).name if config.get("init_from") else ""
    lora, teacher = config["regime"] == "lora", bool(config.get("teacher"))
    return {
        "run_id": rid,
        "experiment": experiment,
        "dataset": config["dataset"],
        "backbone": config["backbone"],
        "regime": config["regime"],
        "lora_r": config["lora_r"] if lora else "",
        "lora_targets": config["lora_targets"] if lora else "",
        "input_format": config["input_format"],
        "class_weights": config["class_weights"],
        "extra_train": config.get("extra_train") or "",
        "teacher": Path(config["teacher"]).name if teacher else "",
        "distill_alpha": config["distill_alpha"] if teacher else "",
        "distill_temperature": config["distill_temperature"] if teacher else "",
        "init_from": (run_experiments or {}).get(start, start),
        "augment": config.get("augment", "none"),
        "rdrop_alpha": config.get("rdrop_alpha") or "",
        "layer_decay": config["layer_decay"] if config.get("layer_decay", 1.0) != 1.0 else "",
        "lr": config["learning_rate"],
        "epochs": config["epochs"],
        "seed": config["seed"],
        "best_epoch": record.best_epoch,
        "val_pn_f1": val["pn_macro_f1"],
        "val_acc": val["accuracy"],
        "test_pn_f1": test.get("pn_macro_f1", ""),
        "test_acc": test.get("accuracy", ""),
        "test_macro_f1": test.get("macro_f1", ""),
        "trainable_params": record.trainable_params,
        "train_seconds": record.train_seconds,
        "peak_mem_mb": record.peak_mem_mb,
        "device": record.device,
        "precision": "bf16" if record.bf16 else "fp32",
        "commit": record.commit,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "by_benchmark": benchmark_scores_json(record),
    }


def benchmark_scores_json(record: RunRecord) -> str:
    """For a run on several benchmarks (``--dataset all``): each benchmark's validation PN-F1 and test scores, as
    JSON, e.g. ``{"mams": {"val_pn_f1": 0.86, "test_pn_f1": 0.85, "test_acc": 0.84, "test_macro_f1": 0.83}}``;
    empty for a run on one benchmark, whose scores are the row's own."""
    val, test = record.validation.get("by_benchmark"), (record.test or {}).get("by_benchmark")
    if not val or not test:
        return ""
    return json.dumps(
        {
            name: {
                "val_pn_f1": val[name]["pn_macro_f1"],
                "test_pn_f1": test[name]["pn_macro_f1"],
                "test_acc": test[name]["accuracy"],
                "test_macro_f1": test[name]["macro_f1"],
            }
            for name in test
        },
        sort_keys=True,
    )


def upgrade_ledger(ledger: Path) -> None:
    """Rewrite a ledger written with fewer columns to the current ones (new columns empty in the old rows)."""
    with open(ledger, newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames == LEDGER_COLUMNS:
            return
        unknown = set(reader.fieldnames or []) - set(LEDGER_COLUMNS)
        if unknown:
            raise ValueError(f"{ledger}: unknown column(s) {sorted(unknown)}")
        rows = list(reader)

    def write(temporary: str) -> None:
        with open(temporary, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=LEDGER_COLUMNS, restval="")
            writer.writeheader()
            writer.writerows(rows)

    write_atomically(ledger, write)


def append_row(ledger: Path, row: dict) -> None:
    """Append one row (with the header if the file is new) and flush it to disk."""
    if ledger.exists():
        upgrade_ledger(ledger)
    append_csv_row(ledger, row, LEDGER_COLUMNS)


def merge_ledgers(ledger: Path, sources: list[Path]) -> list[dict]:
    """Append to ``ledger`` every row of ``sources`` whose run it does not hold yet, unchanged; returns those rows."""
    done = finished_runs(ledger)
    added = []
    for source in sources:
        with open(source, newline="") as handle:
            reader = csv.DictReader(handle)
            unknown = set(reader.fieldnames or []) - set(LEDGER_COLUMNS)
            if unknown or "run_id" not in (reader.fieldnames or []):
                raise ValueError(f"{source}: not a ledger (unknown column(s) {sorted(unknown)} or no run_id)")
            for row in reader:
                if row["run_id"] not in done:
                    append_row(ledger, {column: row.get(column, "") for column in LEDGER_COLUMNS})
                    done[row["run_id"]] = row["experiment"]
                    added.append(row)
    return added


def read_ledger(path: str | os.PathLike = LEDGER) -> pd.DataFrame:
    """The ledger as a DataFrame (scores in percent); empty with the ledger's columns if there is no ledger yet."""
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=LEDGER_COLUMNS)
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    frame = frame.reindex(columns=LEDGER_COLUMNS)  # a ledger from before a column existed
    for column in SCORE_COLUMNS:
        frame[column] = 100 * pd.to_numeric(frame[column])
    for column in (
        "lora_r",
        "lora_targets",
        "extra_train",
        "teacher",
        "distill_alpha",
        "distill_temperature",
        "init_from",
        "rdrop_alpha",
        "layer_decay",
    ):
        frame[column] = frame[column].fillna("-").astype(str).str.removesuffix(".0")
    frame["augment"] = frame["augment"].fillna("none")  # rows from before augmentation existed had none
    return frame


def per_benchmark(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger with a ``benchmark`` column, one row per run and benchmark it is scored on: a run on one benchmark
    as it is, a run on several (``--dataset all``) once per benchmark, with that benchmark's scores (percent) in
    the score columns."""
    rows = []
    for _, row in ledger.iterrows():
        scores = json.loads(row["by_benchmark"]) if isinstance(row["by_benchmark"], str) and row["by_benchmark"] else {}
        if not scores:
            rows.append({**row, "benchmark": row["dataset"]})
        for name, values in scores.items():
            rows.append({**row, "benchmark": name, **{column: 100 * values[column] for column in SCORE_COLUMNS}})
    return pd.DataFrame(rows, columns=[*ledger.columns, "benchmark"])


def hardware(ledger: pd.DataFrame) -> pd.Series:
    """``CPU`` or ``GPU`` per run, from the ledger's ``device`` column (``cpu xN`` or a GPU's name; older rows
    without a device were CPU runs)."""
    device = ledger["device"].fillna("cpu").astype(str)
    return device.str.startswith("cpu").map({True: "CPU", False: "GPU"})


def devices(ledger: pd.DataFrame) -> str:
    """The devices the ledger's runs trained on, with their counts, e.g. ``25 on cpu x2, 25 on NVIDIA H100``."""
    counts = ledger["device"].fillna("cpu").astype(str).value_counts(sort=False)
    return ", ".join(f"{n} on {device}" for device, n in counts.items())
