import pytest

from absa.src.metrics import classification_metrics, format_report, pn_macro_f1

# Hand-computed: negative P=1/2 R=1/2 F1=1/2; positive P=1 R=2/3 F1=4/5; neutral P=1/2 R=1 F1=2/3.
Y_TRUE = [0, 0, 1, 2, 2, 2]
Y_PRED = [0, 1, 1, 2, 2, 0]


def test_pn_macro_f1_hand_computed():
    assert pn_macro_f1(Y_TRUE, Y_PRED) == pytest.approx((0.5 + 0.8) / 2)


def test_neutral_prediction_counts_against_positive():
    # Only the Neutral prediction differs; Positive recall drops, so the headline must drop too.
    perfect = pn_macro_f1([0, 2, 2], [0, 2, 2])
    with_neutral = pn_macro_f1([0, 2, 2], [0, 2, 1])
    assert perfect == pytest.approx(1.0)
    assert with_neutral == pytest.approx((1.0 + 2 / 3) / 2)


def test_classification_metrics_hand_computed():
    m = classification_metrics(Y_TRUE, Y_PRED)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)
    assert m["per_class"]["positive"] == pytest.approx({"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3})
    assert m["per_class"]["neutral"]["precision"] == pytest.approx(0.5)
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert m["n"] == 6


def test_report_puts_headline_first():
    report = format_report(classification_metrics(Y_TRUE, Y_PRED))
    assert report.splitlines()[0].startswith("PN-macro-F1")
    assert "65.00" in report.splitlines()[0]


def test_span_metrics_on_a_hand_counted_example():
    from absa.src.metrics import span_metrics

    gold = [[(4, 8, 2), (20, 27, 0)], [], [(0, 5, 1)]]
    predicted = [
        [(4, 8, 2), (20, 27, 2)],  # right span and label; right span, wrong polarity
        [(3, 9, 0)],  # a spurious aspect in a sentence with none
        [(0, 4, 1)],  # a boundary error on a neutral aspect
    ]
    scores = span_metrics(gold, predicted)
    # spans: 2 right of 4 predicted and 3 gold
    assert scores["extraction"]["precision"] == pytest.approx(2 / 4)
    assert scores["extraction"]["recall"] == pytest.approx(2 / 3)
    assert scores["extraction"]["f1"] == pytest.approx(2 * (1 / 2) * (2 / 3) / (1 / 2 + 2 / 3))
    # span and polarity: 1 right
    assert (scores["e2e"]["true_positives"], scores["e2e"]["predicted"], scores["e2e"]["gold"]) == (1, 4, 3)
    assert scores["e2e"]["f1"] == pytest.approx(2 * (1 / 4) * (1 / 3) / (1 / 4 + 1 / 3))
    # Negative and Positive only: gold (4,8,+) (20,27,-); predicted (4,8,+) (20,27,+) (3,9,-)
    assert (scores["pn"]["true_positives"], scores["pn"]["predicted"], scores["pn"]["gold"]) == (1, 3, 2)
    assert span_metrics([[]], [[]])["e2e"]["f1"] == 0.0  # nothing to find, nothing found: no division by zero
    with pytest.raises(ValueError, match="2 gold sentences but 1 predicted"):
        span_metrics([[], []], [[]])
