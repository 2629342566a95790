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


def test_render_block_needs_markers():
    start, end = markers("results")
    assert render_block(f"a\n{start}\nold\n{end}\nb", "new") == f"a\n{start}\nnew\n{end}\nb"
    with pytest.raises(ValueError):
        render_block("no markers", "new")
