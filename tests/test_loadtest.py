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
    assert [level["clients"] for level in report["levels"]] == [1, 4]
    for level in report["levels"]:
        assert level["errors"] == 0
        assert level["requests"] > 0
    assert report["memory_before_mb"] > 0 and report["memory_after_mb"] > 0
