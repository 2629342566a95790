import pandas as pd
import pytest

from absa.src.augment import augment_training_rows, opposite_pairs
from absa.src.data import load_benchmark
from conftest import synthetic_frame


def _two_domain_frame() -> pd.DataFrame:
    frame = pd.concat(
        [
            synthetic_frame().assign(benchmark="restaurants"),
            synthetic_frame().assign(benchmark="laptops", text=lambda f: f["text"] + " (laptop)"),
        ]
    )
    # one sentence with two aspects of opposite polarities: never a partner
    mixed = pd.DataFrame(
        {
            "text": ["The pasta was great but the service was slow."] * 2,
            "aspect": ["pasta", "service"],
            "label": [2, 0],
            "benchmark": "restaurants",
        }
    )
    frame = pd.concat([frame, mixed], ignore_index=True)
    start = frame.apply(lambda row: row["text"].find(row["aspect"]), axis=1)
    return frame.assign(start=start, end=start + frame["aspect"].str.len())


def test_opposite_pairs_keep_the_aspect_label_and_join_an_opposite_sentence_of_the_same_benchmark():
    train = _two_domain_frame()
    polarity = train.groupby("text")["label"].agg(set)
    added = opposite_pairs(train, seed=3)
    polar = train[train["label"] != 1]
    assert len(added) == len(polar) and list(added.columns) == list(train.columns)
    assert sorted(added["label"]) == sorted(polar["label"]) and set(added["label"]) == {0, 2}
    orders = set()
    for row in added.itertuples():
        original = polar[
            (polar["aspect"] == row.aspect)
            & (polar["label"] == row.label)
            & (polar["benchmark"] == row.benchmark)
            & polar["text"].map(lambda t, text=row.text: text.startswith(t + " ") or text.endswith(" " + t))
        ]
        assert len(original) >= 1
        text = original["text"].iloc[0]
        orders.add(row.text.startswith(text + " "))
        partner = (
            row.text.removeprefix(text + " ") if row.text.startswith(text + " ") else row.text.removesuffix(" " + text)
        )
        assert polarity[partner] == {2 - row.label}  # every aspect of the partner has the opposite polarity
        assert row.aspect not in partner.lower()
        assert train.loc[train["text"] == partner, "benchmark"].eq(row.benchmark).all()
        assert row.text[row.start : row.end] == row.aspect  # offsets follow the aspect
    assert orders == {True, False}  # the row's sentence comes first or second
    assert opposite_pairs(train, seed=3).equals(added) and not opposite_pairs(train, seed=4).equals(added)


def test_opposite_pairs_skip_rows_without_a_partner():
    train = pd.DataFrame(
        {
            "text": ["Great pasta.", "Great wine.", "We ate at noon."],
            "aspect": ["pasta", "wine", "noon"],
            "label": [2, 2, 1],
        }
    )
    assert opposite_pairs(train).empty


def test_augmentation_touches_the_training_split_only(synthetic_dataset):
    splits = load_benchmark(synthetic_dataset.name, synthetic_dataset.parent, seed=1)
    augmented, n = augment_training_rows(splits, "opposite_pairs", seed=1)
    assert n > 0 and len(augmented["train"]) == len(splits["train"]) + n
    assert augmented["train"]["text"][: len(splits["train"])] == splits["train"]["text"]
    for split in ("validation", "test"):
        assert augmented[split]["text"] == splits[split]["text"]
    assert augment_training_rows(splits, "none")[0] is splits
    with pytest.raises(ValueError, match="augment must be one of"):
        augment_training_rows(splits, "mixup")
