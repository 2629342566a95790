"""Every notebook runs top to bottom in smoke mode (tiny settings), so none can rot."""

import os
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from absa.src import ensemble
from absa.src.ablation.runner import AblationArguments, run_grid
from conftest import REPO, SHARED_DATA

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="session")
def smoke_ablation(tmp_path_factory, synthetic_dataset) -> Path:
    """A tiny grid trained for real (two steps a run) into a throw-away ledger, with its seed ensemble: what
    notebook 02 reads in place of the committed ledger and reports."""
    work = tmp_path_factory.mktemp("ablation")
    tiny = {
        "dataset": synthetic_dataset.name,
        "data_dir": str(synthetic_dataset.parent),
        "backbone": "minilm",
        "epochs": 1,
        "max_steps": 2,
        "batch_size": 8,
        "val_size": 0.2,
        "bf16": "no",
        "seed": [1, 2],
    }
    experiments = [
        {"name": "main", "regime": "full", "learning_rate": 3e-5, **tiny},
        {"name": "lora", "regime": "lora", "learning_rate": 5e-4, **tiny},
        {"name": "learning_rate", "paired_with": "main", "regime": "full", "learning_rate": 1e-4, **tiny},
    ]
    (work / "grid.yaml").write_text(yaml.safe_dump({"experiments": experiments}))
    args = AblationArguments(
        grid=str(work / "grid.yaml"), ledger=str(work / "results.csv"), runs_dir=str(work / "runs")
    )
    run_grid(args)
    ensemble.run(
        ensemble.EnsembleArguments(
            dataset=synthetic_dataset.name,
            backbone="minilm",
            ledger=args.ledger,
            runs_dir=args.runs_dir,
            data_dir=str(synthetic_dataset.parent),
            output=str(work / "ensembles.json"),
            min_seeds=2,
        )
    )
    return work


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_smoke_mode(path: Path, tmp_path, monkeypatch, request):
    if not SHARED_DATA.exists() and not os.environ.get("CI"):
        pytest.skip("benchmark data not beside the checkout")
    monkeypatch.setenv("ABSA_SMOKE", "1")
    monkeypatch.setenv("ABSA_FIG_DIR", str(tmp_path / "figures"))
    monkeypatch.setenv("ABSA_DATA_DIR", str(SHARED_DATA))
    if path.name.startswith("02_"):
        work = request.getfixturevalue("smoke_ablation")
        monkeypatch.setenv("ABSA_ABLATION_DIR", str(work))
        monkeypatch.setenv("ABSA_REPORTS_DIR", str(work))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    assert list((tmp_path / "figures").glob("*.png")), "the notebook saves its figures as PNG"
