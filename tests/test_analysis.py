import json

import numpy as np
import pandas as pd
import pytest

from absa.src import analysis


def _frame() -> pd.DataFrame:
    """Six hand-made predictions: two neutral->positive, one positive->neutral, one negative->positive, two right."""
    frame = pd.DataFrame({
        "text": ["a menu of fries", "a menu of fries", "great food but slow service", "great food but slow service",
                 "not bad pasta", "nice view"],
        "aspect": ["menu", "fries", "food", "service", "pasta", "view"],
        "label": [1, 1, 2, 0, 2, 2], "pred": [2, 2, 1, 2, 2, 2],
        "confidence": [0.95, 0.6, 0.7, 0.99, 0.9, 0.8],
    })
    frame["correct"] = frame["label"] == frame["pred"]
    frame["disagreeing_aspects"] = frame.groupby("text")["label"].transform("nunique") > 1
    frame["negation"] = frame["text"].str.contains(analysis.NEGATION)
    frame["contrast"] = frame["text"].str.contains(analysis.CONTRAST)
    frame["aspect_seen_in_train"] = frame["aspect"].isin(["food", "service", "pasta"])
    return frame


def test_error_kinds_partition_the_errors():
    kinds = analysis.error_types(_frame())
    three = kinds.loc[list(analysis.ERROR_TYPES), "errors"]
    assert three.tolist() == [2, 1, 1] and three.sum() == (~_frame()["correct"]).sum()
    assert kinds.loc["in a sentence whose aspects disagree", "errors"] == 2
    assert kinds.loc["with a contrast word", "share of rows"] == pytest.approx(100 * 2 / 6, abs=0.1)
    assert kinds.loc["confidence >= 0.9", "errors"] == 2  # 0.95 and 0.99 were wrong; 0.9 was right


def test_slices_per_gold_class_report_recall_not_f1():
    slices = analysis.slice_scores(_frame().assign(length="1-10 words"))
    assert slices.loc[("gold label", "neutral"), "accuracy"] == 0.0
    assert np.isnan(slices.loc[("gold label", "positive"), "pn_macro_f1"])
    assert slices.loc[("negation", "yes"), "rows"] == 1


def test_summary_holds_aggregates_only():
    summary = analysis.summary(_frame().assign(length="1-10 words", p_negative=0.0, p_neutral=0.0, p_positive=1.0),
                               "m", "d")
    assert summary["rows"] == 6 and {"slices", "error_types", "ece", "metrics"} <= set(summary)
    dumped = json.dumps(summary)  # JSON-able, and no test sentence or aspect leaks into the committed report
    assert not any(text in dumped for text in _frame()["text"]) and '"pasta"' not in dumped
