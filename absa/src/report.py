"""Render the docs' blocks from results files: models' ``metrics.json``, the ablation ledger and grid, and the
reports in ``absa/reports`` (speed, load, errors, robustness, ensembles), into README.md, training_methodology.md
and deployment_pipeline.md; and every exported model's card.

    python -m absa.src.report        # rewrites every marked block and every model card

Numbers are never typed by hand: each block between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` is this
module's output, and a test checks that every block is current. Goals and sizing assumptions are stated in
``absa/reports/assumptions.yaml``. This module never imports torch.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import yaml

from absa.src.ablation.ledger import LEDGER, devices, read_ledger
from absa.src.ablation.runner import paired_experiments
from absa.src.ablation.selection import (
    best_per_benchmark,
    compare_to_base,
    label,
    paired_table,
    spread_verdict,
    summarize,
)
from absa.src.config import describe
from absa.src.data import PACKAGE_DIR
from absa.src.files import read_json, write_text
from absa.src.model_card import promoted_summary, write_model_card, write_tagger_card
from absa.src.records import METRICS_FILE, RunRecord, is_tagger

README = PACKAGE_DIR.parent / "README.md"
DEPLOYMENT = PACKAGE_DIR.parent / "deployment_pipeline.md"
METHODOLOGY = PACKAGE_DIR.parent / "training_methodology.md"
MODELS_DIR = PACKAGE_DIR / "models"
REPORTS_DIR = PACKAGE_DIR / "reports"
GRID = MODELS_DIR / "ablation" / "grid.yaml"
ASSUMPTIONS = yaml.safe_load((REPORTS_DIR / "assumptions.yaml").read_text())
GOALS, FAST_GOAL, LOAD_PROFILE, DEFAULT_BAR = (
    ASSUMPTIONS[key] for key in ("goals", "fast_goal", "load_profile", "default_bar")
)


def markdown(rows: list[dict] | pd.DataFrame) -> str:
    """A markdown table of already formatted cells (no re-parsing of numbers)."""
    return pd.DataFrame(rows).to_markdown(index=False, disable_numparse=True)


def pct(scores: dict, key: str) -> str:
    return f"{100 * scores[key]:.2f}" if key in scores else "-"


def mean_std(row: pd.Series, score: str) -> str:
    mean, std = row[f"{score}_mean"], row[f"{score}_std"]
    return "-" if pd.isna(mean) else f"{mean:.2f}" + ("" if pd.isna(std) else f" ± {std:.2f}")


def _minutes(value: float) -> str:
    return "-" if pd.isna(value) else f"{value:.1f}"


def model_records(models_dir: Path = MODELS_DIR) -> dict[str, RunRecord]:
    """The run record of every exported classifier folder (links such as ``default`` and aspect taggers are
    skipped), by folder name."""
    return {
        folder.name: RunRecord.load(folder)
        for folder in sorted(models_dir.iterdir())
        if folder.is_dir() and not folder.is_symlink() and (folder / METRICS_FILE).exists() and not is_tagger(folder)
    }


def tagger_folders(models_dir: Path = MODELS_DIR) -> list[Path]:
    """Every exported aspect tagger folder (``absa.src.extract``)."""
    return [
        folder
        for folder in sorted(models_dir.iterdir())
        if folder.is_dir() and not folder.is_symlink() and (folder / METRICS_FILE).exists() and is_tagger(folder)
    ]


def e2e_table(models_dir: Path = MODELS_DIR) -> str:
    """Each exported aspect tagger: configuration, validation and test end-to-end / extraction / PN F1."""
    rows = []
    for folder in tagger_folders(models_dir):
        record = RunRecord.load(folder)
        config = record.config
        tests = record.test.get("by_benchmark") or {config["benchmark"]: record.test}
        for benchmark, test in tests.items():
            rows.append(
                {
                    "model": f"`{folder.name}`",
                    "configuration": f"{config['backbone']} {config['regime']} {config['scheme']} tags, "
                    f"lr {config['learning_rate']:g}, seed {config['seed']}",
                    "trained on": config["benchmark"],
                    "best epoch (val)": f"{record.best_epoch:g}",
                    "val e2e F1": f"{100 * record.validation['e2e']['f1']:.2f}",
                    "test set": benchmark,
                    "test e2e F1": f"{100 * test['e2e']['f1']:.2f}",
                    "test extraction F1": f"{100 * test['extraction']['f1']:.2f}",
                    "test PN F1": f"{100 * test['pn']['f1']:.2f}",
                    "train time": f"{record.train_seconds / 60:.0f} min on {record.device}",
                }
            )
    return markdown(rows) if rows else "_No aspect tagger exported yet: `python -m absa.src.extract`._"


def results_table(models_dir: Path = MODELS_DIR) -> str:
    """One row per exported model, test scores in percent, then where each promoted model comes from."""
    default = (models_dir / "default").resolve().name if (models_dir / "default").exists() else None
    records = model_records(models_dir)
    rows = []
    for name, record in records.items():
        config, val, test = record.config, record.validation, record.test or {}
        trained_on = (
            f"all {len(test['by_benchmark'])} benchmarks (scores: their mean)"
            if "by_benchmark" in test
            else " + ".join(
                [record.data["train"], *(f"{extra}/train.csv" for extra in record.data.get("extra_train") or {})]
            )
        )
        rows.append(
            {
                "model": f"`{name}`" + (" (default)" if name == default else ""),
                "configuration": describe(config),
                "trained on": trained_on,
                "seed": config["seed"],
                "best epoch (val)": f"{record.best_epoch:g}",
                "val PN-F1": pct(val, "pn_macro_f1"),
                "test PN-F1": pct(test, "pn_macro_f1"),
                "test acc": pct(test, "accuracy"),
                "test macro-F1": pct(test, "macro_f1"),
                "trainable params": f"{record.trainable_params / 1e6:.1f}M",
                "train time": f"{record.train_seconds / 60:.0f} min on {record.device}",
            }
        )
    return "\n".join(
        [
            markdown(rows),
            *(
                f"\n`{name}` is {promoted_summary(record.promoted)}"
                for name, record in records.items()
                if record.promoted
            ),
        ]
    )


def calibration_table(models_dir: Path = MODELS_DIR) -> str:
    """Each exported model's temperature and its expected calibration error before and after scaling."""
    records = {name: record for name, record in model_records(models_dir).items() if record.calibration}
    if not records:
        return "_No calibrated model yet: run `python -m absa.src.calibration`._"
    rows = []
    for name, record in records.items():
        entry = record.calibration
        row = {"model": f"`{name}`", "temperature": f"{entry['temperature']:.2f}"}
        for split in ("validation", "test"):
            scores = entry.get(split)
            row[f"{split} ECE before → after"] = (
                f"{scores['ece_before']:.2f}% → {scores['ece_after']:.2f}%" if scores else "-"
            )
        rows.append(row)
    return markdown(rows)


def speed_table(reports_dir: Path = REPORTS_DIR, name: str = "benchmark.json") -> str:
    """The prediction benchmark: baseline vs improved pipeline."""
    b = read_json(reports_dir / name)
    if b is None:
        return f"_No benchmark yet: run `python -m absa.src.benchmark --output absa/reports/{name}`._"
    opt = b["optimized_pipeline"]
    improved = ", ".join(
        [f"length-sorted batches of {opt['batch_size']}"]
        + (["bf16 weights"] if opt["bf16"] else [])
        + (["int8 dynamic quantization"] if opt["int8"] else [])
    )
    passes = b.get("optimized_rows_per_second_passes", [])
    if len(passes) > 1:
        improved += f" (median of {len(passes)} passes: {', '.join(f'{rate:.0f}' for rate in passes)} rows/s)"
    rows = [
        {
            "pipeline": f"baseline: input order, fixed batches of {b['baseline_pipeline']['batch_size']}, fp32",
            "seconds": f"{b['baseline_seconds']:.1f}",
            "rows/s": f"{b['baseline_rows_per_second']:.1f}",
            "PN-macro-F1 vs gold": f"{100 * b['baseline_pn_macro_f1']:.2f}",
        },
        {
            "pipeline": f"improved: {improved}",
            "seconds": f"{b['optimized_seconds']:.1f}",
            "rows/s": f"{b['optimized_rows_per_second']:.1f}",
            "PN-macro-F1 vs gold": f"{100 * b['optimized_pn_macro_f1']:.2f}",
        },
    ]
    return "\n".join(
        [
            f"Model `{b['model']}`, {b['n']:,} rows ({', '.join(b['datasets'])} training files), "
            f"{b['machine']['threads']} CPU threads ({b['machine']['cpu_capability']}).",
            "",
            markdown(rows),
            "",
            f"**Speed-up {b['speedup']:.2f}x**; the two pipelines agree on {100 * b['agreement']:.2f}% of rows and "
            f"differ by {100 * b['pn_macro_f1_difference']:+.2f} PN-macro-F1 points.",
        ]
    )


def load_table(reports_dir: Path = REPORTS_DIR) -> str:
    """The load test: throughput against the offline ceiling and latency, per concurrency level and serving mode."""
    t = read_json(reports_dir / "loadtest.json")
    if t is None:
        return "_No load test yet: run `python -m absa.app.loadtest`._"
    rows = [
        {
            "concurrent clients": lv["clients"],
            "micro-batching": "on" if lv["micro_batching"] else "off",
            "server threads": lv["threads"],
            "requests/s": f"{lv['throughput_rps']:.1f}",
            "% of ceiling": f"{100 * lv['throughput_rps'] / t['ceiling_rps']:.0f}%",
            "p50 ms": f"{lv['p50_ms']:.0f}",
            "p95 ms": f"{lv['p95_ms']:.0f}",
            "p99 ms": f"{lv['p99_ms']:.0f}",
            "errors": lv["errors"],
        }
        for lv in t["levels"]
    ]
    return "\n".join(
        [
            f"Model `{t['model']}`, {t['server']}, {t['cores']} cores shared with the load generator; one request "
            f"per test sentence with all of its aspects ({t['pairs_per_request']:.2f} pairs a request on average), "
            f"{t['arguments']['seconds']:g} s per level. Ceiling: the same requests predicted offline in "
            f"length-sorted batches, no server: **{t['ceiling_rps']:.1f} requests/s** "
            f"({t['ceiling_pairs_per_s']:.1f} pairs/s). Server memory {t['memory_before_mb']:.0f} MB before, "
            f"{t['memory_after_mb']:.0f} MB after; start-up to healthy {t['startup_seconds']:.1f} s.",
            "",
            markdown(rows),
        ]
    )


def capacity_table(reports_dir: Path = REPORTS_DIR, profile: dict = LOAD_PROFILE) -> str:
    """Containers needed for the load profile, from the best load-test level that meets the p95 budget."""
    t = read_json(reports_dir / "loadtest.json")
    if t is None:
        return "_No load test yet: run `python -m absa.app.loadtest`._"
    within = [
        lv
        for lv in t["levels"]
        if lv["micro_batching"] and lv["p95_ms"] is not None and lv["p95_ms"] <= profile["p95_budget_ms"]
    ]
    batched = [lv for lv in t["levels"] if lv["micro_batching"] and lv["p95_ms"] is not None]
    best = max(within or batched, key=lambda lv: lv["throughput_rps"])
    warning = (
        ""
        if within
        else f" **No measured level meets the p95 budget of {profile['p95_budget_ms']} ms on the measured CPU** "
        f"({t['cores']} cores shared with the load generator): the rows below size for throughput only; the budget "
        "needs a faster CPU per container (native bf16) or fewer requests per container."
    )
    per_task = best["throughput_rps"]
    steady = max(2, math.ceil(profile["steady_rps"] / (0.7 * per_task)))  # 70% target utilisation, 2 AZs minimum
    burst = max(steady, math.ceil(profile["burst_rps"] / per_task))
    usd = profile["instance_usd_per_hour"] * profile["hours_per_month"]
    rows = [
        {
            "load": "steady, at 70% target utilisation, 2 AZs minimum",
            "requests/s": profile["steady_rps"],
            "containers": steady,
            "monthly cost (USD, assumed on-demand price)": f"{steady * usd:,.0f}",
        },
        {
            "load": "burst peak",
            "requests/s": profile["burst_rps"],
            "containers": burst,
            "monthly cost (USD, assumed on-demand price)": f"{burst * usd:,.0f} if sustained all month",
        },
    ]
    return "\n".join(
        [
            f"One 2-core container sustains **{per_task:.1f} requests/s** (micro-batched; "
            f"{t['pairs_per_request']:.2f} aspects a request)"
            + (f" within a p95 of {profile['p95_budget_ms']} ms" if within else "")
            + f" (measured at {best['clients']} concurrent clients: p95 "
            f"{best['p95_ms']:.0f} ms).{warning}",
            "",
            markdown(rows),
            "",
            f"Price assumed: {profile['instance']} at ${profile['instance_usd_per_hour']}/hour, "
            f"{profile['hours_per_month']} hours a month; check current pricing for the region.",
        ]
    )


def summary_table(summary: pd.DataFrame) -> str:
    """A ledger summary as a markdown table, one row per configuration, scores as mean ± std over seeds (the
    3-class macro-F1 stays in the summary and the ledger)."""
    return markdown(
        [
            {
                "dataset": row["dataset"],
                "configuration": f"{label(row)}, {row['epochs']} ep",
                "seeds": row["seeds"],
                "val PN-F1": mean_std(row, "val_pn_f1"),
                "test PN-F1": mean_std(row, "test_pn_f1"),
                "test acc": mean_std(row, "test_acc"),
                "trainable params": f"{row['trainable_params'] / 1e6:.2f}M",
                "train min CPU / GPU": f"{_minutes(row['cpu_minutes'])} / {_minutes(row['gpu_minutes'])}",
            }
            for _, row in summary.iterrows()
        ]
    )


def ablation_block(ledger: Path = LEDGER) -> str:
    """The ablation ledger summarised: mean ± std over seeds per configuration."""
    frame = read_ledger(ledger)
    if frame.empty:
        return "_No ablation runs yet: run `python -m absa.src.ablation`._"
    return "\n".join(
        [
            f"{len(frame)} finished runs in `absa/models/ablation/results.csv` ({devices(frame)}). "
            "Mean ± standard deviation over seeds; the epoch is chosen on validation, the test columns are reported "
            "only.",
            "",
            summary_table(summarize(frame)),
        ]
    )


def fast_goal_line(models_dir: Path = MODELS_DIR, reports_dir: Path = REPORTS_DIR, goal: dict = FAST_GOAL) -> str:
    """Whether ``models_dir/fast`` meets the fast-model goal: its configuration's accuracy over seeds (from
    ``promote``) and its speed in ``benchmark_minilm.json`` (when that benchmark measured it)."""
    metrics, speed = read_json(models_dir / "fast" / METRICS_FILE), read_json(reports_dir / "benchmark_minilm.json")
    if metrics is None or "promoted" not in metrics:
        return "Fast model: none promoted to `absa/models/fast` yet."
    accuracy = metrics["promoted"]["configuration_scores_percent"]["test_acc"]
    seeds = len(metrics["promoted"]["seeds"])
    met = accuracy["mean"] >= goal["test_acc"] and seeds >= 3
    parts = [
        f"restaurants test accuracy {accuracy['mean']:.2f} over {seeds} seed{'s' * (seeds != 1)} "
        f"(goal ≥ {goal['test_acc']:g}: {'met' if met else 'not met'})"
    ]
    if speed is not None and speed["model"] == "fast":
        rate = speed["optimized_rows_per_second"]
        passes = len(speed.get("optimized_rows_per_second_passes", []))
        parts.append(
            f"{rate:.1f} rows/s{f' (median of {passes} passes)' if passes > 1 else ''} on {speed['n']:,} "
            f"rows of {', '.join(speed['datasets'])} "
            f"(goal ≥ {goal['rows_per_second']:g}: {'met' if rate >= goal['rows_per_second'] else 'not met'})"
        )
    else:
        parts.append("speed not measured yet (`python -m absa.src.benchmark --model absa/models/fast`)")
    return "Fast model `fast`: " + "; ".join(parts) + "."


def goals_block(
    ledger: Path = LEDGER, goals: dict = GOALS, models_dir: Path = MODELS_DIR, reports_dir: Path = REPORTS_DIR
) -> str:
    """Per benchmark: the configuration chosen on that benchmark's validation and the general model, their test
    scores over seeds, the goal and whether the mean reaches it; then the fast model's goal."""
    frame = read_ledger(ledger)
    table = best_per_benchmark(frame, list(goals)) if not frame.empty else None
    if table is None or table.empty:
        return "_No ablation runs yet: run `python -m absa.src.ablation`._"
    rows, met_benchmarks = [], set()
    for _, row in table.iterrows():
        goal = goals[row["benchmark"]]
        met = all(row[f"{score}_mean"] >= target for score, target in goal.items())
        if met:
            met_benchmarks.add(row["benchmark"])
        name = ("general model: " if row["dataset"] == "all" else "") + label(row) + f", {row['epochs']} ep"
        rows.append(
            {
                "benchmark": row["benchmark"],
                "goal (test, mean of 3 seeds)": ", ".join(
                    f"{'acc' if score == 'test_acc' else 'PN-F1'} ≥ {target:g}" for score, target in goal.items()
                ),
                "configuration": name + (" (chosen on validation)" if row["role"] == "chosen" else ""),
                "seeds": int(row["seeds"]),
                "test acc": mean_std(row, "test_acc"),
                "test PN-F1": mean_std(row, "test_pn_f1"),
                "goal met": "yes" if met else "no",
            }
        )
    return "\n".join(
        [
            markdown(rows),
            "",
            f"**Goals met (3 seeds): {len(met_benchmarks)} of {len(goals)} benchmarks**"
            + (f" ({', '.join(sorted(met_benchmarks))})." if met_benchmarks else "."),
            "",
            fast_goal_line(models_dir, reports_dir),
        ]
    )


def single_factor_block(ledger: Path = LEDGER) -> str:
    """Each single-factor experiment against the ``main`` cell it changes one thing of."""
    frame = read_ledger(ledger)
    table = compare_to_base(summarize(frame)) if not frame.empty else None
    if table is None or table.empty:
        return "_No single-factor runs yet._"
    return markdown(
        [
            {
                "dataset": r["dataset"],
                "changed (against its main cell)": r["changed"],
                "seeds": r["seeds"],
                "val PN-F1 Δ": f"{r['val_pn_f1 difference']:+.2f}",
                "seed spread": "-" if math.isnan(r["seed spread"]) else f"{r['seed spread']:.2f}",
                "beyond spread?": spread_verdict(r["beyond seed spread"]),
                "test PN-F1 Δ": f"{r['test_pn_f1 difference']:+.2f}",
                "test acc Δ": f"{r['test_acc difference']:+.2f}",
            }
            for _, r in table.iterrows()
        ]
    )


def paired_block(ledger: Path = LEDGER, grid: Path = GRID) -> str:
    """Each experiment with a ``paired_with`` field in the grid against that base, seed by seed."""
    table = paired_table(read_ledger(ledger), paired_experiments(yaml.safe_load(Path(grid).read_text())))
    if table.empty:
        return "_No paired runs yet._"
    return markdown(
        [
            {
                "dataset": r["dataset"],
                "changed": r["changed"],
                "against": r["base"],
                "pairs (seeds)": r["pairs"],
                "val PN-F1 Δ per seed": ", ".join(f"{d:+.2f}" for d in r["val_pn_f1 differences"]),
                "mean Δ ± std": f"{r['val_pn_f1 difference']:+.2f}"
                + ("" if math.isnan(r["std"]) else f" ± {r['std']:.2f}"),
                "paired t-test p": "-" if math.isnan(r["p"]) else f"{r['p']:.2f}",
                "test PN-F1 Δ": f"{r['test_pn_f1 difference']:+.2f}",
                "test acc Δ": f"{r['test_acc difference']:+.2f}",
            }
            for _, r in table.iterrows()
        ]
    )


def errors_block(reports_dir: Path = REPORTS_DIR) -> str:
    """Slices and error kinds of the error analysis (``absa/reports/error_analysis.json``)."""
    e = read_json(reports_dir / "error_analysis.json")
    if e is None:
        return "_No error analysis yet: run `python -m absa.src.analysis`._"

    def num(value, digits: int = 1) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    slices = [
        {
            "slice": s["slice"].replace("_", " "),
            "value": s["value"],
            "rows": f"{s['rows']:.0f}",
            "accuracy": num(s["accuracy"]),
            "PN-macro-F1": num(s["pn_macro_f1"]),
        }
        for s in e["slices"]
    ]
    kinds = [
        {
            "errors": t["type"],
            "count": f"{t['errors']:.0f}",
            "% of errors": num(t["share of errors"]),
            "% of rows": num(t["share of rows"]),
        }
        for t in e["error_types"]
    ]
    m = e["metrics"]
    return "\n".join(
        [
            f"Model `{e['model']}` on the {e['dataset']} test set ({e['rows']} rows): accuracy "
            f"{100 * m['accuracy']:.2f}, PN-macro-F1 {100 * m['pn_macro_f1']:.2f}, expected calibration error "
            f"{e['ece']:.1f}%.",
            "",
            markdown(slices),
            "",
            markdown(kinds),
        ]
    )


def robustness_block(reports_dir: Path = REPORTS_DIR) -> str:
    """The aspect-robustness probe (``absa/reports/robustness.json``), one row per model, dataset and probe."""
    entries = read_json(reports_dir / "robustness.json")
    if not entries:
        return "_No robustness probe yet: run `python -m absa.src.robustness`._"
    return markdown(
        [
            {
                "model": f"`{e['model']}`",
                "weights": e.get("weights_fingerprint", "-"),
                "dataset": e["dataset"],
                "probe": name,
                "rows": p["rows"],
                "accuracy before": f"{p['accuracy_original']:.1f}",
                "accuracy after": f"{p['accuracy_perturbed']:.1f}",
                "correct predictions broken": f"{p['broken_share']:.1f}%",
            }
            for e in entries
            for name, p in e["probes"].items()
            if p["rows"]
        ]
    )


def robustness_by_experiment_block(
    reports_dir: Path = REPORTS_DIR, name: str = "robustness_augment.json", ledger: Path = LEDGER
) -> str:
    """Robustness probes of ablation runs (entries named by run id), as mean ± std over each experiment's seeds, per
    dataset and probe."""
    entries = read_json(reports_dir / name)
    if not entries:
        return f"_No probe of ablation runs yet: `python -m absa.src.robustness --model <run folder> --output {name}`._"
    runs = read_ledger(ledger).set_index("run_id")
    unknown = sorted({e["model"] for e in entries} - set(runs.index))
    if unknown:
        raise ValueError(f"{reports_dir / name}: {unknown} are not runs of the ledger {ledger}")
    frame = pd.DataFrame(
        [
            {
                "experiment": runs.loc[e["model"], "experiment"],
                "seed": runs.loc[e["model"], "seed"],
                "dataset": e["dataset"],
                "probe": probe,
                **scores,
            }
            for e in entries
            for probe, scores in e["probes"].items()
            if scores["rows"]
        ]
    )
    return markdown(
        [
            {
                "dataset": dataset,
                "probe": probe,
                "experiment": experiment,
                "seeds": ", ".join(str(s) for s in sorted(part["seed"])),
                "rows": part["rows"].iloc[0],
                "accuracy after": f"{part['accuracy_perturbed'].mean():.1f} ± {part['accuracy_perturbed'].std():.1f}",
                "correct predictions broken": f"{part['broken_share'].mean():.1f} ± {part['broken_share'].std():.1f}%",
            }
            for (dataset, probe, experiment), part in frame.groupby(["dataset", "probe", "experiment"], sort=False)
        ]
    )


def ensembles_block(reports_dir: Path = REPORTS_DIR) -> str:
    """Seed ensembles (``absa/reports/ensembles.json``): the members' scores and their ensemble's, on validation
    where the benchmark's validation file is shared by every seed, and on test."""
    entries = read_json(reports_dir / "ensembles.json")
    if not entries:
        return "_No seed ensemble yet: run `python -m absa.src.ensemble`._"

    def spread(values: list[float]) -> str:
        return f"{sum(values) / len(values):.2f} (" + ", ".join(f"{v:.2f}" for v in values) + ")"

    rows = []
    for e in entries:
        members, ensemble = e["members"], e["ensemble"]
        validation = "val_pn_f1" in ensemble
        rows.append(
            {
                "benchmark": e.get("benchmark", e["dataset"]),
                "cell (chosen on validation)": ("general model: " if e["dataset"] == "all" else "")
                + e["configuration"],
                "seeds": len(e["seeds"]),
                "val PN-F1: members": spread(members["val_pn_f1"]) if validation else "-",
                "val PN-F1: ensemble": f"{ensemble['val_pn_f1']:.2f}" if validation else "-",
                "test PN-F1: members": spread(members["test_pn_f1"]),
                "test PN-F1: ensemble": f"{ensemble['test_pn_f1']:.2f}",
                "test acc: members": spread(members["test_acc"]),
                "test acc: ensemble": f"{ensemble['test_acc']:.2f}",
            }
        )
    return markdown(rows)


def default_choice(models_dir: Path = MODELS_DIR, reports_dir: Path = REPORTS_DIR, bar: dict = DEFAULT_BAR) -> dict:
    """Which exported model ``default`` links to, and which of the two bars it clears: restaurants test PN-F1 >=
    ``bar`` or the best mean test PN-F1 over the four benchmarks among the exported models
    (``cross_benchmark.json``)."""
    cross = read_json(reports_dir / "cross_benchmark.json")
    default = (models_dir / "default").resolve().name
    means = {name: entry["mean_pn_macro_f1"] for name, entry in cross["models"].items()}
    restaurants = cross["models"][default]["by_benchmark"]["semeval14_restaurants"]["pn_macro_f1"]
    return {
        "default": default,
        "restaurants_pn_f1": 100 * restaurants,
        "restaurants_bar_met": 100 * restaurants >= bar["restaurants_test_pn_f1"],
        "mean_pn_f1": 100 * means[default],
        "best_mean": max(means, key=means.get),
        "best_mean_met": means[default] == max(means.values()),
        "benchmarks": cross["benchmarks"],
        "skipped": sorted(cross["skipped"]),
        "cross": cross,
    }


def default_block(models_dir: Path = MODELS_DIR, reports_dir: Path = REPORTS_DIR, bar: dict = DEFAULT_BAR) -> str:
    """The default model, why it is the default, and every exported model on every benchmark's test set."""
    choice = default_choice(models_dir, reports_dir, bar)
    default, cross = choice["default"], choice["cross"]
    record = RunRecord.load(models_dir / default)
    rows = []
    for name, entry in sorted(cross["models"].items(), key=lambda item: -item[1]["mean_pn_macro_f1"]):
        cells = {b: f"{100 * entry['by_benchmark'][b]['pn_macro_f1']:.2f}" for b in choice["benchmarks"]}
        row = {"model": f"`{name}`", **cells, "mean": f"{100 * entry['mean_pn_macro_f1']:.2f}"}
        rows.append({k: f"**{v}**" for k, v in row.items()} if name == default else row)
    trained_on = (
        f"all {len(record.validation['averaged_over'])} benchmarks"
        if "averaged_over" in record.validation
        else record.data["train"]
    )
    why = (
        f"`absa/models/default` is `{default}`, trained on {trained_on}"
        + (f", chosen by {record.promoted['selected_by']}" if record.promoted else "")
        + (
            f" (validation PN-F1 {100 * record.validation['pn_macro_f1']:.2f}, the mean over "
            f"{', '.join(record.validation['averaged_over'])})."
            if "averaged_over" in record.validation
            else "."
        )
    )
    floor = bar["restaurants_test_pn_f1"]
    if choice["restaurants_bar_met"]:
        verdict = f"Its restaurants test PN-F1 is {choice['restaurants_pn_f1']:.2f}: it clears the bar of {floor:g}."
    elif choice["best_mean_met"]:
        verdict = (
            f"Its restaurants test PN-F1 ({choice['restaurants_pn_f1']:.2f}) is under the restaurants bar of "
            f"{floor:.1f}, which only a restaurant specialist clears; it clears the other bar instead: the best mean "
            f"test PN-F1 over the {len(choice['benchmarks'])} benchmarks among the exported models "
            f"({choice['mean_pn_f1']:.2f}). Feedback is about users' own products, so the default is the model that "
            "travels best."
        )
    else:
        verdict = (
            f"It clears neither bar: restaurants test PN-F1 {choice['restaurants_pn_f1']:.2f} < {floor:g}, and "
            f"`{choice['best_mean']}` has the best mean test PN-F1."
        )
    skipped = (
        f" Not scored (no weights in the repository): {', '.join(f'`{s}`' for s in choice['skipped'])}."
        if (choice["skipped"])
        else ""
    )
    table = markdown(rows)
    return (
        f"{why} {verdict}\n\nTest PN-F1 of every exported model on every benchmark (`python -m "
        f"absa.src.cross_benchmark`; reported, not used to choose).{skipped}\n\n{table}"
    )


def rebuilds_block(reports_dir: Path = REPORTS_DIR) -> str:
    """How far rebuilds (``train --like``) moved from the runs they re-made: ``rebuilds.json``."""
    entries = read_json(reports_dir / "rebuilds.json", [])
    if not entries:
        return "_No rebuild recorded yet: `make train-fast` records one._"

    def scores(entry: dict) -> str:
        test = entry["test"]
        return f"{100 * entry['validation']['pn_macro_f1']:.2f} / " + (
            f"{100 * test['pn_macro_f1']:.2f}" if test else "-"
        )

    rows = []
    for e in entries:
        before, after = e["recorded"], e["rebuilt"]
        moved = [
            f"{100 * (after[split]['pn_macro_f1'] - before[split]['pn_macro_f1']):+.2f}"
            for split in ("validation", "test")
            if after[split] and before[split]
        ]
        rows.append(
            {
                "model": f"`{e['folder']}`",
                "recorded on": f"{before['device']}, bf16 {'on' if before['bf16'] else 'off'}",
                "recorded val / test PN-F1": scores(before),
                "rebuilt on": f"{after['cpu']} ({after['device']}), bf16 {'on' if after['bf16'] else 'off'}",
                "rebuilt val / test PN-F1": scores(after),
                "moved (val, test)": ", ".join(moved),
            }
        )
    return markdown(rows)


BLOCKS = {
    "ablation": ablation_block,
    "goals": goals_block,
    "single-factor": single_factor_block,
    "paired": paired_block,
    "ensembles": ensembles_block,
    "errors": errors_block,
    "robustness": robustness_block,
    "robustness-augment": robustness_by_experiment_block,
    "results": results_table,
    "calibration": calibration_table,
    "speed": speed_table,
    "speed-minilm": lambda: speed_table(name="benchmark_minilm.json"),
    "load": load_table,
    "default": default_block,
    "e2e": e2e_table,
    "rebuilds": rebuilds_block,
    "capacity": capacity_table,
}


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def render_block(text: str, table: str, name: str = "results") -> str:
    """``text`` with the part between the ``name`` markers replaced by ``table``."""
    start, end = markers(name)
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"no {start} ... {end} block")
    return pattern.sub(lambda _: f"{start}\n{table}\n{end}", text)


def render_file(path: Path) -> str:
    """The file's text with every known block it holds re-rendered."""
    text = path.read_text()
    for name, make in BLOCKS.items():
        if markers(name)[0] in text:
            text = render_block(text, make(), name)
    return text


def write_model_cards(models_dir: Path = MODELS_DIR) -> None:
    """Re-write every exported model folder's card from its run record, so cards follow the current templates."""
    for name, record in model_records(models_dir).items():
        write_model_card(models_dir / name, record)
    for folder in tagger_folders(models_dir):
        write_tagger_card(folder, RunRecord.load(folder))


def main() -> None:
    write_model_cards()
    for path in (README, DEPLOYMENT, METHODOLOGY):
        if path.exists():
            write_text(path, render_file(path))
            print(f"updated {path}")


if __name__ == "__main__":
    main()
