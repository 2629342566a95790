"""Every exported model on every benchmark's test set: how far each one travels beyond the data it trained on.

    python -m absa.src.cross_benchmark [--models absa/models/general absa/models/mams ...]

Writes aggregates only (no row) to ``absa/reports/cross_benchmark.json``: per model, its weights' fingerprint, the
PN-F1, accuracy and row count on each benchmark's test set, their mean, and the number format it predicted in (bf16
where the CPU runs it natively; ``machine`` names the CPU, since bf16 scores move by a few rows between CPU
families). A reporting table: the default model is chosen on validation (see ``absa.src.promote``); this says what
the choice means for users whose feedback is about something else than restaurants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from absa.src.benchmark import machine
from absa.src.config import parse_arguments
from absa.src.data import BENCHMARKS, PACKAGE_DIR, data_dir, read_frame
from absa.src.files import write_json
from absa.src.metrics import classification_metrics
from absa.src.modeling import weights_fingerprint
from absa.src.predict import Predictor

MODELS_DIR = PACKAGE_DIR / "models"
EXPORTED = ("semeval14_restaurants", "semeval14_laptops", "mams", "twitter", "general", "fast")
REPORT = PACKAGE_DIR / "reports" / "cross_benchmark.json"


@dataclass
class CrossBenchmarkArguments:
    """Which models to score, on which benchmarks' test sets."""

    models: list[str] = field(
        default_factory=lambda: [str(MODELS_DIR / name) for name in EXPORTED],
        metadata={"help": "exported model folders (a folder without weights is skipped, with a message)"},
    )
    benchmarks: list[str] = field(default_factory=lambda: list(BENCHMARKS), metadata={"help": "test sets"})
    data_dir: str | None = field(default=None, metadata={"help": "where the benchmarks are (default: absa/data)"})
    output: str = field(default=str(REPORT), metadata={"help": "JSON report"})

    def __post_init__(self) -> None:
        unknown = sorted(set(self.benchmarks) - set(BENCHMARKS))
        if unknown or not self.benchmarks:
            raise ValueError(f"benchmarks must be among {', '.join(BENCHMARKS)}, not {self.benchmarks!r}")
        if not self.models:
            raise ValueError("models must name at least one exported model folder")


def score_model(predictor: Predictor, test_sets: dict) -> dict:
    """PN-F1, accuracy and n on each test set, plus the mean PN-F1 and accuracy over them."""
    scores = {}
    for name, frame in test_sets.items():
        predicted = predictor.predict(frame["text"].tolist(), frame["aspect"].tolist())
        metrics = classification_metrics(frame["label"].to_numpy(), predicted)
        scores[name] = {k: metrics[k] for k in ("pn_macro_f1", "accuracy", "n")}
    means = {f"mean_{k}": float(np.mean([s[k] for s in scores.values()])) for k in ("pn_macro_f1", "accuracy")}
    return {"by_benchmark": scores, **means}


def cross_benchmark(args: CrossBenchmarkArguments) -> dict:
    root = data_dir(args.data_dir)
    test_sets = {name: read_frame(root / name / "test.csv") for name in args.benchmarks}
    report = {"benchmarks": args.benchmarks, "machine": machine(), "models": {}, "skipped": {}}
    for folder in tqdm(args.models, desc="models", unit="model"):
        folder = Path(folder)
        try:
            fingerprint = weights_fingerprint(folder)
        except FileNotFoundError as err:
            report["skipped"][folder.resolve().name] = str(err).replace(str(folder), folder.name)
            print(f"skipped: {err}")
            continue
        predictor = Predictor(folder)
        scores = score_model(predictor, test_sets)
        report["models"][folder.resolve().name] = {
            "fingerprint": fingerprint,
            "precision": predictor.precision,
            **scores,
        }
    write_json(args.output, report)
    return report


def main() -> None:
    args = parse_arguments(CrossBenchmarkArguments)
    report = cross_benchmark(args)
    for name, entry in report["models"].items():
        print(f"{name:24s} mean PN-F1 {100 * entry['mean_pn_macro_f1']:.2f}")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
