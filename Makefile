# Two set-up commands: `make report` renders the draft standpunt, `make test` runs the tests.
# Both create .venv on first use and install the package with its dependencies.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: report test lint lab bench reference clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,lab]'
	touch $(STAMP)

report: $(STAMP)
	$(BIN)/duiding render --evidence evidence --grade grade --out reports

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# JupyterLab refuses to run as root unless told; a fresh machine often is root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks $(ROOT_FLAG)

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# Regenerate the metafor fixtures (needs R with metafor, metadat and jsonlite; not a test dependency).
reference:
	Rscript tests/reference/make_reference.R

clean:
	rm -rf $(VENV) reports/*
