"""Find the aspects: train a token tagger on the end-to-end sets (unified polarity tags, or B/I/O extraction tags
for a pipeline), keep the best epoch by validation span F1, export. ``absa.src.extractor`` tags raw text with it.

    python -m absa.src.extract --benchmark rest14 --backbone minilm --regime full --output_dir absa/models/e2e_rest14
    python -m absa.src.extract --benchmark rest14+laptop14 --regime lora --learning_rate 5e-4 --output_dir DIR

A model folder holds the tagger (weights or LoRA adapter), the tokenizer, ``absa_config.json`` (``task: extract``,
the tag scheme) and ``metrics.json`` (a ``RunRecord`` whose scores are ``metrics.span_metrics``). The epoch is chosen
on the benchmark's fixed validation file, by end-to-end F1 (unified tags) or extraction F1; the test file is scored
once afterwards.
"""

from __future__ import annotations

import logging
import resource
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from datasets import Dataset
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForTokenClassification, DataCollatorForTokenClassification, set_seed

from absa.src.backbones import resolve_backbone
from absa.src.config import parse_arguments
from absa.src.data import E2E_BENCHMARKS, PACKAGE_DIR, load_e2e
from absa.src.files import write_json
from absa.src.metrics import span_metrics
from absa.src.model_card import write_tagger_card
from absa.src.modeling import ABSA_CONFIG, LORA_TARGETS, count_parameters, load_tokenizer, name_base_by_hub_id, use_bf16
from absa.src.records import RunRecord, git_commit
from absa.src.tagging import SCHEMES, decode_tags, encode_sentence
from absa.src.trainer import AbsaTrainer, best_epoch, epoch_arguments

logger = logging.getLogger(__name__)


@dataclass
class ExtractConfig:
    """One tagger run: data, backbone and regime, tag scheme, optimisation, and where the model goes."""

    benchmark: str = field(
        default="rest14",
        metadata={"help": "end-to-end set under <data dir>/e2e, e.g. rest14; several joined by + (rest14+laptop14)"},
    )
    data_dir: str | None = field(default=None, metadata={"help": "default $ABSA_DATA_DIR or absa/data"})
    scheme: Literal["unified", "extraction"] = field(
        default="unified", metadata={"help": "unified: B/I x NEG/NEU/POS tags; extraction: B/I/O only (pipeline)"}
    )
    backbone: str = field(default="minilm", metadata={"help": "minilm | mpnet | local folder | hub id"})
    regime: Literal["full", "lora"] = field(default="full", metadata={"help": "full | lora"})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank (lora regime)"})
    learning_rate: float = field(default=5e-5, metadata={"help": "peak learning rate"})
    epochs: int = field(default=8, metadata={"help": "training epochs; the best one on validation is kept"})
    batch_size: int = field(default=16, metadata={"help": "sentences per step"})
    max_length: int = field(default=128, metadata={"help": "tokens per sentence"})
    warmup_ratio: float = field(default=0.1, metadata={"help": "share of the steps with a linear warm-up"})
    seed: int = field(default=42, metadata={"help": "seeds the model and the data order"})
    bf16: Literal["auto", "yes", "no"] = field(default="auto", metadata={"help": "auto | yes | no"})
    max_steps: int = field(default=-1, metadata={"help": "stop after this many steps (smoke runs); -1 = all epochs"})
    output_dir: str | None = field(default=None, metadata={"help": "default absa/models/e2e-<benchmark>-<backbone>"})

    def __post_init__(self) -> None:
        for name, bad, rule in [
            ("learning_rate", not self.learning_rate > 0, "> 0"),
            ("epochs", self.epochs < 1, ">= 1"),
            ("batch_size", self.batch_size < 1, ">= 1"),
            ("max_length", self.max_length < 8, ">= 8"),
            ("lora_r", self.lora_r < 1, ">= 1"),
            ("warmup_ratio", not 0 <= self.warmup_ratio < 1, "in [0, 1)"),
            ("max_steps", self.max_steps == 0 or self.max_steps < -1, "-1 (all epochs) or >= 1"),
        ]:
            if bad:
                raise ValueError(f"{name} must be {rule}, not {getattr(self, name)!r}")
        if self.output_dir is None:
            self.output_dir = str(PACKAGE_DIR / "models" / f"e2e-{self.benchmark}-{self.backbone}")


def build_tagger(config: ExtractConfig):
    """A token classifier with one output per tag of the scheme; with LoRA only the adapters and the head train."""
    names = SCHEMES[config.scheme]
    model = AutoModelForTokenClassification.from_pretrained(
        resolve_backbone(config.backbone),
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={name: i for i, name in enumerate(names)},
    )
    if config.regime == "lora":
        lora = LoraConfig(
            task_type="TOKEN_CLS",
            r=config.lora_r,
            lora_alpha=2 * config.lora_r,
            lora_dropout=0.1,
            target_modules=LORA_TARGETS["all"],
        )
        model = get_peft_model(model, lora)
    return model


def spans_of(sentences: list[dict], scheme: str) -> list[list[tuple]]:
    """The gold aspects of each sentence as (start, end, label) (label None for extraction tags)."""
    return [
        [(a["start"], a["end"], a["label"] if scheme == "unified" else None) for a in s["aspects"]] for s in sentences
    ]


class SpanScorer:
    """``compute_metrics`` for a split of sentences (in dataset order): decodes the predicted tags into spans."""

    def __init__(self, tokenizer, sentences: list[dict], scheme: str, max_length: int) -> None:
        self.scheme, self.gold = scheme, spans_of(sentences, scheme)
        self.encodings = [
            tokenizer(s["text"], truncation=True, max_length=max_length, return_offsets_mapping=True) for s in sentences
        ]

    def spans(self, logits: np.ndarray) -> list[list[tuple]]:
        tags = logits.argmax(-1)
        return [
            decode_tags(e.word_ids(), e["offset_mapping"], tags[i][: len(e["input_ids"])].tolist(), self.scheme)
            for i, e in enumerate(self.encodings)
        ]

    def scores(self, logits: np.ndarray) -> dict:
        return span_metrics(self.gold, self.spans(logits))

    def __call__(self, prediction) -> dict:
        scores = self.scores(prediction.predictions)
        return {"e2e_f1": scores["e2e"]["f1"], "extraction_f1": scores["extraction"]["f1"], "pn_f1": scores["pn"]["f1"]}


def train_extractor(config: ExtractConfig) -> RunRecord:
    """Train, keep the best epoch on validation, score test once, export to ``config.output_dir``."""
    commit = git_commit()
    set_seed(config.seed)
    benchmarks = config.benchmark.split("+")
    per_benchmark = {name: load_e2e(name, config.data_dir) for name in benchmarks}
    splits = {
        split: [s for name in benchmarks for s in per_benchmark[name][split]]
        for split in ("train", "validation", "test")
    }
    tokenizer = load_tokenizer(resolve_backbone(config.backbone))
    encoded = {
        split: Dataset.from_list(
            [
                dict(encode_sentence(tokenizer, s["text"], s["aspects"], config.scheme, config.max_length))
                for s in sentences
            ]
        )
        for split, sentences in splits.items()
    }
    scorers = {
        split: SpanScorer(tokenizer, sentences, config.scheme, config.max_length) for split, sentences in splits.items()
    }
    model = build_tagger(config)
    trainable, total = count_parameters(model)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    bf16 = use_bf16(config.bf16, device)
    metric = "e2e_f1" if config.scheme == "unified" else "extraction_f1"
    args = epoch_arguments(
        config.output_dir,
        metric,
        epochs=config.epochs,
        max_steps=config.max_steps,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        weight_decay=0.01,
        warmup_ratio=config.warmup_ratio,
        seed=config.seed,
        bf16=bf16,
        device=device,
    )
    trainer = AbsaTrainer(
        model=model,
        args=args,
        train_dataset=encoded["train"],
        eval_dataset=encoded["validation"],
        processing_class=tokenizer,
        data_collator=DataCollatorForTokenClassification(tokenizer),
        compute_metrics=scorers["validation"],
    )
    start = time.time()
    trainer.train()
    train_seconds = time.time() - start
    best, history = best_epoch(trainer, metric)
    trainer.compute_metrics = None
    scores = {
        split: scorers[split].scores(trainer.predict(encoded[split]).predictions) for split in ("validation", "test")
    }
    if len(benchmarks) > 1:  # each benchmark's own test scores too: the one number a reader compares
        logits = trainer.predict(encoded["test"]).predictions
        scores["test"]["by_benchmark"], first = {}, 0
        for name in benchmarks:
            size = len(per_benchmark[name]["test"])
            scorer = SpanScorer(tokenizer, per_benchmark[name]["test"], config.scheme, config.max_length)
            scores["test"]["by_benchmark"][name] = scorer.scores(logits[first : first + size])
            first += size
    record = RunRecord(
        config=asdict(config),
        best_epoch=best,
        validation=scores["validation"],
        test=scores["test"],
        validation_history=history,
        data={
            "train": " + ".join(f"e2e/{name}/train.jsonl" for name in benchmarks),
            **{f"n_{k}": len(v) for k, v in splits.items()},
        },
        trainable_params=trainable,
        total_params=total,
        train_seconds=round(train_seconds, 1),
        peak_mem_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        bf16=bf16,
        device=torch.cuda.get_device_name() if device.type == "cuda" else f"cpu x{torch.get_num_threads()}",
        commit=commit,
    )
    if trainer.is_world_process_zero():
        folder = Path(config.output_dir)
        trainer.model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        name_base_by_hub_id(folder, config.backbone)
        write_json(
            folder / ABSA_CONFIG,
            {
                "task": "extract",
                "scheme": config.scheme,
                "backbone": config.backbone,
                "regime": config.regime,
                "max_length": config.max_length,
            },
        )
        record.save(folder)
        write_tagger_card(folder, record)
        shutil.rmtree(folder / "checkpoints", ignore_errors=True)
    return record


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = parse_arguments(ExtractConfig)
    for name in config.benchmark.split("+"):
        if name not in E2E_BENCHMARKS:
            logger.warning("%s is not one of the standard end-to-end sets (%s)", name, E2E_BENCHMARKS)
    record = train_extractor(config)
    metrics = ["extraction"] if config.scheme == "extraction" else ["e2e", "extraction"]  # no polarity to score
    scores = {
        split: ", ".join(f"{name} F1 {100 * values[name]['f1']:.2f}" for name in metrics)
        for split, values in (("validation", record.validation), ("test", record.test))
    }
    print(f"best epoch {record.best_epoch:g}: validation {scores['validation']}; test {scores['test']}")
    print(f"exported to {config.output_dir}")


if __name__ == "__main__":
    main()
