import json

import numpy as np
import pytest

from absa.src import calibration
from absa.src.metrics import reliability
from absa.src.predict import Predictor


def test_fit_temperature_recovers_the_temperature_that_made_the_labels():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=4.0, size=(20_000, 3))
    true_t = 2.5  # labels drawn from softmax(logits / 2.5): the raw logits are over-confident
    probs = calibration.scaled_probabilities(logits, true_t)
    labels = np.array([rng.choice(3, p=p) for p in probs])
    fitted = calibration.fit_temperature(logits, labels)
    assert fitted == pytest.approx(true_t, rel=0.05)
    scores = calibration.calibration_scores(logits, labels, fitted)
    assert scores["nll_after"] < scores["nll_before"] and scores["ece_after"] < scores["ece_before"] / 3


def test_reliability_is_the_rows_weighted_gap_between_confidence_and_accuracy():
    table, ece = reliability([0.95, 0.95, 0.5, 0.5], [True, False, True, True], bins=2)
    assert table["rows"].tolist() == [2, 2] and table["accuracy"].tolist() == [1.0, 0.5]
    assert ece == pytest.approx(100 * (2 * 0.5 + 2 * 0.45) / 4)


def test_calibrating_a_folder_stores_the_temperature_and_changes_confidences_only(tiny_model, tmp_path):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny_model[0], folder)
    texts, aspects = (
        ["Great pasta!", "The decor was terrible.", "We ordered the wine list."],
        ["pasta", "decor", "wine list"],
    )
    before = Predictor(folder, bf16="no").predict_proba(texts, aspects)
    entry = calibration.calibrate(folder)
    temperature = json.loads((folder / "absa_config.json").read_text())["temperature"]
    assert temperature == entry["temperature"] > 0 and entry["validation"]["rows"] == 9
    assert {"ece_before", "ece_after", "nll_before", "nll_after"} <= set(entry["test"])
    assert entry["validation"]["nll_after"] <= entry["validation"]["nll_before"]  # fitted on validation
    after = Predictor(folder, bf16="no").predict_proba(texts, aspects)
    assert (after.argmax(1) == before.argmax(1)).all()
    expected = calibration.scaled_probabilities(np.log(before.astype(np.float64)), temperature)
    assert after == pytest.approx(expected, abs=1e-4)
    assert Predictor(folder, bf16="no", calibrated=False).predict_proba(texts, aspects) == pytest.approx(before)
    assert json.loads((folder / "metrics.json").read_text())["calibration"] == entry
    card = (folder / "README.md").read_text()
    assert f"T = {entry['temperature']}" in card and "reliability.png" in card and (folder / "reliability.png").exists()
