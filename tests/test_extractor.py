import json
import shutil

import pytest

from absa.src.backbones import resolve_backbone
from absa.src.extract import train_extractor
from absa.src.extractor import Extractor, windows
from absa.src.modeling import load_tokenizer
from absa.src.predict import Predictor
from conftest import tiny_tagger_config

SENTENCE = "The pizza was great but the service was rude."


@pytest.fixture(scope="module")
def extractor(tiny_tagger):
    return Extractor(tiny_tagger)


def test_finds_the_aspects_with_their_sentiment_and_offsets(extractor):
    [found] = extractor.extract([SENTENCE])
    assert [(a["aspect"], a["start"], a["end"], a["sentiment"]) for a in found] == [
        ("pizza", 4, 9, "positive"),
        ("service", 28, 35, "negative"),
    ]
    for aspect in found:
        assert aspect["label"] == ("negative", "neutral", "positive").index(aspect["sentiment"])
        assert 0 < aspect["confidence"] <= 1


def test_a_long_text_is_read_sentence_by_sentence_with_offsets_into_the_original(extractor):
    filler = "We came back on a soup night. " * 40  # far beyond the model's 128 tokens
    text = "The pasta was great but the staff was rude. " + filler + "The wine was great but the waiter was rude."
    assert len(extractor.tokenizer(text)["input_ids"]) > 2 * extractor.max_length
    [found] = extractor.extract([text])
    assert [(a["aspect"], a["sentiment"]) for a in found] == [
        ("pasta", "positive"),
        ("staff", "negative"),
        ("wine", "positive"),
        ("waiter", "negative"),
    ]
    for aspect in found:
        assert text[aspect["start"] : aspect["end"]] == aspect["aspect"]
    # the same as each sentence alone, shifted to where it sits in the text
    last = text.index("The wine")
    [alone] = extractor.extract([text[last:]])
    assert [(a["start"] + last, a["end"] + last, a["label"]) for a in alone] == [
        (a["start"], a["end"], a["label"]) for a in found[2:]
    ]


def test_texts_without_aspects_and_empty_texts_give_none(extractor):
    assert extractor.extract(["We came back on a pizza night.", "", "   "]) == [[], [], []]
    assert extractor.extract([]) == []


def test_a_sentence_longer_than_the_window_is_cut_into_windows_that_cover_it():
    tokenizer = load_tokenizer(resolve_backbone("minilm"))
    sentence = " ".join(f"word{i}" for i in range(300))  # one sentence, no full stop
    pieces = list(windows(tokenizer, "Short one. " + sentence, 50))
    assert pieces[0] == (0, "Short one.")
    for offset, piece in pieces:
        assert ("Short one. " + sentence)[offset : offset + len(piece)] == piece
        assert len(tokenizer(piece, add_special_tokens=False)["input_ids"]) <= 50
    assert " ".join(piece for _, piece in pieces[1:]).replace("  ", " ").split() == sentence.split()


def test_a_pipeline_tagger_classifies_its_spans_with_the_classifier_it_names(tiny_e2e, tiny_model, tmp_path):
    folder = tmp_path / "pipeline"
    train_extractor(tiny_tagger_config(tiny_e2e, folder, scheme="extraction"))
    with pytest.raises(ValueError, match="must name its classifier"):
        Extractor(folder)
    shutil.copytree(tiny_model[0], folder / "classifier")
    config = json.loads((folder / "absa_config.json").read_text())
    (folder / "absa_config.json").write_text(json.dumps({**config, "classifier": "classifier"}))
    [found] = Extractor(folder).extract([SENTENCE])
    assert [a["aspect"] for a in found] == ["pizza", "service"]
    probs = Predictor(folder / "classifier").predict_proba([SENTENCE] * 2, ["pizza", "service"])
    assert [a["label"] for a in found] == probs.argmax(1).tolist()
    assert [a["confidence"] for a in found] == [round(float(p), 4) for p in probs.max(1)]


def test_a_classifier_folder_is_not_a_tagger(tiny_model):
    with pytest.raises(ValueError, match="not an aspect tagger"):
        Extractor(tiny_model[0])
    with pytest.raises(ValueError, match="batch_size"):
        Extractor(tiny_model[0], batch_size=0)
