"""``gif export``: the exported files run in their simulators and give gifcli's spikes.

Brian2 runs in its own venv (``.venv-brian2``, made by ``make test``: Brian2 needs numpy < 2.4),
BrainPy and NESTML in theirs where they were made (``.venv-brainpy``, ``.venv-nestml``); the
tests find them by path. Every exported Brian2 script of the 20 presets is run: with ``euler``
its spike steps are gifcli's; with ``exact`` its spike counts are gifcli's, its first spike
lies within one step after gifcli's, and every spike step is that of an independent
transcription of what Brian2's exact integration does (the closed-form step, a reset at the
step's end), built here on SciPy's matrix exponential.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.linalg import expm
from typer.testing import CliRunner

from gifcli import __version__, cli, simulate
from gifcli.explore.fit import read_target
from gifcli.export import TARGETS, export
from gifcli.export.common import ExportError, step_runs
from gifcli.model.preset import resolve, shipped_presets

ROOT = Path(__file__).resolve().parents[1]
PRESETS = shipped_presets()
DRIVER = """
import runpy, sys
out = sys.argv[1]
for script in sys.argv[2:]:
    sys.argv = [script, out]
    runpy.run_path(script, run_name="__main__")
"""


def simulator(target: str) -> Path:
    python = ROOT / f".venv-{target}" / "bin" / "python"
    if not python.exists():
        pytest.skip(f"no {python.parent.parent.name} (make test makes .venv-brian2)")
    return python


def run_scripts(python: Path, scripts: list[Path], out: Path) -> None:
    """Run the exported scripts in one process of the simulator's venv."""
    done = subprocess.run([str(python), "-c", DRIVER, str(out), *map(str, scripts)],
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]


def spike_times(path: Path) -> np.ndarray:
    with open(path, newline="") as stream:
        return np.array([float(row["t_ms"]) for row in csv.DictReader(stream)])


def exported_trains(target: str, method: str, presets, folder: Path) -> dict[str, np.ndarray]:
    python = simulator(target)
    scripts = [export(p, target, folder, method=method)[0] for p in presets]
    run_scripts(python, scripts, folder)
    return {p.name: spike_times(folder / f"{p.name}_{target}_spikes.csv") for p in presets}


def steps_of(times: np.ndarray, dt: float) -> np.ndarray:
    return np.rint(np.asarray(times) / dt).astype(int)


def grid_reset_reference(preset, dt: float) -> np.ndarray:
    """The spike steps of the closed-form step with the threshold tested and the reset made
    at each step's end: what Brian2's exact method does, written independently."""
    p = preset.params
    m = np.array([[-p["k1"], 0, 0, 0], [0, -p["k2"], 0, 0],
                  [p["R"] / p["tau"], p["R"] / p["tau"], -1 / p["tau"], 0],
                  [0, 0, p["a"], -p["b"]]])
    propagate = expm(m * dt)
    init = preset.initial
    x = np.array([init["I1"], init["I2"], init["V"], init["V_th"]])
    steps, k = [], 0
    for amplitude, count in step_runs(preset, dt)[0]:
        v_star = p["V_rest"] + p["R"] * amplitude
        fixed = np.array([0, 0, v_star, p["V_th_inf"] + p["a"] * (v_star - p["V_rest"]) / p["b"]])
        for _ in range(count):
            x = propagate @ (x - fixed) + fixed
            k += 1
            if x[2] >= x[3]:
                x = np.array([p["R1"] * x[0] + p["A1"], p["R2"] * x[1] + p["A2"], p["V_reset"],
                              max(p["V_th_reset"], x[3])])
                steps.append(k)
    return np.array(steps, dtype=int)


def test_brian2_euler_gives_gifcli_spike_steps_on_all_20(tmp_path):
    trains = exported_trains("brian2", "euler", PRESETS, tmp_path)
    for preset in PRESETS:
        dt = preset.dt or 0.1
        ours = simulate(preset, method="euler").spike_times
        assert np.array_equal(steps_of(trains[preset.name], dt), steps_of(ours, dt)), preset.name
        assert np.allclose(trains[preset.name], ours, rtol=0, atol=1e-9)


def test_brian2_exact_spike_counts_first_spike_and_grid_reset_steps_on_all_20(tmp_path):
    trains = exported_trains("brian2", "exact", PRESETS, tmp_path)
    for preset in PRESETS:
        dt = preset.dt or 0.1
        theirs, ours = trains[preset.name], simulate(preset).spike_times
        assert len(theirs) == len(ours), preset.name
        assert 0 <= theirs[0] - ours[0] <= dt + 1e-9, preset.name
        assert np.array_equal(steps_of(theirs, dt), grid_reset_reference(preset, dt)), preset.name


@pytest.mark.parametrize("letter", ["B", "H", "M", "S"])
def test_brainpy_gives_gifcli_exp_euler_spike_steps(tmp_path, letter):
    preset = resolve(letter)
    trains = exported_trains("brainpy", "exp-euler", [preset], tmp_path)
    ours = simulate(preset, method="exp-euler").spike_times
    dt = preset.dt or 0.1
    assert np.array_equal(steps_of(trains[preset.name], dt), steps_of(ours, dt))


def test_every_export_compiles_or_parses(tmp_path):
    """Each Python file compiles; each NESTML model is read by NESTML's own front end where
    it is installed."""
    for preset in PRESETS:
        for target in TARGETS:
            for path in export(preset, target, tmp_path):
                if path.suffix == ".py":
                    compile(path.read_text(), str(path), "exec")
    nestml = ROOT / ".venv-nestml" / "bin" / "python"
    if nestml.exists():
        models = [str(tmp_path / f"gif_{name}.nestml") for name in ("tonic_bursting",
                                                                   "class_2_excitability")]
        check = ("import sys\nfrom pynestml.frontend.pynestml_frontend import generate_target\n"
                 "for m in sys.argv[1:]:\n"
                 "    assert not generate_target(input_path=m, target_platform='NONE', "
                 "target_path=sys.argv[1] + '.out', logging_level='ERROR'), m\n")
        done = subprocess.run([str(nestml), "-c", check, *models], capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]


def test_header_says_origin_version_command_and_differences(tmp_path, monkeypatch):
    args = ["export", "M", "--to", "brian2", "--method", "euler", "--out", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", ["gif", *args])  # as the gif entry point sees it
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    text = (tmp_path / "tonic_bursting_brian2.py").read_text()
    head = text.split('"""')[0]
    assert f"gifcli {__version__}" in head and "presets/tonic_bursting.yaml" in head
    assert f"Command: gif {' '.join(args)}" in head and "Brian2 stamps a spike" in head
    for target in ("nestml", "brainpy"):
        written = export(resolve("M"), target, tmp_path)
        assert all("How this integration differs" in p.read_text() for p in written)


def test_a_preset_file_with_overrides_exports(tmp_path):
    own = tmp_path / "mine.yaml"
    own.write_text("name: mine\ntitle: Mine\nparams: {a: 0.005}\ninitial: {V_th: -45}\n"
                   "input:\n  - {amplitude: 0, duration: 10}\n  - {amplitude: 2, duration: 90}\n")
    result = CliRunner().invoke(cli.app, ["export", str(own), "--to", "brian2", "--set",
                                          "A1=3", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "out" / "mine_brian2.py").read_text()
    assert "'A1': 3.0," in text and "'V_th': -45.0," in text
    assert "INPUT_RUNS = ((0.0, 100), (2.0, 900))" in text


def test_off_grid_boundaries_move_as_fixed_step_gifcli_moves_them():
    runs, notes = step_runs(resolve("S"), 0.3)
    assert sum(count for _, count in runs) == 2666 and notes
    assert runs[:2] == ((5.0, 17), (0.0, 16))  # 5 ms -> step 17 (5.1 ms), 10 ms -> step 33


BAD = [
    (["M", "--to", "nestml", "--method", "euler"], "--to nestml reproduces the method exact"),
    (["M", "--to", "brainpy", "--method", "exact"], "exp-euler, not exact"),
    (["M", "--to", "brian3"], "'--to'"),
    (["T", "--to", "brian2", "--dt", "3"], "longer than the shortest input segment"),
    (["M", "--to", "brian2", "--dt", "nan"], "--dt"),
    (["nope", "--to", "brian2"], "no preset of that name"),
    (["M", "--to", "brian2", "--set", "tau=-1"], "tau"),
    (["M", "--to", "brian2", "--dt", "1e-6"], "above the cap"),
]


@pytest.mark.parametrize(("args", "message"), BAD)
def test_bad_input_is_one_sentence_exit_2_and_nothing_written(tmp_path, args, message):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "gifcli", "export", *args, "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gif: error: ") and message in lines[0]
    assert not out.exists()


def test_python_api_refuses_with_export_error(tmp_path):
    with pytest.raises(ExportError, match="reproduces the method exact, not euler"):
        export(resolve("A"), "nestml", tmp_path, method="euler")
    assert list(tmp_path.iterdir()) == []


def test_spike_csv_is_what_gif_fit_reads(tmp_path):
    trains = exported_trains("brian2", "euler", [resolve("A")], tmp_path)
    path = tmp_path / "tonic_spiking_brian2_spikes.csv"
    assert np.array_equal(read_target(path), trains["tonic_spiking"])


def test_the_commands_of_docs_export_md_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = (ROOT / "docs" / "export.md").read_text()
    commands = [line for line in re.findall(r"^\s*gif (export [^|]+?)(?:\s+#.*)?$", text,
                                             flags=re.MULTILINE)]
    assert len(commands) >= 3
    for line in commands:
        result = CliRunner().invoke(cli.app, line.split())
        assert result.exit_code == 0, (line, result.output)


def test_the_brian2_network_example_of_docs_export_md_runs(tmp_path, monkeypatch):
    python = simulator("brian2")
    monkeypatch.chdir(tmp_path)
    export(resolve("tonic_bursting"), "brian2", tmp_path / "outputs")
    text = (ROOT / "docs" / "export.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
              if "gif.build" in b]
    assert len(blocks) == 1
    done = subprocess.run([str(python), "-c", blocks[0]], capture_output=True, text=True,
                          timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]


def random_presets(count: int, seed: int) -> list:
    """Random neurons near the presets' range, with schedules whose boundaries fall on and
    off the grid, at dt 0.1, 0.05 or 0.3 ms; those that gifcli refuses to run are left out."""
    from gifcli.core.errors import GifError
    from gifcli.model.preset import parse_preset

    rng = np.random.default_rng(seed)
    presets = []
    while len(presets) < count:
        ranges = {"a": (-0.02, 0.03), "b": (0.005, 0.05), "tau": (5, 40), "k1": (0.05, 0.5),
                  "k2": (0.005, 0.05), "R1": (0, 1), "R2": (0, 1), "A1": (-5, 15),
                  "A2": (-1, 1)}
        params = ", ".join(f"{k}: {float(rng.uniform(*r))!r}" for k, r in ranges.items())
        segments = "".join(f"  - {{amplitude: {float(rng.uniform(-3, 4))!r}, duration: "
                           f"{round(float(rng.uniform(5, 150)), 2)!r}}}\n"
                           for _ in range(rng.integers(1, 5)))
        text = (f"name: random_{len(presets)}\ntitle: Random\nparams: {{{params}}}\n"
                f"initial: {{V_th: {float(rng.uniform(-55, -40))!r}}}\ninput:\n{segments}"
                f"dt: {float(rng.choice([0.1, 0.05, 0.3]))!r}\n")
        try:
            preset = parse_preset(text, "<random>")
            simulate(preset, method="euler")
            simulate(preset)
        except GifError:  # runaway firing, an unstable Euler step: gifcli refuses those too
            continue
        presets.append(preset)
    return presets


def test_random_neurons_and_schedules_brian2_matches_both_ways(tmp_path):
    presets = random_presets(12, seed=26)
    euler = exported_trains("brian2", "euler", presets, tmp_path / "euler")
    exact = exported_trains("brian2", "exact", presets, tmp_path / "exact")
    for preset in presets:
        dt = preset.dt
        ours = simulate(preset, method="euler").spike_times
        assert np.array_equal(steps_of(euler[preset.name], dt), steps_of(ours, dt)), preset
        assert len(exact[preset.name]) == len(grid_reset_reference(preset, dt))
        assert np.array_equal(steps_of(exact[preset.name], dt),
                              grid_reset_reference(preset, dt)), preset


def test_help_has_examples_and_imports_neither_numba_nor_the_exporters():
    code = ("import sys\nfrom gifcli.cli import app\ntry:\n    app(['export', '--help'], "
            "prog_name='gif')\nexcept SystemExit as e:\n    assert e.code in (0, None)\n"
            "print('HEAVY', sorted(m for m in ('numba', 'matplotlib', 'gifcli.export') "
            "if m in sys.modules), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=os.environ | {"COLUMNS": "120"})
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stderr
    assert "Examples" in done.stdout and "gif export tonic_bursting --to brian2" in done.stdout
