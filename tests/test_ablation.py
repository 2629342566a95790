import csv

import pytest
import yaml

from absa.src import ablation
from absa.src.ablation import LEDGER_COLUMNS, AblationArguments, expand, run_grid, run_id
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


def test_subprocess_training_round_trip(grid, tmp_path):
    (name, config), *_ = expand(yaml.safe_load(grid.read_text()))
    config.output_dir = str(tmp_path / "run")
    metrics = ablation.train_in_subprocess(config)
    assert metrics["config"]["seed"] == config.seed and metrics["config"]["max_steps"] == 2
