import json

import pytest

from absa.src.analyze_benchmark import AnalyzeBenchmarkArguments, run


def test_the_analysis_path_is_timed_on_every_test_sentence_and_reported(tiny_tagger, tiny_e2e, tmp_path):
    from absa.src.report import analyze_speed_block

    output = tmp_path / "speed.json"
    args = AnalyzeBenchmarkArguments(
        model=str(tiny_tagger), benchmarks=["tiny"], data_dir=str(tiny_e2e), repeats=2, output=str(output)
    )
    report = run(args)
    assert json.loads(output.read_text()) == report
    assert report["sentences"] == 24 and len(report["sentences_per_second_passes"]) == 2
    assert report["aspects_found"] > 0
    assert min(report["sentences_per_second_passes"]) <= report["sentences_per_second"]
    assert report["sentences_per_second"] <= max(report["sentences_per_second_passes"])
    block = analyze_speed_block(tmp_path, name="speed.json")
    assert f"**{report['sentences_per_second']} sentences/s**" in block and "24 test sentences" in block


@pytest.mark.parametrize("name, value", [("repeats", 0), ("batch_size", -1), ("limit", 0)])
def test_bad_arguments_name_the_bad_value(name, value):
    with pytest.raises(ValueError, match=f"{name} must be at least 1, not {value}"):
        AnalyzeBenchmarkArguments(**{name: value})
