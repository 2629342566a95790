"""Extractor: find the aspects in raw text and the sentiment towards each, with an exported tagger folder.

    >>> extractor = Extractor("absa/models/e2e")
    >>> extractor.extract(["The pasta was great but the service was slow."])
    [[{'aspect': 'pasta', 'start': 4, 'end': 9, 'label': 2, 'sentiment': 'positive', 'confidence': 0.98}, ...]]

A text of any length is read sentence by sentence (a sentence longer than the model's window in windows of tokens),
as the taggers were trained; every offset points into the original text. A unified tagger (``scheme: unified``)
gives the polarity with the span, its confidence the probability of the span's first tag; a pipeline tagger
(``scheme: extraction``) finds the spans and the classifier folder its ``absa_config.json`` names (``classifier``,
relative to the tagger folder) classifies each (text, aspect) pair, its confidence that classifier's calibrated
probability.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import AutoModelForTokenClassification, DataCollatorWithPadding

from absa.src.data import LABELS, PACKAGE_DIR
from absa.src.modeling import load_model_folder, read_absa_config, use_bf16
from absa.src.predict import Predictor, sentence_spans
from absa.src.tagging import SCHEMES, decode_tags

DEFAULT_EXTRACTOR = PACKAGE_DIR / "models" / "e2e"


def load_tagger(folder: str | os.PathLike):
    """(model, tokenizer, absa config) of an exported tagger folder; a LoRA adapter is merged into its backbone."""
    config = read_absa_config(folder)
    if config.get("task") != "extract":
        raise ValueError(f"{folder}: not an aspect tagger (its absa_config.json has no task: extract)")
    id2label = dict(enumerate(SCHEMES[config["scheme"]]))
    return load_model_folder(folder, model_class=AutoModelForTokenClassification, id2label=id2label)


def windows(tokenizer, text: str, max_tokens: int) -> Iterator[tuple[int, str]]:
    """(character offset, piece) of the parts of ``text`` a tagger reads: its sentences, and a sentence longer than
    ``max_tokens`` tokens in consecutive windows of at most that many tokens, cut between words."""
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        if not sentence.strip():
            continue
        encoded = tokenizer(sentence, add_special_tokens=False, return_offsets_mapping=True)
        words, offsets = encoded.word_ids(), encoded["offset_mapping"]
        if len(offsets) <= max_tokens:
            yield start, sentence
            continue
        first = 0
        while first < len(offsets):
            stop = min(first + max_tokens, len(offsets))
            if stop < len(offsets):
                cut = stop
                while cut > first + 1 and words[cut] == words[cut - 1]:
                    cut -= 1  # back to the start of the word the window would split
                if words[cut] != words[cut - 1]:
                    stop = cut  # (else one word is longer than the window: it is cut)
            yield start + offsets[first][0], sentence[offsets[first][0] : offsets[stop - 1][1]]
            first = stop


class Extractor:
    """Aspects with their sentiment in raw texts, from an exported tagger folder (see the module's docstring)."""

    def __init__(
        self,
        model_dir: str | os.PathLike = DEFAULT_EXTRACTOR,
        batch_size: int = 32,
        bf16: str = "auto",
        device: str | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size!r}")
        self.model_dir = Path(model_dir)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        model, self.tokenizer, self.config = load_tagger(self.model_dir)
        self.bf16 = use_bf16(bf16, self.device)
        self.model = model.to(self.device, dtype=torch.bfloat16 if self.bf16 else None)
        self.scheme = self.config["scheme"]
        self.max_length = int(self.config.get("max_length", 128))
        self.batch_size = batch_size
        self.classifier = None
        if self.scheme == "extraction":
            if "classifier" not in self.config:
                raise ValueError(f"{self.model_dir}: a pipeline tagger must name its classifier folder (classifier)")
            self.classifier = Predictor(self.model_dir / self.config["classifier"], bf16=bf16, device=device)
        self._collate = DataCollatorWithPadding(self.tokenizer)

    @torch.inference_mode()
    def _tag(self, pieces: list[str], progress: bool) -> list[list[tuple[int, int, int | None, float]]]:
        """(start, end, label, confidence) spans in each piece, offsets into the piece."""
        encoded = [
            self.tokenizer(p, truncation=True, max_length=self.max_length, return_offsets_mapping=True) for p in pieces
        ]
        order = np.argsort([-len(e["input_ids"]) for e in encoded], kind="stable")
        found: list[list] = [[] for _ in pieces]
        for begin in tqdm(range(0, len(order), self.batch_size), desc="tagging", unit="batch", disable=not progress):
            index = order[begin : begin + self.batch_size]
            batch = self._collate(
                [{"input_ids": encoded[i]["input_ids"], "attention_mask": encoded[i]["attention_mask"]} for i in index]
            )
            logits = self.model(**{k: v.to(self.device) for k, v in batch.items()}).logits
            probs = torch.softmax(logits.float(), dim=-1).cpu().numpy()
            for row, i in enumerate(index):
                e = encoded[i]
                word_ids, offsets = e.word_ids(), e["offset_mapping"]
                tags = probs[row, : len(word_ids)].argmax(-1).tolist()
                for start, end, label in decode_tags(word_ids, offsets, tags, self.scheme):
                    first = next(t for t, w in enumerate(word_ids) if w is not None and offsets[t][0] == start)
                    found[i].append((start, end, label, float(probs[row, first].max())))
        return found

    def extract(self, texts: Sequence[str], progress: bool = False) -> list[list[dict]]:
        """For each text, its aspects in order of appearance: ``aspect`` (the text's own characters), ``start``,
        ``end`` (offsets into the text), ``label`` (0/1/2), ``sentiment`` and ``confidence``."""
        pieces = [
            (i, offset, piece)
            for i, text in enumerate(texts)
            for offset, piece in windows(self.tokenizer, text, self.max_length - 2)
        ]
        tagged = self._tag([p for _, _, p in pieces], progress)
        spans = [
            (i, offset + start, offset + end, label, confidence)
            for (i, offset, _), found in zip(pieces, tagged)
            for start, end, label, confidence in found
        ]
        if self.classifier is not None and spans:
            probs = self.classifier.predict_proba(
                [texts[i] for i, *_ in spans],
                [texts[i][s:e] for i, s, e, *_ in spans],
                starts=[s for _, s, *_ in spans],
            )
            spans = [(i, s, e, int(p.argmax()), float(p.max())) for (i, s, e, _, _), p in zip(spans, probs)]
        results: list[list[dict]] = [[] for _ in texts]
        for i, start, end, label, confidence in spans:
            results[i].append(
                {
                    "aspect": texts[i][start:end],
                    "start": start,
                    "end": end,
                    "label": label,
                    "sentiment": LABELS[label],
                    "confidence": round(confidence, 4),
                }
            )
        return results
