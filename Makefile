# One dev loop, locally and in CI: `make run`, `make test`, `make lint`, `make bench`.
PYTHON ?= python3.11
# The CPU build of torch; install it before sentence-transformers, which would otherwise pull a CUDA build.
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
DEPS := $(VENV)/.deps-installed

.PHONY: run test lint format bench bench-locomo bench-retention clean

$(DEPS): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(DEPS)
	$(BIN)/mcp-memory serve

test: $(DEPS)
	$(BIN)/pytest

lint: $(DEPS)
	$(BIN)/ruff format --check mcp_memory tests benchmarks
	$(BIN)/ruff check mcp_memory tests benchmarks
	$(BIN)/mypy mcp_memory

format: $(DEPS)
	$(BIN)/ruff format mcp_memory tests benchmarks
	$(BIN)/ruff check --fix mcp_memory tests benchmarks

bench: $(DEPS)
	$(BIN)/python benchmarks/latency.py

bench-locomo: $(DEPS)
	$(BIN)/python benchmarks/locomo.py --data ../shared/data/locomo-dev.json

bench-retention: $(DEPS)
	$(BIN)/python benchmarks/retention.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
