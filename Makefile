# The two commands of the README: `make demo` and `make test`. Each makes its own venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= outputs

.PHONY: demo test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/gif run --all --out $(OUT)
	$(BIN)/gif gallery --out $(OUT) --quiet
	@echo "wrote $(OUT)/gallery.png"
	$(BIN)/python -m gifcli.cli.warmup  # the sweep and f-I kernels too: the first gif sweep starts at once

test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,cluster,notebook]"  # notebook: the tutorial runs
	$(BIN)/ruff check gifcli tests bench
	$(BIN)/lint-imports  # the layering of pyproject.toml's [tool.importlinter]
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
