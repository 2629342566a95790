"""Fine-tune a backbone (full or LoRA) for aspect sentiment, keep the best epoch by validation PN-macro-F1, export.

    python -m absa.src.train --dataset semeval14_restaurants --backbone mpnet --regime lora \
        --output_dir absa/models/my_restaurants
    python -m absa.src.train --like absa/models/fast --output_dir absa/models/ablation/runs/fast-rebuild
    python -m absa.src.train --like absa/models/general --refit --output_dir absa/models/general-refit

Reads top to bottom: configuration -> splits -> model -> Trainer -> best epoch on validation -> scores -> model
folder (weights, ``metrics.json`` as a ``RunRecord``, model card). Runs unchanged under ``accelerate launch`` on
several GPUs. The test split is scored once, after the best epoch has been chosen on validation, and only reported.
A refit (``--refit``) trains a configuration already chosen on validation again on the training and validation rows
together, for the epoch count that run chose: nothing is chosen, so nothing is scored on validation.
"""

from __future__ import annotations

import logging
import platform
import resource
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import peft
import torch
import transformers
from datasets import Dataset, DatasetDict, concatenate_datasets
from transformers import DataCollatorWithPadding, EvalPrediction, PreTrainedModel, TrainingArguments, set_seed

from absa.src.augment import augment_training_rows
from absa.src.backbones import resolve_backbone
from absa.src.config import TrainConfig, like_folder, like_kind, parse_config
from absa.src.data import (
    ALL,
    BENCHMARKS,
    E2E,
    PACKAGE_DIR,
    add_training_rows,
    grouped_split,
    load_all_benchmarks,
    load_benchmark,
    read_frame,
)
from absa.src.files import upsert_json_entry
from absa.src.losses import balanced_class_weights, weighted_loss
from absa.src.metrics import classification_metrics
from absa.src.model_card import write_model_card
from absa.src.modeling import (
    bf16_is_fast,
    build_model,
    count_parameters,
    encode_pairs,
    load_model_folder,
    load_tokenizer,
    save_model_folder,
    use_bf16,
    weights_fingerprint,
)
from absa.src.predict import Predictor
from absa.src.records import METRICS_FILE, RunRecord, git_commit
from absa.src.trainer import AbsaTrainer, DistillationTrainer, best_epoch, collapsed, epoch_arguments

logger = logging.getLogger(__name__)
COLLAPSED = (
    "training collapsed: the last epoch's loss is no lower than predicting the class prior, so the model predicts "
    "(nearly) one class whatever the input. It is exported and recorded as collapsed; train again with another "
    "--seed or a lower --learning_rate"
)


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
    if config.refit:  # the validation rows join training; no split is left to choose or score on
        splits["train"] = concatenate_datasets([splits["train"], splits.pop("validation")])
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
        return build_model(
            config.backbone, config.regime, config.lora_r, config.lora_alpha, config.lora_dropout, config.lora_targets
        )
    if not Path(config.init_from).is_dir():
        raise FileNotFoundError(
            f"init_from {config.init_from} not found. The ablation runner's run folders "
            "(absa/models/ablation/runs) are git-ignored: `python -m absa.src.ablation` trains "
            "a grid run again under its id (the ledger's run_id)"
        )
    model, _, start = load_model_folder(config.init_from, trainable=True)
    rank = model.peft_config["default"].r if start["regime"] == "lora" else None
    wanted = {"backbone": config.backbone, "regime": config.regime, "input_format": config.input_format}
    found = {key: start.get(key, "pair") for key in wanted}
    if found != wanted or (rank is not None and rank != config.lora_r):
        raise ValueError(
            f"init_from {config.init_from} is {found} (LoRA rank {rank}); this run is {wanted} "
            f"(LoRA rank {config.lora_r})"
        )
    recorded = Path(config.init_from) / METRICS_FILE
    trained = RunRecord.load(config.init_from).config if recorded.exists() else None
    if (
        trained is not None
        and trained["seed"] != config.seed
        and (
            trained["dataset"] in (config.dataset, ALL)
            or config.dataset in (trained.get("extra_train") or "").split(",")
        )
    ):
        raise ValueError(
            f"init_from {config.init_from} trained on {config.dataset} with seed {trained['seed']}: its "
            f"training rows include seed {config.seed}'s validation rows; start from its seed "
            f"{config.seed} run, or train with --seed {trained['seed']}"
        )
    return model


def _score(prediction: EvalPrediction) -> dict:
    metrics = classification_metrics(prediction.label_ids, np.argmax(prediction.predictions, axis=-1))
    return {k: metrics[k] for k in ("pn_macro_f1", "accuracy", "macro_f1")}


SCORES = ("pn_macro_f1", "accuracy", "macro_f1")


def scores_by_benchmark(labels: np.ndarray, predicted: np.ndarray, benchmarks: np.ndarray) -> dict:
    """``classification_metrics`` of each benchmark's rows, and the headline scores as their mean over benchmarks
    (each benchmark counts the same, whatever its size)."""
    by_benchmark = {
        name: classification_metrics(labels[benchmarks == name], predicted[benchmarks == name])
        for name in dict.fromkeys(benchmarks.tolist())
    }
    means = {k: float(np.mean([m[k] for m in by_benchmark.values()])) for k in SCORES}
    return {**means, "n": int(len(labels)), "averaged_over": list(by_benchmark), "by_benchmark": by_benchmark}


def _score_by_benchmark(benchmarks: list[str]):
    """``compute_metrics`` for a validation split drawn from several benchmarks (rows in dataset order)."""
    groups = np.asarray(benchmarks)

    def score(prediction: EvalPrediction) -> dict:
        scores = scores_by_benchmark(prediction.label_ids, np.argmax(prediction.predictions, axis=-1), groups)
        return {k: scores[k] for k in SCORES}

    return score


def training_arguments(config: TrainConfig, bf16: bool, device: torch.device) -> TrainingArguments:
    """The ``TrainingArguments`` of a run: the configuration's optimisation fields, the best epoch by validation
    PN-macro-F1 (a refit keeps its last), training batches grouped by length."""
    refit = dict(eval_strategy="no", save_strategy="no", load_best_model_at_end=False) if config.refit else {}
    return epoch_arguments(
        config.output_dir,
        "pn_macro_f1",
        epochs=config.epochs,
        max_steps=config.max_steps,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_ratio=config.warmup_ratio,
        seed=config.seed,
        bf16=bf16,
        device=device,
        train_sampling_strategy="group_by_length",
        remove_unused_columns=config.teacher is None,  # keep teacher_probs in the batches
        **refit,
    )


def add_teacher_probabilities(splits: DatasetDict, teacher: str, bf16: bool) -> float:
    """Add the teacher folder's class probabilities on the training rows as a ``teacher_probs`` column, computed in
    the run's precision; returns the seconds it took. These are the teacher's own probabilities: the temperature
    fitted to calibrate its confidences for users is not applied (distillation has a temperature of its own)."""
    start = time.time()
    predictor = Predictor(teacher, bf16="yes" if bf16 else "no", calibrated=False)
    probs = predictor.predict_proba(splits["train"]["text"], splits["train"]["aspect"], progress=True)
    splits["train"] = splits["train"].add_column("teacher_probs", probs.tolist())
    return round(time.time() - start, 1)


def make_trainer(
    config: TrainConfig,
    model: PreTrainedModel,
    tokenizer,
    encoded: DatasetDict,
    compute_metrics,
    args: TrainingArguments,
) -> AbsaTrainer:
    """The configuration's trainer: distillation with a teacher, else plain, class-weighted or R-Drop."""
    common = dict(
        model=model,
        args=args,
        train_dataset=encoded["train"],
        eval_dataset=encoded.get("validation"),
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=compute_metrics,
        layer_decay=config.layer_decay,
    )
    if config.teacher:
        return DistillationTrainer(**common, alpha=config.distill_alpha, temperature=config.distill_temperature)
    weights = balanced_class_weights(encoded["train"]["labels"]) if config.class_weights == "balanced" else None
    return AbsaTrainer(
        **common,
        rdrop_alpha=config.rdrop_alpha,
        compute_loss_func=weighted_loss(weights) if weights is not None else None,
    )


def train(config: TrainConfig, rebuilds: str | None = None) -> RunRecord:
    """Train, select the best epoch on validation (a refit: train its epochs on train + validation), score test once,
    export to ``config.output_dir``. ``rebuilds``:
    the exported folder this run trains again (``--like``), whose recorded run is kept in the new record."""
    rebuilt_from = RunRecord.load(rebuilds).reference(rebuilds) if rebuilds else None
    commit = git_commit()  # the code that trains, recorded before anything can change it
    set_seed(config.seed)
    splits, added, augmented = load_splits(config)
    source = resolve_backbone(config.backbone)
    tokenizer = load_tokenizer(source)
    model = start_model(config)
    trainable, total = count_parameters(model)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    bf16 = use_bf16(config.bf16, device)
    teacher_seconds = add_teacher_probabilities(splits, config.teacher, bf16) if config.teacher else None

    def tokenize(batch: dict) -> dict:
        return encode_pairs(tokenizer, batch["text"], batch["aspect"], config.max_length, config.input_format)

    encoded = DatasetDict(
        {
            split: data.map(
                tokenize,
                batched=True,
                remove_columns=[c for c in data.column_names if c not in ("label", "teacher_probs")],
            )
            for split, data in splits.items()
        }
    )
    encoded = encoded.rename_column("label", "labels")
    benchmarks = {
        split: np.asarray(data["benchmark"]) for split, data in splits.items() if "benchmark" in data.column_names
    }

    compute_metrics = _score_by_benchmark(benchmarks["validation"]) if "validation" in benchmarks else _score
    trainer = make_trainer(config, model, tokenizer, encoded, compute_metrics, training_arguments(config, bf16, device))
    start = time.time()
    trainer.train()
    train_seconds = time.time() - start
    has_collapsed = collapsed(trainer.state.log_history, splits["train"]["label"])
    if has_collapsed:
        logger.warning(COLLAPSED)
    epoch, history = (float(config.epochs), []) if config.refit else best_epoch(trainer, "pn_macro_f1")

    trainer.compute_metrics = None  # scores of the chosen model are computed below, split by split

    def evaluate(split: str) -> dict:
        output = trainer.predict(encoded[split])
        if split in benchmarks:
            return scores_by_benchmark(output.label_ids, output.predictions.argmax(-1), benchmarks[split])
        return classification_metrics(output.label_ids, output.predictions.argmax(-1))

    record = RunRecord(
        config=asdict(config),
        backbone_source=source,
        best_epoch=epoch,
        validation=evaluate("validation") if "validation" in encoded else None,
        test=evaluate("test") if "test" in encoded else None,
        validation_history=history,
        data={
            "train": config.train_file
            or (
                ", ".join(f"{name}/train.csv" for name in BENCHMARKS)
                if config.dataset == ALL
                else " + ".join(f"{E2E}/{name}/train.jsonl" for name in config.dataset[len(E2E) + 1 :].split("+"))
                if config.dataset.startswith(f"{E2E}/")
                else f"{config.dataset}/train.csv"
            ),
            **{f"n_{k}": len(v) for k, v in splits.items()},
            "extra_train": added,
            "n_augmented": augmented,
        },
        trainable_params=trainable,
        total_params=total,
        train_seconds=round(train_seconds, 1),
        teacher_seconds=teacher_seconds,
        teacher_fingerprint=weights_fingerprint(config.teacher) if config.teacher else None,
        peak_mem_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        bf16=bf16,
        device=torch.cuda.get_device_name() if device.type == "cuda" else f"cpu x{torch.get_num_threads()}",
        commit=commit,
        library_versions={
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "peft": peft.__version__,
        },
        rebuilt_from=rebuilt_from,
        collapsed=has_collapsed,
    )
    if trainer.is_world_process_zero():
        output_dir = Path(config.output_dir)
        save_model_folder(
            trainer.model, tokenizer, output_dir, config.backbone, config.regime, config.max_length, config.input_format
        )
        record.save(output_dir)
        write_model_card(output_dir, record)
        shutil.rmtree(output_dir / "checkpoints", ignore_errors=True)
    return record


REBUILDS = PACKAGE_DIR / "reports" / "rebuilds.json"
# A rebuild replaces an earlier one of the same folder only where it ran the same way: one line per processor,
# thread count and precision, so rebuilds on several machines sit side by side.
REBUILD_KEYS = ("folder", "rebuilt.cpu", "rebuilt.device", "rebuilt.bf16")
# A refit (the folder's configuration trained on train + validation) is one line per folder and seed.
REFITS = PACKAGE_DIR / "reports" / "refits.json"
REFIT_KEYS = ("folder", "seed")


def cpu_name() -> str:
    """The processor's model name (``/proc/cpuinfo``), or its architecture where that is not readable."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.machine()


def rebuild_entry(record: RunRecord) -> dict:
    """A rebuild's scores beside the recorded run's, and how each was computed: a line of ``rebuilds.json``."""

    def summary(scores: dict | None) -> dict | None:
        return None if scores is None else {"pn_macro_f1": scores["pn_macro_f1"], "accuracy": scores["accuracy"]}

    before = record.rebuilt_from
    return {
        "folder": Path(before["folder"]).resolve().name,
        "recorded": {
            key: before[key]
            for key in ("commit", "device", "bf16", "library_versions", "teacher_fingerprint", "best_epoch")
            + ("validation", "test")
        },
        "rebuilt": {
            "commit": record.commit,
            "device": record.device,
            "cpu": cpu_name(),
            "cpu_native_bf16": bf16_is_fast(torch.device("cpu")),
            "bf16": record.bf16,
            "library_versions": record.library_versions,
            "teacher_fingerprint": record.teacher_fingerprint,
            "weights": weights_fingerprint(record.config["output_dir"]),  # equal where two rebuilds are bit-identical
            "best_epoch": record.best_epoch,
            "validation": summary(record.validation),
            "test": summary(record.test),
            "train_seconds": record.train_seconds,
        },
    }


def refit_entry(record: RunRecord) -> dict:
    """A refit's test scores (overall and per benchmark) and how it ran: a line of ``refits.json``."""
    test = record.test
    return {
        "folder": Path(record.rebuilt_from["folder"]).resolve().name,
        "seed": record.config["seed"],
        "epochs": record.config["epochs"],
        "commit": record.commit,
        "device": record.device,
        "cpu": cpu_name(),
        "bf16": record.bf16,
        "train_seconds": record.train_seconds,
        "collapsed": bool(record.collapsed),
        "test": {
            "pn_macro_f1": test["pn_macro_f1"],
            "accuracy": test["accuracy"],
            "by_benchmark": {name: s["pn_macro_f1"] for name, s in test.get("by_benchmark", {}).items()},
        },
    }


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = parse_config()
    like = like_folder()
    kind = like_kind(config, like) if like else None  # only a rebuild or a refit keeps the run it re-makes
    record = train(config, rebuilds=like if kind in ("rebuild", "refit") else None)
    val, test = record.validation, record.test
    print(
        (
            f"best epoch {record.best_epoch:g}: validation PN-macro-F1 {100 * val['pn_macro_f1']:.2f}"
            if val
            else f"refit for {record.best_epoch:g} epochs on train + validation"
        )
        + (f", test PN-macro-F1 {100 * test['pn_macro_f1']:.2f} accuracy {100 * test['accuracy']:.2f}" if test else "")
    )
    if record.collapsed:
        print(f"WARNING: {COLLAPSED}")
    if kind == "rebuild":
        before = record.rebuilt_from
        upsert_json_entry(REBUILDS, rebuild_entry(record), REBUILD_KEYS)
        print(
            f"the recorded run ({before['device']}, bf16 {before['bf16']}): validation PN-macro-F1 "
            f"{100 * before['validation']['pn_macro_f1']:.2f}"
            + (f", test {100 * before['test']['pn_macro_f1']:.2f}" if before["test"] else "")
        )
    elif kind == "refit":
        upsert_json_entry(REFITS, refit_entry(record), REFIT_KEYS)
        print(f"recorded in {REFITS}")
    elif kind == "variant":
        print(f"not a rebuild of {like} (its configuration changed), so nothing is recorded beside it")
    print(f"exported to {config.output_dir}")


if __name__ == "__main__":
    main()
