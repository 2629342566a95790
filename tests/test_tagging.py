import pytest

from absa.src.backbones import resolve_backbone
from absa.src.modeling import load_tokenizer
from absa.src.tagging import IGNORED, SCHEMES, decode_tags, encode_sentence
from conftest import SHARED_DATA

TEXT = "The battery life is great, but the keyboard wasn't."
ASPECTS = [
    {"term": "battery life", "start": 4, "end": 16, "label": 2},
    {"term": "keyboard", "start": 35, "end": 43, "label": 0},
]


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(resolve_backbone("minilm"))


def test_unified_tags_mark_each_word_once_with_its_polarity(tokenizer):
    encoded = encode_sentence(tokenizer, TEXT, ASPECTS, "unified")
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    tags = {token: SCHEMES["unified"][label] for token, label in zip(tokens, encoded["labels"]) if label != IGNORED}
    assert tags["battery"] == "B-POS" and tags["life"] == "I-POS" and tags["keyboard"] == "B-NEG"
    assert tags["great"] == "O" and tags["the"] == "O"
    assert encoded["labels"][0] == encoded["labels"][-1] == IGNORED  # special tokens
    extraction = encode_sentence(tokenizer, TEXT, ASPECTS, "extraction")["labels"]
    assert [SCHEMES["extraction"][t] for t in extraction if t != IGNORED].count("B") == 2


def test_a_word_cut_into_sub_words_is_tagged_on_its_first_piece(tokenizer):
    text = "The trackpads are unresponsive."
    encoded = encode_sentence(tokenizer, text, [{"start": 4, "end": 14, "label": 0}], "unified")
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    assert tokens[1:5] == ["the", "track", "##pad", "##s"]
    assert [encoded["labels"][i] for i in (2, 3, 4)] == [SCHEMES["unified"].index("B-NEG"), IGNORED, IGNORED]


def test_decoding_gives_the_spans_back(tokenizer):
    for scheme in SCHEMES:
        encoded = encode_sentence(tokenizer, TEXT, ASPECTS, scheme)
        offsets = tokenizer(TEXT, return_offsets_mapping=True)["offset_mapping"]
        tags = [0 if label == IGNORED else label for label in encoded["labels"]]
        spans = decode_tags(encoded.word_ids(), offsets, tags, scheme)
        expected = [(4, 16, 2), (35, 43, 0)] if scheme == "unified" else [(4, 16, None), (35, 43, None)]
        assert spans == expected


def test_decoding_is_lenient_with_ill_formed_tags():
    names = SCHEMES["unified"]
    word_ids, offsets = [None, 0, 1, 2, 3, None], [(0, 0), (0, 3), (4, 9), (10, 13), (14, 18), (0, 0)]
    tags = [0, names.index("I-NEG"), names.index("I-NEG"), names.index("O"), names.index("B-POS"), 0]
    assert decode_tags(word_ids, offsets, tags) == [(0, 9, 0), (14, 18, 2)]  # an I after O starts an aspect


@pytest.mark.skipif(not (SHARED_DATA / "e2e").exists(), reason="benchmark data not beside the checkout")
def test_the_benchmark_aspects_survive_encoding_and_decoding(tokenizer):
    from absa.src.data import load_e2e

    sentences = load_e2e("rest14", SHARED_DATA)["train"]
    kept = total = 0
    for sentence in sentences:
        encoded = encode_sentence(tokenizer, sentence["text"], sentence["aspects"])
        offsets = tokenizer(sentence["text"], truncation=True, max_length=128, return_offsets_mapping=True)
        tags = [0 if label == IGNORED else label for label in encoded["labels"]]
        spans = set(decode_tags(encoded.word_ids(), offsets["offset_mapping"], tags))
        gold = {(a["start"], a["end"], a["label"]) for a in sentence["aspects"]}
        kept += len(spans & gold)
        total += len(gold)
    assert kept / total > 0.99  # the tags can express (almost) every gold aspect exactly
