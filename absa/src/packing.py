"""Sequence packing for sequence classification: several short (text, aspect) pairs share one row of the model's
window, each attending only to itself, so a forward pass computes almost no padding.

A pass of pairs of mixed lengths padded to its longest pays for the padding: a server cannot sort requests that have
not arrived yet, and on a CPU padded tokens cost as much as real ones. Packed (Krell et al., 2021, "Efficient
Sequence Packing without Cross-contamination"), each pair keeps its own positions and a block-diagonal attention
mask, and its logits equal the padded ones to float rounding (a test checks both supported families).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

# model_type -> (first position id: MPNet counts from padding_idx + 1, BERT from 0)
SUPPORTED = {"mpnet": "after_padding", "bert": "zero"}


def supports_packing(model: torch.nn.Module) -> bool:
    """Packing needs to know the family's positions and classification head: MPNet and BERT (MiniLM)."""
    return getattr(getattr(model, "config", None), "model_type", None) in SUPPORTED


def pack_rows(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """Indices of ``lengths`` grouped into rows of at most ``capacity`` tokens: first-fit, longest first."""
    if any(length > capacity for length in lengths):
        raise ValueError(f"a sequence of {max(lengths)} tokens does not fit a row of {capacity}")
    rows: list[list[int]] = []
    room: list[int] = []
    for index in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        row = next((r for r, free in enumerate(room) if free >= lengths[index]), None)
        if row is None:
            rows.append([])
            room.append(capacity)
            row = len(rows) - 1
        rows[row].append(index)
        room[row] -= lengths[index]
    return rows


def passes(rows: list[list[int]], max_pairs: int) -> list[list[list[int]]]:
    """Consecutive rows grouped into forward passes of at most ``max_pairs`` pairs (a row more only if alone)."""
    groups: list[list[list[int]]] = []
    pairs = 0
    for row in rows:
        if groups and pairs + len(row) <= max_pairs:
            groups[-1].append(row)
            pairs += len(row)
        else:
            groups.append([row])
            pairs = len(row)
    return groups


@torch.inference_mode()
def packed_logits(model: torch.nn.Module, rows: Sequence[Sequence[dict[str, list[int]]]]) -> torch.Tensor:
    """Logits of tokenized pairs (``input_ids`` and, for BERT, ``token_type_ids``) laid out in ``rows`` (each row's
    pairs side by side), computed in one forward pass; shape (pairs, labels), row after row."""
    config = model.config
    width = max(sum(len(item["input_ids"]) for item in row) for row in rows)
    shape = (len(rows), width)
    pad = config.pad_token_id or 0
    first_position = pad + 1 if SUPPORTED[config.model_type] == "after_padding" else 0
    input_ids = torch.full(shape, pad, dtype=torch.long)
    token_type_ids = torch.zeros(shape, dtype=torch.long)
    position_ids = torch.full(shape, first_position, dtype=torch.long)
    segment = torch.full(shape, -1, dtype=torch.long)  # which pair of its row a token belongs to; -1: padding
    starts = []
    for r, row in enumerate(rows):
        offset = 0
        for k, item in enumerate(row):
            end = offset + len(item["input_ids"])
            input_ids[r, offset:end] = torch.tensor(item["input_ids"])
            if "token_type_ids" in item:
                token_type_ids[r, offset:end] = torch.tensor(item["token_type_ids"])
            position_ids[r, offset:end] = torch.arange(first_position, first_position + end - offset)
            segment[r, offset:end] = k
            starts.append((r, offset))
            offset = end
    device = next(model.parameters()).device
    dtype = model.get_input_embeddings().weight.dtype
    attends = (segment[:, :, None] == segment[:, None, :]) & (segment[:, None, :] >= 0)
    mask = torch.zeros((*shape, width), dtype=dtype).masked_fill(~attends, torch.finfo(dtype).min)[:, None]
    inputs = {"input_ids": input_ids, "attention_mask": mask, "position_ids": position_ids}
    if config.model_type == "bert":
        inputs["token_type_ids"] = token_type_ids
    hidden = model.base_model(**{k: v.to(device) for k, v in inputs.items()}).last_hidden_state
    row_of, offset_of = (torch.tensor(column, device=device) for column in zip(*starts))
    first_tokens = hidden[row_of, offset_of][:, None]  # each pair's <s>/[CLS] token, as (n, 1, hidden)
    if config.model_type == "bert":
        return model.classifier(model.dropout(model.bert.pooler(first_tokens)))
    return model.classifier(first_tokens)
