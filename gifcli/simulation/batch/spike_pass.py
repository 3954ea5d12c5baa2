"""The scalar spike pass: after a vector pass, the neurons it flagged, one by one.

Their steps are redone in the vector pass's arithmetic, and a step whose test fired goes to
the kernel as the single path makes it (``kernel.reset`` for the fixed-step methods,
``kernel.advance`` or ``kernel.modal_spikes`` for ``exact``); each spike goes into the
neuron's statistics (``_record``). In the modal form the flagged neurons' crossings are
located together first (``_modal_crossings``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from gifcli.model.bursts import BURST_MIN_PAUSE_MS, BURST_PAUSE_FACTOR
from gifcli.simulation import kernel

OK, TOO_MANY_SPIKES = kernel.OK, kernel.TOO_MANY_SPIKES
#: A neuron whose state overflowed to inf or NaN, which simulate() refuses; it runs on as
#: the single path does, and firing without end still takes precedence (kernel.INTERRUPTED
#: is 2).
OVERFLOWED = 3


# --- the scalar parts ---------------------------------------------------------------------------
# ``stats`` is the tuple of per-neuron result arrays (n_spikes, first, last, isi_mean, isi_m2,
# n_bursts, status, buffer, last_isi). The functions that run once per spike are compiled without
# reference counting (_nrt=False: they allocate nothing), which would otherwise cost two
# atomic operations per array argument and call; the smallest are inlined, as passing
# ``stats`` alone copies eight array structures.


@njit(cache=True, inline="always")
def _record(stats, i, j, t, runs, burst_isi):
    """Add the spike at ``t`` to neuron ``i``'s statistics. ``runs[0, j]`` and ``runs[1, j]``
    (block-local) are the length and the longest interval of its current run of spikes."""
    n_spikes, first, last, isi_mean, isi_m2, n_bursts, _, buffer, last_isi = stats
    n = n_spikes[i]
    if n == 0:
        first[i] = t
        runs[0, j], runs[1, j] = 1.0, 0.0
    else:
        isi = t - last[i]
        last_isi[i] = isi
        delta = isi - isi_mean[i]
        isi_mean[i] += delta / n  # n ISIs now
        isi_m2[i] += delta * (isi - isi_mean[i])
        if isi <= burst_isi:
            runs[0, j] += 1.0
            runs[1, j] = max(runs[1, j], isi)
        else:
            n_bursts[i] += _closes_burst(runs, j, isi)
            runs[0, j], runs[1, j] = 1.0, 0.0
    last[i] = t
    if n < buffer.shape[1]:
        buffer[i, n] = t
    n_spikes[i] = n + 1


@njit(cache=True, inline="always")
def _closes_burst(runs, j, pause):
    """1 if the current run is a burst that this pause (to the next spike or the end) ends."""
    return runs[0, j] >= 2.0 and pause >= max(BURST_MIN_PAUSE_MS, BURST_PAUSE_FACTOR * runs[1, j])


@njit(cache=True, inline="always")
def _record_spikes(stats, count, i, j, step_spikes, grid_time, exact, max_spikes, burst_isi,
                   runs):
    """Record the ``count`` spikes of one (part of a) step; -1 when that is one too many.

    The fixed-step methods spike at the grid time itself, as kernel.simulate_trace has it.
    """
    if count < 0 or stats[0][i] + count > max_spikes:
        return -1
    for q in range(count):
        _record(stats, i, j, step_spikes[q] if exact else grid_time, runs, burst_isi)
    return count


@njit(cache=True, inline="always")
def _note_overflow(status, i, y):
    """Mark neuron i OVERFLOWED if its state y before a firing step is not finite: a NaN or
    infinite state fires, and the reset would hide what simulate() refuses."""
    if status[i] == OK and not (math.isfinite(y[0]) and math.isfinite(y[1])
                                and math.isfinite(y[2]) and math.isfinite(y[3])):
        status[i] = OVERFLOWED


@njit(cache=True, _nrt=False)
def _kill(j, Ya, G, status, i):
    """Stop a neuron that fired without end: zero state, and a gap that never crosses."""
    status[i] = TOO_MANY_SPIKES
    for r in range(4):
        Ya[r, j] = 0.0
    G[j] = -np.inf


@njit(cache=True, _nrt=False)
def _redo_steps(j, i, k, start, n_sub, y, y0, dt, method, modal, G, props, forms, params,
                v_star, th_star, D, step_spikes, max_per_step, max_spikes, burst_isi,
                runs, stats):
    """Neuron j's steps start, ..., n_sub - 1 of the pass again, on its state y, one by one
    and in the vector pass's arithmetic; a step whose test fires goes to the kernel as the
    single path makes it. Returns -1 if the neuron fired without end, else >= 0."""
    exact = method == kernel.EXACT
    count = 0
    for sub in range(start, n_sub):
        for r in range(4):
            y0[r] = y[r]
        if modal:
            for r in range(4):
                y[r] *= props[j, r]
            gap = kernel.modal_bound(y0[0], y0[1], y0[2], y0[3], y[0], y[1], y[2], y[3], G[j])
        elif exact:
            kernel.linear_step(y, props[j])
            w = kernel.BOUND_WEIGHTS
            gap = kernel.triangular_step_bound(y0[0], y0[1], y0[2], y0[3], y[0], y[1], y[2],
                                               y[3], props[j, w], props[j, w + 1],
                                               props[j, w + 2], props[j, w + 3], G[j])
        else:
            kernel.linear_step(y, props[j])
            threshold = y0[kernel.VTH] if method == kernel.EXP_EULER else y[kernel.VTH]
            gap = y[kernel.V] - threshold + G[j]
        if gap < 0.0:
            continue
        t0 = (k + sub) * dt
        _note_overflow(stats[6], i, y0)
        if not exact:
            kernel.reset(y, params[j], v_star[j], th_star[j])
            count = 1
        elif modal:
            count = kernel.modal_spikes(y0, y, props[j], forms[j], params[j], v_star[j],
                                        th_star[j], t0, dt, step_spikes, np.int64(0),
                                        max_per_step)
        else:
            for r in range(4):
                y[r] = y0[r]
            count = kernel.advance(y, params[j], props[j], v_star[j], th_star[j], t0, dt,
                                   method, step_spikes, np.int64(0), max_per_step, D, y0)
        count = _record_spikes(stats, count, i, j, step_spikes, (k + sub + 1) * dt, exact,
                               max_spikes, burst_isi, runs)
        if count < 0:
            return -1
    return count


@njit(cache=True, _nrt=False)
def _store(j, i, y, Yb, G, status, count):
    """Neuron j's state after the pass, or its end if it fired without end (count < 0)."""
    for r in range(4):
        Yb[r, j] = y[r]
    if count < 0:
        _kill(j, Yb, G, status, i)


# The modal form's crossings, for all the neurons a pass flagged at once: the core then
# overlaps their long dependent chains (guess, exponentials, Newton, reset) instead of
# waiting on one at a time. X[q] holds flagged neuron q's state before and after its first
# firing step, then the crossing time, the decays to it and Newton's bracket.
X_START, X_END, X_TAU, X_DECAY, X_LO, X_HI = 0, 4, 8, 9, 13, 14
X_SIZE = 15
NEWTON_ROUNDS = 200  # as kernel.modal_crossing


@njit(cache=True, _nrt=False)
def _modal_crossings(flagged, m, n_sub, dt, Ya, F, G, props, forms, X, quick, decays, active):
    """For each flagged neuron, its first firing step and, where kernel.modal_single_crossing
    holds (quick[q]), its crossing as kernel.modal_crossing finds it, to the bit: the same
    guess and Newton iterations, round by round for all of them, each round's decays in one
    vectorised loop over the neurons still iterating (active)."""
    n_active = 0
    for q in range(m):
        j = flagged[q]
        for r in range(4):
            X[q, X_START + r] = Ya[r, j]
        for _ in range(n_sub - int(F[j])):
            for r in range(4):
                X[q, X_START + r] *= props[j, r]
        for r in range(4):
            X[q, X_END + r] = X[q, X_START + r] * props[j, r]
        quick[q] = kernel.modal_single_crossing(X[q, X_START:X_END], X[q, X_END:X_TAU],
                                                forms[j], G[j])
        if quick[q]:
            X[q, X_TAU] = kernel.crossing_guess(X[q, X_START:X_END], X[q, X_END:X_TAU],
                                                forms[j], G[j], dt)
            X[q, X_LO], X[q, X_HI] = 0.0, dt
            active[n_active] = q
            n_active += 1
    for _ in range(NEWTON_ROUNDS):
        if n_active == 0:
            return
        _decays_at_tau(flagged, active, n_active, forms, X, decays)
        still = 0
        for a in range(n_active):
            q = active[a]
            j = flagged[q]
            d = decays[4 * a: 4 * a + 4]
            outcome, X[q, X_TAU], X[q, X_LO], X[q, X_HI], d1, d2, d3, d4 = \
                kernel.newton_iteration(X[q, X_START:X_END], forms[j], G[j], X[q, X_TAU],
                                        X[q, X_LO], X[q, X_HI], d[0], d[1], d[2], d[3])
            if outcome == kernel.NEWTON_DONE:  # converged: the decays at its tau, as there
                d1, d2, d3, d4 = kernel.modal_decays(forms[j], X[q, X_TAU])
            X[q, X_DECAY], X[q, X_DECAY + 1], X[q, X_DECAY + 2], X[q, X_DECAY + 3] = \
                d1, d2, d3, d4
            if outcome == kernel.NEWTON_GOING:
                active[still] = q
                still += 1
        n_active = still
    for a in range(n_active):  # past NEWTON_ROUNDS: the decays at the last tau, as there
        q = active[a]
        d1, d2, d3, d4 = kernel.modal_decays(forms[flagged[q]], X[q, X_TAU])
        X[q, X_DECAY], X[q, X_DECAY + 1], X[q, X_DECAY + 2], X[q, X_DECAY + 3] = \
            d1, d2, d3, d4


@njit(cache=True, inline="always")
def _decays_at_tau(flagged, active, n_active, forms, X, decays):
    """kernel.modal_decays at X_TAU for the active neurons, into decays[4 a: 4 a + 4]: the
    exponents first, then short_exp over all of them in one vectorised loop."""
    for a in range(n_active):
        q = active[a]
        for r in range(4):
            decays[4 * a + r] = -forms[flagged[q], kernel.RATE + r] * X[q, X_TAU]
    for x in range(4 * n_active):
        decays[x] = kernel.short_exp(decays[x])


@njit(cache=True, inline="always")
def _rest_weight(props, X, j, q, r):
    """kernel.curvature_weight of the rest of the step after flagged neuron q's crossing."""
    return kernel.curvature_weight(props[j, r] / X[q, X_DECAY + r])


@njit(cache=True, _nrt=False)
def _modal_spike_pass(flagged, m, k, n_sub, dt, lo, order, Ya, Yb, F, G, props, forms, params,
                      v_star, th_star, X, quick, decays, active, y, y0, D, step_spikes,
                      max_per_step, max_spikes, burst_isi, runs, stats):
    """The flagged neurons of a modal pass: their spikes, each as kernel.modal_spikes makes
    it (which a crossing that _modal_crossings did not settle, or a second one in the same
    step, goes to), then the rest of their pass."""
    _modal_crossings(flagged, m, n_sub, dt, Ya, F, G, props, forms, X, quick, decays, active)
    for q in range(m):
        j = flagged[q]
        i = order[lo + j]
        first = n_sub - int(F[j])  # int: uint8 arithmetic would wrap without JIT
        t0 = (k + first) * dt
        for r in range(4):
            y0[r], y[r] = X[q, X_START + r], X[q, X_END + r]
        _note_overflow(stats[6], i, y0)
        settled = False
        if quick[q] and max_per_step > 0:
            kernel.modal_fire(y0, y, props[j], forms[j], params[j], v_star[j], th_star[j],
                              X[q, X_DECAY], X[q, X_DECAY + 1], X[q, X_DECAY + 2],
                              X[q, X_DECAY + 3], 1.0, 1.0, 1.0, 1.0)
            settled = not (kernel.modal_step_bound(
                y0[0], y0[1], y0[2], y0[3], y[0], y[1], y[2], y[3],
                _rest_weight(props, X, j, q, 0), _rest_weight(props, X, j, q, 1),
                _rest_weight(props, X, j, q, 2), _rest_weight(props, X, j, q, 3), G[j]) >= 0.0)
            if not settled:  # it may fire again within the step: modal_spikes from the start
                for r in range(4):
                    y0[r], y[r] = X[q, X_START + r], X[q, X_END + r]
        if settled:
            step_spikes[0] = t0 + X[q, X_TAU]
            count = 1
        else:
            count = kernel.modal_spikes(y0, y, props[j], forms[j], params[j], v_star[j],
                                        th_star[j], t0, dt, step_spikes, np.int64(0),
                                        max_per_step)
        count = _record_spikes(stats, count, i, j, step_spikes, (k + first + 1) * dt, True,
                               max_spikes, burst_isi, runs)
        if count >= 0:
            count = _redo_steps(j, i, k, first + 1, n_sub, y, y0, dt, kernel.EXACT, True, G,
                                props, forms, params, v_star, th_star, D, step_spikes,
                                max_per_step, max_spikes, burst_isi, runs, stats)
        _store(j, i, y, Yb, G, stats[6], count)

