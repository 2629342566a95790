import csv
import json
import os
import shutil
import subprocess

import pandas as pd
import pytest

from absa.src.analyze import main

PAIRS = [("pasta", "staff"), ("wine", "waiter"), ("pizza", "service"), ("soup", "host")]


def feedback_frame(rows: int = 300) -> pd.DataFrame:
    """Several hundred multi-sentence rows the model has never seen in this order, some without any aspect, some
    empty, with columns to carry through (a comma and a quote inside a text too)."""
    texts = []
    for i in range(rows):
        food, service = PAIRS[i % 4]
        other, _ = PAIRS[(i + 1) % 4]
        if i % 10 == 3:
            texts.append("" if i % 20 == 3 else "   ")
        elif i % 5 == 1:
            texts.append(f'We came back on a {food} night. "Again", she said.')
        else:
            texts.append(
                f"The {food} was great but the {service} was rude.\nWe came back on a {other} night. "
                f"The {other} was great but the {service} was rude."
            )
    return pd.DataFrame({"id": [f"r{i}" for i in range(rows)], "text": texts, "product": "bistro"})


def run(args, capsys):
    code = main([str(a) for a in args])
    return code, capsys.readouterr()


def test_a_feedback_file_becomes_one_row_per_aspect_in_input_order(tiny_tagger, tmp_path, capsys):
    frame = feedback_frame()
    source = tmp_path / "feedback.csv"
    frame.to_csv(source, index=False)
    output = tmp_path / "out" / "aspects.csv"
    code, printed = run([source, "--output", output, "--model", tiny_tagger, "--chunk_size", 64], capsys)
    assert code == 0, printed.err
    aspects = pd.read_csv(output, dtype={"id": str}, keep_default_na=False)
    assert list(aspects.columns) == [
        "row", "text", "aspect", "start", "end", "label", "sentiment", "confidence", "id", "product"
    ]  # fmt: skip
    assert aspects["row"].is_monotonic_increasing
    for record in aspects.itertuples():
        text = frame.loc[record.row, "text"]
        assert record.text == text and record.id == f"r{record.row}" and record.product == "bistro"
        assert text[record.start : record.end] == record.aspect  # offsets into that row's own text
    blank = frame["text"].str.strip() == ""
    without = frame["text"].str.startswith("We came back")
    assert set(aspects["row"]) == set(frame.index[~blank & ~without])
    # a three-sentence review gives its aspects from the first and the last sentence
    first = aspects[aspects["row"] == 0]
    assert [(a.aspect, a.sentiment) for a in first.itertuples()] == [
        ("pasta", "positive"), ("staff", "negative"), ("wine", "positive"), ("staff", "negative")
    ]  # fmt: skip
    assert f"{len(frame)} rows: {len(aspects)} aspects found; {without.sum()} texts without an aspect; " in printed.out
    assert f"{blank.sum()} empty texts skipped" in printed.out


def test_the_report_groups_aspects_and_opens_in_a_browser(tiny_tagger, tmp_path, capsys):
    source = tmp_path / "feedback.csv"
    feedback_frame(120).to_csv(source, index=False)
    report = tmp_path / "report"
    code, printed = run(
        [source, "--output", tmp_path / "aspects.csv", "--model", tiny_tagger, "--report", report], capsys
    )
    assert code == 0, printed.err
    assert {p.name for p in report.iterdir()} == {"index.html", "aspects.png", "net_sentiment.png", "report.json"}
    details = json.loads((report / "report.json").read_text())
    groups = {g["group"]: g for g in details["groups"]}
    staff = next(g for g in details["groups"] if "staff" in g["terms"])
    assert "waiter" in staff["terms"]  # grouped by meaning
    assert staff["negative_share"] == 1.0 and staff["examples"][0]["quote"].endswith("was rude.")
    assert not any("pasta" in g["terms"] and "staff" in g["terms"] for g in groups.values())
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium missing: CI must check the report in a real browser")
        pytest.skip("chromium not installed")
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", (report / "index.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert 'id="groups"' in dom and "staff" in dom and "aspects.png" in dom


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        (b"", "empty file"),
        (b"id,review\n1,great pasta\n", "no 'text' column"),
        (b"id,text\n1,caf\xe9 was great\n", "not UTF-8"),
        (b"id,text\n1,fine\n2,too,many,fields\n", "not a readable CSV"),
        ("directory", "a directory"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_no_output(tiny_tagger, tmp_path, capsys, content, message):
    source = tmp_path / "feedback.csv"
    if content == "directory":
        source.mkdir()
    elif content is not None:
        source.write_bytes(content)
    output = tmp_path / "aspects.csv"
    code, printed = run([source, "--output", output, "--model", tiny_tagger, "--report", tmp_path / "r"], capsys)
    assert code == 2 and message in printed.err
    assert not output.exists() and not (tmp_path / "r").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_a_bad_row_deep_in_a_large_file_leaves_no_output(tiny_tagger, tmp_path, capsys):
    source = tmp_path / "feedback.csv"
    feedback_frame(200).to_csv(source, index=False)
    with open(source, "a", newline="") as handle:
        csv.writer(handle).writerow(["r200", "The pasta was great.", "bistro", "one too many"])
    code, printed = run(
        [source, "--output", tmp_path / "aspects.csv", "--model", tiny_tagger, "--chunk_size", 50], capsys
    )
    assert code == 2 and "not a readable CSV" in printed.err
    assert not (tmp_path / "aspects.csv").exists()


def test_output_that_is_a_directory_or_the_input_is_refused(tiny_tagger, tmp_path, capsys):
    source = tmp_path / "feedback.csv"
    feedback_frame(10).to_csv(source, index=False)
    code, printed = run([source, "--output", tmp_path, "--model", tiny_tagger], capsys)
    assert code == 2 and "is a directory" in printed.err
    code, printed = run([source, "--output", source, "--model", tiny_tagger], capsys)
    assert code == 2 and "is the input file" in printed.err
    with pytest.raises(SystemExit) as exit_info:
        main([str(source), "--output", str(tmp_path / "a.csv"), "--chunk_size", "0"])
    assert exit_info.value.code == 2


ACCELERATE = ["accelerate", "launch", "--cpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no"]
ACCELERATE += ["--dynamo_backend", "no", "--main_process_port", "0", "-m", "absa.src.analyze"]


def launch(args: list, tmp_path) -> subprocess.CompletedProcess:
    """``analyze`` in two CPU processes under ``accelerate launch``."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HOME": str(tmp_path / "hf")}
    binary = shutil.which("accelerate") or os.path.join(os.path.dirname(os.sys.executable), "accelerate")
    command = [binary, *ACCELERATE[1:], *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)


def test_two_processes_under_accelerate_give_the_one_process_output_and_report(tiny_tagger, tmp_path, capsys):
    source = tmp_path / "feedback.csv"
    feedback_frame(300).to_csv(source, index=False)
    common = [source, "--model", tiny_tagger, "--chunk_size", 40]
    code, printed = run([*common, "--output", tmp_path / "one.csv", "--report", tmp_path / "one"], capsys)
    assert code == 0, printed.err
    done = launch([*common, "--output", tmp_path / "two.csv", "--report", tmp_path / "two"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    # the same rows in the same (input) order, though each process analysed every other chunk
    assert (tmp_path / "two.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    one, two = (json.loads((tmp_path / name / "report.json").read_text()) for name in ("one", "two"))
    assert two == one
    assert not list(tmp_path.glob(".two.csv.shards"))  # the shards are gone
    assert printed.out.splitlines()[-1].split(". Written")[0] in done.stdout  # the same counts, summed


def test_a_bad_row_under_accelerate_stops_every_process_with_a_message_and_no_output(tiny_tagger, tmp_path):
    source = tmp_path / "feedback.csv"
    feedback_frame(200).to_csv(source, index=False)
    with open(source, "a") as handle:
        handle.write('r200,"one text",bistro,an extra field\n')
    done = launch([source, "--model", tiny_tagger, "--chunk_size", 40, "--output", tmp_path / "out.csv"], tmp_path)
    assert done.returncode != 0 and "not a readable CSV" in done.stderr
    assert not (tmp_path / "out.csv").exists() and not list(tmp_path.glob(".out.csv.shards"))
