import re

import pandas as pd
import pytest

from absa.src.ablation import ledger as run_ledger
from absa.src.ablation import selection
from absa.src.report import summary_table
from conftest import ledger_rows


def test_summary_is_mean_and_std_over_seeds(tmp_path):
    ledger = tmp_path / "results.csv"
    for row in ledger_rows({"a": [0.80, 0.82, 0.84], "b": [0.70, 0.71, 0.72], "c": [0.83, 0.85, 0.87]}):
        run_ledger.append_row(ledger, row)
    summary = selection.summarize(run_ledger.read_ledger(ledger))
    assert summary["backbone"].tolist() == ["a", "b", "c"] and summary["seeds"].tolist() == [3, 3, 3]
    assert summary["val_pn_f1_mean"].tolist() == pytest.approx([82.0, 71.0, 85.0])
    assert summary["val_pn_f1_std"].tolist() == pytest.approx([2.0, 1.0, 2.0])  # sample std, in points
    assert summary["cpu_minutes"].tolist() == pytest.approx([2.0, 2.0, 2.0])
    assert summary["gpu_minutes"].isna().all()
    a, b, c = (summary.iloc[i] for i in range(3))
    assert selection.beyond_seed_spread(a, b)  # 11 points apart, spread 3
    assert not selection.beyond_seed_spread(a, c)  # 3 points apart, spread 4
    table = summary_table(summary)
    assert "| 82.00 ± 2.00 |" in table and len(table.splitlines()) == 5


def test_compare_to_best_uses_validation_not_test(tmp_path):
    ledger = tmp_path / "results.csv"
    rows = ledger_rows({"a": [0.80, 0.82, 0.84], "b": [0.70, 0.71, 0.72]})
    for row in rows:
        if row["backbone"] == "b":
            row["test_pn_f1"] = 0.99  # b is best on test, but test must not choose
        run_ledger.append_row(ledger, row)
    table = selection.compare_to_best(selection.summarize(run_ledger.read_ledger(ledger)))
    assert table["best (by validation)"].tolist() == ["a lora r16 lr 0.0005"]
    assert table["other"].tolist() == ["b lora r16 lr 0.0005"]
    assert table["val_pn_f1 difference"].tolist() == [-11.0] and table["beyond seed spread"].tolist() == [True]


def test_single_seed_configuration_is_not_the_reference_and_stays_undecided(tmp_path):
    ledger = tmp_path / "results.csv"
    for row in ledger_rows({"a": [0.80, 0.82, 0.84], "b": [0.70, 0.71, 0.72], "c": [0.99]}):
        run_ledger.append_row(ledger, row)
    table = selection.compare_to_best(selection.summarize(run_ledger.read_ledger(ledger)))
    assert table["best (by validation)"].unique().tolist() == ["a lora r16 lr 0.0005"]  # not c, one seed only
    verdicts = dict(zip(table["other"], table["beyond seed spread"]))
    assert verdicts == {"b lora r16 lr 0.0005": True, "c lora r16 lr 0.0005": None}
    assert [selection.spread_verdict(v) for v in verdicts.values()] == ["beyond", "undecided (one seed)"]


def test_single_factor_runs_come_with_their_base_cell(tmp_path):
    ledger = tmp_path / "results.csv"
    for row in ledger_rows({"a": [0.80, 0.82, 0.84], "b": [0.70, 0.71, 0.72]}):
        run_ledger.append_row(ledger, row)
    changed = dict(ledger_rows({"a": [0.9]})[0], experiment="learning_rate", lr=1e-4, run_id="x")
    run_ledger.append_row(ledger, changed)
    run_ledger.append_row(ledger, dict(changed, experiment="general", dataset="all", run_id="g"))  # no main cell
    runs = selection.single_factor_runs(run_ledger.read_ledger(ledger))
    assert sorted(runs["experiment"]) == ["learning_rate", "main", "main", "main"]  # b is nobody's base
    assert set(runs["configuration"]) == {"a lora r16 lr 0.0005", "a lora r16 lr 0.0001"}


def test_compare_to_base_pairs_each_experiment_with_its_main_cell(tmp_path):
    ledger = tmp_path / "results.csv"
    for row in ledger_rows({"a": [0.80, 0.81, 0.82], "b": [0.70, 0.71, 0.72]}):
        run_ledger.append_row(ledger, row)
    for seed, value in enumerate([0.90, 0.91, 0.92], 1):
        run_ledger.append_row(
            ledger,
            dict(ledger_rows({"a": [value]})[0], experiment="learning_rate", lr=1e-4, seed=seed, run_id=f"x{seed}"),
        )
    table = selection.compare_to_base(selection.summarize(run_ledger.read_ledger(ledger)))
    assert len(table) == 1 and table["base"].iloc[0] == "a lora r16 lr 0.0005"
    assert table["val_pn_f1 difference"].iloc[0] == pytest.approx(10.0)
    assert table["seed spread"].iloc[0] == pytest.approx(2.0) and bool(table["beyond seed spread"].iloc[0])


def test_training_minutes_are_kept_apart_by_hardware(tmp_path):
    ledger = tmp_path / "results.csv"
    rows = ledger_rows({"a": [0.80, 0.82, 0.84]})
    rows[1].update(device="NVIDIA H100 80GB HBM3", train_seconds=6)
    rows[2].update(device="NVIDIA H100 80GB HBM3", train_seconds=18)
    for row in rows:
        run_ledger.append_row(ledger, row)
    frame = run_ledger.read_ledger(ledger)
    assert run_ledger.hardware(frame).tolist() == ["CPU", "GPU", "GPU"]
    summary = selection.summarize(frame)
    assert summary["cpu_minutes"].tolist() == pytest.approx([2.0])  # the CPU run alone, not averaged with the GPU
    assert summary["gpu_minutes"].tolist() == pytest.approx([0.2])
    assert run_ledger.devices(frame) == "1 on cpu x2, 2 on NVIDIA H100 80GB HBM3"
    assert re.search(r"\|\s*2\.0 / 0\.2\s*\|", summary_table(summary))


def test_paired_differences_pair_runs_by_dataset_and_seed(write_ledger, tmp_path):
    rows = [
        ("b1", "d", 1e-4, 1, 0.80, 0.7),
        ("b2", "d", 1e-4, 2, 0.70, 0.7),
        ("b3", "d", 1e-4, 3, 0.90, 0.7),
        ("c1", "d", 1e-4, 1, 0.81, 0.8),
        ("c2", "d", 1e-4, 2, 0.72, 0.8),
        ("c3", "d", 1e-4, 3, 0.93, 0.8),
        ("c4", "d", 1e-4, 4, 0.50, 0.8),
    ]  # seed 4 has no base run: not paired
    ledger = write_ledger(tmp_path / "results.csv", rows)
    frame = run_ledger.read_ledger(ledger)
    frame.loc[frame["run_id"].str.startswith("c"), "experiment"] = "changed"
    table = selection.paired_differences(frame, "changed", "main")
    row = table.iloc[0]
    assert row["pairs"] == 3 and row["val_pn_f1 differences"] == [1.0, 2.0, 3.0]
    assert round(row["val_pn_f1 difference"], 6) == 2.0 and round(row["std"], 6) == 1.0
    # every seed gains 1-3 points while the seeds' own scores spread over 10: the pairs still see it
    assert 0 < row["p"] < 0.2 and round(row["test_acc difference"], 6) == 10.0
    with pytest.raises(ValueError, match="several runs"):
        selection.paired_differences(pd.concat([frame, frame.iloc[[0]]]), "changed", "main")


def test_paired_table_stacks_pairs_and_skips_experiments_without_runs(write_ledger, tmp_path):
    rows = [
        ("b1", "d", 1e-4, 1, 0.80, 0.7),
        ("b2", "d", 1e-4, 2, 0.70, 0.7),
        ("c1", "d", 1e-4, 1, 0.81, 0.8),
        ("c2", "d", 1e-4, 2, 0.72, 0.8),
    ]
    frame = run_ledger.read_ledger(write_ledger(tmp_path / "results.csv", rows))
    frame.loc[frame["run_id"].str.startswith("c"), "experiment"] = "changed"
    table = selection.paired_table(frame, [("changed", "main"), ("not_run_yet", "main")])
    assert table["experiment"].tolist() == ["changed"] and table["pairs"].tolist() == [2]
    longer = frame.copy()
    longer.loc[longer["experiment"] == "changed", "epochs"] = 9
    named = selection.paired_table(longer, [("changed", "main")]).iloc[0]
    assert named["changed"].endswith(", 9 ep") and named["changed"] != named["base"]
    assert selection.paired_table(frame, [("not_run_yet", "main")]).empty
