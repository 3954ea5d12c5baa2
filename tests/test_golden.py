"""Golden spike times: every preset, with every method at its own dt, as the tool produced them.

The files in ``tests/golden/NAME.json`` were written by ``gif run --all --format json`` (one run
per method). This test runs the same commands into a temporary folder and compares: ``exact``
spike times to 1e-9 ms (the precision the kernel promises), ``euler`` and ``exp-euler`` spike
times exactly (they are grid times k·dt). Any change to the numerics shows up here.

To regenerate them deliberately, after a change that is meant to move spike times, run::

    python tests/test_golden.py --write

and review ``git diff tests/golden`` before committing: each changed spike is a changed result.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gifcli.cli import app
from gifcli.model.parameters import METHODS
from gifcli.model.preset import shipped_presets

GOLDEN = Path(__file__).parent / "golden"
EXACT_TOLERANCE_MS = 1e-9
NAMES = [preset.name for preset in shipped_presets()]


def generate(out: Path) -> dict[str, dict]:
    """Run every preset with every method through the CLI; name -> golden record."""
    records: dict[str, dict] = {name: {"name": name, "runs": {}} for name in NAMES}
    for method in METHODS:
        folder = out / method
        result = CliRunner().invoke(app, ["run", "--all", "--method", method, "--format",
                                          "json", "--out", str(folder), "--quiet"])
        if result.exit_code != 0:
            raise RuntimeError(f"gif run --all --method {method} failed:\n{result.output}")
        for name in NAMES:
            summary = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
            records[name]["runs"][method] = {"dt": summary["dt"],
                                             "spike_times_ms": summary["spike_times_ms"]}
    return records


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("golden"))


def load(name: str) -> dict:
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))


def test_there_is_one_golden_file_per_preset():
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(NAMES)
    assert len(NAMES) == 20


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", NAMES)
def test_spike_times_match_the_golden_file(regenerated, name, method):
    golden = load(name)["runs"][method]
    now = regenerated[name]["runs"][method]
    assert now["dt"] == golden["dt"]
    expected, got = golden["spike_times_ms"], now["spike_times_ms"]
    assert len(got) == len(expected), f"{name} ({method}): {len(got)} spikes, was {len(expected)}"
    if method == "exact":
        worst = max((abs(a - b) for a, b in zip(got, expected, strict=True)), default=0.0)
        assert worst <= EXACT_TOLERANCE_MS, f"{name}: a spike moved by {worst:.3g} ms"
    else:
        assert got == expected


def write_golden() -> None:
    GOLDEN.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        records = generate(Path(folder))
    for name, record in records.items():
        text = json.dumps(record, indent=1) + "\n"
        (GOLDEN / f"{name}.json").write_text(text, encoding="utf-8")
    print(f"wrote {len(records)} files in {GOLDEN}; review them with `git diff tests/golden`")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_golden.py --write   (regenerates tests/golden/)")
    write_golden()
