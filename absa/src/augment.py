"""Training-row augmentation: each polar row also joined with a training sentence of the opposite polarity, so the
model learns to read the sentiment of *its* aspect, not the sentence's mood."""

from __future__ import annotations

import numpy as np
import pandas as pd
from datasets import Dataset, DatasetDict

from absa.src.data import NEGATIVE, POSITIVE

AUGMENTATIONS = ("none", "opposite_pairs")


def opposite_pairs(train: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Training-time augmentation against reading the sentence's mood instead of the aspect's sentiment: for every
    Negative or Positive row, one new row whose text joins its sentence with another training sentence whose
    aspects all carry the opposite polarity (in random order), with the row's own aspect and label.

    The partner sentence never mentions the row's aspect (case ignored), so the label stays right. With a
    ``benchmark`` column (the general model) partners come from the same benchmark. Rows for which no partner
    exists are skipped. Aspect offsets (``start``, ``end``) follow the aspect. Returns only the new rows, with the
    columns of ``train``.
    """
    rng = np.random.default_rng(seed)
    new_rows = []
    groups = train.groupby("benchmark", sort=False) if "benchmark" in train.columns else [(None, train)]
    for _, part in groups:
        polarity = part.groupby("text")["label"].agg(lambda labels: labels.iloc[0] if labels.nunique() == 1 else -1)
        partners = {label: polarity.index[polarity == label].to_numpy() for label in (NEGATIVE, POSITIVE)}
        for row in part[part["label"].isin([NEGATIVE, POSITIVE])].to_dict("records"):
            pool = partners[POSITIVE if row["label"] == NEGATIVE else NEGATIVE]
            aspect = row["aspect"].lower()
            for _ in range(10):  # a few draws: most sentences do not mention the aspect
                if not len(pool):
                    break
                partner = pool[rng.integers(len(pool))]
                if aspect not in partner.lower():
                    if rng.random() < 0.5:
                        new_rows.append({**row, "text": f"{row['text']} {partner}"})
                    else:  # the row's sentence second: its aspect offsets move by the partner's length
                        shift = {key: row[key] + len(partner) + 1 for key in ("start", "end") if key in row}
                        new_rows.append({**row, **shift, "text": f"{partner} {row['text']}"})
                    break
    return pd.DataFrame(new_rows, columns=train.columns).astype(train.dtypes.to_dict())


def augment_training_rows(splits: DatasetDict, method: str, seed: int = 0) -> tuple[DatasetDict, int]:
    """The splits with ``method``'s new rows appended to the training split only (validation and test are never
    augmented), and how many rows were added. ``method``: ``none`` | ``opposite_pairs`` (see ``opposite_pairs``)."""
    if method == "none":
        return splits, 0
    if method != "opposite_pairs":
        raise ValueError(f"augment must be one of {AUGMENTATIONS}, not {method!r}")
    train = splits["train"].to_pandas()
    added = opposite_pairs(train, seed)
    augmented = pd.concat([train, added], ignore_index=True)
    return DatasetDict({**splits, "train": Dataset.from_pandas(augmented, preserve_index=False)}), len(added)
