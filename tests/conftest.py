"""Shared fixtures: small synthetic ABSA files and one tiny model trained once per test session."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

# Tests never reach a hub, and stay on the CPU threads the machine has.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

_TEMPLATES = {
    0: ["The {a} was terrible.", "I hated the {a}, never again.", "Awful {a} and rude staff."],
    1: ["We ordered the {a} at noon.", "The {a} is on the second page.", "They changed the {a} last week."],
    2: ["The {a} was wonderful!", "I loved the {a}.", "Great {a}, will come back."],
}
_ASPECTS = ["pasta", "service", "wine list", "dessert", "decor"]


def synthetic_frame() -> pd.DataFrame:
    rows = [
        {"text": template.format(a=aspect), "aspect": aspect, "label": label}
        for label, templates in _TEMPLATES.items()
        for template in templates
        for aspect in _ASPECTS
    ]
    return pd.DataFrame(rows)


@pytest.fixture
def csv_file(tmp_path):
    """Write rows (a DataFrame or a raw string) to a CSV in tmp_path and return its path."""

    def write(content, name: str = "data.csv") -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content)
        else:
            content.to_csv(path, index=False)
        return path

    return write


@pytest.fixture
def write_ledger():
    """Write an ablation ledger (CSV) from tuples ``(run_id, dataset, lr, seed, val_pn_f1, test score)``: MiniLM full
    runs of experiment ``main`` that differ only in learning rate; the test score fills every test column."""
    import csv

    from absa.src.ablation.ledger import LEDGER_COLUMNS

    def write(path: Path, rows: list[tuple]) -> Path:
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=LEDGER_COLUMNS)
            writer.writeheader()
            for run_id, dataset, lr, seed, val, test in rows:
                writer.writerow(
                    {
                        **{c: "" for c in LEDGER_COLUMNS},
                        "run_id": run_id,
                        "experiment": "main",
                        "dataset": dataset,
                        "backbone": "minilm",
                        "regime": "full",
                        "input_format": "pair",
                        "class_weights": "none",
                        "lr": lr,
                        "epochs": 5,
                        "seed": seed,
                        "best_epoch": 1,
                        "val_pn_f1": val,
                        "test_pn_f1": test,
                        "test_acc": test,
                        "test_macro_f1": test,
                        "trainable_params": 1,
                        "train_seconds": 1,
                        "peak_mem_mb": 1,
                    }
                )
        return path

    return write


@pytest.fixture(scope="session")
def synthetic_dataset(tmp_path_factory) -> Path:
    """A benchmark-shaped folder: train.csv (45 rows) and test.csv (45 rows)."""
    folder = tmp_path_factory.mktemp("data") / "synthetic"
    folder.mkdir()
    frame = synthetic_frame()
    frame.to_csv(folder / "train.csv", index=False)
    frame.sample(frac=1.0, random_state=0).to_csv(folder / "test.csv", index=False)
    return folder


def tiny_config(dataset: Path, output_dir: Path):
    """The tiny model's configuration: MiniLM + LoRA, two epochs on the synthetic set."""
    from absa.src.config import TrainConfig

    return TrainConfig(
        train_file=str(dataset / "train.csv"),
        test_file=str(dataset / "test.csv"),
        backbone="minilm",
        regime="lora",
        epochs=2,
        batch_size=8,
        learning_rate=1e-3,
        val_size=0.2,
        bf16="no",
        output_dir=str(output_dir),
    )


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, synthetic_dataset) -> tuple[Path, object]:
    """A MiniLM + LoRA model trained for a few steps on the synthetic set and exported, with its ``RunRecord``."""
    from absa.src.train import train

    out = tmp_path_factory.mktemp("models") / "tiny"
    return out, train(tiny_config(synthetic_dataset, out))


@pytest.fixture(scope="session")
def four_benchmarks(tmp_path_factory) -> Path:
    """A data directory with a small folder for each of the four benchmarks (train.csv and test.csv, 45 rows each),
    no sentence in two files."""
    from absa.src.data import BENCHMARKS

    root = tmp_path_factory.mktemp("four")
    for number, name in enumerate(BENCHMARKS):
        frame = synthetic_frame()
        frame["text"] = frame["text"] + f" Visit {number}."
        (root / name).mkdir()
        frame.to_csv(root / name / "train.csv", index=False)
        test = frame.sample(frac=1.0, random_state=number)
        test.assign(text=test["text"] + " Again.").to_csv(root / name / "test.csv", index=False)
    return root


def table_rows(markdown: str) -> list[list[str]]:
    """The data rows of the first markdown table in ``markdown``, as lists of stripped cells."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines[2:]]


def dry_record(config, validation: dict | None = None, test: dict | None = None):
    """The ``RunRecord`` of a run that did not train (for runner and ledger tests)."""
    from dataclasses import asdict

    from absa.src.records import RunRecord

    return RunRecord(
        config=asdict(config),
        best_epoch=1,
        validation=validation or {"pn_macro_f1": 0.5, "accuracy": 0.5},
        test=test,
        validation_history=[],
        data={},
        trainable_params=1,
        total_params=1,
        train_seconds=1.0,
        peak_mem_mb=1,
        device="cpu",
        commit="x",
    )


def ledger_rows(scores: dict[str, list[float]]) -> list[dict]:
    """Ledger rows for configurations named by backbone, one row per seed, scores as fractions."""
    from absa.src.ablation.ledger import LEDGER_COLUMNS

    rows = []
    for backbone, values in scores.items():
        for seed, value in enumerate(values, 1):
            rows.append(
                {
                    **{c: "" for c in LEDGER_COLUMNS},
                    "run_id": f"{backbone}{seed}",
                    "experiment": "main",
                    "dataset": "d",
                    "backbone": backbone,
                    "regime": "lora",
                    "lora_r": 16,
                    "lora_targets": "all",
                    "input_format": "pair",
                    "class_weights": "none",
                    "lr": 5e-4,
                    "epochs": 8,
                    "seed": seed,
                    "val_pn_f1": value,
                    "test_pn_f1": value,
                    "test_acc": value,
                    "test_macro_f1": value,
                    "trainable_params": 1000,
                    "train_seconds": 120,
                    "device": "cpu x2",
                }
            )
    return rows


@pytest.fixture(scope="session")
def tiny_e2e(tmp_path_factory):
    """A data directory with e2e/tiny: sentences with one, two or no aspects, the same in every split."""
    rows = []
    for food, service in [("pasta", "staff"), ("wine", "waiter"), ("pizza", "service"), ("soup", "host")]:
        text = f"The {food} was great but the {service} was rude."
        rows.append(
            {
                "text": text,
                "aspects": [
                    {"term": food, "start": 4, "end": 4 + len(food), "label": 2},
                    {
                        "term": service,
                        "start": text.index(service),
                        "end": text.index(service) + len(service),
                        "label": 0,
                    },
                ],
            }
        )
        rows.append({"text": f"We came back on a {food} night.", "aspects": []})
    root = tmp_path_factory.mktemp("data")
    (root / "e2e" / "tiny").mkdir(parents=True)
    for split in ("train", "validation", "test"):
        (root / "e2e" / "tiny" / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows * 3))
    return root


def tiny_tagger_config(data: Path, output_dir: Path, scheme: str = "unified"):
    """A MiniLM tagger on the tiny end-to-end set, trained long enough to find its aspects."""
    from absa.src.extract import ExtractConfig

    return ExtractConfig(
        benchmark="tiny",
        data_dir=str(data),
        scheme=scheme,
        backbone="minilm",
        regime="full",
        epochs=8,
        batch_size=8,
        learning_rate=5e-4,
        bf16="no",
        output_dir=str(output_dir),
    )


@pytest.fixture(scope="session")
def tiny_tagger(tmp_path_factory, tiny_e2e) -> Path:
    """A unified tagger trained on the tiny end-to-end set (an exported folder)."""
    from absa.src.extract import train_extractor

    out = tmp_path_factory.mktemp("taggers") / "unified"
    train_extractor(tiny_tagger_config(tiny_e2e, out))
    return out
