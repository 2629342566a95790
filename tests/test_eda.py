import pandas as pd
import pytest

from absa.src import eda
from absa.src.backbones import resolve_backbone
from absa.src.modeling import load_tokenizer


@pytest.fixture
def frame(tmp_path) -> pd.DataFrame:
    """Two benchmarks: d1 with a train and a test file, d2 with a train file only."""
    rows = {
        ("d1", "train"): [
            ("The pasta was great but the service slow.", "pasta", 2),
            ("The pasta was great but the service slow.", "service", 0),
            ("Nice wine.", "wine", 2),
        ],
        ("d1", "test"): [("Bad WINE.", "Wine", 0), ("The decor is new.", "decor", 1)],
        ("d2", "train"): [("Fast laptop.", "laptop", 2)],
    }
    for (name, split), values in rows.items():
        (tmp_path / name).mkdir(exist_ok=True)
        pd.DataFrame(values, columns=["text", "aspect", "label"]).to_csv(tmp_path / name / f"{split}.csv", index=False)
    return eda.load_all(tmp_path, datasets=("d1", "d2"))


def test_load_all_reads_every_split_of_every_benchmark(frame):
    assert frame[["dataset", "split"]].value_counts().to_dict() == {
        ("d1", "train"): 3,
        ("d1", "test"): 2,
        ("d2", "train"): 1,
    }
    assert frame["sentiment"].tolist()[:3] == ["positive", "negative", "positive"]
    assert eda.sizes(frame).loc["d1"].to_dict() == {"test": 2, "train": 3}


def test_label_shares_are_percent_per_split(frame):
    shares = eda.label_shares(frame)
    assert shares.loc[("d1", "train")].tolist() == [33.3, 0.0, 66.7]
    assert shares.loc[("d1", "test")].tolist() == [50.0, 50.0, 0.0]


def test_sentence_stats_count_multi_aspect_and_disagreeing_sentences(frame):
    stats = eda.sentence_stats(frame)
    assert stats.loc["d1", "sentences"] == 4  # the two-aspect sentence once
    assert stats.loc["d1", "aspects_per_sentence"] == 1.25
    assert stats.loc["d1", "multi_aspect_%"] == 25.0 and stats.loc["d1", "disagreeing_polarity_%"] == 25.0
    assert eda.aspects_per_sentence(frame)["aspects"].max() == 2


def test_unseen_test_aspects_ignore_case(frame):
    unseen = eda.unseen_test_aspects(frame)
    # "Wine" was seen as "wine" in train; "decor" was not
    assert unseen.loc["d1"].to_dict() == {
        "test_aspects": 2,
        "unseen_aspects": 1,
        "unseen_aspects_%": 50.0,
        "test_rows_with_unseen_aspect_%": 50.0,
    }


def test_top_aspects_and_token_lengths(frame):
    top = eda.top_aspects(frame, n=1)
    assert top.loc[("d1", "negative")] in ("service (1)", "wine (1)") and top.loc[("d2", "positive")] == "laptop (1)"
    lengths = eda.add_token_lengths(frame, load_tokenizer(resolve_backbone("minilm")))
    assert lengths.loc[lengths["aspect"] == "wine", "aspect_tokens"].item() == 1
    assert (lengths["text_tokens"] >= lengths["aspect_tokens"]).all()


def test_quality_counts_missing_aspects_duplicates_and_conflicts():
    frame = pd.DataFrame(
        {
            "dataset": "d",
            "split": "train",
            "text": ["Good food.", "Good food.", "Good food.", "Slow."],
            "aspect": ["food", "food", "food", "waiter"],
            "label": [2, 2, 0, 0],
        }
    )
    assert eda.quality(frame).loc[("d", "train")].to_dict() == {
        "rows": 4,
        "aspect_not_in_text": 1,
        "exact_duplicates": 1,
        "conflicting_pairs": 1,
    }
