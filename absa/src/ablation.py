"""Resumable ablation runner: a grid file -> one training run per configuration -> one ledger row per finished run.

    python -m absa.src.ablation [--grid absa/models/ablation/grid.yaml] [--only main] [--dry_run]
        [--datasets D ...] [--backbones B ...] [--max_runs N] [--ledger L]
    python -m absa.src.ablation --merge other_ledger.csv ...   # rows of runners that had their own --ledger

Each experiment in the grid expands its list-valued fields into all combinations; every field is a ``TrainConfig``
field but ``name`` and ``paired_with`` (the experiment it is compared with seed by seed, ``paired_experiments``). A
run's id is a hash of its configuration, so re-running skips every run already in the ledger: the grid can run in
the background over several sittings and be interrupted at any time (a row is written only when its run has
finished). Each run trains in its own process, so its peak memory is its own.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import pandas as pd
import yaml
from scipy.stats import ttest_rel
from tqdm.auto import tqdm
from transformers import HfArgumentParser

from absa.src.data import PACKAGE_DIR
from absa.src.train import TrainConfig

ABLATION_DIR = PACKAGE_DIR / "models" / "ablation"
LEDGER_COLUMNS = [
    "run_id", "experiment", "dataset", "backbone", "regime", "lora_r", "lora_targets", "input_format",
    "class_weights", "extra_train", "teacher", "distill_alpha", "distill_temperature", "init_from", "augment",
    "rdrop_alpha", "layer_decay", "lr", "epochs", "seed", "best_epoch", "val_pn_f1", "val_acc", "test_pn_f1",
    "test_acc", "test_macro_f1", "trainable_params", "train_seconds", "peak_mem_mb", "device", "precision", "commit",
    "finished_at", "by_benchmark",
]
# Fields that do not change what a run computes, so they stay out of its id.
NOT_IN_ID = {"output_dir", "data_dir"}
# Fields added after the ledger began: in the id only when set away from their default, so that the ids of runs
# finished before they existed stay the same.
IN_ID_WHEN_SET = {"extra_train", "teacher", "distill_alpha", "distill_temperature", "init_from", "augment",
                  "rdrop_alpha", "layer_decay"}


@dataclass
class AblationArguments:
    grid: str = field(default=str(ABLATION_DIR / "grid.yaml"), metadata={"help": "YAML grid file"})
    ledger: str = field(default=str(ABLATION_DIR / "results.csv"), metadata={"help": "CSV, one row per run"})
    runs_dir: str = field(default=str(ABLATION_DIR / "runs"), metadata={"help": "exported models (git-ignored)"})
    only: list[str] | None = field(default=None, metadata={"help": "run only these experiment names"})
    datasets: list[str] | None = field(default=None, metadata={"help": "run only runs on these datasets"})
    backbones: list[str] | None = field(default=None, metadata={"help": "run only runs with these backbones"})
    max_runs: int | None = field(default=None, metadata={"help": "stop after this many runs (one sitting)"})
    dry_run: bool = field(default=False, metadata={"help": "list the runs still to do, train nothing"})
    merge: list[str] | None = field(default=None, metadata={
        "help": "append to --ledger the rows of these ledgers (runners that worked in parallel or on another machine, "
                "each with its own --ledger) whose runs it lacks, then exit"})


def expand(grid: dict) -> list[tuple[str, TrainConfig]]:
    """(experiment name, config) for every combination in every experiment of the grid, in file order."""
    known = {f.name for f in fields(TrainConfig)}
    runs = []
    for experiment in grid["experiments"]:
        experiment = dict(experiment)
        name = experiment.pop("name")
        experiment.pop("paired_with", None)  # says how the experiment is read (paired_experiments), not how it runs
        unknown = set(experiment) - known
        if unknown:
            raise ValueError(f"experiment {name!r}: unknown field(s) {sorted(unknown)}; TrainConfig has {sorted(known)}")
        keys = list(experiment)
        values = [v if isinstance(v, list) else [v] for v in experiment.values()]
        for combination in itertools.product(*values):
            runs.append((name, TrainConfig(**dict(zip(keys, combination)))))
    return runs


def paired_experiments(grid: dict) -> list[tuple[str, str]]:
    """(changed, base) for every experiment with a ``paired_with: base`` field, in file order, each pair once: the
    grid states, beside the experiment and before it runs, which cell it changes one thing of and is to be compared
    with seed by seed (``paired_table``)."""
    names = {experiment["name"] for experiment in grid["experiments"]}
    pairs = []
    for experiment in grid["experiments"]:
        base = experiment.get("paired_with")
        if base is None:
            continue
        if base not in names or base == experiment["name"]:
            raise ValueError(f"experiment {experiment['name']!r}: paired_with {base!r} is not another experiment of "
                             f"the grid ({', '.join(sorted(names))})")
        if (experiment["name"], base) not in pairs:
            pairs.append((experiment["name"], base))
    return pairs


def teacher_experiments(grid: dict, folder: str | os.PathLike, root: Path = PACKAGE_DIR.parent) -> list[str]:
    """Names of the grid's experiments whose teacher is ``folder`` (relative teacher paths are read from ``root``,
    the repository root the runner starts in)."""
    folder = Path(folder).resolve()
    return sorted({name for name, config in expand(grid)
                   if config.teacher and (root / config.teacher).resolve() == folder})


def run_id(config: TrainConfig) -> str:
    """A stable id of what the run computes (paths excluded)."""
    defaults = {f.name: f.default for f in fields(TrainConfig)}
    content = {k: v for k, v in asdict(config).items()
               if k not in NOT_IN_ID and not (k in IN_ID_WHEN_SET and v == defaults[k])}
    return hashlib.sha1(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]


def finished_runs(ledger: Path) -> dict[str, str]:
    """Run id -> experiment of every run in the ledger."""
    if not ledger.exists():
        return {}
    with open(ledger, newline="") as handle:
        return {row["run_id"]: row["experiment"] for row in csv.DictReader(handle)}


def ledger_row(experiment: str, rid: str, metrics: dict, run_experiments: dict[str, str] | None = None) -> dict:
    """The ledger row of a finished run. ``init_from`` is recorded as the experiment of the run it started from
    when that run is in ``run_experiments`` (run id -> experiment), so that seeds which started from their own
    seed's run form one cell; else as the folder's name."""
    config, val, test = metrics["config"], metrics["validation"], metrics["test"] or {}
    start = Path(config["init_from"]).name if config.get("init_from") else ""
    return {
        "run_id": rid, "experiment": experiment, "dataset": config["dataset"], "backbone": config["backbone"],
        "regime": config["regime"], "lora_r": config["lora_r"] if config["regime"] == "lora" else "",
        "lora_targets": config["lora_targets"] if config["regime"] == "lora" else "",
        "input_format": config["input_format"], "class_weights": config["class_weights"],
        "extra_train": config.get("extra_train") or "",
        "teacher": Path(config["teacher"]).name if config.get("teacher") else "",
        "distill_alpha": config["distill_alpha"] if config.get("teacher") else "",
        "distill_temperature": config["distill_temperature"] if config.get("teacher") else "",
        "init_from": (run_experiments or {}).get(start, start), "augment": config.get("augment", "none"),
        "rdrop_alpha": config.get("rdrop_alpha") or "",
        "layer_decay": config["layer_decay"] if config.get("layer_decay", 1.0) != 1.0 else "",
        "lr": config["learning_rate"], "epochs": config["epochs"], "seed": config["seed"],
        "best_epoch": metrics["best_epoch"], "val_pn_f1": val["pn_macro_f1"], "val_acc": val["accuracy"],
        "test_pn_f1": test.get("pn_macro_f1", ""), "test_acc": test.get("accuracy", ""),
        "test_macro_f1": test.get("macro_f1", ""), "trainable_params": metrics["trainable_params"],
        "train_seconds": metrics["train_seconds"], "peak_mem_mb": metrics["peak_mem_mb"], "device": metrics["device"],
        "precision": "bf16" if metrics.get("bf16") else "fp32", "commit": metrics["commit"],
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "by_benchmark": benchmark_scores_json(metrics),
    }


def benchmark_scores_json(metrics: dict) -> str:
    """For a run on several benchmarks (``--dataset all``): each benchmark's validation PN-F1 and test scores, as
    JSON, e.g. ``{"mams": {"val_pn_f1": 0.86, "test_pn_f1": 0.85, "test_acc": 0.84, "test_macro_f1": 0.83}}``;
    empty for a run on one benchmark, whose scores are the row's own."""
    val, test = metrics["validation"].get("by_benchmark"), (metrics["test"] or {}).get("by_benchmark")
    if not val or not test:
        return ""
    return json.dumps({name: {"val_pn_f1": val[name]["pn_macro_f1"], "test_pn_f1": test[name]["pn_macro_f1"],
                              "test_acc": test[name]["accuracy"], "test_macro_f1": test[name]["macro_f1"]}
                       for name in test}, sort_keys=True)


def upgrade_ledger(ledger: Path) -> None:
    """Rewrite a ledger written with fewer columns to the current ones (new columns empty in the old rows)."""
    with open(ledger, newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames == LEDGER_COLUMNS:
            return
        unknown = set(reader.fieldnames or []) - set(LEDGER_COLUMNS)
        if unknown:
            raise ValueError(f"{ledger}: unknown column(s) {sorted(unknown)}")
        rows = list(reader)
    temporary = ledger.with_suffix(".tmp")
    with open(temporary, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LEDGER_COLUMNS, restval="")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, ledger)


def append_row(ledger: Path, row: dict) -> None:
    """Append one row (with the header if the file is new) and flush it to disk."""
    ledger.parent.mkdir(parents=True, exist_ok=True)
    new = not ledger.exists()
    if not new:
        upgrade_ledger(ledger)
    with open(ledger, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LEDGER_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)
        handle.flush()
        os.fsync(handle.fileno())


def merge_ledgers(ledger: Path, sources: list[Path]) -> list[dict]:
    """Append to ``ledger`` every row of ``sources`` whose run it does not hold yet, unchanged; returns those rows."""
    done = finished_runs(ledger)
    added = []
    for source in sources:
        with open(source, newline="") as handle:
            reader = csv.DictReader(handle)
            unknown = set(reader.fieldnames or []) - set(LEDGER_COLUMNS)
            if unknown or "run_id" not in (reader.fieldnames or []):
                raise ValueError(f"{source}: not a ledger (unknown column(s) {sorted(unknown)} or no run_id)")
            for row in reader:
                if row["run_id"] not in done:
                    append_row(ledger, {column: row.get(column, "") for column in LEDGER_COLUMNS})
                    done[row["run_id"]] = row["experiment"]
                    added.append(row)
    return added


def train_in_subprocess(config: TrainConfig) -> dict:
    """Run ``python -m absa.src.train`` with this config; return its metrics.json."""
    args = []
    for key, value in asdict(config).items():
        if value is not None:
            args += [f"--{key}", str(value)]
    subprocess.run([sys.executable, "-m", "absa.src.train", *args], check=True)
    return json.loads((Path(config.output_dir) / "metrics.json").read_text())


def run_grid(args: AblationArguments, train_fn=train_in_subprocess) -> list[dict]:
    """Train every run of the grid not yet in the ledger; returns the rows written in this call."""
    grid = yaml.safe_load(Path(args.grid).read_text())
    runs = [(name, config) for name, config in expand(grid)
            if (not args.only or name in args.only) and (not args.datasets or config.dataset in args.datasets)
            and (not args.backbones or config.backbone in args.backbones)]
    ledger = Path(args.ledger)
    done = finished_runs(ledger)
    todo = [(name, config) for name, config in runs if run_id(config) not in done]
    print(f"{len(runs)} runs selected, {len(runs) - len(todo)} already in {ledger}, {len(todo)} to do")
    if args.max_runs is not None:
        todo = todo[:args.max_runs]
    rows = []
    for name, config in tqdm(todo, desc="ablation", unit="run", disable=args.dry_run):
        rid = run_id(config)
        if args.dry_run:
            print(f"  {rid} {name}: {config.dataset} {config.backbone} {config.regime} lr={config.learning_rate} "
                  f"epochs={config.epochs} seed={config.seed}")
            continue
        config.output_dir = str(Path(args.runs_dir) / rid)
        row = ledger_row(name, rid, train_fn(config), finished_runs(ledger))
        append_row(ledger, row)
        rows.append(row)
    return rows


# What makes a configuration: runs that share these and differ only in seed form one cell of the summary.
CONFIG_COLUMNS = ["experiment", "dataset", "backbone", "regime", "lora_r", "lora_targets", "input_format",
                  "class_weights", "extra_train", "teacher", "distill_alpha", "distill_temperature", "init_from",
                  "augment", "rdrop_alpha", "layer_decay", "lr", "epochs"]
SCORE_COLUMNS = ["val_pn_f1", "test_pn_f1", "test_acc", "test_macro_f1"]


def read_ledger(path: str | os.PathLike = ABLATION_DIR / "results.csv") -> pd.DataFrame:
    """The ledger as a DataFrame (scores in percent); empty with the ledger's columns if there is no ledger yet."""
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=LEDGER_COLUMNS)
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    frame = frame.reindex(columns=LEDGER_COLUMNS)  # a ledger from before a column existed
    for column in SCORE_COLUMNS:
        frame[column] = 100 * pd.to_numeric(frame[column])
    for column in ("lora_r", "lora_targets", "extra_train", "teacher", "distill_alpha", "distill_temperature",
                   "init_from", "rdrop_alpha", "layer_decay"):
        frame[column] = frame[column].fillna("-").astype(str).str.removesuffix(".0")
    frame["augment"] = frame["augment"].fillna("none")  # rows from before augmentation existed had none
    return frame


def per_benchmark(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger with a ``benchmark`` column, one row per run and benchmark it is scored on: a run on one benchmark
    as it is, a run on several (``--dataset all``) once per benchmark, with that benchmark's scores (percent) in
    the score columns."""
    rows = []
    for _, row in ledger.iterrows():
        scores = json.loads(row["by_benchmark"]) if isinstance(row["by_benchmark"], str) and row["by_benchmark"] else {}
        if not scores:
            rows.append({**row, "benchmark": row["dataset"]})
        for name, values in scores.items():
            rows.append({**row, "benchmark": name, **{column: 100 * values[column] for column in SCORE_COLUMNS}})
    return pd.DataFrame(rows, columns=[*ledger.columns, "benchmark"])


def hardware(ledger: pd.DataFrame) -> pd.Series:
    """``CPU`` or ``GPU`` per run, from the ledger's ``device`` column (``cpu xN`` or a GPU's name; older rows
    without a device were CPU runs)."""
    device = ledger["device"].fillna("cpu").astype(str)
    return device.str.startswith("cpu").map({True: "CPU", False: "GPU"})


def devices(ledger: pd.DataFrame) -> str:
    """The devices the ledger's runs trained on, with their counts, e.g. ``25 on cpu x2, 25 on NVIDIA H100``."""
    counts = ledger["device"].fillna("cpu").astype(str).value_counts(sort=False)
    return ", ".join(f"{n} on {device}" for device, n in counts.items())


def summarize(ledger: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: number of seeds, mean and standard deviation (ddof=1) of every score,
    trainable parameters and mean training minutes, kept apart for runs on CPU and on GPU (``cpu_minutes``,
    ``gpu_minutes``; NaN where the configuration has no run there). Configurations keep the order of their first
    run."""
    if ledger.empty:
        return pd.DataFrame()
    minutes = pd.to_numeric(ledger["train_seconds"]) / 60
    on_cpu = hardware(ledger) == "CPU"
    ledger = ledger.assign(cpu_minutes=minutes.where(on_cpu), gpu_minutes=minutes.where(~on_cpu))
    grouped = ledger.groupby(CONFIG_COLUMNS, sort=False, dropna=False)
    summary = grouped.agg(seeds=("seed", "nunique"), trainable_params=("trainable_params", "first"),
                          cpu_minutes=("cpu_minutes", "mean"), gpu_minutes=("gpu_minutes", "mean"))
    for column in SCORE_COLUMNS:
        summary[f"{column}_mean"] = grouped[column].mean()
        summary[f"{column}_std"] = grouped[column].std()
    return summary.reset_index()


def beyond_seed_spread(a: pd.Series, b: pd.Series, score: str = "val_pn_f1") -> bool | None:
    """Whether two summary rows differ by more than their seed spread: |mean a - mean b| > std a + std b.

    A deliberately simple and conservative rule for three seeds; it needs a std, so at least two seeds on each side,
    and is ``None`` (undecided) otherwise.
    """
    spread = a[f"{score}_std"] + b[f"{score}_std"]
    return None if pd.isna(spread) else bool(abs(a[f"{score}_mean"] - b[f"{score}_mean"]) > spread)


def spread_verdict(beyond: bool | None) -> str:
    """``beyond_seed_spread`` in words: ``beyond``, ``within``, or ``undecided (one seed)``."""
    return "undecided (one seed)" if beyond is None else ("beyond" if beyond else "within")


def label(row: pd.Series) -> str:
    """A short name of a summary row's configuration, e.g. ``mpnet lora r16 lr 0.0005`` or
    ``minilm full distilled from semeval14_restaurants lr 3e-05``."""
    parts = [row["backbone"], row["regime"]]
    if row["regime"] == "lora":
        parts.append(f"r{row['lora_r']}" + ("" if row["lora_targets"] == "all" else f" {row['lora_targets']}"))
    parts += [v for v in (row["input_format"], row["class_weights"]) if v not in ("pair", "none")]
    if row["extra_train"] != "-":
        parts.append(f"+ {row['extra_train']} train")
    if row["teacher"] != "-":
        parts.append(f"distilled from {row['teacher']}")
    if row["init_from"] != "-":
        parts.append(f"from {row['init_from']}")
    if row.get("augment", "none") != "none":
        parts.append(f"+ {row['augment'].replace('_', ' ')}")
    if row.get("rdrop_alpha", "-") != "-":
        parts.append(f"+ R-Drop α {row['rdrop_alpha']}")
    if row.get("layer_decay", "-") != "-":
        parts.append(f"+ layer decay {row['layer_decay']}")
    parts.append(f"lr {row['lr']:g}")
    return " ".join(parts)


def single_factor_runs(ledger: pd.DataFrame) -> pd.DataFrame:
    """The runs of every experiment other than ``main`` that has a ``main`` cell to compare with (same dataset,
    backbone and regime; the general model on all benchmarks has none), with those ``main`` runs; a
    ``configuration`` column holds each run's ``label``."""
    keys = ["dataset", "backbone", "regime"]
    main = ledger[ledger["experiment"] == "main"]
    others = ledger[ledger["experiment"] != "main"].merge(main[keys].drop_duplicates(), on=keys)
    bases = main.merge(others[keys].drop_duplicates(), on=keys)
    runs = pd.concat([bases, others], ignore_index=True)
    runs["configuration"] = runs.apply(label, axis=1) if len(runs) else pd.Series(dtype=str)
    return runs


def compare_to_best(summary: pd.DataFrame, score: str = "val_pn_f1") -> pd.DataFrame:
    """Per dataset, every configuration against the one with the best mean validation score among those with 2+
    seeds (any, if none has): the difference of means in ``score`` and in test PN-F1, the seed spread, and whether
    the difference is beyond it (``None`` where one side has a single seed)."""
    rows = []
    for dataset, part in summary.groupby("dataset", sort=False):
        candidates = part[part["seeds"] >= 2] if (part["seeds"] >= 2).any() else part
        best = candidates.loc[candidates["val_pn_f1_mean"].idxmax()]
        for _, row in part.iterrows():
            if row.name == best.name:
                continue
            rows.append({"dataset": dataset, "best (by validation)": label(best), "other": label(row),
                         f"{score} difference": round(row[f"{score}_mean"] - best[f"{score}_mean"], 2),
                         "seed spread": round(row[f"{score}_std"] + best[f"{score}_std"], 2),
                         "test_pn_f1 difference": round(row["test_pn_f1_mean"] - best["test_pn_f1_mean"], 2),
                         "beyond seed spread": beyond_seed_spread(best, row, score)})
    return pd.DataFrame(rows)


def best_per_benchmark(ledger: pd.DataFrame, benchmarks: list[str]) -> pd.DataFrame:
    """Per benchmark, the configuration with the best mean validation PN-F1 *on that benchmark* among those scored on
    it with 2+ seeds (any, if none has), a general model's included (its per-benchmark scores, see
    ``per_benchmark``); then the best general configuration (``dataset == 'all'``) if it was not the one chosen.
    One summary row each, with a ``benchmark`` and a ``role`` (``chosen`` or ``general``) column."""
    long = per_benchmark(ledger)
    rows = []
    for benchmark in benchmarks:
        summary = summarize(long[long["benchmark"] == benchmark])
        if summary.empty:
            continue
        candidates = summary[summary["seeds"] >= 2] if (summary["seeds"] >= 2).any() else summary
        chosen = candidates.loc[candidates["val_pn_f1_mean"].idxmax()]
        rows.append({**chosen, "benchmark": benchmark, "role": "chosen"})
        general = summary[summary["dataset"] == "all"]
        if not general.empty and chosen["dataset"] != "all":
            rows.append({**general.loc[general["val_pn_f1_mean"].idxmax()], "benchmark": benchmark, "role": "general"})
    return pd.DataFrame(rows)


def compare_to_base(summary: pd.DataFrame, score: str = "val_pn_f1") -> pd.DataFrame:
    """Every configuration of an experiment other than ``main`` against its ``main`` cell (same dataset, backbone
    and regime): differences of the means, the seed spread, and whether the difference is beyond it."""
    rows = []
    main = summary[summary["experiment"] == "main"]
    for _, row in summary[summary["experiment"] != "main"].iterrows():
        base = main[(main["dataset"] == row["dataset"]) & (main["backbone"] == row["backbone"])
                    & (main["regime"] == row["regime"])]
        if base.empty:
            continue
        base = base.iloc[0]
        rows.append({"dataset": row["dataset"], "base": label(base), "changed": label(row),
                     "seeds": f"{base['seeds']} / {row['seeds']}",
                     f"{score} difference": round(row[f"{score}_mean"] - base[f"{score}_mean"], 2),
                     "seed spread": round(row[f"{score}_std"] + base[f"{score}_std"], 2),
                     "test_pn_f1 difference": round(row["test_pn_f1_mean"] - base["test_pn_f1_mean"], 2),
                     "test_acc difference": round(row["test_acc_mean"] - base["test_acc_mean"], 2),
                     "beyond seed spread": beyond_seed_spread(base, row, score)})
    return pd.DataFrame(rows)


def paired_differences(ledger: pd.DataFrame, changed: str, base: str) -> pd.DataFrame:
    """Experiment ``changed`` against experiment ``base``, seed by seed, per dataset. Runs with the same seed share
    their validation split (and a fine-tuning run its start), so a pair's difference is free of the split-to-split
    noise that dominates unpaired comparisons. Per dataset: the number of pairs, each pair's validation PN-F1
    difference, their mean, standard deviation and two-sided paired t-test p-value, and the mean test differences.
    Each side needs one run per dataset and seed."""
    keys = ["dataset", "seed"]
    sides = {name: ledger[ledger["experiment"] == name] for name in (changed, base)}
    for name, runs in sides.items():
        if runs.duplicated(keys).any():
            raise ValueError(f"experiment {name!r} has several runs for one dataset and seed: no unique pairs")
    pairs = sides[changed].merge(sides[base], on=keys, suffixes=("", "_base"))
    rows = []
    for dataset, part in pairs.groupby("dataset", sort=False):
        delta = part["val_pn_f1"] - part["val_pn_f1_base"]
        base_row = part[[c for c in part.columns if c.endswith("_base")]].rename(columns=lambda c: c[:-5]).iloc[0]
        named = {side: f"{label(row)}, {float(row['epochs']):g} ep" for side, row in
                 (("changed", part.iloc[0]), ("base", base_row))}  # a pair may differ in the epochs only
        rows.append({"dataset": dataset, **named, "pairs": len(part),
                     "val_pn_f1 differences": delta.round(2).tolist(), "val_pn_f1 difference": delta.mean(),
                     "std": delta.std(), "p": ttest_rel(part["val_pn_f1"], part["val_pn_f1_base"]).pvalue
                     if len(part) > 1 else float("nan"),
                     "test_pn_f1 difference": (part["test_pn_f1"] - part["test_pn_f1_base"]).mean(),
                     "test_acc difference": (part["test_acc"] - part["test_acc_base"]).mean()})
    return pd.DataFrame(rows)


def paired_table(ledger: pd.DataFrame, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """``paired_differences`` of every (changed, base) pair in one table, with an ``experiment`` column (the
    changed one); experiments without runs yet are left out."""
    tables = [paired_differences(ledger, changed, base).assign(experiment=changed) for changed, base in pairs]
    tables = [table for table in tables if not table.empty]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def mean_std(row: pd.Series, score: str) -> str:
    mean, std = row[f"{score}_mean"], row[f"{score}_std"]
    return "-" if pd.isna(mean) else f"{mean:.2f}" + ("" if pd.isna(std) else f" ± {std:.2f}")


def _minutes(value: float) -> str:
    return "-" if pd.isna(value) else f"{value:.1f}"


def markdown_table(summary: pd.DataFrame) -> str:
    """The summary as a markdown table, one row per configuration (named by ``label``), scores as mean ± std over
    seeds (the 3-class macro-F1 stays in the summary and the ledger)."""
    lines = ["| dataset | configuration | seeds | val PN-F1 | test PN-F1 | test acc "
             "| trainable params | train min CPU / GPU |",
             "|---|---|---|---|---|---|---|---|"]
    for _, row in summary.iterrows():
        lines.append(
            f"| {row['dataset']} | {label(row)}, {row['epochs']} ep | {row['seeds']} | {mean_std(row, 'val_pn_f1')} "
            f"| {mean_std(row, 'test_pn_f1')} | {mean_std(row, 'test_acc')} "
            f"| {row['trainable_params'] / 1e6:.2f}M "
            f"| {_minutes(row['cpu_minutes'])} / {_minutes(row['gpu_minutes'])} |")
    return "\n".join(lines)


def main() -> None:
    (args,) = HfArgumentParser(AblationArguments).parse_args_into_dataclasses()
    if args.merge:
        added = merge_ledgers(Path(args.ledger), [Path(source) for source in args.merge])
        print(f"{len(added)} row(s) appended to {args.ledger}")
        return
    run_grid(args)


if __name__ == "__main__":
    main()
