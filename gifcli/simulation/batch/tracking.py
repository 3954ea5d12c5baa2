"""Following V for ``track_after``: each neuron's first peak from a grid point on, and the
lowest V after it, as :class:`gifcli.analysis.checks.Extrema` reads them off a single trace.

V comes from the state in the arithmetic of ``kernel.from_modal`` and ``simulate_trace``; the
updates are branch-free, so that the vector passes that call them (the tracked modal passes
of :mod:`~gifcli.simulation.batch.vector_pass`) still vectorise.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Following V (track_after): per neuron of a block, its first peak so far and the lowest V
# since (inf: none yet), in two arrays of their own. A modal block also keeps V's weights in
# the rows of P that its step does not use (P_WEIGHTS, as V_of's first five): the tracked
# step then writes as few arrays as LLVM's vectoriser takes (a third one and it gives up).
P_WEIGHTS = 4


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
def _v_from(c1, c2, c3, w1, w2, w3, ev1, ev2, v_star_j):
    """V from the state, as kernel.from_modal and simulate_trace compute it: w1..w3 are
    1 / the modal weights of c1, c2, c3 (in the triangular form 0, 0 and 1, with EV1 = EV2 =
    0: V = y_V + v* exactly)."""
    return ev1 * (c1 * w1) + ev2 * (c2 * w2) + c3 * w3 + v_star_j


@njit(cache=True, inline="always")
def _v_of(c1, c2, c3, V_of, v_star, j):
    """V from the state, V_of's rows 0-4 holding _v_from's weights (row 5: V_reset)."""
    return _v_from(c1, c2, c3, V_of[0, j], V_of[1, j], V_of[2, j], V_of[3, j], V_of[4, j],
                   v_star[j])


@njit(cache=True, inline="always")
def _track(Y, F, V_of, v_star, n, fixed_step, peak, trough):
    """Every neuron's V at a grid point (the state Y after the step, as simulate_trace
    records it) into its running peak and trough."""
    for j in range(n):
        v = _v_of(Y[0, j], Y[1, j], Y[2, j], V_of, v_star, j)
        # a fixed-step spike shows the reset value itself, as simulate_trace records it
        reset = fixed_step & (F[j] != 0)
        _track_value(peak, trough, j, V_of[5, j] if reset else v, True)


@njit(cache=True, inline="always")
def _track_state(track, j, k, y, v_star):
    """Modal neuron j's V at grid point k from its state y, after a step that the spike pass
    made or replayed, when ``track`` = (V_of, peak, trough, track_from) follows that point."""
    V_of, peak, trough, track_from = track
    if 0 <= track_from <= k:
        _track_value(peak, trough, j, _v_of(y[0], y[1], y[2], V_of, v_star, j), True)

