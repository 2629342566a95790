import json

import numpy as np
import pandas as pd
import pytest

from absa.src import analysis


class FixedPredictor:
    """Stands in for a model: returns the probabilities it was given, row by row."""

    def __init__(self, probs: list[list[float]]) -> None:
        self.probs = np.asarray(probs, dtype=np.float32)

    def predict_proba(self, texts, aspects):
        assert len(texts) == len(aspects) == len(self.probs)
        return self.probs


TEST = pd.DataFrame(
    {
        "text": [
            "a menu of fries",
            "a menu of fries",
            "great food but slow service",
            "great food but slow service",
            "not bad pasta",
            "nice view",
        ],
        "aspect": ["menu", "fries", "food", "service", "pasta", "view"],
        "label": [1, 1, 2, 0, 2, 2],
    }
)
TRAIN = pd.DataFrame({"text": ["x"] * 3, "aspect": ["Food", "service", "pasta"], "label": [2, 0, 2]})
# predicted: positive, positive, neutral, positive, positive, positive; the confidences 0.95 0.6 0.7 0.99 0.9 0.8
PROBS = [[0.03, 0.02, 0.95], [0.1, 0.3, 0.6], [0.1, 0.7, 0.2], [0.005, 0.005, 0.99], [0.05, 0.05, 0.9], [0.1, 0.1, 0.8]]


@pytest.fixture
def frame() -> pd.DataFrame:
    return analysis.predictions_frame(FixedPredictor(PROBS), TEST, TRAIN)


def test_predictions_frame_flags_every_row(frame):
    assert frame["pred"].tolist() == [2, 2, 1, 2, 2, 2]
    assert frame["confidence"].tolist() == pytest.approx([0.95, 0.6, 0.7, 0.99, 0.9, 0.8])
    assert frame["p_neutral"].tolist() == pytest.approx([0.02, 0.3, 0.7, 0.005, 0.05, 0.1])
    assert frame["correct"].tolist() == [False, False, False, False, True, True]
    assert frame["disagreeing_aspects"].tolist() == [False, False, True, True, False, False]
    assert frame["negation"].tolist() == [False, False, False, False, True, False]
    assert frame["contrast"].tolist() == [False, False, True, True, False, False]
    assert frame["aspect_seen_in_train"].tolist() == [False, False, True, True, True, False]  # case-insensitive
    assert frame["length"].astype(str).unique().tolist() == ["1-10 words"]


def test_error_kinds_partition_the_errors(frame):
    kinds = analysis.error_types(frame)
    three = kinds.loc[list(analysis.ERROR_TYPES), "errors"]
    assert three.tolist() == [2, 1, 1] and three.sum() == (~frame["correct"]).sum()
    assert kinds.loc["in a sentence whose aspects disagree", "errors"] == 2
    assert kinds.loc["with a contrast word", "share of rows"] == pytest.approx(100 * 2 / 6, abs=0.1)
    assert kinds.loc["confidence >= 0.9", "errors"] == 2  # 0.95 and 0.99 were wrong; 0.9 was right


def test_slices_per_gold_class_report_recall_not_f1(frame):
    slices = analysis.slice_scores(frame)
    assert slices.loc[("gold label", "neutral"), "accuracy"] == 0.0
    assert slices.loc[("gold label", "positive"), "accuracy"] == pytest.approx(100 * 2 / 3, abs=0.1)
    assert np.isnan(slices.loc[("gold label", "positive"), "pn_macro_f1"])
    assert slices.loc[("negation", "yes"), "rows"] == 1


def test_reliability_bins_confidence_against_accuracy(frame):
    table, ece = analysis.reliability(frame, bins=2)  # bins [1/3, 2/3] and (2/3, 1]
    assert table["rows"].tolist() == [1, 5]
    assert table["accuracy"].tolist() == pytest.approx([0.0, 0.4])
    expected = (1 * abs(0.6 - 0.0) + 5 * abs(np.mean([0.95, 0.7, 0.99, 0.9, 0.8]) - 0.4)) / 6
    assert ece == pytest.approx(100 * expected)


def test_curves_are_one_class_against_the_rest(frame):
    curves = analysis.curves(frame)
    assert set(curves) == {"negative", "neutral", "positive"}
    # the one negative row (service) has the lowest negative probability of all: the worst possible ranking
    assert curves["negative"]["roc_auc"] == pytest.approx(0.0)
    # neutral rows score 0.02 and 0.3 against 0.7, 0.005, 0.05, 0.1: 1 + 3 of 8 pairs ranked right
    assert curves["neutral"]["roc_auc"] == pytest.approx(0.5)
    assert 0 <= curves["positive"]["average_precision"] <= 1


def test_confident_errors_are_the_surest_wrong_rows_first(frame):
    errors = analysis.confident_errors(frame, n=2)
    assert errors["aspect"].tolist() == ["service", "menu"]
    assert errors["gold"].tolist() == ["negative", "neutral"] and errors["predicted"].tolist() == ["positive"] * 2


def test_summary_holds_aggregates_only(frame):
    summary = analysis.summary(frame, "m", "d")
    assert summary["rows"] == 6 and {"slices", "error_types", "ece", "metrics"} <= set(summary)
    dumped = json.dumps(summary)  # JSON-able, and no test sentence or aspect leaks into the committed report
    assert not any(text in dumped for text in TEST["text"]) and '"pasta"' not in dumped


def test_highlight_marks_the_aspect_or_says_it_is_missing():
    assert analysis.highlight("The <b>food</b>", "FOOD") == "The &lt;b&gt;<mark><b>food</b></mark>&lt;/b&gt;"
    assert "aspect not in text: parking" in analysis.highlight("The food", "parking")


def test_cli_arguments_are_checked():
    with pytest.raises(ValueError, match="limit must be >= 1, not 0"):
        analysis.AnalysisArguments(limit=0)
