"""The batched kernel against the single-neuron path, neuron by neuron.

Every neuron of a batched run must give the spike times of
``gifcli.simulation.single.simulate`` for the same parameters, initial state and (scaled)
input, to the bit, with every method. Also:
the per-neuron statistics match ``gifcli.analysis.features``, the spike buffer keeps the first
spikes and counts the rest, and bad input is refused.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from gifcli.analysis import features
from gifcli.core.errors import GifError, SimulationError
from gifcli.model.parameters import DEFAULTS, PARAMETER_NAMES, STATE_NAMES, parameter_problem
from gifcli.model.preset import Preset
from gifcli.simulation import batch, kernel
from gifcli.simulation.batch import blocks, vector_pass
from gifcli.simulation.single import parameter_vector, simulate

METHODS = ("exact", "euler", "exp-euler")


def random_params(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` valid parameter sets (rows in model.PARAMETERS order) that mostly fire a little."""
    columns = {
        "V_rest": rng.uniform(-75, -65, n),
        "V_th_inf": rng.uniform(-55, -45, n),
        "V_th_reset": rng.uniform(-65, -55, n),
        "R": rng.uniform(5, 30, n),
        "tau": rng.uniform(5, 40, n),
        "a": rng.uniform(-0.02, 0.04, n),
        "b": rng.uniform(0.005, 0.05, n),
        "k1": rng.uniform(0.05, 0.5, n),
        "k2": rng.uniform(0.005, 0.05, n),
        "R1": rng.uniform(0, 1, n),
        "R2": rng.uniform(0, 1, n),
        "A1": rng.uniform(-5, 10, n),
        "A2": rng.uniform(-1, 1, n),
    }
    columns["V_reset"] = columns["V_th_reset"] - rng.uniform(1, 15, n)
    rows = np.stack([columns[name] for name in PARAMETER_NAMES], axis=1)
    for row in rows:
        assert parameter_problem(dict(zip(PARAMETER_NAMES, row, strict=True))) is None
    return rows


def random_segments(rng: np.random.Generator) -> tuple[tuple[float, float], ...]:
    """1 to 4 segments whose boundaries mostly fall between the points of a 0.1 ms grid."""
    count = int(rng.integers(1, 5))
    return tuple((float(rng.uniform(-1.0, 5.0)), float(np.round(rng.uniform(8, 80), 2)))
                 for _ in range(count))


def single(params: np.ndarray, initial: np.ndarray, segments, method: str, dt: float,
           scale: float = 1.0) -> np.ndarray | None:
    """The single-neuron path's spike times, or None if it refuses to finish."""
    preset = Preset(name="random", title="random", segments=tuple(
        (a * scale, d) for a, d in segments), params=dict(zip(PARAMETER_NAMES, params,
                                                              strict=True)),
        initial_given=dict(zip(STATE_NAMES, initial, strict=True)), dt=dt)
    try:
        return simulate(preset, method, dt).spike_times
    except SimulationError:
        return None


def assert_same(result: batch.BatchResult, k: int, expected: np.ndarray | None,
                where: str) -> None:
    if expected is None:
        assert result.status[k] == batch.TOO_MANY_SPIKES, where
        return
    assert result.status[k] == batch.OK, where
    assert result.n_spikes[k] == expected.size, where
    got = result.spikes(k)  # the first ones, as many as the buffer holds
    np.testing.assert_array_equal(got, expected[: got.size], err_msg=where)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", range(4))
def test_random_parameters_match_single_path(method, seed):
    """100 random neurons per seed, each with its own parameters, initial state and input
    scale, under a random multi-segment schedule with off-grid boundaries: 400 parameter sets
    per method."""
    rng = np.random.default_rng(seed)
    n = 100
    params = random_params(rng, n)
    initial = np.stack([rng.uniform(-2, 2, n), rng.uniform(-2, 2, n), rng.uniform(-80, -50, n),
                        rng.uniform(-55, -40, n)], axis=1)
    segments = random_segments(rng)
    dt = float(rng.choice([0.1, 0.07, 0.25]))
    dt = min(dt, min(d for _, d in segments))
    scale = rng.uniform(0.5, 1.5, n)
    result = batch.run_batch(params, segments, method=method, dt=dt, initial=initial,
                             input_scale=scale, record=4000)
    fired = 0
    for k in range(n):
        expected = single(params[k], initial[k], segments, method, dt, scale[k])
        assert_same(result, k, expected, f"seed {seed}, neuron {k}, {segments}, {dt}")
        fired += expected is not None and expected.size > 0
    assert fired >= n // 4  # the comparison is about spikes: most neurons must fire


@pytest.mark.parametrize("method", METHODS)
def test_presets_match_single_path_with_input_scale(shipped, method):
    """The 20 presets, each at three input scales in one batch (per-neuron ``input_scale``)."""
    scales = np.array([1.0, 0.85, 1.2])
    for preset in shipped.values():
        dt = preset.dt or 0.1
        initial = np.array([preset.initial[s] for s in STATE_NAMES])
        result = batch.run_batch(parameter_vector(preset.params), preset.segments,
                                 method=method, dt=dt, initial=initial, input_scale=scales,
                                 record=1000)
        for k, scale in enumerate(scales):
            expected = single(parameter_vector(preset.params), initial, preset.segments,
                              method, dt, scale)
            assert_same(result, k, expected, f"{preset.name} x {scale}")


@pytest.mark.parametrize("dt", [0.1, 0.25, 1.0, 2.0])
def test_modal_crossings_are_those_of_the_single_path_to_the_bit(dt):
    """``exact`` in the modal form: a pass's crossings are located together in the batch, and
    one at a time by kernel.modal_spikes in the single path, with the same arithmetic (at
    dt = 1 and 2 most take two or three Newton rounds, at 0.1 one). From
    a quiet neuron to one that fires several times in a step (where the batch hands the step
    back to modal_spikes), every spike time is the same float."""
    n = 120
    scale = np.geomspace(0.7, 400.0, n)
    params = {"a": np.linspace(-0.008, 0.03, n), "A1": 10.0, "A2": -0.6}
    segments = [(2.0, 30.0), (1.0, 20.0)]
    result = batch.run_batch(params, segments, dt=dt, input_scale=scale, record=20_000)
    several_in_a_step = 0
    for k in range(n):
        neuron = dict(DEFAULTS, a=params["a"][k], A1=10.0, A2=-0.6)
        expected = single(parameter_vector(neuron), np.array([0.0, 0.0, -70.0, -50.0]),
                          segments, "exact", dt, scale[k])
        assert result.status[k] == batch.OK and result.n_spikes[k] == expected.size
        np.testing.assert_array_equal(result.spikes(k), expected, err_msg=f"neuron {k}")
        steps = np.floor(expected / dt)
        several_in_a_step += int(np.any(steps[1:] == steps[:-1]))
    assert several_in_a_step >= 10
    assert np.all(blocks._modal_flags(*batch.split_params(params), n, dt))  # all modal


@pytest.mark.parametrize("method", METHODS)
def test_blocks_and_threads_do_not_change_results(method):
    """The same neurons give the same statistics whatever the block size (1 to many blocks,
    partial blocks, every vector variant of the step)."""
    rng = np.random.default_rng(7)
    a = np.linspace(-0.01, 0.01, 300)
    common = dict(method=method, dt=0.1, record=64)
    schedule = [(2.0, 73.35), (0.5, 40.0), (2.5, 50.0)]
    runs = [batch.run_batch({"a": a, "A1": 10.0, "A2": -0.6}, schedule, block=b, **common)
            for b in (8, 40, 256)]
    params = random_params(rng, 300)
    runs_all_rows = [batch.run_batch(params, schedule, block=b, **common) for b in (16, 256)]
    for group in (runs, runs_all_rows):
        for other in group[1:]:
            for field in ("n_spikes", "first_spike_ms", "isi_mean_ms", "isi_m2", "n_bursts"):
                np.testing.assert_array_equal(getattr(group[0], field), getattr(other, field))
            np.testing.assert_array_equal(group[0].spike_times, other.spike_times)
    assert runs[0].n_spikes.sum() > 1000


def test_statistics_match_features():
    """Count, first spike, ISI mean and CV, bursts: as gifcli.analysis.features computes them."""
    rng = np.random.default_rng(3)
    params = random_params(rng, 200)
    segments = [(3.0, 150.0), (1.0, 100.0)]
    result = batch.run_batch(params, segments, dt=0.1, record=5000)
    kinds = set()
    for k in range(200):
        spikes = result.spikes(k)
        f = features.spike_features(spikes, result.duration_ms)
        assert result.n_spikes[k] == f.n_spikes
        assert result.rate_hz[k] == pytest.approx(f.rate_hz, rel=1e-12)
        assert result.n_bursts[k] == f.n_bursts
        if f.first_spike_ms is None:
            assert np.isnan(result.first_spike_ms[k])
        else:
            assert result.first_spike_ms[k] == f.first_spike_ms
        if f.isi_mean_ms is None:
            assert np.isnan(result.isi_mean_ms[k])
        else:
            assert result.isi_mean_ms[k] == pytest.approx(f.isi_mean_ms, rel=1e-12)
        if f.isi_cv is None:
            assert np.isnan(result.isi_cv[k])
        else:
            assert result.isi_cv[k] == pytest.approx(f.isi_cv, rel=1e-9, abs=1e-12)
        kinds.add((min(f.n_spikes, 3), f.n_bursts > 0))
    # silent, one spike, two spikes, many spikes; with and without bursts
    assert {(0, False), (1, False), (3, False), (3, True)} <= kinds


def test_record_keeps_the_first_spikes_and_counts_the_dropped():
    full = batch.run_batch({"a": np.zeros(4)}, [(3.0, 500.0)], record=10_000)
    short = batch.run_batch({"a": np.zeros(4)}, [(3.0, 500.0)], record=5)
    stats = batch.run_batch({"a": np.zeros(4)}, [(3.0, 500.0)])
    assert stats.spike_times is None
    assert full.n_spikes[0] > 5
    np.testing.assert_array_equal(short.n_spikes, full.n_spikes)
    np.testing.assert_array_equal(stats.n_spikes, full.n_spikes)
    np.testing.assert_array_equal(short.n_dropped, full.n_spikes - 5)
    np.testing.assert_array_equal(short.spikes(0), full.spikes(0)[:5])


def test_firing_without_end_is_marked_like_the_single_path():
    """A neuron held far above threshold fires on every step: past the per-step cap (exact)
    or the spike cap (all methods) it is stopped and marked, as simulate() raises."""
    params = {"a": np.array([0.0, 0.0])}
    result = batch.run_batch(params, [(0.0, 10.0), (5000.0, 10.0)], method="euler",
                             max_spikes=50, record=8, input_scale=np.array([1.0, 0.0]))
    assert list(result.status) == [batch.TOO_MANY_SPIKES, batch.OK]
    assert result.n_spikes[1] == 0
    exact = batch.run_batch({"A1": np.array([1e6, 0.0]), "V_th_reset": -50.0,
                             "V_reset": -51.0}, [(10.0, 20.0)], max_per_step=5)
    assert exact.status[0] == batch.TOO_MANY_SPIKES


def test_defaults_broadcast():
    """Scalars broadcast; default initial states follow a swept V_rest and V_th_inf."""
    v_rest = np.array([-70.0, -60.0])
    result = batch.run_batch({"V_rest": v_rest, "V_th_inf": v_rest + 15}, [(0.0, 50.0)],
                             record=4)
    assert list(result.n_spikes) == [0, 0]  # each starts at its own rest, below threshold
    x = batch.initial_states(*batch.split_params({"V_rest": v_rest}))
    np.testing.assert_array_equal(x[:, 2], v_rest)
    np.testing.assert_array_equal(x[:, 3], [DEFAULTS["V_th_inf"]] * 2)


@pytest.mark.parametrize("bad, message", [
    ({"tau": np.array([20.0, -1.0])}, "neuron 1: tau must be > 0"),
    ({"V_reset": np.array([-70.0, -50.0])}, "neuron 1: V_reset"),
    ({"a": np.array([0.0, np.nan])}, "neuron 1: a must be finite"),
    ({"nope": 1.0}, "unknown parameter 'nope'"),
    ({"a": np.zeros(3), "b": np.full(2, 0.01)}, "one common length"),
])
def test_bad_input_is_refused(bad, message):
    with pytest.raises(GifError, match=message):
        batch.run_batch(bad, [(1.0, 10.0)])


def test_bad_lengths_and_method_are_refused():
    with pytest.raises(GifError, match="differ in length"):
        batch.run_batch({"a": np.zeros(3)}, [(1.0, 10.0)], input_scale=np.ones(2))
    with pytest.raises(GifError, match="method"):
        batch.run_batch({"a": np.zeros(3)}, [(1.0, 10.0)], method="rk4")
    with pytest.raises(GifError, match="shape"):
        batch.run_batch(np.zeros((3, 13)), [(1.0, 10.0)])


def test_progress_is_reported_up_to_the_total():
    seen = []
    batch.run_batch({"a": np.linspace(0, 0.01, 3000)}, [(2.0, 20.0)],
                    progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (3000, 3000)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.parametrize("step", ["_step_all_rows", "_step_threshold_rows", "_step_no_rows",
                                  "_step2_threshold_rows", "_step2_no_rows", "_step_bounded"])
def test_the_vector_step_is_vectorised(step):
    """Each variant of the straight-line step compiles to packed SIMD multiplies (AVX-512 zmm
    or AVX2 ymm registers), and to no fused multiply-add (which would change the rounding of
    kernel.linear_step). Compiled afresh: a function loaded from the cache has no assembly.
    _step_bounded (triangular ``exact``) also takes its bound: packed max as well."""
    import numba

    function = numba.njit(getattr(vector_pass, step).py_func)
    width = 264
    Y = np.zeros((4, width))
    args = [Y, Y.copy(), np.zeros((kernel.P_SIZE, width)), np.zeros(width),
            np.zeros(width, np.uint8), 256, False, np.zeros(kernel.P_SIZE)]
    if step == "_step_all_rows":
        args = args[:-1]
    elif step == "_step_bounded":
        args = args[:-2]
    elif step.endswith("_no_rows"):
        del args[2]
    function(*args)
    asm = "".join(function.inspect_asm().values())
    for instruction in ("vmulpd", "vmaxpd") if step == "_step_bounded" else ("vmulpd",):
        packed = [line for line in asm.splitlines() if instruction in line]
        assert any("zmm" in line or "ymm" in line for line in packed), (step, instruction)
    assert "vfmadd" not in asm and "vfmsub" not in asm


def test_the_modal_step_is_vectorised():
    """The modal form's pass (four products and a sum per step, and the bound of the step:
    four max and a sum) is packed SIMD, unfused."""
    import numba

    function = numba.njit(vector_pass._modal_steps.py_func)
    width = 264
    Y = np.zeros((4, width))
    function(Y, Y.copy(), np.zeros((9, width)), np.zeros(width), np.zeros(width, np.uint8), 256)
    asm = "".join(function.inspect_asm().values())
    for instruction in ("vmulpd", "vmaxpd"):
        packed = [line for line in asm.splitlines() if instruction in line]
        assert any("zmm" in line or "ymm" in line for line in packed), instruction
    assert "vfmadd" not in asm and "vfmsub" not in asm


def test_scaled_preset_is_what_input_scale_means(shipped):
    """input_scale multiplies every amplitude (the sweep's f–I axis)."""
    preset = shipped["A"]
    scaled = replace(preset, segments=tuple((a * 1.3, d) for a, d in preset.segments))
    result = batch.run_batch(parameter_vector(preset.params), preset.segments, input_scale=1.3,
                             record=100)
    np.testing.assert_array_equal(result.spikes(0), simulate(scaled).spike_times)


def test_exact_follows_no_v_on_the_grid():
    """exact's V extrema are those of continuous time (gifcli.simulation.extrema): asking the
    batch to follow V at its grid points is refused in one sentence."""
    from gifcli.core.arguments import ArgumentError

    with pytest.raises(ArgumentError, match="^track_after follows V at the grid points"):
        batch.run_batch({}, [(1.0, 10.0)], method="exact", track_after=5.0)
    tracked = batch.run_batch({}, [(1.0, 10.0)], method="euler", track_after=5.0)
    assert np.isfinite(tracked.peak_mV).all()
