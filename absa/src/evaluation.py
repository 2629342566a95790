"""Predict the sentiment of every (text, aspect) row of a CSV; score it when gold labels are present.

    python absa/src/evaluation.py [--model DIR] [--test CSV] [--output CSV] [--batch-size N] [--probabilities]

Writes ``text,aspect,label`` (predicted 0/1/2) in input order, atomically. With a ``label`` column in the input
it prints PN-macro-F1 first, then the full report, and writes the metrics as JSON beside the results
(``<output>.metrics.json``). Bad input exits with status 2, a message naming the problem, and no output file.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from absa.src.config import parse_arguments
from absa.src.data import LABELS, PACKAGE_DIR, DataValidationError, read_frame
from absa.src.files import write_atomically, write_json
from absa.src.metrics import classification_metrics, format_report
from absa.src.predict import Predictor, find_aspect


@dataclass
class EvaluationArguments:
    """Which model predicts which file, and where the predictions go."""

    model: str = field(default=str(PACKAGE_DIR / "models" / "default"), metadata={"help": "exported model folder"})
    test: str = field(default=str(PACKAGE_DIR / "data" / "test.csv"), metadata={"help": "CSV with text,aspect[,label]"})
    output: str = field(
        default=str(PACKAGE_DIR / "data" / "results" / "test.csv"),
        metadata={"help": "where the predictions go; metrics JSON is written beside it"},
    )
    batch_size: int = field(default=64, metadata={"help": "rows per forward pass"})
    bf16: Literal["auto", "yes", "no"] = field(
        default="auto", metadata={"help": "bf16 weights: auto (where native) | yes | no"}
    )
    quantize: Literal["no", "auto", "yes"] = field(
        default="no", metadata={"help": "int8 dynamic quantization on CPU: auto | yes | no"}
    )

    probabilities: bool = field(
        default=False,
        metadata={"help": "also write p_negative,p_neutral,p_positive (calibrated, where the model folder is)"},
    )

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"--batch-size must be at least 1, not {self.batch_size}")


def metrics_path(output: Path) -> Path:
    return output.with_name(output.stem + ".metrics.json")


def check_output(output: Path) -> None:
    """Refuse, before any work, an output path that cannot be written as a file."""
    if output.is_dir():
        raise ValueError(f"--output {output} is a directory; give a file name, e.g. {output / 'predictions.csv'}")
    for parent in output.parents:
        if parent.exists() and not parent.is_dir():
            raise ValueError(f"--output {output}: {parent} is a file, not a directory")


def load_predictor(args: EvaluationArguments) -> Predictor:
    """The model folder's Predictor; a folder that cannot be loaded is an input error naming it."""
    model_dir = Path(args.model)
    if not model_dir.is_dir():
        raise FileNotFoundError(f"{model_dir}: no such model folder")
    try:
        return Predictor(model_dir, batch_size=args.batch_size, bf16=args.bf16, quantize=args.quantize)
    except (FileNotFoundError, ValueError):
        raise
    except Exception as err:  # a damaged weight file, a config without a field, ...
        raise ValueError(f"{model_dir}: cannot load the model folder ({type(err).__name__}: {err})") from None


def evaluate(args: EvaluationArguments) -> dict | None:
    """Run the evaluation; returns the metrics (None without gold labels). Raises on bad input."""
    output = Path(args.output)
    check_output(output)
    frame = read_frame(args.test, require_labels=False)
    predictor = load_predictor(args)

    start = time.time()
    starts = frame["start"].tolist() if "start" in frame.columns else None
    probs = predictor.predict_proba(frame["text"].tolist(), frame["aspect"].tolist(), progress=True, starts=starts)
    predictions = probs.argmax(axis=1)
    seconds = time.time() - start

    results = pd.DataFrame({"text": frame["text"], "aspect": frame["aspect"], "label": predictions})
    if args.probabilities:
        for i, name in enumerate(LABELS):
            results[f"p_{name}"] = probs[:, i].round(6)
    write_atomically(output, lambda tmp: results.to_csv(tmp, index=False))
    print(f"wrote {len(results)} predictions to {output} ({len(results) / seconds:.0f} rows/s)")
    absent = sum(find_aspect(text, aspect) is None for text, aspect in zip(frame["text"], frame["aspect"]))
    if absent:
        print(f"{absent} row(s) name an aspect that does not occur in their text: their sentiment is a guess")
    if "label" not in frame.columns:
        metrics_path(output).unlink(missing_ok=True)  # a labelled run's scores would not describe these results
        return None

    metrics = classification_metrics(frame["label"].to_numpy(), predictions)
    metrics.update(
        model=str(Path(args.model).resolve()),
        test=str(Path(args.test).resolve()),
        # bf16 kernels differ between CPUs and move scores by a few tenths; fp32 ones by rounding only
        precision=predictor.precision,
        predict_seconds=round(seconds, 2),
        rows_per_second=round(len(results) / seconds, 1),
    )
    write_json(metrics_path(output), metrics)
    print(format_report(metrics))
    print(f"metrics written to {metrics_path(output)}")
    return metrics


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(EvaluationArguments, argv)
    try:
        evaluate(args)
    except (DataValidationError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
