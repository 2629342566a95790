import json
import math

import pytest
import torch

from absa.src.config import TrainConfig
from absa.src.losses import balanced_class_weights, distillation_loss, rdrop_loss, weighted_loss
from absa.src.modeling import read_absa_config, weights_fingerprint
from absa.src.predict import Predictor
from absa.src.train import rebuild_entry, refit_entry, train
from absa.src.trainer import AbsaTrainer, collapsed, layer_decay_groups, layer_depth, prior_entropy
from conftest import synthetic_frame, tiny_config


def test_tiny_lora_run_exports_a_reloadable_model(tiny_model, synthetic_dataset):
    folder, result = tiny_model
    assert (folder / "adapter_model.safetensors").exists()
    assert not (folder / "model.safetensors").exists()  # only the adapter and head, never the backbone
    assert not (folder / "checkpoints").exists()
    assert read_absa_config(folder)["backbone"] == "minilm"  # a name, not this machine's path
    metrics = json.loads((folder / "metrics.json").read_text())
    for key in ("validation", "test", "best_epoch", "config", "trainable_params", "train_seconds", "commit", "data"):
        assert key in metrics
    assert metrics["config"]["regime"] == "lora" and metrics["config"]["seed"] == 42
    assert 0 < metrics["trainable_params"] < metrics["total_params"] / 5
    # the kept epoch is the one with the best validation PN-macro-F1
    history = metrics["validation_history"]
    assert len(history) == 2
    assert metrics["best_epoch"] == max(history, key=lambda row: row["pn_macro_f1"])["epoch"]
    assert "PN-macro-F1" in (folder / "README.md").read_text()

    # reloading the exported folder reproduces the test score measured in training
    import pandas as pd

    test = pd.read_csv(synthetic_dataset / "test.csv")
    predicted = Predictor(folder, bf16="no").predict(test["text"].tolist(), test["aspect"].tolist())
    accuracy = float((predicted == test["label"].to_numpy()).mean())
    assert accuracy == pytest.approx(metrics["test"]["accuracy"], abs=1 / len(test) + 1e-9)


def test_a_rebuild_on_the_same_machine_is_bit_identical_and_keeps_the_recorded_run(tiny_model, tmp_path):
    from safetensors.torch import load_file

    from absa.src.config import parse_config
    from absa.src.records import RunRecord

    folder, first = tiny_model
    config = parse_config(["--like", str(folder), "--output_dir", str(tmp_path / "again")])
    second = train(config, rebuilds=str(folder))
    # the rebuilt folder's metrics.json holds its own scores, and the recorded run's beside them
    saved = RunRecord.load(tmp_path / "again")
    assert saved.validation == second.validation and saved.rebuilt_from["folder"] == str(folder)
    assert saved.rebuilt_from["validation"]["pn_macro_f1"] == first.validation["pn_macro_f1"]
    assert saved.rebuilt_from["test"]["accuracy"] == first.test["accuracy"]
    assert (saved.rebuilt_from["commit"], saved.rebuilt_from["bf16"]) == (first.commit, first.bf16)
    entry = rebuild_entry(saved)
    assert entry["recorded"]["validation"]["pn_macro_f1"] == first.validation["pn_macro_f1"]
    assert entry["rebuilt"]["validation"]["pn_macro_f1"] == second.validation["pn_macro_f1"]
    assert entry["rebuilt"]["bf16"] is False and entry["folder"] == folder.name
    card = (tmp_path / "again" / "README.md").read_text()
    assert "This folder is a rebuild" in card and f"{100 * first.validation['pn_macro_f1']:.2f}" in card
    scores = ("epoch", "loss", "pn_macro_f1", "accuracy", "macro_f1")  # not the run's timings
    assert [{k: row[k] for k in scores} for row in second.validation_history] == [
        {k: row[k] for k in scores} for row in first.validation_history
    ]
    assert second.test == first.test
    weights, again = (
        load_file(folder / "adapter_model.safetensors"),
        load_file(tmp_path / "again" / "adapter_model.safetensors"),
    )
    assert weights.keys() == again.keys() and all(torch.equal(weights[k], again[k]) for k in weights)
    assert entry["rebuilt"]["weights"] == weights_fingerprint(folder)  # what the rebuilds table shows as "same"


def test_bf16_training_runs_on_the_cpu(synthetic_dataset, tmp_path):
    """bf16 autocast on a CPU (fast where it has AMX or AVX512-BF16; forced here, whatever this CPU has)."""
    result = train(
        TrainConfig(
            train_file=str(synthetic_dataset / "train.csv"),
            backbone="minilm",
            regime="lora",
            epochs=1,
            max_steps=2,
            batch_size=8,
            bf16="yes",
            output_dir=str(tmp_path / "bf16"),
        )
    )
    assert result.bf16 is True and result.device.startswith("cpu")
    assert (tmp_path / "bf16" / "adapter_model.safetensors").exists()


def test_full_fine_tuning_exports_weights(synthetic_dataset, tmp_path):
    config = TrainConfig(
        train_file=str(synthetic_dataset / "train.csv"),
        backbone="minilm",
        regime="full",
        epochs=1,
        max_steps=2,
        batch_size=8,
        bf16="no",
        output_dir=str(tmp_path / "full"),
    )
    result = train(config)
    assert result.test is None
    assert (tmp_path / "full" / "model.safetensors").exists()
    assert result.trainable_params == result.total_params
    assert Predictor(tmp_path / "full", bf16="no").predict(["Great pasta!"], ["pasta"]).shape == (1,)


def test_config_rejects_unknown_regime():
    with pytest.raises(ValueError, match="regime"):
        TrainConfig(regime="adapters")


def test_default_learning_rate_depends_on_regime():
    assert TrainConfig(regime="lora").learning_rate == 5e-4
    assert TrainConfig(regime="full").learning_rate == 2e-5


def test_balanced_class_weights_are_inverse_frequency():
    weights = balanced_class_weights([0, 2, 2, 2])  # neutral absent
    assert weights.tolist() == pytest.approx([4 / 3, 1.0, 4 / 9])


def test_weighted_loss_is_weighted_cross_entropy():
    logits, labels = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 3.0]]), torch.tensor([0, 2])
    weights = torch.tensor([3.0, 1.0, 1.0])
    loss = weighted_loss(weights)({"logits": logits}, labels)
    per_row = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
    assert loss.item() == pytest.approx(((3 * per_row[0] + per_row[1]) / 4).item())


def test_marked_and_weighted_run_records_its_input_format(synthetic_dataset, tmp_path):
    config = TrainConfig(
        train_file=str(synthetic_dataset / "train.csv"),
        backbone="minilm",
        regime="lora",
        input_format="marked",
        class_weights="balanced",
        epochs=1,
        max_steps=2,
        batch_size=8,
        bf16="no",
        output_dir=str(tmp_path / "marked"),
    )
    result = train(config)
    assert result.config["class_weights"] == "balanced"
    assert read_absa_config(tmp_path / "marked")["input_format"] == "marked"
    assert Predictor(tmp_path / "marked", bf16="no").input_format == "marked"
    with pytest.raises(ValueError, match="class_weights"):
        TrainConfig(class_weights="focal")


def test_distillation_loss_mixes_gold_and_teacher_terms():
    logits, labels = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 3.0]]), torch.tensor([0, 1])
    teacher = torch.tensor([[0.2, 0.3, 0.5], [0.1, 0.8, 0.1]])
    cross_entropy = torch.nn.functional.cross_entropy(logits, labels)
    assert distillation_loss(logits, labels, teacher, alpha=0.0).item() == pytest.approx(cross_entropy.item())
    # a student that already matches the teacher pays nothing for the soft term, at any temperature
    for temperature in (1.0, 2.0, 4.0):
        assert distillation_loss(
            logits, labels, torch.softmax(logits, -1), alpha=1.0, temperature=temperature
        ).item() == pytest.approx(0.0, abs=1e-6)
    # at T = 1 the soft term is the KL divergence from the teacher to the student
    kl = (teacher * (teacher.log() - torch.log_softmax(logits, -1))).sum(-1).mean()
    assert distillation_loss(logits, labels, teacher, alpha=1.0, temperature=1.0).item() == pytest.approx(kl.item())
    half = distillation_loss(logits, labels, teacher, alpha=0.5, temperature=1.0)
    assert half.item() == pytest.approx(0.5 * cross_entropy.item() + 0.5 * kl.item())


def _spy(monkeypatch, module, name: str) -> list:
    """Replace ``module.name`` by a wrapper that records each call's arguments and still computes the loss."""
    calls, original = [], getattr(module, name)

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


def test_distilled_run_learns_from_a_teacher_folder(tiny_model, synthetic_dataset, tmp_path, monkeypatch):
    from absa.src import train as train_module
    from absa.src import trainer

    calls = _spy(monkeypatch, trainer, "distillation_loss")
    teachers = []
    real_predictor = train_module.Predictor

    def recording_predictor(*args, **kwargs):
        teachers.append(kwargs)
        return real_predictor(*args, **kwargs)

    monkeypatch.setattr(train_module, "Predictor", recording_predictor)
    teacher, _ = tiny_model
    config = TrainConfig(
        train_file=str(synthetic_dataset / "train.csv"),
        backbone="minilm",
        regime="full",
        teacher=str(teacher),
        distill_alpha=0.7,
        distill_temperature=3.0,
        epochs=1,
        max_steps=2,
        batch_size=8,
        bf16="no",
        output_dir=str(tmp_path / "student"),
    )
    result = train(config)
    assert result.config["teacher"] == str(teacher) and result.teacher_seconds > 0
    assert result.teacher_fingerprint == weights_fingerprint(teacher)
    # the teacher's own probabilities, in the run's precision: not the temperature fitted for users' confidences
    assert teachers == [{"bf16": "no", "calibrated": False}]
    # every training step used the distillation loss, with the configured weights and the teacher's probabilities
    assert len(calls) == 2
    for args, _ in calls:
        logits, labels, teacher_probs, alpha, temperature = args
        assert (alpha, temperature) == (0.7, 3.0) and teacher_probs.shape == logits.shape
        assert torch.allclose(teacher_probs.sum(-1), torch.ones(len(labels)))
    assert Predictor(tmp_path / "student", bf16="no").predict(["Great pasta!"], ["pasta"]).shape == (1,)


def test_distillation_settings_are_checked():
    with pytest.raises(ValueError, match="distill_alpha"):
        TrainConfig(distill_alpha=1.5)
    with pytest.raises(ValueError, match="class_weights and teacher"):
        TrainConfig(teacher="absa/models/default", class_weights="balanced")


def test_extra_train_names_known_benchmarks():
    assert TrainConfig(extra_train="mams, twitter").extra_benchmarks() == ["mams", "twitter"]
    with pytest.raises(ValueError, match="extra_train"):
        TrainConfig(extra_train="mams,imdb")


def test_load_splits_adds_extra_benchmark_rows_to_train_only(synthetic_dataset, tmp_path):
    from absa.src.train import load_splits

    (tmp_path / "mams").mkdir()
    extra = synthetic_frame().assign(text=lambda f: f["text"] + " Again.")
    extra.to_csv(tmp_path / "mams" / "train.csv", index=False)
    config = TrainConfig(
        train_file=str(synthetic_dataset / "train.csv"),
        test_file=str(synthetic_dataset / "test.csv"),
        data_dir=str(tmp_path),
        extra_train="mams",
        val_size=0.2,
    )
    alone, _, _ = load_splits(TrainConfig(train_file=config.train_file, test_file=config.test_file, val_size=0.2))
    joined, counts, _ = load_splits(config)
    assert counts == {"mams": {"added": len(extra), "dropped_overlap": 0}}
    assert len(joined["train"]) == len(alone["train"]) + len(extra)
    assert joined["validation"]["text"] == alone["validation"]["text"]


def test_git_commit_is_dirty_for_code_changes_only(tmp_path):
    import subprocess

    from absa.src.records import git_commit

    def git(*args):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True, capture_output=True
        )

    (tmp_path / "absa" / "src").mkdir(parents=True)
    (tmp_path / "absa" / "src" / "train.py").write_text("x = 1\n")
    (tmp_path / "absa" / "results.csv").write_text("run_id\n")
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "init")
    head = git_commit(tmp_path / "absa")
    assert len(head) == 40
    (tmp_path / "absa" / "results.csv").write_text("run_id\nabc\n")  # a ledger row is a result, not code
    assert git_commit(tmp_path / "absa") == head
    (tmp_path / "absa" / "src" / "train.py").write_text("x = 2\n")
    assert git_commit(tmp_path / "absa") == head + "-dirty"


def test_git_commit_outside_a_repository_falls_back_to_the_environment(tmp_path, monkeypatch):
    from absa.src.records import git_commit

    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # no repository above tmp_path is found
    monkeypatch.delenv("ABSA_GIT_COMMIT", raising=False)
    assert git_commit(tmp_path) == "unknown"
    monkeypatch.setenv("ABSA_GIT_COMMIT", "0" * 40)
    assert git_commit(tmp_path) == "0" * 40


def test_general_model_on_all_benchmarks_scores_each_benchmark(four_benchmarks, tmp_path):
    import numpy as np
    import pandas as pd

    from absa.src.data import BENCHMARKS

    result = train(
        TrainConfig(
            dataset="all",
            data_dir=str(four_benchmarks),
            backbone="minilm",
            regime="lora",
            epochs=1,
            batch_size=8,
            learning_rate=1e-3,
            val_size=0.2,
            bf16="no",
            output_dir=str(tmp_path / "general"),
        )
    )
    test = result.test
    assert test["averaged_over"] == list(BENCHMARKS) and test["n"] == 4 * 45
    for score in ("pn_macro_f1", "accuracy", "macro_f1"):  # every benchmark counts the same
        assert test[score] == pytest.approx(np.mean([m[score] for m in test["by_benchmark"].values()]))
    assert result.validation["averaged_over"] == list(BENCHMARKS)
    assert result.best_epoch == 1 and result.validation_history[0]["pn_macro_f1"] == pytest.approx(
        result.validation["pn_macro_f1"]
    )
    assert "semeval14_laptops/train.csv" in result.data["train"]
    # each benchmark's recorded score is that of its own rows: the exported model reproduces it benchmark by benchmark
    predictor = Predictor(tmp_path / "general", bf16="no")
    for name in BENCHMARKS:
        rows = pd.read_csv(four_benchmarks / name / "test.csv")
        predicted = predictor.predict(rows["text"].tolist(), rows["aspect"].tolist())
        assert float((predicted == rows["label"].to_numpy()).mean()) == pytest.approx(
            test["by_benchmark"][name]["accuracy"], abs=1 / len(rows) + 1e-9
        )
    assert "test: twitter" in (tmp_path / "general" / "README.md").read_text()
    with pytest.raises(ValueError, match="every benchmark"):
        TrainConfig(dataset="all", extra_train="mams")


def test_init_from_goes_on_training_an_exported_model(tiny_model, synthetic_dataset, tmp_path):
    from absa.src.train import start_model

    folder, first = tiny_model
    common = dict(
        train_file=str(synthetic_dataset / "train.csv"),
        test_file=str(synthetic_dataset / "test.csv"),
        backbone="minilm",
        regime="lora",
        batch_size=8,
        val_size=0.2,
        bf16="no",
        seed=42,
        init_from=str(folder),
    )
    # it starts where the exported model ended: the same predictions before any step
    start = start_model(TrainConfig(**common)).eval()
    predictor = Predictor(folder, bf16="no")
    encoded = predictor._collate([predictor.tokenizer("Great pasta!", "pasta")])
    with torch.no_grad():
        assert start(**encoded).logits.argmax(-1).item() == predictor.predict(["Great pasta!"], ["pasta"])[0]
        assert torch.allclose(
            torch.softmax(start(**encoded).logits, -1),
            torch.from_numpy(predictor.predict_proba(["Great pasta!"], ["pasta"])),
            atol=1e-5,
        )
    result = train(TrainConfig(**common, epochs=1, learning_rate=1e-4, output_dir=str(tmp_path / "stage2")))
    assert result.config["init_from"] == str(folder) and (tmp_path / "stage2" / "adapter_model.safetensors").exists()

    with pytest.raises(FileNotFoundError, match="git-ignored"):
        start_model(TrainConfig(**{**common, "init_from": str(tmp_path / "runs" / "abc123")}))
    for change, message in [
        ({"regime": "full"}, "regime"),
        ({"lora_r": 8}, "LoRA rank"),
        ({"input_format": "marked"}, "input_format"),
        ({"seed": 1}, "seed 42"),
    ]:
        with pytest.raises(ValueError, match=message):
            start_model(TrainConfig(**{**common, **change}))


def test_like_trains_again_with_the_recorded_configuration(tiny_model, tmp_path):
    from absa.src.config import parse_config

    folder, result = tiny_model
    recorded = dict(result.config)
    again = parse_config(["--like", str(folder), "--output_dir", str(tmp_path / "again")])
    assert {**vars(again), "output_dir": recorded["output_dir"]} == recorded
    # flags given override the record; without --output_dir it goes to the default folder, never the original
    changed = parse_config(["--like", str(folder), "--seed", "7"])
    assert changed.seed == 7 and changed.epochs == recorded["epochs"] and changed.output_dir != recorded["output_dir"]
    with pytest.raises(SystemExit):
        parse_config(["--like", str(folder), "--output_dir", str(folder)])
    # "auto" precision is pinned to what the recorded run used, whatever this machine would choose
    metrics = json.loads((folder / "metrics.json").read_text())
    in_bf16 = tmp_path / "in_bf16"
    in_bf16.mkdir()
    (in_bf16 / "metrics.json").write_text(
        json.dumps({**metrics, "bf16": True, "config": {**metrics["config"], "bf16": "auto"}})
    )
    assert parse_config(["--like", str(in_bf16)]).bf16 == "yes"
    # a record of a field this version does not know cannot be trained again as it was
    metrics = json.loads((folder / "metrics.json").read_text())
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "metrics.json").write_text(json.dumps({"config": {**metrics["config"], "warmup_steps": 10}}))
    with pytest.raises(ValueError, match="warmup_steps"):
        parse_config(["--like", str(odd)])
    with pytest.raises(FileNotFoundError, match="exported model folder"):
        parse_config(["--like", str(tmp_path)])


def test_refit_trains_the_chosen_epochs_on_train_and_validation_and_claims_no_validation_score(tiny_model, tmp_path):
    from dataclasses import replace

    import pandas as pd

    from absa.src.calibration import CalibrationArguments, calibrate
    from absa.src.config import describe, parse_config, run_id
    from absa.src.records import RunRecord

    folder, first = tiny_model
    assert parse_config(["--like", str(folder), "--refit", "--epochs", "3"]).epochs == 3  # a flag still overrides
    config = parse_config(["--like", str(folder), "--refit", "--output_dir", str(tmp_path / "refit")])
    assert config.refit and config.epochs == round(first.best_epoch)  # the epoch count validation chose
    assert run_id(config) != run_id(replace(config, refit=False))
    record = train(config, rebuilds=str(folder))  # as the command line does for a refit: the refit run is kept
    # every training and validation row trained; no epoch was chosen, so no validation score is claimed
    assert record.data["n_train"] == first.data["n_train"] + first.data["n_validation"]
    assert "n_validation" not in record.data
    assert record.validation is None and record.validation_history == [] and record.best_epoch == config.epochs
    saved = RunRecord.load(tmp_path / "refit")
    assert saved.validation is None and saved.test["n"] == first.test["n"]
    assert "refit on train + validation" in describe(saved.config)
    card = (tmp_path / "refit" / "README.md").read_text()
    assert "A refit" in card and "validation (epoch" not in card and "was chosen on validation" not in card
    assert "This folder is a rebuild" not in card
    entry = refit_entry(saved)  # its line in refits.json: the folder it refits, its seed, its own test scores
    assert (entry["folder"], entry["seed"], entry["epochs"]) == (folder.name, config.seed, config.epochs)
    assert entry["test"]["pn_macro_f1"] == saved.test["pn_macro_f1"] and entry["test"]["by_benchmark"] == {}
    assert not (tmp_path / "refit" / "checkpoints").exists()
    # the exported refit reloads and reproduces its own test score
    frame = pd.read_csv(config.test_file)
    predicted = Predictor(tmp_path / "refit", bf16="no").predict(frame["text"].tolist(), frame["aspect"].tolist())
    assert float((predicted == frame["label"].to_numpy()).mean()) == pytest.approx(saved.test["accuracy"], abs=1e-9)
    # no held-out rows are left to fit a temperature on: calibration refuses, by name
    with pytest.raises(ValueError, match="refit"):
        calibrate(tmp_path / "refit")
    with pytest.raises(ValueError, match="refit"):
        CalibrationArguments(models=[str(tmp_path / "refit")])


def test_augment_is_checked_and_adds_training_rows_only(synthetic_dataset):
    from absa.src.train import load_splits

    with pytest.raises(ValueError, match="augment must be one of"):
        TrainConfig(augment="mixup")
    files = dict(
        train_file=str(synthetic_dataset / "train.csv"), test_file=str(synthetic_dataset / "test.csv"), val_size=0.2
    )
    plain, _, none_added = load_splits(TrainConfig(**files))
    augmented, _, added = load_splits(TrainConfig(**files, augment="opposite_pairs"))
    assert none_added == 0 and added == len(augmented["train"]) - len(plain["train"]) > 0
    assert augmented["validation"]["text"] == plain["validation"]["text"]
    assert augmented["test"]["text"] == plain["test"]["text"]


def test_rdrop_loss_is_cross_entropy_plus_symmetric_kl():
    a, b = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 3.0]]), torch.tensor([[1.0, 0.5, -1.0], [0.5, 0.0, 2.0]])
    labels = torch.tensor([0, 2])
    cross_entropy = torch.nn.functional.cross_entropy
    # two identical predictions: plain cross-entropy, whatever alpha
    assert rdrop_loss(a, a.clone(), labels, alpha=5.0).item() == pytest.approx(cross_entropy(a, labels).item())
    mean_ce = (cross_entropy(a, labels) + cross_entropy(b, labels)) / 2
    assert rdrop_loss(a, b, labels, alpha=0.0).item() == pytest.approx(mean_ce.item())
    p, q = torch.softmax(a, -1), torch.softmax(b, -1)
    symmetric = ((p * (p.log() - q.log())).sum(-1).mean() + (q * (q.log() - p.log())).sum(-1).mean()) / 2
    assert rdrop_loss(a, b, labels, alpha=1.0).item() == pytest.approx((mean_ce + symmetric / 2).item())
    assert rdrop_loss(a, b, labels, alpha=1.0).item() == pytest.approx(rdrop_loss(b, a, labels, alpha=1.0).item())


def test_layer_depth_counts_from_the_embeddings_to_the_head():
    assert layer_depth("base_model.model.mpnet.embeddings.word_embeddings.weight", 12) == 0
    assert layer_depth("mpnet.encoder.relative_attention_bias.weight", 12) == 0
    assert layer_depth("base_model.model.mpnet.encoder.layer.0.attention.attn.q.lora_A.default.weight", 12) == 1
    assert layer_depth("bert.encoder.layer.11.output.dense.weight", 12) == 12
    assert layer_depth("base_model.model.classifier.modules_to_save.default.dense.weight", 12) == 13


def test_layer_decay_groups_scale_the_learning_rate_by_depth():
    from absa.src.modeling import build_model

    model = build_model("minilm", "lora")
    n_layers = model.config.num_hidden_layers
    names = {id(p): name for name, p in model.named_parameters()}
    decay_names = {name for name in names.values() if not name.endswith("bias")}
    groups = layer_decay_groups(model, 1e-3, 0.5, 0.01, decay_names)
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert sum(len(g["params"]) for g in groups) == len(trainable)
    for group in groups:
        for param in group["params"]:
            name = names[id(param)]
            assert group["lr"] == pytest.approx(1e-3 * 0.5 ** (n_layers + 1 - layer_depth(name, n_layers)))
            assert group["weight_decay"] == (0.0 if name.endswith("bias") else 0.01)
    head = [g for g in groups if any("classifier" in names[id(p)] for p in g["params"])]
    assert head and all(g["lr"] == pytest.approx(1e-3) for g in head)  # the head is not decayed
    assert min(g["lr"] for g in groups) == pytest.approx(1e-3 * 0.5**n_layers)  # LoRA's lowest: layer 0


def test_rdrop_and_layer_decay_runs_train_and_record_their_settings(synthetic_dataset, tmp_path, monkeypatch):
    from absa.src import trainer

    calls = _spy(monkeypatch, trainer, "rdrop_loss")
    seen = {}
    create_optimizer = AbsaTrainer.create_optimizer

    def spy(self):
        optimizer = create_optimizer(self)
        seen["lrs"] = sorted({group["lr"] for group in optimizer.param_groups})
        return optimizer

    monkeypatch.setattr(AbsaTrainer, "create_optimizer", spy)
    config = TrainConfig(
        train_file=str(synthetic_dataset / "train.csv"),
        backbone="minilm",
        regime="lora",
        rdrop_alpha=1.0,
        layer_decay=0.8,
        learning_rate=1e-3,
        epochs=1,
        max_steps=2,
        batch_size=8,
        bf16="no",
        output_dir=str(tmp_path / "rdrop"),
    )
    result = train(config)
    assert result.config["rdrop_alpha"] == 1.0 and result.config["layer_decay"] == 0.8
    assert seen["lrs"][-1] == pytest.approx(1e-3) and len(seen["lrs"]) > 2  # the head at lr, layers below it less
    assert len(calls) == 2 and all(args[3] == 1.0 for args, _ in calls)  # each training step ran R-Drop's loss
    first, second, labels, _ = calls[0][0]
    assert first.shape == second.shape == (len(labels), 3) and not torch.equal(first, second)  # two dropout masks
    assert Predictor(tmp_path / "rdrop", bf16="no").predict(["Great pasta!"], ["pasta"]).shape == (1,)
    card = (tmp_path / "rdrop" / "README.md").read_text()
    assert "**minilm lora r16 + R-Drop α 1 + layer decay 0.8 lr 0.001**" in card


def test_rdrop_and_layer_decay_settings_are_checked():
    with pytest.raises(ValueError, match="layer_decay"):
        TrainConfig(layer_decay=0.0)
    with pytest.raises(ValueError, match="rdrop_alpha must be"):
        TrainConfig(rdrop_alpha=-1.0)
    with pytest.raises(ValueError, match="rdrop_alpha cannot be combined"):
        TrainConfig(rdrop_alpha=1.0, class_weights="balanced")


def test_a_run_collapses_when_its_last_epoch_loss_is_no_lower_than_the_class_prior():
    uniform, skewed = [0, 1, 2] * 4, [2] * 9 + [0]
    assert prior_entropy(uniform) == pytest.approx(math.log(3))
    assert prior_entropy(skewed) == pytest.approx(-(0.9 * math.log(0.9) + 0.1 * math.log(0.1)))

    def history(*losses):  # Trainer's log rows: a training loss per epoch, evaluation rows in between
        return [row for i, loss in enumerate(losses) for row in ({"loss": loss, "epoch": i + 1}, {"eval_loss": 0.1})]

    assert collapsed(history(0.6, 1.08), uniform)  # the last epoch counts: it ended at the prior
    assert not collapsed(history(1.08, 0.6), uniform)
    assert collapsed(history(0.9, 0.33), skewed) and not collapsed(history(0.9, 0.25), skewed)  # the prior, not ln 3
    assert not collapsed([], uniform)  # nothing logged: nothing to say


def test_a_run_that_learns_nothing_is_exported_as_collapsed_and_one_that_learns_is_not(synthetic_dataset, tmp_path):
    from dataclasses import replace

    from absa.src.records import RunRecord

    learns = train(replace(tiny_config(synthetic_dataset, tmp_path / "learns"), learning_rate=5e-3, epochs=4))
    assert learns.collapsed is False and "collapsed" not in (tmp_path / "learns" / "README.md").read_text()
    config = replace(tiny_config(synthetic_dataset, tmp_path / "flat"), learning_rate=1e-9, epochs=1)
    record = train(config)
    assert record.collapsed is True and RunRecord.load(tmp_path / "flat").collapsed is True
    assert "Training collapsed" in (tmp_path / "flat" / "README.md").read_text()
    assert refit_entry(replace(record, rebuilt_from={"folder": "x"}))["collapsed"] is True
    assert refit_entry(replace(learns, rebuilt_from={"folder": "x"}))["collapsed"] is False
