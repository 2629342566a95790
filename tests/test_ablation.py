import csv
import json

import pandas as pd
import pytest
import yaml

from absa.src import ablation
from absa.src.ablation import LEDGER_COLUMNS, AblationArguments, expand, run_grid, run_id, teacher_experiments
from absa.src.train import TrainConfig, train


@pytest.fixture
def grid(tmp_path, synthetic_dataset):
    data = {"train_file": str(synthetic_dataset / "train.csv"), "test_file": str(synthetic_dataset / "test.csv"),
            "backbone": "minilm", "epochs": 1, "max_steps": 2, "batch_size": 8, "bf16": "no", "val_size": 0.2}
    content = {"experiments": [{"name": "tiny", "regime": "lora", "seed": [1, 2], **data},
                               {"name": "other", "regime": "full", "seed": 1, **data}]}
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(content))
    return path


def test_expand_makes_every_combination(grid):
    runs = expand(yaml.safe_load(grid.read_text()))
    assert [(name, c.regime, c.seed) for name, c in runs] == [("tiny", "lora", 1), ("tiny", "lora", 2),
                                                               ("other", "full", 1)]
    assert runs[0][1].learning_rate == 5e-4  # regime default filled in


def test_unknown_field_is_an_error():
    with pytest.raises(ValueError, match="learning_rat"):
        expand({"experiments": [{"name": "typo", "learning_rat": 1e-3}]})


def test_paired_with_names_a_base_and_leaves_the_runs_alone():
    experiments = [{"name": "base", "seed": [1, 2]}, {"name": "changed", "seed": [1, 2], "lora_r": 64},
                   {"name": "changed", "paired_with": "base", "seed": 3, "lora_r": 64},
                   {"name": "again", "paired_with": "base", "epochs": 2}]
    plain = [dict(e) for e in experiments]
    plain[2].pop("paired_with"), plain[3].pop("paired_with")
    grid = {"experiments": experiments}
    assert ablation.paired_experiments(grid) == [("changed", "base"), ("again", "base")]
    assert [run_id(c) for _, c in expand(grid)] == [run_id(c) for _, c in expand({"experiments": plain})]
    for base in ("missing", "again"):
        with pytest.raises(ValueError, match="is not another experiment"):
            ablation.paired_experiments({"experiments": [{"name": "again", "paired_with": base}]})


def test_every_paired_experiment_of_the_grid_has_a_base_run_for_each_of_its_runs():
    """A paired experiment is read seed by seed: each of its runs needs a base run of the same dataset and seed,
    and, for fine-tuning, the same start."""
    grid = yaml.safe_load((ablation.ABLATION_DIR / "grid.yaml").read_text())
    runs = expand(grid)
    pairs = ablation.paired_experiments(grid)
    assert pairs
    for changed, base in pairs:
        bases = {(c.dataset, c.seed, c.init_from) for name, c in runs if name == base}
        for name, config in runs:
            if name == changed:
                assert (config.dataset, config.seed, config.init_from) in bases, (changed, config.dataset, config.seed)


def test_run_id_ignores_paths_only():
    assert run_id(TrainConfig(output_dir="a")) == run_id(TrainConfig(output_dir="b"))
    assert run_id(TrainConfig(seed=1)) != run_id(TrainConfig(seed=2))


def test_runner_writes_rows_and_resumes(grid, tmp_path):
    calls = []

    def train_in_process(config):
        calls.append(config.seed)
        train(config)
        return __import__("json").loads((tmp_path / "runs" / run_id(config) / "metrics.json").read_text())

    args = AblationArguments(grid=str(grid), ledger=str(tmp_path / "results.csv"), runs_dir=str(tmp_path / "runs"),
                             only=["tiny"])
    rows = run_grid(args, train_fn=train_in_process)
    assert calls == [1, 2] and len(rows) == 2
    with open(tmp_path / "results.csv", newline="") as handle:
        ledger = list(csv.DictReader(handle))
    assert list(ledger[0]) == LEDGER_COLUMNS
    assert [r["seed"] for r in ledger] == ["1", "2"]
    assert all(0 <= float(r["val_pn_f1"]) <= 1 and r["test_pn_f1"] != "" for r in ledger)

    # a second sitting skips what is done and runs only what is new
    assert run_grid(args, train_fn=train_in_process) == []
    args.only = None
    rows = run_grid(args, train_fn=train_in_process)
    assert calls == [1, 2, 1] and [r["experiment"] for r in rows] == ["other"]


def test_filters_and_max_runs_select_one_sitting(tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"experiments": [
        {"name": "main", "backbone": ["minilm", "mpnet"], "dataset": ["semeval14_restaurants", "semeval14_laptops"],
         "seed": [1, 2, 3]}]}))
    trained = []

    def fake_train(config):
        trained.append((config.backbone, config.dataset, config.seed))
        return {"config": ablation.asdict(config), "validation": {"pn_macro_f1": 0.5, "accuracy": 0.5},
                "test": None, "best_epoch": 1, "trainable_params": 1, "train_seconds": 1.0, "peak_mem_mb": 1,
                "device": "cpu", "commit": "x"}

    args = AblationArguments(grid=str(grid), ledger=str(tmp_path / "results.csv"), runs_dir=str(tmp_path / "runs"),
                             datasets=["semeval14_laptops"], backbones=["mpnet"], max_runs=2)
    run_grid(args, train_fn=fake_train)
    assert trained == [("mpnet", "semeval14_laptops", 1), ("mpnet", "semeval14_laptops", 2)]
    run_grid(args, train_fn=fake_train)  # the next sitting goes on where the last one stopped
    assert trained[2:] == [("mpnet", "semeval14_laptops", 3)]


def test_subprocess_training_round_trip(grid, tmp_path):
    (name, config), *_ = expand(yaml.safe_load(grid.read_text()))
    config.output_dir = str(tmp_path / "run")
    metrics = ablation.train_in_subprocess(config)
    assert metrics["config"]["seed"] == config.seed and metrics["config"]["max_steps"] == 2


def _ledger_rows(scores: dict[str, list[float]]) -> list[dict]:
    """Ledger rows for configurations named by backbone, one row per seed, scores as fractions."""
    rows = []
    for backbone, values in scores.items():
        for seed, value in enumerate(values, 1):
            rows.append({**{c: "" for c in LEDGER_COLUMNS}, "run_id": f"{backbone}{seed}", "experiment": "main",
                         "dataset": "d", "backbone": backbone, "regime": "lora", "lora_r": 16, "lora_targets": "all",
                         "input_format": "pair", "class_weights": "none", "lr": 5e-4, "epochs": 8, "seed": seed,
                         "val_pn_f1": value, "test_pn_f1": value, "test_acc": value, "test_macro_f1": value,
                         "trainable_params": 1000, "train_seconds": 120, "device": "cpu x2"})
    return rows


def test_summary_is_mean_and_std_over_seeds(tmp_path):
    ledger = tmp_path / "results.csv"
    for row in _ledger_rows({"a": [0.80, 0.82, 0.84], "b": [0.70, 0.71, 0.72], "c": [0.83, 0.85, 0.87]}):
        ablation.append_row(ledger, row)
    summary = ablation.summarize(ablation.read_ledger(ledger))
    assert summary["backbone"].tolist() == ["a", "b", "c"] and summary["seeds"].tolist() == [3, 3, 3]
    assert summary["val_pn_f1_mean"].tolist() == pytest.approx([82.0, 71.0, 85.0])
    assert summary["val_pn_f1_std"].tolist() == pytest.approx([2.0, 1.0, 2.0])  # sample std, in points
    assert summary["cpu_minutes"].tolist() == pytest.approx([2.0, 2.0, 2.0])
    assert summary["gpu_minutes"].isna().all()
    a, b, c = (summary.iloc[i] for i in range(3))
    assert ablation.beyond_seed_spread(a, b)  # 11 points apart, spread 3
    assert not ablation.beyond_seed_spread(a, c)  # 3 points apart, spread 4
    table = ablation.markdown_table(summary)
    assert "| 82.00 ± 2.00 |" in table and len(table.splitlines()) == 5


def test_missing_ledger_reads_empty(tmp_path):
    assert ablation.read_ledger(tmp_path / "none.csv").empty
    assert ablation.summarize(ablation.read_ledger(tmp_path / "none.csv")).empty


def test_compare_to_best_uses_validation_not_test(tmp_path):
    ledger = tmp_path / "results.csv"
    rows = _ledger_rows({"a": [0.80, 0.82, 0.84], "b": [0.70, 0.71, 0.72]})
    for row in rows:
        if row["backbone"] == "b":
            row["test_pn_f1"] = 0.99  # b is best on test, but test must not choose
        ablation.append_row(ledger, row)
    table = ablation.compare_to_best(ablation.summarize(ablation.read_ledger(ledger)))
    assert table["best (by validation)"].tolist() == ["a lora r16 lr 0.0005"]
    assert table["other"].tolist() == ["b lora r16 lr 0.0005"]
    assert table["val_pn_f1 difference"].tolist() == [-11.0] and table["beyond seed spread"].tolist() == [True]


def test_single_seed_configuration_is_not_the_reference_and_stays_undecided(tmp_path):
    ledger = tmp_path / "results.csv"
    for row in _ledger_rows({"a": [0.80, 0.82, 0.84], "b": [0.70, 0.71, 0.72], "c": [0.99]}):
        ablation.append_row(ledger, row)
    table = ablation.compare_to_best(ablation.summarize(ablation.read_ledger(ledger)))
    assert table["best (by validation)"].unique().tolist() == ["a lora r16 lr 0.0005"]  # not c, one seed only
    verdicts = dict(zip(table["other"], table["beyond seed spread"]))
    assert verdicts == {"b lora r16 lr 0.0005": True, "c lora r16 lr 0.0005": None}
    assert [ablation.spread_verdict(v) for v in verdicts.values()] == ["beyond", "undecided (one seed)"]


def test_every_ledger_run_keeps_its_id_in_the_grid():
    """Resumability: runs finished before a TrainConfig field was added must still be found, not trained again."""
    grid = yaml.safe_load((ablation.ABLATION_DIR / "grid.yaml").read_text())
    ids = {run_id(config) for _, config in expand(grid)}
    with open(ablation.ABLATION_DIR / "results.csv", newline="") as handle:
        finished = [row["run_id"] for row in csv.DictReader(handle)]
    assert finished and set(finished) <= ids


def test_teacher_settings_enter_the_id_only_when_set():
    assert run_id(TrainConfig()) == run_id(TrainConfig(distill_alpha=0.5))
    with_teacher = run_id(TrainConfig(teacher="absa/models/semeval14_restaurants"))
    assert with_teacher != run_id(TrainConfig())
    assert with_teacher != run_id(TrainConfig(teacher="absa/models/semeval14_restaurants", distill_alpha=0.9))


def test_old_ledger_gains_new_columns_before_a_row_is_appended(tmp_path):
    old_columns = [c for c in LEDGER_COLUMNS if c not in ("teacher", "distill_alpha", "distill_temperature")]
    ledger = tmp_path / "results.csv"
    with open(ledger, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=old_columns)
        writer.writeheader()
        writer.writerow({c: "old" for c in old_columns})
    ablation.append_row(ledger, {c: "new" for c in LEDGER_COLUMNS})
    with open(ledger, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == LEDGER_COLUMNS
    assert rows[0]["teacher"] == "" and rows[0]["seed"] == "old"
    assert all(value == "new" for value in rows[1].values())


def test_single_factor_runs_come_with_their_base_cell(tmp_path):
    ledger = tmp_path / "results.csv"
    for row in _ledger_rows({"a": [0.80, 0.82, 0.84], "b": [0.70, 0.71, 0.72]}):
        ablation.append_row(ledger, row)
    changed = dict(_ledger_rows({"a": [0.9]})[0], experiment="learning_rate", lr=1e-4, run_id="x")
    ablation.append_row(ledger, changed)
    ablation.append_row(ledger, dict(changed, experiment="general", dataset="all", run_id="g"))  # no main cell
    runs = ablation.single_factor_runs(ablation.read_ledger(ledger))
    assert sorted(runs["experiment"]) == ["learning_rate", "main", "main", "main"]  # b is nobody's base
    assert set(runs["configuration"]) == {"a lora r16 lr 0.0005", "a lora r16 lr 0.0001"}


def test_compare_to_base_pairs_each_experiment_with_its_main_cell(tmp_path):
    ledger = tmp_path / "results.csv"
    for row in _ledger_rows({"a": [0.80, 0.81, 0.82], "b": [0.70, 0.71, 0.72]}):
        ablation.append_row(ledger, row)
    for seed, value in enumerate([0.90, 0.91, 0.92], 1):
        ablation.append_row(ledger, dict(_ledger_rows({"a": [value]})[0], experiment="learning_rate", lr=1e-4,
                                         seed=seed, run_id=f"x{seed}"))
    table = ablation.compare_to_base(ablation.summarize(ablation.read_ledger(ledger)))
    assert len(table) == 1 and table["base"].iloc[0] == "a lora r16 lr 0.0005"
    assert table["val_pn_f1 difference"].iloc[0] == pytest.approx(10.0)
    assert table["seed spread"].iloc[0] == pytest.approx(2.0) and bool(table["beyond seed spread"].iloc[0])


def test_training_minutes_are_kept_apart_by_hardware(tmp_path):
    ledger = tmp_path / "results.csv"
    rows = _ledger_rows({"a": [0.80, 0.82, 0.84]})
    rows[1].update(device="NVIDIA H100 80GB HBM3", train_seconds=6)
    rows[2].update(device="NVIDIA H100 80GB HBM3", train_seconds=18)
    for row in rows:
        ablation.append_row(ledger, row)
    frame = ablation.read_ledger(ledger)
    assert ablation.hardware(frame).tolist() == ["CPU", "GPU", "GPU"]
    summary = ablation.summarize(frame)
    assert summary["cpu_minutes"].tolist() == pytest.approx([2.0])  # the CPU run alone, not averaged with the GPU
    assert summary["gpu_minutes"].tolist() == pytest.approx([0.2])
    assert ablation.devices(frame) == "1 on cpu x2, 2 on NVIDIA H100 80GB HBM3"
    assert "| 2.0 / 0.2 |" in ablation.markdown_table(summary)


def test_merge_appends_only_the_runs_the_ledger_lacks(tmp_path):
    rows = _ledger_rows({"a": [0.80, 0.82, 0.84]})
    target, first, second = tmp_path / "results.csv", tmp_path / "gpu1.csv", tmp_path / "gpu2.csv"
    ablation.append_row(target, rows[0])
    for row in rows[:2]:  # a runner's ledger starts as a copy of the main one
        ablation.append_row(first, row)
    for row in (rows[0], rows[2], rows[1]):
        ablation.append_row(second, row)
    added = ablation.merge_ledgers(target, [first, second])
    assert [row["run_id"] for row in added] == ["a2", "a3"]
    merged = target.read_text().splitlines()
    assert len(merged) == 4 and merged[2:] == [first.read_text().splitlines()[2], second.read_text().splitlines()[2]]
    assert ablation.merge_ledgers(target, [first, second]) == []  # idempotent
    (tmp_path / "other.csv").write_text("name,score\nx,1\n")
    with pytest.raises(ValueError, match="not a ledger"):
        ablation.merge_ledgers(target, [tmp_path / "other.csv"])


def test_a_general_run_is_scored_once_per_benchmark(tmp_path):
    by_benchmark = {name: {"pn_macro_f1": score, "accuracy": score - 0.1, "macro_f1": score - 0.2}
                    for name, score in (("mams", 0.8), ("twitter", 0.6))}
    metrics = {"validation": {"pn_macro_f1": 0.7, "by_benchmark": by_benchmark},
               "test": {"pn_macro_f1": 0.7, "by_benchmark": by_benchmark}}
    written = ablation.benchmark_scores_json(metrics)
    assert json.loads(written)["twitter"] == {"val_pn_f1": 0.6, "test_pn_f1": 0.6, "test_acc": 0.5,
                                              "test_macro_f1": pytest.approx(0.4)}
    assert ablation.benchmark_scores_json({"validation": {"pn_macro_f1": 0.7}, "test": None}) == ""

    rows = _ledger_rows({"a": [0.9]})
    rows.append({**rows[0], "run_id": "g1", "dataset": "all", "by_benchmark": written})
    ledger = tmp_path / "results.csv"
    for row in rows:
        ablation.append_row(ledger, row)
    long = ablation.per_benchmark(ablation.read_ledger(ledger))
    assert long[["run_id", "benchmark"]].values.tolist() == [["a1", "d"], ["g1", "mams"], ["g1", "twitter"]]
    assert long["test_acc"].tolist() == pytest.approx([90.0, 70.0, 50.0])  # percent, each benchmark its own
    assert long["val_pn_f1"].tolist() == pytest.approx([90.0, 80.0, 60.0])


def test_runs_that_start_from_their_seeds_first_stage_form_one_cell(tmp_path):
    runs = tmp_path / "runs"
    first = {seed: run_id(TrainConfig(backbone="minilm", dataset="all", seed=seed)) for seed in (1, 2)}
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"experiments": [
        {"name": "general", "backbone": "minilm", "dataset": "all", "seed": [1, 2]},
        *[{"name": "finetune", "backbone": "minilm", "dataset": "d", "init_from": str(runs / first[seed]),
           "seed": seed} for seed in (1, 2)]]}))

    def fake_train(config):
        return {"config": ablation.asdict(config), "validation": {"pn_macro_f1": 0.5, "accuracy": 0.5},
                "test": None, "best_epoch": 1, "trainable_params": 1, "train_seconds": 1.0, "peak_mem_mb": 1,
                "device": "cpu", "commit": "x"}

    args = AblationArguments(grid=str(grid), ledger=str(tmp_path / "results.csv"), runs_dir=str(runs))
    rows = run_grid(args, train_fn=fake_train)
    assert [(r["experiment"], r["init_from"]) for r in rows] == [("general", ""), ("general", ""),
                                                                  ("finetune", "general"), ("finetune", "general")]
    summary = ablation.summarize(ablation.read_ledger(tmp_path / "results.csv"))
    assert summary["seeds"].tolist() == [2, 2] and ablation.label(summary.iloc[1]).endswith("from general lr 0.0005")


def test_teacher_experiments_resolve_relative_teacher_paths_from_the_root(tmp_path):
    grid = {"experiments": [
        {"name": "distill", "backbone": "minilm", "teacher": "models/teacher", "seed": [1, 2]},
        {"name": "joint_distill", "backbone": "minilm", "teacher": str(tmp_path / "models" / "teacher")},
        {"name": "other", "backbone": "minilm", "teacher": "models/another"},
        {"name": "main", "backbone": "minilm"}]}
    assert teacher_experiments(grid, tmp_path / "models" / "teacher", root=tmp_path) == ["distill", "joint_distill"]
    assert teacher_experiments(grid, tmp_path / "models" / "main", root=tmp_path) == []


def test_augment_enters_the_id_and_the_label_only_when_set(tmp_path):
    assert run_id(TrainConfig()) == run_id(TrainConfig(augment="none"))
    assert run_id(TrainConfig(augment="opposite_pairs")) != run_id(TrainConfig())
    summary = ablation.summarize(ablation.read_ledger(ablation.ABLATION_DIR / "results.csv"))
    row = summary.iloc[0]  # a run from before augmentation existed: read as none
    assert row["augment"] == "none" and "opposite" not in ablation.label(row)
    augmented = row.copy()
    augmented["augment"] = "opposite_pairs"
    assert ablation.label(augmented) == ablation.label(row).replace(" lr ", " + opposite pairs lr ")


def test_rdrop_and_layer_decay_enter_the_id_and_the_label_only_when_set(tmp_path):
    assert run_id(TrainConfig()) == run_id(TrainConfig(rdrop_alpha=0.0, layer_decay=1.0))
    assert len({run_id(TrainConfig()), run_id(TrainConfig(rdrop_alpha=1.0)), run_id(TrainConfig(layer_decay=0.9))}) == 3
    summary = ablation.summarize(ablation.read_ledger(ablation.ABLATION_DIR / "results.csv"))
    row = summary.iloc[0]  # a run from before either existed: read as off
    assert row["rdrop_alpha"] == "-" and row["layer_decay"] == "-"
    changed = row.copy()
    changed["rdrop_alpha"], changed["layer_decay"] = "1", "0.9"
    assert ablation.label(changed) == ablation.label(row).replace(" lr ", " + R-Drop α 1 + layer decay 0.9 lr ")


def test_paired_differences_pair_runs_by_dataset_and_seed(write_ledger, tmp_path):
    rows = [("b1", "d", 1e-4, 1, 0.80, 0.7), ("b2", "d", 1e-4, 2, 0.70, 0.7), ("b3", "d", 1e-4, 3, 0.90, 0.7),
            ("c1", "d", 1e-4, 1, 0.81, 0.8), ("c2", "d", 1e-4, 2, 0.72, 0.8), ("c3", "d", 1e-4, 3, 0.93, 0.8),
            ("c4", "d", 1e-4, 4, 0.50, 0.8)]  # seed 4 has no base run: not paired
    ledger = write_ledger(tmp_path / "results.csv", rows)
    frame = ablation.read_ledger(ledger)
    frame.loc[frame["run_id"].str.startswith("c"), "experiment"] = "changed"
    table = ablation.paired_differences(frame, "changed", "main")
    row = table.iloc[0]
    assert row["pairs"] == 3 and row["val_pn_f1 differences"] == [1.0, 2.0, 3.0]
    assert round(row["val_pn_f1 difference"], 6) == 2.0 and round(row["std"], 6) == 1.0
    # every seed gains 1-3 points while the seeds' own scores spread over 10: the pairs still see it
    assert 0 < row["p"] < 0.2 and round(row["test_acc difference"], 6) == 10.0
    with pytest.raises(ValueError, match="several runs"):
        ablation.paired_differences(pd.concat([frame, frame.iloc[[0]]]), "changed", "main")


def test_paired_table_stacks_pairs_and_skips_experiments_without_runs(write_ledger, tmp_path):
    rows = [("b1", "d", 1e-4, 1, 0.80, 0.7), ("b2", "d", 1e-4, 2, 0.70, 0.7),
            ("c1", "d", 1e-4, 1, 0.81, 0.8), ("c2", "d", 1e-4, 2, 0.72, 0.8)]
    frame = ablation.read_ledger(write_ledger(tmp_path / "results.csv", rows))
    frame.loc[frame["run_id"].str.startswith("c"), "experiment"] = "changed"
    table = ablation.paired_table(frame, [("changed", "main"), ("not_run_yet", "main")])
    assert table["experiment"].tolist() == ["changed"] and table["pairs"].tolist() == [2]
    longer = frame.copy()
    longer.loc[longer["experiment"] == "changed", "epochs"] = 9
    named = ablation.paired_table(longer, [("changed", "main")]).iloc[0]
    assert named["changed"].endswith(", 9 ep") and named["changed"] != named["base"]
    assert ablation.paired_table(frame, [("not_run_yet", "main")]).empty
