import csv

import pytest
import yaml

from absa.src.ablation import ledger as run_ledger
from absa.src.ablation import runner, selection
from absa.src.ablation.ledger import LEDGER_COLUMNS
from absa.src.ablation.runner import AblationArguments, expand, run_grid, teacher_experiments
from absa.src.config import TrainConfig, run_id
from absa.src.records import RunRecord
from absa.src.train import train
from conftest import dry_record


@pytest.fixture
def grid(tmp_path, synthetic_dataset):
    data = {
        "train_file": str(synthetic_dataset / "train.csv"),
        "test_file": str(synthetic_dataset / "test.csv"),
        "backbone": "minilm",
        "epochs": 1,
        "max_steps": 2,
        "batch_size": 8,
        "bf16": "no",
        "val_size": 0.2,
    }
    content = {
        "experiments": [
            {"name": "tiny", "regime": "lora", "seed": [1, 2], **data},
            {"name": "other", "regime": "full", "seed": 1, **data},
        ]
    }
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(content))
    return path


def test_expand_makes_every_combination(grid):
    runs = expand(yaml.safe_load(grid.read_text()))
    assert [(name, c.regime, c.seed) for name, c in runs] == [
        ("tiny", "lora", 1),
        ("tiny", "lora", 2),
        ("other", "full", 1),
    ]
    assert runs[0][1].learning_rate == 5e-4  # regime default filled in


def test_unknown_field_is_an_error():
    with pytest.raises(ValueError, match="learning_rat"):
        expand({"experiments": [{"name": "typo", "learning_rat": 1e-3}]})


def test_paired_with_names_a_base_and_leaves_the_runs_alone():
    experiments = [
        {"name": "base", "seed": [1, 2]},
        {"name": "changed", "seed": [1, 2], "lora_r": 64},
        {"name": "changed", "paired_with": "base", "seed": 3, "lora_r": 64},
        {"name": "again", "paired_with": "base", "epochs": 2},
    ]
    plain = [dict(e) for e in experiments]
    plain[2].pop("paired_with"), plain[3].pop("paired_with")
    grid = {"experiments": experiments}
    assert runner.paired_experiments(grid) == [("changed", "base"), ("again", "base")]
    assert [run_id(c) for _, c in expand(grid)] == [run_id(c) for _, c in expand({"experiments": plain})]
    for base in ("missing", "again"):
        with pytest.raises(ValueError, match="is not another experiment"):
            runner.paired_experiments({"experiments": [{"name": "again", "paired_with": base}]})


def test_runner_writes_rows_and_resumes(grid, tmp_path):
    calls = []

    def train_in_process(config):
        calls.append(config.seed)
        train(config)
        return RunRecord.load(tmp_path / "runs" / run_id(config))

    args = AblationArguments(
        grid=str(grid), ledger=str(tmp_path / "results.csv"), runs_dir=str(tmp_path / "runs"), only=["tiny"]
    )
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
    grid.write_text(
        yaml.safe_dump(
            {
                "experiments": [
                    {
                        "name": "main",
                        "backbone": ["minilm", "mpnet"],
                        "dataset": ["semeval14_restaurants", "semeval14_laptops"],
                        "seed": [1, 2, 3],
                    }
                ]
            }
        )
    )
    trained = []

    def fake_train(config):
        trained.append((config.backbone, config.dataset, config.seed))
        return dry_record(config)

    args = AblationArguments(
        grid=str(grid),
        ledger=str(tmp_path / "results.csv"),
        runs_dir=str(tmp_path / "runs"),
        datasets=["semeval14_laptops"],
        backbones=["mpnet"],
        max_runs=2,
    )
    run_grid(args, train_fn=fake_train)
    assert trained == [("mpnet", "semeval14_laptops", 1), ("mpnet", "semeval14_laptops", 2)]
    run_grid(args, train_fn=fake_train)  # the next sitting goes on where the last one stopped
    assert trained[2:] == [("mpnet", "semeval14_laptops", 3)]


def test_subprocess_training_round_trip(grid, tmp_path):
    (name, config), *_ = expand(yaml.safe_load(grid.read_text()))
    config.output_dir = str(tmp_path / "run")
    record = runner.train_in_subprocess(config)
    assert record.config["seed"] == config.seed and record.config["max_steps"] == 2


def test_teacher_experiments_resolve_relative_teacher_paths_from_the_root(tmp_path):
    grid = {
        "experiments": [
            {"name": "distill", "backbone": "minilm", "teacher": "models/teacher", "seed": [1, 2]},
            {"name": "joint_distill", "backbone": "minilm", "teacher": str(tmp_path / "models" / "teacher")},
            {"name": "other", "backbone": "minilm", "teacher": "models/another"},
            {"name": "main", "backbone": "minilm"},
        ]
    }
    assert teacher_experiments(grid, tmp_path / "models" / "teacher", root=tmp_path) == ["distill", "joint_distill"]
    assert teacher_experiments(grid, tmp_path / "models" / "main", root=tmp_path) == []


def test_runs_that_start_from_their_seeds_first_stage_form_one_cell(tmp_path):
    runs = tmp_path / "runs"
    first = {seed: run_id(TrainConfig(backbone="minilm", dataset="all", seed=seed)) for seed in (1, 2)}
    grid = tmp_path / "grid.yaml"
    grid.write_text(
        yaml.safe_dump(
            {
                "experiments": [
                    {"name": "general", "backbone": "minilm", "dataset": "all", "seed": [1, 2]},
                    *[
                        {
                            "name": "finetune",
                            "backbone": "minilm",
                            "dataset": "d",
                            "init_from": str(runs / first[seed]),
                            "seed": seed,
                        }
                        for seed in (1, 2)
                    ],
                ]
            }
        )
    )

    def fake_train(config):
        return dry_record(config)

    args = AblationArguments(grid=str(grid), ledger=str(tmp_path / "results.csv"), runs_dir=str(runs))
    rows = run_grid(args, train_fn=fake_train)
    assert [(r["experiment"], r["init_from"]) for r in rows] == [
        ("general", ""),
        ("general", ""),
        ("finetune", "general"),
        ("finetune", "general"),
    ]
    summary = selection.summarize(run_ledger.read_ledger(tmp_path / "results.csv"))
    assert summary["seeds"].tolist() == [2, 2] and selection.label(summary.iloc[1]).endswith("from general lr 0.0005")
