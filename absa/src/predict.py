"""Predictor: load a model folder once, predict (text, aspect) pairs in length-sorted batches, probabilities out.

Each batch is packed (``absa.src.packing``): short pairs share a row of the window, so mixed lengths cost little
padding, which matters most to a server whose passes hold whatever requests arrived together.

A text longer than the model's window is never cut blindly: the model reads the sentences around the aspect's
mention that fit (see ``context_window``).
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Sequence

import numpy as np
import torch
from torch.ao import quantization
from tqdm.auto import tqdm
from transformers import DataCollatorWithPadding

from absa.src.data import LABELS, PACKAGE_DIR
from absa.src.modeling import encode_pairs, load_model_folder, use_bf16
from absa.src.packing import pack_rows, packed_logits, passes, supports_packing

DEFAULT_MODEL = PACKAGE_DIR / "models" / "default"
# The fewest text tokens an aspect must leave room for in the model's window.
MIN_CONTEXT_TOKENS = 16
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


class AspectTooLong(ValueError):
    """An aspect that leaves the model too little room for its text."""


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the text's sentences (split after . ! ? and at line breaks)."""
    spans, start = [], 0
    for match in SENTENCE_END.finditer(text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans or [(0, len(text))]


def find_aspect(text: str, aspect: str, start: int | None = None) -> tuple[int, int] | None:
    """The aspect's character span in the text: at ``start`` when the text holds it there, else its first mention
    (case-insensitive); None when the text does not mention it."""
    if start is not None and start >= 0 and text[start : start + len(aspect)].lower() == aspect.lower():
        return start, start + len(aspect)
    found = text.lower().find(aspect.lower())
    return None if found < 0 else (found, found + len(aspect))


def context_window(tokenizer, text: str, aspect: str, max_length: int, start: int | None = None) -> str:
    """The part of ``text`` the model reads for ``aspect``: all of it when (text, aspect) fits in ``max_length``
    tokens; else the sentence that mentions the aspect and as many neighbouring sentences as fit, nearest first;
    when that sentence alone is too long, a window of tokens centred on the mention. A text that does not mention
    the aspect keeps its beginning. Raises ``AspectTooLong`` when the aspect leaves fewer than
    ``MIN_CONTEXT_TOKENS`` tokens for the text."""
    aspect_tokens = len(tokenizer(aspect, add_special_tokens=False)["input_ids"])
    budget = max_length - tokenizer.num_special_tokens_to_add(pair=True) - aspect_tokens
    if budget < MIN_CONTEXT_TOKENS:
        allowed = aspect_tokens + budget - MIN_CONTEXT_TOKENS
        raise AspectTooLong(
            f"an aspect of {aspect_tokens} tokens ({aspect[:40]!r}...): at most {allowed} fit the model's window"
        )
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    if len(offsets) <= budget:
        return text
    starts = [begin for begin, _ in offsets]

    def tokens(first: int, last: int) -> int:  # tokens that start within sentences first..last
        return bisect.bisect_left(starts, spans[last][1]) - bisect.bisect_left(starts, spans[first][0])

    span = find_aspect(text, aspect, start)
    spans = sentence_spans(text)
    if span is None:
        return text[: offsets[budget - 1][1]]
    home = max(i for i, (begin, _) in enumerate(spans) if begin <= span[0])
    if tokens(home, home) <= budget:
        first = last = home
        grown = True
        while grown:
            grown = False
            for candidate in (first - 1, last + 1):  # the sentence before, then the one after
                lo, hi = min(first, candidate), max(last, candidate)
                if 0 <= candidate < len(spans) and tokens(lo, hi) <= budget:
                    first, last, grown = lo, hi, True
        return text[spans[first][0] : spans[last][1]]
    mention = bisect.bisect_right(starts, span[0]) - 1
    low = min(max(0, mention - budget // 2), len(offsets) - budget)
    return text[offsets[low][0] : offsets[low + budget - 1][1]]


def use_int8(setting: str, device: torch.device, bf16: bool) -> bool:
    """int8 dynamic quantization of the linear layers: by default on CPUs that lack native bf16 (AMX)."""
    if setting not in ("auto", "yes", "no"):
        raise ValueError(f"quantize must be auto, yes or no, not {setting!r}")
    if setting == "yes" and device.type != "cpu":
        raise ValueError("int8 dynamic quantization runs on the CPU only")
    return setting == "yes" or (setting == "auto" and device.type == "cpu" and not bf16)


class Predictor:
    """Sentiment towards aspects with an exported model folder.

    >>> predictor = Predictor("absa/models/default")
    >>> predictor.predict(["your customer service is terrible!"], ["customer service"])
    array([0])
    """

    def __init__(
        self,
        model_dir: str | os.PathLike = DEFAULT_MODEL,
        batch_size: int = 64,
        bf16: str = "auto",
        quantize: str = "no",
        device: str | None = None,
        calibrated: bool = True,
        packing: bool = True,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size!r}")
        self.model_dir = str(model_dir)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        model, self.tokenizer, self.config = load_model_folder(model_dir)
        self.batch_size = batch_size
        self.bf16 = use_bf16(bf16, self.device)
        self.quantized = use_int8(quantize, self.device, self.bf16)
        self.bf16 = self.bf16 and not self.quantized  # int8 linear layers take fp32 inputs
        if self.quantized:
            # per-output-channel int8 weights keep more precision than one scale per matrix
            model = quantization.quantize_dynamic(
                model, {torch.nn.Linear: quantization.per_channel_dynamic_qconfig}, dtype=torch.qint8
            )
        # bf16 weights, cast once: autocast would re-cast every linear layer's weights on every batch
        # (about 6% of the fast model's prediction time on a 2-core AVX512-BF16 CPU).
        self.model = model.to(self.device, dtype=torch.bfloat16 if self.bf16 else None)
        self.max_length = int(self.config.get("max_length", 128))
        self.input_format = self.config.get("input_format", "pair")
        # temperature scaling fitted on validation (absa.src.calibration); 1 = the model's own confidences
        self.temperature = float(self.config.get("temperature", 1.0)) if calibrated else 1.0
        self.labels = LABELS
        self._collate = DataCollatorWithPadding(self.tokenizer)
        # several short pairs to a row of the window (same logits as padded batches, to float rounding)
        self.packing = packing and supports_packing(self.model)

    @property
    def precision(self) -> str:
        """The number format of the forward passes: int8 (quantized linear layers), bf16 or fp32."""
        return "int8" if self.quantized else "bf16" if self.bf16 else "fp32"

    @torch.inference_mode()
    def predict_proba(
        self,
        texts: Sequence[str],
        aspects: Sequence[str],
        progress: bool = False,
        starts: Sequence[int | None] | None = None,
    ) -> np.ndarray:
        """Class probabilities, shape (n, 3), in input order.

        Pairs are tokenized once and packed, longest first, into rows of the window (``absa.src.packing``; where the
        model's family allows, else one pair a length-sorted row); a forward pass takes up to ``batch_size`` pairs,
        so that little padding is computed. A pair longer
        than the model's window reads the context around the aspect's mention (``context_window``; ``starts``, the
        mentions' character offsets, pick among repeated mentions). Raises ``AspectTooLong`` for an aspect that
        leaves no room for its text.
        """
        if len(texts) != len(aspects) or (starts is not None and len(starts) != len(texts)):
            raise ValueError(
                f"{len(texts)} texts but {len(aspects)} aspects"
                + (f" and {len(starts)} starts" if starts is not None else "")
            )
        if len(texts) == 0:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        texts, aspects = list(texts), list(aspects)
        encoded = encode_pairs(self.tokenizer, texts, aspects, self.max_length, self.input_format, truncation=False)
        too_long = [i for i, ids in enumerate(encoded["input_ids"]) if len(ids) > self.max_length]
        if too_long:
            windows = [
                context_window(
                    self.tokenizer, texts[i], aspects[i], self.max_length, starts[i] if starts is not None else None
                )
                for i in too_long
            ]
            again = encode_pairs(
                self.tokenizer, windows, [aspects[i] for i in too_long], self.max_length, self.input_format
            )
            for key in encoded:
                for j, i in enumerate(too_long):
                    encoded[key][i] = again[key][j]
        lengths = [len(ids) for ids in encoded["input_ids"]]
        if self.packing:  # rows of the window, longest pairs first; a pass takes rows up to batch_size pairs
            groups = passes(pack_rows(lengths, self.max_length), self.batch_size)
        else:  # length-sorted batches of batch_size pairs, one pair a row
            order = np.argsort(-np.array(lengths), kind="stable")
            groups = [
                [[i] for i in order[start : start + self.batch_size]] for start in range(0, len(order), self.batch_size)
            ]
        probs = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        for rows in tqdm(groups, desc="predicting", unit="batch", disable=not progress):
            items = [[{k: encoded[k][i] for k in encoded} for i in row] for row in rows]
            if self.packing:
                logits = packed_logits(self.model, items)
            else:
                batch = self._collate([pair for row in items for pair in row])
                logits = self.model(**{k: v.to(self.device) for k, v in batch.items()}).logits
            index = [i for row in rows for i in row]
            probs[index] = torch.softmax(logits.float() / self.temperature, dim=-1).cpu().numpy()
        return probs

    def predict(
        self,
        texts: Sequence[str],
        aspects: Sequence[str],
        progress: bool = False,
        starts: Sequence[int | None] | None = None,
    ) -> np.ndarray:
        """Predicted label ids (0 = negative, 1 = neutral, 2 = positive), in input order."""
        return self.predict_proba(texts, aspects, progress, starts).argmax(axis=1)
