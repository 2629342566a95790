import json
import shutil

import pytest

from absa.src import e2e_ledger
from absa.src.config import TrainConfig
from absa.src.data import load_e2e
from absa.src.extract import train_extractor
from absa.src.extractor import Extractor
from absa.src.pipeline import PipelineConfig, build_pipeline, main
from absa.src.predict import Predictor
from absa.src.records import RunRecord
from absa.src.report import e2e_seeds_block
from absa.src.train import train
from conftest import tiny_tagger_config


@pytest.fixture(scope="module")
def parts(tmp_path_factory, tiny_e2e):
    """An extraction tagger and a classifier trained on the tiny end-to-end set's pairs, both seed 42."""
    root = tmp_path_factory.mktemp("parts")
    train_extractor(tiny_tagger_config(tiny_e2e, root / "tagger", scheme="extraction"))
    classifier = TrainConfig(
        dataset="e2e/tiny",
        data_dir=str(tiny_e2e),
        backbone="minilm",
        regime="lora",
        epochs=3,
        batch_size=8,
        learning_rate=1e-3,
        bf16="no",
        output_dir=str(root / "classifier"),
    )
    train(classifier)
    return root / "tagger", root / "classifier"


@pytest.fixture(scope="module")
def pipeline(parts, tiny_e2e, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pipelines") / "pipeline"
    record = build_pipeline(PipelineConfig(*map(str, parts), output_dir=str(folder), data_dir=str(tiny_e2e)))
    return folder, record


def test_the_classifier_trains_on_the_end_to_end_pairs_only(parts):
    record = RunRecord.load(parts[1])
    assert record.data["train"] == "e2e/tiny/train.jsonl"
    # 4 sentences with two aspects each, 4 with none, three times over: 24 pairs, none from an aspect-less sentence
    assert record.data["n_train"] == 24


def test_the_pipeline_folder_runs_its_classifier_and_is_scored_as_a_whole(pipeline, parts, tiny_e2e):
    folder, record = pipeline
    assert json.loads((folder / "absa_config.json").read_text())["classifier"] == "classifier"
    assert (folder / "classifier" / "metrics.json").exists() and not list(folder.parent.glob(".pipeline.*"))
    assert RunRecord.load(folder).to_dict() == record.to_dict()
    assert record.config["scheme"] == "pipeline" and record.config["classifier"].startswith("minilm lora r16")
    # the spans are the tagger's: the pipeline's extraction scores are those extract recorded for the tagger
    tagger = RunRecord.load(parts[0])
    for split in ("validation", "test"):
        assert getattr(record, split)["extraction"] == getattr(tagger, split)["extraction"]
    # a found span is right end to end exactly when the classifier, run alone on that pair, gives the gold label
    sentences = load_e2e("tiny", tiny_e2e)["validation"]
    classifier = Predictor(parts[1])
    right = sum(
        int(classifier.predict_proba([s["text"]], [a["term"]], starts=[a["start"]]).argmax()) == a["label"]
        for s in sentences
        for a in s["aspects"]
    )
    found = record.validation["extraction"]["true_positives"]
    assert found == sum(len(s["aspects"]) for s in sentences)  # the tiny tagger finds every aspect
    assert record.validation["e2e"]["true_positives"] == right
    assert record.train_seconds == pytest.approx(tagger.train_seconds + RunRecord.load(parts[1]).train_seconds, 0.01)


def test_a_pipeline_is_a_ledger_row_of_its_own(pipeline, tiny_tagger, tmp_path):
    ledger = tmp_path / "e2e.csv"
    assert len(e2e_ledger.add_runs([tiny_tagger, pipeline[0]], ledger)) == 2
    frame = e2e_ledger.read_ledger(ledger)
    assert list(frame["scheme"]) == ["unified", "pipeline"]
    assert frame.loc[0, "classifier"] == "" and frame.loc[1, "classifier"].endswith("on e2e/tiny")
    assert len(e2e_ledger.summarize(frame)) == 2
    assert "then minilm lora r16" in e2e_seeds_block(ledger)


def test_a_classifier_that_saw_the_semeval_training_files_is_refused(parts, tiny_model, tmp_path, tiny_e2e):
    config = PipelineConfig(str(parts[0]), str(tiny_model[0]), str(tmp_path / "out"), data_dir=str(tiny_e2e))
    with pytest.raises(ValueError, match="must train on end-to-end pairs only"):
        build_pipeline(config)
    assert not (tmp_path / "out").exists()


def test_a_unified_tagger_and_seeds_that_differ_are_refused(parts, tiny_tagger, tmp_path, tiny_e2e):
    with pytest.raises(ValueError, match="extraction tags, not 'unified'"):
        build_pipeline(PipelineConfig(str(tiny_tagger), str(parts[1]), str(tmp_path / "a"), data_dir=str(tiny_e2e)))
    other = tmp_path / "seed7"
    shutil.copytree(parts[1], other)
    record = RunRecord.load(other)
    record.config["seed"] = 7
    record.save(other)
    with pytest.raises(ValueError, match="seed 42 and classifier seed 7 differ"):
        build_pipeline(PipelineConfig(str(parts[0]), str(other), str(tmp_path / "b"), data_dir=str(tiny_e2e)))


def test_bad_arguments_exit_2_with_a_message(parts, tiny_model, tmp_path, monkeypatch, capsys):
    with pytest.raises(ValueError, match="already exists"):
        PipelineConfig(str(parts[0]), str(parts[1]), str(tmp_path))
    argv = ["pipeline", "--tagger", str(parts[0]), "--classifier", str(tiny_model[0]), "--output_dir", "x"]
    monkeypatch.setattr("sys.argv", [*argv[:-1], str(tmp_path / "x")])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2 and "end-to-end pairs only" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_the_speed_benchmark_names_both_parts_number_formats(pipeline):
    from absa.src.analyze_benchmark import precision

    folder, _ = pipeline
    assert precision(Extractor(folder, bf16="yes")) == "tagger bf16, classifier bf16"
    assert precision(Extractor(folder, bf16="no")) == "tagger fp32, classifier fp32"
