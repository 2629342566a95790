"""Classification metrics for ABSA (pure functions, no torch).

The headline is PN-macro-F1: macro-F1 over Negative and Positive computed on all rows, so a Neutral
prediction for a Positive row still counts against Positive.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from absa.src.data import LABELS, NEGATIVE, POSITIVE


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
