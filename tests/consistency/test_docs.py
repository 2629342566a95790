"""The committed docs are what the results files say."""

import pytest

from absa.src.report import DEPLOYMENT, METHODOLOGY, README, markers, render_file


@pytest.mark.parametrize("path", [README, DEPLOYMENT, METHODOLOGY], ids=lambda p: p.name)
def test_doc_tables_are_current(path):
    """Every generated block is exactly what the results files say: run `make report` after new results."""
    assert markers("results")[0] in README.read_text()
    assert path.read_text() == render_file(path)
