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

``exact`` has a faster form for the usual case, where the rates that are coupled (1/tau
against k1 and k2; b against the others when a != 0) lie apart and every rate * dt is
< TAYLOR_REACH: the modal form (``modal_form``). In the eigenvector coordinates of M each
coordinate decays on its own, a step is four products, and V - V_th is their sum. A crossing
comes from a cubic Hermite guess (the gap and its slope at both ends of the step), then
Newton on the sum of exponentials, usually one step; the decays to the crossing come from a
polynomial (``short_exp``, within 1.5 ulp there), nudged by Newton's last step, and those
to the step's end by dividing the step's own. Other parameters keep the triangular form: the
crossing is found on the Taylor series of exp(M s), split into pieces that keep it
well-conditioned (``locate_crossing``), or by bisection on the propagator when stiff.
The batched path (``gifcli.simulation.batch``) calls these same functions, so a neuron in a
sweep gives the same numbers as a single run.

``exact`` misses no crossing: an upper bound of the gap over each step proves nearly every
step silent (modal form: each modal term at its larger end, ``modal_step_bound``;
triangular form: the larger end plus a bound of how far the gap bends over the step,
``triangular_step_bound``), and ``modal_first_crossing`` or ``triangular_first_crossing``
searches the others for their first crossing, also one that enters and leaves within the
step (docs/integrators.md, "What is guaranteed, and why"). The fixed-step methods test the
end of each step, so a crossing that enters and leaves within one step is missed there.
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
# The propagator: the nine non-zero entries of the lower-triangular P, then (``exact``) the
# weights of the triangular form's bound over the step (triangular_bound_weights).
P11, P22, P31, P32, P33, P41, P42, P43, P44 = range(9)
BOUND_WEIGHTS = 9
P_SIZE = 13

MAX_TAYLOR_TERMS = 48  # rows of the work array D of taylor_terms (4 columns: the state)
TAYLOR_FLOOR = 1e-19  # a Taylor term this small, relative to the state, ends the series
TAYLOR_REACH = 0.5  # largest rate * h per Taylor sub-interval; keeps the series well-conditioned
MAX_TAYLOR_PIECES = 16  # stiffer than this (rate * dt > 8): bisect on the propagator instead
CROSSING_TOLERANCE = 1e-12  # ms; the spec asks for 1e-9
SEARCH_DEPTH = 40  # halvings of a step at most: pieces of dt / 2^40 (1e-13 ms at dt = 0.1)
NO_CROSSING, ONE_CROSSING, HALVE = 0, 1, 2  # what a piece of a step holds (triangular_piece)
OK, TOO_MANY_SPIKES, INTERRUPTED = 0, 1, 2
POLL_STEPS = 4096  # steps between two looks at the stop flag (gifcli.core.interrupts)


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


# --- the triangular form's crossing test: the gap bends by at most B over a step -----------
# g = V - V_th obeys g'' = -g (k1 + mu + a) y1 - g (k2 + mu + a) y2 + (mu (mu + a) + a b) yV
# - b^2 yTh (g = R/tau, mu = 1/tau), so |g''| <= B = sum |alpha_i| max|y_i| over the piece.
# |y1| and |y2| only decay; |yV| grows at most at the rate g (|y1| + |y2|), |yTh| at |a| |yV|.
# Then g lies below its chord plus B w^2 / 8 (docs/integrators.md, "What is guaranteed").


@njit(cache=True, inline="always")
def triangular_bound_weights(p, w):
    """beta_i with B w^2 / 8 = sum beta_i |y_i| for a piece of w ms from the deviation y."""
    k1, k2, mu, b, a, g = p[K1], p[K2], 1.0 / p[TAU], p[B], p[A], p[R] / p[TAU]
    alpha_v, alpha_t = abs(mu * (mu + a) + a * b), b * b
    reach_v = alpha_v + alpha_t * abs(a) * w  # what B takes per mV of |yV| over the piece
    square = 0.125 * w * w
    return ((g * abs(k1 + mu + a) + reach_v * g * w) * square,
            (g * abs(k2 + mu + a) + reach_v * g * w) * square,
            reach_v * square, alpha_t * square)


@njit(cache=True, inline="always")
def triangular_bend(y1, y2, yv, yt, w1, w2, w3, w4):
    """B w^2 / 8 for the piece from the deviation y: how far the gap may rise above its chord."""
    return (w1 * abs(y1) + w2 * abs(y2)) + (w3 * abs(yv) + w4 * abs(yt))


@njit(cache=True, inline="always")
def triangular_step_bound(y1, y2, yv, yt, n1, n2, nv, nt, w1, w2, w3, w4, gap_star):
    """An upper bound of the gap over a step from y to n (the triangular form): the larger
    end plus triangular_bend. Below 0, no crossing; NaN is none either. The vector pass of a
    triangular ``exact`` block repeats this very sum."""
    ends = max(yv - yt + gap_star, nv - nt + gap_star)
    return ends + triangular_bend(y1, y2, yv, yt, w1, w2, w3, w4)


@njit(cache=True)
def propagator(p, h, method):
    """The nine entries of P for a step of h ms (see the module docstring); for ``exact``,
    then the triangular form's bound weights for that step."""
    k1, k2, mu, b, a, g = p[K1], p[K2], 1.0 / p[TAU], p[B], p[A], p[R] / p[TAU]
    P = np.zeros(P_SIZE)
    if method == EXACT:
        w1, w2, w3, w4 = triangular_bound_weights(p, h)
        P[BOUND_WEIGHTS], P[BOUND_WEIGHTS + 1] = w1, w2
        P[BOUND_WEIGHTS + 2], P[BOUND_WEIGHTS + 3] = w3, w4
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
def reset_values(y1, y2, yv, yt, p, v_star, th_star):
    """The spike's reset, applied to the deviation (y1, y2, yv, yt) = x - x*."""
    return (p[R1] * y1 + p[A1], p[R2] * y2 + p[A2], p[V_RESET] - v_star,
            max(p[V_TH_RESET] - th_star, yt))


@njit(cache=True)
def reset(y, p, v_star, th_star):
    y[I1], y[I2], y[V], y[VTH] = reset_values(y[I1], y[I2], y[V], y[VTH], p, v_star, th_star)


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


@njit(cache=True)
def gap_slope(y, p, gap_star):
    """V - V_th and its time derivative at the deviation y."""
    g = p[R] / p[TAU]
    slope = g * (y[I1] + y[I2]) - (1.0 / p[TAU] + p[A]) * y[V] + p[B] * y[VTH]
    return y[V] - y[VTH] + gap_star, slope


@njit(cache=True)
def triangular_piece(p, start, end, gap_star, width):
    """What the piece from the deviation start to end (width ms) holds, its start below 0:
    NO_CROSSING, ONE_CROSSING (the gap rises all along and ends at or above 0) or HALVE."""
    g_a, slope_a = gap_slope(start, p, gap_star)
    g_b, slope_b = gap_slope(end, p, gap_star)
    w1, w2, w3, w4 = triangular_bound_weights(p, width)
    bend = triangular_bend(start[I1], start[I2], start[V], start[VTH], w1, w2, w3, w4)
    if not (max(g_a, g_b) + bend >= 0.0):
        return NO_CROSSING
    # g'' >= -B: g' >= g'(a) - B (t - a) and g' <= g'(b) + B (b - t), with B w = 8 bend / w.
    if slope_a * width > 8.0 * bend:
        return ONE_CROSSING if g_b >= 0.0 else NO_CROSSING
    if slope_b * width < -8.0 * bend:
        return NO_CROSSING  # falling all along from a start below 0
    return HALVE


@njit(cache=True)
def triangular_first_crossing(p, y, end, gap_star, span, D):
    """The first instant in [0, span] at which the gap from the deviation y (end: the state
    at span) reaches 0, with y moved there; -1 when there is none (y is then undefined).

    Pieces that triangular_piece cannot settle are halved, left half first, as
    modal_first_crossing does; at SEARCH_DEPTH only a piece's end is tested. A start at or
    above threshold crosses at span if the end is too, else never.
    """
    if not (gap_slope(y, p, gap_star)[0] < 0.0):
        y[:] = end
        return span if gap_slope(end, p, gap_star)[0] >= 0.0 else -1.0
    start, piece_end = y.copy(), end.copy()
    level, i = 0, 0
    while True:
        width = span / 2.0 ** level
        if level > 0:
            piece_end[:] = start
            taylor_advance(p, piece_end, width, D)
        if not (gap_slope(start, p, gap_star)[0] < 0.0):
            y[:] = start  # rounding: at or above 0 where the piece on its left ended below
            return i * width
        verdict = triangular_piece(p, start, piece_end, gap_star, width)
        if verdict == HALVE and level < SEARCH_DEPTH:
            level, i = level + 1, 2 * i
            continue
        if verdict != NO_CROSSING and gap_slope(piece_end, p, gap_star)[0] >= 0.0:
            y[:] = start
            return i * width + locate_crossing(p, y, gap_star, width, D)
        start[:] = piece_end
        while i % 2 == 1:  # the next piece to the right, up as far as needed
            level, i = level - 1, i // 2
        if level == 0:
            return -1.0
        i += 1


# --- the modal form: the fast path of ``exact`` ---------------------------------------------
# M is lower triangular, with eigenvalues -k1, -k2, -mu and -b. When the rates that are coupled
# lie apart, y = E z with E's columns the eigenvectors (each with a leading 1), and every
# modal coordinate decays on its own: z_i(t) = z_i e^{-rate_i t}. The state is kept as
# c_i = w_i z_i, w the weights of the gap (V - V_th = sum w_i z_i): the gap is then
# c1 + c2 + c3 + c4 + V* - V_th*, and a step is four products. Scaling by w_i keeps each
# coordinate's relative error, so a small w_i costs nothing; a zero one cannot be divided
# out, and leaves that neuron in the triangular form.

# The modal form's array: the rates, the gap's weights, E's off-diagonal entries (with
# V = v1 z1 + v2 z2 + z3 and V_th = t1 z1 + t2 z2 + t3 z3 + z4), and the weights' inverses.
RATE, WEIGHT, INVERSE_WEIGHT = 0, 4, 13
EV1, EV2, ET1, ET2, ET3 = 8, 9, 10, 11, 12
MODAL_SIZE = 17
MODAL_SEPARATION = 0.01  # coupled rates this close (relative) make E ill-conditioned
NUDGE_REACH = 1e-4  # |rate * step| up to which nudged() is exact to float64 (error < 1e-21)


@njit(cache=True)
def apart(x, y):
    return abs(x - y) > MODAL_SEPARATION * max(x, y)


@njit(cache=True)
def modal_form(p, h, F):
    """Fill F with the modal form of p; return whether ``exact`` may step in it with h.

    No when coupled rates are too close, when a gap weight is zero, or when a rate * h is too
    large for a single Taylor piece (there the piecewise search finds the first of several
    crossings in one step).
    """
    k1, k2, mu, b, a, g = p[K1], p[K2], 1.0 / p[TAU], p[B], p[A], p[R] / p[TAU]
    F[RATE], F[RATE + 1], F[RATE + 2], F[RATE + 3] = k1, k2, mu, b
    if n_taylor_pieces(p, h) > 1 or not (apart(mu, k1) and apart(mu, k2)):
        return False
    if a != 0.0 and not (apart(b, k1) and apart(b, k2) and apart(b, mu)):
        return False
    v1, v2 = g / (mu - k1), g / (mu - k2)
    t1 = t2 = t3 = 0.0
    if a != 0.0:
        t1, t2, t3 = a * v1 / (b - k1), a * v2 / (b - k2), a / (b - mu)
    F[EV1], F[EV2], F[ET1], F[ET2], F[ET3] = v1, v2, t1, t2, t3
    F[WEIGHT], F[WEIGHT + 1], F[WEIGHT + 2], F[WEIGHT + 3] = v1 - t1, v2 - t2, 1.0 - t3, -1.0
    for i in range(4):
        if F[WEIGHT + i] == 0.0:
            return False
        F[INVERSE_WEIGHT + i] = 1.0 / F[WEIGHT + i]
    return bool(np.isfinite(F[:MODAL_SIZE]).all())


@njit(cache=True, _nrt=False)
def to_modal(y1, y2, yv, yt, F, c):
    z3 = yv - F[EV1] * y1 - F[EV2] * y2
    z4 = yt - F[ET1] * y1 - F[ET2] * y2 - F[ET3] * z3
    c[0], c[1] = F[WEIGHT] * y1, F[WEIGHT + 1] * y2
    c[2], c[3] = F[WEIGHT + 2] * z3, F[WEIGHT + 3] * z4


@njit(cache=True, _nrt=False)
def from_modal(c, F):
    """The deviation (I1, I2, V, V_th) - x* of the modal state c."""
    z1, z2 = c[0] * F[INVERSE_WEIGHT], c[1] * F[INVERSE_WEIGHT + 1]
    z3, z4 = c[2] * F[INVERSE_WEIGHT + 2], c[3] * F[INVERSE_WEIGHT + 3]
    return (z1, z2, F[EV1] * z1 + F[EV2] * z2 + z3,
            F[ET1] * z1 + F[ET2] * z2 + F[ET3] * z3 + z4)


@njit(cache=True, inline="always")
def modal_gap(c1, c2, c3, c4, gap_star):
    """V - V_th from the modal state; the batched vector step repeats this very sum."""
    return (c1 + c2) + (c3 + c4) + gap_star




# 1/n! for n = 0..14: e^x's Taylor polynomial of degree 14 is within 0.2 ulp of it on
# [-TAYLOR_REACH, 0], where x = -rate * tau lies in the modal form (rate * dt < TAYLOR_REACH).
EXP_COEFFICIENTS = tuple(1.0 / math.factorial(n) for n in range(15))


@njit(cache=True, inline="always")
def short_exp(x):
    """e^x for x in [-TAYLOR_REACH, 0], within 1.5 ulp (libm's exp: 0.5) by Estrin's
    scheme: pure arithmetic, so that a loop of them vectorises, where calls to libm do not."""
    c = EXP_COEFFICIENTS
    x2 = x * x
    x4 = x2 * x2
    terms_1_3 = x + (c[2] + c[3] * x) * x2
    terms_4_7 = c[4] + c[5] * x + (c[6] + c[7] * x) * x2
    terms_8_11 = c[8] + c[9] * x + (c[10] + c[11] * x) * x2
    terms_12_14 = c[12] + c[13] * x + c[14] * x2
    # The 1 comes last: the one rounding of the sum then dominates the error.
    return 1.0 + ((terms_1_3 + terms_4_7 * x4) + (terms_8_11 + terms_12_14 * x4) * (x4 * x4))


@njit(cache=True, inline="always")
def modal_decays(F, tau):
    """e^{-rate_i tau} for the four rates, tau in [0, dt]."""
    return (short_exp(-F[RATE] * tau), short_exp(-F[RATE + 1] * tau),
            short_exp(-F[RATE + 2] * tau), short_exp(-F[RATE + 3] * tau))


@njit(cache=True)
def modal_decay(F, h):
    """The four factors e^{-rate_i h}, h <= dt: ``exact``'s step in the modal form."""
    e = np.empty(4)
    e[0], e[1], e[2], e[3] = modal_decays(F, h)
    return e


@njit(cache=True, inline="always")
def nudged(decay, rate, step):
    """decay * e^{rate step} for |rate step| <= NUDGE_REACH: Taylor to the fourth power."""
    x = rate * step
    return decay * (1.0 + x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0)))))


@njit(cache=True, _nrt=False)
def modal_slope(c, F):
    return -(F[RATE] * c[0] + F[RATE + 1] * c[1] + F[RATE + 2] * c[2] + F[RATE + 3] * c[3])


@njit(cache=True)
def hermite_guess(g0, g1, d0, d1, span):
    """Where the gap crosses zero in [0, span], from its values g0 < 0 <= g1 and slopes at
    both ends: the inverse cubic Hermite interpolant of time as a function of the gap, else
    the secant's root (a slope not positive), else the middle."""
    rise = g1 - g0
    u = -g0 / rise
    guess = u * span
    if d0 > 0.0 and d1 > 0.0 and rise > 0.0:
        u2 = u * u
        u3 = u2 * u
        hermite = (u3 - 2.0 * u2 + u) * (rise / d0) + (3.0 * u2 - 2.0 * u3) * span \
            + (u3 - u2) * (rise / d1)
        if 0.0 < hermite < span:
            guess = hermite
    if not (0.0 < guess < span):
        guess = 0.5 * span
    return guess


@njit(cache=True, inline="always")
def crossing_guess(c, c_end, F, gap_star, span):
    """Where the gap, below zero at c and not below at c_end (span ms later), crosses zero:
    modal_crossing's start, from the gap and its slope at both ends."""
    g0 = modal_gap(c[0], c[1], c[2], c[3], gap_star)
    g1 = modal_gap(c_end[0], c_end[1], c_end[2], c_end[3], gap_star)
    return hermite_guess(g0, g1, modal_slope(c, F), modal_slope(c_end, F), span)


# What a Newton iteration of modal_crossing ends with.
NEWTON_GOING, NEWTON_NUDGED, NEWTON_DONE = 0, 1, 2


@njit(cache=True, inline="always")
def newton_iteration(c, F, gap_star, tau, lo, hi, d1, d2, d3, d4):
    """One Newton step on the gap from the modal state c at tau ms, kept inside [lo, hi];
    d = modal_decays(F, tau).

    Returns (outcome, tau_next, lo, hi, d1, d2, d3, d4). NEWTON_NUDGED: tau_next is the
    root, and d the decays there, nudged from tau by the last step. NEWTON_DONE: tau_next is
    the root, d are not yet its decays. NEWTON_GOING: iterate from tau_next. It is done when
    its step, or the error its quadratic convergence leaves after the step, is below
    CROSSING_TOLERANCE, or when the bracket is that narrow.
    """
    r1, r2, r3, r4 = F[RATE], F[RATE + 1], F[RATE + 2], F[RATE + 3]
    q1, q2, q3, q4 = c[0] * d1, c[1] * d2, c[2] * d3, c[3] * d4
    g = modal_gap(q1, q2, q3, q4, gap_star)
    dg = -(r1 * q1 + r2 * q2 + r3 * q3 + r4 * q4)
    if g >= 0.0:
        hi = tau
    else:
        lo = tau
    if dg > 0.0:
        step = g / dg
        # Newton's error after this step is about (g'' / 2 g') step^2, when the step is
        # short enough (<= sqrt(tolerance)) that the cubic term cannot matter.
        half_d2 = 0.5 * (r1 * r1 * q1 + r2 * r2 * q2 + r3 * r3 * q3 + r4 * r4 * q4)
        done = abs(step) <= CROSSING_TOLERANCE or (
            step * step <= CROSSING_TOLERANCE
            and abs(half_d2) * step * step <= 0.25 * CROSSING_TOLERANCE * dg
            and lo <= tau - step <= hi)
        if done and max(r1, r2, r3, r4) * abs(step) <= NUDGE_REACH:
            return (NEWTON_NUDGED, tau - step, lo, hi, nudged(d1, r1, step),
                    nudged(d2, r2, step), nudged(d3, r3, step), nudged(d4, r4, step))
        tau_next = tau - step
        if done:
            return NEWTON_DONE, tau_next, lo, hi, d1, d2, d3, d4
    else:
        tau_next = 0.5 * (lo + hi)
    if not (lo < tau_next < hi):
        tau_next = 0.5 * (lo + hi)
    outcome = NEWTON_DONE if hi - lo <= CROSSING_TOLERANCE else NEWTON_GOING
    return outcome, tau_next, lo, hi, d1, d2, d3, d4


@njit(cache=True, _nrt=False)
def modal_crossing(c, c_end, F, gap_star, span):
    """(tau, e^{-rate_i tau} for the four rates): the time in [0, span] ms at which the gap,
    from the modal state c, reaches zero.

    c_end is the state at span, where the gap is >= 0 (the caller tested it). Newton from
    the Hermite guess (newton_iteration). A start at or above threshold (or NaN) crosses at
    span.
    """
    if not (modal_gap(c[0], c[1], c[2], c[3], gap_star) < 0.0):
        d1, d2, d3, d4 = modal_decays(F, span)
        return span, d1, d2, d3, d4
    tau, lo, hi = crossing_guess(c, c_end, F, gap_star, span), 0.0, span
    for _ in range(200):
        d1, d2, d3, d4 = modal_decays(F, tau)
        outcome, tau, lo, hi, d1, d2, d3, d4 = newton_iteration(c, F, gap_star, tau, lo, hi,
                                                                d1, d2, d3, d4)
        if outcome == NEWTON_NUDGED:
            return tau, d1, d2, d3, d4
        if outcome == NEWTON_DONE:
            break
    d1, d2, d3, d4 = modal_decays(F, tau)
    return tau, d1, d2, d3, d4


@njit(cache=True, inline="always")
def modal_fire(c, c_end, e, F, p, v_star, th_star, d1, d2, d3, d4, s1, s2, s3, s4):
    """The spike at a crossing: c, the state at the last crossing (or the step's start),
    decays by d to the crossing and is reset; c_end becomes the state at the step's end.
    s holds e^{-rate_i done} before, and is returned after."""
    c[0], c[1], c[2], c[3] = c[0] * d1, c[1] * d2, c[2] * d3, c[3] * d4
    y1, y2, yv, yt = from_modal(c, F)
    y1, y2, yv, yt = reset_values(y1, y2, yv, yt, p, v_star, th_star)
    to_modal(y1, y2, yv, yt, F, c)
    s1, s2, s3, s4 = s1 * d1, s2 * d2, s3 * d3, s4 * d4
    c_end[0], c_end[1] = c[0] * (e[0] / s1), c[1] * (e[1] / s2)
    c_end[2], c_end[3] = c[2] * (e[2] / s3), c[3] * (e[3] / s4)
    return s1, s2, s3, s4


# --- the step's crossing test: a bound that cannot miss, and a search where it does not hold ---
# Over tau in [0, span] the gap is gap_star + sum c_i e^{-rate_i tau}: each term is monotone
# (every rate > 0), so it lies between its values at the two ends, and so do its curvature
# terms rate_i^2 c_i e^{-rate_i tau}. See docs/integrators.md, "What is guaranteed, and why".


@njit(cache=True, inline="always")
def modal_bound(c1, c2, c3, c4, n1, n2, n3, n4, gap_star):
    """An upper bound of the gap over a piece, from the modal states at its two ends: each
    term at its larger end. Below 0, the piece has no crossing; NaN is none either."""
    return (max(c1, n1) + max(c2, n2)) + (max(c3, n3) + max(c4, n4)) + gap_star


@njit(cache=True, inline="always")
def curvature_weight(decay):
    """(1 - e)^2 (3 - 2 e) / 8 >= (1 - e)^2 / (8 e) = sinh^2(x/2) / 2 >= x^2 / 8 for e = e^{-x},
    x in [0, TAYLOR_REACH] (e^x <= 3 - 2 e^{-x} there): the step's bound, with no division."""
    rest = 1.0 - decay
    return rest * rest * (3.0 - 2.0 * decay) * 0.125


@njit(cache=True, inline="always")
def modal_step_bound(c1, c2, c3, c4, n1, n2, n3, n4, w1, w2, w3, w4, gap_star):
    """The smaller of two upper bounds of the gap over a step: modal_bound, and the larger
    end plus h^2/8 times a bound of how far the gap bends down (g'' >= -B gives g <= chord
    + B h^2/8; each term rate_i^2 c_i e^{-rate_i t} is at least -rate_i^2 max(-c_i, 0);
    w_i = curvature_weight(e_i) >= (rate_i h)^2 / 8). The second is tight to second order in
    rate * h, the first to first order only."""
    first = modal_bound(c1, c2, c3, c4, n1, n2, n3, n4, gap_star)
    ends = max(modal_gap(c1, c2, c3, c4, gap_star), modal_gap(n1, n2, n3, n4, gap_star))
    second = ends + ((w1 * max(-c1, 0.0) + w2 * max(-c2, 0.0))
                     + (w3 * max(-c3, 0.0) + w4 * max(-c4, 0.0)))
    return min(first, second)


@njit(cache=True, inline="always")
def modal_curvature_bounds(c, c_end, F):
    """Bounds (lower, upper) of the gap's second derivative over a piece with ends c, c_end."""
    lower = upper = 0.0
    for i in range(4):
        r2 = F[RATE + i] * F[RATE + i]
        lower += min(r2 * c[i], r2 * c_end[i])
        upper += max(r2 * c[i], r2 * c_end[i])
    return lower, upper


@njit(cache=True, _nrt=False)
def modal_single_crossing(c, c_end, F, gap_star):
    """Whether the piece from c to c_end has exactly one crossing and it lies inside: the gap
    starts below 0, ends at or above it, and is convex or concave all along (a concave gap
    rises to its maximum and stays above its end after it; a convex one, below 0 at the
    start, meets 0 once). modal_crossing then finds it."""
    if not (modal_gap(c[0], c[1], c[2], c[3], gap_star) < 0.0):
        return False
    if not (modal_gap(c_end[0], c_end[1], c_end[2], c_end[3], gap_star) >= 0.0):
        return False
    lower, upper = modal_curvature_bounds(c, c_end, F)
    return lower >= 0.0 or upper <= 0.0


@njit(cache=True, _nrt=False)
def modal_peak(c, F, span):
    """Where the gap's slope, positive at the start of the piece (state c) and negative at its
    end (span ms later), reaches 0, for a concave gap: Newton safeguarded by bisection."""
    lo, hi = 0.0, span
    s_lo = modal_slope(c, F)
    d1, d2, d3, d4 = modal_decays(F, span)
    s_hi = -(F[RATE] * c[0] * d1 + F[RATE + 1] * c[1] * d2 + F[RATE + 2] * c[2] * d3
             + F[RATE + 3] * c[3] * d4)
    tau = span * s_lo / (s_lo - s_hi)
    for _ in range(100):
        d1, d2, d3, d4 = modal_decays(F, tau)
        q1, q2, q3, q4 = c[0] * d1, c[1] * d2, c[2] * d3, c[3] * d4
        slope = -(F[RATE] * q1 + F[RATE + 1] * q2 + F[RATE + 2] * q3 + F[RATE + 3] * q4)
        bend = (F[RATE] ** 2 * q1 + F[RATE + 1] ** 2 * q2 + F[RATE + 2] ** 2 * q3
                + F[RATE + 3] ** 2 * q4)
        if slope > 0.0:
            lo = tau
        else:
            hi = tau
        step = -slope / bend if bend < 0.0 else 0.5 * (lo + hi) - tau
        following = tau + step
        if not (lo < following < hi):
            following = 0.5 * (lo + hi)
        if abs(following - tau) <= CROSSING_TOLERANCE or hi - lo <= CROSSING_TOLERANCE:
            return following
        tau = following
    return tau


@njit(cache=True, _nrt=False)
def modal_piece_crossing(c, c_end, F, gap_star, span):
    """The first crossing in a piece (tau from its start, or -1 for none, or -2 when the
    piece must be halved), with the piece's ends c and c_end below 0 at its start."""
    if not (modal_bound(c[0], c[1], c[2], c[3], c_end[0], c_end[1], c_end[2], c_end[3],
                        gap_star) >= 0.0):
        return -1.0
    if modal_single_crossing(c, c_end, F, gap_star):
        tau, _, _, _, _ = modal_crossing(c, c_end, F, gap_star, span)
        return tau
    lower, upper = modal_curvature_bounds(c, c_end, F)
    if lower >= 0.0:
        return -1.0  # convex, both ends below 0 (else modal_single_crossing)
    if upper > 0.0:
        return -2.0
    slope_start, slope_end = modal_slope(c, F), modal_slope(c_end, F)
    if not (slope_start > 0.0 and slope_end < 0.0):
        return -1.0  # concave with its maximum at an end, both ends below 0
    g0 = modal_gap(c[0], c[1], c[2], c[3], gap_star)
    g1 = modal_gap(c_end[0], c_end[1], c_end[2], c_end[3], gap_star)
    # A concave gap lies below both end tangents, so below the height where they meet.
    meet = (g1 - g0 - slope_end * span) / (slope_start - slope_end)
    if g0 + slope_start * meet < 0.0:
        return -1.0
    peak = modal_peak(c, F, span)
    d1, d2, d3, d4 = modal_decays(F, peak)
    top = (c[0] * d1, c[1] * d2, c[2] * d3, c[3] * d4)
    if modal_gap(top[0], top[1], top[2], top[3], gap_star) < 0.0:
        return -1.0
    return modal_crossing(c, top, F, gap_star, peak)[0]  # rare: the gap rises up to its peak


@njit(cache=True, _nrt=False)
def modal_first_crossing(c, c_end, F, gap_star, span):
    """(tau, e^{-rate_i tau}) of the first instant in [0, span] at which the gap from the modal
    state c reaches 0, c_end being the state at span; tau = -1 when there is none.

    A piece that the bound does not clear and that is neither convex nor concave is halved,
    left half first (i counts the pieces of width span / 2^level). A start at or above
    threshold crosses at span if the end is too (as ``modal_crossing`` has it), else never.
    """
    none = (-1.0, 1.0, 1.0, 1.0, 1.0)
    if not (modal_gap(c[0], c[1], c[2], c[3], gap_star) < 0.0):
        if modal_gap(c_end[0], c_end[1], c_end[2], c_end[3], gap_star) >= 0.0:
            return modal_crossing(c, c_end, F, gap_star, span)
        return none
    d1, d2, d3, d4 = modal_decays(F, span)
    if modal_step_bound(c[0], c[1], c[2], c[3], c_end[0], c_end[1], c_end[2], c_end[3],
                        curvature_weight(d1), curvature_weight(d2), curvature_weight(d3),
                        curvature_weight(d4), gap_star) < 0.0:
        return none  # the usual silent step, as the vector pass clears it
    if modal_single_crossing(c, c_end, F, gap_star):  # the usual firing step, as it always was
        return modal_crossing(c, c_end, F, gap_star, span)
    level, i = 0, 0
    while True:
        width = span / 2.0 ** level
        a = i * width
        start = (c[0], c[1], c[2], c[3])
        if a > 0.0:  # (short_exp(0) is 1 exactly: the piece at 0 starts at c itself)
            d1, d2, d3, d4 = modal_decays(F, a)
            start = (c[0] * d1, c[1] * d2, c[2] * d3, c[3] * d4)
        end = (c_end[0], c_end[1], c_end[2], c_end[3])
        if level > 0:
            d1, d2, d3, d4 = modal_decays(F, a + width)
            end = (c[0] * d1, c[1] * d2, c[2] * d3, c[3] * d4)
        tau = -1.0
        if not (modal_gap(start[0], start[1], start[2], start[3], gap_star) < 0.0):
            tau = 0.0  # rounding: at or above 0 where the piece on its left ended below
        elif level < SEARCH_DEPTH:
            tau = modal_piece_crossing(start, end, F, gap_star, width)
        elif modal_gap(end[0], end[1], end[2], end[3], gap_star) >= 0.0:
            tau = modal_crossing(start, end, F, gap_star, width)[0]
        if tau == -2.0:
            level, i = level + 1, 2 * i
            continue
        if tau >= 0.0:
            d1, d2, d3, d4 = modal_decays(F, a + tau)
            return a + tau, d1, d2, d3, d4
        while i % 2 == 1:  # the next piece to the right, up as far as needed
            level, i = level - 1, i // 2
        if level == 0:
            return none
        i += 1


@njit(cache=True, _nrt=False)
def modal_spikes(c, c_end, e, F, p, v_star, th_star, t0, h, spikes, n_spikes, max_per_step):
    """The spikes of one step of h ms from t0, in the modal form; c the state at t0, c_end
    (= e * c, e = modal_decay(F, h)) the state at t0 + h without them.

    The first crossing in what is left of the step is found (modal_first_crossing: none is
    missed, even one that enters and leaves within the step), the neuron reset at that
    instant (modal_fire), and the rest of the step decayed from there, until no crossing is
    left. A NaN gap (a state that overflowed, which the caller reports) is no crossing. On
    return c_end holds the state at t0 + h. Returns the new spike count, or -1 if the spike
    buffer or the per-step cap is exceeded. The single and the batched path both come here,
    so they agree to the last bit.
    """
    gap_star = v_star - th_star
    done, in_this_step = 0.0, 0
    s1 = s2 = s3 = s4 = 1.0  # e^{-rate_i done}
    while True:
        tau, d1, d2, d3, d4 = modal_first_crossing(c, c_end, F, gap_star, h - done)
        if tau < 0.0:
            return n_spikes
        if n_spikes >= spikes.shape[0] or in_this_step >= max_per_step:
            return -1
        done += tau
        spikes[n_spikes] = t0 + done
        n_spikes += 1
        in_this_step += 1
        s1, s2, s3, s4 = modal_fire(c, c_end, e, F, p, v_star, th_star, d1, d2, d3, d4,
                                    s1, s2, s3, s4)


@njit(cache=True, _nrt=False)
def modal_advance(c, c0, e, F, p, v_star, th_star, t0, h, spikes, n_spikes, max_per_step):
    """``advance`` in the modal form (``exact``): e = modal_decay(F, h); c0 is scratch."""
    for i in range(4):
        c0[i] = c[i]
        c[i] = c[i] * e[i]
    return modal_spikes(c0, c, e, F, p, v_star, th_star, t0, h, spikes, n_spikes, max_per_step)


@njit(cache=True)
def modal_enter_segment(c, F, p, old_amplitude, new_amplitude):
    """enter_segment in the modal form: the shift of V* and V_th* moves z3 and z4 only."""
    v_old, th_old = fixed_point(p, old_amplitude)
    v_new, th_new = fixed_point(p, new_amplitude)
    dv = v_old - v_new
    c[2] += F[WEIGHT + 2] * dv
    c[3] += F[WEIGHT + 3] * (th_old - th_new - F[ET3] * dv)
    return v_new, th_new


@njit(cache=True)
def advance(y, p, P, v_star, th_star, t0, h, method, spikes, n_spikes, max_per_step, D, y0):
    """One step (or part of one) of h ms from time t0 by the propagator P, spikes included.

    ``exact`` (the triangular form, the modal form's fallback) tests the step with
    triangular_step_bound and searches it with triangular_first_crossing where the bound
    does not clear it, also after each of its spikes. D is a (MAX_TAYLOR_TERMS, 4) work
    array, y0 scratch. Returns the new spike count, or -1 if the spike buffer or the
    per-step cap is exceeded.
    """
    y0[:] = y
    linear_step(y, P)
    gap_star = v_star - th_star
    if method != EXACT:
        threshold = y0[VTH] if method == EXP_EULER else y[VTH]
        if y[V] - threshold + gap_star < 0.0:
            return n_spikes
        if n_spikes >= spikes.shape[0]:
            return -1
        spikes[n_spikes] = t0 + h
        reset(y, p, v_star, th_star)
        return n_spikes + 1
    w = BOUND_WEIGHTS
    if triangular_step_bound(y0[I1], y0[I2], y0[V], y0[VTH], y[I1], y[I2], y[V], y[VTH], P[w],
                             P[w + 1], P[w + 2], P[w + 3], gap_star) < 0.0:
        return n_spikes
    t, remaining, in_this_step = t0, h, 0
    end = y.copy()
    y[:] = y0
    while True:
        s = triangular_first_crossing(p, y, end, gap_star, remaining, D)
        if s < 0.0:
            y[:] = end
            return n_spikes
        if n_spikes >= spikes.shape[0] or in_this_step >= max_per_step:
            return -1
        t += s
        remaining -= s
        spikes[n_spikes] = t
        n_spikes += 1
        in_this_step += 1
        reset(y, p, v_star, th_star)
        end[:] = y  # where the search for a second crossing in this step starts
        taylor_advance(p, end, remaining, D)


# --- one interface to both forms, for the single-neuron path and the batch's rare steps -------


@njit(cache=True)
def step_map(p, h, method, F, modal):
    """What advances the state by h: the modal form's four decays, or the propagator P."""
    return modal_decay(F, h) if modal else propagator(p, h, method)


@njit(cache=True)
def advance_state(state, p, F, modal, step, v_star, th_star, t0, h, method, spikes, n_spikes,
                  max_per_step, D, scratch):
    """advance or modal_advance, as ``modal`` says; ``step`` comes from step_map."""
    if modal:
        return modal_advance(state, scratch, step, F, p, v_star, th_star, t0, h, spikes,
                             n_spikes, max_per_step)
    return advance(state, p, step, v_star, th_star, t0, h, method, spikes, n_spikes,
                   max_per_step, D, scratch)


@njit(cache=True)
def enter_state(state, p, F, modal, old_amplitude, new_amplitude):
    if modal:
        return modal_enter_segment(state, F, p, old_amplitude, new_amplitude)
    return enter_segment(state, p, old_amplitude, new_amplitude)


@njit(cache=True)
def deviation(state, F, modal):
    """x - x* as (I1, I2, V, V_th), from either form."""
    if modal:
        return from_modal(state, F)
    return state[I1], state[I2], state[V], state[VTH]


@njit(cache=True)
def enter_segment(y, p, old_amplitude, new_amplitude):
    """Re-centre the deviation on the new segment's fixed point; return that point."""
    v_old, th_old = fixed_point(p, old_amplitude)
    v_new, th_new = fixed_point(p, new_amplitude)
    y[V] += v_old - v_new
    y[VTH] += th_old - th_new
    return v_new, th_new


@njit(cache=True, nogil=True)
def simulate_trace(p, x_init, amplitudes, boundary_step, boundary_offset, n_steps, dt, method,
                   max_spikes, max_per_step, stop):
    """Run one neuron and record the state at every grid point t_k = k dt.

    Segment j ends at boundary_step[j] * dt + boundary_offset[j]; an offset > 0 (``exact``
    only) splits that step at the boundary. ``exact`` steps in the modal form when modal_form
    allows it, else by its propagator. Returns (states[n_steps+1, 4], inputs[n_steps+1],
    spike_times, status); status is INTERRUPTED, with the trace cut short, once ``stop[0]``
    is set (it is read every POLL_STEPS steps; the GIL is released, so another thread can).
    """
    F = np.empty(MODAL_SIZE)
    modal = method == EXACT and modal_form(p, dt, F)
    step = step_map(p, dt, method, F, modal)
    states = np.empty((n_steps + 1, 4))
    inputs = np.empty(n_steps + 1)
    spikes = np.empty(max_spikes)
    D = np.empty((MAX_TAYLOR_TERMS, 4))
    state, scratch = np.empty(4), np.empty(4)
    # np.int64(0), not 0 (here and for the counts the batch passes): Numba compiles a kernel
    # called with a literal 0 for Literal[int](0), and again for int64 once the count grows
    seg, n_spikes, last_seg = 0, np.int64(0), amplitudes.shape[0] - 1
    v_star, th_star = fixed_point(p, amplitudes[0])
    y1, y2, yv, yt = x_init[I1], x_init[I2], x_init[V] - v_star, x_init[VTH] - th_star
    if modal:
        to_modal(y1, y2, yv, yt, F, state)
    else:
        state[I1], state[I2], state[V], state[VTH] = y1, y2, yv, yt
    states[0] = x_init
    for k in range(n_steps):
        if k % POLL_STEPS == 0 and stop[0] != 0:
            return states[: k + 1], inputs[: k + 1], spikes[:0], INTERRUPTED
        while seg < last_seg and boundary_step[seg] == k and boundary_offset[seg] == 0.0:
            v_star, th_star = enter_state(state, p, F, modal, amplitudes[seg],
                                          amplitudes[seg + 1])
            seg += 1
        inputs[k] = amplitudes[seg]
        t0 = k * dt
        before = n_spikes
        if seg < last_seg and boundary_step[seg] == k:  # an off-grid boundary: split the step
            first = boundary_offset[seg]
            n_spikes = advance_state(state, p, F, modal, step_map(p, first, method, F, modal),
                                     v_star, th_star, t0, first, method, spikes, n_spikes,
                                     max_per_step, D, scratch)
            v_star, th_star = enter_state(state, p, F, modal, amplitudes[seg],
                                          amplitudes[seg + 1])
            seg += 1
            if n_spikes >= 0:
                rest = dt - first
                n_spikes = advance_state(state, p, F, modal, step_map(p, rest, method, F, modal),
                                         v_star, th_star, t0 + first, rest, method, spikes,
                                         n_spikes, max_per_step, D, scratch)
        else:
            n_spikes = advance_state(state, p, F, modal, step, v_star, th_star, t0, dt, method,
                                     spikes, n_spikes, max_per_step, D, scratch)
        if n_spikes < 0:
            return states[: k + 1], inputs[: k + 1], spikes[:0], TOO_MANY_SPIKES
        y1, y2, yv, yt = deviation(state, F, modal)
        states[k + 1, 0], states[k + 1, 1] = y1, y2
        states[k + 1, 2], states[k + 1, 3] = yv + v_star, yt + th_star
        if method != EXACT and n_spikes > before:
            spikes[before] = (k + 1) * dt  # the grid time itself, not t0 + dt
            # The row shows the reset values themselves: (V_reset - v*) + v* can be 1 ulp off.
            states[k + 1, 2] = p[V_RESET]
            if yt == p[V_TH_RESET] - th_star:
                states[k + 1, 3] = p[V_TH_RESET]
    inputs[n_steps] = amplitudes[seg]
    return states, inputs, spikes[:n_spikes], OK

