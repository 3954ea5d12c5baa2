"""V's extrema after a time, in continuous time (``exact``): what afterpotentials reads.

Given a point's parameters, initial state, schedule and spike times, V(t) is known in closed
form piece by piece: from the start to the first event (a spike, a segment boundary, the
time ``after`` or the run's end), then from each event to the next, the state being reset at
each spike as the kernel resets it (``kernel.reset``) and re-centred at each boundary
(``kernel.enter_segment``). So the extrema need no grid: :func:`v_extrema` returns, per point,

- the *peak*: the maximum of V over [after, end], and the first time it is reached;
- the *trough*: the minimum of V over [peak time, end] (NaN when the peak is at the end).

At a spike at t_s ≥ after both sides count: V just before it (V_th at the crossing, as the
closed form reaches it) and V_reset just after. Single runs and sweeps call the same compiled
function with the same inputs (the spike times agree to the bit), so their extrema agree to
the bit; and since the spike times of ``exact`` do not depend on dt, neither do these.

On each piece the maximum is found by branch and bound (:func:`piece_extreme`): an
interval's ends give candidates, and V on [a, b] lies below max(V(a), V(b)) + B (b − a)²/8,
with B ≥ |V″| there (:func:`bends`); an interval that cannot beat the best candidate by more
than :data:`TOLERANCE` is dropped, as is one on which V is provably monotone or convex; one
on which it is provably concave gives its top by Newton on V′; the others are halved. The
result is within TOLERANCE (plus rounding) of the true maximum. See docs/integrators.md,
"V's extrema".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numba import njit, prange

from gifcli.simulation.kernel import (
    EXACT,
    I1,
    I2,
    K1,
    K2,
    TAU,
    R,
    V,
    decay_convolution,
    enter_segment,
    fixed_point,
    linear_step,
    propagator,
    reset,
)

TOLERANCE = 1e-12  # mV: an interval that cannot beat the best by more is dropped
MAX_DEPTH = 60  # halvings of a piece at most (a 200 ms piece: intervals of 2e-16 ms)


@njit(cache=True)
def state_at(p, y, tau):
    """(y1, y2, yV) at tau ms from the deviation y, with no spike in between: the kernel's
    propagator entries for a step of tau (V does not depend on V_th)."""
    g, mu = p[R] / p[TAU], 1.0 / p[TAU]
    return (math.exp(-p[K1] * tau) * y[I1], math.exp(-p[K2] * tau) * y[I2],
            g * decay_convolution(p[K1], mu, tau) * y[I1]
            + g * decay_convolution(p[K2], mu, tau) * y[I2] + math.exp(-mu * tau) * y[V])


@njit(cache=True, inline="always")
def slopes(p, y1, y2, yv):
    """(V′, V″) at the deviation (y1, y2, yV)."""
    g, mu = p[R] / p[TAU], 1.0 / p[TAU]
    return (g * (y1 + y2) - mu * yv,
            -g * (p[K1] + mu) * y1 - g * (p[K2] + mu) * y2 + mu * mu * yv)


@njit(cache=True, inline="always")
def bends(p, y1, y2, yv):
    """(B2, B3) ≥ (|V″|, |V‴|) at every later time, from the deviation (y1, y2, yV) now.

    |y1| and |y2| only decay; yV′ = g(y1 + y2) − μ yV, so |yV| never exceeds the larger of
    |yV| now and g(|y1| + |y2|)/μ (g = R/τ, μ = 1/τ). V″ = −g(k1 + μ) y1 − g(k2 + μ) y2
    + μ² yV and V‴ = g k1 (k1 + μ) y1 + g k2 (k2 + μ) y2 + μ² yV′ take their bounds term
    by term.
    """
    g, mu, k1, k2 = p[R] / p[TAU], 1.0 / p[TAU], p[K1], p[K2]
    a1, a2 = abs(y1), abs(y2)
    drive = g * (a1 + a2)
    reach = max(abs(yv), drive / mu)
    return (g * (k1 + mu) * a1 + g * (k2 + mu) * a2 + mu * mu * reach,
            g * k1 * (k1 + mu) * a1 + g * k2 * (k2 + mu) * a2 + mu * mu * (drive + mu * reach))


@njit(cache=True)
def concave_top(p, y, sign, a, b):
    """The time in (a, b) where sign·V′ (> 0 at a, < 0 at b, decreasing: sign·V concave)
    reaches 0: Newton safeguarded by bisection, to 1e-13 ms."""
    lo, hi = a, b
    tau = 0.5 * (a + b)
    for _ in range(100):
        y1, y2, yv = state_at(p, y, tau)
        d1, d2 = slopes(p, y1, y2, yv)
        d1, d2 = sign * d1, sign * d2
        if d1 > 0.0:
            lo = tau
        else:
            hi = tau
        following = tau - d1 / d2 if d2 < 0.0 else 0.5 * (lo + hi)
        if abs(following - tau) <= 1e-13:
            return following  # converged; tested before the bracket, which a root at tau closes
        if not (lo < following < hi):
            following = 0.5 * (lo + hi)
        if hi - lo <= 1e-13:
            return following
        tau = following
    return tau


@njit(cache=True, inline="always")
def put(node, row, column, y1, y2, yv):
    node[row, column], node[row, column + 1], node[row, column + 2] = y1, y2, yv


@njit(cache=True)
def piece_extreme(p, y, v_star, width, sign, best, best_at, t0):
    """(best, best_at): the larger of ``best`` and the maximum of sign·V over the piece of
    ``width`` ms from the deviation y (starting at t0 ms), and where it is first reached.

    Branch and bound, depth first, left half first; ``best`` prunes from the start. An
    interval [a, b] is dropped when max(f(a), f(b)) + B2 (b − a)²/8 cannot beat the best by
    more than TOLERANCE (f = sign·V, B2 ≥ |f″|); when f is monotone on it (f′(a) + B2 (b − a)
    < 0 or f′(b) − B2 (b − a) > 0) or convex (f″(a) − B3 (b − a) > 0, B3 ≥ |f‴|), as its
    ends were candidates; and when concave (f″(a) + B3 (b − a) < 0), after its top, if
    inside, is found by Newton on f′ (concave_top) and made a candidate.
    Otherwise it is halved.
    """
    node = np.empty((MAX_DEPTH + 2, 8))  # a, b, then (y1, y2, yV) at a and at b
    depth = np.empty(MAX_DEPTH + 2, np.int64)
    node[0, 0], node[0, 1], depth[0], n = 0.0, width, 0, 1
    put(node, 0, 2, y[I1], y[I2], y[V])
    z = state_at(p, y, width)
    put(node, 0, 5, z[0], z[1], z[2])
    for end in range(2):
        f = sign * (v_star + node[0, 4 + 3 * end])
        if f > best:
            best, best_at = f, t0 + end * width
    while n > 0:
        n -= 1
        a, b, level = node[n, 0], node[n, 1], depth[n]
        fa, fb = sign * (v_star + node[n, 4]), sign * (v_star + node[n, 7])
        b2, b3 = bends(p, node[n, 2], node[n, 3], node[n, 4])
        w = b - a
        if not (max(fa, fb) + b2 * w * w * 0.125 > best + TOLERANCE):
            continue
        d1a, d2a = slopes(p, node[n, 2], node[n, 3], node[n, 4])
        d1a, d2a = sign * d1a, sign * d2a
        d1b = sign * slopes(p, node[n, 5], node[n, 6], node[n, 7])[0]
        if d1a + b2 * w < 0.0 or d1b - b2 * w > 0.0 or d2a - b3 * w > 0.0:
            continue  # monotone or convex: its ends are its maximum
        if d2a + b3 * w < 0.0:  # concave: one top, at an end or where f′ = 0
            if d1a > 0.0 and d1b < 0.0:
                top = concave_top(p, y, sign, a, b)
                f = sign * (v_star + state_at(p, y, top)[2])
                if f > best:
                    best, best_at = f, t0 + top
            continue
        m = 0.5 * (a + b)
        if level >= MAX_DEPTH or not (a < m < b):
            continue
        zm = state_at(p, y, m)
        fm = sign * (v_star + zm[2])
        if fm > best:
            best, best_at = fm, t0 + m
        # the right half [m, b] in place, to be popped later; the left half [a, m] above it
        node[n + 1, 0], node[n + 1, 1] = a, m
        put(node, n + 1, 2, node[n, 2], node[n, 3], node[n, 4])
        put(node, n + 1, 5, zm[0], zm[1], zm[2])
        node[n, 0] = m
        put(node, n, 2, zm[0], zm[1], zm[2])
        depth[n], depth[n + 1] = level + 1, level + 1
        n += 2
    return best, best_at


@njit(cache=True)
def point_extrema(p, x0, amplitudes, ends, spikes, after, stop):
    """(peak, peak time, trough) of one point: see the module docstring. ``ends`` are the
    segments' end times, ``spikes`` the point's spike times, ``stop`` the run's end."""
    v_star, th_star = fixed_point(p, amplitudes[0])
    y = np.array([x0[0], x0[1], x0[2] - v_star, x0[3] - th_star])
    if not after <= stop:
        return np.nan, np.nan, np.nan
    seg, k, t, last = 0, 0, 0.0, amplitudes.shape[0] - 1
    peak, peak_at, trough = -np.inf, np.nan, np.inf
    while True:
        t_next = stop
        if seg < last:
            t_next = min(t_next, ends[seg])
        if k < spikes.shape[0]:
            t_next = min(t_next, spikes[k])
        if t < after:
            t_next = min(t_next, after)
        width = max(t_next - t, 0.0)
        if t >= after:
            top, top_at = piece_extreme(p, y, v_star, width, 1.0, peak, peak_at, t)
            if top > peak:  # a new peak: the trough is the lowest V after it
                peak, peak_at = top, top_at
                z = y.copy()
                linear_step(z, propagator(p, top_at - t, EXACT))
                trough = -piece_extreme(p, z, v_star, t_next - top_at, -1.0, -np.inf, np.nan,
                                        top_at)[0]
            else:
                trough = -piece_extreme(p, y, v_star, width, -1.0, -trough, np.nan, t)[0]
        if t_next >= stop and t >= after:  # (after = stop: once more, for V at stop)
            break
        linear_step(y, propagator(p, width, EXACT))
        t = t_next
        while k < spikes.shape[0] and spikes[k] <= t:
            reset(y, p, v_star, th_star)
            k += 1
        while seg < last and ends[seg] <= t:
            v_star, th_star = enter_segment(y, p, amplitudes[seg], amplitudes[seg + 1])
            seg += 1
    return peak, peak_at, (trough if peak_at < stop else np.nan)


@njit(cache=True, parallel=True)
def _all_extrema(base, columns, values, x_init, scale, amplitudes, ends, times, offsets,
                 after, stop, out):
    for point in prange(offsets.shape[0] - 1):
        i = np.int64(point)  # prange's index is unsigned: min() with it would be a float
        p = base.copy()
        for c in range(columns.shape[0]):  # values, x_init, scale: 1 row, or 1 per point
            p[columns[c]] = values[min(i, values.shape[0] - 1), c]
        x0 = x_init[min(i, x_init.shape[0] - 1)]
        scaled = amplitudes * scale[min(i, scale.shape[0] - 1)]
        out[i, 0], out[i, 1], out[i, 2] = point_extrema(
            p, x0, scaled, ends, times[offsets[i]:offsets[i + 1]], after, stop)


def v_extrema(params: Mapping[str, float | np.ndarray], segments: Sequence[tuple[float, float]],
              times: np.ndarray, offsets: np.ndarray, after: float, stop: float, *,
              initial: Mapping[str, float | np.ndarray] | None = None,
              input_scale: float | np.ndarray = 1.0) -> tuple[np.ndarray, ...]:
    """(peak, peak time, trough) of N points, arrays of length N, in continuous time.

    ``params``, ``initial`` and ``input_scale`` as :func:`gifcli.simulation.batch.run_batch`
    takes them; point i fired at ``times[offsets[i]:offsets[i + 1]]`` (all its spikes, from
    an ``exact`` run of ``segments`` that ended at ``stop`` ms). See the module docstring.
    """
    from gifcli.simulation.batch.run import per_neuron  # not for every import of the checks

    base, columns, values, x_init, scale, _ = per_neuron(params, initial, input_scale)
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    out = np.empty((offsets.size - 1, 3))
    _all_extrema(base, columns, values, x_init, scale,
                 np.array([a for a, _ in segments], dtype=np.float64),
                 np.cumsum([d for _, d in segments], dtype=np.float64),
                 np.ascontiguousarray(times, dtype=np.float64), offsets, float(after),
                 float(stop), out)
    return out[:, 0], out[:, 1], out[:, 2]
