"""A non-editable install carries everything a user needs (the 20 presets are package data).

Slow (a few seconds, mostly pip): run alone with ``pytest -m slow``, skip with
``-m "not slow"``. The wheel is built from a copy of the source tree, so that setuptools'
in-tree ``build/`` folder (which can hold files from older builds) plays no part and the
repository is left untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LETTERS = list("ABCDEFGHIJKLMNOPQRST")
NOT_SOURCE = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".venv", ".venv-*", ".pytest_cache",
    ".ruff_cache", ".hypothesis", ".benchmarks", "outputs",
)

pytestmark = pytest.mark.slow


def pip(*args: str, cwd: Path) -> None:
    completed = subprocess.run([sys.executable, "-m", "pip", *args], cwd=cwd,
                               capture_output=True, text=True, timeout=280)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    pip("wheel", "--no-deps", "--wheel-dir", str(work / "dist"), str(source), cwd=work)
    wheels = list((work / "dist").glob("gifcli-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_holds_the_modules_and_the_presets(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    presets = {n for n in names if n.startswith("gifcli/presets/") and n.endswith(".yaml")}
    assert len(presets) == 20, sorted(presets)
    assert {Path(n).name for n in presets} == {p.name for p in (REPO / "presets").glob("*.yaml")}
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "gifcli").rglob("*.py")}
    assert modules | {"gifcli/presets/__init__.py"} <= names, sorted(modules - names)


def test_installed_wheel_works_outside_the_repo(wheel, tmp_path):
    target, elsewhere = tmp_path / "target", tmp_path / "elsewhere"
    elsewhere.mkdir()
    pip("install", "--no-deps", "--no-index", "--target", str(target), str(wheel), cwd=tmp_path)
    probe = (
        "import json, gifcli\n"
        "from gifcli.model.preset import shipped_dir, shipped_presets\n"
        "presets = shipped_presets()\n"
        "print(json.dumps({'file': gifcli.__file__, 'version': gifcli.__version__,\n"
        "                  'presets': str(shipped_dir()),\n"
        "                  'letters': [p.letter for p in presets],\n"
        "                  'names': [p.name for p in presets]}))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    completed = subprocess.run([sys.executable, "-c", probe], cwd=elsewhere, env=env,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-3000:]
    found = json.loads(completed.stdout)
    assert Path(found["file"]).resolve().is_relative_to(target.resolve()), found["file"]
    assert Path(found["presets"]).resolve().is_relative_to(target.resolve()), found["presets"]
    assert found["letters"] == LETTERS
    assert set(found["names"]) == {p.stem for p in (REPO / "presets").glob("*.yaml")}
    metadata = next(target.glob("gifcli-*.dist-info")) / "METADATA"
    version = next(line.split(": ", 1)[1] for line in metadata.read_text().splitlines()
                   if line.startswith("Version: "))
    assert found["version"] == version  # pyproject.toml reads it from gifcli.__version__
