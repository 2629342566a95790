"""The insight report over found aspects: what customers talk about most, and how they feel about it.

Aspect terms are counted case- and space-insensitively; terms that mean the same thing (waiter / staff / service)
are grouped by agglomerative clustering (average linkage) of the tagger's own backbone's sentence embeddings (mean
pooling, as the sentence-transformers checkpoints were trained), two groups joining while their mean cosine
similarity is at least ``GROUP_SIMILARITY``. Written into the report folder: ``aspects.png`` (mentions per group, by
sentiment), ``net_sentiment.png`` (positive minus negative share), ``report.json`` (the numbers) and ``index.html``,
one page that opens in a browser without a server.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sklearn.cluster import AgglomerativeClustering
from transformers import AutoModel

from absa.src.backbones import resolve_backbone
from absa.src.data import LABELS
from absa.src.files import write_atomically, write_json, write_text
from absa.src.modeling import load_tokenizer
from absa.src.predict import sentence_spans

GROUP_SIMILARITY = 0.45  # mean cosine similarity at which two groups of terms join (waiter + staff, not + pasta)
MAX_TERMS = 300  # the most mentioned terms are grouped; rarer ones are left out of the report (not of the CSV)
EXAMPLES = 3
QUOTE_CHARS = 220
TEMPLATES = Path(__file__).parent / "templates"
COLORS = {"negative": "#d62728", "neutral": "#9e9e9e", "positive": "#2ca02c"}


def normalize(term: str) -> str:
    return re.sub(r"\s+", " ", term.strip().lower())


def quote(text: str, start: int, end: int) -> str:
    """The sentence that holds the span, cut to ``QUOTE_CHARS`` around it."""
    sentence = next(((s, e) for s, e in sentence_spans(text) if s <= start < e), (0, len(text)))
    begin, finish = sentence
    if finish - begin > QUOTE_CHARS:
        begin = max(begin, start - QUOTE_CHARS // 2)
        finish = min(finish, begin + QUOTE_CHARS)
    return ("…" if begin > sentence[0] else "") + text[begin:finish].strip() + ("…" if finish < sentence[1] else "")


class AspectTally:
    """Running counts per aspect term and label, and a few example quotes per term (bounded memory)."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.spelling: dict[str, Counter] = defaultdict(Counter)
        self.examples: dict[str, list[tuple[int, str]]] = defaultdict(list)

    def add(self, texts: list[str], found: list[list[dict]]) -> None:
        for text, aspects in zip(texts, found):
            for aspect in aspects:
                term = normalize(aspect["aspect"])
                self.counts[term][aspect["sentiment"]] += 1
                self.spelling[term][aspect["aspect"]] += 1
                examples = self.examples[term]
                # keep one quote per label first, so a term's examples show both sides where there are both
                if len(examples) < EXAMPLES and all(label != aspect["label"] for label, _ in examples):
                    examples.append((aspect["label"], quote(text, aspect["start"], aspect["end"])))

    def terms(self, limit: int = MAX_TERMS) -> list[str]:
        return sorted(self.counts, key=lambda t: (-sum(self.counts[t].values()), t))[:limit]


@torch.inference_mode()
def embed(terms: list[str], backbone: str, batch_size: int = 64) -> np.ndarray:
    """Unit-length sentence embeddings of ``terms`` from the backbone encoder (mean pooling over tokens)."""
    source = resolve_backbone(backbone)
    tokenizer, model = load_tokenizer(source), AutoModel.from_pretrained(source).eval()
    vectors = []
    for start in range(0, len(terms), batch_size):
        batch = tokenizer(terms[start : start + batch_size], padding=True, return_tensors="pt")
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        vectors.append(torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy())
    return np.concatenate(vectors)


def group_terms(terms: list[str], vectors: np.ndarray, similarity: float = GROUP_SIMILARITY) -> list[int]:
    """A group id per term: average-linkage clusters whose mean cosine similarity is at least ``similarity``."""
    if len(terms) < 2:
        return [0] * len(terms)
    clustering = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=1 - similarity
    )
    return clustering.fit_predict(vectors).tolist()


def summarize(tally: AspectTally, groups: list[int], terms: list[str]) -> list[dict]:
    """One entry per group of terms, most mentioned first: its name (its most mentioned term), terms, mentions
    per sentiment, negative and positive shares, and example quotes."""
    members: dict[int, list[str]] = defaultdict(list)
    for term, group in zip(terms, groups):
        members[group].append(term)
    summary = []
    for names in members.values():
        counts = sum((tally.counts[t] for t in names), Counter())
        mentions = sum(counts.values())
        examples = [(label, text) for t in names for label, text in tally.examples[t]]
        picked = [next((e for e in examples if e[0] == label), None) for label in (0, 2, 1)]
        quotes = [e for e in picked if e][:EXAMPLES]
        summary.append(
            {
                "group": tally.spelling[names[0]].most_common(1)[0][0],
                "terms": [tally.spelling[t].most_common(1)[0][0] for t in names],
                "mentions": mentions,
                **{name: counts[name] for name in LABELS},
                "negative_share": counts["negative"] / mentions,
                "positive_share": counts["positive"] / mentions,
                "examples": [{"sentiment": LABELS[label], "quote": text} for label, text in quotes],
            }
        )
    return sorted(summary, key=lambda g: (-g["mentions"], g["group"]))


def plot(summary: list[dict], folder: Path, top: int = 15) -> None:
    """``aspects.png`` and ``net_sentiment.png`` for the ``top`` most mentioned groups."""
    frame = pd.DataFrame(summary[:top])
    if frame.empty:
        return
    sns.set_theme(style="whitegrid")
    height = 1.2 + 0.38 * len(frame)
    figure, axis = plt.subplots(figsize=(8, height))
    left = np.zeros(len(frame))
    for name in LABELS:
        axis.barh(frame["group"], frame[name], left=left, color=COLORS[name], label=name)
        left += frame[name].to_numpy()
    axis.invert_yaxis()
    axis.set(xlabel="mentions", ylabel="", title="What customers talk about, by sentiment")
    axis.legend(loc="lower right")
    figure.tight_layout()
    write_atomically(folder / "aspects.png", lambda t: figure.savefig(t, dpi=120, format="png"))
    plt.close(figure)
    net = 100 * (frame["positive_share"] - frame["negative_share"])
    figure, axis = plt.subplots(figsize=(8, height))
    axis.barh(frame["group"], net, color=[COLORS["positive"] if v >= 0 else COLORS["negative"] for v in net])
    axis.axvline(0, color="black", linewidth=0.8)
    axis.invert_yaxis()
    axis.set(xlabel="% positive − % negative mentions", ylabel="", xlim=(-100, 100), title="Net sentiment")
    figure.tight_layout()
    write_atomically(folder / "net_sentiment.png", lambda t: figure.savefig(t, dpi=120, format="png"))
    plt.close(figure)


def write_report(tally: AspectTally, folder: str | os.PathLike, extractor, counts: dict) -> Path:
    """Group, plot and write the report into ``folder``; returns the HTML page's path."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"--report {folder} is a file; name a folder")
    folder.mkdir(parents=True, exist_ok=True)
    terms = tally.terms()
    backbone = extractor.config["backbone"]
    groups = group_terms(terms, embed(terms, backbone)) if terms else []
    summary = summarize(tally, groups, terms)
    plot(summary, folder)
    details = {
        "counts": counts,
        "model": Path(extractor.model_dir).resolve().name,
        "grouping": {"backbone": backbone, "linkage": "average", "min_mean_cosine_similarity": GROUP_SIMILARITY},
        "terms_grouped": len(terms),
        "distinct_terms": len(tally.counts),
        "groups": summary,
    }
    write_json(folder / "report.json", details)
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    page = environment.get_template("insight_report.html").render(**details, colors=COLORS)
    return write_text(folder / "index.html", page)
