import json

import pytest

from absa.src.extract import ExtractConfig, train_extractor


@pytest.mark.parametrize("scheme, regime", [("unified", "full"), ("extraction", "lora")])
def test_a_tagger_trains_chooses_its_epoch_on_validation_and_exports(tiny_e2e, tmp_path, scheme, regime):
    config = ExtractConfig(
        benchmark="tiny",
        data_dir=str(tiny_e2e),
        scheme=scheme,
        backbone="minilm",
        regime=regime,
        epochs=2,
        batch_size=8,
        learning_rate=1e-3,
        bf16="no",
        output_dir=str(tmp_path / "m"),
    )
    record = train_extractor(config)
    metric = "e2e_f1" if scheme == "unified" else "extraction_f1"
    assert len(record.validation_history) == 2
    assert record.best_epoch == max(record.validation_history, key=lambda row: row[metric])["epoch"]
    for split in (record.validation, record.test):
        assert split["extraction"]["gold"] == 24 and set(split) == {"extraction", "e2e", "pn"}
    saved = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert saved["test"] == record.test and saved["config"]["scheme"] == scheme
    assert json.loads((tmp_path / "m" / "absa_config.json").read_text())["task"] == "extract"
    assert not (tmp_path / "m" / "checkpoints").exists()
    card = (tmp_path / "m" / "README.md").read_text()
    assert "Aspect tagger" in card and f"{100 * record.test['e2e']['f1']:.2f}" in card


def test_extract_config_is_checked():
    with pytest.raises(ValueError, match="epochs must be >= 1, not 0"):
        ExtractConfig(epochs=0)


def test_a_tagger_trains_on_several_benchmarks_and_reports_each_test_set(tiny_e2e, tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(tiny_e2e, data)
    shutil.copytree(data / "e2e" / "tiny", data / "e2e" / "other")
    config = ExtractConfig(
        benchmark="tiny+other",
        data_dir=str(data),
        epochs=1,
        max_steps=2,
        batch_size=8,
        bf16="no",
        output_dir=str(tmp_path / "m"),
    )
    record = train_extractor(config)
    assert record.data["train"] == "e2e/tiny/train.jsonl + e2e/other/train.jsonl" and record.data["n_train"] == 48
    assert record.test["e2e"]["gold"] == 48 and set(record.test["by_benchmark"]) == {"tiny", "other"}
    for scores in record.test["by_benchmark"].values():
        assert scores["e2e"]["gold"] == 24
    # the same sentences in both: each benchmark's own scores are the combined ones, counted once
    assert record.test["by_benchmark"]["tiny"]["e2e"]["f1"] == pytest.approx(record.test["e2e"]["f1"])
