"""Every notebook runs top to bottom in smoke mode (tiny settings), so none can rot."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import REPO, SHARED_DATA

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_smoke_mode(path: Path, tmp_path, monkeypatch):
    if not SHARED_DATA.exists() and not os.environ.get("CI"):
        pytest.skip("benchmark data not beside the checkout")
    monkeypatch.setenv("ABSA_SMOKE", "1")
    monkeypatch.setenv("ABSA_FIG_DIR", str(tmp_path / "figures"))
    monkeypatch.setenv("ABSA_DATA_DIR", str(SHARED_DATA))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    assert list((tmp_path / "figures").glob("*.png")), "the notebook saves its figures as PNG"
