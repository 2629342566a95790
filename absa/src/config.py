"""What a training run is: ``TrainConfig`` (checked on creation), its run id, its one-line description, its command
line, and the configuration an exported folder records.

Every field has help text and a type; fields with a fixed set of values are ``Literal`` (the command line offers them
as choices). A new field joins ``RUN_ID_VERSIONS`` (see ``run_id``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Literal, TypeVar, get_args, get_origin, get_type_hints

from transformers import HfArgumentParser

from absa.src.augment import AUGMENTATIONS
from absa.src.data import ALL, BENCHMARKS, PACKAGE_DIR

T = TypeVar("T")
DEFAULT_LR = {"lora": 5e-4, "full": 2e-5}
Regime = Literal[tuple(DEFAULT_LR)]
LoraTargets = Literal["all", "attention", "qv"]
InputFormat = Literal["pair", "marked"]
ClassWeights = Literal["none", "balanced"]
Augmentation = Literal[AUGMENTATIONS]
Switch = Literal["auto", "yes", "no"]


def _field(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    """One training run: data, backbone and regime, objective, optimisation, and where the model goes."""

    dataset: str = _field(
        "semeval14_restaurants",
        "benchmark folder in the data dir, 'all' for one general model on every benchmark (scores are then means "
        "over the benchmarks), or e2e/<set>[+<set>] for the (text, aspect) pairs of end-to-end sets (a pipeline)",
    )
    train_file: str | None = _field(None, "a train CSV instead of --dataset")
    validation_file: str | None = _field(None, "a validation CSV; else split off train, grouped by text")
    test_file: str | None = _field(None, "scored once after selection, for reporting")
    data_dir: str | None = _field(None, "default $ABSA_DATA_DIR or absa/data")
    backbone: str = _field("mpnet", "minilm | mpnet | local folder | hub id")
    regime: Regime = _field("lora", "lora (adapters and head train) | full (every weight trains)")
    lora_r: int = _field(16, "LoRA rank")
    lora_alpha: int = _field(32, "LoRA scaling numerator (scale = alpha / r)")
    lora_dropout: float = _field(0.1, "dropout on the LoRA input")
    lora_targets: LoraTargets = _field("all", "encoder linears that get adapters: all | attention | qv")
    input_format: InputFormat = _field("pair", "pair (text, aspect) | marked (aspect also bracketed in the text)")
    class_weights: ClassWeights = _field(
        "none", "none | balanced (cross-entropy weighted by inverse class frequency in train)"
    )
    extra_train: str | None = _field(
        None, "comma-separated benchmarks whose train rows join the training split (not validation/test)"
    )
    teacher: str | None = _field(
        None, "exported model folder whose probabilities on the train rows are soft targets (distillation)"
    )
    distill_alpha: float = _field(0.5, "weight of the soft-target term (with --teacher)")
    distill_temperature: float = _field(2.0, "softening temperature (with --teacher)")
    init_from: str | None = _field(
        None,
        "exported model folder to go on training (same backbone, regime, LoRA "
        "rank, input format and seed), e.g. the general model",
    )
    augment: Augmentation = _field(
        "none",
        "none | opposite_pairs (each polar training row also joined with a training sentence of the opposite polarity)",
    )
    rdrop_alpha: float = _field(
        0.0,
        "R-Drop (Liang et al., 2021): weight of the symmetric KL divergence between "
        "two dropout masks' predictions; 0 = off",
    )
    layer_decay: float = _field(
        1.0,
        "layer-wise learning-rate decay: encoder layer l of L trains at lr * "
        "decay^(L - l + 1), the embeddings at lr * decay^(L + 1); 1 = off",
    )
    learning_rate: float | None = _field(None, "default 5e-4 for lora, 2e-5 for full")
    epochs: int = _field(8, "training epochs; the best one on validation is kept")
    refit: bool = _field(
        False,
        "train on the training and validation rows together for exactly --epochs epochs, no epoch chosen and no "
        "validation score (with --like FOLDER, --epochs defaults to FOLDER's best epoch)",
    )
    batch_size: int = _field(16, "training rows per step")
    max_length: int = _field(128, "tokens per (text, aspect) pair; only the text is cut")
    weight_decay: float = _field(0.01, "AdamW weight decay")
    warmup_ratio: float = _field(0.1, "share of the steps with a linear learning-rate warm-up")
    seed: int = _field(42, "seeds the model, the data order and the validation split")
    val_size: float = _field(0.1, "share of the training sentences held out for validation (without a file)")
    bf16: Switch = _field("auto", "auto (where the hardware makes it fast) | yes | no")
    output_dir: str | None = _field(None, "default absa/models/<dataset>-<backbone>-<regime>")
    max_steps: int = _field(-1, "stop after this many steps (smoke runs); -1 = all epochs")
    limit_rows: int | None = _field(None, "use only the first N rows of each split (smoke runs)")

    def __post_init__(self) -> None:
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}")
        for name, bad, rule in [
            ("lora_r", self.lora_r < 1, ">= 1"),
            ("lora_alpha", self.lora_alpha <= 0, "> 0"),
            ("lora_dropout", not 0 <= self.lora_dropout < 1, "in [0, 1)"),
            ("epochs", self.epochs < 1, ">= 1"),
            ("batch_size", self.batch_size < 1, ">= 1"),
            ("max_length", self.max_length < 8, ">= 8"),
            ("weight_decay", self.weight_decay < 0, ">= 0"),
            ("warmup_ratio", not 0 <= self.warmup_ratio < 1, "in [0, 1)"),
            ("val_size", not 0 < self.val_size < 1, "in (0, 1)"),
            ("learning_rate", self.learning_rate is not None and not self.learning_rate > 0, "> 0"),
            ("max_steps", self.max_steps == 0 or self.max_steps < -1, "-1 (all epochs) or >= 1"),
            ("limit_rows", self.limit_rows is not None and self.limit_rows < 1, ">= 1"),
            ("distill_alpha", not 0 <= self.distill_alpha <= 1, "in [0, 1]"),
            ("distill_temperature", self.distill_temperature <= 0, "> 0"),
            ("rdrop_alpha", self.rdrop_alpha < 0, ">= 0"),
            ("layer_decay", not 0 < self.layer_decay <= 1, "in (0, 1]"),
        ]:
            if bad:
                raise ValueError(f"{name} must be {rule}, not {getattr(self, name)!r}")
        unknown = set(self.extra_benchmarks()) - set(BENCHMARKS)
        if unknown:
            raise ValueError(f"extra_train: unknown benchmark(s) {sorted(unknown)}; known: {', '.join(BENCHMARKS)}")
        if self.rdrop_alpha > 0 and (self.teacher is not None or self.class_weights != "none"):
            raise ValueError(
                "rdrop_alpha cannot be combined with teacher or class_weights: R-Drop uses plain cross-entropy"
            )
        if self.dataset == ALL and (self.extra_train or self.train_file):
            raise ValueError("dataset 'all' already trains on every benchmark: no extra_train or train_file")
        if self.teacher is not None and self.class_weights != "none":
            raise ValueError("class_weights and teacher cannot be combined: distillation uses unweighted targets")
        if self.learning_rate is None:
            self.learning_rate = DEFAULT_LR[self.regime]
        if self.output_dir is None:
            name = Path(self.train_file).stem if self.train_file else self.dataset.replace("/", "-")
            self.output_dir = str(PACKAGE_DIR / "models" / f"{name}-{self.backbone}-{self.regime}")

    def extra_benchmarks(self) -> list[str]:
        """The ``extra_train`` benchmark names as a list."""
        return [name.strip() for name in (self.extra_train or "").split(",") if name.strip()]


# The allowed values of every Literal field, e.g. {"regime": ("lora", "full"), ...}.
CHOICES = {name: get_args(hint) for name, hint in get_type_hints(TrainConfig).items() if get_origin(hint) is Literal}


# Fields that do not change what a run computes: never in its id.
PATH_FIELDS = ("data_dir", "output_dir")
# The run id's versions. Version 1 hashes every field of its time; each later version names the fields it added,
# which count only when set away from their default, so that every run finished before they existed keeps its id
# (and is never trained twice). A new TrainConfig field goes into a new version here.
RUN_ID_VERSIONS = {
    2: tuple("extra_train teacher distill_alpha distill_temperature init_from augment rdrop_alpha layer_decay".split()),
    3: ("refit",),
}


def run_id(config: TrainConfig) -> str:
    """A stable id of what a run computes: a hash of its fields but ``PATH_FIELDS``, under ``RUN_ID_VERSIONS``."""
    added = {name for names in RUN_ID_VERSIONS.values() for name in names}
    content = {
        spec.name: getattr(config, spec.name)
        for spec in fields(TrainConfig)
        if spec.name not in PATH_FIELDS and (spec.name not in added or getattr(config, spec.name) != spec.default)
    }
    return hashlib.sha1(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]


def _given(value: object, *off: object) -> bool:
    """Whether a configuration value is set: not empty, not ``-`` (a ledger's blank), not NaN, not an ``off`` value."""
    if value is None or value in ("", "-") or (isinstance(value, float) and math.isnan(value)):
        return False
    try:
        return float(value) not in off if off and not isinstance(value, bool) else value not in off
    except (TypeError, ValueError):
        return value not in off


def _number(value: object) -> str:
    return f"{float(value):g}"


def describe(config: Mapping) -> str:
    """A short name of a configuration, e.g. ``mpnet lora r16 lr 0.0005`` or ``minilm full distilled from
    semeval14_restaurants lr 3e-05``: the one name used by model cards, ablation labels and tables. Takes
    ``TrainConfig`` fields as a mapping (``asdict``, a ``metrics.json`` config, or a ledger row, whose learning
    rate is ``lr`` and whose unset values are ``-``); paths are shown by their last part."""
    learning_rate = config["learning_rate"] if "learning_rate" in config else config["lr"]
    parts = [config["backbone"], config["regime"]]
    if config["regime"] == "lora":
        targets = config.get("lora_targets", "all")
        parts.append(f"r{_number(config['lora_r'])}" + ("" if targets == "all" else f" {targets}"))
    parts += [
        config.get(key, off)
        for key, off in (("input_format", "pair"), ("class_weights", "none"))
        if config.get(key, off) != off
    ]
    if _given(config.get("extra_train")):
        parts.append(f"+ {config['extra_train']} train")
    if _given(config.get("teacher")):
        parts.append(f"distilled from {Path(config['teacher']).name}")
    if _given(config.get("init_from")):
        parts.append(f"from {Path(config['init_from']).name}")
    if _given(config.get("augment"), "none"):
        parts.append(f"+ {config['augment'].replace('_', ' ')}")
    if _given(config.get("rdrop_alpha"), 0.0):
        parts.append(f"+ R-Drop α {_number(config['rdrop_alpha'])}")
    if _given(config.get("layer_decay"), 1.0):
        parts.append(f"+ layer decay {_number(config['layer_decay'])}")
    parts.append(f"lr {float(learning_rate):g}")
    if _given(config.get("refit"), False):
        parts.append("refit on train + validation")
    return " ".join(parts)


def recorded_config(folder: str | os.PathLike) -> dict:
    """The ``TrainConfig`` fields an exported model folder was trained with (its ``metrics.json``), but its
    ``output_dir``: fields recorded before they existed take their defaults, which is what those runs used. ``bf16``
    is pinned to the precision the run used (``auto`` decides by the machine, and a run in bf16 is another
    computation than one in fp32)."""
    metrics_file = Path(folder) / "metrics.json"
    if not metrics_file.exists():
        raise FileNotFoundError(f"{metrics_file} not found: --like needs an exported model folder")
    record = json.loads(metrics_file.read_text())
    recorded = dict(record["config"])
    if record.get("bf16") is not None:
        recorded["bf16"] = "yes" if record["bf16"] else "no"
    unknown = set(recorded) - {f.name for f in fields(TrainConfig)}
    if unknown:
        raise ValueError(f"{metrics_file} records fields this version of the code does not have: {sorted(unknown)}")
    return {key: value for key, value in recorded.items() if key != "output_dir"}


def parse_arguments(cls: type[T], args: list[str] | None = None, parser: HfArgumentParser | None = None) -> T:
    """The command line as an arguments dataclass. A value its checks reject is a usage error: the message names
    it and the program exits with status 2, no traceback."""
    parser = parser or HfArgumentParser(cls)
    try:
        return parser.parse_args_into_dataclasses(args)[0]
    except ValueError as err:
        parser.error(str(err))


def _with_like(parser: HfArgumentParser) -> HfArgumentParser:
    parser.add_argument(
        "--like",
        metavar="FOLDER",
        help="train again as this exported model folder was trained (its metrics.json); other flags override",
    )
    return parser


def like_folder(args: list[str] | None = None) -> str | None:
    """The folder ``--like`` names on the command line, if any."""
    return _with_like(HfArgumentParser(TrainConfig)).parse_known_args(args)[0].like


def parse_config(args: list[str] | None = None) -> TrainConfig:
    """The command line as a ``TrainConfig``. With ``--like FOLDER``, the configuration that folder records is the
    default and flags given override it (the output folder must be another one); with ``--refit`` too, the epoch
    count defaults to the epoch FOLDER's run chose on validation."""
    parser = _with_like(HfArgumentParser(TrainConfig))
    like = like_folder(args)
    if like:
        parser.set_defaults(**recorded_config(like))
    config = parse_arguments(TrainConfig, args, parser)
    if like and Path(config.output_dir).resolve() == Path(like).resolve():
        parser.error(f"--output_dir {config.output_dir} is the folder --like re-trains; give another one")
    given = sys.argv[1:] if args is None else args
    if like and config.refit and not any(arg == "--epochs" or arg.startswith("--epochs=") for arg in given):
        chosen = json.loads((Path(like) / "metrics.json").read_text())["best_epoch"]
        config = replace(config, epochs=max(1, round(chosen)))
    return config


def like_kind(config: TrainConfig, like: str | os.PathLike) -> str:
    """What a ``--like FOLDER`` run is: ``rebuild`` (FOLDER's configuration again, at most in another precision),
    ``refit`` (that configuration refit on train + validation, any seed or epoch count) or ``variant``."""
    recorded = parse_config(["--like", str(like), "--output_dir", config.output_dir])
    changed = {f.name for f in fields(TrainConfig) if getattr(config, f.name) != getattr(recorded, f.name)}
    changed -= {"bf16", "output_dir"}
    if not changed:
        return "rebuild"
    return "refit" if config.refit and changed <= {"refit", "epochs", "seed"} else "variant"


def config_arguments(config: TrainConfig) -> list[str]:
    """The command line that gives ``config`` back through ``parse_config``."""
    args = []
    for key, value in asdict(config).items():
        if value is not None:
            args += [f"--{key}", str(value)]
    return args
