import json

import numpy as np
import pandas as pd

from absa.src import robustness
from absa.src.modeling import weights_fingerprint
from absa.src.robustness import RobustnessArguments, add_opposite, flip_target


def _test_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": [
                "The pasta was great.",
                "Great pasta but bad service.",
                "Great pasta but bad service.",
                "We ordered the soup.",
                "The staff were rude.",
            ],
            "aspect": ["pasta", "pasta", "service", "soup", "staff"],
            "label": [2, 2, 0, 1, 0],
        }
    )


def test_add_opposite_appends_another_aspect_with_the_other_sentiment():
    probe = add_opposite(_test_rows(), pool=["pasta", "wine list", "decor"], seed=0)
    assert len(probe) == 4  # the Neutral row is not probed
    first = probe.iloc[0]
    assert first["text"].startswith("The pasta was great, but the ") and first["expected"] == 2
    assert "pasta" not in first["text"].removeprefix("The pasta was great")  # the other aspect is a different one
    assert any(word in first["text"] for word in robustness.OPPOSITE_WORD[2])
    assert (probe["expected"] == probe["label"]).all()


def test_flip_target_swaps_the_single_opinion_word_of_single_aspect_sentences():
    probe = flip_target(_test_rows())
    assert probe["original"].tolist() == ["The pasta was great.", "The staff were rude."]  # two-aspect text skipped
    assert probe["text"].tolist() == ["The pasta was terrible.", "The staff were friendly."]
    assert probe["expected"].tolist() == [0, 2]


def test_run_scores_both_probes_and_keeps_one_entry_per_model_and_dataset(tiny_model, synthetic_dataset, tmp_path):
    args = RobustnessArguments(
        model=str(tiny_model[0]),
        dataset=synthetic_dataset.name,
        data_dir=str(synthetic_dataset.parent),
        output=str(tmp_path / "robustness.json"),
    )
    entry = robustness.run(args)
    probe = entry["probes"]["add_opposite"]
    assert probe["rows"] == 30  # the 30 polar rows of the synthetic test set
    assert entry["weights_fingerprint"] == weights_fingerprint(tiny_model[0])  # which weights were probed
    robustness.run(args)
    assert len(json.loads((tmp_path / "robustness.json").read_text())) == 1


class LookupPredictor:
    """Predicts by table: text -> label."""

    def __init__(self, labels: dict[str, int]) -> None:
        self.labels = labels

    def predict(self, texts, aspects):
        return np.array([self.labels[text] for text in texts])


def test_score_probe_counts_correct_predictions_the_perturbation_breaks():
    probe = pd.DataFrame(
        {
            "original": ["a", "b", "c", "d"],
            "text": ["a2", "b2", "c2", "d2"],
            "aspect": ["x"] * 4,
            "label": [2, 2, 0, 0],
            "expected": [2, 2, 0, 0],
        }
    )
    # right before: a, b, c; right after: a2 and d2. Of the three right before, b and c broke.
    predictor = LookupPredictor({"a": 2, "b": 2, "c": 0, "d": 2, "a2": 2, "b2": 0, "c2": 2, "d2": 0})
    assert robustness.score_probe(predictor, probe) == {
        "rows": 4,
        "accuracy_original": 75.0,
        "accuracy_perturbed": 50.0,
        "broken_share": 66.67,
    }
    assert robustness.score_probe(predictor, probe.head(0)) == {"rows": 0}
