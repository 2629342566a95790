import json

import pytest

from absa.src.config import TrainConfig
from absa.src.records import RunRecord
from conftest import dry_record


def test_a_record_round_trips_through_its_folder(tmp_path):
    record = dry_record(TrainConfig(seed=7), test={"pn_macro_f1": 0.6, "accuracy": 0.7})
    record.save(tmp_path)
    content = json.loads((tmp_path / "metrics.json").read_text())
    assert "promoted" not in content  # only a promoted model says where it comes from
    assert RunRecord.load(tmp_path) == record
    record.promoted = {"run_id": "abc"}
    record.save(tmp_path)
    assert RunRecord.load(tmp_path).promoted == {"run_id": "abc"}


def test_unknown_fields_and_missing_folders_are_errors(tmp_path):
    content = dry_record(TrainConfig()).to_dict()
    with pytest.raises(ValueError, match="warmup_steps"):
        RunRecord.from_dict({**content, "warmup_steps": 3})
    with pytest.raises(FileNotFoundError, match="not an exported model folder"):
        RunRecord.load(tmp_path)
