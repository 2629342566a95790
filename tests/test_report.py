import json

import pytest

from conftest import REPO
from absa.src.report import DEPLOYMENT, METHODOLOGY, README, markers, render_block, render_file, results_table


@pytest.mark.parametrize("path", [README, DEPLOYMENT, METHODOLOGY], ids=lambda p: p.name)
def test_doc_tables_are_current(path):
    """Every generated block is exactly what the results files say: run `make report` after new results."""
    assert markers("results")[0] in README.read_text()
    assert path.read_text() == render_file(path)


def test_table_has_a_row_per_exported_model(tiny_model, tmp_path):
    folder, _ = tiny_model
    (tmp_path / "tiny").symlink_to(folder, target_is_directory=True)  # links are skipped...
    real = tmp_path / "real"
    real.mkdir()
    (real / "metrics.json").write_text((folder / "metrics.json").read_text())
    (tmp_path / "default").symlink_to(real, target_is_directory=True)
    table = results_table(tmp_path)
    rows = table.splitlines()[2:]
    assert len(rows) == 1 and rows[0].startswith("| `real` (default) | minilm | lora |")
    test_pn = json.loads((real / "metrics.json").read_text())["test"]["pn_macro_f1"]
    assert f"| {100 * test_pn:.2f} |" in rows[0]


def test_promoted_model_quotes_its_configuration_over_seeds(tiny_model, tmp_path):
    folder, _ = tiny_model
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["promoted"] = {"run_id": "b2", "configuration": "minilm lora r16 lr 0.0005", "seeds": [1, 2, 3],
                           "selected_by": "validation",
                           "configuration_scores_percent": {"test_pn_f1": {"mean": 70.0, "std": 10.0},
                                                            "test_acc": {"mean": 65.5, "std": 1.25}}}
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "metrics.json").write_text(json.dumps(metrics))
    table = results_table(tmp_path)
    assert table.splitlines()[2].startswith("| `d` | minilm | lora |")
    assert "over its 3 seeds the configuration scores test PN-F1 70.00 ± 10.00, accuracy 65.50 ± 1.25." in table


def test_render_block_needs_markers():
    start, end = markers("results")
    assert render_block(f"a\n{start}\nold\n{end}\nb", "new") == f"a\n{start}\nnew\n{end}\nb"
    with pytest.raises(ValueError):
        render_block("no markers", "new")


def test_ensembles_block_shows_members_and_ensemble(tmp_path):
    from absa.src.report import ensembles_block

    assert "python -m absa.src.ensemble" in ensembles_block(tmp_path)  # nothing measured yet
    entry = {"dataset": "d", "configuration": "minilm full lr 3e-05", "seeds": [1, 2],
             "members": {"test_pn_f1": [80.0, 82.0], "test_acc": [70.0, 74.0]},
             "ensemble": {"test_pn_f1": 83.5, "test_acc": 75.25}}
    (tmp_path / "ensembles.json").write_text(json.dumps([entry]))
    row = ensembles_block(tmp_path).splitlines()[2]
    assert row == "| d | minilm full lr 3e-05 | 2 | 81.00 (80.00, 82.00) | 83.50 | 72.00 (70.00, 74.00) | 75.25 |"
