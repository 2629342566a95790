"""Classification metrics for ABSA (pure functions, no torch).

The headline is PN-macro-F1: macro-F1 over Negative and Positive computed on all rows, so a Neutral
prediction for a Positive row still counts against Positive.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from absa.src.data import LABELS, NEGATIVE, NEUTRAL, POSITIVE


def pn_macro_f1(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Macro-F1 over the Negative and Positive labels, on all rows."""
    return float(f1_score(y_true, y_pred, labels=[NEGATIVE, POSITIVE], average="macro", zero_division=0))


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int]) -> dict:
    """PN-macro-F1, accuracy, 3-class macro-F1, per-class precision/recall/F1/support and the confusion matrix."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = list(range(len(LABELS)))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "pn_macro_f1": pn_macro_f1(y_true, y_pred),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(LABELS)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "n": int(len(y_true)),
    }


def format_report(metrics: dict) -> str:
    """A plain-text report of ``classification_metrics`` output, headline first."""
    lines = [
        f"PN-macro-F1 (negative+positive): {100 * metrics['pn_macro_f1']:.2f}",
        f"accuracy:                        {100 * metrics['accuracy']:.2f}",
        f"macro-F1 (3 classes):            {100 * metrics['macro_f1']:.2f}",
        f"rows:                            {metrics['n']}",
        "",
        f"{'class':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}",
    ]
    for name, row in metrics["per_class"].items():
        lines.append(
            f"{name:<10}{100 * row['precision']:>10.2f}{100 * row['recall']:>10.2f}"
            f"{100 * row['f1']:>10.2f}{row['support']:>10d}"
        )
    lines += ["", "confusion matrix (rows = gold, columns = predicted; " + "/".join(LABELS) + ")"]
    lines += ["  " + " ".join(f"{v:>6d}" for v in row) for row in metrics["confusion_matrix"]]
    return "\n".join(lines)


def reliability(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> tuple[pd.DataFrame, float]:
    """Confidence bins (equal width from 1/3, the least a 3-class argmax can have, to 1) with their rows, mean
    confidence and accuracy, and the expected calibration error in percent: the rows-weighted mean gap between a
    bin's confidence and its accuracy (Guo et al., 2017)."""
    frame = pd.DataFrame({"confidence": np.asarray(confidence, dtype=float), "correct": np.asarray(correct)})
    edges = np.linspace(1 / len(LABELS), 1.0, bins + 1)
    binned = pd.cut(frame["confidence"], edges, include_lowest=True)
    table = frame.groupby(binned, observed=True).agg(
        rows=("correct", "size"), confidence=("confidence", "mean"), accuracy=("correct", "mean")
    )
    ece = float((table["rows"] * (table["confidence"] - table["accuracy"]).abs()).sum() / len(frame))
    return table, 100 * ece


def _precision_recall_f1(true_positives: int, predicted: int, gold: int) -> dict:
    precision = true_positives / predicted if predicted else 0.0
    recall = true_positives / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_positives": true_positives,
        "predicted": predicted,
        "gold": gold,
    }


def span_metrics(gold: Sequence[Sequence[tuple]], predicted: Sequence[Sequence[tuple]]) -> dict:
    """End-to-end ABSA scores, micro-averaged over sentences. Each sentence is a list of (start, end, label)
    aspects. ``extraction``: exact spans, whatever the label; ``e2e``: exact span and label (the benchmark's
    metric); ``pn``: the same counting only Negative and Positive aspects, gold and predicted."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted")
    counts = {name: [0, 0, 0] for name in ("extraction", "e2e", "pn")}  # true positives, predicted, gold
    for gold_aspects, predicted_aspects in zip(gold, predicted):
        views = {
            "extraction": ({(s, e) for s, e, _ in gold_aspects}, {(s, e) for s, e, _ in predicted_aspects}),
            "e2e": (set(map(tuple, gold_aspects)), set(map(tuple, predicted_aspects))),
            "pn": (
                {tuple(a) for a in gold_aspects if a[2] != NEUTRAL},
                {tuple(a) for a in predicted_aspects if a[2] != NEUTRAL},
            ),
        }
        for name, (gold_set, predicted_set) in views.items():
            counts[name][0] += len(gold_set & predicted_set)
            counts[name][1] += len(predicted_set)
            counts[name][2] += len(gold_set)
    return {name: _precision_recall_f1(*values) for name, values in counts.items()}
