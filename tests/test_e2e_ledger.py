import shutil

import pytest

from absa.src import e2e_ledger
from absa.src.records import RunRecord


def test_a_tagger_run_becomes_one_row_once_and_seeds_are_summarised(tiny_tagger, tmp_path):
    from absa.src.report import e2e_seeds_block

    ledger = tmp_path / "e2e.csv"
    again = tmp_path / "seed2"
    shutil.copytree(tiny_tagger, again)
    record = RunRecord.load(again)
    record.config["seed"] += 1
    record.validation["e2e"]["f1"] = record.validation["e2e"]["f1"] + 0.1
    record.save(again)
    assert len(e2e_ledger.add_runs([tiny_tagger, again], ledger)) == 2
    assert e2e_ledger.add_runs([tiny_tagger, again], ledger) == []  # repeated: nothing added twice
    frame = e2e_ledger.read_ledger(ledger)
    assert list(frame["seed"]) == [record.config["seed"] - 1, record.config["seed"]]
    first = RunRecord.load(tiny_tagger)
    assert frame.loc[0, "val_e2e_f1"] == pytest.approx(100 * first.validation["e2e"]["f1"])
    summary = e2e_ledger.summarize(frame)
    assert len(summary) == 1 and summary.loc[0, "seeds"] == 2
    assert summary.loc[0, "val_e2e_f1_mean"] == pytest.approx(100 * first.validation["e2e"]["f1"] + 5)
    assert summary.loc[0, "val_e2e_f1_std"] == pytest.approx(10 / 2**0.5)
    block = e2e_seeds_block(ledger)
    assert "| 2 " in block and "±" in block
    assert "≥ 76" in e2e_seeds_block(ledger, goals={"rest14": 76.0})


def test_per_benchmark_test_scores_of_a_joint_run_get_their_own_columns(tiny_tagger, tmp_path):
    joint = tmp_path / "joint"
    shutil.copytree(tiny_tagger, joint)
    record = RunRecord.load(joint)
    record.config["benchmark"] = "rest14+laptop14"
    scores = {"e2e": {"f1": 0.5}, "extraction": {"f1": 0.75}, "pn": {"f1": 0.25}}
    record.test["by_benchmark"] = {"rest14": scores, "laptop14": scores}
    record.save(joint)
    e2e_ledger.add_runs([joint], tmp_path / "e2e.csv")
    frame = e2e_ledger.read_ledger(tmp_path / "e2e.csv")
    assert frame.loc[0, "test_rest14_e2e_f1"] == 50 and frame.loc[0, "test_laptop14_extraction_f1"] == 75


def test_a_folder_that_is_not_a_tagger_is_refused_with_exit_2(tiny_model, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        e2e_ledger.main([str(tiny_model), "--ledger", str(tmp_path / "e2e.csv")])
    assert exit_.value.code == 2
    assert "not an aspect tagger" in capsys.readouterr().err
    assert not (tmp_path / "e2e.csv").exists()
