# Two entry points for a fresh machine: `make reproduce` and `make test`.
# Both create .venv on first use and reuse it afterwards.

PYTHON ?= python3
VENV ?= .venv
# Users get the default torch build; CI pins the CPU wheel that lies on its disk.
TORCH_SPEC ?= torch
PROFILE ?= quick
OUT ?= results/$(PROFILE)
PYTEST_ARGS ?= -n 2

# The shared datasets beside the checkout, when present, are read through the same variable a
# user sets (BEYONDADAM_DATA); nothing is copied into the project.
SHARED_DATA := $(abspath ../shared/datasets)
ifneq ($(wildcard $(SHARED_DATA)),)
BEYONDADAM_DATA ?= $(SHARED_DATA)
endif
ifdef BEYONDADAM_DATA
export BEYONDADAM_DATA
endif

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test lint reproduce bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

reproduce: $(STAMP)
	$(BIN)/beyondadam reproduce --profile $(PROFILE) --out $(OUT)

bench: $(STAMP)
	$(BIN)/python benchmarks/optimizer_step.py
	$(BIN)/python benchmarks/simulation.py
	$(BIN)/python benchmarks/training.py

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache
