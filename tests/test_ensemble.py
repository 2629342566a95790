import json

import pandas as pd
import pytest

from absa.src.ablation.ledger import read_ledger
from absa.src.ablation.selection import best_cell
from absa.src.ensemble import EnsembleArguments, run
from absa.src.metrics import classification_metrics
from absa.src.predict import Predictor


def test_best_cell_is_chosen_on_validation_among_cells_with_enough_seeds(write_ledger, tmp_path):
    rows = [
        ("a1", "d", 3e-5, 1, 0.80, 0.90),
        ("a2", "d", 3e-5, 2, 0.82, 0.90),  # best on test
        ("b1", "d", 1e-4, 1, 0.85, 0.70),
        ("b2", "d", 1e-4, 2, 0.84, 0.70),  # best on validation
        ("c1", "d", 1e-3, 1, 0.99, 0.99),
    ]  # one seed only
    write_ledger(tmp_path / "results.csv", rows)
    ledger = read_ledger(tmp_path / "results.csv")
    assert best_cell(ledger, "d", "minilm", min_seeds=2)["run_id"].tolist() == ["b1", "b2"]
    with pytest.raises(ValueError, match="has 3\\+ seeds"):  # by default a cell needs three seeds
        best_cell(ledger, "d", "minilm")
    assert best_cell(ledger, "d", "minilm", min_seeds=1)["run_id"].tolist() == ["c1"]
    with pytest.raises(ValueError, match="no configuration of mpnet"):
        best_cell(ledger, "d", "mpnet")


def test_ensemble_of_identical_members_scores_like_one_member(tiny_model, synthetic_dataset, write_ledger, tmp_path):
    model_dir, metrics = tiny_model
    dataset = synthetic_dataset.name
    (tmp_path / "runs").mkdir()
    for run_id in ("s1", "s2"):
        (tmp_path / "runs" / run_id).symlink_to(model_dir, target_is_directory=True)
    write_ledger(tmp_path / "results.csv", [("s1", dataset, 3e-5, 1, 0.8, 0.8), ("s2", dataset, 3e-5, 2, 0.8, 0.8)])
    args = EnsembleArguments(
        dataset=dataset,
        ledger=str(tmp_path / "results.csv"),
        runs_dir=str(tmp_path / "runs"),
        data_dir=str(synthetic_dataset.parent),
        output=str(tmp_path / "ensembles.json"),
        min_seeds=2,
    )
    entry = run(args)
    member_score = round(100 * metrics.test["pn_macro_f1"], 2)
    assert entry["members"]["test_pn_f1"] == [member_score, member_score]  # members reproduce the model's metrics
    assert entry["ensemble"]["test_pn_f1"] == member_score
    assert entry["run_ids"] == ["s1", "s2"] and entry["test_rows"] == 45
    assert entry["member_commits"] == [metrics.commit, metrics.commit]  # the code that trained each member
    assert entry["collapsed_members"] == (["s1", "s2"] if metrics.collapsed else [])
    # what the scores depend on besides the weights: each member's number format and the CPU's instruction set
    assert entry["precision"] == [Predictor(model_dir).precision] * 2
    assert entry["machine"]["cpu_capability"] and entry["machine"]["threads"] >= 1
    assert entry["benchmark"] == dataset and "val_pn_f1" not in entry["ensemble"]  # no validation file shared by seeds
    run(args)  # a second run replaces its entry
    assert len(json.loads((tmp_path / "ensembles.json").read_text())) == 1


def test_missing_run_folders_say_how_to_get_them(synthetic_dataset, write_ledger, tmp_path):
    dataset = synthetic_dataset.name
    write_ledger(
        tmp_path / "results.csv", [("gone1", dataset, 3e-5, 1, 0.8, 0.8), ("gone2", dataset, 3e-5, 2, 0.8, 0.8)]
    )
    args = EnsembleArguments(
        dataset=dataset,
        ledger=str(tmp_path / "results.csv"),
        runs_dir=str(tmp_path / "runs"),
        data_dir=str(synthetic_dataset.parent),
        output=str(tmp_path / "ensembles.json"),
        min_seeds=2,
    )
    with pytest.raises(FileNotFoundError, match="absa.src.ablation"):
        run(args)


def test_general_seeds_are_scored_on_a_validation_file_every_seed_held_out(
    tiny_model, synthetic_dataset, write_ledger, tmp_path
):
    model_dir, _ = tiny_model
    data = tmp_path / "data" / "bench"
    data.mkdir(parents=True)
    for split in ("train", "test"):
        (data / f"{split}.csv").write_bytes((synthetic_dataset / f"{split}.csv").read_bytes())
    frame = pd.read_csv(synthetic_dataset / "train.csv").head(20)
    frame.to_csv(data / "validation.csv", index=False)
    (tmp_path / "runs").mkdir()
    for run_id in ("g1", "g2"):
        (tmp_path / "runs" / run_id).symlink_to(model_dir, target_is_directory=True)
    write_ledger(tmp_path / "results.csv", [("g1", "all", 5e-4, 1, 0.8, 0.8), ("g2", "all", 5e-4, 2, 0.8, 0.8)])
    args = EnsembleArguments(
        dataset="all",
        ledger=str(tmp_path / "results.csv"),
        runs_dir=str(tmp_path / "runs"),
        data_dir=str(tmp_path / "data"),
        output=str(tmp_path / "ensembles.json"),
        min_seeds=2,
    )
    with pytest.raises(ValueError, match="--benchmark"):
        run(args)
    args.benchmark = "bench"
    entry = run(args)
    predicted = Predictor(model_dir).predict(frame["text"].tolist(), frame["aspect"].tolist())
    expected = round(100 * classification_metrics(frame["label"].to_numpy(), predicted)["pn_macro_f1"], 2)
    assert entry["members"]["val_pn_f1"] == [expected, expected] and entry["ensemble"]["val_pn_f1"] == expected
    assert entry["benchmark"] == "bench" and entry["validation"].startswith("the benchmark's validation file")
