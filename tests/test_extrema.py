"""V's extrema after the pulse (afterpotentials, ``exact``) are those of continuous time.

The reference (tests/reference.py: SciPy's matrix exponential, its own spike times) is
sampled every 1 µs from `after` to the run's end, piece by piece between its events, and
the best sample refined on the closed form; gifcli's extrema (gifcli.simulation.extrema,
from the kernel's spike times at some dt) must agree within 1e-9 mV at every dt.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import FINE_STEP, Reference, expm, system
from scipy.optimize import minimize_scalar

from gifcli.analysis import checks
from gifcli.analysis.checks import Extrema
from gifcli.analysis.features import SpikeTrains
from gifcli.model.preset import shipped_presets
from gifcli.simulation.batch import run_batch
from gifcli.simulation.grid import coarsest_dt
from gifcli.simulation.single import simulate

Q = next(p for p in shipped_presets() if p.name == "afterpotentials")
AFTER = 15.0  # Q's pulse ends here
TOLERANCE = 1e-9  # mV


def pieces(params, segments, initial, after):
    """(t0, t1, y0, x*) of every piece of V's reference trajectory in [after, end]: between
    its own spikes (reset to its after-spike states) and segment boundaries."""
    trajectory = Reference(params).run(segments, initial)
    M, _ = system(params, 0.0)
    ends = np.cumsum([d for _, d in segments])
    events = sorted({after, *ends, *trajectory.spike_times})
    spikes = dict(zip(trajectory.spike_times, trajectory.after, strict=True))
    x = np.array([initial[name] for name in ("I1", "I2", "V", "V_th")], dtype=float)
    t, out = 0.0, []
    for t1 in events:
        seg = min(int(np.searchsorted(ends, t, side="right")), len(segments) - 1)
        _, x_star = system(params, segments[seg][0])
        y0 = x - x_star
        if t >= after:
            out.append((t, t1, y0, x_star))
        x = expm(M * (t1 - t)) @ y0 + x_star
        if t1 in spikes:
            x = spikes[t1]
        t = t1
    return M, out


def extreme(M, parts, sign, start):
    """(max of sign·V, where) over the parts from ``start`` on: 1 µs samples, then the best
    sample's neighbourhood refined on the closed form."""
    best, best_at = -np.inf, np.nan
    for t0, t1, y0, x_star in parts:
        if t1 < start:
            continue
        lo = max(t0, start)
        s = np.append(np.arange(lo - t0, t1 - t0, FINE_STEP), t1 - t0)
        v = sign * ((expm(M[None] * s[:, None, None]) @ y0)[:, 2] + x_star[2])
        j = int(np.argmax(v))

        def f(u, y0=y0, x_star=x_star):
            return -sign * ((expm(M * u) @ y0)[2] + x_star[2])

        a, b = s[max(j - 1, 0)], s[min(j + 1, s.size - 1)]
        top, top_at = v[j], t0 + s[j]
        if b > a:
            found = minimize_scalar(f, bounds=(a, b), method="bounded",
                                    options={"xatol": 1e-12})
            if -found.fun > top:
                top, top_at = -found.fun, t0 + found.x
        if top > best:
            best, best_at = top, top_at
    return best, best_at


def reference_extrema(params, segments, initial, after):
    M, parts = pieces(params, segments, initial, after)
    peak, peak_at = extreme(M, parts, 1.0, after)
    return peak, peak_at, -extreme(M, parts, -1.0, peak_at)[0]


def gif_extrema(preset, dt):
    run = simulate(preset, "exact", dt)
    return Extrema.of_spikes(preset.params, preset.initial, 1.0, preset.segments,
                             SpikeTrains.single(run.spike_times, run.duration), AFTER,
                             np.array([0]))


def varied(**changes):
    from dataclasses import replace

    params = dict(Q.params) | {k: v for k, v in changes.items() if k != "scale"}
    scale = changes.get("scale", 1.0)
    return replace(Q, params=params, segments=tuple((a * scale, d) for a, d in Q.segments))


DTS = (0.01, 0.1, 0.5, coarsest_dt(Q.segments))


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(a=st.floats(-0.01, 0.02), A1=st.floats(0.0, 12.0), A2=st.floats(-1.5, 0.5),
       k1=st.floats(0.05, 0.5), scale=st.floats(0.7, 1.6))
def test_extrema_equal_a_dense_reference_at_every_dt(a, A1, A2, k1, scale):
    preset = varied(a=a, A1=A1, A2=A2, k1=k1, scale=scale)
    peak, _peak_at, trough = reference_extrema(preset.params, preset.segments, preset.initial,
                                               AFTER)
    for dt in DTS:
        got = gif_extrema(preset, dt)
        assert abs(got.peak[0] - peak) <= TOLERANCE, (dt, got.peak[0] - peak)
        assert abs(got.trough[0] - trough) <= TOLERANCE, (dt, got.trough[0] - trough)


@pytest.mark.parametrize("rates", [{"k1": 0.05}, {"k2": 0.05}, {"k1": 0.05, "b": 0.05},
                                   {"k1": 0.05 * (1 + 1e-9)}], ids=str)
def test_coinciding_rates_need_no_special_case(rates):
    """1/tau = 0.05: k1 or k2 on it (V's closed form then holds t·e^{-t/tau}), or nearly."""
    preset = varied(A1=8.0, **rates)
    peak, _, trough = reference_extrema(preset.params, preset.segments, preset.initial, AFTER)
    for dt in (0.1, 1.0):
        got = gif_extrema(preset, dt)
        assert abs(got.peak[0] - peak) <= TOLERANCE, (dt, got.peak[0] - peak)
        assert abs(got.trough[0] - trough) <= TOLERANCE, (dt, got.trough[0] - trough)


def test_a_boundary_after_the_pulse_is_crossed_in_closed_form():
    """A third segment (off the dt = 0.5 grid, at 100.3 ms) that pulls V down: the trough
    lies in it, and the walk re-centres on its fixed point there."""
    from dataclasses import replace

    preset = replace(Q, segments=((2.0, 15.0), (0.0, 85.3), (-0.5, 99.7)))
    peak, _, trough = reference_extrema(preset.params, preset.segments, preset.initial, AFTER)
    assert trough < -72.0  # below Q's own trough: the third segment's
    for dt in (0.1, 0.5):
        got = gif_extrema(preset, dt)
        assert abs(got.peak[0] - peak) <= TOLERANCE, (dt, got.peak[0] - peak)
        assert abs(got.trough[0] - trough) <= TOLERANCE, (dt, got.trough[0] - trough)


def test_a_peak_between_grid_points_is_found():
    """A sharp afterpotential (a strong, fast current I1; one spike, in the pulse): at dt = 1
    the grid's highest V (at 16 ms) misses the peak (at 16.41 ms) by 0.22 mV; the extrema do
    not."""
    preset = varied(k1=2.0, A1=30.0)
    peak, peak_at, trough = reference_extrema(preset.params, preset.segments, preset.initial,
                                              AFTER)
    run = simulate(preset, "exact", 1.0)
    on_grid = Extrema.of_trace(run.t, run.V, AFTER)
    assert peak - on_grid.peak[0] > 0.1
    got = gif_extrema(preset, 1.0)
    assert abs(got.peak[0] - peak) <= TOLERANCE
    assert abs(got.peak_time[0] - peak_at) <= 1e-3
    assert abs(got.trough[0] - trough) <= TOLERANCE


def test_a_spike_after_the_pulse_peaks_at_threshold_and_troughs_at_the_reset():
    """A spike after `after` is part of V's trajectory: V reaches V_th at the crossing, then
    V_reset (both count)."""
    preset = varied(A1=40.0)
    run = simulate(preset, "exact", 0.1)
    later = run.spike_times[run.spike_times > AFTER]
    assert later.size
    got = gif_extrema(preset, 0.1)
    peak, _, trough = reference_extrema(preset.params, preset.segments, preset.initial, AFTER)
    assert abs(got.peak[0] - peak) <= 1e-6  # the crossing: its time to 1e-9 ms
    assert got.trough[0] <= preset.params["V_reset"]


def test_batch_equals_single_to_the_bit():
    rng = np.random.default_rng(5)
    n = 24
    params = {"a": rng.uniform(-0.01, 0.02, n), "A1": rng.uniform(0, 12, n),
              "A2": rng.uniform(-1.5, 0.5, n)}
    scale = rng.uniform(0.7, 1.6, n)
    base = {k: v for k, v in Q.params.items() if k not in params}
    batch = run_batch(base | params, list(Q.segments), dt=0.1, initial=Q.initial,
                      input_scale=scale, record=2000)
    assert (batch.status == 0).all() and (batch.n_dropped == 0).all()
    together = Extrema.of_spikes(base | params, Q.initial, scale, Q.segments, batch.trains(),
                                 AFTER, np.arange(n))
    for i in range(n):
        one = varied(scale=scale[i], **{k: v[i] for k, v in params.items()})
        alone = gif_extrema(one, 0.1)
        assert together.peak[i] == alone.peak[0]
        assert together.trough[i] == alone.trough[0] or np.isnan(alone.trough[0])
        assert together.peak_time[i] == alone.peak_time[0]


@pytest.mark.parametrize("dt", DTS)
def test_q_passes_with_the_same_margin_at_every_dt(dt):
    """Every margin, those of the peak and the trough (mV) included."""
    verdicts = [checks.evaluate(simulate(Q, "exact", step)) for step in (0.01, dt)]
    assert all(v.passed for v in verdicts)
    fine, coarse = ({m.condition: m.value for m in v.margins} for v in verdicts)
    assert fine.keys() == coarse.keys() and any("mV" in name for name in fine)
    for name, value in fine.items():
        assert abs(coarse[name] - value) < 1e-9, name


def test_points_outside_the_chosen_are_nan():
    trains = SpikeTrains.single([14.7], 200.0)
    both = SpikeTrains.concatenate([trains, trains])
    got = Extrema.of_spikes(Q.params, Q.initial, 1.0, Q.segments, both, AFTER, np.array([1]))
    assert np.isnan(got.peak[0]) and np.isfinite(got.peak[1])
