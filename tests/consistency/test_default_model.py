"""The committed default model reproduces, on this machine, the test score recorded when it was trained."""

import json
import os

import pytest

from absa.src.evaluation import EvaluationArguments, evaluate
from conftest import REPO, SHARED_DATA

DEFAULT = REPO / "absa" / "models" / "default"


def test_default_names_an_exported_model():
    assert DEFAULT.is_symlink(), "absa/models/default should link to an exported model folder"
    assert (DEFAULT / "absa_config.json").exists() and (DEFAULT / "metrics.json").exists()


@pytest.mark.slow
def test_default_model_reproduces_its_test_score(tmp_path):
    recorded = json.loads((DEFAULT / "metrics.json").read_text())
    test_csv = SHARED_DATA / recorded["config"]["dataset"] / "test.csv"
    if not test_csv.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{test_csv} missing: CI must run with ../shared beside the checkout")
        pytest.skip("benchmark data not beside the checkout")
    measured = evaluate(
        EvaluationArguments(model=str(DEFAULT), test=str(test_csv), output=str(tmp_path / "results.csv"))
    )
    assert measured["n"] == recorded["test"]["n"]
    assert abs(100 * measured["pn_macro_f1"] - 100 * recorded["test"]["pn_macro_f1"]) <= 0.5
    assert measured["pn_macro_f1"] >= 0.87  # the bar the default model has to clear
