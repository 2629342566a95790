"""Files -> validated datasets: (text, aspect) CSVs and end-to-end JSONL, label coding, the grouped validation split.

File format: ``text,aspect,label`` with optional ``start,end`` aspect offsets; other columns are ignored.
Labels are 0 = Negative, 1 = Neutral, 2 = Positive, or those words in any case.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
from pathlib import Path

import pandas as pd
from datasets import Dataset, DatasetDict
from sklearn.model_selection import StratifiedGroupKFold

logger = logging.getLogger(__name__)

LABELS = ("negative", "neutral", "positive")
LABEL2ID = {name: i for i, name in enumerate(LABELS)}
ID2LABEL = dict(enumerate(LABELS))
NEGATIVE, NEUTRAL, POSITIVE = (LABEL2ID[name] for name in LABELS)
BENCHMARKS = ("semeval14_restaurants", "semeval14_laptops", "mams", "twitter")
# The dataset name of the general model: every benchmark's splits together (see ``load_all_benchmarks``).
ALL = "all"

PACKAGE_DIR = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = PACKAGE_DIR / "data"
_SHOWN_ROWS = 10


class DataValidationError(ValueError):
    """A data file that cannot be used: the message names the file and the offending rows."""


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The data directory: ``path`` if given, else ``$ABSA_DATA_DIR``, else ``absa/data``."""
    return Path(path or os.environ.get("ABSA_DATA_DIR") or DEFAULT_DATA_DIR)


def _rows(mask: pd.Series) -> str:
    """File line numbers (the header is line 1) of the rows where ``mask`` holds, shortened."""
    lines = [str(i + 2) for i in mask[mask].index[:_SHOWN_ROWS]]
    more = int(mask.sum()) - len(lines)
    return ", ".join(lines) + (f" and {more} more" if more > 0 else "")


def _parse_label(value: str) -> int | None:
    value = value.strip().lower()
    if value in LABEL2ID:
        return LABEL2ID[value]
    if value in {"0", "1", "2", "0.0", "1.0", "2.0"}:
        return int(float(value))
    return None


def ragged_rows(path: Path) -> None:
    """Raise DataValidationError if a row has more or fewer fields than the header (an unquoted comma in a text
    would otherwise shift or drop part of it)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        bad = [(reader.line_num, len(row)) for row in reader if row and len(row) != len(header)]
    if bad:
        shown = ", ".join(f"line {line} has {n}" for line, n in bad[:_SHOWN_ROWS])
        more = f" and {len(bad) - _SHOWN_ROWS} more" if len(bad) > _SHOWN_ROWS else ""
        raise DataValidationError(
            f"{path}: the header has {len(header)} fields but {shown}{more} (quote texts that contain commas)"
        )


def read_frame(path: str | os.PathLike, require_labels: bool = True) -> pd.DataFrame:
    """Read and validate one ABSA CSV file into a DataFrame with columns text, aspect[, label, start, end].

    Raises DataValidationError for an unreadable file, missing columns, empty text or aspect, or an unknown
    label. Aspects not found in their text and exact duplicate rows are logged as warnings and kept.
    A file without a ``label`` column is accepted when ``require_labels`` is False.
    """
    path = Path(path)
    try:
        ragged_rows(path)
        # keep_default_na=False: aspects such as "nan" or "null" are words, not missing values; index_col=False:
        # never take a column for the index.
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, index_col=False)
    except FileNotFoundError:
        raise DataValidationError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataValidationError(f"{path}: is a directory, not a CSV file") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as err:
        raise DataValidationError(f"{path}: cannot be read as CSV ({err})") from None

    frame.columns = [str(c).strip().lower() for c in frame.columns]
    required = ["text", "aspect"] + (["label"] if require_labels else [])
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(frame.columns) or 'none'} "
            "(expected text,aspect,label with optional start,end)"
        )
    if frame.empty:
        raise DataValidationError(f"{path}: no data rows")

    problems = []
    for column in ("text", "aspect"):
        empty = frame[column].str.strip() == ""
        if empty.any():
            problems.append(f"empty {column} in {int(empty.sum())} row(s) at line(s) {_rows(empty)}")
    keep = [c for c in ("text", "aspect", "label", "start", "end") if c in frame.columns]
    frame = frame[keep].copy()
    if "label" in frame.columns:
        labels = frame["label"].map(_parse_label)
        unknown = labels.isna()
        if unknown.any():
            values = sorted(set(frame.loc[unknown, "label"]))[:5]
            problems.append(
                f"unknown label(s) {values} in {int(unknown.sum())} row(s) at line(s) {_rows(unknown)} "
                "(use 0/1/2 or negative/neutral/positive)"
            )
        frame["label"] = labels
    if problems:
        raise DataValidationError(f"{path}: " + "; ".join(problems))
    if "label" in frame.columns:
        frame["label"] = frame["label"].astype(int)
    for column in ("start", "end"):
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(-1).astype(int)

    not_found = ~frame.apply(lambda r: r["aspect"].lower() in r["text"].lower(), axis=1)
    if not_found.any():
        logger.warning(
            "%s: aspect not found in text in %d row(s), kept (lines %s)", path, not_found.sum(), _rows(not_found)
        )
    duplicated = frame.duplicated(keep="first")
    if duplicated.any():
        logger.warning("%s: %d exact duplicate row(s), kept (lines %s)", path, duplicated.sum(), _rows(duplicated))
    return frame.reset_index(drop=True)


def load_file(path: str | os.PathLike, require_labels: bool = True) -> Dataset:
    """Read and validate one CSV file into a ``datasets.Dataset`` (see ``read_frame``)."""
    return Dataset.from_pandas(read_frame(path, require_labels), preserve_index=False)


def grouped_split(frame: pd.DataFrame, val_size: float = 0.1, seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split off a validation part, stratified by label and grouped by sentence (no text on both sides)."""
    n_splits = max(2, round(1 / val_size))
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    train_idx, val_idx = next(splitter.split(frame, frame["label"], groups=frame["text"]))
    return frame.iloc[train_idx].reset_index(drop=True), frame.iloc[val_idx].reset_index(drop=True)


def load_benchmark(
    name: str, root: str | os.PathLike | None = None, val_size: float = 0.1, seed: int = 42
) -> DatasetDict:
    """Load ``<data dir>/<name>/{train,validation,test}.csv`` as a DatasetDict with all three splits.

    Without a ``validation.csv`` the validation split comes off the training file via ``grouped_split``. A name
    ``e2e/<set>[+<set>...]`` gives the (text, aspect) pairs of the end-to-end sets (``e2e_pairs``) with their fixed
    splits, and several sets a ``benchmark`` column: the classifier of a pipeline chosen on the end-to-end
    validation files must never have seen those sentences, which the SemEval-2014 training files hold.
    """
    if name.startswith(f"{E2E}/"):
        sets = name.removeprefix(f"{E2E}/").split("+")
        frames = {"train": [], "validation": [], "test": []}
        for part in sets:
            for split, sentences in load_e2e(part, root).items():
                pairs = e2e_pairs(sentences)
                frames[split].append(pairs.assign(benchmark=f"{E2E}/{part}") if len(sets) > 1 else pairs)
        return DatasetDict(
            {k: Dataset.from_pandas(pd.concat(v, ignore_index=True), preserve_index=False) for k, v in frames.items()}
        )
    folder = data_dir(root) / name
    if not folder.is_dir():
        raise DataValidationError(
            f"{folder}: no such dataset folder (known benchmarks: {', '.join(BENCHMARKS)}; "
            "run `python -m absa.src.data link` to link ../shared/data into absa/data)"
        )
    train = read_frame(folder / "train.csv")
    if (folder / "validation.csv").exists():
        validation = read_frame(folder / "validation.csv")
    else:
        train, validation = grouped_split(train, val_size, seed)
    splits = {"train": train, "validation": validation, "test": read_frame(folder / "test.csv")}
    return DatasetDict({k: Dataset.from_pandas(v, preserve_index=False) for k, v in splits.items()})


def _normalized(texts: pd.Series) -> pd.Series:
    return texts.str.lower().str.split().str.join(" ")


def _evaluated(train: pd.DataFrame, evaluated: list[pd.DataFrame]) -> pd.Series:
    """Which training rows have a sentence (case and spacing ignored) that is also in one of the ``evaluated``
    frames (validation and test splits): such rows are never trained on."""
    held_out = set().union(*(set(_normalized(frame["text"])) for frame in evaluated))
    return _normalized(train["text"]).isin(held_out)


def add_training_rows(
    splits: DatasetDict, names: list[str], root: str | os.PathLike | None = None
) -> tuple[DatasetDict, dict]:
    """Append the train.csv rows of other benchmarks to the training split only (joint training).

    Rows whose sentence (case and spacing ignored) is in the validation or test split are dropped, so that no
    evaluated sentence is ever trained on: MAMS and SemEval-2014 restaurants come from the same review corpus.
    Returns the new splits and, per benchmark, how many rows were added and dropped.
    """
    evaluated = [splits[split].to_pandas() for split in ("validation", "test") if split in splits]
    frames, counts = [splits["train"].to_pandas()], {}
    for name in names:
        extra = read_frame(data_dir(root) / name / "train.csv")
        overlap = _evaluated(extra, evaluated)
        frames.append(extra[~overlap][frames[0].columns.intersection(extra.columns)])
        counts[name] = {"added": int((~overlap).sum()), "dropped_overlap": int(overlap.sum())}
    train = pd.concat(frames, ignore_index=True)
    return DatasetDict({**splits, "train": Dataset.from_pandas(train, preserve_index=False)}), counts


def load_all_benchmarks(
    root: str | os.PathLike | None = None, val_size: float = 0.1, seed: int = 42
) -> tuple[DatasetDict, dict]:
    """Every benchmark at once, for one general model: each split is the union of the benchmarks' splits (as
    ``load_benchmark`` gives them) with a ``benchmark`` column naming where each row comes from.

    Training rows whose sentence (case and spacing ignored) is in any validation or test split are dropped: MAMS and
    SemEval-2014 restaurants come from one review corpus. Returns the splits and, per benchmark, how many training
    rows were kept and dropped.
    """
    frames = {"train": [], "validation": [], "test": []}
    for name in BENCHMARKS:
        for split, data in load_benchmark(name, root, val_size, seed).items():
            frames[split].append(data.to_pandas().assign(benchmark=name))
    splits = {split: pd.concat(parts, ignore_index=True) for split, parts in frames.items()}
    train = splits["train"]
    overlap = _evaluated(train, [splits["validation"], splits["test"]])
    counts = {
        name: {
            "kept": int((~overlap & (train["benchmark"] == name)).sum()),
            "dropped_overlap": int((overlap & (train["benchmark"] == name)).sum()),
        }
        for name in BENCHMARKS
    }
    splits["train"] = train[~overlap].reset_index(drop=True)
    return DatasetDict({k: Dataset.from_pandas(v, preserve_index=False) for k, v in splits.items()}), counts


E2E = "e2e"  # the end-to-end sets: a sentence with all of its aspects, one JSON object a line
E2E_BENCHMARKS = ("rest14", "laptop14")


def read_e2e(path: str | os.PathLike) -> list[dict]:
    """Read and validate one end-to-end JSONL file: ``{"text": ..., "aspects": [{"term", "start", "end",
    "label"}]}`` a line, the offsets pointing at the term in the text. Raises DataValidationError naming the lines
    that are not so; a sentence with no aspect is a valid sentence."""
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found")
    sentences, problems = [], []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text, aspects = row["text"], row["aspects"]
                if not isinstance(text, str) or not text.strip() or not isinstance(aspects, list):
                    raise ValueError("text must be a non-empty string and aspects a list")
                for aspect in aspects:
                    start, end, label = aspect["start"], aspect["end"], aspect["label"]
                    if text[start:end] != aspect["term"] or not 0 <= start < end <= len(text):
                        raise ValueError(f"offsets {start}:{end} do not hold {aspect['term']!r}")
                    if label not in (NEGATIVE, NEUTRAL, POSITIVE):
                        raise ValueError(f"unknown label {label!r}")
            except (ValueError, KeyError, TypeError) as err:
                problems.append(f"line {number}: {err}")
                continue
            sentences.append({"text": text, "aspects": aspects})
    if problems:
        raise DataValidationError(
            f"{path}: "
            + "; ".join(problems[:_SHOWN_ROWS])
            + (f" and {len(problems) - _SHOWN_ROWS} more" if len(problems) > _SHOWN_ROWS else "")
        )
    if not sentences:
        raise DataValidationError(f"{path}: no sentences")
    return sentences


def load_e2e(name: str, root: str | os.PathLike | None = None) -> dict[str, list[dict]]:
    """The train, validation and test sentences of ``<data dir>/e2e/<name>/``."""
    folder = data_dir(root) / E2E / name
    return {split: read_e2e(folder / f"{split}.jsonl") for split in ("train", "validation", "test")}


def e2e_pairs(sentences: list[dict]) -> pd.DataFrame:
    """The (text, aspect, label, start, end) rows of end-to-end sentences, one per aspect, in order; sentences with
    no aspect give none."""
    rows = [
        {"text": s["text"], "aspect": a["term"], "label": a["label"], "start": a["start"], "end": a["end"]}
        for s in sentences
        for a in s["aspects"]
    ]
    return pd.DataFrame(rows, columns=["text", "aspect", "label", "start", "end"])


def link_benchmarks(
    source: str | os.PathLike, target: str | os.PathLike | None = None, default_test: str = "semeval14_restaurants"
) -> list[Path]:
    """Symlink each benchmark folder of ``source`` into the data directory, plus ``test.csv`` of ``default_test``.

    Returns the links made. Existing links are replaced; real files or folders are left alone.
    """
    source, target = Path(source).resolve(), data_dir(target)
    if not source.is_dir():
        raise DataValidationError(f"{source}: no such data folder")
    target.mkdir(parents=True, exist_ok=True)
    pairs = [(p, target / p.name) for p in sorted(source.iterdir()) if (p / "train.csv").exists()]
    if (source / E2E).is_dir():
        pairs.append((source / E2E, target / E2E))
    if (source / default_test / "test.csv").exists():
        pairs.append((source / default_test / "test.csv", target / "test.csv"))
    made = []
    for src, link in pairs:
        if link.is_symlink():
            link.unlink()
        if link.exists():
            logger.warning("%s exists and is not a link; left alone", link)
            continue
        link.symlink_to(src)
        made.append(link)
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description="Link the benchmark data into the data directory.")
    parser.add_argument("command", choices=["link"])
    parser.add_argument(
        "--source",
        default=str(PACKAGE_DIR.parents[1] / "shared" / "data"),
        help="folder holding the benchmark folders (default: ../shared/data beside the repo)",
    )
    parser.add_argument("--data-dir", default=None, help="target data directory (default: $ABSA_DATA_DIR or absa/data)")
    args = parser.parse_args()
    for link in link_benchmarks(args.source, args.data_dir):
        print(f"{link} -> {os.readlink(link)}")


if __name__ == "__main__":
    main()
