import json
import subprocess
import sys

from conftest import REPO, synthetic_frame


def test_loadtest_against_gunicorn_on_loopback(tiny_model, csv_file, tmp_path):
    folder, _ = tiny_model
    test = csv_file(synthetic_frame(), "rows.csv")
    output = tmp_path / "loadtest.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "absa.app.loadtest",
            "--model",
            str(folder),
            "--test",
            str(test),
            "--clients",
            "1",
            "4",
            "--seconds",
            "2",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(output.read_text())
    levels = report["levels"]
    assert [(level["clients"], level["micro_batching"]) for level in levels] == [
        (1, False),
        (4, False),
        (1, True),
        (4, True),
    ]
    for level in levels:
        assert level["errors"] == 0
        assert level["requests"] > 0 and level["throughput_rps"] > 0 and level["p95_ms"] > 0
    assert report["ceiling_rps"] > 0 and report["packing"]  # MiniLM is a BERT: the ceiling packs, as the server does
    for level in levels[2:]:  # what the micro-batcher did, from the server's own counters
        assert level["pairs_per_pass"] >= 1 and 0 < level["model_busy"] <= 1
    # one request per sentence with all of its aspects: the synthetic file has repeated sentences
    frame = synthetic_frame()
    assert report["pairs_per_request"] == round(len(frame) / frame["text"].nunique(), 2)
    assert report["memory_before_mb"] > 0 and report["memory_after_mb"] > 0
