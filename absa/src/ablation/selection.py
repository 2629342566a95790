"""Reading the ledger: per-configuration summaries over seeds, the one rule that chooses a configuration on
validation, and comparisons between configurations (against the best, against a base cell, seed by seed)."""

from __future__ import annotations

import pandas as pd
from scipy.stats import ttest_rel

from absa.src.ablation.ledger import CONFIG_COLUMNS, SCORE_COLUMNS, hardware, per_benchmark
from absa.src.config import describe
from absa.src.data import ALL

# A configuration is chosen on validation only among those with at least this many seeds.
MIN_SEEDS = 3


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
    summary = grouped.agg(
        seeds=("seed", "nunique"),
        trainable_params=("trainable_params", "first"),
        cpu_minutes=("cpu_minutes", "mean"),
        gpu_minutes=("gpu_minutes", "mean"),
    )
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
    """A short name of a summary row's configuration (``config.describe``), e.g. ``mpnet lora r16 lr 0.0005``."""
    return describe(row)


def choose_on_validation(
    summary: pd.DataFrame, min_seeds: int = MIN_SEEDS, score: str = "val_pn_f1"
) -> pd.Series | None:
    """The summary row with the best mean validation score among configurations with at least ``min_seeds`` seeds
    (the first of equal ones); None if no configuration has that many. The one rule that promote, ensembles,
    goals and comparisons choose by."""
    if summary.empty:
        return None
    candidates = summary[summary["seeds"] >= min_seeds]
    return None if candidates.empty else candidates.loc[candidates[f"{score}_mean"].idxmax()]


def best_cell(ledger: pd.DataFrame, dataset: str, backbone: str | None, min_seeds: int = MIN_SEEDS) -> pd.DataFrame:
    """The ledger rows (one per seed) of the configuration chosen on validation (``choose_on_validation``) on this
    dataset and backbone (``None``: any backbone)."""
    rows = ledger[ledger["dataset"] == dataset]
    if backbone is not None:
        rows = rows[rows["backbone"] == backbone]
    best = choose_on_validation(summarize(rows), min_seeds)
    if best is None:
        raise ValueError(
            f"no configuration of {backbone or 'any backbone'} on {dataset} has {min_seeds}+ seeds in the ledger"
        )
    same = (ledger[CONFIG_COLUMNS].astype(str) == best[CONFIG_COLUMNS].astype(str)).all(axis=1)
    return ledger[same]


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


def compare_to_best(summary: pd.DataFrame, score: str = "val_pn_f1", min_seeds: int = MIN_SEEDS) -> pd.DataFrame:
    """Per dataset, every configuration against the one chosen on validation (``choose_on_validation``; datasets
    without one are left out): the difference of means in ``score`` and in test PN-F1, the seed spread, and whether
    the difference is beyond it (``None`` where one side has a single seed)."""
    rows = []
    for dataset, part in summary.groupby("dataset", sort=False):
        best = choose_on_validation(part, min_seeds)
        if best is None:
            continue
        for _, row in part.iterrows():
            if row.name == best.name:
                continue
            rows.append(
                {
                    "dataset": dataset,
                    "best (by validation)": label(best),
                    "other": label(row),
                    f"{score} difference": round(row[f"{score}_mean"] - best[f"{score}_mean"], 2),
                    "seed spread": round(row[f"{score}_std"] + best[f"{score}_std"], 2),
                    "test_pn_f1 difference": round(row["test_pn_f1_mean"] - best["test_pn_f1_mean"], 2),
                    "beyond seed spread": beyond_seed_spread(best, row, score),
                }
            )
    return pd.DataFrame(rows)


def best_per_benchmark(ledger: pd.DataFrame, benchmarks: list[str], min_seeds: int = MIN_SEEDS) -> pd.DataFrame:
    """Per benchmark, the configuration chosen on validation *on that benchmark* (``choose_on_validation``) among
    those scored on it, a general model's included (its per-benchmark scores, see
    ``per_benchmark``); then the general configuration (``dataset == 'all'``) chosen the same way, if it was not
    the one chosen.
    One summary row each, with a ``benchmark`` and a ``role`` (``chosen`` or ``general``) column."""
    long = per_benchmark(ledger)
    rows = []
    for benchmark in benchmarks:
        summary = summarize(long[long["benchmark"] == benchmark])
        chosen = choose_on_validation(summary, min_seeds)
        if chosen is None:
            continue
        rows.append({**chosen, "benchmark": benchmark, "role": "chosen"})
        general = choose_on_validation(summary[summary["dataset"] == ALL], min_seeds)
        if general is not None and chosen["dataset"] != ALL:
            rows.append({**general, "benchmark": benchmark, "role": "general"})
    return pd.DataFrame(rows)


def compare_to_base(summary: pd.DataFrame, score: str = "val_pn_f1") -> pd.DataFrame:
    """Every configuration of an experiment other than ``main`` against its ``main`` cell (same dataset, backbone
    and regime): differences of the means, the seed spread, and whether the difference is beyond it."""
    rows = []
    main = summary[summary["experiment"] == "main"]
    for _, row in summary[summary["experiment"] != "main"].iterrows():
        base = main[
            (main["dataset"] == row["dataset"])
            & (main["backbone"] == row["backbone"])
            & (main["regime"] == row["regime"])
        ]
        if base.empty:
            continue
        base = base.iloc[0]
        rows.append(
            {
                "dataset": row["dataset"],
                "base": label(base),
                "changed": label(row),
                "seeds": f"{base['seeds']} / {row['seeds']}",
                f"{score} difference": round(row[f"{score}_mean"] - base[f"{score}_mean"], 2),
                "seed spread": round(row[f"{score}_std"] + base[f"{score}_std"], 2),
                "test_pn_f1 difference": round(row["test_pn_f1_mean"] - base["test_pn_f1_mean"], 2),
                "test_acc difference": round(row["test_acc_mean"] - base["test_acc_mean"], 2),
                "beyond seed spread": beyond_seed_spread(base, row, score),
            }
        )
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
        named = {
            side: f"{label(row)}, {float(row['epochs']):g} ep"
            for side, row in (("changed", part.iloc[0]), ("base", base_row))
        }  # a pair may differ in the epochs only
        rows.append(
            {
                "dataset": dataset,
                **named,
                "pairs": len(part),
                "val_pn_f1 differences": delta.round(2).tolist(),
                "val_pn_f1 difference": delta.mean(),
                "std": delta.std(),
                "p": ttest_rel(part["val_pn_f1"], part["val_pn_f1_base"]).pvalue if len(part) > 1 else float("nan"),
                "test_pn_f1 difference": (part["test_pn_f1"] - part["test_pn_f1_base"]).mean(),
                "test_acc difference": (part["test_acc"] - part["test_acc_base"]).mean(),
            }
        )
    return pd.DataFrame(rows)


def paired_table(ledger: pd.DataFrame, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """``paired_differences`` of every (changed, base) pair in one table, with an ``experiment`` column (the
    changed one); experiments without runs yet are left out."""
    tables = [paired_differences(ledger, changed, base).assign(experiment=changed) for changed, base in pairs]
    tables = [table for table in tables if not table.empty]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
