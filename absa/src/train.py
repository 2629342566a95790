"""Fine-tune a backbone (full or LoRA) for aspect sentiment, keep the best epoch by validation PN-macro-F1, export.

    python -m absa.src.train --dataset semeval14_restaurants --backbone mpnet --regime lora \
        --output_dir absa/models/my_restaurants
    python -m absa.src.train --like absa/models/fast --output_dir absa/models/ablation/runs/fast-rebuild

Runs unchanged under ``accelerate launch`` on several GPUs. The test split is scored once, after the best epoch
has been chosen on validation, and only reported.
"""

from __future__ import annotations

import json
import logging
import os
import re
import resource
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
from datasets import Dataset, DatasetDict
from transformers import (DataCollatorWithPadding, EvalPrediction, HfArgumentParser, PreTrainedModel, Trainer,
                          TrainingArguments, set_seed)

from absa.src.data import (ALL, AUGMENTATIONS, BENCHMARKS, PACKAGE_DIR, add_training_rows, augment_training_rows,
                           grouped_split, load_all_benchmarks, load_benchmark, read_frame)
from absa.src.metrics import classification_metrics
from absa.src.modeling import (INPUT_FORMATS, build_model, count_parameters, encode_pairs, load_model_folder,
                                load_tokenizer, save_model_folder, use_bf16, weights_fingerprint)
from absa.src.backbones import resolve_backbone
from absa.src.predict import Predictor
from absa.src.report import write_model_card

logger = logging.getLogger(__name__)
DEFAULT_LR = {"lora": 5e-4, "full": 2e-5}


@dataclass
class TrainConfig:
    dataset: str = field(default="semeval14_restaurants", metadata={
        "help": "benchmark folder in the data dir, or 'all' for one general model on every benchmark (scores are "
                "then means over the benchmarks, each benchmark's in metrics.json)"})
    train_file: str | None = field(default=None, metadata={"help": "a train CSV instead of --dataset"})
    validation_file: str | None = field(default=None, metadata={"help": "else split off train, grouped by text"})
    test_file: str | None = field(default=None, metadata={"help": "scored once after selection, for reporting"})
    data_dir: str | None = field(default=None, metadata={"help": "default $ABSA_DATA_DIR or absa/data"})
    backbone: str = field(default="mpnet", metadata={"help": "minilm | mpnet | local folder | hub id"})
    regime: str = field(default="lora", metadata={"help": "lora | full"})
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    lora_targets: str = field(default="all", metadata={"help": "all | attention | qv (encoder linears)"})
    input_format: str = field(default="pair", metadata={"help": "pair (text, aspect) | marked (aspect also "
                                                                "bracketed in the text)"})
    class_weights: str = field(default="none", metadata={"help": "none | balanced (cross-entropy weighted by "
                                                                 "inverse class frequency in train)"})
    extra_train: str | None = field(default=None, metadata={"help": "comma-separated benchmarks whose train rows "
                                                                      "join the training split (not validation/test)"})
    teacher: str | None = field(default=None, metadata={"help": "exported model folder whose probabilities on the "
                                                                  "train rows are soft targets (distillation)"})
    distill_alpha: float = field(default=0.5, metadata={"help": "weight of the soft-target term (with --teacher)"})
    distill_temperature: float = field(default=2.0, metadata={"help": "softening temperature (with --teacher)"})
    init_from: str | None = field(default=None, metadata={"help": "exported model folder to go on training (same "
                                                                  "backbone, regime, LoRA rank, input format and "
                                                                  "seed), e.g. the general model"})
    augment: str = field(default="none", metadata={"help": "none | opposite_pairs (each polar training row also "
                                                            "joined with a training sentence of the opposite "
                                                            "polarity; see data.opposite_pairs)"})
    rdrop_alpha: float = field(default=0.0, metadata={"help": "R-Drop (Liang et al., 2021): each training batch goes "
                                                              "through the model twice, under two dropout masks, and "
                                                              "this weighs the symmetric KL divergence between the two "
                                                              "predictions (see rdrop_loss); 0 = off"})
    layer_decay: float = field(default=1.0, metadata={"help": "layer-wise learning-rate decay: the head trains at the "
                                                              "learning rate, encoder layer l of L at lr * "
                                                              "decay^(L - l + 1), the embeddings at lr * "
                                                              "decay^(L + 1); 1 = off"})
    learning_rate: float | None = field(default=None, metadata={"help": "default 5e-4 for lora, 2e-5 for full"})
    epochs: int = 8
    batch_size: int = 16
    max_length: int = 128
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    seed: int = 42
    val_size: float = 0.1
    bf16: str = field(default="auto", metadata={"help": "auto (where the hardware makes it fast) | yes | no"})
    output_dir: str | None = field(default=None, metadata={"help": "default absa/models/<dataset>-<backbone>-<regime>"})
    max_steps: int = field(default=-1, metadata={"help": "stop after this many steps (smoke runs); -1 = all epochs"})
    limit_rows: int | None = field(default=None, metadata={"help": "use only the first N rows of each split (smoke)"})

    def __post_init__(self) -> None:
        if self.regime not in DEFAULT_LR:
            raise ValueError(f"regime must be 'lora' or 'full', not {self.regime!r}")
        if self.input_format not in INPUT_FORMATS:
            raise ValueError(f"input_format must be one of {INPUT_FORMATS}, not {self.input_format!r}")
        if self.class_weights not in ("none", "balanced"):
            raise ValueError(f"class_weights must be 'none' or 'balanced', not {self.class_weights!r}")
        unknown = set(self.extra_benchmarks()) - set(BENCHMARKS)
        if unknown:
            raise ValueError(f"extra_train: unknown benchmark(s) {sorted(unknown)}; known: {', '.join(BENCHMARKS)}")
        if not 0.0 <= self.distill_alpha <= 1.0 or self.distill_temperature <= 0:
            raise ValueError("distill_alpha must be in [0, 1] and distill_temperature > 0")
        if self.augment not in AUGMENTATIONS:
            raise ValueError(f"augment must be one of {AUGMENTATIONS}, not {self.augment!r}")
        if self.rdrop_alpha < 0 or not 0.0 < self.layer_decay <= 1.0:
            raise ValueError("rdrop_alpha must be >= 0 and layer_decay in (0, 1]")
        if self.rdrop_alpha > 0 and (self.teacher is not None or self.class_weights != "none"):
            raise ValueError("rdrop_alpha cannot be combined with teacher or class_weights: R-Drop uses plain "
                             "cross-entropy")
        if self.dataset == ALL and (self.extra_train or self.train_file):
            raise ValueError("dataset 'all' already trains on every benchmark: no extra_train or train_file")
        if self.teacher is not None and self.class_weights != "none":
            raise ValueError("class_weights and teacher cannot be combined: distillation uses unweighted targets")
        if self.learning_rate is None:
            self.learning_rate = DEFAULT_LR[self.regime]
        if self.output_dir is None:
            name = Path(self.train_file).stem if self.train_file else self.dataset
            self.output_dir = str(PACKAGE_DIR / "models" / f"{name}-{self.backbone}-{self.regime}")

    def extra_benchmarks(self) -> list[str]:
        """The ``extra_train`` benchmark names as a list."""
        return [name.strip() for name in (self.extra_train or "").split(",") if name.strip()]


CODE_PATHS = [":(top)absa/src", ":(top)requirements.txt"]


def git_commit(repo: str | os.PathLike = PACKAGE_DIR) -> str:
    """HEAD of the repository, with ``-dirty`` when the training code or the pins differ from it (results files
    such as the ablation ledger, which the runner itself changes between runs, do not count)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS], cwd=repo,
                               capture_output=True, text=True).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        # A copy of the tree without .git (e.g. shipped to a GPU machine) names its commit in $ABSA_GIT_COMMIT.
        return os.environ.get("ABSA_GIT_COMMIT", "unknown")


def load_splits(config: TrainConfig) -> tuple[DatasetDict, dict, int]:
    """train/validation(/test) splits from a benchmark or from explicit files, plus the rows of ``extra_train``
    benchmarks (see ``add_training_rows``), then the ``augment`` rows (training split only); also the extra rows'
    counts per benchmark and the number of augmented rows."""
    added = {}
    if config.dataset == ALL and config.train_file is None:
        splits, added = load_all_benchmarks(config.data_dir, config.val_size, config.seed)
    elif config.train_file is None:
        splits = load_benchmark(config.dataset, config.data_dir, config.val_size, config.seed)
    else:
        train = read_frame(config.train_file)
        if config.validation_file:
            validation = read_frame(config.validation_file)
        else:
            train, validation = grouped_split(train, config.val_size, config.seed)
        frames = {"train": train, "validation": validation}
        if config.test_file:
            frames["test"] = read_frame(config.test_file)
        splits = DatasetDict({k: Dataset.from_pandas(v, preserve_index=False) for k, v in frames.items()})
    if config.extra_benchmarks():
        splits, added = add_training_rows(splits, config.extra_benchmarks(), config.data_dir)
    if config.limit_rows:
        splits = DatasetDict({k: v.select(range(min(config.limit_rows, len(v)))) for k, v in splits.items()})
    splits, augmented = augment_training_rows(splits, config.augment, config.seed)
    return splits, added, augmented


def start_model(config: TrainConfig) -> PreTrainedModel:
    """The model to train: a fresh one on the backbone, or the exported folder ``config.init_from``, which must
    match the run's backbone, regime, LoRA rank and input format, and, where it trained on this run's benchmark,
    its seed (a validation split drawn with another seed holds rows it trained on)."""
    if config.init_from is None:
        return build_model(config.backbone, config.regime, config.lora_r, config.lora_alpha, config.lora_dropout,
                           config.lora_targets)
    if not Path(config.init_from).is_dir():
        raise FileNotFoundError(f"init_from {config.init_from} not found. The ablation runner's run folders "
                                "(absa/models/ablation/runs) are git-ignored: `python -m absa.src.ablation` trains "
                                "a grid run again under its id (the ledger's run_id)")
    model, _, start = load_model_folder(config.init_from, trainable=True)
    rank = model.peft_config["default"].r if start["regime"] == "lora" else None
    wanted = {"backbone": config.backbone, "regime": config.regime, "input_format": config.input_format}
    found = {key: start.get(key, "pair") for key in wanted}
    if found != wanted or (rank is not None and rank != config.lora_r):
        raise ValueError(f"init_from {config.init_from} is {found} (LoRA rank {rank}); this run is {wanted} "
                         f"(LoRA rank {config.lora_r})")
    metrics_file = Path(config.init_from) / "metrics.json"
    trained = json.loads(metrics_file.read_text())["config"] if metrics_file.exists() else None
    if trained is not None and trained["seed"] != config.seed and (
            trained["dataset"] in (config.dataset, ALL)
            or config.dataset in (trained.get("extra_train") or "").split(",")):
        raise ValueError(f"init_from {config.init_from} trained on {config.dataset} with seed {trained['seed']}: its "
                         f"training rows include seed {config.seed}'s validation rows; start from its seed "
                         f"{config.seed} run, or train with --seed {trained['seed']}")
    return model


def _score(prediction: EvalPrediction) -> dict:
    metrics = classification_metrics(prediction.label_ids, np.argmax(prediction.predictions, axis=-1))
    return {k: metrics[k] for k in ("pn_macro_f1", "accuracy", "macro_f1")}


SCORES = ("pn_macro_f1", "accuracy", "macro_f1")


def scores_by_benchmark(labels: np.ndarray, predicted: np.ndarray, benchmarks: np.ndarray) -> dict:
    """``classification_metrics`` of each benchmark's rows, and the headline scores as their mean over benchmarks
    (each benchmark counts the same, whatever its size)."""
    by_benchmark = {name: classification_metrics(labels[benchmarks == name], predicted[benchmarks == name])
                    for name in dict.fromkeys(benchmarks.tolist())}
    means = {k: float(np.mean([m[k] for m in by_benchmark.values()])) for k in SCORES}
    return {**means, "n": int(len(labels)), "averaged_over": list(by_benchmark), "by_benchmark": by_benchmark}


def _score_by_benchmark(benchmarks: list[str]):
    """``compute_metrics`` for a validation split drawn from several benchmarks (rows in dataset order)."""
    groups = np.asarray(benchmarks)

    def score(prediction: EvalPrediction) -> dict:
        scores = scores_by_benchmark(prediction.label_ids, np.argmax(prediction.predictions, axis=-1), groups)
        return {k: scores[k] for k in SCORES}
    return score


def balanced_class_weights(labels: list[int], n_classes: int = 3) -> torch.Tensor:
    """Inverse-frequency weights n / (k * count_c), as scikit-learn's "balanced"; a class absent from train gets 1."""
    counts = np.bincount(np.asarray(labels), minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / (n_classes * np.maximum(counts, 1)), 1.0)
    return torch.tensor(weights, dtype=torch.float32)


def weighted_loss(weights: torch.Tensor):
    """A ``Trainer(compute_loss_func=...)`` computing class-weighted cross-entropy."""
    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"]
        return torch.nn.functional.cross_entropy(logits.float(), labels, weight=weights.to(logits.device))
    return loss


def distillation_loss(logits: torch.Tensor, labels: torch.Tensor, teacher_probs: torch.Tensor, alpha: float = 0.5,
                      temperature: float = 2.0) -> torch.Tensor:
    """(1 - alpha) * cross-entropy with the gold labels + alpha * T^2 * KL(teacher_T || student_T), where x_T is the
    distribution softened by temperature T (Hinton et al., 2015); the teacher is given as probabilities."""
    logits = logits.float()
    hard = torch.nn.functional.cross_entropy(logits, labels)
    teacher_soft = torch.softmax(torch.log(teacher_probs.float().clamp_min(1e-12)) / temperature, dim=-1)
    student_log_soft = torch.log_softmax(logits / temperature, dim=-1)
    soft = torch.nn.functional.kl_div(student_log_soft, teacher_soft, reduction="batchmean") * temperature ** 2
    return (1 - alpha) * hard + alpha * soft


def rdrop_loss(logits_a: torch.Tensor, logits_b: torch.Tensor, labels: torch.Tensor, alpha: float) -> torch.Tensor:
    """R-Drop (Liang et al., 2021) on two predictions of the same rows under different dropout masks: the mean of
    their cross-entropies + alpha/2 * their symmetric KL divergence, 1/2 (KL(a || b) + KL(b || a)). This is the
    paper's loss halved, so that its cross-entropy part is on the scale of a plain run's."""
    a, b = logits_a.float(), logits_b.float()
    hard = (torch.nn.functional.cross_entropy(a, labels) + torch.nn.functional.cross_entropy(b, labels)) / 2
    log_a, log_b = torch.log_softmax(a, dim=-1), torch.log_softmax(b, dim=-1)
    kl = torch.nn.functional.kl_div(log_a, log_b, log_target=True, reduction="batchmean")  # KL(b || a)
    kl_back = torch.nn.functional.kl_div(log_b, log_a, log_target=True, reduction="batchmean")  # KL(a || b)
    return hard + alpha / 2 * (kl + kl_back) / 2


def layer_depth(name: str, n_layers: int) -> int:
    """Where a parameter sits, counted from the input: 0 for the embeddings (and MPNet's relative position bias,
    which every layer shares), l + 1 for encoder layer l, n_layers + 1 for the rest (pooler, classification head)."""
    layer = re.search(r"\.layer\.(\d+)\.", name)
    if layer:
        return int(layer.group(1)) + 1
    if "embeddings" in name or "relative_attention_bias" in name:
        return 0
    return n_layers + 1


def layer_decay_groups(model: torch.nn.Module, learning_rate: float, layer_decay: float, weight_decay: float,
                       decay_names: set[str]) -> list[dict]:
    """Optimizer parameter groups of the trainable parameters with layer-wise learning-rate decay (as in ELECTRA,
    Clark et al., 2020; Sun et al., 2019): depth d (``layer_depth``) trains at lr * decay^(n_layers + 1 - d).
    Parameters in ``decay_names`` get ``weight_decay``, the others (biases, LayerNorm) none."""
    n_layers = model.config.num_hidden_layers
    groups: dict[tuple[int, bool], dict] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        depth, decayed = layer_depth(name, n_layers), name in decay_names
        group = groups.setdefault((depth, decayed), {
            "params": [], "lr": learning_rate * layer_decay ** (n_layers + 1 - depth),
            "weight_decay": weight_decay if decayed else 0.0})
        group["params"].append(param)
    return list(groups.values())


class AbsaTrainer(Trainer):
    """A ``Trainer`` that evaluates and predicts in dataset order (training batches stay grouped by length), so that
    facts kept beside the split, such as each row's benchmark, line up with the predictions; with optional
    layer-wise learning-rate decay (``layer_decay_groups``) and R-Drop (``rdrop_loss``)."""

    def __init__(self, *args, layer_decay: float = 1.0, rdrop_alpha: float = 0.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.layer_decay, self.rdrop_alpha = layer_decay, rdrop_alpha

    def _get_eval_sampler(self, eval_dataset):
        return torch.utils.data.SequentialSampler(eval_dataset)

    def create_optimizer(self):
        if self.layer_decay == 1.0 or self.optimizer is not None:
            return super().create_optimizer()
        groups = layer_decay_groups(self.model, self.args.learning_rate, self.layer_decay, self.args.weight_decay,
                                    set(self.get_decay_parameter_names(self.model)))
        optimizer_cls, optimizer_kwargs = Trainer.get_optimizer_cls_and_kwargs(self.args, self.model)
        self.optimizer = optimizer_cls(groups, **optimizer_kwargs)
        return self.optimizer

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if self.rdrop_alpha == 0 or not model.training:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = inputs.pop("labels")
        outputs = model(**{key: torch.cat([value, value]) for key, value in inputs.items()})  # two dropout masks
        first, second = outputs.logits.chunk(2)
        loss = rdrop_loss(first, second, labels, self.rdrop_alpha)
        return (loss, outputs) if return_outputs else loss


class DistillationTrainer(AbsaTrainer):
    """A ``Trainer`` whose training batches carry ``teacher_probs``; evaluation batches (without them) use the
    model's own cross-entropy."""

    def __init__(self, *args, alpha: float = 0.5, temperature: float = 2.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.alpha, self.temperature = alpha, temperature

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        teacher_probs = inputs.pop("teacher_probs", None)
        if teacher_probs is None:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = distillation_loss(outputs.logits, labels, teacher_probs, self.alpha, self.temperature)
        return (loss, outputs) if return_outputs else loss


def _best_epoch(trainer: Trainer) -> tuple[float, dict, list[dict]]:
    """(best epoch, its validation metrics, per-epoch validation history) from the trainer's log."""
    history = [{k.removeprefix("eval_"): v for k, v in row.items() if k.startswith("eval_") or k == "epoch"}
               for row in trainer.state.log_history if "eval_pn_macro_f1" in row]
    best = max(history, key=lambda row: row["pn_macro_f1"])  # the first maximum, as Trainer keeps it
    return best["epoch"], best, history


def train(config: TrainConfig) -> dict:
    """Train, select the best epoch on validation, score test once, export to ``config.output_dir``."""
    commit = git_commit()  # the code that trains, recorded before anything can change it
    set_seed(config.seed)
    splits, added, augmented = load_splits(config)
    source = resolve_backbone(config.backbone)
    tokenizer = load_tokenizer(source)
    model = start_model(config)
    trainable, total = count_parameters(model)
    teacher_seconds = teacher_fingerprint = None
    if config.teacher:
        teacher_fingerprint = weights_fingerprint(config.teacher)
        start = time.time()
        teacher = Predictor(config.teacher)
        probs = teacher.predict_proba(splits["train"]["text"], splits["train"]["aspect"], progress=True)
        splits["train"] = splits["train"].add_column("teacher_probs", probs.tolist())
        teacher_seconds = round(time.time() - start, 1)
        del teacher

    def tokenize(batch: dict) -> dict:
        return encode_pairs(tokenizer, batch["text"], batch["aspect"], config.max_length, config.input_format)

    encoded = DatasetDict({split: data.map(tokenize, batched=True, remove_columns=[
        c for c in data.column_names if c not in ("label", "teacher_probs")]) for split, data in splits.items()})
    encoded = encoded.rename_column("label", "labels")

    output_dir = Path(config.output_dir)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    bf16 = use_bf16(config.bf16, device)
    steps_per_epoch = -(-len(encoded["train"]) // config.batch_size)
    total_steps = config.max_steps if config.max_steps > 0 else steps_per_epoch * config.epochs
    args = TrainingArguments(
        output_dir=str(output_dir / "checkpoints"),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=64,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=int(config.warmup_ratio * total_steps),
        lr_scheduler_type="linear",
        eval_strategy="epoch",
        save_strategy="epoch",
        logging_strategy="epoch",
        save_total_limit=1,
        save_only_model=True,
        load_best_model_at_end=True,
        metric_for_best_model="pn_macro_f1",
        greater_is_better=True,
        train_sampling_strategy="group_by_length",
        bf16=bf16,
        use_cpu=device.type == "cpu",  # Trainer accepts bf16 on a CPU only when told it trains there
        seed=config.seed,
        data_seed=config.seed,
        report_to="none",
        dataloader_pin_memory=device.type == "cuda",
        remove_unused_columns=config.teacher is None,  # keep teacher_probs in the batches
    )
    benchmarks = {split: np.asarray(data["benchmark"]) for split, data in splits.items()
                  if "benchmark" in data.column_names}
    compute_metrics = _score_by_benchmark(benchmarks["validation"]) if "validation" in benchmarks else _score
    common = dict(model=model, args=args, train_dataset=encoded["train"], eval_dataset=encoded["validation"],
                  processing_class=tokenizer, data_collator=DataCollatorWithPadding(tokenizer),
                  compute_metrics=compute_metrics)
    if config.teacher:
        trainer = DistillationTrainer(**common, layer_decay=config.layer_decay, alpha=config.distill_alpha,
                                      temperature=config.distill_temperature)
    else:
        weights = balanced_class_weights(encoded["train"]["labels"]) if config.class_weights == "balanced" else None
        trainer = AbsaTrainer(**common, layer_decay=config.layer_decay, rdrop_alpha=config.rdrop_alpha,
                              compute_loss_func=weighted_loss(weights) if weights is not None else None)
    start = time.time()
    trainer.train()
    train_seconds = time.time() - start
    best_epoch, _, history = _best_epoch(trainer)

    trainer.compute_metrics = None  # scores of the chosen model are computed below, split by split

    def evaluate(split: str) -> dict:
        output = trainer.predict(encoded[split])
        if split in benchmarks:
            return scores_by_benchmark(output.label_ids, output.predictions.argmax(-1), benchmarks[split])
        return classification_metrics(output.label_ids, output.predictions.argmax(-1))

    result = {
        "config": asdict(config),
        "backbone_source": source,
        "best_epoch": best_epoch,
        "validation": evaluate("validation"),
        "test": evaluate("test") if "test" in encoded else None,
        "validation_history": history,
        "data": {"train": config.train_file or (", ".join(f"{name}/train.csv" for name in BENCHMARKS)
                                                if config.dataset == ALL else f"{config.dataset}/train.csv"),
                 **{f"n_{k}": len(v) for k, v in splits.items()}, "extra_train": added, "n_augmented": augmented},
        "trainable_params": trainable,
        "total_params": total,
        "train_seconds": round(train_seconds, 1),
        "teacher_seconds": teacher_seconds,
        "teacher_fingerprint": teacher_fingerprint,
        "peak_mem_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "bf16": bf16,
        "device": torch.cuda.get_device_name() if device.type == "cuda" else f"cpu x{torch.get_num_threads()}",
        "commit": commit,
        "library_versions": {"torch": torch.__version__,
                             "transformers": __import__("transformers").__version__,
                             "peft": __import__("peft").__version__},
    }
    if trainer.is_world_process_zero():
        save_model_folder(trainer.model, tokenizer, output_dir, config.backbone, config.regime, config.max_length,
                          config.input_format)
        (output_dir / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
        write_model_card(output_dir, result)
        shutil.rmtree(output_dir / "checkpoints", ignore_errors=True)
    return result


def recorded_config(folder: str | os.PathLike) -> dict:
    """The ``TrainConfig`` fields an exported model folder was trained with (its ``metrics.json``), but its
    ``output_dir``: fields recorded before they existed take their defaults, which is what those runs used."""
    metrics_file = Path(folder) / "metrics.json"
    if not metrics_file.exists():
        raise FileNotFoundError(f"{metrics_file} not found: --like needs an exported model folder")
    recorded = json.loads(metrics_file.read_text())["config"]
    unknown = set(recorded) - {f.name for f in fields(TrainConfig)}
    if unknown:
        raise ValueError(f"{metrics_file} records fields this version of train.py does not have: {sorted(unknown)}")
    return {key: value for key, value in recorded.items() if key != "output_dir"}


def parse_config(args: list[str] | None = None) -> TrainConfig:
    """The command line as a ``TrainConfig``. With ``--like FOLDER``, the configuration that folder records is the
    default and flags given override it (the output folder must be another one)."""
    parser = HfArgumentParser(TrainConfig)
    parser.add_argument("--like", metavar="FOLDER", help="train again as this exported model folder was trained "
                                                         "(its metrics.json); other flags override")
    like = parser.parse_known_args(args)[0].like
    if like:
        parser.set_defaults(**recorded_config(like))
    config, _ = parser.parse_args_into_dataclasses(args)
    if like and Path(config.output_dir).resolve() == Path(like).resolve():
        parser.error(f"--output_dir {config.output_dir} is the folder --like re-trains; give another one")
    return config


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = parse_config()
    result = train(config)
    val, test = result["validation"], result["test"]
    print(f"best epoch {result['best_epoch']:g}: validation PN-macro-F1 {100 * val['pn_macro_f1']:.2f}"
          + (f", test PN-macro-F1 {100 * test['pn_macro_f1']:.2f} accuracy {100 * test['accuracy']:.2f}"
             if test else ""))
    print(f"exported to {config.output_dir}")


if __name__ == "__main__":
    main()
