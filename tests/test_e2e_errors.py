import pytest

from absa.src.e2e_errors import span_outcomes


def aspect(term, start, label):
    return {"term": term, "start": start, "end": start + len(term), "label": label}


def found(term, start, label):
    return {"aspect": term, "start": start, "end": start + len(term), "label": label}


def test_every_found_and_missed_aspect_gets_one_outcome_counted_by_hand():
    text = "The fish tacos were great, the staff rude and the decor loud."
    sentences = [
        {
            "text": text,
            "aspects": [aspect("fish tacos", 4, 2), aspect("staff", 31, 0), aspect("decor", 50, 0)],
        },
        {"text": "We left at nine.", "aspects": []},
    ]
    predictions = [
        # "tacos" inside "fish tacos": a boundary error; "staff" right span, wrong polarity; "decor" missed
        [found("tacos", 9, 2), found("staff", 31, 2)],
        [found("nine", 11, 1)],  # an aspect where the sentence has none
    ]
    outcomes = span_outcomes(sentences, predictions)
    assert outcomes["outcome"].value_counts().to_dict() == {
        "correct": 0,
        "right span, wrong polarity": 1,
        "boundary error": 1,
        "spurious": 1,
        "missed": 1,
    }
    wrong = outcomes[outcomes["outcome"] == "right span, wrong polarity"].iloc[0]
    assert (wrong["found_sentiment"], wrong["gold_sentiment"]) == ("positive", "negative")
    assert outcomes[outcomes["outcome"] == "boundary error"].iloc[0]["gold"] == "fish tacos"
    assert outcomes[outcomes["outcome"] == "missed"].iloc[0]["gold"] == "decor"
    assert outcomes[outcomes["outcome"] == "spurious"].iloc[0]["sentence"] == 1
    # exact span and polarity: correct, nothing else
    perfect = span_outcomes(sentences[:1], [[found("fish tacos", 4, 2), found("staff", 31, 0), found("decor", 50, 0)]])
    assert list(perfect["outcome"]) == ["correct"] * 3


def test_sentences_and_predictions_must_pair_up():
    with pytest.raises(ValueError, match="2 sentences but 1 lists"):
        span_outcomes([{"text": "a", "aspects": []}] * 2, [[]])
