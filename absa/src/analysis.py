"""Error analysis of a model on a benchmark's test set: per-row predictions with slice flags, slice scores, error
kinds, calibration and curves (no plotting), and the aggregates the docs render.

    python -m absa.src.analysis [--model absa/models/semeval14_restaurants] [--dataset semeval14_restaurants]
        [--output absa/reports/error_analysis.json]
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

from absa.src import metrics
from absa.src.config import parse_arguments
from absa.src.data import LABELS, PACKAGE_DIR, load_benchmark
from absa.src.files import write_json
from absa.src.metrics import classification_metrics, pn_macro_f1
from absa.src.predict import Predictor

NEGATION = re.compile(r"\b(?:not|no|never|nothing|nobody|none|neither|nor|without|hardly)\b|n't\b", re.I)
CONTRAST = re.compile(r"\b(?:but|although|though|however|yet|while|whereas|despite|except)\b", re.I)
SLICE_FLAGS = ("disagreeing_aspects", "negation", "contrast", "aspect_seen_in_train")


def predictions_frame(predictor: Predictor, test: pd.DataFrame, train: pd.DataFrame) -> pd.DataFrame:
    """Test rows with gold label, prediction, class probabilities, confidence and the slice flags used below."""
    probs = predictor.predict_proba(test["text"].tolist(), test["aspect"].tolist())
    frame = test[["text", "aspect", "label"]].copy().reset_index(drop=True)
    frame["pred"] = probs.argmax(axis=1)
    for i, name in enumerate(LABELS):
        frame[f"p_{name}"] = probs[:, i]
    frame["confidence"] = probs.max(axis=1)
    frame["correct"] = frame["pred"] == frame["label"]
    polarities = frame.groupby("text")["label"].transform("nunique")
    frame["disagreeing_aspects"] = polarities > 1
    frame["negation"] = frame["text"].str.contains(NEGATION)
    frame["contrast"] = frame["text"].str.contains(CONTRAST)
    words = frame["text"].str.split().str.len()
    frame["length"] = pd.cut(words, [0, 10, 20, 30, 10_000], labels=["1-10 words", "11-20", "21-30", ">30"])
    frame["aspect_seen_in_train"] = frame["aspect"].str.lower().isin(set(train["aspect"].str.lower()))
    return frame


def slice_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows, accuracy and PN-macro-F1 (percent) on each slice and its complement."""

    def score(part: pd.DataFrame, with_f1: bool = True) -> dict:
        return {
            "rows": len(part),
            "accuracy": round(100 * part["correct"].mean(), 1) if len(part) else np.nan,
            "pn_macro_f1": round(100 * pn_macro_f1(part["label"], part["pred"]), 1)
            if len(part) and with_f1
            else np.nan,
        }

    rows = {("all", ""): score(frame)}
    for flag in SLICE_FLAGS:
        rows[(flag, "yes")] = score(frame[frame[flag]])
        rows[(flag, "no")] = score(frame[~frame[flag]])
    for bucket, part in frame.groupby("length", observed=True):
        rows[("length", str(bucket))] = score(part)
    for i, name in enumerate(LABELS):
        # within one gold class accuracy is that class's recall; an F1 over classes means nothing there
        rows[("gold label", name)] = score(frame[frame["label"] == i], with_f1=False)
    return pd.DataFrame(rows).T


ERROR_TYPES = {
    "neutral read as polar": lambda f: (f["label"] == 1) & (f["pred"] != 1),
    "polar read as neutral": lambda f: (f["label"] != 1) & (f["pred"] == 1),
    "polarity flipped": lambda f: (f["label"] != 1) & (f["pred"] != 1) & (f["label"] != f["pred"]),
}


def error_types(frame: pd.DataFrame, confident: float = 0.9) -> pd.DataFrame:
    """The errors counted by kind (the three kinds partition them) and by the slices they fall in.

    ``share of errors`` is the percentage of all errors; ``share of rows`` the percentage of all rows in the same
    group, so a slice whose error share is well above its row share is where the model is weak.
    """
    errors = ~frame["correct"]
    n_errors = max(int(errors.sum()), 1)
    groups = {kind: rule(frame) for kind, rule in ERROR_TYPES.items()}
    groups |= {
        "in a sentence whose aspects disagree": frame["disagreeing_aspects"],
        "with a contrast word": frame["contrast"],
        "with a negation": frame["negation"],
        "aspect unseen in training": ~frame["aspect_seen_in_train"],
        f"confidence >= {confident:g}": frame["confidence"] >= confident,
    }
    rows = {
        name: {
            "errors": int((errors & mask).sum()),
            "share of errors": round(100 * (errors & mask).sum() / n_errors, 1),
            "share of rows": round(100 * mask.mean(), 1),
        }
        for name, mask in groups.items()
    }
    return pd.DataFrame(rows).T


def summary(frame: pd.DataFrame, model: str, dataset: str) -> dict:
    """Aggregates only (no row of the test set), for ``absa/reports/error_analysis.json`` and the docs."""
    table, ece = reliability(frame)
    slices = slice_scores(frame)
    return {
        "model": model,
        "dataset": dataset,
        "rows": len(frame),
        "metrics": classification_metrics(frame["label"], frame["pred"]),
        "ece": round(ece, 2),
        "slices": [
            {"slice": name, "value": value, **{k: (None if pd.isna(v) else float(v)) for k, v in row.items()}}
            for (name, value), row in slices.iterrows()
        ],
        "error_types": [
            {"type": name, **{k: float(v) for k, v in row.items()}} for name, row in error_types(frame).iterrows()
        ],
    }


def reliability(frame: pd.DataFrame, bins: int = 10) -> tuple[pd.DataFrame, float]:
    """Confidence bins with their mean confidence and accuracy, and the expected calibration error (percent)."""
    return metrics.reliability(frame["confidence"], frame["correct"], bins)


def curves(frame: pd.DataFrame) -> dict[str, dict]:
    """One-vs-rest ROC and precision-recall curves per class, with ROC-AUC and average precision."""
    result = {}
    for i, name in enumerate(LABELS):
        truth, score = (frame["label"] == i).to_numpy(), frame[f"p_{name}"].to_numpy()
        fpr, tpr, _ = roc_curve(truth, score)
        precision, recall, _ = precision_recall_curve(truth, score)
        result[name] = {
            "fpr": fpr,
            "tpr": tpr,
            "roc_auc": auc(fpr, tpr),
            "precision": precision,
            "recall": recall,
            "average_precision": average_precision_score(truth, score),
        }
    return result


def confident_errors(frame: pd.DataFrame, n: int = 15) -> pd.DataFrame:
    """The n wrong predictions the model was surest of."""
    errors = frame[~frame["correct"]].nlargest(n, "confidence")
    return errors.assign(
        gold=errors["label"].map(dict(enumerate(LABELS))), predicted=errors["pred"].map(dict(enumerate(LABELS)))
    )


def highlight(text: str, aspect: str) -> str:
    """HTML of the text with the first occurrence of the aspect marked."""
    start = text.lower().find(aspect.lower())
    if start < 0:
        return html.escape(text) + f" <i>[aspect not in text: {html.escape(aspect)}]</i>"
    end = start + len(aspect)
    return (
        html.escape(text[:start]) + "<mark><b>" + html.escape(text[start:end]) + "</b></mark>" + html.escape(text[end:])
    )


@dataclass
class AnalysisArguments:
    """Which model to analyse on which benchmark's test set, and where the aggregates go."""

    model: str = field(
        default=str(PACKAGE_DIR / "models" / "semeval14_restaurants"), metadata={"help": "exported model folder"}
    )
    dataset: str = field(default="semeval14_restaurants", metadata={"help": "benchmark whose test set is analysed"})
    data_dir: str | None = field(default=None, metadata={"help": "default $ABSA_DATA_DIR or absa/data"})
    limit: int | None = field(default=None, metadata={"help": "only the first N test rows (smoke runs)"})
    output: str = field(
        default=str(PACKAGE_DIR / "reports" / "error_analysis.json"),
        metadata={"help": "aggregates only (no row of the test set)"},
    )

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be >= 1, not {self.limit!r}")


def run(args: AnalysisArguments) -> dict:
    """Predict the test set, write the aggregates to ``args.output`` and return them."""
    splits = load_benchmark(args.dataset, args.data_dir)
    test = splits["test"].to_pandas()
    test = test.head(args.limit) if args.limit else test
    frame = predictions_frame(Predictor(args.model), test, splits["train"].to_pandas())
    result = summary(frame, Path(args.model).resolve().name, args.dataset)
    write_json(args.output, result)
    return result


def main() -> None:
    args = parse_arguments(AnalysisArguments)
    result = run(args)
    metrics = result["metrics"]
    print(
        f"{result['model']} on {result['dataset']} test ({result['rows']} rows): accuracy "
        f"{100 * metrics['accuracy']:.2f}, PN-macro-F1 {100 * metrics['pn_macro_f1']:.2f}, ECE {result['ece']:.1f}%"
    )
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
