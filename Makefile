# The two commands of the README: `make demo` and `make test`. Each makes its own venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= outputs

.PHONY: demo test lint clean

# gif export's targets, each in a venv of its own (Brian2 needs numpy < 2.4); tests/test_export.py
# finds them by path and runs the exported files in them.
.venv-brian2/bin/python:
	$(PYTHON) -m venv .venv-brian2
	.venv-brian2/bin/python -m pip install --quiet "brian2>=2.9,<3" "numpy<2.4"
.venv-brainpy/bin/python:
	$(PYTHON) -m venv .venv-brainpy
	.venv-brainpy/bin/python -m pip install --quiet "brainpy>=2.8,<3" "jax[cpu]"
.venv-nestml/bin/python:
	$(PYTHON) -m venv .venv-nestml
	.venv-nestml/bin/python -m pip install --quiet "nestml>=9,<10" "nest-simulator>=3.10,<4"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/gif run --all --out $(OUT)
	$(BIN)/gif gallery --out $(OUT) --quiet
	@echo "wrote $(OUT)/gallery.png"
	$(BIN)/python -m gifcli.cli.warmup  # the sweep and f-I kernels too: the first gif sweep starts at once

test: $(BIN)/python .venv-brian2/bin/python .venv-brainpy/bin/python .venv-nestml/bin/python
	$(BIN)/python -m pip install --quiet -e ".[test,cluster,notebook]"  # notebook: the tutorial runs
	$(BIN)/ruff check gifcli tests bench
	$(BIN)/lint-imports  # the layering of pyproject.toml's [tool.importlinter]
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .venv-brian2 .venv-brainpy .venv-nestml build *.egg-info .pytest_cache
