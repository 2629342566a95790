import json

import pytest

from conftest import REPO
from absa.src.report import END, README, START, render_block, results_table


def test_readme_results_block_is_current():
    """The README's table is exactly what the metrics files say: run `make report` after training."""
    text = README.read_text()
    block = text[text.index(START) + len(START):text.index(END)].strip()
    assert block == results_table()


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
    assert render_block(f"a\n{START}\nold\n{END}\nb", "new") == f"a\n{START}\nnew\n{END}\nb"
    with pytest.raises(ValueError):
        render_block("no markers", "new")
