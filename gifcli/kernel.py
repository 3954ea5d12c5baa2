"""Numba kernels: one linear step serves all three integrators.

Between spikes the model is linear with constant input: dx/dt = M (x - x*), with
x = (I1, I2, V, V_th), M the lower-triangular system matrix and x* the fixed point for the
segment's amplitude. Every method keeps the deviation y = x - x* and advances it by one
linear map, ``y <- P y``:

- ``exact``:     P = exp(M h)
- ``euler``:     P = 1 + h M
- ``exp-euler``: P = 1 + h diag(phi(J h)) M      (BrainPy's GIF; J = diag(M))

with phi(z) = (e^z - 1)/z. Both fixed-step maps have x* as their fixed point, so this is the
same arithmetic as ``x + h f(x)`` (or ``x + h phi f(x)``), rearranged. Deviations shrink as the
neuron settles, so rounding shrinks with them: that is what keeps the class 1 neuron, 2e-5 mV
above threshold, on time. P depends only on the parameters and h: it is computed once per
run (once more for a step split by an off-grid segment boundary), never per step.

The methods differ only in the spike test (``exp-euler`` compares the new V with the old
V_th) and in what happens at a crossing: the fixed-step methods reset at the step's end;
``exact`` finds the crossing time inside the step, resets there and goes on to the end of the
step, where it tests again.

Inside a step ``exact`` uses the Taylor series of y(s) = exp(M s) y0: the exponents
are tiny (rate * dt <= 0.02 for the defaults), so a few terms give full float64 accuracy and
V(s) - V_th(s) becomes a polynomial that Newton's method solves cheaply. ``batch.py`` calls
these same functions, so a neuron in a sweep gives the same numbers as a single run.

Limit: the test is made at the end of each (sub)step, so a crossing that enters and leaves
within one step is missed by every method.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

EXACT, EULER, EXP_EULER = 0, 1, 2
METHOD_CODES = {"exact": EXACT, "euler": EULER, "exp-euler": EXP_EULER}

# The parameter vector, in model.PARAMETERS order.
(V_REST, V_RESET, V_TH_INF, V_TH_RESET, R, TAU, A, B, K1, K2, R1, R2, A1, A2) = range(14)
# The state vector, in model.STATE_NAMES order.
I1, I2, V, VTH = range(4)
# The propagator: the nine non-zero entries of the lower-triangular P.
P11, P22, P31, P32, P33, P41, P42, P43, P44 = range(9)

MAX_TAYLOR_TERMS = 48
TAYLOR_REACH = 0.5  # largest rate * h per Taylor sub-interval; keeps the series well-conditioned
MAX_TAYLOR_PIECES = 16  # stiffer than this (rate * dt > 8): bisect on the propagator instead
CROSSING_TOLERANCE = 1e-12  # ms; the spec asks for 1e-9
OK, TOO_MANY_SPIKES = 0, 1


@njit(cache=True)
def phi(z):
    """(e^z - 1) / z, with phi(0) = 1."""
    if z == 0.0:
        return 1.0
    return math.expm1(z) / z


@njit(cache=True)
def decay_convolution(x, y, s):
    """Integral over [0, s] of e^{-y (s-u)} e^{-x u} du: (e^{-xs} - e^{-ys}) / (y - x).

    Written with phi so that it stays exact, with no 0/0, when the two rates coincide.
    """
    lo, hi = min(x, y), max(x, y)
    return s * math.exp(-lo * s) * phi((lo - hi) * s)


@njit(cache=True)
def decay_convolution2(x, y, z, s):
    """The same, once more convolved with e^{-z s}: the second divided difference of e^{-ws}."""
    lo, hi = min(x, y, z), max(x, y, z)
    mid = x + y + z - lo - hi
    if (hi - lo) * s > 1.0:
        return (decay_convolution(lo, mid, s) - decay_convolution(mid, hi, s)) / (hi - lo)
    # Rates close together: e^{-lo s} * sum_{n>=2} (-s)^n / n! * h_{n-2}(mid - lo, hi - lo),
    # with h_m the complete homogeneous symmetric polynomial (no cancellation here).
    d1, d2 = mid - lo, hi - lo
    total, h_m, d1_power, coefficient = 0.0, 1.0, 1.0, 0.5 * s * s
    for n in range(2, 200):
        term = coefficient * h_m
        total += term if n % 2 == 0 else -term
        if abs(term) <= 1e-18 * abs(total):
            break
        d1_power *= d1
        h_m = d2 * h_m + d1_power
        coefficient *= s / (n + 1)
    return math.exp(-lo * s) * total


@njit(cache=True)
def propagator(p, h, method):
    """The nine entries of P for a step of h ms (see the module docstring)."""
    k1, k2, mu, b, a, g = p[K1], p[K2], 1.0 / p[TAU], p[B], p[A], p[R] / p[TAU]
    P = np.zeros(9)
    if method == EXACT:
        P[P11], P[P22] = math.exp(-k1 * h), math.exp(-k2 * h)
        P[P33], P[P44] = math.exp(-mu * h), math.exp(-b * h)
        P[P31] = g * decay_convolution(k1, mu, h)
        P[P32] = g * decay_convolution(k2, mu, h)
        P[P43] = a * decay_convolution(mu, b, h)
        P[P41] = a * g * decay_convolution2(k1, mu, b, h)
        P[P42] = a * g * decay_convolution2(k2, mu, b, h)
        return P
    # Fixed-step methods: Jacobi style, every derivative at the old state.
    w1, w2, wv, wt = h, h, h, h  # forward Euler
    if method == EXP_EULER:
        w1, w2 = h * phi(-k1 * h), h * phi(-k2 * h)
        wv, wt = h * phi(-mu * h), h * phi(-b * h)
    P[P11], P[P22] = 1.0 - k1 * w1, 1.0 - k2 * w2
    P[P31] = P[P32] = g * wv
    P[P33] = 1.0 - mu * wv
    P[P43], P[P44] = a * wt, 1.0 - b * wt
    return P


@njit(cache=True)
def fixed_point(p, amplitude):
    """(V*, V_th*): where V and V_th settle under a constant input, with I1 = I2 = 0."""
    v_star = p[V_REST] + p[R] * amplitude
    return v_star, p[V_TH_INF] + p[A] * (v_star - p[V_REST]) / p[B]


@njit(cache=True)
def linear_step(y, P):
    y1, y2, yv = y[I1], y[I2], y[V]
    y[I1] = P[P11] * y1
    y[I2] = P[P22] * y2
    y[V] = P[P31] * y1 + P[P32] * y2 + P[P33] * yv
    y[VTH] = P[P41] * y1 + P[P42] * y2 + P[P43] * yv + P[P44] * y[VTH]


@njit(cache=True)
def reset(y, p, v_star, th_star):
    """The spike's reset, applied to the deviation y = x - x*."""
    y[I1] = p[R1] * y[I1] + p[A1]
    y[I2] = p[R2] * y[I2] + p[A2]
    y[V] = p[V_RESET] - v_star
    y[VTH] = max(p[V_TH_RESET] - th_star, y[VTH])


@njit(cache=True)
def taylor_terms(p, y, h, D):
    """Fill D[n] = M^n y h^n / n! until the terms vanish; return how many.

    With these, y(s h) = sum_n D[n] s^n for s in [0, 1].
    """
    k1, k2, mu, b, a, g = p[K1], p[K2], 1.0 / p[TAU], p[B], p[A], p[R] / p[TAU]
    D[0, 0], D[0, 1], D[0, 2], D[0, 3] = y[I1], y[I2], y[V], y[VTH]
    scale = abs(y[I1]) + abs(y[I2]) + abs(y[V]) + abs(y[VTH])
    for n in range(1, MAX_TAYLOR_TERMS):
        f = h / n
        y1, y2, yv, yt = D[n - 1, 0], D[n - 1, 1], D[n - 1, 2], D[n - 1, 3]
        D[n, 0] = -k1 * y1 * f
        D[n, 1] = -k2 * y2 * f
        D[n, 2] = (g * (y1 + y2) - mu * yv) * f
        D[n, 3] = (a * yv - b * yt) * f
        size = abs(D[n, 0]) + abs(D[n, 1]) + abs(D[n, 2]) + abs(D[n, 3])
        if size <= 1e-19 * scale:
            return n + 1
    return MAX_TAYLOR_TERMS


@njit(cache=True)
def taylor_state(D, n_terms, s, y):
    """y at the fraction s of the interval that D was built for (Horner)."""
    y1, y2, yv, yt = 0.0, 0.0, 0.0, 0.0
    for n in range(n_terms - 1, -1, -1):
        y1, y2 = y1 * s + D[n, 0], y2 * s + D[n, 1]
        yv, yt = yv * s + D[n, 2], yt * s + D[n, 3]
    y[I1], y[I2], y[V], y[VTH] = y1, y2, yv, yt


@njit(cache=True)
def gap_and_slope(D, n_terms, s, gap_star):
    """V - V_th at the fraction s, and its derivative in s; gap_star = V* - V_th*."""
    g, dg = 0.0, 0.0
    for n in range(n_terms - 1, -1, -1):
        dg = dg * s + g
        g = g * s + (D[n, 2] - D[n, 3])
    return g + gap_star, dg


@njit(cache=True)
def newton_root(D, n_terms, gap_star, g_lo, g_hi, tolerance):
    """The root of V - V_th in [0, 1] (fractions), by Newton safeguarded with bisection."""
    lo, hi = 0.0, 1.0
    s = -g_lo / (g_hi - g_lo)
    for _ in range(100):
        g, dg = gap_and_slope(D, n_terms, s, gap_star)
        if g >= 0.0:
            hi = s
        else:
            lo = s
        s_next = s - g / dg if dg > 0.0 else 0.5 * (lo + hi)
        if abs(s_next - s) <= tolerance:
            return s_next  # converged; tested before the bracket, which a root at s closes
        if not (lo < s_next < hi):
            s_next = 0.5 * (lo + hi)
        if hi - lo <= tolerance:
            return s_next
        s = s_next
    return s


@njit(cache=True)
def n_taylor_pieces(p, h):
    """How many sub-intervals keep rate * piece <= TAYLOR_REACH for every rate of M.

    Only the diagonal (the decay rates) sets how fast the series converges; the couplings
    R/tau and a scale its terms but do not make them alternate.
    """
    fastest = max(p[K1], p[K2], 1.0 / p[TAU], p[B])
    return 1 + int(min(fastest * h / TAYLOR_REACH, 1e9))


@njit(cache=True)
def taylor_advance(p, y, h, D):
    """Advance y by h ms in place (no spike test)."""
    pieces = n_taylor_pieces(p, h)
    if pieces > MAX_TAYLOR_PIECES:
        linear_step(y, propagator(p, h, EXACT))
        return
    for _ in range(pieces):
        n_terms = taylor_terms(p, y, h / pieces, D)
        taylor_state(D, n_terms, 1.0, y)


@njit(cache=True)
def bisect_crossing(p, y, gap_star, h):
    """locate_crossing for stiff parameters: bisection on the exact propagator.

    It finds a crossing, the first one unless V - V_th crosses more than once within h.
    """
    y0 = y.copy()
    lo, hi = 0.0, h
    while hi - lo > CROSSING_TOLERANCE and lo < 0.5 * (lo + hi) < hi:
        mid = 0.5 * (lo + hi)
        y[:] = y0
        linear_step(y, propagator(p, mid, EXACT))
        if y[V] - y[VTH] + gap_star >= 0.0:
            hi = mid
        else:
            lo = mid
    y[:] = y0
    linear_step(y, propagator(p, hi, EXACT))
    return hi


@njit(cache=True)
def locate_crossing(p, y, gap_star, h, D):
    """Move y (V < V_th) to the first crossing within h ms; return its time from the start.

    The caller knows that V >= V_th at the end of h. If the series finds no crossing (a
    grazing step, decided differently by rounding), the crossing is the end of h.
    """
    pieces = n_taylor_pieces(p, h)
    if pieces > MAX_TAYLOR_PIECES:
        return bisect_crossing(p, y, gap_star, h)
    piece = h / pieces
    for j in range(pieces):
        n_terms = taylor_terms(p, y, piece, D)
        g_hi, _ = gap_and_slope(D, n_terms, 1.0, gap_star)
        if g_hi >= 0.0 or j == pieces - 1:
            g_lo = D[0, 2] - D[0, 3] + gap_star
            s = 1.0
            if g_hi >= 0.0 and g_lo < 0.0:
                s = newton_root(D, n_terms, gap_star, g_lo, g_hi, CROSSING_TOLERANCE / piece)
            taylor_state(D, n_terms, s, y)
            return (j + s) * piece
        taylor_state(D, n_terms, 1.0, y)
    return h


@njit(cache=True)
def advance(y, p, P, v_star, th_star, t0, h, method, spikes, n_spikes, max_per_step, D, y0):
    """One step (or part of one) of h ms from time t0, spikes included.

    Returns the new spike count, or -1 if the spike buffer or the per-step cap is exceeded.
    """
    y0[:] = y
    linear_step(y, P)
    gap_star = v_star - th_star
    threshold = y0[VTH] if method == EXP_EULER else y[VTH]
    if y[V] - threshold + gap_star < 0.0:
        return n_spikes
    if method != EXACT:
        if n_spikes >= spikes.shape[0]:
            return -1
        spikes[n_spikes] = t0 + h
        reset(y, p, v_star, th_star)
        return n_spikes + 1
    t, remaining, in_this_step = t0, h, 0
    y[:] = y0
    while True:
        if n_spikes >= spikes.shape[0] or in_this_step >= max_per_step:
            return -1
        s = locate_crossing(p, y, gap_star, remaining, D)
        t += s
        remaining -= s
        spikes[n_spikes] = t
        n_spikes += 1
        in_this_step += 1
        reset(y, p, v_star, th_star)
        y0[:] = y  # where the search for a second crossing in this step starts
        taylor_advance(p, y, remaining, D)
        if y[V] - y[VTH] + gap_star < 0.0:
            return n_spikes
        y[:] = y0


@njit(cache=True)
def enter_segment(y, p, old_amplitude, new_amplitude):
    """Re-centre the deviation on the new segment's fixed point; return that point."""
    v_old, th_old = fixed_point(p, old_amplitude)
    v_new, th_new = fixed_point(p, new_amplitude)
    y[V] += v_old - v_new
    y[VTH] += th_old - th_new
    return v_new, th_new


@njit(cache=True)
def simulate_trace(p, x_init, amplitudes, boundary_step, boundary_offset, n_steps, dt, method,
                   max_spikes, max_per_step):
    """Run one neuron and record the state at every grid point t_k = k dt.

    Segment j ends at boundary_step[j] * dt + boundary_offset[j]; an offset > 0 (``exact``
    only) splits that step at the boundary. Returns (states[n_steps+1, 4], inputs[n_steps+1],
    spike_times, status).
    """
    P = propagator(p, dt, method)
    states = np.empty((n_steps + 1, 4))
    inputs = np.empty(n_steps + 1)
    spikes = np.empty(max_spikes)
    D = np.empty((MAX_TAYLOR_TERMS, 4))
    y, y0 = x_init.copy(), np.empty(4)
    seg, n_spikes, last_seg = 0, 0, amplitudes.shape[0] - 1
    v_star, th_star = enter_segment(y, p, 0.0, amplitudes[0])
    y[V], y[VTH] = x_init[V] - v_star, x_init[VTH] - th_star
    states[0] = x_init
    for k in range(n_steps):
        while seg < last_seg and boundary_step[seg] == k and boundary_offset[seg] == 0.0:
            v_star, th_star = enter_segment(y, p, amplitudes[seg], amplitudes[seg + 1])
            seg += 1
        inputs[k] = amplitudes[seg]
        t0 = k * dt
        before = n_spikes
        if seg < last_seg and boundary_step[seg] == k:  # an off-grid boundary: split the step
            first = boundary_offset[seg]
            n_spikes = advance(y, p, propagator(p, first, method), v_star, th_star, t0, first,
                               method, spikes, n_spikes, max_per_step, D, y0)
            v_star, th_star = enter_segment(y, p, amplitudes[seg], amplitudes[seg + 1])
            seg += 1
            if n_spikes >= 0:
                n_spikes = advance(y, p, propagator(p, dt - first, method), v_star, th_star,
                                   t0 + first, dt - first, method, spikes, n_spikes,
                                   max_per_step, D, y0)
        else:
            n_spikes = advance(y, p, P, v_star, th_star, t0, dt, method, spikes, n_spikes,
                               max_per_step, D, y0)
        if n_spikes < 0:
            return states[: k + 1], inputs[: k + 1], spikes[:0], TOO_MANY_SPIKES
        states[k + 1, 0], states[k + 1, 1] = y[I1], y[I2]
        states[k + 1, 2], states[k + 1, 3] = y[V] + v_star, y[VTH] + th_star
        if method != EXACT and n_spikes > before:
            spikes[before] = (k + 1) * dt  # the grid time itself, not t0 + dt
            # The row shows the reset values themselves: (V_reset - v*) + v* can be 1 ulp off.
            states[k + 1, 2] = p[V_RESET]
            if y[VTH] == p[V_TH_RESET] - th_star:
                states[k + 1, 3] = p[V_TH_RESET]
    inputs[n_steps] = amplitudes[seg]
    return states, inputs, spikes[:n_spikes], OK
