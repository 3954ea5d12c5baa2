# The two commands of the README: `make demo` and `make test`. Each makes its own venv.
# `make figures` compares every figure with its baseline; `make figures-accept` renews them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= outputs
FIGURE_REPORT ?= build/figure-report

.PHONY: demo test test-slow figures figures-accept lint clean

# gif export's targets, each in a venv of its own (Brian2 needs numpy < 2.4); tests/test_export.py
# finds them by path and runs the exported files in them. A failed install leaves no venv behind.
.venv-brian2/bin/python:
	$(PYTHON) -m venv .venv-brian2
	.venv-brian2/bin/python -m pip install --quiet "brian2>=2.9,<3" "numpy<2.4" || { rm -rf .venv-brian2; exit 1; }
.venv-brainpy/bin/python:
	$(PYTHON) -m venv .venv-brainpy
	.venv-brainpy/bin/python -m pip install --quiet "brainpy>=2.8,<3" "jax[cpu]" || { rm -rf .venv-brainpy; exit 1; }
.venv-nestml/bin/python:
	$(PYTHON) -m venv .venv-nestml
	.venv-nestml/bin/python -m pip install --quiet "nestml>=9,<10" "nest-simulator>=3.10,<4" || { rm -rf .venv-nestml; exit 1; }

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The cluster extra too: the quick start's `gif sweep ... -f zarr,png --workers 2` needs it.
demo: $(BIN)/python
	@echo "make demo: installing gifcli and what the quick start uses into $(VENV) ..."
	$(BIN)/python -m pip install --quiet -e ".[cluster]"
	@echo "make demo: compiling every kernel once (a few minutes on a first install; later commands start at once) ..."
	$(BIN)/python -m gifcli.cli.warmup
	@echo "make demo: running the 20 presets into $(OUT)/ ..."
	$(BIN)/gif run --all --out $(OUT)
	$(BIN)/gif gallery --out $(OUT) --quiet
	@echo "make demo: done; the 20 figures and $(OUT)/gallery.png are in $(OUT)/; try: $(BIN)/gif list"

# `make test` leaves out the tests of the `slow` mark (5 s or more each: tests/conftest.py's
# SLOW); `make test-slow` runs just those, and .ci/run both.
TEST_VENVS := $(BIN)/python .venv-brian2/bin/python .venv-brainpy/bin/python .venv-nestml/bin/python

test: $(TEST_VENVS)
	$(BIN)/python -m pip install --quiet -e ".[test,cluster,notebook]"  # notebook: the tutorial runs
	$(BIN)/ruff check gifcli tests bench
	$(BIN)/lint-imports  # the layering of pyproject.toml's [tool.importlinter]
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: $(TEST_VENVS)
	$(BIN)/python -m pip install --quiet -e ".[test,cluster,notebook]"
	$(BIN)/python -m pytest -q -m slow

# Every kind of figure drawn and compared with tests/figures/baseline/; the report (baseline,
# new and difference side by side) in $(FIGURE_REPORT)/index.html.
figures: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python tests/figures/regress.py --report $(FIGURE_REPORT)

# A deliberate change to the figures: draw them and make them the new baselines.
figures-accept: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python tests/figures/regress.py --accept

clean:
	rm -rf $(VENV) .venv-brian2 .venv-brainpy .venv-nestml build *.egg-info .pytest_cache
