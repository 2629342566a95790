import json

import pytest

from absa.src.benchmark import BenchmarkArguments, run
from absa.src.report import speed_table


def test_benchmark_smoke_writes_a_complete_report(tiny_model, synthetic_dataset, tmp_path):
    folder, _ = tiny_model
    output = tmp_path / "benchmark.json"
    args = BenchmarkArguments(
        model=str(folder),
        datasets=[synthetic_dataset.name],
        data_dir=str(synthetic_dataset.parent),
        limit=30,
        quantize="no",
        output=str(output),
    )
    report = run(args)
    assert json.loads(output.read_text()) == report
    assert report["n"] == 30
    passes = report["optimized_rows_per_second_passes"]
    assert len(passes) == 3 and report["optimized_rows_per_second"] == pytest.approx(sorted(passes)[1], rel=0.01)
    # Without quantization the improved pipeline computes the same function: only padding and order differ.
    assert report["agreement"] == 1.0
    assert report["pn_macro_f1_difference"] == 0.0
    # the report says how the improved pipeline batched: packed rows now, padded batches in runs made before packing
    assert report["optimized_pipeline"]["packing"] is True
    assert "packed rows, passes of 64 pairs" in speed_table(tmp_path)
    del report["optimized_pipeline"]["packing"]
    output.write_text(json.dumps(report))
    assert "length-sorted batches of 64" in speed_table(tmp_path)


def test_benchmark_arguments_are_checked(tiny_model, synthetic_dataset, tmp_path):
    common = dict(
        model=str(tiny_model[0]),
        datasets=[synthetic_dataset.name],
        data_dir=str(synthetic_dataset.parent),
        output=str(tmp_path / "benchmark.json"),
    )
    for bad, message in [
        ({"repeats": 0}, "repeats must be at least 1, not 0"),
        ({"limit": 0}, "limit must be at least 1, not 0"),
        ({"limit": -5}, "limit must be at least 1, not -5"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
    ]:
        with pytest.raises(ValueError, match=message):
            BenchmarkArguments(**common, **bad)
    assert not (tmp_path / "benchmark.json").exists()
