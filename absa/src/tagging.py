"""Aspect spans <-> BIO tags on sub-word tokens, for aspect term extraction (B, I, O) and unified tagging, whose tags
also carry the polarity (B/I x NEG/NEU/POS, and O; Li et al., 2019).

A word is what the tokenizer's pre-tokenizer splits off (punctuation is its own word); it is tagged on its first
sub-word, and its other sub-words are ignored by the loss (label -100), so a word's tag never depends on how it is cut.
A word belongs to an aspect when its characters overlap the aspect's span. Decoding reads the first sub-word of each
word: B starts an aspect, I continues it (or starts one after O), O ends it; a unified aspect takes the polarity of
its first word.
"""

from __future__ import annotations

from absa.src.data import NEGATIVE, NEUTRAL, POSITIVE

IGNORED = -100
POLARITY_TAGS = {NEGATIVE: "NEG", NEUTRAL: "NEU", POSITIVE: "POS"}
SCHEMES = {
    "extraction": ("O", "B", "I"),
    "unified": ("O", *(f"{bio}-{name}" for name in POLARITY_TAGS.values() for bio in "BI")),
}


def _tag(scheme: str, bio: str, label: int | None) -> int:
    name = bio if scheme == "extraction" else f"{bio}-{POLARITY_TAGS[label]}"
    return SCHEMES[scheme].index(name)


def encode_sentence(tokenizer, text: str, aspects: list[dict], scheme: str = "unified", max_length: int = 128) -> dict:
    """Token ids and per-token tag ids (``labels``) of one sentence with its gold aspects (``start``, ``end``,
    ``label``), cut to ``max_length`` tokens."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}, not {scheme!r}")
    encoded = tokenizer(text, truncation=True, max_length=max_length, return_offsets_mapping=True)
    word_ids, offsets = encoded.word_ids(), encoded.pop("offset_mapping")
    labels, previous_word, previous_aspect = [], None, None
    for word, (start, _) in zip(word_ids, offsets):
        if word is None or word == previous_word:
            labels.append(IGNORED)
            continue
        previous_word = word
        word_end = max(e for w, (_, e) in zip(word_ids, offsets) if w == word)
        aspect = next((a for a in aspects if start < a["end"] and a["start"] < word_end), None)
        if aspect is None:
            labels.append(SCHEMES[scheme].index("O"))
        else:
            labels.append(_tag(scheme, "I" if aspect is previous_aspect else "B", aspect["label"]))
        previous_aspect = aspect
    encoded["labels"] = labels
    return encoded


def decode_tags(
    word_ids: list[int | None], offsets: list[tuple[int, int]], tag_ids: list[int], scheme: str = "unified"
) -> list[tuple[int, int, int | None]]:
    """The (start, end, label) character spans that per-token tags describe (label None for extraction tags).
    Only the first sub-word of each word is read; the others extend the word's span."""
    names = SCHEMES[scheme]
    words: list[list] = []  # [start, end, tag name] per word, in order
    for i, word in enumerate(word_ids):
        if word is None:
            continue
        if words and words[-1][3] == word:
            words[-1][1] = offsets[i][1]
        else:
            words.append([offsets[i][0], offsets[i][1], names[tag_ids[i]], word])
    spans, current = [], None
    for start, end, name, _ in words:
        bio, _, polarity = name.partition("-")
        if bio == "B" or (bio == "I" and current is None):
            if current:
                spans.append(tuple(current))
            label = next((k for k, v in POLARITY_TAGS.items() if v == polarity), None)
            current = [start, end, label]
        elif bio == "I":
            current[1] = end
        elif current:
            spans.append(tuple(current))
            current = None
    if current:
        spans.append(tuple(current))
    return spans
