import pytest

from absa.src.modeling import encode_pairs, load_tokenizer, mark_aspect
from absa.src.backbones import resolve_backbone


def test_mark_aspect_brackets_the_first_mention_whatever_its_case():
    assert mark_aspect("Food was good, food was cheap", "food") == "[Food] was good, food was cheap"
    assert mark_aspect("The staff", "waiter") == "The staff"  # not in the text: unchanged


def test_marked_input_shows_the_aspect_position():
    tokenizer = load_tokenizer(resolve_backbone("minilm"))
    texts, aspects = ["the food was great but the service slow"], ["service"]
    pair = encode_pairs(tokenizer, texts, aspects)
    marked = encode_pairs(tokenizer, texts, aspects, input_format="marked")
    assert len(marked["input_ids"][0]) == len(pair["input_ids"][0]) + 2  # one bracket token each side
    assert "[ service ]" in tokenizer.decode(marked["input_ids"][0])
    with pytest.raises(ValueError, match="input_format"):
        encode_pairs(tokenizer, texts, aspects, input_format="prompt")
