"""Every committed metrics.json is a RunRecord, and reading then writing it changes nothing."""

import json

import pytest

from absa.src.records import RunRecord
from conftest import REPO

FILES = sorted((REPO / "absa" / "models").glob("*/metrics.json"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.parent.name)
def test_committed_metrics_are_run_records(path):
    content = json.loads(path.read_text())
    record = RunRecord.load(path.parent)
    assert {key: value for key, value in record.to_dict().items() if value is not None or key in content} == content
