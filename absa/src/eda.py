"""Exploratory statistics of the benchmarks, as DataFrames (the EDA notebook plots them)."""

from __future__ import annotations

import os

import pandas as pd

from absa.src.data import BENCHMARKS, LABELS, data_dir, read_frame


def load_all(
    root: str | os.PathLike | None = None, datasets: tuple[str, ...] = BENCHMARKS, limit: int | None = None
) -> pd.DataFrame:
    """Every file of every benchmark in one frame: dataset, split, text, aspect, label, sentiment."""
    frames = []
    for name in datasets:
        for split in ("train", "validation", "test"):
            path = data_dir(root) / name / f"{split}.csv"
            if path.exists():
                frame = read_frame(path)
                frames.append(
                    frame.head(limit).assign(dataset=name, split=split)
                    if limit
                    else frame.assign(dataset=name, split=split)
                )
    frame = pd.concat(frames, ignore_index=True)
    frame["sentiment"] = frame["label"].map(dict(enumerate(LABELS)))
    return frame[["dataset", "split", "text", "aspect", "label", "sentiment"]]


def sizes(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows per dataset and split."""
    return frame.pivot_table(index="dataset", columns="split", values="text", aggfunc="size", fill_value=0)


def label_shares(frame: pd.DataFrame) -> pd.DataFrame:
    """Share of each sentiment per dataset and split, in percent."""
    counts = frame.groupby(["dataset", "split", "sentiment"]).size().unstack(fill_value=0)[list(LABELS)]
    return (100 * counts.div(counts.sum(axis=1), axis=0)).round(1)


def add_token_lengths(frame: pd.DataFrame, tokenizer) -> pd.DataFrame:
    """Adds text_tokens and aspect_tokens (word pieces, without special tokens)."""
    frame = frame.copy()
    frame["text_tokens"] = [
        len(ids) for ids in tokenizer(frame["text"].tolist(), add_special_tokens=False)["input_ids"]
    ]
    frame["aspect_tokens"] = [
        len(ids) for ids in tokenizer(frame["aspect"].tolist(), add_special_tokens=False)["input_ids"]
    ]
    return frame


def sentence_stats(frame: pd.DataFrame) -> pd.DataFrame:
    """Per dataset: sentences, mean aspects per sentence, share of multi-aspect sentences, and the share of
    sentences whose aspects disagree in polarity (the cases a sentence-level classifier must get wrong)."""
    per_sentence = frame.groupby(["dataset", "split", "text"]).agg(
        aspects=("aspect", "size"), polarities=("label", "nunique")
    )
    grouped = per_sentence.groupby("dataset")
    return pd.DataFrame(
        {
            "sentences": grouped.size(),
            "aspects_per_sentence": grouped["aspects"].mean().round(2),
            "multi_aspect_%": (100 * grouped["aspects"].apply(lambda a: (a > 1).mean())).round(1),
            "disagreeing_polarity_%": (100 * grouped["polarities"].apply(lambda p: (p > 1).mean())).round(1),
        }
    )


def aspects_per_sentence(frame: pd.DataFrame) -> pd.DataFrame:
    """dataset, aspects (count per sentence) for plotting the distribution."""
    return frame.groupby(["dataset", "split", "text"]).size().rename("aspects").reset_index()


def top_aspects(frame: pd.DataFrame, n: int = 8) -> pd.DataFrame:
    """The n most frequent (lower-cased) aspects per dataset and sentiment, as 'aspect (count)' strings."""
    counts = frame.assign(a=frame["aspect"].str.lower()).groupby(["dataset", "sentiment", "a"]).size()
    rows = {}
    for (dataset, sentiment), group in counts.groupby(level=[0, 1]):
        top = group.droplevel([0, 1]).nlargest(n)
        rows[(dataset, sentiment)] = ", ".join(f"{a} ({c})" for a, c in top.items())
    return pd.Series(rows, name="most frequent aspects").unstack()[list(LABELS)]


def unseen_test_aspects(frame: pd.DataFrame) -> pd.DataFrame:
    """Per dataset: test aspects never seen (lower-cased) in train/validation, as unique aspects and as rows."""
    rows = {}
    for dataset, group in frame.groupby("dataset"):
        seen = set(group.loc[group["split"] != "test", "aspect"].str.lower())
        test = group.loc[group["split"] == "test", "aspect"].str.lower()
        unseen = ~test.isin(seen)
        rows[dataset] = {
            "test_aspects": test.nunique(),
            "unseen_aspects": test[unseen].nunique(),
            "unseen_aspects_%": round(100 * test[unseen].nunique() / max(test.nunique(), 1), 1),
            "test_rows_with_unseen_aspect_%": round(100 * unseen.mean(), 1),
        }
    return pd.DataFrame(rows).T


def quality(frame: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and split: aspects not found in their text, exact duplicate rows, and (text, aspect) pairs that
    occur with more than one label."""
    rows = {}
    for (dataset, split), group in frame.groupby(["dataset", "split"]):
        found = [a.lower() in t.lower() for t, a in zip(group["text"], group["aspect"])]
        labels_per_pair = group.groupby(["text", "aspect"])["label"].nunique()
        rows[(dataset, split)] = {
            "rows": len(group),
            "aspect_not_in_text": len(group) - sum(found),
            "exact_duplicates": int(group.duplicated(["text", "aspect", "label"]).sum()),
            "conflicting_pairs": int((labels_per_pair > 1).sum()),
        }
    return pd.DataFrame(rows).T
