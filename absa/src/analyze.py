"""Raw feedback in, the aspects it talks about and the sentiment towards each out.

    python -m absa.src.analyze FEEDBACK.csv --output ASPECTS.csv [--model absa/models/e2e] [--report DIR]

``FEEDBACK.csv``: any CSV with a ``text`` column (``--text_column`` for another name); its other columns (id, date,
product, ...) are carried through. ``ASPECTS.csv``: one row per aspect found, ``row,text,aspect,start,end,label,
sentiment,confidence`` and then the carried columns (one named like a
result column gets an ``input_`` prefix), in input order; ``row`` is the 0-based index of the input row,
``start``/``end`` are character offsets into that row's text. A text of any length is read sentence by sentence.
A text with no aspect gives no row; empty or blank texts are skipped and counted.

The file is read in chunks (constant memory on a large file), with a progress bar; the output is written whole or
not at all. A corpus too big for one machine runs data-parallel, one shard of chunks per process, merged into one
output in input order (``accelerate launch --num_processes N -m absa.src.analyze FEEDBACK.csv --output OUT.csv``).
``--report DIR`` adds the insight report (``absa.src.insight``): the aspects most talked about, grouped, with their
sentiment and example quotes, as plots and one HTML page. Bad input (no such file, an empty or unreadable
file, bytes that are not UTF-8, no text column) exits with status 2, a message and no output.
"""

from __future__ import annotations

import csv
import heapq
import itertools
import json
import shutil
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from accelerate import PartialState
from tqdm.auto import tqdm
from transformers import HfArgumentParser

from absa.src.extractor import DEFAULT_EXTRACTOR, Extractor
from absa.src.files import write_atomically
from absa.src.insight import AspectTally, write_report

COLUMNS = ["row", "text", "aspect", "start", "end", "label", "sentiment", "confidence"]


class FeedbackError(ValueError):
    """Input the analysis cannot read, with the message the user sees."""


@dataclass
class AnalyzeArguments:
    """What to read, with which model, and where the results go."""

    output: str = field(metadata={"help": "the aspects CSV to write"})
    model: str = field(default=str(DEFAULT_EXTRACTOR), metadata={"help": "exported tagger folder"})
    report: str | None = field(default=None, metadata={"help": "write the insight report (HTML, PNG) into DIR"})
    text_column: str = field(default="text", metadata={"help": "the column that holds the feedback"})
    chunk_size: int = field(default=1000, metadata={"help": "rows read and analysed at a time"})
    batch_size: int = field(default=32, metadata={"help": "sentences per forward pass"})

    def __post_init__(self) -> None:
        for name in ("chunk_size", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)!r}")


def check_feedback(path: Path, text_column: str) -> tuple[list[str], int]:
    """Refuse a file the analysis cannot read, before anything is written; returns its columns and its number of
    lines after the header (for the progress bar)."""
    if not path.exists():
        raise FeedbackError(f"{path}: no such file")
    if path.is_dir():
        raise FeedbackError(f"{path}: a directory, not a CSV file")
    try:
        with open(path, encoding="utf-8") as handle:
            header = handle.readline()
            lines = sum(1 for _ in handle)
    except PermissionError:
        raise FeedbackError(f"{path}: not readable (permission denied)") from None
    except UnicodeDecodeError as err:
        raise FeedbackError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start}); save it as UTF-8") from None
    if not header.strip():
        raise FeedbackError(f"{path}: empty file (a CSV with a header line and a {text_column!r} column is needed)")
    columns = next(csv.reader([header]))
    if text_column not in columns:
        raise FeedbackError(f"{path}: no {text_column!r} column (columns: {', '.join(columns)})")
    return columns, lines


def aspect_rows(chunk: pd.DataFrame, found: list[list[dict]], carried: list[str], text_column: str) -> list[list]:
    rows = []
    for (row, record), aspects in zip(chunk.iterrows(), found):
        for aspect in aspects:
            rows.append([row, record[text_column], *(aspect[k] for k in COLUMNS[2:])] + [record[c] for c in carried])
    return rows


def analyze(args: AnalyzeArguments, feedback: str) -> dict:
    """Analyse ``feedback`` into ``args.output`` (and ``args.report``); returns the counts it printed.

    Under ``accelerate launch`` each process analyses every n-th chunk into its own shard; the main process then
    merges the shards in input order into the one output (and report)."""
    path = Path(feedback)
    columns, lines = check_feedback(path, args.text_column)
    carried = [c for c in columns if c != args.text_column]
    output = Path(args.output)
    if output.is_dir():
        raise FeedbackError(f"--output {output} is a directory; name a CSV file")
    if output.resolve() == path.resolve():
        raise FeedbackError(f"--output {output} is the input file; name another one")
    state = PartialState()
    extractor = Extractor(args.model, batch_size=args.batch_size)
    tally = AspectTally()
    counts = {"rows": 0, "skipped_empty": 0, "without_aspect": 0, "aspects": 0}
    header = COLUMNS + [f"input_{c}" if c in COLUMNS else c for c in carried]

    def write_rows(writer) -> None:
        """This process's chunks (all of them when it is the only one), analysed into ``writer``."""
        reader = pd.read_csv(
            path, dtype=str, keep_default_na=False, chunksize=args.chunk_size, encoding="utf-8", on_bad_lines="error"
        )
        bar = tqdm(total=lines, unit="row", disable=not state.is_main_process)
        for index, chunk in enumerate(reader):
            bar.update(len(chunk))
            if index % state.num_processes != state.process_index:
                continue
            blank = chunk[args.text_column].str.strip() == ""
            counts["rows"] += len(chunk)
            counts["skipped_empty"] += int(blank.sum())
            kept = chunk[~blank]
            found = extractor.extract(kept[args.text_column].tolist())
            counts["without_aspect"] += sum(not aspects for aspects in found)
            counts["aspects"] += sum(len(aspects) for aspects in found)
            tally.add(kept[args.text_column].tolist(), found)
            writer.writerows(aspect_rows(kept, found, carried, args.text_column))
        bar.close()

    def write(temporary: str) -> None:
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            write_rows(writer)

    try:
        if state.num_processes == 1:
            write_atomically(output, write)
        else:
            counts = analyze_in_shards(state, output, header, write_rows, counts, tally)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise FeedbackError(f"{path}: not a readable CSV ({str(err).strip()})") from None
    if args.report and state.is_main_process:
        write_report(tally, args.report, extractor, counts)
    return counts


def analyze_in_shards(state: PartialState, output: Path, header: list[str], write_rows, counts: dict, tally) -> dict:
    """Each process writes its rows and counts to a shard beside ``output``; after all have finished, the main
    process merges the shards by input row (each is in input order already) into ``output`` and ``tally`` and
    removes them. An error in any process is raised in every process, after the barrier, so none waits forever."""
    shards = output.parent / f".{output.name}.shards"
    shards.mkdir(parents=True, exist_ok=True)
    mine = shards / f"{state.process_index}.csv"
    error = None
    try:
        with open(mine, "w", newline="", encoding="utf-8") as handle:
            write_rows(csv.writer(handle))
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        error = str(err).strip() or type(err).__name__
    (shards / f"{state.process_index}.json").write_text(json.dumps({"counts": counts, "error": error}))
    state.wait_for_everyone()
    results = [json.loads((shards / f"{i}.json").read_text()) for i in range(state.num_processes)]
    errors = [r["error"] for r in results if r["error"]]
    total = {key: sum(r["counts"][key] for r in results) for key in counts}
    if state.is_main_process and not errors:

        def merge(temporary: str) -> None:
            with ExitStack() as stack, open(temporary, "w", newline="", encoding="utf-8") as handle:
                readers = [
                    csv.reader(stack.enter_context(open(shards / f"{i}.csv", newline="", encoding="utf-8")))
                    for i in range(state.num_processes)
                ]
                writer = csv.writer(handle)
                writer.writerow(header)
                merged = heapq.merge(*readers, key=lambda r: int(r[0]))  # each shard is in input order
                for _, group in itertools.groupby(merged, key=lambda r: r[0]):
                    group = list(group)
                    writer.writerows(group)
                    found = [
                        {"aspect": r[2], "start": int(r[3]), "end": int(r[4]), "label": int(r[5]), "sentiment": r[6]}
                        for r in group
                    ]
                    tally.add([group[0][1]], [found])

        write_atomically(output, merge)
    state.wait_for_everyone()
    if state.is_main_process:
        shutil.rmtree(shards, ignore_errors=True)
    if errors:
        raise pd.errors.ParserError(errors[0])
    return total


def parse(argv: list[str] | None = None) -> tuple[AnalyzeArguments, str]:
    parser = HfArgumentParser(AnalyzeArguments)
    parser.add_argument("feedback", help="CSV file with a text column")
    try:
        args, rest = parser.parse_args_into_dataclasses(argv)
    except ValueError as err:
        parser.error(str(err))
    return args, rest.feedback


def main(argv: list[str] | None = None) -> int:
    args, feedback = parse(argv)
    try:
        counts = analyze(args, feedback)
    except FeedbackError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(
        f"{counts['rows']} rows: {counts['aspects']} aspects found; {counts['without_aspect']} texts without an "
        f"aspect; {counts['skipped_empty']} empty texts skipped. Written to {args.output}"
        + (f"; report in {args.report}" if args.report else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
