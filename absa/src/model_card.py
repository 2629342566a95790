"""A model folder's card (``README.md``), rendered from its run record with ``huggingface_hub.ModelCard`` and the
template ``templates/model_card.md``."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from huggingface_hub import ModelCard, ModelCardData

from absa.src.backbones import hub_id
from absa.src.config import describe
from absa.src.data import PACKAGE_DIR
from absa.src.files import write_text
from absa.src.records import RunRecord

TEMPLATE = Path(__file__).parent / "templates" / "model_card.md"
TAGGER_TEMPLATE = Path(__file__).parent / "templates" / "tagger_card.md"


def scores_table(record: RunRecord) -> str:
    """Validation and test scores (percent) as a markdown table; a run on several benchmarks adds one test row per
    benchmark."""
    rows = {f"validation (epoch {record.best_epoch:g})": record.validation} if record.validation else {}
    if record.test:
        rows["test"] = record.test
        rows |= {f"test: {name}": scores for name, scores in record.test.get("by_benchmark", {}).items()}
    table = [
        {
            "split": split,
            "PN-macro-F1": f"{100 * s['pn_macro_f1']:.2f}",
            "accuracy": f"{100 * s['accuracy']:.2f}",
            "macro-F1": f"{100 * s['macro_f1']:.2f}",
        }
        for split, s in rows.items()
    ]
    return pd.DataFrame(table).to_markdown(index=False, disable_numparse=True)


def trained_with(record: RunRecord) -> str:
    """The rows a run learned from beyond its training file, as a clause (empty if none)."""
    counts = record.data.get("extra_train") or {}
    parts = [f"{counts[name]['added']:,} training rows of {name}" for name in counts if "added" in counts[name]]
    if record.data.get("n_augmented"):
        parts.append(f"{record.data['n_augmented']:,} rows added by `{record.config['augment']}` augmentation")
    return (" and " + ", ".join(parts)) if parts else ""


def promoted_summary(promoted: dict) -> str:
    """One sentence on where a promoted model comes from and how its configuration scores over seeds."""
    scores = promoted["configuration_scores_percent"]
    origin = (
        f"grid run `{promoted['run_id']}` ({promoted['configuration']}), chosen on validation by `absa.src.promote`"
    )
    if len(promoted["seeds"]) == 1:
        return f"{origin}; its configuration has one seed so far, so there is no spread over seeds to quote yet."
    return (
        f"{origin}; over its {len(promoted['seeds'])} seeds the configuration scores test PN-F1 "
        f"{scores['test_pn_f1']['mean']:.2f} ± {scores['test_pn_f1']['std']:.2f}, accuracy "
        f"{scores['test_acc']['mean']:.2f} ± {scores['test_acc']['std']:.2f}."
    )


def render_model_card(folder: str | os.PathLike, record: RunRecord) -> ModelCard:
    """The card of ``folder`` (a promoted model's says where it comes from); paths inside the repository are shown
    relative to it."""
    folder = Path(folder)
    config = record.config
    repo = PACKAGE_DIR.parent.resolve()
    shown = folder.resolve().relative_to(repo) if folder.resolve().is_relative_to(repo) else folder
    base_model = hub_id(config["backbone"])
    card_data = ModelCardData(
        language="en",
        library_name="peft" if config["regime"] == "lora" else "transformers",
        base_model=base_model,
        pipeline_tag="text-classification",
        tags=["aspect-based-sentiment-analysis", "absa"],
    )
    return ModelCard.from_template(
        card_data,
        template_path=str(TEMPLATE),
        name=folder.name,
        configuration=describe(config),
        epochs=config["epochs"],
        seed=config["seed"],
        trained_on=record.data["train"],
        trained_with=trained_with(record),
        best_epoch=f"{record.best_epoch:g}",
        averaged_over=", ".join((record.validation or record.test or {}).get("averaged_over", [])),
        refit=config.get("refit", False),
        scores=scores_table(record),
        trainable_params=f"{record.trainable_params:,}",
        total_params=f"{record.total_params:,}",
        train_seconds=f"{record.train_seconds:.0f}",
        device=record.device,
        commit=record.commit,
        shown=shown,
        base_model=base_model,
        regime=config["regime"],
        calibration=record.calibration,
        rebuilt_from=record.rebuilt_from,
        collapsed=record.collapsed,
        bf16=record.bf16,
        note=f"`{folder.name}` is {promoted_summary(record.promoted)}" if record.promoted else "",
    )


def write_model_card(folder: str | os.PathLike, record: RunRecord) -> Path:
    """Write the card to ``folder/README.md``."""
    return write_text(Path(folder) / "README.md", str(render_model_card(folder, record)))


def span_scores_table(record: RunRecord) -> str:
    """A tagger's validation and test span scores (percent): end-to-end, extraction and PN F1 with precision and
    recall; a tagger trained on several sets adds one test row per set."""
    rows = {f"validation (epoch {record.best_epoch:g})": record.validation, "test": record.test}
    rows |= {f"test: {name}": scores for name, scores in record.test.get("by_benchmark", {}).items()}
    table = [
        {"split": split}
        | {
            f"{kind} F1 (P / R)": f"{100 * s[kind]['f1']:.2f} ({100 * s[kind]['precision']:.1f} / "
            f"{100 * s[kind]['recall']:.1f})"
            for kind in ("e2e", "extraction", "pn")
        }
        for split, s in rows.items()
    ]
    return pd.DataFrame(table).to_markdown(index=False, disable_numparse=True)


def write_tagger_card(folder: str | os.PathLike, record: RunRecord) -> Path:
    """Write an aspect tagger's card (``absa.src.extract``) to ``folder/README.md``."""
    folder, config = Path(folder), record.config
    card_data = ModelCardData(
        language="en",
        library_name="peft" if config["regime"] == "lora" else "transformers",
        base_model=hub_id(config["backbone"]),
        pipeline_tag="token-classification",
        tags=["aspect-based-sentiment-analysis", "absa", "aspect-term-extraction"],
    )
    card = ModelCard.from_template(
        card_data,
        template_path=str(TAGGER_TEMPLATE),
        name=folder.name,
        config=config,
        trained_on=record.data["train"],
        best_epoch=f"{record.best_epoch:g}",
        scores=span_scores_table(record),
        trainable_params=f"{record.trainable_params:,}",
        train_seconds=f"{record.train_seconds:.0f}",
        device=record.device,
        commit=record.commit,
    )
    return write_text(folder / "README.md", str(card))
