"""Backbone + regime (full | lora) -> model; sentence-pair encoding; export and load of a model folder.

A model folder holds the Hugging Face files (full weights, or a LoRA adapter whose base is named by its hub id,
never by a machine's path), the tokenizer, ``absa_config.json`` (backbone, regime, label map, max length), and,
written by training, ``metrics.json`` and a model card ``README.md``.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.utils import logging as transformers_logging

from absa.src.backbones import hub_id, resolve_backbone
from absa.src.config import CHOICES
from absa.src.data import ID2LABEL, LABEL2ID
from absa.src.files import write_json

ABSA_CONFIG = "absa_config.json"
# Every linear layer inside the encoder blocks, for MPNet (q, k, v, o, dense) and BERT/MiniLM
# (query, key, value, dense); embeddings and the classification head are left out (the head is trained fully).
LORA_TARGETS = {
    "all": r".*encoder\.layer\.\d+\..*\.(q|k|v|o|query|key|value|dense)$",
    "attention": r".*encoder\.layer\.\d+\..*\.(q|k|v|o|query|key|value)$",
    "qv": r".*encoder\.layer\.\d+\..*\.(q|v|query|value)$",
}


def bf16_is_fast(device: torch.device) -> bool:
    """bf16 only where the hardware runs it natively: CUDA with bf16 support, or a CPU with AMX tiles or
    AVX512-BF16 instructions (measured on a 2-core AVX512-BF16 EPYC: training steps 2.1-2.6x and prediction ~3x
    faster than fp32).

    On CPUs without them (e.g. AVX2-only) bf16 is several times slower than fp32.
    """
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return any(
        bool(getattr(torch.cpu, probe, lambda: False)())
        for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    )


def use_bf16(setting: str, device: torch.device) -> bool:
    if setting not in ("auto", "yes", "no"):
        raise ValueError(f"bf16 must be auto, yes or no, not {setting!r}")
    return setting == "yes" or (setting == "auto" and bf16_is_fast(device))


def load_tokenizer(source: str) -> PreTrainedTokenizerBase:
    return AutoTokenizer.from_pretrained(source)


INPUT_FORMATS = CHOICES["input_format"]
MARK_OPEN, MARK_CLOSE = "[", "]"


def mark_aspect(text: str, aspect: str) -> str:
    """The text with the first mention of the aspect (case-insensitive) wrapped in brackets; unchanged if absent.

    >>> mark_aspect("The food was great but the service slow", "service")
    'The food was great but the [service] slow'
    """
    start = text.lower().find(aspect.lower())
    if start < 0:
        return text
    end = start + len(aspect)
    return f"{text[:start]}{MARK_OPEN}{text[start:end]}{MARK_CLOSE}{text[end:]}"


def encode_pairs(
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    aspects: list[str],
    max_length: int = 128,
    input_format: str = "pair",
    truncation: bool = True,
    **kwargs,
) -> dict:
    """Encode (text, aspect) as a sentence pair; only the text is truncated (to ``max_length`` tokens in all), never
    the aspect; ``truncation=False`` keeps every token, to measure.

    ``input_format="marked"`` also marks the aspect inside the text (``mark_aspect``), so the model sees where it is.
    """
    if input_format not in INPUT_FORMATS:
        raise ValueError(f"input_format must be one of {INPUT_FORMATS}, not {input_format!r}")
    texts = list(texts)
    if input_format == "marked":
        texts = [mark_aspect(text, aspect) for text, aspect in zip(texts, aspects)]
    if not truncation:
        return tokenizer(texts, list(aspects), **kwargs)
    return tokenizer(texts, list(aspects), truncation="only_first", max_length=max_length, **kwargs)


def build_model(
    backbone: str,
    regime: str = "lora",
    lora_r: int = 16,
    lora_alpha: int = 32,
    lora_dropout: float = 0.1,
    lora_targets: str = "all",
) -> PreTrainedModel:
    """A 3-label classifier on ``backbone``; with ``regime="lora"`` only LoRA matrices and the head train."""
    if regime not in ("full", "lora"):
        raise ValueError(f"regime must be 'full' or 'lora', not {regime!r}")
    model = AutoModelForSequenceClassification.from_pretrained(
        resolve_backbone(backbone), num_labels=len(ID2LABEL), id2label=ID2LABEL, label2id=LABEL2ID
    )
    if regime == "full":
        return model
    if lora_targets not in LORA_TARGETS:
        raise ValueError(f"lora_targets must be one of {sorted(LORA_TARGETS)}, not {lora_targets!r}")
    config = LoraConfig(
        task_type="SEQ_CLS",
        r=lora_r,
        lora_alpha=lora_alpha,
        lora_dropout=lora_dropout,
        target_modules=LORA_TARGETS[lora_targets],
    )
    return get_peft_model(model, config)


def count_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())


def save_model_folder(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    folder: str | os.PathLike,
    backbone: str,
    regime: str,
    max_length: int,
    input_format: str = "pair",
) -> Path:
    """Write model (or adapter), tokenizer and ``absa_config.json`` to ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    name_base_by_hub_id(folder, backbone)
    tokenizer.save_pretrained(folder)
    config = {
        "backbone": backbone,
        "regime": regime,
        "max_length": max_length,
        "input_format": input_format,
        "id2label": ID2LABEL,
    }
    write_json(folder / ABSA_CONFIG, config)
    return folder


def name_base_by_hub_id(folder: str | os.PathLike, backbone: str) -> None:
    """Make a LoRA adapter name its base by hub id (peft writes the local path it was built from), so that plain
    peft loads the folder wherever a hub is reachable; ``resolve_backbone`` maps the id to the packaged weights."""
    path = Path(folder) / "adapter_config.json"
    if path.exists():
        adapter = json.loads(path.read_text())
        adapter["base_model_name_or_path"] = hub_id(backbone)
        write_json(path, adapter)


def read_absa_config(folder: str | os.PathLike) -> dict:
    """A model folder's ``absa_config.json``; a missing file or field is an error naming the folder."""
    path = Path(folder) / ABSA_CONFIG
    if not path.exists():
        raise FileNotFoundError(
            f"{folder}: not a model folder ({ABSA_CONFIG} missing); train one with "
            "`python -m absa.src.train` or pass --model with an exported folder"
        )
    try:
        config = json.loads(path.read_text())
    except ValueError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    missing = [key for key in ("backbone", "regime") if key not in config]
    if missing:
        raise ValueError(
            f"{path}: missing {', '.join(missing)} (a model folder's config names its backbone and regime)"
        )
    return config


def load_model_folder(
    folder: str | os.PathLike,
    trainable: bool = False,
    model_class: type = AutoModelForSequenceClassification,
    id2label: dict[int, str] = ID2LABEL,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase, dict]:
    """Load an exported model folder: (model, tokenizer, absa config). For inference (the default) the model is in
    eval mode and a LoRA adapter is applied to its backbone (resolved by name) and merged, so inference costs the
    same as a plain model; with ``trainable=True`` the adapter (or the full model) stays trainable, to train on.
    ``model_class`` and ``id2label`` name the head: a (text, aspect) classifier's by default, a tagger's for
    ``absa.src.extractor``.
    """
    folder = Path(folder)
    config = read_absa_config(folder)
    labels = {"num_labels": len(id2label), "id2label": id2label, "label2id": {n: i for i, n in id2label.items()}}
    if config["regime"] == "lora":
        # The backbone has no head yet (the adapter brings it): silence the "newly initialized" load report.
        verbosity = transformers_logging.get_verbosity()
        transformers_logging.set_verbosity_error()
        try:
            base = model_class.from_pretrained(resolve_backbone(config["backbone"]), **labels)
        finally:
            transformers_logging.set_verbosity(verbosity)
        with warnings.catch_warnings():
            # peft 0.21 asks the model for a property transformers 5 deprecates; nothing the user can act on.
            warnings.filterwarnings(
                "ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning
            )
            model = PeftModel.from_pretrained(base, folder, is_trainable=trainable)
        # the adapter names its base by hub id; point it at the local weights, so that saving a model trained on
        # from here never asks a hub for the base's config (the saved folder names the hub id again)
        model.peft_config["default"].base_model_name_or_path = resolve_backbone(config["backbone"])
        model = model if trainable else model.merge_and_unload()
    else:
        if not any(folder.glob("*.safetensors")) and not any(folder.glob("*.bin")):
            retrain = (
                "`python -m absa.src.extract` with the configuration its metrics.json records"
                if config.get("task") == "extract"
                else f"`python -m absa.src.train --like {folder} --output_dir NEW`; absa/models/fast: `make train-fast`"
            )
            raise FileNotFoundError(
                f"{folder}: no weights. Full fine-tuned weights are not kept in git; re-train ({retrain})"
            )
        model = model_class.from_pretrained(folder)
    return (model.train() if trainable else model.eval()), load_tokenizer(str(folder)), config


def weights_fingerprint(folder: str | Path) -> str:
    """The first 12 hex digits of the sha256 of a model folder's weight files. A folder's content can be replaced
    under the same name (a teacher, a re-promoted model), so results that name a folder record this too."""
    files = sorted(Path(folder).glob("*.safetensors")) + sorted(Path(folder).glob("*.bin"))
    if not files:
        raise FileNotFoundError(f"{folder}: no weight files (*.safetensors, *.bin) to fingerprint")
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        with open(path, "rb") as handle:
            hashlib.file_digest(handle, lambda: digest)  # goes on updating the one digest
    return digest.hexdigest()[:12]
