"""Render the README's results table from the exported models' ``metrics.json`` files.

    python -m absa.src.report        # rewrites the block between the results markers in README.md

Numbers are never typed by hand: the README block is this module's output, and a test checks that it is current.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from absa.src.data import PACKAGE_DIR

README = PACKAGE_DIR.parent / "README.md"
MODELS_DIR = PACKAGE_DIR / "models"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def model_metrics(models_dir: Path = MODELS_DIR) -> dict[str, dict]:
    """``metrics.json`` of every exported model folder (links such as ``default`` are skipped), by folder name."""
    return {folder.name: json.loads((folder / "metrics.json").read_text())
            for folder in sorted(models_dir.iterdir())
            if folder.is_dir() and not folder.is_symlink() and (folder / "metrics.json").exists()}


def results_table(models_dir: Path = MODELS_DIR) -> str:
    """A markdown table: one row per exported model, test scores in percent."""
    default = (models_dir / "default").resolve().name if (models_dir / "default").exists() else None
    lines = [
        "| model | backbone | regime | trained on | seed | best epoch (val) | val PN-F1 | test PN-F1 | test acc "
        "| test macro-F1 | trainable params | train time |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in model_metrics(models_dir).items():
        config, val, test = m["config"], m["validation"], m["test"] or {}

        def pct(split: dict, key: str) -> str:
            return f"{100 * split[key]:.2f}" if key in split else "-"

        label = f"`{name}`" + (" (default)" if name == default else "")
        lines.append(
            f"| {label} | {config['backbone']} | {config['regime']} | {m['data']['train']} | {config['seed']} "
            f"| {m['best_epoch']:g} | {pct(val, 'pn_macro_f1')} | {pct(test, 'pn_macro_f1')} "
            f"| {pct(test, 'accuracy')} | {pct(test, 'macro_f1')} | {m['trainable_params'] / 1e6:.1f}M "
            f"| {m['train_seconds'] / 60:.0f} min on {m['device']} |"
        )
    return "\n".join(lines)


def render_block(text: str, table: str) -> str:
    """``text`` with the part between the results markers replaced by ``table``."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise ValueError(f"README has no {START} ... {END} block")
    return pattern.sub(lambda _: f"{START}\n{table}\n{END}", text)


def main() -> None:
    README.write_text(render_block(README.read_text(), results_table()))
    print(f"updated {README}")


if __name__ == "__main__":
    main()
