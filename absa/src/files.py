"""Files written whole or not at all: one atomic writer for every results file, JSON records and digests."""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Call ``write(temporary_path)`` on a fresh file beside ``path``, then rename it into place, so a reader never
    sees half a file and a failed write leaves the old one. The file gets the permissions of any new file (0666
    less the umask), not the private mode of a temporary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(temporary)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically."""
    return write_atomically(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))


def write_json(path: str | os.PathLike, content: object) -> Path:
    """Write ``content`` as indented JSON, atomically."""
    return write_text(path, json.dumps(content, indent=2) + "\n")


def append_csv_row(path: str | os.PathLike, row: dict, columns: list[str]) -> Path:
    """Append one row to a CSV ledger (with the header if the file is new) and flush it to disk, so a row is
    written only whole and survives an interrupted run."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        if new:
            writer.writeheader()
        writer.writerow(row)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def read_json(path: str | os.PathLike, default: object = None) -> object:
    """The JSON content of ``path``, or ``default`` when there is no such file."""
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else default


def upsert_json_entry(path: str | os.PathLike, entry: dict, keys: tuple[str, ...]) -> Path:
    """Add ``entry`` to the JSON list at ``path``, replacing any entry with the same values of ``keys`` (a dotted key,
    ``"rebuilt.cpu"``, reads a nested value)."""

    def identity(e: dict) -> tuple:
        return tuple(functools.reduce(lambda value, part: value.get(part), key.split("."), e) for key in keys)

    entries = read_json(path, [])
    return write_json(path, [e for e in entries if identity(e) != identity(entry)] + [entry])


def file_sha256(path: str | os.PathLike) -> str:
    """The hex sha256 of a file's bytes."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
