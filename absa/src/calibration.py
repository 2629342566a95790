"""Calibrated confidences: temperature scaling (Guo et al., 2017) of an exported model, fitted on its validation split.

    python -m absa.src.calibration                       # every exported model folder with weights
    python -m absa.src.calibration --models absa/models/semeval14_laptops

One temperature T per model divides its logits before the softmax: the predicted labels (and so every score) stay
the same, only the confidences change. T is chosen on the validation split the model's epoch was chosen on
(rebuilt from its metrics.json), by the negative log-likelihood; the test split is only reported. The folder gets T
in ``absa_config.json`` (``Predictor`` applies it), the expected calibration error before and after in
``metrics.json`` (``calibration``), a reliability plot ``reliability.png`` and a card that shows both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from absa.src.config import TrainConfig, parse_arguments, recorded_config
from absa.src.data import PACKAGE_DIR
from absa.src.files import write_json
from absa.src.metrics import reliability
from absa.src.model_card import write_model_card
from absa.src.modeling import ABSA_CONFIG, read_absa_config
from absa.src.predict import Predictor
from absa.src.records import RunRecord, is_tagger
from absa.src.train import load_splits

PLOT = "reliability.png"


def negative_log_likelihood(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the gold labels under softmax(logits / temperature)."""
    return float(-log_softmax(logits / temperature, axis=1)[np.arange(len(labels)), labels].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises the negative log-likelihood of ``labels``."""
    result = minimize_scalar(
        lambda log_t: negative_log_likelihood(logits, labels, np.exp(log_t)),
        bounds=(np.log(0.05), np.log(20.0)),
        method="bounded",
    )
    return float(np.exp(result.x))


def scaled_probabilities(logits: np.ndarray, temperature: float) -> np.ndarray:
    return np.exp(log_softmax(logits / temperature, axis=1))


def calibration_scores(logits: np.ndarray, labels: np.ndarray, temperature: float) -> dict:
    """Expected calibration error (percent) and negative log-likelihood before and after scaling."""
    scores = {"rows": len(labels)}
    for when, t in (("before", 1.0), ("after", temperature)):
        probs = scaled_probabilities(logits, t)
        _, ece = reliability(probs.max(axis=1), probs.argmax(axis=1) == labels)
        scores[f"ece_{when}"] = round(ece, 2)
        scores[f"nll_{when}"] = round(negative_log_likelihood(logits, labels, t), 4)
    return scores


def plot_reliability(curves: dict[str, tuple[np.ndarray, np.ndarray]], temperature: float, path: Path) -> None:
    """Reliability diagrams, one panel per split, before and after scaling."""
    fig, axes = plt.subplots(1, len(curves), figsize=(4.5 * len(curves), 4.2), squeeze=False)
    for ax, (split, (logits, labels)) in zip(axes[0], curves.items()):
        ax.plot([0, 1], [0, 1], ls=":", color="grey")
        for name, t, color in (("uncalibrated", 1.0, "#d9534f"), (f"T = {temperature:.2f}", temperature, "#3c6e9f")):
            probs = scaled_probabilities(logits, t)
            table, ece = reliability(probs.max(axis=1), probs.argmax(axis=1) == labels)
            ax.plot(table["confidence"], table["accuracy"], marker="o", color=color, label=f"{name} (ECE {ece:.2f}%)")
        ax.set(xlabel="mean confidence in bin", ylabel="accuracy in bin", title=split, xlim=(0.3, 1), ylim=(0.3, 1))
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def calibrate(folder: str | os.PathLike, data_dir: str | None = None) -> dict:
    """Fit, store and report the temperature of one exported model folder; returns its ``calibration`` entry."""
    folder = Path(folder)
    record = RunRecord.load(folder)
    if is_refit(folder):
        raise ValueError(
            f"{folder} was refit on its validation rows: no held-out rows are left to fit a temperature on; "
            "calibrate the run it refits and copy its temperature, or train without --refit"
        )
    config = TrainConfig(**{**recorded_config(folder), "data_dir": data_dir, "output_dir": str(folder)})
    splits, _, _ = load_splits(config)
    predictor = Predictor(folder, calibrated=False)
    curves = {}
    for split in ("validation", "test"):
        if split in splits:
            probs = predictor.predict_proba(splits[split]["text"], splits[split]["aspect"], progress=True)
            curves[split] = (np.log(np.clip(probs.astype(np.float64), 1e-30, None)), np.asarray(splits[split]["label"]))
    temperature = fit_temperature(*curves["validation"])
    record.calibration = {
        "method": "temperature scaling, fitted on the validation split by negative log-likelihood",
        "temperature": round(temperature, 4),
        **{split: calibration_scores(logits, labels, temperature) for split, (logits, labels) in curves.items()},
    }
    write_json(folder / ABSA_CONFIG, {**read_absa_config(folder), "temperature": round(temperature, 4)})
    plot_reliability(curves, temperature, folder / PLOT)
    record.save(folder)
    write_model_card(folder, record)
    return record.calibration


def is_refit(folder: str | os.PathLike) -> bool:
    """Whether an exported folder was refit on its validation rows (``train --refit``), leaving none to calibrate on."""
    return bool(RunRecord.load(folder).config.get("refit"))


def exported_models(models_dir: Path = PACKAGE_DIR / "models") -> list[str]:
    """Every exported classifier folder that holds weights and can be calibrated (links such as ``default`` and
    refits skipped)."""
    return [
        str(folder)
        for folder in sorted(models_dir.iterdir())
        if folder.is_dir()
        and not folder.is_symlink()
        and (folder / "metrics.json").exists()
        and any(folder.glob("*.safetensors"))
        and not is_tagger(folder)
        and not is_refit(folder)
    ]


@dataclass
class CalibrationArguments:
    """Which exported model folders to calibrate."""

    models: list[str] = field(default_factory=exported_models, metadata={"help": "exported model folders"})
    data_dir: str | None = field(default=None, metadata={"help": "default $ABSA_DATA_DIR or absa/data"})

    def __post_init__(self) -> None:
        missing = [model for model in self.models if not (Path(model) / "metrics.json").exists()]
        if missing:
            raise ValueError(f"not exported model folders (no metrics.json): {', '.join(missing)}")
        refits = [model for model in self.models if is_refit(model)]
        if refits:
            raise ValueError(
                f"refit on their validation rows, so nothing is left to fit a temperature on: {', '.join(refits)}"
            )


def main() -> None:
    args = parse_arguments(CalibrationArguments)
    for model in args.models:
        entry = calibrate(model, args.data_dir)
        scores = ", ".join(
            f"{split} ECE {entry[split]['ece_before']:.1f}% -> {entry[split]['ece_after']:.1f}%"
            for split in ("validation", "test")
            if split in entry
        )
        print(f"{Path(model).name}: T = {entry['temperature']:.2f}; {scores}")


if __name__ == "__main__":
    main()
