"""Issue 23, part A: numbers that cannot be trusted are never reported as numbers.

A point whose state overflowed to inf or NaN, which ``simulate`` refuses, gets the status
OVERFLOWED in ``run_batch`` and in sweeps (CSV, JSON, zarr, NetCDF), apart from the points
that fired without end and from the failed checks; the same points are refused, under
every method.
"""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gifcli.core.errors import SimulationError
from gifcli.explore import sweep
from gifcli.explore.sweep import Axis
from gifcli.files import sweep as sweep_files
from gifcli.simulation.batch import OK, OVERFLOWED, TOO_MANY_SPIKES, run_batch
from gifcli.simulation.single import simulate

METHODS = ("exact", "euler", "exp-euler")
DOCS = Path(__file__).resolve().parent.parent / "docs"


def single_status(preset, method: str, initial: dict, **params: float) -> int:
    """What simulate() makes of one point, as a batch status."""
    try:
        simulate(preset, method, dt=0.1, initial=initial, **params)
    except SimulationError as error:
        return OVERFLOWED if "overflowed" in str(error) else TOO_MANY_SPIKES
    return OK


def random_point_columns(rng: np.random.Generator, n: int) -> tuple[dict, np.ndarray]:
    """Rates over six decades and inputs up to 1e308: many points overflow, some fire
    without end, most run."""
    sign = lambda: rng.choice([-1.0, 1.0], n)  # noqa: E731
    columns = {name: 10 ** rng.uniform(-3, 3, n) for name in ("k1", "k2", "b")}
    columns["a"] = sign() * 10 ** rng.uniform(-3, 3, n)
    columns["A1"] = sign() * 10 ** rng.uniform(0, 308, n)
    return columns, sign() * 10 ** rng.uniform(0, 308, n)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), letter=st.sampled_from("ACGK"))
def test_a_point_overflows_in_the_batch_iff_the_single_run_refuses_it(shipped, seed, letter):
    preset = shipped[letter]
    rng = np.random.default_rng(seed)
    for method in METHODS:
        columns, I1 = random_point_columns(rng, 24)
        result = run_batch(preset.params | columns, preset.segments, method=method, dt=0.1,
                           initial={"I1": I1})
        expected = [single_status(preset, method, {"I1": float(I1[i])},
                                  **{k: float(v[i]) for k, v in columns.items()})
                    for i in range(I1.size)]
        assert result.status.tolist() == expected, method


# The issue's own cases; the last one's V is -inf at one grid point, then a NaN step fires
# and the reset makes the state finite again: the batch must still see it.
@pytest.mark.parametrize("letter, method, params, initial", [
    ("A", "euler", {"k2": 30.0}, {"I2": 1.0}),
    ("A", "exact", {}, {"I1": 1e308}),
    ("A", "euler", {"A1": -1e308}, {}),
])
def test_the_issues_points_are_overflowed(shipped, letter, method, params, initial):
    preset = shipped[letter]
    assert single_status(preset, method, initial, **params) == OVERFLOWED
    result = run_batch(preset.params | params, preset.segments, method=method, dt=0.1,
                       initial=initial)
    assert result.status.tolist() == [OVERFLOWED]


def overflowing_sweep(shipped, method: str = "euler"):
    return sweep.run_sweep(shipped["A"].replace(initial={"I2": 1.0}),
                           [Axis("k2", [0.01, 10.0, 30.0])], method=method)


def test_a_sweep_counts_overflowed_points_apart(shipped):
    result = overflowing_sweep(shipped)
    assert result.status.tolist() == [OK, OK, OVERFLOWED]
    assert result.overflowed.tolist() == [False, False, True]
    assert not result.failed.any()
    assert np.isnan(result.columns["n_spikes"][2]) and np.isnan(result.margin[2])
    stats = result.stats()
    assert (stats["points"], stats["failed"], stats["overflowed"], stats["passed"]) == (3, 0, 1, 1)
    assert any("1 of 3 points overflowed" in note for note in result.notes)
    # the raster draws no train for it: an overflowed run's spikes are no result
    assert result.samples[2].size == 0 and result.samples[1].size == 9


def test_the_sweep_figure_names_an_overflowed_point_as_such(shipped):
    """Its column beside the metric says "overflowed", not "fired without end"."""
    from gifcli.plots.sweep import sweep_figure

    view = overflowing_sweep(shipped).view("rate_hz")
    assert view.failed.tolist() == [False, False, True] and view.failure == "overflowed"
    labels = [t.get_text() for ax in sweep_figure(view).axes for t in ax.get_xticklabels()]
    assert "overflowed" in labels and "fired without end" not in labels


def test_the_csv_and_json_say_overflowed_with_no_numbers_and_no_cast_warning(shipped, tmp_path):
    result = overflowing_sweep(shipped)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "invalid value encountered in cast" was one
        written = sweep_files.write_sweep(result, tmp_path, formats=("csv", "json"))
    rows = list(csv.DictReader(written[0].open()))
    assert [row["status"] for row in rows] == ["ok", "ok", "overflowed"]
    assert [row["check_passed"] for row in rows] == ["false", "true", ""]
    assert all(rows[2][name] == "" for name in ("n_spikes", "rate_hz", "n_bursts",
                                                "check_margin"))
    summary = json.loads(written[1].read_text())
    assert (summary["n_passed"], summary["n_failed"], summary["n_overflowed"]) == (1, 0, 1)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_marks_an_overflowing_initial_state(shipped, method):
    result = sweep.run_sweep(shipped["A"], [Axis("initial.I1", [1e300, 1e308])], method=method)
    expected = [single_status(shipped["A"], method, {"I1": v}) for v in (1e300, 1e308)]
    assert result.status.tolist() == expected


def test_the_store_and_netcdf_hold_the_status(shipped, tmp_path: Path):
    pytest.importorskip("xarray")
    import xarray as xr

    from gifcli.files import store

    result = overflowing_sweep(shipped)
    plan = result.plan
    stored = store.run_into_store(plan, tmp_path / "s.zarr", "test")
    assert (stored.stats["failed"], stored.stats["overflowed"]) == (0, 1)
    grid = xr.open_zarr(tmp_path / "s.zarr")
    assert grid.status.values.tolist() == [OK, OK, OVERFLOWED]
    assert grid.status.attrs["flag_meanings"] == "ok fired_without_end overflowed"
    loaded = stored.store.load(plan, {}, {})
    assert loaded.status.tolist() == [OK, OK, OVERFLOWED]
    assert loaded.samples[2].size == 0 and stored.view("rate_hz").samples[2].size == 0
    netcdf = xr.open_dataset(store.netcdf_bytes(result, plan, "test"), engine="h5netcdf")
    assert netcdf.status.values.tolist() == [OK, OK, OVERFLOWED]


def test_the_cli_sweep_warns_and_exits_0(tmp_path: Path):
    from typer.testing import CliRunner

    from gifcli.cli import app

    out = tmp_path / "out"
    run = CliRunner().invoke(app, ["sweep", "A", "-m", "euler", "-p", "k2=0.01,10,30", "--set",
                                   "initial.I2=1", "-f", "csv", "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "1 of 3 points overflowed" in run.output
    assert "invalid value" not in run.output
    assert (out / "tonic_spiking_sweep_k2.csv").read_text().splitlines()[-1].endswith(
        ",overflowed")


# --- the command line: one sentence, exit 2, nothing written -------------------------------------


def gif(*args: str) -> int:
    """``gif ARGS...`` in this process, as the console script runs it; its exit code."""
    from gifcli import cli

    return cli.run(list(args))


def refused(capsys, out: Path, code: int) -> str:
    """The one line of a refusal (exit 2, nothing written)."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("gif: error: "), lines
    assert not out.exists()
    return lines[0]


@pytest.fixture()
def target_file(tmp_path: Path) -> Path:
    assert gif("run", "A", "--out", str(tmp_path / "target"), "--format", "json", "-q") == 0
    return tmp_path / "target" / "tonic_spiking.json"


@pytest.mark.parametrize("args, hint", [
    (["fi", "A", "--num", "0_5"], "write 5 without underscores"),
    (["fi", "A", "--num", "1.5"], "is not a whole number"),
    (["sweep", "A", "-p", "a=0:0.01", "--num", "1_0"], "write 10 without underscores"),
    (["sweep", "A", "-p", "a=0:0.01:3", "--chunk-points", "0"], "≥ 1, got 0"),
    (["fit", "A", "--pattern", "tonic_bursting", "--free", "A1=0:20", "--budget", "6_4"],
     "write 64 without underscores"),
    (["fit", "A", "--pattern", "tonic_bursting", "--free", "A1=0:20", "--popsize", "1"],
     "≥ 2, got 1"),
    (["run", "A", "--max-steps", "1e3"], "is not a whole number"),
])
def test_counts_take_digits_alone(tmp_path, capsys, args, hint):
    out = tmp_path / "out"
    assert hint in refused(capsys, out, gif(*args, "--out", str(out)))


def test_a_runaway_point_of_an_f_i_curve_has_a_status_not_a_crash(tmp_path, capsys):
    out = tmp_path / "fi"
    assert gif("fi", "A", "--stop", "1e308", "--num", "5", "-f", "csv,json", "--out",
               str(out), "-q") == 0
    assert capsys.readouterr().err == ""  # --quiet drops the warning
    rows = list(csv.DictReader((out / "fi_tonic_spiking.csv").open()))
    runaway = [row for row in rows if row["status"] == "runaway"]
    assert len(runaway) == 4 and all(row["rate_hz"] == "" for row in runaway)
    assert {row["status"] for row in rows} == {"ok", "runaway"}
    curve = json.loads((out / "fi_tonic_spiking.json").read_text())["curves"][0]
    assert curve["status"].count("runaway") == 4
    assert all(rate is None for rate, status in zip(curve["rate_hz"], curve["status"],
                                                    strict=True) if status == "runaway")
    assert curve["max_rate_hz"] is not None and curve["onset"] is not None


def test_the_f_i_warning_names_the_runaway_points(tmp_path, capsys):
    assert gif("fi", "A", "--stop", "1e300", "--num", "3", "-f", "csv", "--out",
               str(tmp_path / "fi")) == 0
    (line,) = capsys.readouterr().err.splitlines()
    assert "2 of 5 points of the curve (the first at input_scale 5e+299)" in line
    assert line in (DOCS / "cli.md").read_text(encoding="utf-8")


def test_an_f_i_input_beyond_float_range_is_one_sentence(tmp_path, capsys):
    out = tmp_path / "fi"
    line = refused(capsys, out, gif("fi", "A", "--stop", "1.5e308", "--out", str(out)))
    assert "beyond the range of a float" in line and "--stop" in line
    assert line in (DOCS / "cli.md").read_text(encoding="utf-8")


def test_a_fit_that_cannot_fit_in_memory_is_refused_before_allocating(tmp_path, capsys,
                                                                      target_file):
    out = tmp_path / "fit"
    line = refused(capsys, out, gif("fit", "A", "--target", str(target_file), "--free",
                                    "a=0:0.01", "--window", "1e-9", "--out", str(out)))
    assert "GB of memory" in line and "--window" in line


def test_a_huge_population_is_checked_against_free_memory(tmp_path, capsys, target_file,
                                                          monkeypatch):
    from gifcli.simulation import single

    monkeypatch.setattr(single, "available_memory", lambda: 10**9)
    out = tmp_path / "fit"
    line = refused(capsys, out, gif("fit", "A", "--target", str(target_file), "--free",
                                    "a=0:0.01", "--popsize", "1000000", "--budget", "1000000",
                                    "--out", str(out)))
    assert "1,000,000 candidates at once" in line and "1.0 GB are free" in line


@pytest.mark.parametrize("free, words", [
    ("A1=-1e308:1e308", "beyond the range of a float"),
    ("initial.I1=1e308:1.7e308", "nothing in the box runs to the end"),
])
def test_absurd_bounds_are_refused_before_the_search(tmp_path, capsys, target_file, free,
                                                     words):
    out = tmp_path / "fit"
    line = refused(capsys, out, gif("fit", "A", "--target", str(target_file), "--free", free,
                                    "--out", str(out)))
    assert words in line


def test_a_deeply_nested_target_is_one_sentence(tmp_path, capsys):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    out = tmp_path / "fit"
    line = refused(capsys, out, gif("fit", "A", "--target", str(deep), "--free", "a=0:0.01",
                                    "--out", str(out)))
    assert "nested too deeply" in line


# --- a full disk: all the files or none ----------------------------------------------------------


def full_disk_on_the_second_file(monkeypatch):
    """Make the second file that gifcli.core.atomic writes fail as a full disk does."""
    import errno

    from gifcli.core import atomic

    written = []
    original = atomic._write_new

    def write(temporary, data):
        written.append(temporary)
        if len(written) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        original(temporary, data)

    monkeypatch.setattr(atomic, "_write_new", write)


@pytest.mark.parametrize("command", [
    ["fi", "A", "--num", "5", "-f", "csv,png,json"],
    ["sweep", "A", "-p", "a=0:0.01:3", "-f", "csv,png,json"],
    ["fit", "A", "--pattern", "tonic_bursting", "--free", "A1=0:20", "--free", "A2=-2:0",
     "--budget", "64"],
])
def test_a_full_disk_leaves_no_file(tmp_path, capsys, monkeypatch, command):
    full_disk_on_the_second_file(monkeypatch)
    out = tmp_path / "out"
    assert gif(*command, "--out", str(out), "-q") == 2
    assert "No space left on device" in capsys.readouterr().err
    assert list(out.iterdir()) == []  # the folder, made first, holds no file, not even hidden


# --- the cost of a large sweep, said before it starts --------------------------------------------


def test_a_long_sweep_says_its_time_and_size_first(tmp_path, capsys, monkeypatch):
    from gifcli.explore.sweep import plan

    monkeypatch.setattr(plan, "SWEEP_RATE", 100.0)  # 4 points × 2,000 steps: 80 s
    out = tmp_path / "out"
    assert gif("sweep", "A", "-p", "a=0:0.01:4", "-f", "zarr", "--out", str(out)) == 0
    err = capsys.readouterr().err
    assert ("gif: warning: 4 points × 2,000 steps of 0.1 ms (it steps at 2.439 ms, no slower): "
            "about 1.33 min at 1e+02 neuron-steps/s"
            in err)
    assert "its store about 44 bytes on disk (up to 168 bytes)" in err


def test_a_store_that_cannot_fit_on_the_disk_is_refused(tmp_path, capsys, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 100, 100))
    out = tmp_path / "out"
    line = refused(capsys, out, gif("sweep", "A", "-p", "a=0:0.01:100", "-f", "zarr",
                                    "--out", str(out)))
    assert "a store of 100 points takes about 1.1 kB (up to 4.2 kB)" in line
    assert "100 bytes free" in line


def test_the_billion_point_estimate_is_the_one_the_docs_show(shipped, tmp_path, capsys,
                                                             monkeypatch):
    import shutil
    from collections import namedtuple

    from gifcli.cli import sweep as sweep_command
    from gifcli.explore.sweep import parse_axis

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**14, 0, 10**14))

    axes = [parse_axis(text) for text in ("a=0:0.01:1000", "A1=0:20:1000", "A2=-1:0:1000")]
    plan = sweep.plan_sweep(shipped["M"], axes, stored=True)
    sweep_command._check_and_say_the_cost(plan, ["zarr"], tmp_path, quiet=False)
    (line,) = capsys.readouterr().err.splitlines()
    assert line in (DOCS / "sweeps.md").read_text(encoding="utf-8")


def test_an_f_i_curve_up_to_the_largest_float_marks_its_runaway_points(tmp_path, capsys):
    """The issue's own command, `gif fi A --stop 1e308`: exit 3 before ("column 'rate_hz'
    has an infinite value"); the points that overflow have no rate and the status runaway."""
    import json

    out = tmp_path / "fi"
    assert gif("fi", "A", "--stop", "1e308", "--num", "3", "-f", "json,csv", "--out",
               str(out)) == 0
    curve = json.loads((out / "fi_tonic_spiking.json").read_text())["curves"][0]
    runaway = [s for s, status in zip(curve["input_scale"], curve["status"], strict=True)
               if status == "runaway"]
    assert runaway == [5e307, 1e308]
    assert all(r is None for r, status in zip(curve["rate_hz"], curve["status"], strict=True)
               if status == "runaway")
    assert "inf" not in (out / "fi_tonic_spiking.csv").read_text()
    assert "2 of 5 points of the curve (the first at input_scale 5e+307)" in \
        capsys.readouterr().err
