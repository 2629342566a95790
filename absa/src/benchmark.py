"""Prediction speed: the naive baseline against the pipeline ``Predictor`` uses, on >10k real rows.

    python -m absa.src.benchmark [--model DIR] [--limit N]

Baseline: a plain loop in input order, fixed batches of 32 padded to their longest row, fp32, LoRA merged.
Improved: ``Predictor`` as evaluation.py and the app use it (rows tokenized once and sorted by length so batches
carry little padding, bf16 where the hardware runs it natively); ``--quantize yes`` adds int8 dynamic quantization
of the linear layers, which is off by default because it cost the default model more than 0.3 PN-macro-F1.
The improved pipeline is timed ``--repeats`` times (3 by default; on a shared 2-core machine one pass varies by
~10%) and reported by its median pass; every pass's rows/s is kept. The baseline is timed once.
Writes ``absa/reports/benchmark.json``: n, seconds, rows/s, speed-up, and how far the two pipelines' predictions
and PN-macro-F1 (against the gold labels) differ.
"""

from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from absa.src.config import parse_arguments
from absa.src.data import BENCHMARKS, PACKAGE_DIR, data_dir, read_frame
from absa.src.files import write_json
from absa.src.metrics import pn_macro_f1
from absa.src.modeling import encode_pairs, load_model_folder
from absa.src.predict import Predictor


@dataclass
class BenchmarkArguments:
    """Which model to time on which rows, and how."""

    model: str = field(default=str(PACKAGE_DIR / "models" / "default"), metadata={"help": "exported model folder"})
    datasets: list[str] = field(
        default_factory=lambda: list(BENCHMARKS), metadata={"help": "benchmarks whose train.csv rows are predicted"}
    )
    data_dir: str | None = field(default=None, metadata={"help": "default $ABSA_DATA_DIR or absa/data"})
    limit: int | None = field(default=None, metadata={"help": "only the first N rows (smoke runs)"})
    baseline_batch_size: int = field(default=32, metadata={"help": "rows per batch of the baseline"})
    batch_size: int = field(default=64, metadata={"help": "rows per batch of the improved pipeline"})
    packing: bool = field(
        default=True, metadata={"help": "pack short pairs into shared rows (as Predictor); false: padded batches"}
    )
    quantize: Literal["no", "auto", "yes"] = field(
        default="no", metadata={"help": "int8 dynamic quantization: no (as Predictor) | auto | yes"}
    )
    repeats: int = field(default=3, metadata={"help": "timed passes of the improved pipeline; the median is reported"})
    output: str = field(default=str(PACKAGE_DIR / "reports" / "benchmark.json"), metadata={"help": "JSON report"})

    def __post_init__(self) -> None:
        for name in ("limit", "baseline_batch_size", "batch_size", "repeats"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, not {value!r}")


def load_rows(datasets: list[str], root: str | None, limit: int | None) -> pd.DataFrame:
    frames = [read_frame(data_dir(root) / name / "train.csv") for name in datasets]
    frame = pd.concat(frames, ignore_index=True)
    return frame.head(limit) if limit else frame


@torch.inference_mode()
def naive_predict(model_dir: str, texts: list[str], aspects: list[str], batch_size: int = 32) -> np.ndarray:
    """The baseline: input order, fixed batches padded to their longest row, fp32."""
    model, tokenizer, config = load_model_folder(model_dir)
    labels = []
    for start in tqdm(range(0, len(texts), batch_size), desc="baseline", unit="batch"):
        batch = encode_pairs(
            tokenizer,
            texts[start : start + batch_size],
            aspects[start : start + batch_size],
            config["max_length"],
            config.get("input_format", "pair"),
            padding=True,
            return_tensors="pt",
        )
        labels.append(model(**batch).logits.argmax(-1).numpy())
    return np.concatenate(labels)


def machine() -> dict:
    """What a speed measurement ran on: CPU, torch threads, the CPU's instruction set as torch sees it, versions."""
    return {
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
    }


def timed(function, *args, **kwargs) -> tuple[object, float]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def run(args: BenchmarkArguments) -> dict:
    frame = load_rows(args.datasets, args.data_dir, args.limit)
    texts, aspects, gold = frame["text"].tolist(), frame["aspect"].tolist(), frame["label"].to_numpy()

    baseline, baseline_seconds = timed(naive_predict, args.model, texts, aspects, args.baseline_batch_size)
    predictor, load_seconds = timed(
        Predictor, args.model, batch_size=args.batch_size, quantize=args.quantize, packing=args.packing
    )
    passes = [timed(predictor.predict, texts, aspects, True) for _ in range(args.repeats)]
    improved = passes[0][0]
    if any((labels != improved).any() for labels, _ in passes[1:]):
        raise RuntimeError("the improved pipeline predicted differently on a repeated pass")
    pass_seconds = [seconds for _, seconds in passes]
    optimized_seconds = float(np.median(pass_seconds))

    n = len(frame)
    report = {
        "n": n,
        "datasets": args.datasets,
        "model": Path(args.model).resolve().name,
        "baseline_seconds": round(baseline_seconds, 4),
        "optimized_seconds": round(optimized_seconds, 4),
        "speedup": round(baseline_seconds / optimized_seconds, 2),
        "baseline_rows_per_second": round(n / baseline_seconds, 1),
        "optimized_rows_per_second": round(n / optimized_seconds, 1),
        "optimized_rows_per_second_passes": [round(n / seconds, 1) for seconds in pass_seconds],
        "agreement": round(float((baseline == improved).mean()), 5),
        "baseline_pn_macro_f1": round(pn_macro_f1(gold, baseline), 5),
        "optimized_pn_macro_f1": round(pn_macro_f1(gold, improved), 5),
        "pn_macro_f1_difference": round(pn_macro_f1(gold, improved) - pn_macro_f1(gold, baseline), 5),
        "optimized_pipeline": {
            "length_sorted": True,
            "batch_size": args.batch_size,
            "packing": predictor.packing,
            "bf16": predictor.bf16,
            "int8": predictor.quantized,
            "load_seconds": round(load_seconds, 2),
        },
        "baseline_pipeline": {"order": "input", "batch_size": args.baseline_batch_size, "dtype": "fp32"},
        "machine": machine(),
        "arguments": asdict(args),
    }
    write_json(args.output, report)
    return report


def main() -> None:
    args = parse_arguments(BenchmarkArguments)
    report = run(args)
    print(
        f"{report['n']} rows: baseline {report['baseline_seconds']} s ({report['baseline_rows_per_second']} rows/s), "
        f"improved {report['optimized_seconds']} s ({report['optimized_rows_per_second']} rows/s, median of "
        f"{args.repeats}: {report['optimized_rows_per_second_passes']}): "
        f"{report['speedup']}x; agreement {100 * report['agreement']:.2f}%, "
        f"PN-macro-F1 difference {100 * report['pn_macro_f1_difference']:+.2f} points"
    )
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
