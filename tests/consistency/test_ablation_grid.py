import csv

import yaml

from absa.src.ablation import ledger as run_ledger
from absa.src.ablation import runner
from absa.src.ablation.runner import expand
from absa.src.config import run_id


def test_every_paired_experiment_of_the_grid_has_a_base_run_for_each_of_its_runs():
    """A paired experiment is read seed by seed: each of its runs needs a base run of the same dataset and seed,
    and, for fine-tuning, the same start."""
    grid = yaml.safe_load((run_ledger.ABLATION_DIR / "grid.yaml").read_text())
    runs = expand(grid)
    pairs = runner.paired_experiments(grid)
    assert pairs
    for changed, base in pairs:
        bases = {(c.dataset, c.seed, c.init_from) for name, c in runs if name == base}
        for name, config in runs:
            if name == changed:
                assert (config.dataset, config.seed, config.init_from) in bases, (changed, config.dataset, config.seed)


def test_every_ledger_run_keeps_its_id_in_the_grid():
    """Resumability: runs finished before a TrainConfig field was added must still be found, not trained again."""
    grid = yaml.safe_load((run_ledger.ABLATION_DIR / "grid.yaml").read_text())
    ids = {run_id(config) for _, config in expand(grid)}
    with open(run_ledger.ABLATION_DIR / "results.csv", newline="") as handle:
        finished = [row["run_id"] for row in csv.DictReader(handle)]
    assert finished and set(finished) <= ids
