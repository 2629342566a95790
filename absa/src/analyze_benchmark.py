"""Speed of the analysis path: raw sentences in, aspects with their sentiment out (``Extractor.extract``, what
``analyze`` and ``/api/analyze`` run), on the end-to-end test sentences.

    python -m absa.src.analyze_benchmark [--model absa/models/e2e] [--benchmarks rest14 laptop14] [--repeats 3]

Each pass analyses every sentence once; the median pass is reported (on a shared 2-core machine one pass varies),
with every pass kept. Writes ``absa/reports/benchmark_analyze.json``: sentences, aspects found, seconds and
sentences per second, the machine and the number formats used (bf16 where the CPU has native bf16).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from absa.src.benchmark import machine
from absa.src.config import parse_arguments
from absa.src.data import E2E_BENCHMARKS, PACKAGE_DIR, load_e2e
from absa.src.extractor import DEFAULT_EXTRACTOR, Extractor
from absa.src.files import write_json


@dataclass
class AnalyzeBenchmarkArguments:
    """Which tagger to time on which sentences."""

    model: str = field(default=str(DEFAULT_EXTRACTOR), metadata={"help": "exported tagger folder"})
    benchmarks: list[str] = field(
        default_factory=lambda: list(E2E_BENCHMARKS), metadata={"help": "end-to-end sets whose test sentences are read"}
    )
    data_dir: str | None = field(default=None, metadata={"help": "default $ABSA_DATA_DIR or absa/data"})
    batch_size: int = field(default=32, metadata={"help": "sentences per forward pass (analyze's default)"})
    repeats: int = field(default=3, metadata={"help": "timed passes; the median is reported"})
    limit: int | None = field(default=None, metadata={"help": "only the first N sentences (smoke runs)"})
    output: str = field(
        default=str(PACKAGE_DIR / "reports" / "benchmark_analyze.json"), metadata={"help": "JSON report"}
    )

    def __post_init__(self) -> None:
        for name in ("batch_size", "repeats", "limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, not {value!r}")


def precision(extractor: Extractor) -> str:
    """The number formats the timed passes ran in, which set the speed as much as the CPU does: the tagger's, then a
    pipeline's classifier's (``Predictor.precision``)."""
    tagger = f"tagger {'bf16' if extractor.bf16 else 'fp32'}"
    return tagger if extractor.classifier is None else f"{tagger}, classifier {extractor.classifier.precision}"


def run(args: AnalyzeBenchmarkArguments) -> dict:
    texts = [s["text"] for name in args.benchmarks for s in load_e2e(name, args.data_dir)["test"]]
    texts = texts[: args.limit] if args.limit else texts
    extractor = Extractor(args.model, batch_size=args.batch_size)
    extractor.extract(texts[:32])  # warm-up
    seconds, found = [], None
    for _ in range(args.repeats):
        start = time.perf_counter()
        found = extractor.extract(texts)
        seconds.append(time.perf_counter() - start)
    median = float(np.median(seconds))
    report = {
        "model": Path(args.model).resolve().name,
        "benchmarks": args.benchmarks,
        "sentences": len(texts),
        "aspects_found": sum(len(aspects) for aspects in found),
        "seconds": round(median, 3),
        "sentences_per_second": round(len(texts) / median, 1),
        "sentences_per_second_passes": [round(len(texts) / s, 1) for s in seconds],
        "machine": machine(),
        "precision": precision(extractor),
        "arguments": asdict(args),
    }
    write_json(args.output, report)
    return report


def main() -> None:
    report = run(parse_arguments(AnalyzeBenchmarkArguments))
    print(
        f"{report['sentences']} sentences in {report['seconds']} s: {report['sentences_per_second']} sentences/s "
        f"({report['aspects_found']} aspects found)"
    )


if __name__ == "__main__":
    main()
