"""Training objectives beyond plain cross-entropy: class-weighted, distillation from a teacher, and R-Drop."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight


def balanced_class_weights(labels: list[int], n_classes: int = 3) -> torch.Tensor:
    """Inverse-frequency weights n / (k * count_c) over the k = ``n_classes`` classes (scikit-learn's "balanced");
    a class absent from train gets 1."""
    labels = np.asarray(labels)
    present = np.unique(labels)
    weights = np.ones(n_classes)
    weights[present] = compute_class_weight("balanced", classes=present, y=labels) * len(present) / n_classes
    return torch.tensor(weights, dtype=torch.float32)


def weighted_loss(weights: torch.Tensor):
    """A ``Trainer(compute_loss_func=...)`` computing class-weighted cross-entropy."""

    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"]
        return torch.nn.functional.cross_entropy(logits.float(), labels, weight=weights.to(logits.device))

    return loss


def distillation_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    teacher_probs: torch.Tensor,
    alpha: float = 0.5,
    temperature: float = 2.0,
) -> torch.Tensor:
    """(1 - alpha) * cross-entropy with the gold labels + alpha * T^2 * KL(teacher_T || student_T), where x_T is the
    distribution softened by temperature T (Hinton et al., 2015); the teacher is given as probabilities."""
    logits = logits.float()
    hard = torch.nn.functional.cross_entropy(logits, labels)
    teacher_soft = torch.softmax(torch.log(teacher_probs.float().clamp_min(1e-12)) / temperature, dim=-1)
    student_log_soft = torch.log_softmax(logits / temperature, dim=-1)
    soft = torch.nn.functional.kl_div(student_log_soft, teacher_soft, reduction="batchmean") * temperature**2
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
