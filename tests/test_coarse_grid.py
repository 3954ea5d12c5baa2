"""Sweeps, ``gif fi``, the f–I probe and fits with ``exact`` and no dt step at the coarsest
grid that fits the schedule (docs/sweeps.md, "The grid a sweep steps"; docs/fitting.md, "The
grid of the search"): the same counts, statuses and verdicts as at dt 0.1, spike times to
1e-9 ms, the grid stepped recorded, a given dt used as given.

The expected grid is computed here from the parameters (``coarsest_dt`` of the fastest of k1,
k2, b and 1/tau over every point), not read back from the code under test.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gifcli.analysis import probe
from gifcli.analysis.spike_grid import GRID_RATE_CAP
from gifcli.explore import fit, sweep
from gifcli.simulation.grid import coarsest_dt

TIME_TOLERANCE_MS = 1e-9
#: The presets drawn, and the ranges of the quantities swept around them: rates (which move
#: the grid), the spike-triggered currents, a and the input. B and H run the f–I probe; Q
#: reads V's extrema and V at its pulse's end.
SPACE = {
    "M": {"a": (-0.01, 0.02), "k1": (0.05, 0.8), "b": (0.003, 0.05), "A2": (-1.0, 0.0)},
    "P": {"A1": (0.0, 15.0), "tau": (5.0, 40.0), "k2": (0.005, 0.1)},
    "B": {"tau": (8.0, 40.0), "k1": (0.05, 0.8), "input_scale": (0.9, 1.2)},
    "H": {"a": (0.0, 0.01), "b": (0.005, 0.03), "tau": (10.0, 30.0)},
    "E": {"a": (0.0, 0.01), "k1": (0.1, 1.0), "input_scale": (0.8, 1.2)},
    "G": {"b": (0.005, 0.03), "tau": (10.0, 30.0)},
    "D": {"a": (0.0, 0.01), "k2": (0.01, 0.2)},
    "Q": {"A1": (2.0, 10.0), "A2": (-1.0, 0.0), "k1": (0.05, 0.8)},  # reads V's extrema
}
RATES = ("k1", "k2", "b")


def expected_dt(preset, axes) -> float:
    """The coarsest grid for the fastest rate any point of the grid has (at most the cap)."""
    swept = {axis.param: axis.values for axis in axes}
    rates = [max(swept.get(name, [preset.params[name]])) for name in RATES]
    rates.append(1.0 / min(swept.get("tau", [preset.params["tau"]])))
    return coarsest_dt(list(preset.segments), min(max(rates), GRID_RATE_CAP))


@st.composite
def grids(draw):
    """A preset and one or two axes of two or three values in its SPACE."""
    letter = draw(st.sampled_from(sorted(SPACE)))
    names = draw(st.lists(st.sampled_from(sorted(SPACE[letter])), min_size=1, max_size=2,
                          unique=True))
    axes = []
    for name in names:
        lo, hi = SPACE[letter][name]
        values = draw(st.lists(st.floats(lo, hi), min_size=2, max_size=3))
        axes.append(sweep.Axis(name, np.unique(np.round(values, 6))))
    return letter, axes


def assert_same_sweep(coarse, fine) -> None:
    """Counts, statuses and verdicts equal; times and margins to TIME_TOLERANCE_MS, rates
    to 1e-12 of themselves."""
    np.testing.assert_array_equal(coarse.status, fine.status)
    for name in ("n_spikes", "n_bursts"):
        np.testing.assert_array_equal(coarse.columns[name], fine.columns[name], err_msg=name)
    # count / (steps × dt): the run's length rounds differently on each grid
    np.testing.assert_allclose(coarse.columns["rate_hz"], fine.columns["rate_hz"], rtol=1e-12)
    for name in ("first_spike_ms", "isi_cv"):
        np.testing.assert_allclose(coarse.columns[name], fine.columns[name], rtol=0,
                                   atol=TIME_TOLERANCE_MS, err_msg=name)
    if fine.passed is not None:
        np.testing.assert_array_equal(coarse.passed, fine.passed)
        np.testing.assert_allclose(coarse.margin, fine.margin, rtol=0, atol=1e-9)


@settings(max_examples=28, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(drawn=grids())
def test_a_coarse_sweep_gives_what_dt_0_1_gives(shipped, drawn):
    letter, axes = drawn
    preset = shipped[letter]
    coarse = sweep.run_sweep(preset, axes)
    fine = sweep.run_sweep(preset, axes, dt=0.1)
    assert coarse.dt == expected_dt(preset, axes) and fine.dt == 0.1
    assert coarse.plan.coarse and not fine.plan.coarse
    assert_same_sweep(coarse, fine)
    for i in coarse.samples:  # the trains of the raster
        np.testing.assert_allclose(coarse.spike_train(i), fine.spike_train(i), rtol=0,
                                   atol=TIME_TOLERANCE_MS)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(durations=st.lists(st.floats(0.05, 500.0), min_size=1, max_size=5),
       rate=st.floats(0.0, 10.0))
def test_the_coarsest_grid_fits_and_no_coarser_one_does(durations, rate):
    """The grid fits the schedule, keeps rate × dt within the modal form, and the next
    coarser whole number of steps breaks one of the two."""
    from gifcli.simulation.grid import MODAL_REACH, fits_schedule

    segments = [(1.0, d) for d in durations]
    dt = coarsest_dt(segments, rate)
    assert fits_schedule(segments, dt) and rate * dt <= MODAL_REACH
    steps = round(sum(durations) / dt)
    if steps > 1:
        coarser = sum(durations) / (steps - 1)
        assert not fits_schedule(segments, coarser) or rate * coarser > MODAL_REACH


def test_equal_segments_step_at_their_length():
    assert coarsest_dt([(1.0, 25.0)] * 4) == 25.0  # was 20: a padding took one step more
    assert coarsest_dt([(1.0, 25.0)] * 4, 0.049) == 10.0  # 0.49 / 0.049 = 10 ms


def test_the_grid_is_that_of_the_whole_grid_whatever_the_chunks(shipped):
    """A fast rate in the last chunk sets the grid of every chunk (so a resumed sweep, or a
    chunk on a worker, steps on the same grid), and chunked results are the whole one's."""
    preset = shipped["M"]
    axes = [sweep.Axis("k1", np.array([0.1, 0.2, 0.3, 0.6]))]
    whole = sweep.plan_sweep(preset, axes)
    cut = sweep.plan_sweep(preset, axes, chunk_points=1)
    assert whole.dt == cut.dt == coarsest_dt(list(preset.segments), 0.6) < \
        coarsest_dt(list(preset.segments), 0.2)
    assert cut.chunks.count == 4
    last = cut.compute(3)
    ref = whole.compute_points(np.array([3]))
    for name in sweep.COLUMNS:
        np.testing.assert_array_equal(last.columns[name], ref.columns[name])


def test_a_given_dt_and_fixed_step_methods_keep_their_grid_afterpotentials_too(shipped):
    axes = [sweep.Axis("a", np.array([0.0, 0.005]))]
    assert sweep.plan_sweep(shipped["M"], axes, dt=0.05).dt == 0.05
    assert sweep.plan_sweep(shipped["M"], axes, dt=0.5).dt == 0.5
    for method in ("euler", "exp-euler"):
        plan = sweep.plan_sweep(shipped["M"], axes, method=method)
        assert plan.dt == 0.1 and not plan.coarse
    plan = sweep.plan_sweep(shipped["Q"], axes)  # V's extrema are continuous: coarse too
    assert plan.coarse and plan.dt > 1.0


def test_a_rate_beyond_the_cap_steps_at_0_1_not_finer(shipped):
    axes = [sweep.Axis("k2", np.array([0.02, 30.0]))]
    coarse = sweep.run_sweep(shipped["M"], axes)
    assert coarse.dt == 0.1  # not 0.49 / 30 = 0.016
    assert_same_sweep(coarse, sweep.run_sweep(shipped["M"], axes, dt=0.1))


# --- the f–I probe and gif fi -----------------------------------------------------------------


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(letter=st.sampled_from("BH"), tau=st.floats(8.0, 40.0), k1=st.floats(0.05, 0.8),
       a=st.floats(0.0, 0.01))
def test_the_probe_at_its_coarse_grid_finds_the_onsets_and_rates_of_dt_0_1(shipped, letter,
                                                                           tau, k1, a):
    preset = shipped[letter]
    params = dict(preset.params) | {"tau": np.array([tau, 20.0]), "k1": np.array([k1, 0.2]),
                                    "a": np.array([a, preset.params["a"]])}
    amplitude = probe.probe_amplitude(preset.segments)
    fine = probe.Probe(params, preset.initial, amplitude, 2, "exact", 0.1)
    rate = max(k1, 0.2, 1.0 / min(tau, 20.0), preset.params["k2"], preset.params["b"])
    coarse = replace(fine, fastest_rate=rate)
    assert coarse.steady_dt == coarsest_dt([(1.0, 1000.0)], rate) > 0.1
    found, expected = probe.onsets(coarse), probe.onsets(fine)
    for name in ("scale", "rate", "rate_above"):  # bisections on counts: equal to the bit
        np.testing.assert_array_equal(getattr(found, name), getattr(expected, name))
    scale = np.array([0.7, 1.5])
    np.testing.assert_array_equal(coarse.rates(scale), fine.rates(scale))


def test_fi_curves_at_the_coarse_grid_are_those_of_dt_0_1(shipped):
    for letter in "BH":
        preset = shipped[letter]
        (coarse,), (fine,) = (sweep.fi_curves([preset], 0.5, 1.5, 11, dt=dt)
                              for dt in (None, 0.1))
        assert coarse.dt == coarsest_dt([(1.0, 1000.0)], 0.2) and fine.dt == 0.1
        for name in ("scale", "rate", "onset_scale", "onset_rate", "zoom_scale",
                     "zoom_rate"):
            np.testing.assert_array_equal(getattr(coarse, name), getattr(fine, name))
    (euler,) = sweep.fi_curves([shipped["B"]], 0.5, 1.5, 3, method="euler", zoom=False)
    assert euler.dt == 0.1


# --- fits -----------------------------------------------------------------------------------


def problem_scores(preset, free, targets, dt, x):
    """The scores of the candidates ``x`` as a fit's search computes them."""
    rate = fit.search.search_rate(preset, free, "exact", dt)
    problem = fit.search._Problem(preset, tuple(free), targets, "exact", dt or 0.1, rate)
    return problem.dt, problem.evaluate(x)


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), pattern=st.booleans())
def test_a_search_at_the_coarse_grid_scores_as_at_dt_0_1(shipped, seed, pattern):
    """Equal scores to 1e-9 at every well-conditioned candidate: one whose score is the same
    at dt 0.1 and at the fine grid 500/5001 ms. In the others (bursts whose train an error of
    one rounding changes by 1e-2 ms within a few dozen spikes, at any two grids) the spike
    times are float64's, not the grid's: float64 decides them at any dt."""
    preset = shipped["M"]
    free = [fit.Free("a", -0.01, 0.02), fit.Free("k1", 0.05, 0.5), fit.Free("A2", -1.0, 0.0)]
    target = (fit.PatternTarget("tonic_bursting") if pattern else
              fit.SpikeTarget(np.array([20.0, 60.0, 150.0, 151.5, 153.0, 400.0])))
    x = np.random.default_rng(seed).random((16, 3))
    coarse_dt, coarse = problem_scores(preset, free, (target,), None, x)
    fine_dt, fine = problem_scores(preset, free, (target,), 0.1, x)
    _, witness = problem_scores(preset, free, (target,), 500.0 / 5001.0, x)
    assert coarse_dt == coarsest_dt(list(preset.segments), 0.5) and fine_dt == 0.1
    conditioned = np.abs(fine - witness) <= 1e-9
    assert conditioned.sum() >= 12  # not vacuous: most candidates are well-conditioned
    np.testing.assert_allclose(coarse[conditioned], fine[conditioned], rtol=0, atol=1e-9)


def test_a_fit_records_the_grid_it_searched(shipped):
    preset = shipped["A"]
    free = [fit.Free("a", -0.01, 0.01), fit.Free("tau", 10.0, 30.0)]
    target = fit.SpikeTarget(np.array([30.0, 80.0, 130.0]))
    found = fit.fit(preset, free, target, budget=64)
    assert found.search_dt == coarsest_dt(list(preset.segments), 0.2) and found.dt == 0.1
    assert found.run.dt == 0.1  # the fitted runs: the preset's grid
    given = fit.fit(preset, free, target, budget=64, dt=0.05)
    assert given.search_dt == given.dt == 0.05
    same = fit.fit(preset, free, target, budget=64, dt=0.1)
    assert same.values == pytest.approx(found.values, abs=1e-9)
    reads_v = fit.fit(shipped["Q"], [fit.Free("A1", 0.0, 10.0)],
                      fit.PatternTarget("afterpotentials"), budget=64)
    Q = shipped["Q"]  # reads V's extrema, which are continuous: searched coarse too
    assert reads_v.search_dt == coarsest_dt(list(Q.segments), 0.2) > 0.1


# --- the command line -----------------------------------------------------------------------


def gif(*args: str):
    from typer.testing import CliRunner

    from gifcli.cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_sweep_records_the_grid_in_the_json_and_the_store_and_resumes_on_it(tmp_path):
    import zarr

    args = ["sweep", "M", "-p", "k1=0.1,0.2,0.4", "-p", "a=0,0.005", "-f", "json,zarr",
            "--chunk-points", "2", "--out", str(tmp_path)]
    run = gif(*args)
    assert run.exit_code == 0, run.output
    coarse = coarsest_dt([(2.0, 500.0)], 0.4)
    assert f"(exact, dt = {coarse:g} ms)" in run.output
    stem = tmp_path / "tonic_bursting_sweep_k1_a"
    summary = json.loads(Path(f"{stem}.json").read_text())
    assert summary["dt"] == coarse
    store = f"{stem}.zarr"
    assert json.loads(zarr.open_group(store, mode="r").attrs["gifcli_sweep"])["dt"] == coarse
    before = zarr.open_group(store, mode="r")["n_spikes"][:]
    (Path(store) / "n_spikes" / "1.0").unlink()  # a chunk lost: --resume computes it again
    again = gif(*args, "--resume")
    assert again.exit_code == 0, again.output
    np.testing.assert_array_equal(zarr.open_group(store, mode="r")["n_spikes"][:], before)
    other = gif(*args, "--resume", "--dt", "0.1")  # another grid is another sweep
    assert other.exit_code == 2 and "dt = 0.1 ms" in other.output


def test_cli_sweep_and_fi_use_a_given_dt(tmp_path):
    run = gif("sweep", "M", "-p", "a=0,0.005", "-f", "json", "--dt", "0.1", "--out",
              str(tmp_path))
    assert run.exit_code == 0, run.output
    assert json.loads((tmp_path / "tonic_bursting_sweep_a.json").read_text())["dt"] == 0.1
    for dt, expected in ((None, coarsest_dt([(1.0, 1000.0)], 0.2)), ("0.1", 0.1)):
        out = tmp_path / f"fi{dt}"
        run = gif("fi", "B", "--num", "5", "-f", "json", "--out", str(out),
                  *(["--dt", dt] if dt else []))
        assert run.exit_code == 0, run.output
        (written,) = out.iterdir()
        assert json.loads(written.read_text())["curves"][0]["dt"] == expected


def test_cli_fit_json_records_both_grids(tmp_path):
    run = gif("fit", "A", "--pattern", "tonic_spiking", "-F", "a=-0.01:0.01", "--budget",
              "64", "-f", "json", "--out", str(tmp_path))
    assert run.exit_code == 0, run.output
    summary = json.loads((tmp_path / "tonic_spiking_fit.json").read_text())
    coarse = coarsest_dt([(1.5, 200.0)], 0.2)
    assert summary["dt"] == 0.1 and summary["search_dt"] == coarse
    assert f"dt = 0.1 ms (searched at {coarse:.4g} ms)" in " ".join(run.output.split())


def test_the_example_of_sweeps_md_prints_what_the_page_shows(tmp_path, monkeypatch):
    page = (Path(__file__).resolve().parent.parent / "docs" / "sweeps.md").read_text(
        encoding="utf-8")
    command = "$ gif sweep M -p a=0:0.01:5 -f csv --out x\n"
    shown = page[page.index(command) + len(command):].split("```")[0]
    monkeypatch.chdir(tmp_path)
    run = gif(*command.split()[2:])  # less "$ gif"
    assert run.exit_code == 0, run.output
    assert run.output.split() == shown.split()  # the same words, wrapped at any width
