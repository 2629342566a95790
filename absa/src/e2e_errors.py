"""What goes wrong when aspects are found in raw text: each found or gold aspect of a set of sentences sorted into
one outcome, so that a reader sees missed aspects, boundary errors, spurious aspects and wrong polarities apart.

    outcomes = span_outcomes(sentences, found)     # sentences as data.load_e2e gives them, found as Extractor gives
    outcomes["outcome"].value_counts()
"""

from __future__ import annotations

import pandas as pd

from absa.src.data import LABELS

OUTCOMES = ("correct", "right span, wrong polarity", "boundary error", "spurious", "missed")


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def span_outcomes(sentences: list[dict], found: list[list[dict]]) -> pd.DataFrame:
    """One row per found aspect (``correct``: exact span and polarity; ``right span, wrong polarity``;
    ``boundary error``: overlaps a gold aspect without matching it; ``spurious``: overlaps none) and one per gold
    aspect no found aspect overlaps (``missed``), with the sentence, both terms and both sentiments."""
    if len(sentences) != len(found):
        raise ValueError(f"{len(sentences)} sentences but {len(found)} lists of found aspects")
    rows = []
    for index, (sentence, predicted) in enumerate(zip(sentences, found)):
        gold = {(a["start"], a["end"]): a for a in sentence["aspects"]}
        for p in predicted:
            span = (p["start"], p["end"])
            match = gold.get(span) or next((g for s, g in gold.items() if _overlap(s, span)), None)
            if match is None:
                outcome = "spurious"
            elif (match["start"], match["end"]) != span:
                outcome = "boundary error"
            else:
                outcome = "correct" if match["label"] == p["label"] else "right span, wrong polarity"
            rows.append(
                {
                    "sentence": index,
                    "outcome": outcome,
                    "found": p["aspect"],
                    "found_sentiment": LABELS[p["label"]],
                    "gold": None if match is None else match["term"],
                    "gold_sentiment": None if match is None else LABELS[match["label"]],
                    "text": sentence["text"],
                }
            )
        for span, g in gold.items():
            if not any(_overlap(span, (p["start"], p["end"])) for p in predicted):
                rows.append(
                    {
                        "sentence": index,
                        "outcome": "missed",
                        "found": None,
                        "found_sentiment": None,
                        "gold": g["term"],
                        "gold_sentiment": LABELS[g["label"]],
                        "text": sentence["text"],
                    }
                )
    frame = pd.DataFrame(
        rows, columns=["sentence", "outcome", "found", "found_sentiment", "gold", "gold_sentiment", "text"]
    )
    frame["outcome"] = pd.Categorical(frame["outcome"], categories=OUTCOMES)
    return frame
