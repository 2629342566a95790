import json

import numpy as np
import pytest

from absa.src.cross_benchmark import CrossBenchmarkArguments, cross_benchmark
from absa.src.data import BENCHMARKS, read_frame
from absa.src.metrics import classification_metrics
from absa.src.predict import Predictor


def test_every_model_is_scored_on_every_test_set_with_what_the_scores_depend_on(tiny_model, four_benchmarks, tmp_path):
    model_dir, _ = tiny_model
    (tmp_path / "no_weights").mkdir()
    args = CrossBenchmarkArguments(
        models=[str(model_dir), str(tmp_path / "no_weights")],
        data_dir=str(four_benchmarks),
        output=str(tmp_path / "cross.json"),
    )
    report = cross_benchmark(args)
    assert json.loads((tmp_path / "cross.json").read_text()) == report  # what it returns is what it wrote
    assert list(report["skipped"]) == ["no_weights"]  # a folder without weights is named, not scored
    entry = report["models"][model_dir.name]
    predictor = Predictor(model_dir)
    for name in BENCHMARKS:  # each test set scored on its own, as a user of that benchmark would
        test = read_frame(four_benchmarks / name / "test.csv")
        expected = classification_metrics(test["label"].to_numpy(), predictor.predict(test["text"], test["aspect"]))
        assert entry["by_benchmark"][name]["pn_macro_f1"] == pytest.approx(expected["pn_macro_f1"])
        assert entry["by_benchmark"][name]["n"] == len(test)
    assert entry["mean_pn_macro_f1"] == pytest.approx(
        np.mean([s["pn_macro_f1"] for s in entry["by_benchmark"].values()])
    )
    # bf16 scores move by a few rows between CPU families: the report says which format ran, on which CPU
    assert entry["precision"] == predictor.precision
    assert report["machine"]["cpu_capability"]


def test_unknown_benchmarks_and_empty_model_lists_are_refused():
    with pytest.raises(ValueError, match="'imdb'"):
        CrossBenchmarkArguments(benchmarks=["imdb"])
    with pytest.raises(ValueError, match="at least one"):
        CrossBenchmarkArguments(models=[])
