# The two commands of the quick start. Each sets up .venv by itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/pyproject.toml)
# The example drivers (examples/plugins/*) are installed like the plugins: lint-imports checks them.
EXAMPLES := $(wildcard examples/plugins/*/pyproject.toml)
STAMP := $(VENV)/.installed

.PHONY: run test lint clean

$(STAMP): pyproject.toml $(PLUGINS) $(EXAMPLES)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' $(foreach p,$(PLUGINS) $(EXAMPLES),-e $(dir $(p)))
	@touch $@

run: $(STAMP)
	$(BIN)/syncfw jobcal --profile examples/demo.yaml init --demo
	$(BIN)/syncfw run examples/demo.yaml

lint: $(STAMP)
	$(BIN)/ruff check src plugins examples tests bench
	$(BIN)/ruff format --check src plugins examples tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) examples/*-data examples/.syncfw
