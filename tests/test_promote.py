import json

import pytest
import yaml

from absa.src.promote import PromoteArguments, promote


def _runs(tmp_path, model_dir, run_ids):
    runs = tmp_path / "runs"
    runs.mkdir()
    for run_id in run_ids:
        (runs / run_id).symlink_to(model_dir, target_is_directory=True)
    return runs


def test_promotes_best_validation_seed_of_best_validation_cell(tiny_model, write_ledger, tmp_path):
    model_dir, metrics = tiny_model
    write_ledger(
        tmp_path / "results.csv",
        [
            ("a1", "d", 3e-5, 1, 0.80, 0.99),
            ("a2", "d", 3e-5, 2, 0.82, 0.99),
            ("a3", "d", 3e-5, 3, 0.81, 0.99),
            ("b1", "d", 1e-4, 1, 0.84, 0.70),
            ("b2", "d", 1e-4, 2, 0.87, 0.60),
            ("b3", "d", 1e-4, 3, 0.86, 0.80),
            ("c1", "d", 1e-3, 1, 0.99, 0.99),
            ("c2", "d", 1e-3, 2, 0.99, 0.99),
        ],
    )  # too few seeds
    runs = _runs(tmp_path, model_dir, ["a1", "a2", "a3", "b1", "b2", "b3", "c1", "c2"])
    args = PromoteArguments(
        dataset="d", ledger=str(tmp_path / "results.csv"), runs_dir=str(runs), models_dir=str(tmp_path / "models")
    )
    target = promote(args)

    assert target == tmp_path / "models" / "d" and not target.is_symlink()
    assert (target / "adapter_model.safetensors").exists()
    promoted = json.loads((target / "metrics.json").read_text())
    assert promoted["test"] == metrics.test  # the run's own scores are kept as they were
    assert promoted["promoted"]["run_id"] == "b2" and promoted["promoted"]["seeds"] == [1, 2, 3]
    assert promoted["promoted"]["configuration_scores_percent"]["test_pn_f1"] == {"mean": 70.0, "std": 10.0}
    card = (target / "README.md").read_text()
    assert "\n# d\n" in card and "grid run `b2`" in card and "70.00 ± 10.00" in card

    with pytest.raises(FileExistsError, match="--overwrite"):
        promote(args)
    args.overwrite = True
    assert promote(args) == target


def test_no_cell_with_enough_seeds_or_missing_run_folder_is_an_error(write_ledger, tmp_path):
    write_ledger(tmp_path / "results.csv", [("a1", "d", 3e-5, 1, 0.8, 0.8), ("a2", "d", 3e-5, 2, 0.8, 0.8)])
    args = PromoteArguments(
        dataset="d",
        ledger=str(tmp_path / "results.csv"),
        runs_dir=str(tmp_path / "runs"),
        models_dir=str(tmp_path / "models"),
    )
    with pytest.raises(ValueError, match="3\\+ seeds"):
        promote(args)
    args.min_seeds = 2
    with pytest.raises(FileNotFoundError, match="python -m absa.src.ablation"):
        promote(args)
    assert not (tmp_path / "models").exists()


def test_general_model_goes_to_its_own_folder_and_one_seed_quotes_no_spread(tiny_model, write_ledger, tmp_path):
    model_dir, _ = tiny_model
    write_ledger(tmp_path / "results.csv", [("g1", "all", 5e-4, 1, 0.80, 0.85)])
    runs = _runs(tmp_path, model_dir, ["g1"])
    target = promote(
        PromoteArguments(
            dataset="all",
            min_seeds=1,
            ledger=str(tmp_path / "results.csv"),
            runs_dir=str(runs),
            models_dir=str(tmp_path / "models"),
        )
    )
    assert target == tmp_path / "models" / "general"
    scores = json.loads((target / "metrics.json").read_text())["promoted"]["configuration_scores_percent"]
    assert scores["test_pn_f1"] == {"mean": 85.0, "std": None}  # no NaN in the JSON
    card = (target / "README.md").read_text()
    assert "one seed so far" in card and "nan" not in card


def test_a_folder_the_grid_distils_from_is_never_replaced(tiny_model, write_ledger, tmp_path):
    model_dir, _ = tiny_model
    write_ledger(tmp_path / "results.csv", [("a1", "d", 3e-5, 1, 0.8, 0.8)])
    runs = _runs(tmp_path, model_dir, ["a1"])
    teacher = tmp_path / "models" / "d"
    grid = tmp_path / "grid.yaml"
    grid.write_text(
        yaml.safe_dump(
            {
                "experiments": [
                    {"name": "distill", "backbone": "minilm", "teacher": str(teacher), "seed": [1, 2]},
                    {"name": "main", "backbone": "minilm", "seed": 1},
                ]
            }
        )
    )
    args = PromoteArguments(
        dataset="d",
        min_seeds=1,
        ledger=str(tmp_path / "results.csv"),
        grid=str(grid),
        runs_dir=str(runs),
        models_dir=str(tmp_path / "models"),
    )
    assert promote(args) == teacher  # a teacher that does not exist yet may be created
    card = (teacher / "README.md").read_text()
    (teacher / "README.md").write_text(card + "the teacher the grid's runs learned from")

    args.overwrite = True
    with pytest.raises(FileExistsError, match=r"teacher of grid experiment\(s\) \['distill'\]"):
        promote(args)
    assert (teacher / "README.md").read_text().endswith("the teacher the grid's runs learned from")
    args.name = "d_promoted"  # the way out the error names
    assert promote(args) == tmp_path / "models" / "d_promoted"
