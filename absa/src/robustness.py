"""Aspect-robustness probe: does the model read the sentiment of *its* aspect, or the sentence's mood?

    python -m absa.src.robustness [--model DIR] [--dataset semeval14_restaurants] [--limit N]

Two perturbations of the test set, in the spirit of ARTS (Xing et al., 2020), built by rules from the test and
training files (no generator model):

- ``add_opposite``: append a clause about *another* aspect with the opposite sentiment
  ("..., but the service was terrible."). The gold label must not change.
- ``flip_target``: in a sentence with a single aspect and a single opinion word from a small antonym lexicon, swap
  that word for its antonym ("great" -> "terrible"). The gold label must flip between Negative and Positive.

Only Negative and Positive rows are probed. Reported per probe: rows, accuracy on the original and on the perturbed
rows, and the share of originally-correct rows that the perturbation makes wrong. Writes aggregates only (no row) to
``absa/reports/robustness.json``, one entry per (model, dataset).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from absa.src.config import parse_arguments
from absa.src.data import NEGATIVE, PACKAGE_DIR, POSITIVE, load_benchmark
from absa.src.files import upsert_json_entry
from absa.src.modeling import weights_fingerprint
from absa.src.predict import Predictor

OPPOSITE_WORD = {POSITIVE: ["terrible", "awful", "disappointing"], NEGATIVE: ["excellent", "great", "wonderful"]}
_PAIRS = [
    ("great", "terrible"),
    ("good", "bad"),
    ("excellent", "awful"),
    ("delicious", "bland"),
    ("friendly", "rude"),
    ("fast", "slow"),
    ("best", "worst"),
    ("amazing", "horrible"),
    ("fresh", "stale"),
    ("love", "hate"),
    ("loved", "hated"),
    ("nice", "nasty"),
    ("wonderful", "dreadful"),
    ("perfect", "poor"),
    ("attentive", "inattentive"),
    ("reliable", "unreliable"),
    ("easy", "difficult"),
    ("tasty", "tasteless"),
    ("lovely", "unpleasant"),
    ("helpful", "unhelpful"),
    ("beautiful", "ugly"),
    ("happy", "unhappy"),
    ("comfortable", "uncomfortable"),
    ("impressive", "unimpressive"),
]
ANTONYMS = {**dict(_PAIRS), **{b: a for a, b in _PAIRS}}
POLARITY = {**{a: POSITIVE for a, _ in _PAIRS}, **{b: NEGATIVE for _, b in _PAIRS}}
LEXICON = re.compile(r"\b(" + "|".join(sorted(ANTONYMS, key=len, reverse=True)) + r")\b", re.I)


def frequent_aspects(train: pd.DataFrame, n: int = 30) -> list[str]:
    """The n most frequent aspects of a training set (lower-cased), the pool of "other" aspects."""
    return train["aspect"].str.lower().value_counts().head(n).index.tolist()


def add_opposite(test: pd.DataFrame, pool: list[str], seed: int = 0) -> pd.DataFrame:
    """Polar rows with a clause about another aspect (from ``pool``, absent from the text) of opposite sentiment."""
    rng = np.random.default_rng(seed)
    rows = []
    for row in test[test["label"].isin([NEGATIVE, POSITIVE])].itertuples():
        others = [a for a in pool if a not in row.text.lower() and row.aspect.lower() not in a]
        if not others:
            continue
        other, word = others[rng.integers(len(others))], rng.choice(OPPOSITE_WORD[row.label])
        text = f"{row.text.rstrip(' .!?')}, but the {other} was {word}."
        rows.append(
            {"original": row.text, "text": text, "aspect": row.aspect, "label": row.label, "expected": row.label}
        )
    return pd.DataFrame(rows)


def flip_target(test: pd.DataFrame) -> pd.DataFrame:
    """Single-aspect polar sentences whose one lexicon opinion word agrees with the gold label, swapped for its
    antonym; the expected label is the opposite one."""
    single = test[test.groupby("text")["aspect"].transform("size") == 1]
    rows = []
    for row in single[single["label"].isin([NEGATIVE, POSITIVE])].itertuples():
        words = LEXICON.findall(row.text)
        if len(words) != 1 or POLARITY[words[0].lower()] != row.label:
            continue
        word = words[0]
        antonym = ANTONYMS[word.lower()]
        antonym = antonym.capitalize() if word[0].isupper() else antonym
        text = LEXICON.sub(antonym, row.text, count=1)
        rows.append(
            {
                "original": row.text,
                "text": text,
                "aspect": row.aspect,
                "label": row.label,
                "expected": POSITIVE if row.label == NEGATIVE else NEGATIVE,
            }
        )
    return pd.DataFrame(rows)


def score_probe(predictor: Predictor, probe: pd.DataFrame) -> dict:
    """Accuracy before and after, and how often a correct prediction is made wrong by the perturbation."""
    if probe.empty:
        return {"rows": 0}
    before = predictor.predict(probe["original"].tolist(), probe["aspect"].tolist())
    after = predictor.predict(probe["text"].tolist(), probe["aspect"].tolist())
    correct_before = before == probe["label"].to_numpy()
    correct_after = after == probe["expected"].to_numpy()
    return {
        "rows": int(len(probe)),
        "accuracy_original": round(100 * float(correct_before.mean()), 2),
        "accuracy_perturbed": round(100 * float(correct_after.mean()), 2),
        "broken_share": round(100 * float((correct_before & ~correct_after).sum() / max(correct_before.sum(), 1)), 2),
    }


@dataclass
class RobustnessArguments:
    """Which model to probe on which benchmark's test set, and where the scores go."""

    model: str = field(default=str(PACKAGE_DIR / "models" / "default"), metadata={"help": "exported model folder"})
    dataset: str = field(default="semeval14_restaurants", metadata={"help": "benchmark whose test set is probed"})
    data_dir: str | None = field(default=None, metadata={"help": "default $ABSA_DATA_DIR or absa/data"})
    limit: int | None = field(default=None, metadata={"help": "probe only the first N test rows (smoke runs)"})
    seed: int = field(default=0, metadata={"help": "seeds which other aspect add_opposite appends"})
    output: str = field(default=str(PACKAGE_DIR / "reports" / "robustness.json"), metadata={"help": "JSON list"})

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be >= 1, not {self.limit!r}")


def run(args: RobustnessArguments) -> dict:
    splits = load_benchmark(args.dataset, args.data_dir)
    test, train = splits["test"].to_pandas(), splits["train"].to_pandas()
    test = test.head(args.limit) if args.limit else test
    predictor = Predictor(args.model)
    entry = {
        "model": Path(args.model).resolve().name,
        "weights_fingerprint": weights_fingerprint(args.model),
        "dataset": args.dataset,
        "test_rows": len(test),
        "probes": {
            "add_opposite": score_probe(predictor, add_opposite(test, frequent_aspects(train), args.seed)),
            "flip_target": score_probe(predictor, flip_target(test)),
        },
    }
    upsert_json_entry(args.output, entry, keys=("model", "dataset"))
    return entry


def main() -> None:
    args = parse_arguments(RobustnessArguments)
    entry = run(args)
    for name, probe in entry["probes"].items():
        print(f"{name}: {probe}")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
