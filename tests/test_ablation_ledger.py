import csv
import json

import pytest

from absa.src.ablation import ledger as run_ledger
from absa.src.ablation import selection
from absa.src.ablation.ledger import LEDGER_COLUMNS
from absa.src.config import TrainConfig
from conftest import dry_record, ledger_rows


def test_missing_ledger_reads_empty(tmp_path):
    assert run_ledger.read_ledger(tmp_path / "none.csv").empty
    assert selection.summarize(run_ledger.read_ledger(tmp_path / "none.csv")).empty


def test_old_ledger_gains_new_columns_before_a_row_is_appended(tmp_path):
    old_columns = [c for c in LEDGER_COLUMNS if c not in ("teacher", "distill_alpha", "distill_temperature")]
    ledger = tmp_path / "results.csv"
    with open(ledger, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=old_columns)
        writer.writeheader()
        writer.writerow({c: "old" for c in old_columns})
    run_ledger.append_row(ledger, {c: "new" for c in LEDGER_COLUMNS})
    with open(ledger, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == LEDGER_COLUMNS
    assert rows[0]["teacher"] == "" and rows[0]["seed"] == "old"
    assert all(value == "new" for value in rows[1].values())


def test_merge_appends_only_the_runs_the_ledger_lacks(tmp_path):
    rows = ledger_rows({"a": [0.80, 0.82, 0.84]})
    target, first, second = tmp_path / "results.csv", tmp_path / "gpu1.csv", tmp_path / "gpu2.csv"
    run_ledger.append_row(target, rows[0])
    for row in rows[:2]:  # a runner's ledger starts as a copy of the main one
        run_ledger.append_row(first, row)
    for row in (rows[0], rows[2], rows[1]):
        run_ledger.append_row(second, row)
    added = run_ledger.merge_ledgers(target, [first, second])
    assert [row["run_id"] for row in added] == ["a2", "a3"]
    merged = target.read_text().splitlines()
    assert len(merged) == 4 and merged[2:] == [first.read_text().splitlines()[2], second.read_text().splitlines()[2]]
    assert run_ledger.merge_ledgers(target, [first, second]) == []  # idempotent
    (tmp_path / "other.csv").write_text("name,score\nx,1\n")
    with pytest.raises(ValueError, match="not a ledger"):
        run_ledger.merge_ledgers(target, [tmp_path / "other.csv"])


def test_a_general_run_is_scored_once_per_benchmark(tmp_path):
    by_benchmark = {
        name: {"pn_macro_f1": score, "accuracy": score - 0.1, "macro_f1": score - 0.2}
        for name, score in (("mams", 0.8), ("twitter", 0.6))
    }
    record = dry_record(
        TrainConfig(),
        validation={"pn_macro_f1": 0.7, "by_benchmark": by_benchmark},
        test={"pn_macro_f1": 0.7, "by_benchmark": by_benchmark},
    )
    written = run_ledger.benchmark_scores_json(record)
    assert json.loads(written)["twitter"] == {
        "val_pn_f1": 0.6,
        "test_pn_f1": 0.6,
        "test_acc": 0.5,
        "test_macro_f1": pytest.approx(0.4),
    }
    assert run_ledger.benchmark_scores_json(dry_record(TrainConfig(), validation={"pn_macro_f1": 0.7})) == ""

    rows = ledger_rows({"a": [0.9]})
    rows.append({**rows[0], "run_id": "g1", "dataset": "all", "by_benchmark": written})
    ledger = tmp_path / "results.csv"
    for row in rows:
        run_ledger.append_row(ledger, row)
    long = run_ledger.per_benchmark(run_ledger.read_ledger(ledger))
    assert long[["run_id", "benchmark"]].values.tolist() == [["a1", "d"], ["g1", "mams"], ["g1", "twitter"]]
    assert long["test_acc"].tolist() == pytest.approx([90.0, 70.0, 50.0])  # percent, each benchmark its own
    assert long["val_pn_f1"].tolist() == pytest.approx([90.0, 80.0, 60.0])
