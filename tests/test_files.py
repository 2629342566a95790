import hashlib
import json
import os

import pytest

from absa.src.files import file_sha256, read_json, upsert_json_entry, write_atomically, write_json, write_text


def test_upsert_json_entry_replaces_the_entry_with_the_same_keys(tmp_path):
    path = tmp_path / "report.json"
    upsert_json_entry(path, {"model": "a", "dataset": "d", "score": 1}, keys=("model", "dataset"))
    upsert_json_entry(path, {"model": "b", "dataset": "d", "score": 2}, keys=("model", "dataset"))
    upsert_json_entry(path, {"model": "a", "dataset": "d", "score": 3}, keys=("model", "dataset"))
    assert json.loads(path.read_text()) == [
        {"model": "b", "dataset": "d", "score": 2},
        {"model": "a", "dataset": "d", "score": 3},
    ]


def test_upsert_json_entry_reads_dotted_keys_from_nested_values(tmp_path):
    path = tmp_path / "rebuilds.json"
    keys = ("folder", "rebuilt.cpu")
    upsert_json_entry(path, {"folder": "fast", "rebuilt": {"cpu": "EPYC", "score": 1}}, keys)
    upsert_json_entry(path, {"folder": "fast", "rebuilt": {"cpu": "Xeon", "score": 2}}, keys)  # another machine: kept
    upsert_json_entry(path, {"folder": "fast", "rebuilt": {"cpu": "EPYC", "score": 3}}, keys)  # same one: replaced
    assert json.loads(path.read_text()) == [
        {"folder": "fast", "rebuilt": {"cpu": "Xeon", "score": 2}},
        {"folder": "fast", "rebuilt": {"cpu": "EPYC", "score": 3}},
    ]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = write_json(tmp_path / "out" / "result.json", {"old": True})  # parents are created
    assert read_json(path) == {"old": True}

    def half_then_crash(temporary: str) -> None:
        with open(temporary, "w") as handle:
            handle.write('{"new": ')
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomically(path, half_then_crash)
    assert read_json(path) == {"old": True}
    assert sorted(p.name for p in path.parent.iterdir()) == ["result.json"]


def test_written_files_get_the_mode_of_any_new_file(tmp_path):
    old = os.umask(0o022)
    try:
        assert (write_text(tmp_path / "a.txt", "x").stat().st_mode & 0o777) == 0o644
        os.umask(0o077)
        assert (write_text(tmp_path / "b.txt", "x").stat().st_mode & 0o777) == 0o600
    finally:
        os.umask(old)


def test_read_json_of_a_missing_file_is_the_default_and_digests_match_hashlib(tmp_path):
    assert read_json(tmp_path / "none.json", []) == []
    path = write_text(tmp_path / "text.txt", "é" * 5000)
    assert file_sha256(path) == hashlib.sha256(("é" * 5000).encode()).hexdigest()
