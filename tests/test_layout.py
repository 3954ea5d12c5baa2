"""The package's layout: the layering contract, and the import paths of the flat layout.

The layers (pyproject.toml's ``[tool.importlinter]``) are checked by ``make test`` with
lint-imports; this runs the same check inside the suite, so a climb that a refactoring adds
fails here too. Users' code written against gifcli 0.1 (``from gifcli.checks import
evaluate``) keeps working: the former paths give the very modules that moved.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gifcli._former_paths import FORMER_PATHS

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("former", sorted(FORMER_PATHS))
def test_a_former_import_path_gives_the_module_that_moved(former):
    assert importlib.import_module(former) is importlib.import_module(FORMER_PATHS[former])


def test_the_documented_names_keep_their_paths():
    from gifcli.batch import run_batch
    from gifcli.checks import check_spikes, evaluate, judge
    from gifcli.preset import resolve

    from gifcli import files, model, plots, simulation
    from gifcli.simulation.batch import run_batch as batch_run

    assert run_batch is batch_run
    assert callable(evaluate) and callable(judge) and callable(check_spikes)
    assert simulation.simulate is importlib.import_module("gifcli").simulate
    assert resolve is importlib.import_module("gifcli").resolve
    assert "a" in model.DEFAULTS and callable(files.write_atomic) and callable(plots.pattern_figure)


def test_the_layering_contract_holds():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (it comes with the test extra)")
    done = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout
