import json

import pytest

from absa.src.extract import ExtractConfig, train_extractor


@pytest.fixture(scope="module")
def tiny_e2e(tmp_path_factory):
    """A data directory with e2e/tiny: sentences with one, two or no aspects, the same in every split."""
    rows = []
    for food, service in [("pasta", "staff"), ("wine", "waiter"), ("pizza", "service"), ("soup", "host")]:
        text = f"The {food} was great but the {service} was rude."
        rows.append(
            {
                "text": text,
                "aspects": [
                    {"term": food, "start": 4, "end": 4 + len(food), "label": 2},
                    {
                        "term": service,
                        "start": text.index(service),
                        "end": text.index(service) + len(service),
                        "label": 0,
                    },
                ],
            }
        )
        rows.append({"text": f"We came back on a {food} night.", "aspects": []})
    root = tmp_path_factory.mktemp("data")
    (root / "e2e" / "tiny").mkdir(parents=True)
    for split in ("train", "validation", "test"):
        (root / "e2e" / "tiny" / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows * 3))
    return root


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


def test_extract_config_is_checked():
    with pytest.raises(ValueError, match="epochs must be >= 1, not 0"):
        ExtractConfig(epochs=0)
