"""Long texts are never cut blindly: the model reads the context around the aspect's mention."""

import json

import pandas as pd
import pytest

from absa.src.backbones import resolve_backbone
from absa.src.modeling import load_tokenizer
from absa.src.predict import AspectTooLong, Predictor, context_window, find_aspect, sentence_spans

FILLER = "We arrived at seven and sat near the window. " * 33
LONG = "The food was great. " + FILLER + "But the service was awful."


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(resolve_backbone("minilm"))


def test_sentences_and_mentions():
    assert sentence_spans("Good food. Slow service!\nBye") == [(0, 10), (11, 24), (25, 28)]
    assert find_aspect("The Service, the service", "service") == (4, 11)
    assert find_aspect("The Service, the service", "service", start=17) == (17, 24)
    assert find_aspect("The Service", "service", start=0) == (4, 11)  # a wrong offset falls back to the mention
    assert find_aspect("The food", "parking") is None


def test_a_text_that_fits_is_read_whole(tokenizer):
    assert context_window(tokenizer, "The food was great.", "food", 128) == "The food was great."


def test_a_long_text_is_read_around_each_aspect(tokenizer):
    assert len(LONG) > 1500 and len(tokenizer(LONG)["input_ids"]) > 128
    service = context_window(tokenizer, LONG, "service", 128)
    food = context_window(tokenizer, LONG, "food", 128)
    assert service.endswith("But the service was awful.") and "food" not in service
    assert food.startswith("The food was great.") and "service" not in food
    for window in (service, food):
        assert window in LONG and len(tokenizer(window, "service")["input_ids"]) <= 128  # whole sentences that fit


def test_a_sentence_longer_than_the_window_is_read_around_the_mention(tokenizer):
    text = " ".join(f"word{i}" for i in range(300)) + " the battery died " + " ".join(f"w{i}" for i in range(300))
    window = context_window(tokenizer, text, "battery", 64)
    assert "the battery died" in window and window in text
    assert len(tokenizer(window, "battery")["input_ids"]) <= 64


def test_an_aspect_that_leaves_no_room_is_an_error(tokenizer):
    with pytest.raises(AspectTooLong, match="at most .* fit the model's window"):
        context_window(tokenizer, "Short text.", "very long aspect " * 40, 128)


def test_the_predictor_reads_the_window(tiny_model):
    predictor = Predictor(tiny_model[0], bf16="no")
    window = context_window(predictor.tokenizer, LONG, "service", predictor.max_length)
    long, alone = predictor.predict_proba([LONG, window], ["service", "service"])
    assert long.tolist() == pytest.approx(alone.tolist(), abs=1e-6)
    with pytest.raises(AspectTooLong):
        predictor.predict(["Short text.", "Fine."], ["very long aspect " * 50, "fine"])
    with pytest.raises(ValueError, match="batch_size must be at least 1, not -1"):
        Predictor(tiny_model[0], batch_size=-1)


@pytest.mark.slow
def test_the_default_model_reads_the_end_of_a_long_review(tmp_path):
    """Python API, HTTP API and CLI on the default model: before, only the first 128 tokens were read and the
    service at the end came out positive."""
    from absa.app import create_app
    from absa.src.evaluation import EvaluationArguments, evaluate

    predictor = Predictor()
    assert predictor.predict([LONG, LONG], ["food", "service"]).tolist() == [2, 0]
    client = create_app(predictor=predictor).test_client()
    predictions = client.post("/api/predict", json={"text": LONG, "aspects": ["food", "service"]}).get_json()
    assert [p["sentiment"] for p in predictions["predictions"]] == ["positive", "negative"]
    pd.DataFrame({"text": [LONG, LONG], "aspect": ["food", "service"]}).to_csv(tmp_path / "long.csv", index=False)
    evaluate(EvaluationArguments(test=str(tmp_path / "long.csv"), output=str(tmp_path / "out.csv")))
    assert pd.read_csv(tmp_path / "out.csv")["label"].tolist() == [2, 0]
    assert not (tmp_path / "out.metrics.json").exists()
    assert json.loads(json.dumps(predictions))  # plain JSON
