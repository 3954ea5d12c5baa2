"""The vector passes: the branch-free, straight-line loops over a block's neurons that make one
or a few steps each, in structure-of-arrays form, for LLVM to vectorise.

Each reads the old state Ya and writes the new one to Yb, flags in F the neurons whose test
fired and returns how many did; :mod:`~gifcli.simulation.batch.spike_pass` then redoes the
flagged neurons' steps one by one. The triangular form's steps (``_step_*``, ``_step2_*``: one
or two steps, with the propagator rows the whole block shares held in registers) and the modal
form's (``_modal_step*``: one step or MODAL_STEPS).
"""

from __future__ import annotations

from numba import njit

from gifcli.simulation import kernel

MODAL_STEPS = 4  # steps per vector pass in the modal form

# The propagator rows that are loaded per neuron in each vector variant of the step; BOUNDED:
# all rows, and the bound of the triangular ``exact`` step (kernel.triangular_step_bound).
ALL_ROWS, THRESHOLD_ROWS, NO_ROWS, BOUNDED = 0, 1, 2, 3


# --- the vector step --------------------------------------------------------------------------
# Each reads the old deviation Ya and writes the new one to Yb, the arithmetic of
# kernel.linear_step in its order, then sets F[j] = 1 where V - threshold + (V* - V_th*) is
# not < 0 (the test of kernel.advance, NaN included) and returns how many did.


@njit(cache=True, inline="always")
def _step_all_rows(Ya, Yb, P, G, F, n, old_threshold):
    count = 0
    if old_threshold:
        for j in range(n):
            y1, y2, yv, yt = Ya[0, j], Ya[1, j], Ya[2, j], Ya[3, j]
            Yb[0, j] = P[0, j] * y1
            Yb[1, j] = P[1, j] * y2
            nv = P[2, j] * y1 + P[3, j] * y2 + P[4, j] * yv
            Yb[2, j] = nv
            Yb[3, j] = P[5, j] * y1 + P[6, j] * y2 + P[7, j] * yv + P[8, j] * yt
            fired = not (nv - yt + G[j] < 0.0)
            F[j] = fired
            count += fired
    else:
        for j in range(n):
            y1, y2, yv, yt = Ya[0, j], Ya[1, j], Ya[2, j], Ya[3, j]
            Yb[0, j] = P[0, j] * y1
            Yb[1, j] = P[1, j] * y2
            nv = P[2, j] * y1 + P[3, j] * y2 + P[4, j] * yv
            Yb[2, j] = nv
            nt = P[5, j] * y1 + P[6, j] * y2 + P[7, j] * yv + P[8, j] * yt
            Yb[3, j] = nt
            fired = not (nv - nt + G[j] < 0.0)
            F[j] = fired
            count += fired
    return count


@njit(cache=True, inline="always")
def _step_bounded(Ya, Yb, P, G, F, n):
    """_step_all_rows for ``exact`` in the triangular form: F[j] = 1 where
    kernel.triangular_step_bound (weights in P's rows from kernel.BOUND_WEIGHTS) is not < 0."""
    w = kernel.BOUND_WEIGHTS
    count = 0
    for j in range(n):
        y1, y2, yv, yt = Ya[0, j], Ya[1, j], Ya[2, j], Ya[3, j]
        n1 = P[0, j] * y1
        n2 = P[1, j] * y2
        nv = P[2, j] * y1 + P[3, j] * y2 + P[4, j] * yv
        nt = P[5, j] * y1 + P[6, j] * y2 + P[7, j] * yv + P[8, j] * yt
        Yb[0, j], Yb[1, j], Yb[2, j], Yb[3, j] = n1, n2, nv, nt
        bound = kernel.triangular_step_bound(y1, y2, yv, yt, n1, n2, nv, nt, P[w, j],
                                             P[w + 1, j], P[w + 2, j], P[w + 3, j], G[j])
        fired = not (bound < 0.0)
        F[j] = fired
        count += fired
    return count


@njit(cache=True, inline="always")
def _step_threshold_rows(Ya, Yb, P, G, F, n, old_threshold, u):
    """P11, P22, P31, P32, P33 and P44 are u[...] for every neuron; P41..P43 per neuron."""
    p11, p22, p31, p32, p33, p44 = u[0], u[1], u[2], u[3], u[4], u[8]
    count = 0
    if old_threshold:
        for j in range(n):
            y1, y2, yv, yt = Ya[0, j], Ya[1, j], Ya[2, j], Ya[3, j]
            Yb[0, j] = p11 * y1
            Yb[1, j] = p22 * y2
            nv = p31 * y1 + p32 * y2 + p33 * yv
            Yb[2, j] = nv
            Yb[3, j] = P[5, j] * y1 + P[6, j] * y2 + P[7, j] * yv + p44 * yt
            fired = not (nv - yt + G[j] < 0.0)
            F[j] = fired
            count += fired
    else:
        for j in range(n):
            y1, y2, yv, yt = Ya[0, j], Ya[1, j], Ya[2, j], Ya[3, j]
            Yb[0, j] = p11 * y1
            Yb[1, j] = p22 * y2
            nv = p31 * y1 + p32 * y2 + p33 * yv
            Yb[2, j] = nv
            nt = P[5, j] * y1 + P[6, j] * y2 + P[7, j] * yv + p44 * yt
            Yb[3, j] = nt
            fired = not (nv - nt + G[j] < 0.0)
            F[j] = fired
            count += fired
    return count


@njit(cache=True, inline="always")
def _step_no_rows(Ya, Yb, G, F, n, old_threshold, u):
    """Every entry of P is the same for the whole block: only V* - V_th* is per neuron."""
    p11, p22, p31, p32, p33 = u[0], u[1], u[2], u[3], u[4]
    p41, p42, p43, p44 = u[5], u[6], u[7], u[8]
    count = 0
    if old_threshold:
        for j in range(n):
            y1, y2, yv, yt = Ya[0, j], Ya[1, j], Ya[2, j], Ya[3, j]
            Yb[0, j] = p11 * y1
            Yb[1, j] = p22 * y2
            nv = p31 * y1 + p32 * y2 + p33 * yv
            Yb[2, j] = nv
            Yb[3, j] = p41 * y1 + p42 * y2 + p43 * yv + p44 * yt
            fired = not (nv - yt + G[j] < 0.0)
            F[j] = fired
            count += fired
    else:
        for j in range(n):
            y1, y2, yv, yt = Ya[0, j], Ya[1, j], Ya[2, j], Ya[3, j]
            Yb[0, j] = p11 * y1
            Yb[1, j] = p22 * y2
            nv = p31 * y1 + p32 * y2 + p33 * yv
            Yb[2, j] = nv
            nt = p41 * y1 + p42 * y2 + p43 * yv + p44 * yt
            Yb[3, j] = nt
            fired = not (nv - nt + G[j] < 0.0)
            F[j] = fired
            count += fired
    return count


@njit(cache=True, inline="always")
def _step2_threshold_rows(Ya, Yb, P, G, F, n, old_threshold, u):
    """Two steps of _step_threshold_rows in one pass: F[j] = 1 if either step's test fires
    (the second step of such a neuron is then redone by the scalar pass)."""
    p11, p22, p31, p32, p33, p44 = u[0], u[1], u[2], u[3], u[4], u[8]
    count = 0
    for j in range(n):
        y1, y2, yv, yt = Ya[0, j], Ya[1, j], Ya[2, j], Ya[3, j]
        q41, q42, q43, gap = P[5, j], P[6, j], P[7, j], G[j]
        a1 = p11 * y1
        a2 = p22 * y2
        av = p31 * y1 + p32 * y2 + p33 * yv
        at = q41 * y1 + q42 * y2 + q43 * yv + p44 * yt
        b1 = p11 * a1
        b2 = p22 * a2
        bv = p31 * a1 + p32 * a2 + p33 * av
        bt = q41 * a1 + q42 * a2 + q43 * av + p44 * at
        Yb[0, j], Yb[1, j], Yb[2, j], Yb[3, j] = b1, b2, bv, bt
        if old_threshold:
            fired = (not (av - yt + gap < 0.0)) | (not (bv - at + gap < 0.0))
        else:
            fired = (not (av - at + gap < 0.0)) | (not (bv - bt + gap < 0.0))
        F[j] = fired
        count += fired
    return count


@njit(cache=True, inline="always")
def _step2_no_rows(Ya, Yb, G, F, n, old_threshold, u):
    """Two steps of _step_no_rows in one pass (see _step2_threshold_rows)."""
    p11, p22, p31, p32, p33 = u[0], u[1], u[2], u[3], u[4]
    p41, p42, p43, p44 = u[5], u[6], u[7], u[8]
    count = 0
    for j in range(n):
        y1, y2, yv, yt = Ya[0, j], Ya[1, j], Ya[2, j], Ya[3, j]
        gap = G[j]
        a1 = p11 * y1
        a2 = p22 * y2
        av = p31 * y1 + p32 * y2 + p33 * yv
        at = p41 * y1 + p42 * y2 + p43 * yv + p44 * yt
        b1 = p11 * a1
        b2 = p22 * a2
        bv = p31 * a1 + p32 * a2 + p33 * av
        bt = p41 * a1 + p42 * a2 + p43 * av + p44 * at
        Yb[0, j], Yb[1, j], Yb[2, j], Yb[3, j] = b1, b2, bv, bt
        if old_threshold:
            fired = (not (av - yt + gap < 0.0)) | (not (bv - at + gap < 0.0))
        else:
            fired = (not (av - at + gap < 0.0)) | (not (bv - bt + gap < 0.0))
        F[j] = fired
        count += fired
    return count


@njit(cache=True, inline="always")
def _modal_steps(Ya, Yb, P, G, F, n):
    """MODAL_STEPS ``exact`` steps in the modal form, with kernel.modal_advance's products;
    F[j] = MODAL_STEPS - s for the first step s whose bound (kernel.modal_bound) does not
    prove it silent (0 if none): kernel.modal_step_bound."""
    count = 0
    for j in range(n):
        c1, c2, c3, c4 = Ya[0, j], Ya[1, j], Ya[2, j], Ya[3, j]
        e1, e2, e3, e4, gap = P[0, j], P[1, j], P[2, j], P[3, j], G[j]
        w1, w2 = kernel.curvature_weight(e1), kernel.curvature_weight(e2)
        w3, w4 = kernel.curvature_weight(e3), kernel.curvature_weight(e4)
        flag = 0
        for s in range(MODAL_STEPS):
            b1, b2, b3, b4 = c1, c2, c3, c4
            c1, c2, c3, c4 = c1 * e1, c2 * e2, c3 * e3, c4 * e4
            fired = not (kernel.modal_step_bound(b1, b2, b3, b4, c1, c2, c3, c4, w1, w2, w3, w4,
                                                 gap) < 0.0)
            flag = max(flag, fired * (MODAL_STEPS - s))
        Yb[0, j], Yb[1, j], Yb[2, j], Yb[3, j] = c1, c2, c3, c4
        F[j] = flag
        count += flag > 0
    return count


@njit(cache=True, inline="always")
def _modal_step_of(Ya, P, G, j):
    """Neuron j's ``exact`` step in the modal form: its new state, and whether its bound
    does not prove it silent. It only loads: the caller stores after every load, so that
    LLVM, which cannot tell the arrays apart, still vectorises the loop."""
    b1, b2, b3, b4 = Ya[0, j], Ya[1, j], Ya[2, j], Ya[3, j]
    e1, e2, e3, e4 = P[0, j], P[1, j], P[2, j], P[3, j]
    c1, c2, c3, c4 = b1 * e1, b2 * e2, b3 * e3, b4 * e4
    bound = kernel.modal_step_bound(b1, b2, b3, b4, c1, c2, c3, c4, kernel.curvature_weight(e1),
                                    kernel.curvature_weight(e2), kernel.curvature_weight(e3),
                                    kernel.curvature_weight(e4), G[j])
    return c1, c2, c3, c4, not (bound < 0.0)


@njit(cache=True, inline="always")
def _modal_step(Ya, Yb, P, G, F, n):
    """One ``exact`` step in the modal form for the block; how many tests fired."""
    count = 0
    for j in range(n):
        c1, c2, c3, c4, fired = _modal_step_of(Ya, P, G, j)
        Yb[0, j], Yb[1, j], Yb[2, j], Yb[3, j] = c1, c2, c3, c4
        F[j] = fired
        count += fired
    return count
