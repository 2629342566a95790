from dataclasses import asdict, fields

import pytest

from absa.src.ablation import ledger as run_ledger
from absa.src.ablation import selection
from absa.src.config import TrainConfig, config_arguments, describe, parse_config, run_id


def test_run_id_ignores_paths_only():
    assert run_id(TrainConfig(output_dir="a")) == run_id(TrainConfig(output_dir="b"))
    assert run_id(TrainConfig(seed=1)) != run_id(TrainConfig(seed=2))


def test_teacher_settings_enter_the_id_only_when_set():
    assert run_id(TrainConfig()) == run_id(TrainConfig(distill_alpha=0.5))
    with_teacher = run_id(TrainConfig(teacher="absa/models/semeval14_restaurants"))
    assert with_teacher != run_id(TrainConfig())
    assert with_teacher != run_id(TrainConfig(teacher="absa/models/semeval14_restaurants", distill_alpha=0.9))


def test_augment_enters_the_id_and_the_label_only_when_set(tmp_path):
    assert run_id(TrainConfig()) == run_id(TrainConfig(augment="none"))
    assert run_id(TrainConfig(augment="opposite_pairs")) != run_id(TrainConfig())
    summary = selection.summarize(run_ledger.read_ledger(run_ledger.ABLATION_DIR / "results.csv"))
    row = summary.iloc[0]  # a run from before augmentation existed: read as none
    assert row["augment"] == "none" and "opposite" not in selection.label(row)
    augmented = row.copy()
    augmented["augment"] = "opposite_pairs"
    assert selection.label(augmented) == selection.label(row).replace(" lr ", " + opposite pairs lr ")


def test_rdrop_and_layer_decay_enter_the_id_and_the_label_only_when_set(tmp_path):
    assert run_id(TrainConfig()) == run_id(TrainConfig(rdrop_alpha=0.0, layer_decay=1.0))
    assert len({run_id(TrainConfig()), run_id(TrainConfig(rdrop_alpha=1.0)), run_id(TrainConfig(layer_decay=0.9))}) == 3
    summary = selection.summarize(run_ledger.read_ledger(run_ledger.ABLATION_DIR / "results.csv"))
    row = summary.iloc[0]  # a run from before either existed: read as off
    assert row["rdrop_alpha"] == "-" and row["layer_decay"] == "-"
    changed = row.copy()
    changed["rdrop_alpha"], changed["layer_decay"] = "1", "0.9"
    assert selection.label(changed) == selection.label(row).replace(" lr ", " + R-Drop α 1 + layer decay 0.9 lr ")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bf16": "maybe"}, "bf16 must be one of auto, yes, no, not 'maybe'"),
        ({"val_size": 0.0}, r"val_size must be in \(0, 1\), not 0.0"),
        ({"epochs": 0}, "epochs must be >= 1, not 0"),
        ({"batch_size": 0}, "batch_size must be >= 1, not 0"),
        ({"lora_targets": "xyz"}, "lora_targets must be one of all, attention, qv, not 'xyz'"),
        ({"regime": "adapters"}, "regime must be one of lora, full, not 'adapters'"),
        ({"learning_rate": -1e-4}, "learning_rate must be > 0, not -0.0001"),
        ({"max_steps": 0}, "max_steps must be -1 .* not 0"),
        ({"warmup_ratio": 1.5}, r"warmup_ratio must be in \[0, 1\), not 1.5"),
    ],
)
def test_bad_values_are_refused_with_a_message_that_names_them(change, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**change)


def test_the_command_line_offers_choices_and_exits_2_on_a_bad_value(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_config(["--regime", "adapters"])
    assert exit_info.value.code == 2 and "invalid choice: 'adapters'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        parse_config(["--epochs", "0"])
    assert exit_info.value.code == 2 and "epochs must be >= 1, not 0" in capsys.readouterr().err


def test_every_field_has_help_and_a_command_line_gives_the_config_back():
    assert all(spec.metadata.get("help") for spec in fields(TrainConfig))
    config = TrainConfig(dataset="mams", regime="full", teacher="absa/models/x", epochs=3, limit_rows=10)
    assert parse_config(config_arguments(config)) == config


def test_describe_names_a_config_and_its_ledger_row_alike():
    config = TrainConfig(
        backbone="minilm", lora_targets="qv", init_from="absa/models/general", rdrop_alpha=1.0, learning_rate=1e-4
    )
    assert describe(asdict(config)) == "minilm lora r16 qv from general + R-Drop α 1 lr 0.0001"
    row = {
        "backbone": "minilm",
        "regime": "lora",
        "lora_r": "16",
        "lora_targets": "qv",
        "input_format": "pair",
        "class_weights": "none",
        "extra_train": "-",
        "teacher": "-",
        "init_from": "general",
        "augment": "none",
        "rdrop_alpha": "1",
        "layer_decay": "-",
        "lr": 1e-4,
    }
    assert describe(row) == describe(asdict(config))
    assert describe({**row, "regime": "full", "teacher": "semeval14_restaurants", "rdrop_alpha": "-"}) == (
        "minilm full distilled from semeval14_restaurants from general lr 0.0001"
    )


def test_like_kind_tells_a_rebuild_from_a_refit_from_a_variant(tiny_model, tmp_path):
    from absa.src.config import like_kind, parse_config

    folder, _ = tiny_model

    def kind(*flags: str) -> str:
        return like_kind(parse_config(["--like", str(folder), "--output_dir", str(tmp_path / "x"), *flags]), folder)

    assert kind() == "rebuild" and kind("--bf16", "no") == "rebuild"  # another precision is still a rebuild
    assert kind("--refit") == "refit" and kind("--refit", "--seed", "7", "--epochs", "1") == "refit"
    assert kind("--seed", "7") == "variant"  # another seed is not the recorded run
    assert kind("--refit", "--learning_rate", "0.01") == "variant"  # a refit of another configuration
