"""Following V for ``track_after`` (the fixed-step methods): each neuron's first peak from a
grid point on, and the lowest V after it, as :class:`gifcli.analysis.checks.Extrema` reads
them off a single trace. (``exact``'s extrema are those of continuous time, from the spike
trains: :mod:`gifcli.simulation.extrema`.)

V is the state's deviation plus V*, as ``simulate_trace`` records it; a step that fired
shows V_reset itself. The updates are branch-free, so that the loops around them vectorise.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _peak_trough(peak, trough, v, keep):
    """(peak, trough) after V = v: a new first peak starts a new trough; with ``keep`` False,
    nothing changes. Branch-free, so that the loops around it vectorise."""
    higher = (v > peak) & keep
    lower = (v < trough) & keep
    return (v if higher else peak), (np.inf if higher else (v if lower else trough))


@njit(cache=True, inline="always")
def _track_value(peak, trough, j, v, keep):
    """Neuron j's V into its first peak so far and the lowest V since."""
    peak[j], trough[j] = _peak_trough(peak[j], trough[j], v, keep)


@njit(cache=True, inline="always")
def _track(Y, F, v_reset, v_star, n, peak, trough):
    """Every neuron's V at a grid point (the state Y after the step, as simulate_trace
    records it: a step that fired shows V_reset itself) into its running peak and trough."""
    for j in range(n):
        v = v_reset[j] if F[j] != 0 else Y[2, j] + v_star[j]
        _track_value(peak, trough, j, v, True)
