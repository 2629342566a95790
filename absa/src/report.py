"""Render the docs' tables from results files: README's results (models' ``metrics.json``), the ablation
summary (``absa/models/ablation/results.csv``) and the serving numbers (``absa/reports/benchmark.json``,
``loadtest.json``) in README, training_methodology.md and deployment_pipeline.md.

    python -m absa.src.report        # rewrites every marked block

Numbers are never typed by hand: each block between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` is this
module's output, and a test checks that every block is current.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import yaml

from absa.src.data import PACKAGE_DIR

README = PACKAGE_DIR.parent / "README.md"
DEPLOYMENT = PACKAGE_DIR.parent / "deployment_pipeline.md"
METHODOLOGY = PACKAGE_DIR.parent / "training_methodology.md"
MODELS_DIR = PACKAGE_DIR / "models"
REPORTS_DIR = PACKAGE_DIR / "reports"


def model_metrics(models_dir: Path = MODELS_DIR) -> dict[str, dict]:
    """``metrics.json`` of every exported model folder (links such as ``default`` are skipped), by folder name."""
    return {folder.name: json.loads((folder / "metrics.json").read_text())
            for folder in sorted(models_dir.iterdir())
            if folder.is_dir() and not folder.is_symlink() and (folder / "metrics.json").exists()}


def results_table(models_dir: Path = MODELS_DIR) -> str:
    """A markdown table: one row per exported model, test scores in percent."""
    default = (models_dir / "default").resolve().name if (models_dir / "default").exists() else None
    lines = [
        "| model | backbone | regime | trained on | seed | best epoch (val) | val PN-F1 | test PN-F1 | test acc "
        "| test macro-F1 | trainable params | train time |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    models = model_metrics(models_dir)
    for name, m in models.items():
        config, val, test = m["config"], m["validation"], m["test"] or {}

        def pct(split: dict, key: str) -> str:
            return f"{100 * split[key]:.2f}" if key in split else "-"

        label = f"`{name}`" + (" (default)" if name == default else "")
        trained_on = (f"all {len(test['by_benchmark'])} benchmarks (scores: their mean)" if "by_benchmark" in test
                      else " + ".join([m["data"]["train"], *(f"{extra}/train.csv" for extra in
                                                             m["data"].get("extra_train") or {})]))
        if config.get("init_from"):
            trained_on += f", fine-tuned from `{Path(config['init_from']).name}`"
        if config.get("augment", "none") != "none":
            trained_on += f", + {config['augment'].replace('_', ' ')}"
        lines.append(
            f"| {label} | {config['backbone']} | {config['regime']} | {trained_on} | {config['seed']} "
            f"| {m['best_epoch']:g} | {pct(val, 'pn_macro_f1')} | {pct(test, 'pn_macro_f1')} "
            f"| {pct(test, 'accuracy')} | {pct(test, 'macro_f1')} | {m['trainable_params'] / 1e6:.1f}M "
            f"| {m['train_seconds'] / 60:.0f} min on {m['device']} |"
        )
    lines += [f"\n`{name}` is {promoted_summary(m['promoted'])}"
              for name, m in models.items() if "promoted" in m]
    return "\n".join(lines)


def promoted_summary(promoted: dict) -> str:
    """One sentence on where a promoted model comes from and how its configuration scores over seeds."""
    scores = promoted["configuration_scores_percent"]
    origin = (f"grid run `{promoted['run_id']}` ({promoted['configuration']}), chosen on validation by "
              "`absa.src.promote`")
    if len(promoted["seeds"]) == 1:
        return f"{origin}; its configuration has one seed so far, so there is no spread over seeds to quote yet."
    return (f"{origin}; over its {len(promoted['seeds'])} seeds the configuration scores test PN-F1 "
            f"{scores['test_pn_f1']['mean']:.2f} ± {scores['test_pn_f1']['std']:.2f}, accuracy "
            f"{scores['test_acc']['mean']:.2f} ± {scores['test_acc']['std']:.2f}.")


def provenance(metrics: dict) -> str:
    """What a model learned from beyond its training file, as a clause (empty if nothing): the folder it was
    fine-tuned from, other benchmarks' training rows, augmentation, R-Drop, layer-wise decay, a teacher."""
    config, counts = metrics["config"], metrics["data"].get("extra_train") or {}
    parts = [f"fine-tuned from `{config['init_from']}`"] if config.get("init_from") else []
    if config.get("extra_train"):
        parts.append("with the training rows of " + ", ".join(
            f"{name} ({counts[name]['added']:,})" if "added" in counts.get(name, {}) else name
            for name in config["extra_train"].split(",")))
    if config.get("augment", "none") != "none":
        parts.append(f"with {metrics['data']['n_augmented']:,} training rows added by `{config['augment']}` "
                     "augmentation")
    if config.get("rdrop_alpha"):
        parts.append(f"with R-Drop (α {config['rdrop_alpha']:g})")
    if config.get("layer_decay", 1.0) != 1.0:
        parts.append(f"with layer-wise learning-rate decay {config['layer_decay']:g}")
    if config.get("teacher"):
        parts.append(f"distilled from `{config['teacher']}` (α {config['distill_alpha']:g}, "
                     f"T {config['distill_temperature']:g})")
    return ", ".join(parts)


def write_model_card(folder: Path, result: dict, note: str = "") -> None:
    """The model card ``README.md`` from the folder's metrics (``result``), with an optional closing paragraph;
    paths inside the repository are shown relative to it."""
    config, val, test = result["config"], result["validation"], result.get("test")
    repo = PACKAGE_DIR.parent.resolve()
    shown = folder.resolve().relative_to(repo) if folder.resolve().is_relative_to(repo) else folder
    rows = [f"| validation (epoch {result['best_epoch']:g}) | {100 * val['pn_macro_f1']:.2f} | "
            f"{100 * val['accuracy']:.2f} | {100 * val['macro_f1']:.2f} |"]
    if test:
        rows.append(f"| test | {100 * test['pn_macro_f1']:.2f} | {100 * test['accuracy']:.2f} | "
                    f"{100 * test['macro_f1']:.2f} |")
        rows += [f"| test: {name} | {100 * m['pn_macro_f1']:.2f} | {100 * m['accuracy']:.2f} | "
                 f"{100 * m['macro_f1']:.2f} |" for name, m in test.get("by_benchmark", {}).items()]
    learned = provenance(result)
    card = [
        f"# {folder.name}",
        "",
        f"Aspect sentiment classifier (negative / neutral / positive) on **{config['backbone']}**, "
        f"regime **{config['regime']}**, trained on `{result['data']['train']}`" + (f", {learned}," if learned else "")
        + f" with seed {config['seed']}.",
        "Epoch chosen on validation PN-macro-F1; the test split was scored once afterwards."
        + (" Validation and test scores are means over the benchmarks " + ", ".join(val["averaged_over"]) + "."
           if "averaged_over" in val else ""),
        "",
        "| split | PN-macro-F1 | accuracy | macro-F1 |",
        "|---|---|---|---|",
        *rows,
        "",
        f"Trainable parameters: {result['trainable_params']:,} of {result['total_params']:,}. "
        f"Training time: {result['train_seconds']:.0f} s on {result['device']}. Commit `{result['commit']}`.",
        "",
        "Every number here comes from `metrics.json` in this folder. Use it with",
        f"`python absa/src/evaluation.py --model {shown}` or `absa.src.predict.Predictor('{shown}')`.",
        "",
    ]
    if note:
        card += [note, ""]
    (folder / "README.md").write_text("\n".join(card))


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def speed_table(reports_dir: Path = REPORTS_DIR, name: str = "benchmark.json") -> str:
    """The prediction benchmark: baseline vs improved pipeline."""
    b = _load(reports_dir / name)
    if b is None:
        return f"_No benchmark yet: run `python -m absa.src.benchmark --output absa/reports/{name}`._"
    opt = b["optimized_pipeline"]
    improved = ", ".join(["length-sorted batches of %d" % opt["batch_size"]]
                         + (["bf16 weights"] if opt["bf16"] else []) + (["int8 dynamic quantization"] if opt["int8"] else []))
    passes = b.get("optimized_rows_per_second_passes", [])
    if len(passes) > 1:
        improved += f" (median of {len(passes)} passes: {', '.join(f'{rate:.0f}' for rate in passes)} rows/s)"
    return "\n".join([
        f"Model `{b['model']}`, {b['n']:,} rows ({', '.join(b['datasets'])} training files), "
        f"{b['machine']['threads']} CPU threads ({b['machine']['cpu_capability']}).",
        "",
        "| pipeline | seconds | rows/s | PN-macro-F1 vs gold |",
        "|---|---|---|---|",
        f"| baseline: input order, fixed batches of {b['baseline_pipeline']['batch_size']}, fp32 "
        f"| {b['baseline_seconds']:.1f} | {b['baseline_rows_per_second']:.1f} | {100 * b['baseline_pn_macro_f1']:.2f} |",
        f"| improved: {improved} | {b['optimized_seconds']:.1f} | {b['optimized_rows_per_second']:.1f} "
        f"| {100 * b['optimized_pn_macro_f1']:.2f} |",
        "",
        f"**Speed-up {b['speedup']:.2f}x**; the two pipelines agree on {100 * b['agreement']:.2f}% of rows and "
        f"differ by {100 * b['pn_macro_f1_difference']:+.2f} PN-macro-F1 points.",
    ])


def load_table(reports_dir: Path = REPORTS_DIR) -> str:
    """The load test: throughput and latency per concurrency level."""
    t = _load(reports_dir / "loadtest.json")
    if t is None:
        return "_No load test yet: run `python -m absa.app.loadtest`._"
    rows = [f"| {lv['clients']} | {lv['requests']} | {lv['throughput_rps']:.1f} | {lv['p50_ms']:.0f} "
            f"| {lv['p95_ms']:.0f} | {lv['p99_ms']:.0f} | {lv['errors']} |" for lv in t["levels"]]
    return "\n".join([
        f"Model `{t['model']}`, {t['server']}, {t['cores']} cores, one (text, aspect) pair per request, "
        f"{t['arguments']['seconds']:g} s per level. Server memory {t['memory_before_mb']:.0f} MB before, "
        f"{t['memory_after_mb']:.0f} MB after; start-up to healthy {t['startup_seconds']:.1f} s.",
        "",
        "| concurrent clients | requests | requests/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ])


# A stated load profile and budget for sizing (assumptions, not measurements): steady traffic, a sudden burst,
# the p95 latency the API promises, and an assumed on-demand price of a 2-vCPU instance like the one measured.
LOAD_PROFILE = {"steady_rps": 20, "burst_rps": 200, "p95_budget_ms": 500, "hours_per_month": 730,
                "instance": "c7i.large (2 vCPU, 4 GiB)", "instance_usd_per_hour": 0.0893}


def capacity_table(reports_dir: Path = REPORTS_DIR, profile: dict = LOAD_PROFILE) -> str:
    """Containers needed for the load profile, from the best load-test level that meets the p95 budget."""
    t = _load(reports_dir / "loadtest.json")
    if t is None:
        return "_No load test yet: run `python -m absa.app.loadtest`._"
    within = [lv for lv in t["levels"] if lv["p95_ms"] is not None and lv["p95_ms"] <= profile["p95_budget_ms"]]
    if not within:
        return f"_No measured level meets the p95 budget of {profile['p95_budget_ms']} ms._"
    best = max(within, key=lambda lv: lv["throughput_rps"])
    per_task = best["throughput_rps"]
    steady = max(2, math.ceil(profile["steady_rps"] / (0.7 * per_task)))  # 70% target utilisation, 2 AZs minimum
    burst = max(steady, math.ceil(profile["burst_rps"] / per_task))
    usd = profile["instance_usd_per_hour"] * profile["hours_per_month"]
    return "\n".join([
        f"One 2-core container sustains **{per_task:.1f} requests/s** within a p95 of "
        f"{profile['p95_budget_ms']} ms (measured at {best['clients']} concurrent clients: p95 "
        f"{best['p95_ms']:.0f} ms).",
        "",
        "| load | requests/s | containers | monthly cost (USD, assumed on-demand price) |",
        "|---|---|---|---|",
        f"| steady, at 70% target utilisation, 2 AZs minimum | {profile['steady_rps']} | {steady} | {steady * usd:,.0f} |",
        f"| burst peak | {profile['burst_rps']} | {burst} | {burst * usd:,.0f} if sustained all month |",
        "",
        f"Price assumed: {profile['instance']} at ${profile['instance_usd_per_hour']}/hour, "
        f"{profile['hours_per_month']} hours a month; check current pricing for the region.",
    ])


def ablation_block(ledger: Path = MODELS_DIR / "ablation" / "results.csv") -> str:
    """The ablation ledger summarised: mean ± std over seeds per configuration."""
    from absa.src.ablation import devices, markdown_table, read_ledger, summarize  # the runner imports training code

    frame = read_ledger(ledger)
    if frame.empty:
        return "_No ablation runs yet: run `python -m absa.src.ablation`._"
    summary = summarize(frame)
    return "\n".join([
        f"{len(frame)} finished runs in `absa/models/ablation/results.csv` ({devices(frame)}). "
        "Mean ± standard deviation over seeds; the epoch is chosen on validation, the test columns are reported only.",
        "",
        markdown_table(summary),
    ])


# Issue #6's goals: test scores, mean of 3 seeds, the model chosen on validation only (targets, not results).
GOALS = {"semeval14_restaurants": {"test_acc": 88.0, "test_pn_f1": 89.5},
         "semeval14_laptops": {"test_acc": 83.0, "test_pn_f1": 85.0},
         "mams": {"test_acc": 85.5}, "twitter": {"test_acc": 76.0}}
# ... and the fast model's: MiniLM, restaurants test accuracy (mean of 3 seeds) and prediction speed on 2 cores.
FAST_GOAL = {"test_acc": 85.0, "rows_per_second": 700.0}


def fast_goal_line(models_dir: Path = MODELS_DIR, reports_dir: Path = REPORTS_DIR, goal: dict = FAST_GOAL) -> str:
    """Whether ``models_dir/fast`` meets the fast-model goal: its configuration's accuracy over seeds (from
    ``promote``) and its speed in ``benchmark_minilm.json`` (when that benchmark measured it)."""
    metrics, speed = _load(models_dir / "fast" / "metrics.json"), _load(reports_dir / "benchmark_minilm.json")
    if metrics is None or "promoted" not in metrics:
        return "Fast model: none promoted to `absa/models/fast` yet."
    accuracy = metrics["promoted"]["configuration_scores_percent"]["test_acc"]
    seeds = len(metrics["promoted"]["seeds"])
    parts = [f"restaurants test accuracy {accuracy['mean']:.2f} over {seeds} seed{'s' * (seeds != 1)} (goal ≥ {goal['test_acc']:g}: "
             f"{'met' if accuracy['mean'] >= goal['test_acc'] and seeds >= 3 else 'not met'})"]
    if speed is not None and speed["model"] == "fast":
        rate = speed["optimized_rows_per_second"]
        passes = len(speed.get("optimized_rows_per_second_passes", []))
        parts.append(f"{rate:.1f} rows/s{f' (median of {passes} passes)' if passes > 1 else ''} on {speed['n']:,} "
                     f"rows of {', '.join(speed['datasets'])} "
                     f"(goal ≥ {goal['rows_per_second']:g}: {'met' if rate >= goal['rows_per_second'] else 'not met'})")
    else:
        parts.append("speed not measured yet (`python -m absa.src.benchmark --model absa/models/fast`)")
    return "Fast model `fast`: " + "; ".join(parts) + "."


def goals_block(ledger: Path = MODELS_DIR / "ablation" / "results.csv", goals: dict = GOALS,
                models_dir: Path = MODELS_DIR, reports_dir: Path = REPORTS_DIR) -> str:
    """Per benchmark: the configuration chosen on that benchmark's validation and the general model, their test
    scores over seeds, the goal and whether the mean reaches it; then the fast model's goal."""
    from absa.src.ablation import best_per_benchmark, label, mean_std, read_ledger

    frame = read_ledger(ledger)
    table = best_per_benchmark(frame, list(goals)) if not frame.empty else None
    if table is None or table.empty:
        return "_No ablation runs yet: run `python -m absa.src.ablation`._"
    lines = ["| benchmark | goal (test, mean of 3 seeds) | configuration | seeds | test acc | test PN-F1 | goal met |",
             "|---|---|---|---|---|---|---|"]
    met_benchmarks = set()
    for _, row in table.iterrows():
        goal = goals[row["benchmark"]]
        met = all(row[f"{score}_mean"] >= target for score, target in goal.items())
        seeds = int(row["seeds"])
        verdict = ("yes" if met else "no") + ("" if seeds >= 3 else f" ({seeds} seed{'s' if seeds > 1 else ''})")
        if met and seeds >= 3:
            met_benchmarks.add(row["benchmark"])
        name = ("general model: " if row["dataset"] == "all" else "") + label(row) + f", {row['epochs']} ep"
        name += " (chosen on validation)" if row["role"] == "chosen" else ""
        shown_goal = ", ".join(f"{'acc' if score == 'test_acc' else 'PN-F1'} ≥ {target:g}"
                               for score, target in goal.items())
        lines.append(f"| {row['benchmark']} | {shown_goal} | {name} | {seeds} | {mean_std(row, 'test_acc')} "
                     f"| {mean_std(row, 'test_pn_f1')} | {verdict} |")
    lines += ["", f"**Goals met (3 seeds): {len(met_benchmarks)} of {len(goals)} benchmarks**"
                  + (f" ({', '.join(sorted(met_benchmarks))})." if met_benchmarks else "."), "",
              fast_goal_line(models_dir, reports_dir)]
    return "\n".join(lines)


def single_factor_block(ledger: Path = MODELS_DIR / "ablation" / "results.csv") -> str:
    """Each single-factor experiment against the ``main`` cell it changes one thing of."""
    from absa.src.ablation import compare_to_base, read_ledger, spread_verdict, summarize

    frame = read_ledger(ledger)
    table = compare_to_base(summarize(frame)) if not frame.empty else None
    if table is None or table.empty:
        return "_No single-factor runs yet._"
    lines = ["| dataset | changed (against its main cell) | seeds | val PN-F1 Δ | seed spread | beyond spread? "
             "| test PN-F1 Δ | test acc Δ |", "|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        lines.append(f"| {r['dataset']} | {r['changed']} | {r['seeds']} | {r['val_pn_f1 difference']:+.2f} "
                     f"| {'-' if math.isnan(r['seed spread']) else format(r['seed spread'], '.2f')} "
                     f"| {spread_verdict(r['beyond seed spread'])} "
                     f"| {r['test_pn_f1 difference']:+.2f} | {r['test_acc difference']:+.2f} |")
    return "\n".join(lines)


def paired_block(ledger: Path = MODELS_DIR / "ablation" / "results.csv",
                 grid: Path = MODELS_DIR / "ablation" / "grid.yaml") -> str:
    """Each experiment with a ``paired_with`` field in the grid against that base, seed by seed
    (``ablation.paired_experiments``, ``ablation.paired_table``)."""
    from absa.src.ablation import paired_experiments, paired_table, read_ledger

    pairs = paired_experiments(yaml.safe_load(Path(grid).read_text()))
    table = paired_table(read_ledger(ledger), pairs)
    if table.empty:
        return "_No paired runs yet._"
    lines = ["| dataset | changed | against | pairs (seeds) | val PN-F1 Δ per seed | mean Δ ± std | paired t-test p "
             "| test PN-F1 Δ | test acc Δ |", "|---|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        per_seed = ", ".join(f"{d:+.2f}" for d in r["val_pn_f1 differences"])
        std = "" if math.isnan(r["std"]) else f" ± {r['std']:.2f}"
        p = "-" if math.isnan(r["p"]) else f"{r['p']:.2f}"
        lines.append(f"| {r['dataset']} | {r['changed']} | {r['base']} | {r['pairs']} | {per_seed} "
                     f"| {r['val_pn_f1 difference']:+.2f}{std} | {p} | {r['test_pn_f1 difference']:+.2f} "
                     f"| {r['test_acc difference']:+.2f} |")
    return "\n".join(lines)


def errors_block(reports_dir: Path = REPORTS_DIR) -> str:
    """Slices and error kinds of the error-analysis notebook (``absa/reports/error_analysis.json``)."""
    e = _load(reports_dir / "error_analysis.json")
    if e is None:
        return "_No error analysis yet: execute notebooks/03_error_analysis.ipynb._"

    def num(value, digits: int = 1) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    slices = [f"| {s['slice'].replace('_', ' ')} | {s['value']} | {s['rows']:.0f} | {num(s['accuracy'])} "
              f"| {num(s['pn_macro_f1'])} |" for s in e["slices"]]
    kinds = [f"| {t['type']} | {t['errors']:.0f} | {num(t['share of errors'])} | {num(t['share of rows'])} |"
             for t in e["error_types"]]
    m = e["metrics"]
    return "\n".join([
        f"Model `{e['model']}` on the {e['dataset']} test set ({e['rows']} rows): accuracy "
        f"{100 * m['accuracy']:.2f}, PN-macro-F1 {100 * m['pn_macro_f1']:.2f}, expected calibration error "
        f"{e['ece']:.1f}%.",
        "",
        "| slice | value | rows | accuracy | PN-macro-F1 |",
        "|---|---|---|---|---|",
        *slices,
        "",
        "| errors | count | % of errors | % of rows |",
        "|---|---|---|---|",
        *kinds,
    ])


def robustness_block(reports_dir: Path = REPORTS_DIR) -> str:
    """The aspect-robustness probe (``absa/reports/robustness.json``), one row per model, dataset and probe."""
    entries = _load(reports_dir / "robustness.json")
    if not entries:
        return "_No robustness probe yet: run `python -m absa.src.robustness`._"
    lines = ["| model | weights | dataset | probe | rows | accuracy before | accuracy after | correct predictions broken |",
             "|---|---|---|---|---|---|---|---|"]
    for e in entries:
        for name, p in e["probes"].items():
            if p["rows"]:
                lines.append(f"| `{e['model']}` | {e.get('weights_fingerprint', '-')} | {e['dataset']} | {name} "
                             f"| {p['rows']} | {p['accuracy_original']:.1f} | {p['accuracy_perturbed']:.1f} "
                             f"| {p['broken_share']:.1f}% |")
    return "\n".join(lines)


def robustness_by_experiment_block(reports_dir: Path = REPORTS_DIR, name: str = "robustness_augment.json",
                                   ledger: Path = MODELS_DIR / "ablation" / "results.csv") -> str:
    """Robustness probes of ablation runs (entries named by run id), as mean ± std over each experiment's seeds, per
    dataset and probe."""
    import pandas as pd

    from absa.src.ablation import read_ledger

    entries = _load(reports_dir / name)
    if not entries:
        return f"_No probe of ablation runs yet: `python -m absa.src.robustness --model <run folder> --output {name}`._"
    runs = read_ledger(ledger).set_index("run_id")
    unknown = sorted({e["model"] for e in entries} - set(runs.index))
    if unknown:
        raise ValueError(f"{reports_dir / name}: {unknown} are not runs of the ledger {ledger}")
    frame = pd.DataFrame([{"experiment": runs.loc[e["model"], "experiment"], "seed": runs.loc[e["model"], "seed"],
                           "dataset": e["dataset"], "probe": probe, **scores}
                          for e in entries for probe, scores in e["probes"].items() if scores["rows"]])
    lines = ["| dataset | probe | experiment | seeds | rows | accuracy after | correct predictions broken |",
             "|---|---|---|---|---|---|---|"]
    for (dataset, probe, experiment), part in frame.groupby(["dataset", "probe", "experiment"], sort=False):
        lines.append(f"| {dataset} | {probe} | {experiment} | {', '.join(str(s) for s in sorted(part['seed']))} "
                     f"| {part['rows'].iloc[0]} | {part['accuracy_perturbed'].mean():.1f} ± "
                     f"{part['accuracy_perturbed'].std():.1f} | {part['broken_share'].mean():.1f} ± "
                     f"{part['broken_share'].std():.1f}% |")
    return "\n".join(lines)


def ensembles_block(reports_dir: Path = REPORTS_DIR) -> str:
    """Seed ensembles (``absa/reports/ensembles.json``): the members' scores and their ensemble's, on validation
    where the benchmark's validation file is shared by every seed, and on test."""
    entries = _load(reports_dir / "ensembles.json")
    if not entries:
        return "_No seed ensemble yet: run `python -m absa.src.ensemble`._"
    lines = ["| benchmark | cell (chosen on validation) | seeds | val PN-F1: members | ensemble | test PN-F1: members "
             "| ensemble | test acc: members | ensemble |", "|---|---|---|---|---|---|---|---|---|"]

    def spread(values: list[float]) -> str:
        return f"{sum(values) / len(values):.2f} (" + ", ".join(f"{v:.2f}" for v in values) + ")"

    for e in entries:
        members, ensemble = e["members"], e["ensemble"]
        cell = ("general model: " if e["dataset"] == "all" else "") + e["configuration"]
        validation = (f"{spread(members['val_pn_f1'])} | {ensemble['val_pn_f1']:.2f}" if "val_pn_f1" in ensemble
                      else "- | -")
        lines.append(f"| {e.get('benchmark', e['dataset'])} | {cell} | {len(e['seeds'])} | {validation} "
                     f"| {spread(members['test_pn_f1'])} | {ensemble['test_pn_f1']:.2f} | {spread(members['test_acc'])} "
                     f"| {ensemble['test_acc']:.2f} |")
    return "\n".join(lines)


BLOCKS = {"ablation": ablation_block, "goals": goals_block, "single-factor": single_factor_block,
          "paired": paired_block, "ensembles": ensembles_block, "errors": errors_block, "robustness": robustness_block,
          "robustness-augment": robustness_by_experiment_block, "results": results_table,
          "speed": speed_table, "speed-minilm": lambda: speed_table(name="benchmark_minilm.json"), "load": load_table,
          "capacity": capacity_table}


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
    """Re-write every exported model folder's card from its ``metrics.json`` (a promoted model's with the sentence
    on where it comes from), so cards follow the format of this code."""
    for name, metrics in model_metrics(models_dir).items():
        note = f"`{name}` is {promoted_summary(metrics['promoted'])}" if "promoted" in metrics else ""
        write_model_card(models_dir / name, metrics, note=note)


def main() -> None:
    write_model_cards()
    for path in (README, DEPLOYMENT, METHODOLOGY):
        if path.exists():
            path.write_text(render_file(path))
            print(f"updated {path}")


if __name__ == "__main__":
    main()
