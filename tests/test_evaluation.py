import json
import subprocess
import sys

import pandas as pd
import pytest

from conftest import REPO, synthetic_frame

SCRIPT = REPO / "absa" / "src" / "evaluation.py"


def run_cli(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, cwd="/")


def test_cli_end_to_end_with_gold_labels(tiny_model, csv_file, tmp_path):
    folder, _ = tiny_model
    frame = synthetic_frame().sample(frac=1.0, random_state=3)
    test = csv_file(frame, "gold.csv")
    output = tmp_path / "out" / "results.csv"
    done = run_cli("--model", folder, "--test", test, "--output", output, "--batch-size", 4, "--bf16", "no")
    assert done.returncode == 0, done.stderr
    results = pd.read_csv(output, keep_default_na=False)
    assert list(results.columns) == ["text", "aspect", "label"]
    assert results["text"].tolist() == frame["text"].tolist()  # input order, not the length-sorted order
    assert results["aspect"].tolist() == frame["aspect"].tolist()
    assert set(results["label"]) <= {0, 1, 2}
    metrics = json.loads((tmp_path / "out" / "results.metrics.json").read_text())
    expected = (results["label"].to_numpy() == frame["label"].to_numpy()).mean()
    assert metrics["accuracy"] == pytest.approx(expected)
    assert metrics["precision"] == "fp32"  # scores depend on it, so they say which it was
    report = done.stdout[done.stdout.index("PN-macro-F1") :]
    assert report.startswith(f"PN-macro-F1 (negative+positive): {100 * metrics['pn_macro_f1']:.2f}")
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_cli_without_labels_writes_predictions_only(tiny_model, csv_file, tmp_path):
    folder, _ = tiny_model
    test = csv_file("text,aspect\nThe nan was great,nan\nService was slow,service\n", "unlabelled.csv")
    output = tmp_path / "pred.csv"
    done = run_cli("--model", folder, "--test", test, "--output", output)
    assert done.returncode == 0, done.stderr
    assert pd.read_csv(output, keep_default_na=False)["aspect"].tolist() == ["nan", "service"]
    assert not (tmp_path / "pred.metrics.json").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        ("text,label\nGreat food,2\n", "missing column(s) aspect"),
        ("text,aspect,label\n ,food,2\n", "empty text"),
        ("text,aspect,label\nGreat food,,2\n", "empty aspect"),
        ("text,aspect,label\nGreat food,food,great\n", "unknown label"),
        ("", "cannot be read"),
    ],
)
def test_cli_bad_input_fails_cleanly(tiny_model, csv_file, tmp_path, content, message):
    folder, _ = tiny_model
    test = csv_file(content, "bad.csv")
    output = tmp_path / "out" / "bad_results.csv"
    done = run_cli("--model", folder, "--test", test, "--output", output)
    assert done.returncode == 2
    assert message in done.stderr and "bad.csv" in done.stderr
    assert not output.exists() and not (tmp_path / "out").exists()


def test_cli_missing_inputs_fail_cleanly(tiny_model, csv_file, tmp_path):
    folder, _ = tiny_model
    output = tmp_path / "results.csv"
    missing_test = run_cli("--model", folder, "--test", tmp_path / "nope.csv", "--output", output)
    assert missing_test.returncode == 2 and "file not found" in missing_test.stderr
    test = csv_file(synthetic_frame(), "ok.csv")
    missing_model = run_cli("--model", tmp_path / "no_model", "--test", test, "--output", output)
    assert missing_model.returncode == 2 and "no_model" in missing_model.stderr
    not_a_model = run_cli("--model", tmp_path, "--test", test, "--output", output)
    assert not_a_model.returncode == 2 and "absa_config.json" in not_a_model.stderr
    assert not output.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        # the first data row has one field more than the header: pandas would take the text for the index
        ("text,aspect\nThe food, sadly, was cold,food\n", "the header has 2 fields but line 2 has 4"),
        ("text,aspect\nGood food,food\nThe food, sadly, was cold,food\n", "line 3 has 4"),
        ("text,aspect\nGood food\n", "line 2 has 1"),
    ],
)
def test_cli_ragged_rows_fail_with_their_line(tiny_model, csv_file, tmp_path, content, message):
    done = run_cli("--model", tiny_model[0], "--test", csv_file(content, "ragged.csv"), "--output", tmp_path / "o.csv")
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o.csv").exists()


def test_cli_bad_outputs_and_damaged_models_fail_with_a_message(tiny_model, csv_file, tmp_path):
    import shutil

    folder, _ = tiny_model
    test = csv_file(synthetic_frame().head(5), "ok.csv")
    (tmp_path / "a_file").write_text("x")
    for output, message in [(tmp_path, "is a directory"), (tmp_path / "a_file" / "o.csv", "is a file")]:
        done = run_cli("--model", folder, "--test", test, "--output", output)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    truncated = tmp_path / "truncated"
    shutil.copytree(folder, truncated)
    weights = truncated / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    no_regime = tmp_path / "no_regime"
    shutil.copytree(folder, no_regime)
    config = json.loads((no_regime / "absa_config.json").read_text())
    (no_regime / "absa_config.json").write_text(json.dumps({k: v for k, v in config.items() if k != "regime"}))
    for model, message in [(truncated, "cannot load the model folder"), (no_regime, "missing regime")]:
        done = run_cli("--model", model, "--test", test, "--output", tmp_path / "o.csv")
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "o.csv").exists()


def test_an_unlabelled_run_removes_a_labelled_runs_scores(tiny_model, csv_file, tmp_path):
    folder, _ = tiny_model
    output = tmp_path / "results.csv"
    assert (
        run_cli("--model", folder, "--test", csv_file(synthetic_frame(), "gold.csv"), "--output", output).returncode
        == 0
    )
    assert (tmp_path / "results.metrics.json").exists()
    unlabelled = csv_file("text,aspect\nGreat pasta,pasta\nGreat pasta,parking\n", "plain.csv")
    done = run_cli("--model", folder, "--test", unlabelled, "--output", output)
    assert done.returncode == 0 and not (tmp_path / "results.metrics.json").exists()
    assert "1 row(s) name an aspect that does not occur in their text" in done.stdout


def test_the_default_model_path_does_not_depend_on_the_working_directory():
    from absa.src.predict import DEFAULT_MODEL

    assert DEFAULT_MODEL.is_absolute() and (DEFAULT_MODEL / "absa_config.json").exists()


def test_probabilities_are_written_beside_the_labels_when_asked(tiny_model, csv_file, tmp_path):
    from absa.src.predict import Predictor

    folder, _ = tiny_model
    test = csv_file("text,aspect\nGreat pasta,pasta\nAwful decor,decor\n", "plain.csv")
    done = run_cli("--model", folder, "--test", test, "--output", tmp_path / "p.csv", "--probabilities")
    assert done.returncode == 0, done.stderr
    results = pd.read_csv(tmp_path / "p.csv")
    assert list(results.columns) == ["text", "aspect", "label", "p_negative", "p_neutral", "p_positive"]
    probs = results[["p_negative", "p_neutral", "p_positive"]].to_numpy()
    assert probs.sum(axis=1) == pytest.approx([1.0, 1.0], abs=1e-5) and (probs.argmax(1) == results["label"]).all()
    expected = Predictor(folder).predict_proba(["Great pasta", "Awful decor"], ["pasta", "decor"])
    assert probs == pytest.approx(expected, abs=1e-5)


def test_the_scores_name_the_precision_they_were_computed_in(tiny_model, csv_file, tmp_path):
    folder, _ = tiny_model
    test = csv_file(synthetic_frame(), "gold.csv")
    done = run_cli("--model", folder, "--test", test, "--output", tmp_path / "q.csv", "--quantize", "yes")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "q.metrics.json").read_text())["precision"] == "int8"
