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

from absa.src import e2e_ledger
from absa.src.ablation.ledger import CONFIG_COLUMNS, LEDGER, devices, per_benchmark, read_ledger
from absa.src.ablation.runner import paired_experiments
from absa.src.ablation.selection import (
    MIN_SEEDS,
    best_cell,
    best_per_benchmark,
    choose_on_validation,
    compare_to_base,
    label,
    paired_table,
    spread_verdict,
    summarize,
)
from absa.src.config import describe
from absa.src.data import ALL, E2E_BENCHMARKS, PACKAGE_DIR
from absa.src.files import read_json, write_text
from absa.src.model_card import promoted_summary, write_model_card, write_tagger_card
from absa.src.records import METRICS_FILE, RunRecord, is_tagger

README = PACKAGE_DIR.parent / "README.md"
DEPLOYMENT = PACKAGE_DIR.parent / "deployment_pipeline.md"
METHODOLOGY = PACKAGE_DIR.parent / "training_methodology.md"
ABLATION_APPENDIX = PACKAGE_DIR.parent / "docs" / "ablation_full.md"
DOCS = (README, DEPLOYMENT, METHODOLOGY, ABLATION_APPENDIX)
MODELS_DIR = PACKAGE_DIR / "models"
REPORTS_DIR = PACKAGE_DIR / "reports"
GRID = MODELS_DIR / "ablation" / "grid.yaml"
ASSUMPTIONS = yaml.safe_load((REPORTS_DIR / "assumptions.yaml").read_text())
GOALS, FAST_GOAL, LOAD_PROFILE, DEFAULT_BAR, E2E_GOALS = (
    ASSUMPTIONS[key] for key in ("goals", "fast_goal", "load_profile", "default_bar", "e2e_goals")
)


# The three kinds that partition the errors (``analysis.ERROR_TYPES``; a test keeps the two in step): their "% of
# all rows" is the error's own rate, while a context's is the share of rows in that context.
ERROR_KINDS = ("neutral read as polar", "polar read as neutral", "polarity flipped")


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


def describe_tagger(config) -> str:
    """A tagger's configuration in a few words, from its exported config or its ledger row; a pipeline's names its
    tagger, then its classifier: ``minilm lora r16, extraction tags, lr 0.0005, 8 ep; then mpnet lora ...``."""
    rank = f" r{config['lora_r']}" if config["regime"] == "lora" else ""
    tags = "extraction" if config["scheme"] == "pipeline" else config["scheme"]
    text = f"{config['backbone']} {config['regime']}{rank}, {tags} tags, lr {config['learning_rate']:g}"
    text = f"{text}, {config['epochs']} ep"
    return f"{text}; then {config['classifier']}" if config["scheme"] == "pipeline" else text


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
                    "configuration": f"{describe_tagger(config)}, seed {config['seed']}",
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


def e2e_seeds_block(ledger: Path | None = None, goals: dict = E2E_GOALS) -> str:
    """The aspect-tagger ledger (``absa.src.e2e_ledger``) summarised: per configuration, mean ± std over seeds of
    the validation end-to-end F1 that chose it and of each benchmark's test end-to-end and extraction F1."""
    frame = e2e_ledger.read_ledger(ledger or e2e_ledger.E2E_LEDGER)
    if frame.empty:
        return "_No aspect tagger in the ledger yet: `python -m absa.src.e2e_ledger RUN_DIR`._"
    summary = e2e_ledger.summarize(frame)

    def cell(row: pd.Series, benchmark: str, score: str) -> str:
        own = f"test_{benchmark}_{score}_f1" if row["benchmark"] != benchmark else f"test_{score}_f1"
        return "-" if f"{own}_mean" not in row or pd.isna(row[f"{own}_mean"]) else mean_std(row, own)

    rows = [
        {
            "trained on": row["benchmark"],
            "configuration": describe_tagger(row),
            "seeds": int(row["seeds"]),
            "val e2e F1": mean_std(row, "val_e2e_f1"),
            **{
                f"{name} test e2e F1 (extraction)": f"{cell(row, name, 'e2e')} ({cell(row, name, 'extraction')})"
                for name in E2E_BENCHMARKS
            },
            "train min (CPU)": f"{row['minutes']:.0f}",
        }
        for _, row in summary.iterrows()
    ]
    rows.append(
        {
            "trained on": "goal (test e2e F1, mean of 3 seeds)",
            **{f"{name} test e2e F1 (extraction)": f"≥ {goals[name]:g}" for name in E2E_BENCHMARKS if name in goals},
        }
    )
    return "\n".join(
        [
            f"{len(frame)} tagger run{'s' * (len(frame) != 1)} in `absa/models/ablation/e2e_results.csv`; mean ± std "
            "over seeds, epoch chosen on the fixed validation files by end-to-end F1 (a pipeline's tagger by "
            "extraction F1, its classifier on the validation pairs), test reported only.",
            "",
            markdown([{key: row.get(key, "") for key in rows[0]} for row in rows]),
        ]
    )


def results_table(models_dir: Path = MODELS_DIR) -> str:
    """One row per exported model, test scores in percent, then where each promoted model comes from."""
    default = (models_dir / "default").resolve().name if (models_dir / "default").exists() else None
    records = model_records(models_dir)
    rows = []
    for name, record in records.items():
        config, val, test = record.config, record.validation or {}, record.test or {}
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
        [
            f"packed rows, passes of {opt['batch_size']} pairs"
            if opt.get("packing")  # recorded since packing exists; earlier runs padded length-sorted batches
            else f"length-sorted batches of {opt['batch_size']}"
        ]
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


def analyze_speed_block(reports_dir: Path = REPORTS_DIR, name: str = "benchmark_analyze.json") -> str:
    """The analysis path's speed (``absa.src.analyze_benchmark``): raw sentences to aspects with sentiment, one
    line per measured tagger (``name``, then any ``<stem>_<tagger>.json`` beside it, as a pipeline's)."""
    paths = [Path(reports_dir) / name, *sorted(Path(reports_dir).glob(f"{Path(name).stem}_*.json"))]
    lines = []
    for b in filter(None, map(read_json, paths)):
        passes = ", ".join(f"{rate:g}" for rate in b["sentences_per_second_passes"])
        lines.append(
            f"Tagger `{b['model']}` on {b['sentences']:,} test sentences of {' + '.join(b['benchmarks'])} "
            f"({b['aspects_found']:,} aspects found), {b['machine']['threads']} CPU threads "
            f"({b['machine']['cpu_capability']}{', ' + b['precision'] if 'precision' in b else ''}): "
            f"**{b['sentences_per_second']} sentences/s** (median of "
            f"{len(b['sentences_per_second_passes'])} passes: {passes})."
        )
    return "\n\n".join(lines) or "_Not measured yet: run `python -m absa.src.analyze_benchmark`._"


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
            # from the server's own counters: what a micro-batched pass held, and how much of the time the model ran
            "pairs a pass": f"{lv['pairs_per_pass']:.1f}" if lv.get("pairs_per_pass") else "-",
            "model busy": f"{100 * lv['model_busy']:.0f}%" if lv.get("model_busy") is not None else "-",
        }
        for lv in t["levels"]
    ]
    return "\n".join(
        [
            f"Model `{t['model']}`, {t['server']}, {t['cores']} cores shared with the load generator "
            f"({t.get('cpu_capability', 'CPU instructions not recorded')}, "
            f"{t.get('precision', 'precision not recorded')}); one request "
            f"per test sentence with all of its aspects ({t['pairs_per_request']:.2f} pairs a request on average), "
            f"{t['arguments']['seconds']:g} s per level. Ceiling: the same requests predicted offline in "
            f"{'packed rows' if t.get('packing') else 'length-sorted batches'}, no server: "
            f"**{t['ceiling_rps']:.1f} requests/s** "
            f"({t['ceiling_pairs_per_s']:.1f} pairs/s). Server memory {t['memory_before_mb']:.0f} MB before, "
            f"{t['memory_after_mb']:.0f} MB after; start-up to healthy {t['startup_seconds']:.1f} s.",
            "",
            markdown(rows),
        ]
    )


def per_container(t: dict, profile: dict) -> tuple[dict, bool]:
    """The load-test level one container is sized on: the micro-batched level with the highest throughput within
    the p95 budget, else (none within it) the highest throughput; and whether it is within the budget."""
    batched = [lv for lv in t["levels"] if lv["micro_batching"] and lv["p95_ms"] is not None]
    within = [lv for lv in batched if lv["p95_ms"] <= profile["p95_budget_ms"]]
    return max(within or batched, key=lambda lv: lv["throughput_rps"]), bool(within)


def capacity_table(reports_dir: Path = REPORTS_DIR, profile: dict = LOAD_PROFILE) -> str:
    """Containers needed for the load profile at the target utilisation, from the load test's best level."""
    t = read_json(reports_dir / "loadtest.json")
    if t is None:
        return "_No load test yet: run `python -m absa.app.loadtest`._"
    best, within = per_container(t, profile)
    warning = (
        ""
        if within
        else f" **No measured level meets the p95 budget of {profile['p95_budget_ms']} ms on the measured CPU** "
        f"({t['cores']} cores shared with the load generator): the rows below size for throughput only; the budget "
        "needs a faster CPU per container (native bf16) or fewer requests per container."
    )
    per_task = best["throughput_rps"]
    target = profile["target_utilisation"]
    usd = profile["instance_usd_per_hour"] * profile["hours_per_month"]

    def containers(rps: float) -> int:
        return max(2, math.ceil(rps / (target * per_task)))  # 2 AZs minimum

    rows = [
        {
            "load": load,
            "requests/s": f"{rps:,}",
            "containers": f"{containers(rps):,}",
            "monthly cost (USD, assumed price)": f"{containers(rps) * usd:,.0f}" + note,
        }
        for load, rps, note in [
            ("steady", profile["steady_rps"], ""),
            ("burst peak", profile["burst_rps"], " if held all month"),
            ("design point", profile["design_rps"], " if held all month"),
        ]
    ]
    return "\n".join(
        [
            f"One 2-core container sustains **{per_task:.1f} requests/s** (micro-batched; "
            f"{t['pairs_per_request']:.2f} aspects a request)"
            + (f" within a p95 of {profile['p95_budget_ms']} ms" if within else "")
            + f" (measured at {best['clients']} concurrent client{'s' * (best['clients'] != 1)}: p95 "
            f"{best['p95_ms']:.0f} ms).{warning} Every row runs its containers at {100 * target:.0f}% of that "
            "(the autoscaling target), with 2 at least (two availability zones).",
            "",
            markdown(rows),
            "",
            f"Price assumed, not measured: {profile['instance']} at ${profile['instance_usd_per_hour']}/hour, "
            f"{profile['hours_per_month']} hours a month; the throughput was measured on another CPU, so re-run the "
            "load test on the instance type before buying it.",
        ]
    )


def latency_budget_block(profile: dict = LOAD_PROFILE) -> str:
    """The p95 budget split along a request's path (``assumptions.yaml``); refuses steps that do not add up."""
    steps = profile["latency_budget_ms"]
    if sum(steps.values()) != profile["p95_budget_ms"]:
        raise ValueError(f"latency budget steps add up to {sum(steps.values())} ms, not {profile['p95_budget_ms']}")
    rows = [{"step": step, "budget": f"{ms} ms"} for step, ms in steps.items()]
    return markdown(rows + [{"step": "**total (p95)**", "budget": f"**{profile['p95_budget_ms']} ms**"}])


def spike_block(reports_dir: Path = REPORTS_DIR, profile: dict = LOAD_PROFILE) -> str:
    """From a jump of steady to burst traffic to the capacity the burst needs: the timeline, and what callers get
    meanwhile (the share of requests over the steady fleet's capacity, answered 429 with Retry-After)."""
    t = read_json(reports_dir / "loadtest.json")
    if t is None:
        return "_No load test yet: run `python -m absa.app.loadtest`._"
    best, _ = per_container(t, profile)
    per_task, target = best["throughput_rps"], profile["target_utilisation"]
    steady = max(2, math.ceil(profile["steady_rps"] / (target * per_task)))
    capacity = steady * per_task
    refused = max(0.0, 1 - capacity / profile["burst_rps"])
    detect = profile["metric_period_s"] * profile["alarm_periods"]
    start = t["startup_seconds"]
    rows = []
    for pool, place in (("warm pool", profile["warm_instance_s"]), ("no warm pool", profile["cold_instance_s"])):
        rows.append(
            {
                "": pool,
                "metric period + alarm": f"{detect:.0f} s",
                "instance ready": f"{place:.0f} s",
                "container start-up to healthy (measured)": f"{start:.0f} s",
                "spike to capacity": f"**{detect + place + start:.0f} s**",
            }
        )
    return "\n".join(
        [
            markdown(rows),
            "",
            f"Meanwhile the steady fleet ({steady} containers) serves {capacity:.0f} of the burst's "
            f"{profile['burst_rps']} requests/s at the rate it was sized on: about **{100 * refused:.0f}%** of "
            "requests are answered 429 with `Retry-After` (at the gateway's throttle, or by a container whose queue is "
            "full) and "
            "succeed on retry once capacity arrives. Scheduled scaling ahead of known bursts removes the gap.",
        ]
    )


def gpu_training_block(ledger: Path = LEDGER, models_dir: Path = MODELS_DIR) -> str:
    """Training time on a GPU for the data sizes involved, from the ledger's GPU runs of MPNet + LoRA on restaurants
    (rows x epochs per second) and the training-set sizes recorded by the exported models."""
    frame = read_ledger(ledger)
    gpu = frame[
        (~frame["device"].fillna("cpu").astype(str).str.startswith("cpu"))
        & (frame["experiment"] == "main")
        & (frame["dataset"] == "semeval14_restaurants")
        & (frame["backbone"] == "mpnet")
        & (frame["regime"] == "lora")
    ]
    restaurants = read_json(models_dir / "semeval14_restaurants" / METRICS_FILE)
    general = read_json(models_dir / "general" / METRICS_FILE)
    if gpu.empty or restaurants is None or general is None:
        return "_No GPU run of MPNet + LoRA on restaurants in the ledger yet._"
    seconds = pd.to_numeric(gpu["train_seconds"]).mean()
    epochs = pd.to_numeric(gpu["epochs"]).iloc[0]
    rate = restaurants["data"]["n_train"] * epochs / seconds  # row-epochs a second
    rows = []
    for what, n, ep in [
        ("restaurants (measured)", restaurants["data"]["n_train"], epochs),
        ("general model: all four training sets", general["data"]["n_train"], general["config"]["epochs"]),
        ("general model with ten times the rows", 10 * general["data"]["n_train"], general["config"]["epochs"]),
    ]:
        rows.append({"training set": what, "rows": f"{n:,}", "epochs": ep, "GPU minutes": f"{n * ep / rate / 60:.1f}"})
    return "\n".join(
        [
            f"MPNet + LoRA on {gpu['device'].iloc[0]}: {rate:.0f} rows x epochs a second (mean of {len(gpu)} runs; "
            "the grid ran several runs on the card at once, so the minutes are an upper bound); three seeds take "
            "three times as long, or the same time on three cards.",
            "",
            markdown(rows),
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


# The approaches the ablation compared, each a set of grid experiments (every experiment belongs to one); per
# benchmark an approach is represented by its own configuration chosen on validation.
APPROACHES = [
    ("MiniLM, full fine-tuning", {"backbone": "minilm", "regime": "full", "experiment": {"main", "learning_rate"}}),
    ("MiniLM, LoRA", {"backbone": "minilm", "regime": "lora", "experiment": {"main"}}),
    (
        "MiniLM + MAMS rows, distilled from MPNet (`fast`)",
        {"backbone": "minilm", "experiment": {"distill", "joint", "joint_distill"}},
    ),
    ("MPNet, full fine-tuning", {"backbone": "mpnet", "regime": "full", "experiment": {"main"}}),
    (
        "MPNet, LoRA (rank, targets, input format, class weights varied)",
        {
            "backbone": "mpnet",
            "regime": "lora",
            "dataset": "one",
            "experiment": {"main", "lora_rank", "lora_targets", "input_format", "class_weights"},
        },
    ),
    ("MPNet, LoRA + MAMS rows, distilled", {"backbone": "mpnet", "experiment": {"joint_distill"}}),
    ("General model: MPNet, LoRA, all four training sets", {"experiment": {"general"}}),
    (
        "General model fine-tuned per benchmark (augmentation, R-Drop, layer decay varied)",
        {"experiment": {"general_finetune", "augment", "layer_decay", "rdrop", "finetune_epochs"}},
    ),
]


def approaches_block(ledger: Path = LEDGER, goals: dict = GOALS) -> str:
    """One row per approach (``APPROACHES``), one column per benchmark: the test PN-F1 (mean ± std over 3 seeds)
    and validation PN-F1 (mean) of the approach's configuration chosen on that benchmark's validation; the
    approach validation chooses overall in bold; the goals last."""
    frame = per_benchmark(read_ledger(ledger))
    if frame.empty:
        return "_No ablation runs yet: run `python -m absa.src.ablation`._"
    benchmarks = list(goals)
    chosen = {}
    for name, rule in APPROACHES:
        runs = frame[frame["experiment"].isin(rule["experiment"])]
        for column in ("backbone", "regime"):
            if column in rule:
                runs = runs[runs[column] == rule[column]]
        if rule.get("dataset") == "one":
            runs = runs[runs["dataset"] != ALL]
        for benchmark in benchmarks:
            best = choose_on_validation(summarize(runs[runs["benchmark"] == benchmark]))
            if best is not None:
                chosen[name, benchmark] = best
    winners = {
        benchmark: max(
            (key for key in chosen if key[1] == benchmark), key=lambda key: chosen[key]["val_pn_f1_mean"], default=None
        )
        for benchmark in benchmarks
    }
    rows = []
    for name, _ in APPROACHES:
        row = {"approach": name}
        for benchmark in benchmarks:
            best = chosen.get((name, benchmark))
            cell = "-" if best is None else f"{mean_std(best, 'test_pn_f1')} ({best['val_pn_f1_mean']:.2f})"
            row[benchmark] = f"**{cell}**" if winners[benchmark] == (name, benchmark) else cell
        rows.append(row)
    rows.append(
        {
            "approach": "goal (test)",
            **{
                b: ", ".join(f"{'acc' if k == 'test_acc' else 'PN-F1'} ≥ {v:g}" for k, v in goals[b].items())
                for b in benchmarks
            },
        }
    )
    return "\n".join(
        [
            "Test PN-F1, mean ± std over 3 seeds, and in brackets the validation PN-F1 mean that chose the "
            "configuration within each approach; **bold**: the approach validation chooses on that benchmark. "
            f"From {len(read_ledger(ledger))} runs in `absa/models/ablation/results.csv`; every configuration in "
            "[docs/ablation_full.md](docs/ablation_full.md).",
            "",
            markdown(rows),
        ]
    )


def single_factor_summary(ledger: Path = LEDGER, grid: Path = GRID) -> str:
    """One paragraph: how many single-factor and paired comparisons there are and which moved validation."""
    frame = read_ledger(ledger)
    single = compare_to_base(summarize(frame)) if not frame.empty else pd.DataFrame()
    if single.empty:
        return "_No single-factor runs yet._"
    beyond = single[single["beyond seed spread"] == True]  # noqa: E712 (None means undecided)
    paired = paired_table(frame, paired_experiments(yaml.safe_load(Path(grid).read_text())))
    moved = "; ".join(
        f"{r['changed']} on {r['dataset']} ({r['val_pn_f1 difference']:+.2f} validation PN-F1)"
        for _, r in beyond.iterrows()
    )
    text = (
        f"{len(single)} single-factor changes were compared with the cell they change; beyond the seed spread on "
        f"validation: {moved or 'none'}."
    )
    if not paired.empty:
        text += (
            f" {len(paired)} paired comparisons (same seeds, same validation rows, same start): smallest paired "
            f"t-test p {paired['p'].min():.2f}, mean validation differences from "
            f"{paired['val_pn_f1 difference'].min():+.2f} to {paired['val_pn_f1 difference'].max():+.2f}."
        )
    return text


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

    def error_rows(kind: bool, name: str, share_of_rows: str) -> list[dict]:
        return [
            {
                name: t["type"],
                "errors": f"{t['errors']:.0f}",
                "% of errors": num(t["share of errors"]),
                share_of_rows: num(t["share of rows"]),
            }
            for t in e["error_types"]
            if (t["type"] in ERROR_KINDS) == kind
        ]

    kinds = error_rows(True, "kind of error", "% of all rows")
    contexts = error_rows(False, "errors made", "% of all rows that are so")
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
            "",
            "Where the errors are: a context holding a larger share of the errors than of all rows is where the "
            "model is weak.",
            "",
            markdown(contexts),
        ]
    )


def errors_summary(reports_dir: Path = REPORTS_DIR) -> str:
    """The error analysis in a few lines: the largest kind of error and the weakest slices against the rest."""
    e = read_json(reports_dir / "error_analysis.json")
    if e is None:
        return "_No error analysis yet: run `python -m absa.src.analysis`._"
    kinds = {t["type"]: t for t in e["error_types"]}
    slices = {(s["slice"], s["value"]): s for s in e["slices"]}
    largest = max((kinds[k] for k in ERROR_KINDS if k in kinds), key=lambda t: t["errors"])
    confident = next(t for t in e["error_types"] if t["type"].startswith("confidence >="))

    def versus(name: str, weak: str, strong: str, what: str) -> str:
        a, b = slices[name, weak], slices[name, strong]
        return f"{what}: PN-F1 {a['pn_macro_f1']:.1f} on {a['rows']:.0f} rows, {b['pn_macro_f1']:.1f} on the others."

    m = e["metrics"]
    lines = [
        f"`{e['model']}` on the {e['dataset']} test set ({e['rows']} rows): accuracy {100 * m['accuracy']:.2f}, "
        f"PN-macro-F1 {100 * m['pn_macro_f1']:.2f}, calibrated expected calibration error {e['ece']:.1f}%.",
        f"{largest['type'].capitalize()}: {largest['share of errors']:.1f}% of the errors.",
        versus("disagreeing_aspects", "yes", "no", "Sentences whose aspects disagree"),
        versus("aspect_seen_in_train", "no", "yes", "Aspects never seen in training"),
        f"{confident['type'].capitalize()}: {confident['share of errors']:.1f}% of the errors, "
        f"{confident['share of rows']:.1f}% of all rows.",
    ]
    return "\n".join(f"- {line}" for line in lines)


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


def current_ensembles(entries: list[dict], ledger: Path = LEDGER) -> tuple[list[dict], list[str]]:
    """(the ensembles whose members are still the cell the ledger chooses on validation, a line for each other)."""
    frame = read_ledger(ledger)
    current, stale = [], []
    for e in entries:
        chosen = best_cell(frame, e["dataset"], e["backbone"], min_seeds=min(MIN_SEEDS, len(e["seeds"])))
        if set(chosen["run_id"]) == set(e["run_ids"]):
            current.append(e)
        else:
            stale.append(
                f"{e['backbone']} on {e.get('benchmark', e['dataset'])} ({e['configuration']}; validation now "
                f"chooses {label(chosen.iloc[0])}, whose run folders are not kept)"
            )
    return current, stale


def ensembles_block(reports_dir: Path = REPORTS_DIR, ledger: Path = LEDGER) -> str:
    """Seed ensembles (``absa/reports/ensembles.json``): the members' scores and their ensemble's, on validation
    where the benchmark's validation file is shared by every seed, and on test. An ensemble whose members are no
    longer the cell the ledger chooses on validation is left out of the table and named below it."""
    entries = read_json(reports_dir / "ensembles.json")
    if not entries:
        return "_No seed ensemble yet: run `python -m absa.src.ensemble`._"
    entries, stale = current_ensembles(entries, ledger)

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
    note = f"\n\nLeft out, built from a cell validation no longer chooses: {'; '.join(stale)}." if stale else ""
    return markdown(rows) + note


def general_ensemble_block(reports_dir: Path = REPORTS_DIR, ledger: Path = LEDGER) -> str:
    """What averaging the general configuration's seeds buys (``ensembles.json``, entries with dataset ``all``
    whose members are the cell the ledger chooses): test PN-F1 per benchmark, members' mean -> ensemble, and on
    the validation file no seed trained on."""
    current, _ = current_ensembles(read_json(reports_dir / "ensembles.json") or [], ledger)
    general = [e for e in current if e["dataset"] == ALL]
    if not general:
        return "_No ensemble of the general configuration's seeds yet: `python -m absa.src.ensemble --dataset all`._"

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    seeds = len(general[0]["seeds"])
    tests = [(e["benchmark"], mean(e["members"]["test_pn_f1"]), e["ensemble"]["test_pn_f1"]) for e in general]
    line = (
        f"Averaging the probabilities of the general configuration's {seeds} seeds (`python -m absa.src.ensemble "
        f"--dataset all --backbone {general[0]['backbone']} --benchmark B`; {seeds} forward passes a prediction) "
        "moves test PN-F1, members' mean → ensemble: " + ", ".join(f"{b} {m:.2f} → {e:.2f}" for b, m, e in tests)
    )
    if len(tests) > 1:
        members, ensembles = zip(*[(m, e) for _, m, e in tests])
        line += f"; mean over these {len(tests)} benchmarks {mean(members):.2f} → {mean(ensembles):.2f}"
    validated = [e for e in general if "val_pn_f1" in e["ensemble"]]
    if validated:
        line += ". On the validation files no seed trained on: " + ", ".join(
            f"{e['benchmark']} {mean(e['members']['val_pn_f1']):.2f} → {e['ensemble']['val_pn_f1']:.2f}"
            for e in validated
        )
    return line + "."


def refits_block(reports_dir: Path = REPORTS_DIR, models_dir: Path = MODELS_DIR) -> str:
    """Refits (``refits.json``): an exported folder's configuration trained on train + validation, test PN-F1 mean
    ± std over its seeds beside the same configuration trained with a validation split (the ledger's seeds, as the
    folder's ``metrics.json`` records them)."""
    entries = read_json(reports_dir / "refits.json") or []
    if not entries:
        return "_No refit yet: `python -m absa.src.train --like absa/models/general --refit --seed N`._"
    lines = []
    for folder in dict.fromkeys(e["folder"] for e in entries):
        runs = sorted((e for e in entries if e["folder"] == folder), key=lambda e: e["seed"])
        scores = pd.Series([100 * e["test"]["pn_macro_f1"] for e in runs])
        spread = f" ± {scores.std():.2f}" if len(runs) > 1 else ""
        line = (
            f"Refitting `{folder}`'s configuration on its training and validation rows together (`python -m "
            f"absa.src.train --like absa/models/{folder} --refit --seed N`, {runs[0]['epochs']} epochs as validation "
            f"chose): test PN-F1 {scores.mean():.2f}{spread} over {len(runs)} seed{'s' if len(runs) > 1 else ''} "
            f"({', '.join(str(e['seed']) for e in runs)})"
        )
        collapsed = [str(e["seed"]) for e in runs if e.get("collapsed")]
        if collapsed:
            line += (
                f" (counting seed{'s' if len(collapsed) > 1 else ''} {', '.join(collapsed)}, whose training collapsed)"
            )
        promoted = RunRecord.load(models_dir / folder).promoted
        if promoted:
            split = promoted["configuration_scores_percent"]["test_pn_f1"]
            line += (
                f", against {split['mean']:.2f} ± {split['std']:.2f} for the configuration trained with a validation "
                f"split ({len(promoted['seeds'])} seeds)"
            )
        lines.append(line + ".")
    return "\n\n".join(lines)


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


def seed_spread(folder: str, ledger: Path = LEDGER, models_dir: Path = MODELS_DIR) -> str:
    """The std over seeds (validation, test PN-F1, in points) of the ledger configuration an exported folder was
    promoted from: how far another seed moves it, to set a rebuild's move against; "-" where it is not known."""
    promoted = (read_json(models_dir / folder / METRICS_FILE, {}) or {}).get("promoted") or {}
    runs = read_ledger(ledger)
    run = runs[runs["run_id"] == promoted.get("run_id")]
    if run.empty:
        return "-"
    same = (runs[CONFIG_COLUMNS].astype(str) == run[CONFIG_COLUMNS].astype(str).iloc[0]).all(axis=1)
    seeds = runs[same]
    if len(seeds) < 2:
        return "-"
    return f"{seeds['val_pn_f1'].std():.2f}, {seeds['test_pn_f1'].std():.2f} ({len(seeds)} seeds)"  # in percent


def rebuilds_block(reports_dir: Path = REPORTS_DIR, ledger: Path = LEDGER, models_dir: Path = MODELS_DIR) -> str:
    """How far rebuilds (``train --like``) moved from the runs they re-made (``rebuilds.json``), beside how far a
    change of seed moves the same configuration."""
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
        cpu = re.sub(r"\((R|TM)\)", "", after["cpu"])  # "Intel(R) Xeon(R) Processor" -> "Intel Xeon Processor"
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
                "rebuilt on": f"{cpu} ({after['device']}), bf16 {'on' if after['bf16'] else 'off'}",
                "rebuilt val / test PN-F1": scores(after),
                "moved (val, test)": ", ".join(moved),
                "seed std (val, test)": seed_spread(e["folder"], ledger, models_dir),
                "weights": after.get("weights", "-"),  # a sha256 prefix: equal for bit-identical rebuilds
            }
        )
    return markdown(rows)


BLOCKS = {
    "approaches": approaches_block,
    "single-factor-summary": single_factor_summary,
    "ablation": ablation_block,
    "goals": goals_block,
    "single-factor": single_factor_block,
    "paired": paired_block,
    "ensembles": ensembles_block,
    "general-ensemble": general_ensemble_block,
    "refits": refits_block,
    "errors": errors_block,
    "errors-summary": errors_summary,
    "robustness": robustness_block,
    "robustness-augment": robustness_by_experiment_block,
    "results": results_table,
    "calibration": calibration_table,
    "speed": speed_table,
    "speed-minilm": lambda: speed_table(name="benchmark_minilm.json"),
    "speed-analyze": analyze_speed_block,
    "load": load_table,
    "default": default_block,
    "e2e": e2e_table,
    "e2e-seeds": e2e_seeds_block,
    "rebuilds": rebuilds_block,
    "capacity": capacity_table,
    "spike": spike_block,
    "latency-budget": latency_budget_block,
    "gpu-training": gpu_training_block,
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
    for path in DOCS:
        if path.exists():
            write_text(path, render_file(path))
            print(f"updated {path}")


if __name__ == "__main__":
    main()
