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
    assert report["precision"] in ("tagger bf16", "tagger fp32") and report["precision"] in block


def test_the_reported_precision_is_the_one_the_passes_ran_in(tiny_tagger):
    from absa.src.analyze_benchmark import precision
    from absa.src.extractor import Extractor

    assert precision(Extractor(tiny_tagger, bf16="no")) == "tagger fp32"
    assert precision(Extractor(tiny_tagger, bf16="yes")) == "tagger bf16"


@pytest.mark.parametrize("name, value", [("repeats", 0), ("batch_size", -1), ("limit", 0)])
def test_bad_arguments_name_the_bad_value(name, value):
    with pytest.raises(ValueError, match=f"{name} must be at least 1, not {value}"):
        AnalyzeBenchmarkArguments(**{name: value})


def test_each_measured_tagger_gets_its_own_line_the_default_first(tmp_path):
    from absa.src.report import analyze_speed_block

    def measured(model, rate):
        machine = {"threads": 2, "cpu_capability": "AVX2"}
        return {
            "model": model,
            "benchmarks": ["rest14"],
            "sentences": 800,
            "aspects_found": 900,
            "sentences_per_second": rate,
            "sentences_per_second_passes": [rate],
            "machine": machine,
        }

    (tmp_path / "speed_unified.json").write_text(json.dumps(measured("e2e_unified", 200.0)))
    (tmp_path / "speed.json").write_text(json.dumps(measured("e2e", 40.5)))
    (tmp_path / "speedy.json").write_text(json.dumps(measured("other", 1.0)))  # not a variant of speed.json
    lines = analyze_speed_block(tmp_path, name="speed.json").split("\n\n")
    assert ["`e2e`" in lines[0], "`e2e_unified`" in lines[1], len(lines)] == [True, True, 2]
    assert "**40.5 sentences/s**" in lines[0] and "**200.0 sentences/s**" in lines[1]
    assert analyze_speed_block(tmp_path / "nothing").startswith("_Not measured yet")
