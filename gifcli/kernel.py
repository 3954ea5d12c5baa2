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

Inside a step ``exact`` uses the Taylor series of exp(M s): the exponents are tiny
(rate * dt <= 0.02 for the defaults), so a few terms give full float64 accuracy and
V(s) - V_th(s) becomes a polynomial that Newton's method solves cheaply. When every rate * dt
is <= TAYLOR_REACH, the series of the matrix, with a number of terms fixed once per
(parameters, h), serves a whole crossing (``exact_spikes``): a cubic Hermite guess from the
gap and its slope at both ends of the step, usually one Newton step, and the state at the
crossing and at the step's end after the reset. Stiffer parameters split the step into
Taylor pieces (``locate_crossing``) or bisect on the propagator. ``batch.py`` calls these same
functions, so a neuron in a sweep gives the same numbers as a single run.

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
# Columns of the Taylor work array: 0..3 the old series D (taylor_terms), or 0..8 the matrix
# terms B_n = (M h)^n / n! in P's layout, 9..12 their V row minus their V_th row (the gap's
# row; see taylor_matrix).
TAYLOR_COLUMNS = 16
GAP_W = 9
TAYLOR_FLOOR = 1e-19  # a Taylor term this small, relative to the state, ends the series
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
        if size <= TAYLOR_FLOOR * scale:
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


# --- the fast crossing path: one matrix series per (parameters, h) --------------------------
# For steps whose rates are slow (one Taylor piece), exp(M s h) = sum_n B_n s^n with a fixed
# number of terms, chosen once per (parameters, h) by taylor_order. Per spike the B_n are
# built once; the crossing comes from a cubic Hermite guess (V - V_th and its slope at both
# ends of the step) and Newton on the gap polynomial, and the state at the crossing and at
# the end of the step after the reset come from the same B_n, evaluated at two fractions.


@njit(cache=True)
def taylor_order(p, h):
    """How many terms of sum_n (M h)^n / n! the fast path uses, or 0 for the piecewise one.

    The last term kept is the first whose matrix has a 1-norm <= TAYLOR_FLOOR: every term
    B_n y is then below TAYLOR_FLOOR * |y|_1, the test taylor_terms makes term by term.
    """
    if n_taylor_pieces(p, h) > 1:
        return 0
    k1, k2, mu, b, a, g = p[K1], p[K2], 1.0 / p[TAU], p[B], p[A], p[R] / p[TAU]
    b11 = b22 = b33 = b44 = 1.0
    b31 = b32 = b41 = b42 = b43 = 0.0
    for n in range(1, MAX_TAYLOR_TERMS - 2):  # two rows stay free for taylor_pair
        f = h / n
        b41, b42, b43 = (a * b31 - b * b41) * f, (a * b32 - b * b42) * f, (a * b33 - b * b43) * f
        b31, b32 = (g * b11 - mu * b31) * f, (g * b22 - mu * b32) * f
        b11, b22, b33, b44 = -k1 * b11 * f, -k2 * b22 * f, -mu * b33 * f, -b * b44 * f
        norm = max(abs(b11) + abs(b31) + abs(b41), abs(b22) + abs(b32) + abs(b42),
                   abs(b33) + abs(b43), abs(b44))
        if norm <= TAYLOR_FLOOR:
            return n + 1
    return 0


@njit(cache=True)
def taylor_matrix(p, h, T, n_terms):
    """T[n, 0:9] = B_n = (M h)^n / n! (P's layout), T[n, 9:13] = its V row minus its V_th row."""
    k1, k2, mu, b, a, g = p[K1], p[K2], 1.0 / p[TAU], p[B], p[A], p[R] / p[TAU]
    b11 = b22 = b33 = b44 = 1.0
    b31 = b32 = b41 = b42 = b43 = 0.0
    for n in range(n_terms):
        if n > 0:
            f = h / n
            b41, b42, b43 = ((a * b31 - b * b41) * f, (a * b32 - b * b42) * f,
                             (a * b33 - b * b43) * f)
            b31, b32 = (g * b11 - mu * b31) * f, (g * b22 - mu * b32) * f
            b11, b22, b33, b44 = -k1 * b11 * f, -k2 * b22 * f, -mu * b33 * f, -b * b44 * f
        T[n, P11], T[n, P22], T[n, P31], T[n, P32], T[n, P33] = b11, b22, b31, b32, b33
        T[n, P41], T[n, P42], T[n, P43], T[n, P44] = b41, b42, b43, b44
        T[n, GAP_W], T[n, GAP_W + 1] = b31 - b41, b32 - b42
        T[n, GAP_W + 2], T[n, GAP_W + 3] = b33 - b43, -b44


@njit(cache=True)
def apply_row(T, row, y):
    """y <- Q y, Q the lower-triangular matrix in T[row, 0:9] (the arithmetic of linear_step)."""
    y1, y2, yv = y[I1], y[I2], y[V]
    y[I1] = T[row, P11] * y1
    y[I2] = T[row, P22] * y2
    y[V] = T[row, P31] * y1 + T[row, P32] * y2 + T[row, P33] * yv
    y[VTH] = T[row, P41] * y1 + T[row, P42] * y2 + T[row, P43] * yv + T[row, P44] * y[VTH]


@njit(cache=True)
def taylor_pair(T, n_terms, s1, s2):
    """T[n_terms] = exp(M s1 h), T[n_terms + 1] = exp(M s2 h) (columns 0:9), from the series.

    One Horner loop for both, in registers, so that their dependent chains overlap.
    """
    m = n_terms - 1
    a11 = c11 = T[m, P11]
    a22 = c22 = T[m, P22]
    a31 = c31 = T[m, P31]
    a32 = c32 = T[m, P32]
    a33 = c33 = T[m, P33]
    a41 = c41 = T[m, P41]
    a42 = c42 = T[m, P42]
    a43 = c43 = T[m, P43]
    a44 = c44 = T[m, P44]
    for n in range(m - 1, -1, -1):
        t11, t22, t31, t32, t33 = T[n, P11], T[n, P22], T[n, P31], T[n, P32], T[n, P33]
        t41, t42, t43, t44 = T[n, P41], T[n, P42], T[n, P43], T[n, P44]
        a11, a22, a31, a32, a33 = (a11 * s1 + t11, a22 * s1 + t22, a31 * s1 + t31,
                                   a32 * s1 + t32, a33 * s1 + t33)
        a41, a42, a43, a44 = a41 * s1 + t41, a42 * s1 + t42, a43 * s1 + t43, a44 * s1 + t44
        c11, c22, c31, c32, c33 = (c11 * s2 + t11, c22 * s2 + t22, c31 * s2 + t31,
                                   c32 * s2 + t32, c33 * s2 + t33)
        c41, c42, c43, c44 = c41 * s2 + t41, c42 * s2 + t42, c43 * s2 + t43, c44 * s2 + t44
    q, r = n_terms, n_terms + 1
    T[q, P11], T[q, P22], T[q, P31], T[q, P32], T[q, P33] = a11, a22, a31, a32, a33
    T[q, P41], T[q, P42], T[q, P43], T[q, P44] = a41, a42, a43, a44
    T[r, P11], T[r, P22], T[r, P31], T[r, P32], T[r, P33] = c11, c22, c31, c32, c33
    T[r, P41], T[r, P42], T[r, P43], T[r, P44] = c41, c42, c43, c44


@njit(cache=True)
def gap_derivatives(T, n_terms, s, gap_star, y):
    """The gap (V - V_th) at the fraction s from the state y, its first derivative in s and
    half its second: Horner on the coefficients T[n, GAP_W:GAP_W+4] . y, formed on the way."""
    y1, y2, yv, yt = y[I1], y[I2], y[V], y[VTH]
    m = n_terms - 1
    g = T[m, GAP_W] * y1 + T[m, GAP_W + 1] * y2 + T[m, GAP_W + 2] * yv + T[m, GAP_W + 3] * yt
    d1, d2 = 0.0, 0.0
    for n in range(m - 1, -1, -1):
        c = T[n, GAP_W] * y1 + T[n, GAP_W + 1] * y2 + T[n, GAP_W + 2] * yv + T[n, GAP_W + 3] * yt
        d2 = d2 * s + d1
        d1 = d1 * s + g
        g = g * s + c
    return g + gap_star, d1, d2


@njit(cache=True)
def crossing_fraction(T, n_terms, y, y_end, gap_star, r, tolerance):
    """The fraction s in [0, r] where the gap polynomial of y crosses zero.

    y_end is the state at r (V >= V_th there, as the caller tested). The guess is the inverse
    cubic Hermite interpolant of s(gap) through both ends; Newton, kept inside a bracket,
    refines it and stops when its step, or the error its quadratic convergence leaves after
    the step, is below the tolerance. A start at or above threshold (or NaN) crosses at r.
    """
    g0 = y[V] - y[VTH] + gap_star  # the series at s = 0 (B_0 = 1)
    if not (g0 < 0.0):
        return r
    g1 = y_end[V] - y_end[VTH] + gap_star
    d0, d1 = 0.0, 0.0
    if n_terms > 1:  # the slopes in s: the gap row of B_1 = M h times the state
        d0 = (T[1, GAP_W] * y[I1] + T[1, GAP_W + 1] * y[I2] + T[1, GAP_W + 2] * y[V]
              + T[1, GAP_W + 3] * y[VTH])
        d1 = (T[1, GAP_W] * y_end[I1] + T[1, GAP_W + 1] * y_end[I2]
              + T[1, GAP_W + 2] * y_end[V] + T[1, GAP_W + 3] * y_end[VTH])
    rise = g1 - g0
    u = -g0 / rise
    s = u * r
    if d0 > 0.0 and d1 > 0.0 and rise > 0.0:
        u2 = u * u
        u3 = u2 * u
        guess = (u3 - 2.0 * u2 + u) * (rise / d0) + (3.0 * u2 - 2.0 * u3) * r \
            + (u3 - u2) * (rise / d1)
        if 0.0 < guess < r:
            s = guess
    if not (0.0 < s < r):
        s = 0.5 * r
    lo, hi = 0.0, r
    for _ in range(200):
        g, dg, half_d2 = gap_derivatives(T, n_terms, s, gap_star, y)
        if g >= 0.0:
            hi = s
        else:
            lo = s
        if dg > 0.0:
            step = g / dg
            s_next = s - step
            if abs(step) <= tolerance:
                return s_next
            # Newton's error after this step is about (g'' / 2 g') step^2, when the step is
            # short enough (<= sqrt(tolerance)) that the cubic term cannot matter.
            if (step * step <= tolerance and abs(half_d2) * step * step <= 0.25 * tolerance * dg
                    and lo <= s_next <= hi):
                return s_next
        else:
            s_next = 0.5 * (lo + hi)
        if not (lo < s_next < hi):
            s_next = 0.5 * (lo + hi)
        if hi - lo <= tolerance:
            return s_next
        s = s_next
    return s


@njit(cache=True)
def exact_spikes(y, y_end, p, v_star, th_star, t0, h, spikes, n_spikes, max_per_step, T,
                 n_terms):
    """The spikes of one step of h ms from t0 whose end state y_end (= P y) is at threshold.

    T holds taylor_matrix(p, h, T, n_terms) (it depends only on p and h, so a caller may keep
    it); its rows n_terms, n_terms + 1 are scratch. y is the state at t0.
    Every crossing is located, reset at that instant, and the rest of the step is propagated
    from there. On return y_end holds the state at t0 + h. Returns the new spike count, or -1
    if the spike buffer or the per-step cap is exceeded. The single and the batched path both
    come here, so they agree to the last bit.
    """
    gap_star = v_star - th_star
    tolerance = CROSSING_TOLERANCE / h
    done, r, in_this_step = 0.0, 1.0, 0
    while True:
        if n_spikes >= spikes.shape[0] or in_this_step >= max_per_step:
            return -1
        s = crossing_fraction(T, n_terms, y, y_end, gap_star, r, tolerance)
        spikes[n_spikes] = t0 + (done + s) * h
        n_spikes += 1
        in_this_step += 1
        done += s
        r -= s
        taylor_pair(T, n_terms, s, r)
        apply_row(T, n_terms, y)
        reset(y, p, v_star, th_star)
        y_end[:] = y
        apply_row(T, n_terms + 1, y_end)
        if y_end[V] - y_end[VTH] + gap_star < 0.0:
            return n_spikes


@njit(cache=True)
def advance(y, p, P, v_star, th_star, t0, h, method, spikes, n_spikes, max_per_step, D, y0,
            n_terms):
    """One step (or part of one) of h ms from time t0, spikes included.

    ``n_terms`` is taylor_order(p, h) (``exact`` only): > 0 takes the fast crossing path
    (exact_spikes), 0 the piecewise series. D is a (MAX_TAYLOR_TERMS, TAYLOR_COLUMNS) work
    array. Returns the new spike count, or -1 if the spike buffer or the per-step cap is
    exceeded.
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
    if n_terms > 0:  # y0: the start (used up), y: the end, then the state after the spikes
        taylor_matrix(p, h, D, n_terms)
        return exact_spikes(y0, y, p, v_star, th_star, t0, h, spikes, n_spikes, max_per_step,
                            D, n_terms)
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
    D = np.empty((MAX_TAYLOR_TERMS, TAYLOR_COLUMNS))
    n_terms = taylor_order(p, dt) if method == EXACT else 0
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
            n_first = taylor_order(p, first) if method == EXACT else 0
            n_spikes = advance(y, p, propagator(p, first, method), v_star, th_star, t0, first,
                               method, spikes, n_spikes, max_per_step, D, y0, n_first)
            v_star, th_star = enter_segment(y, p, amplitudes[seg], amplitudes[seg + 1])
            seg += 1
            if n_spikes >= 0:
                n_rest = taylor_order(p, dt - first) if method == EXACT else 0
                n_spikes = advance(y, p, propagator(p, dt - first, method), v_star, th_star,
                                   t0 + first, dt - first, method, spikes, n_spikes,
                                   max_per_step, D, y0, n_rest)
        else:
            n_spikes = advance(y, p, P, v_star, th_star, t0, dt, method, spikes, n_spikes,
                               max_per_step, D, y0, n_terms)
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
