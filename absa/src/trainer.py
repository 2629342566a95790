"""The project's ``Trainer``: evaluation in dataset order, layer-wise learning-rate decay, R-Drop, distillation."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from transformers import Trainer, TrainingArguments

from absa.src.losses import distillation_loss, rdrop_loss


def layer_depth(name: str, n_layers: int) -> int:
    """Where a parameter sits, counted from the input: 0 for the embeddings (and MPNet's relative position bias,
    which every layer shares), l + 1 for encoder layer l, n_layers + 1 for the rest (pooler, classification head)."""
    layer = re.search(r"\.layer\.(\d+)\.", name)
    if layer:
        return int(layer.group(1)) + 1
    if "embeddings" in name or "relative_attention_bias" in name:
        return 0
    return n_layers + 1


def layer_decay_groups(
    model: torch.nn.Module, learning_rate: float, layer_decay: float, weight_decay: float, decay_names: set[str]
) -> list[dict]:
    """Optimizer parameter groups of the trainable parameters with layer-wise learning-rate decay (as in ELECTRA,
    Clark et al., 2020; Sun et al., 2019): depth d (``layer_depth``) trains at lr * decay^(n_layers + 1 - d).
    Parameters in ``decay_names`` get ``weight_decay``, the others (biases, LayerNorm) none."""
    n_layers = model.config.num_hidden_layers
    groups: dict[tuple[int, bool], dict] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        depth, decayed = layer_depth(name, n_layers), name in decay_names
        group = groups.setdefault(
            (depth, decayed),
            {
                "params": [],
                "lr": learning_rate * layer_decay ** (n_layers + 1 - depth),
                "weight_decay": weight_decay if decayed else 0.0,
            },
        )
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
        groups = layer_decay_groups(
            self.model,
            self.args.learning_rate,
            self.layer_decay,
            self.args.weight_decay,
            set(self.get_decay_parameter_names(self.model)),
        )
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


def epoch_arguments(
    output_dir: str | Path,
    metric: str,
    *,
    epochs: int,
    max_steps: int,
    batch_size: int,
    learning_rate: float,
    weight_decay: float,
    warmup_ratio: float,
    seed: int,
    bf16: bool,
    device: torch.device,
    **overrides,
) -> TrainingArguments:
    """``TrainingArguments`` shared by every trainer of the project: one evaluation and checkpoint per epoch, the
    epoch with the best validation ``metric`` loaded at the end, linear warm-up and decay, seeded data order."""
    settings = dict(
        output_dir=str(Path(output_dir) / "checkpoints"),
        num_train_epochs=epochs,
        max_steps=max_steps,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=64,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        warmup_steps=warmup_ratio,  # a value below 1 is a share of the steps (rounded up)
        lr_scheduler_type="linear",
        eval_strategy="epoch",
        save_strategy="epoch",
        logging_strategy="epoch",
        save_total_limit=1,
        save_only_model=True,
        load_best_model_at_end=True,
        metric_for_best_model=metric,
        greater_is_better=True,
        bf16=bf16,
        use_cpu=device.type == "cpu",  # Trainer accepts bf16 on a CPU only when told it trains there
        seed=seed,
        data_seed=seed,
        report_to="none",
        dataloader_pin_memory=device.type == "cuda",
    )
    return TrainingArguments(**{**settings, **overrides})


def best_epoch(trainer: Trainer, metric: str) -> tuple[float, list[dict]]:
    """(the epoch Trainer kept as best by ``metric``, the per-epoch validation history), from its state."""
    rows = [row for row in trainer.state.log_history if f"eval_{metric}" in row]
    history = [
        {k.removeprefix("eval_"): v for k, v in row.items() if k.startswith("eval_") or k == "epoch"} for row in rows
    ]
    steps = [row["step"] for row in rows]
    return history[steps.index(trainer.state.best_global_step)]["epoch"], history


# A run whose last epoch's training loss is above this share of the class prior's entropy has learned (almost) nothing
# about the inputs (the four benchmarks' training labels: 1.08 nats; a diverged MPNet + LoRA run sat there).
COLLAPSE_SHARE = 0.95


def prior_entropy(labels: list[int] | np.ndarray) -> float:
    """The cross-entropy (nats) of always predicting each class's share of ``labels``: the training loss of a model
    that learned only how often each class occurs."""
    counts = np.bincount(np.asarray(labels))
    shares = counts[counts > 0] / counts.sum()
    return float(-(shares * np.log(shares)).sum())


def collapsed(log_history: list[dict], labels: list[int] | np.ndarray) -> bool:
    """Whether training collapsed: the last epoch's mean training loss (``Trainer``'s ``loss`` rows) is at least
    ``COLLAPSE_SHARE`` of ``prior_entropy(labels)``, i.e. the model predicts the class prior whatever the input. A
    diverged run looks like this (LoRA at a high learning rate can, for some seeds); it holds for a refit too, which
    has no validation split to show it."""
    losses = [row["loss"] for row in log_history if "loss" in row]
    return bool(losses) and losses[-1] >= COLLAPSE_SHARE * prior_entropy(labels)
