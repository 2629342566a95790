import logging

import pandas as pd
import pytest

from absa.src.data import (
    BENCHMARKS,
    DataValidationError,
    add_training_rows,
    e2e_pairs,
    grouped_split,
    link_benchmarks,
    load_all_benchmarks,
    load_benchmark,
    load_e2e,
    load_file,
    read_frame,
)
from conftest import SHARED_DATA, synthetic_frame


def test_valid_file_loads_as_dataset(csv_file):
    path = csv_file("text,aspect,label,start,end,extra\nGreat food,food,2,6,10,x\nSlow service,service,0,5,12,y\n")
    dataset = load_file(path)
    assert dataset.column_names == ["text", "aspect", "label", "start", "end"]
    assert dataset["label"] == [2, 0]
    assert dataset["start"] == [6, 5]


def test_string_labels_any_case(csv_file):
    path = csv_file("text,aspect,label\nGreat food,food,POSITIVE\nok menu,menu,Neutral\nbad wine,wine,negative\n")
    assert read_frame(path)["label"].tolist() == [2, 1, 0]


@pytest.mark.parametrize("word", ["nan", "null", "NA", "None", "N/A"])
def test_words_that_look_missing_stay_words(csv_file, word):
    path = csv_file(f"text,aspect,label\nthe {word} was fine,{word},1\n")
    assert read_frame(path)["aspect"].tolist() == [word]


def test_missing_column_names_file_and_column(csv_file):
    path = csv_file("text,label\nGreat food,2\n")
    with pytest.raises(DataValidationError, match=r"data\.csv.*missing column\(s\) aspect"):
        read_frame(path)


def test_label_column_optional_when_not_required(csv_file):
    path = csv_file("text,aspect\nGreat food,food\n")
    assert "label" not in read_frame(path, require_labels=False).columns
    with pytest.raises(DataValidationError, match="label"):
        read_frame(path)


def test_empty_text_and_aspect_name_the_lines(csv_file):
    path = csv_file("text,aspect,label\nGreat food,food,2\n  ,service,0\nNice place, ,2\n")
    with pytest.raises(DataValidationError) as err:
        read_frame(path)
    message = str(err.value)
    assert "data.csv" in message
    assert "empty text in 1 row(s) at line(s) 3" in message
    assert "empty aspect in 1 row(s) at line(s) 4" in message


def test_unknown_label_names_value_and_line(csv_file):
    path = csv_file("text,aspect,label\nGreat food,food,2\nOdd,thing,conflict\nOdd2,thing,7\n")
    with pytest.raises(DataValidationError, match=r"unknown label.*'7'.*'conflict'.*line\(s\) 3, 4"):
        read_frame(path)


@pytest.mark.parametrize("content", ["", "\x00\x01\x02\xff\xfe garbage"])
def test_unreadable_or_empty_file(csv_file, content):
    path = csv_file(content)
    with pytest.raises(DataValidationError, match="data.csv"):
        read_frame(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataValidationError, match="file not found"):
        read_frame(tmp_path / "nope.csv")


def test_aspect_not_found_and_duplicates_are_reported_and_kept(csv_file, caplog):
    path = csv_file("text,aspect,label\nGreat food,food,2\nGreat food,food,2\nNice place,wine,2\n")
    with caplog.at_level(logging.WARNING):
        frame = read_frame(path)
    assert len(frame) == 3
    assert "aspect not found in text in 1 row(s)" in caplog.text
    assert "1 exact duplicate row(s)" in caplog.text


def test_grouped_split_keeps_sentences_on_one_side_and_is_seeded():
    frame = pd.concat([synthetic_frame()] * 2, ignore_index=True)  # every text appears several times
    train, val = grouped_split(frame, val_size=0.2, seed=1)
    assert set(train["text"]).isdisjoint(val["text"])
    assert len(train) + len(val) == len(frame)
    assert set(val["label"]) == {0, 1, 2}  # stratified: every class on the validation side
    again, _ = grouped_split(frame, val_size=0.2, seed=1)
    other, _ = grouped_split(frame, val_size=0.2, seed=2)
    assert train.equals(again)
    assert not train.equals(other)


def test_load_benchmark_uses_validation_file_when_present(tmp_path):
    folder = tmp_path / "bench"
    folder.mkdir()
    frame = synthetic_frame()
    for split in ("train", "validation", "test"):
        frame.to_csv(folder / f"{split}.csv", index=False)
    splits = load_benchmark("bench", tmp_path)
    assert {k: len(v) for k, v in splits.items()} == {"train": 45, "validation": 45, "test": 45}


def test_load_benchmark_splits_train_without_validation_file(synthetic_dataset):
    splits = load_benchmark(synthetic_dataset.name, synthetic_dataset.parent, val_size=0.2)
    assert len(splits["train"]) + len(splits["validation"]) == 45
    assert set(splits["train"]["text"]).isdisjoint(splits["validation"]["text"])


def test_unknown_benchmark_says_how_to_link(tmp_path):
    with pytest.raises(DataValidationError, match="absa.src.data link"):
        load_benchmark("nope", tmp_path)


def test_data_dir_from_environment(synthetic_dataset, monkeypatch):
    monkeypatch.setenv("ABSA_DATA_DIR", str(synthetic_dataset.parent))
    assert len(load_benchmark(synthetic_dataset.name)["test"]) == 45


def test_link_benchmarks(synthetic_dataset, tmp_path):
    made = link_benchmarks(synthetic_dataset.parent, tmp_path / "linked", default_test="synthetic")
    assert (tmp_path / "linked" / "synthetic" / "train.csv").exists()
    assert (tmp_path / "linked" / "test.csv").resolve() == (synthetic_dataset / "test.csv").resolve()
    assert len(made) == 2
    source = tmp_path / "source"
    (source / "e2e" / "rest14").mkdir(parents=True)
    (source / "b").mkdir()
    (source / "b" / "train.csv").write_text("text,aspect,label\nGood food,food,2\n")
    made = link_benchmarks(source, tmp_path / "with_e2e", default_test="b")
    assert sorted(p.name for p in made) == ["b", "e2e"] and (tmp_path / "with_e2e" / "e2e" / "rest14").is_dir()


@pytest.mark.skipif(not (SHARED_DATA / "mams").exists(), reason="benchmark data not beside the checkout")
def test_real_mams_keeps_the_aspect_nan():
    splits = load_benchmark("mams", SHARED_DATA)
    assert {k: len(v) for k, v in splits.items()} == {"train": 11186, "validation": 1332, "test": 1336}
    aspects = set(splits["train"]["aspect"]) | set(splits["validation"]["aspect"]) | set(splits["test"]["aspect"])
    assert "nan" in aspects


def test_extra_training_rows_never_include_an_evaluated_sentence(tmp_path):
    target = synthetic_frame()
    for name in ("target", "extra"):
        (tmp_path / name).mkdir()
    target.to_csv(tmp_path / "target" / "train.csv", index=False)
    test = pd.DataFrame({"text": ["The bread was stale."], "aspect": ["bread"], "label": [0]})
    test.to_csv(tmp_path / "target" / "test.csv", index=False)
    extra = pd.DataFrame(
        {
            "text": ["the  BREAD was stale.", "The soup was hot.", "Nice view."],
            "aspect": ["bread", "soup", "view"],
            "label": [0, 2, 2],
        }
    )
    extra.to_csv(tmp_path / "extra" / "train.csv", index=False)
    splits = load_benchmark("target", tmp_path, seed=1)
    validation_text = splits["validation"]["text"][0]
    pd.concat([extra, pd.DataFrame({"text": [validation_text], "aspect": ["x"], "label": [1]})]).to_csv(
        tmp_path / "extra" / "train.csv", index=False
    )
    joined, counts = add_training_rows(splits, ["extra"], tmp_path)
    assert counts == {"extra": {"added": 2, "dropped_overlap": 2}}  # one test and one validation sentence dropped
    assert len(joined["train"]) == len(splits["train"]) + 2
    assert {"The soup was hot.", "Nice view."} <= set(joined["train"]["text"])
    assert joined["validation"]["text"] == splits["validation"]["text"] and len(joined["test"]) == 1


def test_all_benchmarks_together_name_each_row_and_never_train_on_an_evaluated_sentence(four_benchmarks, tmp_path):
    splits, counts = load_all_benchmarks(four_benchmarks, seed=1)
    for split in ("train", "validation", "test"):
        parts = [load_benchmark(name, four_benchmarks, seed=1)[split] for name in BENCHMARKS]
        assert len(splits[split]) == sum(len(part) for part in parts)
        assert splits[split]["benchmark"] == [name for name, part in zip(BENCHMARKS, parts) for _ in range(len(part))]
    assert all(
        c == {"kept": len(load_benchmark(n, four_benchmarks, seed=1)["train"]), "dropped_overlap": 0}
        for n, c in counts.items()
    )

    # a MAMS training sentence that is also a restaurants test sentence (one review corpus) is dropped
    import shutil

    shutil.copytree(four_benchmarks, tmp_path / "data")
    restaurants_test = pd.read_csv(tmp_path / "data" / "semeval14_restaurants" / "test.csv")
    mams_train = pd.read_csv(tmp_path / "data" / "mams" / "train.csv")
    shared = restaurants_test.iloc[[0]].assign(text=restaurants_test["text"][0].upper())
    pd.concat([mams_train, shared]).to_csv(tmp_path / "data" / "mams" / "train.csv", index=False)
    joined, counts = load_all_benchmarks(tmp_path / "data", seed=1)
    assert counts["mams"]["dropped_overlap"] == 1 and len(joined["train"]) == len(splits["train"])
    assert restaurants_test["text"][0].upper() not in joined["train"]["text"]


def test_end_to_end_files_are_read_and_checked(tmp_path):
    import json

    from absa.src.data import load_e2e, read_e2e

    good = [
        {"text": "The staff was rude.", "aspects": [{"term": "staff", "start": 4, "end": 9, "label": 0}]},
        {"text": "We went on Monday.", "aspects": []},
    ]
    folder = tmp_path / "e2e" / "tiny"
    folder.mkdir(parents=True)
    for split in ("train", "validation", "test"):
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in good))
    assert load_e2e("tiny", tmp_path)["test"] == good  # a sentence without aspects stays
    bad = [
        {"text": "The staff was rude.", "aspects": [{"term": "staff", "start": 5, "end": 10, "label": 0}]},
        {"text": "Fine food.", "aspects": [{"term": "food", "start": 5, "end": 9, "label": 7}]},
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in bad) + "not json\n")
    with pytest.raises(DataValidationError) as error:
        read_e2e(path)
    message = str(error.value)
    assert "line 1: offsets 5:10 do not hold 'staff'" in message and "line 2: unknown label 7" in message
    assert "line 3" in message
    with pytest.raises(DataValidationError, match="file not found"):
        read_e2e(tmp_path / "none.jsonl")


@pytest.mark.skipif(not (SHARED_DATA / "e2e").exists(), reason="benchmark data not beside the checkout")
def test_the_shared_end_to_end_sets_read_cleanly():
    from absa.src.data import E2E_BENCHMARKS, load_e2e

    for name in E2E_BENCHMARKS:
        splits = load_e2e(name, SHARED_DATA)
        assert [len(splits[s]) for s in ("validation", "test")] == [304, 800]
        assert any(not sentence["aspects"] for sentence in splits["test"])  # sentences with no aspect are kept


def test_the_pairs_of_end_to_end_sets_keep_their_splits_and_offsets(tiny_e2e):
    splits = load_benchmark("e2e/tiny", tiny_e2e)
    sentences = load_e2e("tiny", tiny_e2e)
    for split in ("train", "validation", "test"):
        frame = splits[split].to_pandas()
        assert len(frame) == sum(len(s["aspects"]) for s in sentences[split])  # aspect-less sentences give none
        assert all(
            text[start:end] == aspect for text, aspect, start, end in frame[["text", "aspect", "start", "end"]].values
        )
    joint = load_benchmark("e2e/tiny+tiny", tiny_e2e)["validation"]
    assert set(joint["benchmark"]) == {"e2e/tiny"} and len(joint) == 2 * len(splits["validation"])
    assert e2e_pairs([{"text": "Nothing here.", "aspects": []}]).columns.tolist() == [
        "text",
        "aspect",
        "label",
        "start",
        "end",
    ]
