"""`euler` and `exp-euler` converge to `exact` at first order (docs/model.md: "The first spike
time error should be O(dt) for both").

What is measured: e(dt) = (first spike of the method) - (first spike of exact), at
dt = 0.1, 0.05, 0.025, 0.0125 ms, and the slope of log|e| against log dt (least squares).

Why 0.8 <= slope <= 1.2. A first-order method's crossing is off by C·dt + O(dt²), and the
fixed-step methods report the end of the step that holds it, which adds q·dt with q in [0, 1).
So |e|/dt = |C + q| + O(dt): the truncation term gives slope 1, and the reporting sawtooth
can move each log|e| by at most log(|C| / (|C| - 1)). With four points spaced by log 2, the
fitted slope moves by at most 2/(5 ln 2) ≈ 0.58 times that. The cases below are the ones
where the truncation error dominates: |C| >= 4 (asserted: |e| >= 3 dt at every dt), so the
sawtooth moves the slope by at most 0.58 · ln(4/3) ≈ 0.17, and the O(dt²) term (about
rate · dt ≈ 0.01 relative) by far less. A slope outside [0.8, 1.2] means order 0 (no
convergence) or order 2, not sawtooth. The other presets are left out because their first
spike error is mostly the sawtooth itself (|C| < 1: e.g. C, M, P give the same grid time
at every dt), which says nothing about the order.

The cases also keep the first spike well away from segment boundaries (>= 14 ms; asserted
>= 10 ms), and all their boundaries lie on every grid used, so the fixed-step methods'
boundary rounding plays no part.
"""

from __future__ import annotations

import numpy as np
import pytest

from gifcli.simulation.single import simulate

DTS = np.array([0.1, 0.05, 0.025, 0.0125])
CASES = [
    ("euler", "B"),  # class 1: a slow approach to threshold, first spike at 276 ms
    ("euler", "G"),  # rebound spiking, first spike 49 ms after the inhibition ends
    ("euler", "O"),  # rebound bursting, first spike 52 ms after the inhibition ends
    ("exp-euler", "G"),
    ("exp-euler", "O"),
    ("exp-euler", "T"),  # spike latency, a = -0.08: first spike 14 ms after the pulse
]


def first_spike(preset, method, dt) -> float:
    spikes = simulate(preset, method=method, dt=dt).spike_times
    assert spikes.size, f"{preset.name} {method} dt={dt}: no spike"
    return float(spikes[0])


@pytest.fixture(scope="module")
def exact_first_spikes(shipped):
    return {letter: first_spike(shipped[letter], "exact", 0.1) for _, letter in CASES}


@pytest.mark.parametrize(("method", "letter"), CASES, ids=[f"{m}-{x}" for m, x in CASES])
def test_first_spike_error_is_first_order(method, letter, shipped, exact_first_spikes):
    preset = shipped[letter]
    exact = exact_first_spikes[letter]
    ends = np.cumsum([duration for _, duration in preset.segments])
    assert np.min(np.abs(ends - exact)) >= 10.0, "first spike too close to a boundary"
    on_grid = ends[:, None] / DTS[None, :]
    assert np.all(np.abs(on_grid - np.round(on_grid)) < 1e-9), "a boundary off the grid"
    errors = np.array([first_spike(preset, method, dt) - exact for dt in DTS])
    assert np.all(np.abs(errors) >= 3 * DTS), f"truncation does not dominate: {errors}"
    assert np.all(np.sign(errors) == np.sign(errors[0])), f"error changes sign: {errors}"
    slope = np.polyfit(np.log(DTS), np.log(np.abs(errors)), 1)[0]
    assert 0.8 <= slope <= 1.2, f"slope {slope:.3f}, errors {errors}"


def test_exp_euler_is_exact_between_spikes_for_class_1(shipped):
    """With a = 0 and no spike currents (B), V obeys dV/dt = -(V - V*)/tau alone and V_th
    stays put, and exponential Euler integrates that exactly. So its first spike is the
    first grid point at or after the true crossing: 0 <= e < dt at every dt."""
    preset = shipped["B"]
    exact = first_spike(preset, "exact", 0.1)
    for dt in DTS:
        error = first_spike(preset, "exp-euler", dt) - exact
        assert -1e-6 <= error < dt + 1e-6, f"dt={dt}: error {error}"
