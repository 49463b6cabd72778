# peerconsult: `make run` serves the demo, `make test` runs the whole suite.
# Both set everything up first (`make install`), on a fresh machine with Python 3.11+.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The CPU build of PyTorch, installed before anything that depends on torch, so that pip
# never resolves torch itself (which would download several GB of CUDA packages).
TORCH  := torch==2.13.0
STAMP  := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PEERCONSULT_DATA_DIR ?= var/pgdata

.PHONY: install run test lint typecheck format evaluate screenshots clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[dev]" "$(TORCH)"
	@mkdir -p var
	touch $(STAMP)

run: install
	$(BIN)/peerconsult serve --demo

test: install lint typecheck
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

evaluate: install
	$(BIN)/peerconsult evaluate ../shared/data/dev

# The README's screenshots, taken by the browser test (which otherwise writes them elsewhere).
screenshots: install
	PEERCONSULT_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/web/test_browser.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
