"""Every example in the docs runs, and prints what the docs say it prints.

An example is a ```python block; the plain ``` block right after it, if any, is its output,
compared exactly. Blocks whose info string says ``signature`` only show a call's form. Each
example runs in a fresh folder (several write files), in this process, where the kernels are
already compiled.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"^```python([^\n]*)\n(.*?)^```\n(?:```\n(.*?)^```\n)?", re.S | re.M)
#: The pages whose examples run here. sweeps.md's need a zarr store on disk and a Dask
#: cluster; tests/test_sweep.py and tests/test_cluster.py cover what they show.
PAGES = ("api.md",)


def examples(page: str) -> list[tuple[str, str, str | None]]:
    """``(id, code, expected output or None)`` for each example of ``page``."""
    text = (DOCS / page).read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        info, code, output = match.groups()
        if "signature" in info:
            continue
        line = text.count("\n", 0, match.start()) + 1
        found.append((f"{page}:{line}", code, output))
    return found


def run_example(code: str) -> str:
    """What ``code`` prints, run in a fresh namespace."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "<example>", "exec"), {"__name__": "__example__"})
    return printed.getvalue()


ALL = [example for page in PAGES for example in examples(page)]


def test_the_pages_hold_examples_with_outputs():
    assert len(ALL) >= 20
    assert sum(output is not None for _, _, output in ALL) >= 18


@pytest.mark.parametrize(("where", "code", "expected"), ALL, ids=[e[0] for e in ALL])
def test_example_runs_and_prints_what_the_docs_say(where, code, expected, tmp_path,
                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    printed = run_example(code)
    if expected is not None:
        assert printed == expected, f"{where} printed:\n{printed}"
