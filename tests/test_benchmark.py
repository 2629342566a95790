import json

import pytest

from absa.src.benchmark import BenchmarkArguments, run


def test_benchmark_smoke_writes_a_complete_report(tiny_model, synthetic_dataset, tmp_path):
    folder, _ = tiny_model
    output = tmp_path / "benchmark.json"
    args = BenchmarkArguments(model=str(folder), datasets=[synthetic_dataset.name],
                              data_dir=str(synthetic_dataset.parent), limit=30, quantize="no",
                              output=str(output))
    report = run(args)
    assert json.loads(output.read_text()) == report
    assert report["n"] == 30
    assert report["speedup"] == pytest.approx(report["baseline_seconds"] / report["optimized_seconds"], rel=0.05)
    # Without quantization the improved pipeline computes the same function: only padding and order differ.
    assert report["agreement"] == 1.0
    assert report["pn_macro_f1_difference"] == 0.0
