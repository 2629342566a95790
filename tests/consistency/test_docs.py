"""The committed docs are what the results files say."""

from pathlib import Path

import pytest

from absa.src.report import DEPLOYMENT, DOCS, METHODOLOGY, README, markers, render_file

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_doc_tables_are_current(path):
    """Every generated block is exactly what the results files say: run `make report` after new results."""
    assert markers("results")[0] in README.read_text()
    assert path.read_text() == render_file(path)


@pytest.mark.parametrize(
    "path, sections",
    [
        (
            METHODOLOGY,
            [
                "Summary",
                "Task and metric",
                "Literature",
                "Approaches",
                "Ablation",
                "Error analysis",
                "Finding aspects (end-to-end)",
                "Where the goals come from",
                "Conclusion and next steps",
                "References",
            ],
        ),
        (
            DEPLOYMENT,
            [
                "High-level design",
                "Measured capacity",
                "Autoscaling for bursts",
                "Overload: queueing, back-pressure, nothing lost",
                "Continuous training",
                "Scaling to 10,000 requests/s",
            ],
        ),
    ],
    ids=lambda value: value.name if hasattr(value, "name") else "",
)
def test_docs_are_short_enough_to_be_read_and_hold_their_sections(path, sections):
    text = path.read_text()
    assert len(text.split()) <= 2500, f"{path.name}: {len(text.split())} words (wc -w), 2,500 at most"
    headings = [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("## ")]
    assert not set(sections) - set(headings), f"{path.name} lacks {sorted(set(sections) - set(headings))}"


@pytest.mark.parametrize("path", [*DOCS, *sorted(NOTEBOOKS.glob("*.ipynb"))], ids=lambda p: p.name)
def test_docs_speak_of_the_project_only(path):
    text = path.read_text().lower()
    for word in ("sitting", "session", "issue #", "issue tracker", "lent gpu", "the issue"):
        assert word not in text, f"{path.name} mentions {word!r}"
