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

On each piece the maximum is found by branch and bound: an interval's ends give candidates,
and V on [a, b] lies below max(V(a), V(b)) + B (b − a)² / 8, with B ≥ |V″| on [a, b] (see
:func:`curvature_bound`); an interval that cannot beat the best candidate by more than
:data:`TOLERANCE` is dropped, the others halved. The result is within TOLERANCE (plus
rounding) of the true maximum. See docs/integrators.md, "V's extrema".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numba import njit

from gifcli.simulation.batch.run import _per_neuron
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
def v_at(p, y, v_star, tau):
    """V at tau ms from the deviation y, with no spike in between (the kernel's propagator
    entries P31, P32, P33 for a step of tau; V does not depend on V_th)."""
    g, mu = p[R] / p[TAU], 1.0 / p[TAU]
    return v_star + (g * decay_convolution(p[K1], mu, tau) * y[I1]
                     + g * decay_convolution(p[K2], mu, tau) * y[I2]
                     + math.exp(-mu * tau) * y[V])


@njit(cache=True)
def curvature_bound(p, y, v_dev, a):
    """B ≥ |V″| at every time ≥ a ms into a piece from the deviation y, v_dev = yV(a).

    V″ = −g(k1 + μ) y1 − g(k2 + μ) y2 + μ² yV (g = R/τ, μ = 1/τ). |y1| and |y2| only decay
    from their values at a; yV′ = g(y1 + y2) − μ yV, so |yV| never exceeds the larger of
    |yV(a)| and g(|y1(a)| + |y2(a)|)/μ.
    """
    g, mu = p[R] / p[TAU], 1.0 / p[TAU]
    y1, y2 = abs(y[I1]) * math.exp(-p[K1] * a), abs(y[I2]) * math.exp(-p[K2] * a)
    yv = max(abs(v_dev), g * (y1 + y2) / mu)
    return g * (p[K1] + mu) * y1 + g * (p[K2] + mu) * y2 + mu * mu * yv


@njit(cache=True)
def piece_extreme(p, y, v_star, width, sign, best, best_at, t0):
    """(best, best_at): the larger of ``best`` and the maximum of sign·V over the piece of
    ``width`` ms from the deviation y (starting at t0 ms), and where it is first reached.
    Branch and bound, depth first, left half first; ``best`` prunes from the start."""
    f0, f1 = sign * v_at(p, y, v_star, 0.0), sign * v_at(p, y, v_star, width)
    if f0 > best:
        best, best_at = f0, t0
    if f1 > best:
        best, best_at = f1, t0 + width
    size = 2 * MAX_DEPTH + 2
    lo, hi, f_lo, f_hi = np.empty(size), np.empty(size), np.empty(size), np.empty(size)
    depth = np.empty(size, np.int64)
    lo[0], hi[0], f_lo[0], f_hi[0], depth[0], n = 0.0, width, f0, f1, 0, 1
    while n > 0:
        n -= 1
        a, b, fa, fb, level = lo[n], hi[n], f_lo[n], f_hi[n], depth[n]
        bend = curvature_bound(p, y, sign * fa - v_star, a)
        if not (max(fa, fb) + bend * (b - a) * (b - a) * 0.125 > best + TOLERANCE):
            continue
        m = 0.5 * (a + b)
        if level >= MAX_DEPTH or not (a < m < b):
            continue
        fm = sign * v_at(p, y, v_star, m)
        if fm > best or (fm == best and t0 + m < best_at):
            best, best_at = fm, t0 + m
        lo[n], hi[n], f_lo[n], f_hi[n], depth[n] = m, b, fm, fb, level + 1  # right, later
        lo[n + 1], hi[n + 1], f_lo[n + 1], f_hi[n + 1], depth[n + 1] = a, m, fa, fm, level + 1
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
        if t_next >= stop:
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


@njit(cache=True)
def _all_extrema(base, columns, values, x_init, scale, amplitudes, ends, times, offsets,
                 after, stop, out):
    for i in range(offsets.shape[0] - 1):
        p = base.copy()
        for c in range(columns.shape[0]):
            p[columns[c]] = values[i if values.shape[0] > 1 else 0, c]
        x0 = x_init[i if x_init.shape[0] > 1 else 0]
        scaled = amplitudes * scale[i if scale.shape[0] > 1 else 0]
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
    base, columns, values, x_init, scale, _ = _per_neuron(params, initial, input_scale)
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    out = np.empty((offsets.size - 1, 3))
    _all_extrema(base, columns, values, x_init, scale,
                 np.array([a for a, _ in segments], dtype=np.float64),
                 np.cumsum([d for _, d in segments], dtype=np.float64),
                 np.ascontiguousarray(times, dtype=np.float64), offsets, float(after),
                 float(stop), out)
    return out[:, 0], out[:, 1], out[:, 2]
