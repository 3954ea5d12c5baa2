"""The batched kernel: many independent neurons under one input schedule, in one parallel call.

Every neuron may have its own parameters, initial state and input scale; the schedule (the
amplitudes, times ``input_scale``) and the grid are shared. The semantics are those of the
single-neuron path (:func:`gifcli.simulation.simulate`) exactly: the same grid, the same
off-grid boundary splitting for ``exact``, and the same spike times, because the batched path
calls the same Numba functions of :mod:`gifcli.kernel` (``modal_form``, ``step_map``,
``enter_state``, ``modal_spikes``, ``advance``, ``reset``) and its vector steps are the
arithmetic of ``kernel.modal_advance`` and ``kernel.linear_step`` in the same order (no
fastmath, so no FMA contraction and no reassociation). Spike times, ``exact`` ones included,
are identical to the bit, which the tests hold.

Layout (the W1 workload of the README's Performance section):

- the neurons are cut into blocks of a few hundred; ``prange`` runs the blocks on all cores;
- inside a block the time loop is outermost. A step is a branch-free, straight-line loop over
  the block's neurons, in structure-of-arrays form, that LLVM vectorises (AVX-512 on the
  machine this was tuned on). It reads the old state and writes the new one into a second
  buffer, sets a byte per neuron whose V reached V_th and counts them;
- with ``exact``, a neuron whose rates allow it (``kernel.modal_form``) is kept in the modal
  form, where a step is four products and the test their sum; the neurons are sorted so that
  a block holds only modal or only triangular neurons, and a modal pass makes MODAL_STEPS
  steps with the state in registers (one step per pass is bound by its loads and stores);
- in the triangular form, rows of the propagator that are the same for every neuron of a
  block (a sweep of ``a`` changes only the threshold row) are held in registers, not loaded
  per neuron, and then a pass makes two steps;
- each pass flags a neuron whose test fired in any of its steps. When the count is not zero,
  a scalar pass redoes the flagged neurons' steps one by one, in the same arithmetic: the
  fixed-step methods reset at the step's end; ``exact`` hands the step to
  ``kernel.advance``, which locates each crossing inside the step, resets there and goes on
  to the step's end;
- in the modal form, the flagged neurons' crossings are located together: the replay to each
  one's first firing step, then every Hermite guess, then every decay (one vectorised loop of
  ``kernel.short_exp``), then every first Newton step (``kernel.newton_iteration``), so that
  the core overlaps their long dependent chains. A crossing that this Newton step does not
  settle, or a second one in the same step, goes to ``kernel.modal_spikes``, which repeats
  the same arithmetic from the step's start;
- a step split by an off-grid segment boundary (``exact`` only, rare) goes through
  ``kernel.advance_state`` for every neuron, with the step maps of the two parts.

Only per-neuron results are kept, never N x T traces: spike count, first and last spike, ISI
mean and sum of squared deviations (Welford; mean and CV), burst count, and optionally the
first ``record`` spike times of each neuron (with ``n_spikes - record`` dropped).

A run is cut into chunks of blocks, each one parallel call of about CHUNK_SECONDS, so that a
callback can report progress. Signals are held while the kernel runs (gifcli.interrupts):
every block polls the stop flag, so Ctrl-C ends the call within milliseconds, and the
interrupt is raised once the call has returned.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numba import get_num_threads, njit, prange

from gifcli import interrupts, kernel
from gifcli.errors import GifError
from gifcli.features import (
    BURST_MAX_ISI_MS,
    BURST_MIN_PAUSE_MS,
    BURST_PAUSE_FACTOR,
    SpikeTrains,
)
from gifcli.model import DEFAULTS, METHODS, PARAMETER_NAMES, PARAMETERS, STATE_NAMES
from gifcli.preset import checked_schedule
from gifcli.schedule import Grid, build_grid
from gifcli.simulation import MAX_SPIKES, MAX_SPIKES_PER_STEP, run_number, whole_number

BLOCK = 256  # neurons per block: the state, propagators and flags stay in L1/L2
CHUNK_SECONDS = 0.25  # aim for parallel calls this long: Ctrl-C and progress stay prompt
OK, TOO_MANY_SPIKES = kernel.OK, kernel.TOO_MANY_SPIKES
MODAL_STEPS = 4  # steps per vector pass in the modal form
_ROW_PAD = 8  # rows of the block's work array are 64 k + _ROW_PAD doubles long

# The propagator rows that are loaded per neuron in each vector variant of the step.
ALL_ROWS, THRESHOLD_ROWS, NO_ROWS = 0, 1, 2


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
    """MODAL_STEPS ``exact`` steps in the modal form, with kernel.modal_advance's products and
    test; F[j] = MODAL_STEPS - s for the first step s whose test fires (0 if none)."""
    count = 0
    for j in range(n):
        c1, c2, c3, c4 = Ya[0, j], Ya[1, j], Ya[2, j], Ya[3, j]
        e1, e2, e3, e4, gap = P[0, j], P[1, j], P[2, j], P[3, j], G[j]
        flag = 0
        for s in range(MODAL_STEPS):
            c1, c2, c3, c4 = c1 * e1, c2 * e2, c3 * e3, c4 * e4
            fired = not (kernel.modal_gap(c1, c2, c3, c4, gap) < 0.0)
            flag = max(flag, fired * (MODAL_STEPS - s))
        Yb[0, j], Yb[1, j], Yb[2, j], Yb[3, j] = c1, c2, c3, c4
        F[j] = flag
        count += flag > 0
    return count


@njit(cache=True, inline="always")
def _modal_step_of(Ya, P, G, j):
    """Neuron j's ``exact`` step in the modal form: its new state, and whether its test
    fires. It only loads: the caller stores after every load, so that LLVM, which cannot
    tell the arrays apart, still vectorises the loop."""
    c1, c2, c3, c4 = Ya[0, j] * P[0, j], Ya[1, j] * P[1, j], Ya[2, j] * P[2, j], \
        Ya[3, j] * P[3, j]
    return c1, c2, c3, c4, not (kernel.modal_gap(c1, c2, c3, c4, G[j]) < 0.0)


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
                runs, stats, track):
    """Neuron j's steps start, ..., n_sub - 1 of the pass again, on its state y, one by one
    and in the vector pass's arithmetic; a step whose test fires goes to the kernel as the
    single path makes it. ``track`` follows V after each step (see _track_state). Returns
    -1 if the neuron fired without end, else >= 0."""
    exact = method == kernel.EXACT
    count = 0
    for sub in range(start, n_sub):
        for r in range(4):
            y0[r] = y[r]
        if modal:
            for r in range(4):
                y[r] *= props[j, r]
            gap = kernel.modal_gap(y[0], y[1], y[2], y[3], G[j])
        else:
            kernel.linear_step(y, props[j])
            threshold = y0[kernel.VTH] if method == kernel.EXP_EULER else y[kernel.VTH]
            gap = y[kernel.V] - threshold + G[j]
        if gap < 0.0:
            _track_state(track, j, k + sub + 1, y, v_star)
            continue
        t0 = (k + sub) * dt
        if not exact:
            kernel.reset(y, params[j], v_star[j], th_star[j])
            count = 1
        elif modal:
            count = kernel.modal_spikes(y0, y, props[j], forms[j], params[j], v_star[j],
                                        th_star[j], t0, dt, step_spikes, 0, max_per_step)
        else:
            for r in range(4):
                y[r] = y0[r]
            count = kernel.advance(y, params[j], props[j], v_star[j], th_star[j], t0, dt,
                                   method, step_spikes, 0, max_per_step, D, y0)
        count = _record_spikes(stats, count, i, j, step_spikes, (k + sub + 1) * dt, exact,
                               max_spikes, burst_isi, runs)
        if count < 0:
            return -1
        _track_state(track, j, k + sub + 1, y, v_star)
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
# firing step, then the crossing time and the decays to it.
X_START, X_END, X_TAU, X_DECAY = 0, 4, 8, 9


@njit(cache=True, _nrt=False)
def _modal_crossings(flagged, m, n_sub, dt, Ya, F, G, props, forms, X, quick, decays):
    """For each flagged neuron, its first firing step and the first Newton step of
    kernel.modal_crossing on it; quick[q] says that this Newton step found the crossing."""
    for q in range(m):
        j = flagged[q]
        for r in range(4):
            X[q, X_START + r] = Ya[r, j]
        for _ in range(n_sub - int(F[j])):
            for r in range(4):
                X[q, X_START + r] *= props[j, r]
        for r in range(4):
            X[q, X_END + r] = X[q, X_START + r] * props[j, r]
        quick[q] = (kernel.modal_gap(X[q, 0], X[q, 1], X[q, 2], X[q, 3], G[j]) < 0.0
                    and kernel.modal_gap(X[q, 4], X[q, 5], X[q, 6], X[q, 7], G[j]) >= 0.0)
    for q in range(m):
        if quick[q]:
            j = flagged[q]
            tau = kernel.crossing_guess(X[q, X_START:X_END], X[q, X_END:X_TAU], forms[j], G[j],
                                        dt)
            X[q, X_TAU] = tau
            for r in range(4):
                decays[4 * q + r] = -forms[j, kernel.RATE + r] * tau  # the exponents, so far
    for x in range(4 * m):  # kernel.modal_decays, in one vectorised loop
        decays[x] = kernel.short_exp(decays[x])
    for q in range(m):
        if quick[q]:
            j = flagged[q]
            d = decays[4 * q: 4 * q + 4]
            outcome, X[q, X_TAU], _, _, d1, d2, d3, d4 = kernel.newton_iteration(
                X[q, X_START:X_END], forms[j], G[j], X[q, X_TAU], 0.0, dt, d[0], d[1], d[2],
                d[3])
            X[q, X_DECAY], X[q, X_DECAY + 1], X[q, X_DECAY + 2], X[q, X_DECAY + 3] = \
                d1, d2, d3, d4
            quick[q] = outcome == kernel.NEWTON_NUDGED


@njit(cache=True, _nrt=False)
def _modal_spike_pass(flagged, m, k, n_sub, dt, lo, order, Ya, Yb, F, G, props, forms, params,
                      v_star, th_star, X, quick, decays, y, y0, D, step_spikes, max_per_step,
                      max_spikes, burst_isi, runs, stats, track):
    """The flagged neurons of a modal pass: their spikes, each as kernel.modal_spikes makes
    it (which a crossing that _modal_crossings did not settle, or a second one in the same
    step, goes to), then the rest of their pass."""
    _modal_crossings(flagged, m, n_sub, dt, Ya, F, G, props, forms, X, quick, decays)
    for q in range(m):
        j = flagged[q]
        i = order[lo + j]
        first = n_sub - int(F[j])  # int: uint8 arithmetic would wrap without JIT
        t0 = (k + first) * dt
        for r in range(4):
            y0[r], y[r] = X[q, X_START + r], X[q, X_END + r]
        settled = False
        if quick[q] and max_per_step > 0:
            kernel.modal_fire(y0, y, props[j], forms[j], params[j], v_star[j], th_star[j],
                              X[q, X_DECAY], X[q, X_DECAY + 1], X[q, X_DECAY + 2],
                              X[q, X_DECAY + 3], 1.0, 1.0, 1.0, 1.0)
            settled = not (kernel.modal_gap(y[0], y[1], y[2], y[3], G[j]) >= 0.0)
            if not settled:  # it fires again within the step: modal_spikes from the start
                for r in range(4):
                    y0[r], y[r] = X[q, X_START + r], X[q, X_END + r]
        if settled:
            step_spikes[0] = t0 + X[q, X_TAU]
            count = 1
        else:
            count = kernel.modal_spikes(y0, y, props[j], forms[j], params[j], v_star[j],
                                        th_star[j], t0, dt, step_spikes, 0, max_per_step)
        count = _record_spikes(stats, count, i, j, step_spikes, (k + first + 1) * dt, True,
                               max_spikes, burst_isi, runs)
        if count >= 0:
            _track_state(track, j, k + first + 1, y, v_star)
            count = _redo_steps(j, i, k, first + 1, n_sub, y, y0, dt, kernel.EXACT, True, G,
                                props, forms, params, v_star, th_star, D, step_spikes,
                                max_per_step, max_spikes, burst_isi, runs, stats, track)
        _store(j, i, y, Yb, G, stats[6], count)


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


@njit(cache=True, inline="always")
def _modal_steps_tracked(Ya, Yb, P, G, F, n, k, track_from, v_star, peak, trough):
    """_modal_steps, and V at the end of each of its steps from grid point track_from on,
    up to the first whose test fires (the spike pass follows V from there: _track_state)."""
    count = 0
    w = P_WEIGHTS
    for j in range(n):
        c1, c2, c3, c4 = Ya[0, j], Ya[1, j], Ya[2, j], Ya[3, j]
        e1, e2, e3, e4, gap = P[0, j], P[1, j], P[2, j], P[3, j], G[j]
        w1, w2, w3, ev1, ev2 = P[w, j], P[w + 1, j], P[w + 2, j], P[w + 3, j], P[w + 4, j]
        v_star_j, peak_j, trough_j = v_star[j], peak[j], trough[j]
        flag = 0
        for s in range(MODAL_STEPS):
            c1, c2, c3, c4 = c1 * e1, c2 * e2, c3 * e3, c4 * e4
            fired = not (kernel.modal_gap(c1, c2, c3, c4, gap) < 0.0)
            flag = max(flag, fired * (MODAL_STEPS - s))
            v = _v_from(c1, c2, c3, w1, w2, w3, ev1, ev2, v_star_j)
            peak_j, trough_j = _peak_trough(peak_j, trough_j, v,
                                            (flag == 0) & (k + s + 1 >= track_from))
        Yb[0, j], Yb[1, j], Yb[2, j], Yb[3, j] = c1, c2, c3, c4
        peak[j], trough[j] = peak_j, trough_j
        F[j] = flag
        count += flag > 0
    return count


@njit(cache=True, inline="always")
def _modal_step_tracked(Ya, Yb, P, G, F, n, v_star, peak, trough):
    """_modal_step, and the V at its end of every neuron that does not fire (the spike pass
    follows those that do, after their reset: _track_state); V's weights from P's rows
    P_WEIGHTS on, in _v_of's arithmetic."""
    count = 0
    w = P_WEIGHTS
    for j in range(n):
        c1, c2, c3, c4, fired = _modal_step_of(Ya, P, G, j)
        v = _v_from(c1, c2, c3, P[w, j], P[w + 1, j], P[w + 2, j], P[w + 3, j], P[w + 4, j],
                    v_star[j])
        new_peak, new_trough = _peak_trough(peak[j], trough[j], v, not fired)
        Yb[0, j], Yb[1, j], Yb[2, j], Yb[3, j] = c1, c2, c3, c4
        peak[j], trough[j] = new_peak, new_trough
        F[j] = fired
        count += fired
    return count


@njit(cache=True)
def _neuron_params(base, columns, values, row, out):
    out[:] = base
    for c in range(columns.shape[0]):
        out[columns[c]] = values[row, c]


@njit(cache=True)
def _run_block(lo, hi, modal, order, base, columns, values, x_init, scale, amplitudes,
               boundary_step, boundary_offset, n_steps, dt, method, max_per_step, max_spikes,
               burst_isi, stats, track_from, extrema, stop):
    """The neurons order[lo:hi], all in the modal form (``modal``) or all triangular.

    Returns early, leaving the block unfinished, once ``stop[0]`` is set (read every
    kernel.POLL_STEPS steps or so); the caller then discards the whole run.
    """
    status = stats[6]
    n = hi - lo
    # One allocation for the rows the vector passes stream through, with a stride of 64 k + 8
    # doubles: no two of its 18 rows lie a multiple of 4 KiB apart, which would make the
    # core stall loads behind stores to the other row (apart, they could land anywhere).
    width = 64 * ((n + 63 - _ROW_PAD) // 64) + _ROW_PAD
    rows = np.zeros((18, width))
    Ya, Yb, P, G = rows[0:4], rows[4:8], rows[8:17], rows[17]
    F = np.zeros(width, dtype=np.uint8)
    words = F.view(np.uint64)
    params = np.empty((n, 14))
    forms = np.empty((n, kernel.MODAL_SIZE))
    props = np.empty((n, 9))
    v_star = np.empty(n)
    th_star = np.empty(n)
    scales = np.empty(n)
    runs = np.zeros((2, n))
    flagged = np.empty(n, dtype=np.int64)
    X = np.empty((n if modal else 0, 13))
    quick = np.empty(n, dtype=np.bool_)
    decays = np.zeros(4 * n if modal else 0)
    y = np.empty(4)
    y0 = np.empty(4)
    D = np.empty((kernel.MAX_TAYLOR_TERMS, 4))
    step_spikes = np.empty(max_per_step)
    tracking = track_from >= 0
    V_of = np.zeros((6, n if tracking else 0))
    peak = np.full(n if tracking else 0, -np.inf)
    trough = np.full(n if tracking else 0, np.inf)
    last_seg = amplitudes.shape[0] - 1
    exact = method == kernel.EXACT
    old_threshold = method == kernel.EXP_EULER

    # Set up each neuron as kernel.simulate_trace does.
    for j in range(n):
        i = order[lo + j]
        _neuron_params(base, columns, values, i if values.shape[0] > 1 else 0, params[j])
        p = params[j]
        scales[j] = scale[i if scale.shape[0] > 1 else 0]
        x = x_init[i if x_init.shape[0] > 1 else 0]
        vs, ts = kernel.fixed_point(p, amplitudes[0] * scales[j])
        v_star[j], th_star[j] = vs, ts
        G[j] = vs - ts
        y[0], y[1], y[2], y[3] = x[kernel.I1], x[kernel.I2], x[kernel.V] - vs, x[kernel.VTH] - ts
        if modal:
            kernel.modal_form(p, dt, forms[j])
            kernel.to_modal(y[0], y[1], y[2], y[3], forms[j], y)
        step = kernel.step_map(p, dt, method, forms[j], modal)
        for r in range(step.shape[0]):
            props[j, r] = P[r, j] = step[r]
        for r in range(4):
            Ya[r, j] = y[r]
        if not math.isfinite(G[j]):
            _kill(j, Ya, G, status, i)
        if tracking:
            if modal:
                V_of[0, j] = forms[j, kernel.INVERSE_WEIGHT]
                V_of[1, j] = forms[j, kernel.INVERSE_WEIGHT + 1]
                V_of[2, j] = forms[j, kernel.INVERSE_WEIGHT + 2]
                V_of[3, j], V_of[4, j] = forms[j, kernel.EV1], forms[j, kernel.EV2]
                for r in range(5):
                    P[P_WEIGHTS + r, j] = V_of[r, j]
            else:
                V_of[2, j] = 1.0  # y_V itself: 0 + 0 + y_V, exactly
            V_of[5, j] = p[kernel.V_RESET]
            if track_from == 0:
                _track_value(peak, trough, j, x[kernel.V], True)  # the initial state
    variant = ALL_ROWS
    if not modal:
        uniform = np.ones(9, dtype=np.bool_)
        for r in range(9):
            for j in range(1, n):
                if props[j, r] != props[0, r]:
                    uniform[r] = False
                    break
        if uniform[0] and uniform[1] and uniform[2] and uniform[3] and uniform[4] and uniform[8]:
            variant = THRESHOLD_ROWS
            if uniform[5] and uniform[6] and uniform[7]:
                variant = NO_ROWS
    u = props[0].copy()

    seg = 0
    k = 0
    next_poll = 0
    while k < n_steps:
        if k >= next_poll:
            if stop[0] != 0:
                return
            next_poll = k + kernel.POLL_STEPS
        while seg < last_seg and boundary_step[seg] == k and boundary_offset[seg] == 0.0:
            for j in range(n):
                if status[order[lo + j]] != OK:
                    continue
                for r in range(4):
                    y[r] = Ya[r, j]
                vs, ts = kernel.enter_state(y, params[j], forms[j], modal,
                                            amplitudes[seg] * scales[j],
                                            amplitudes[seg + 1] * scales[j])
                for r in range(4):
                    Ya[r, j] = y[r]
                v_star[j], th_star[j] = vs, ts
                G[j] = vs - ts
            seg += 1
        t0 = k * dt
        if seg < last_seg and boundary_step[seg] == k:
            # An off-grid boundary (exact only): every neuron through kernel.advance_state, twice.
            part = boundary_offset[seg]
            for j in range(n):
                i = order[lo + j]
                if status[i] != OK:
                    continue
                p = params[j]
                for r in range(4):
                    y[r] = Ya[r, j]
                count = kernel.advance_state(y, p, forms[j], modal,
                                             kernel.step_map(p, part, method, forms[j], modal),
                                             v_star[j], th_star[j], t0, part, method,
                                             step_spikes, 0, max_per_step, D, y0)
                count = _record_spikes(stats, count, i, j, step_spikes, (k + 1) * dt, exact,
                                       max_spikes, burst_isi, runs)
                if count >= 0:
                    vs, ts = kernel.enter_state(y, p, forms[j], modal, amplitudes[seg] * scales[j],
                                                amplitudes[seg + 1] * scales[j])
                    v_star[j], th_star[j] = vs, ts
                    G[j] = vs - ts
                    rest = dt - part
                    count = kernel.advance_state(y, p, forms[j], modal,
                                                 kernel.step_map(p, rest, method, forms[j], modal),
                                                 vs, ts, t0 + part, rest, method, step_spikes, 0,
                                                 max_per_step, D, y0)
                    count = _record_spikes(stats, count, i, j, step_spikes, (k + 1) * dt,
                                           exact, max_spikes, burst_isi, runs)
                for r in range(4):
                    Ya[r, j] = y[r]
                if count < 0:
                    _kill(j, Ya, G, status, i)
            if 0 <= track_from <= k + 1:
                _track(Ya, F, V_of, v_star, n, False, peak, trough)  # exact only: no reset
            seg += 1
            k += 1
            continue

        # Several steps in one vector pass (the state stays in registers in between: a single
        # step is bound by its loads and stores), as many as fit before the next boundary.
        # A tracked stretch records every grid point: the modal passes follow V themselves,
        # the triangular ones make one step a pass and follow V after it.
        free = min(boundary_step[seg] if seg < last_seg else n_steps, n_steps) - k
        tracked = 0 <= track_from <= k + MODAL_STEPS
        if tracked and not modal:
            free = 1
        if modal and tracked and free >= MODAL_STEPS:
            n_sub = MODAL_STEPS
            fired = _modal_steps_tracked(Ya, Yb, P, G, F, n, k, track_from, v_star, peak,
                                         trough)
        elif modal and free >= MODAL_STEPS:
            n_sub = MODAL_STEPS
            fired = _modal_steps(Ya, Yb, P, G, F, n)
        elif modal and 0 <= track_from <= k + 1:
            n_sub = 1
            fired = _modal_step_tracked(Ya, Yb, P, G, F, n, v_star, peak, trough)
        elif modal:
            n_sub = 1
            fired = _modal_step(Ya, Yb, P, G, F, n)
        elif variant != ALL_ROWS and free >= 2:
            n_sub = 2
            if variant == THRESHOLD_ROWS:
                fired = _step2_threshold_rows(Ya, Yb, P, G, F, n, old_threshold, u)
            else:
                fired = _step2_no_rows(Ya, Yb, G, F, n, old_threshold, u)
        else:
            n_sub = 1
            if variant == THRESHOLD_ROWS:
                fired = _step_threshold_rows(Ya, Yb, P, G, F, n, old_threshold, u)
            elif variant == NO_ROWS:
                fired = _step_no_rows(Ya, Yb, G, F, n, old_threshold, u)
            else:
                fired = _step_all_rows(Ya, Yb, P, G, F, n, old_threshold)
        m = 0
        if fired:
            for w in range(words.shape[0]):
                if words[w] == 0:
                    continue
                for j in range(8 * w, min(8 * w + 8, n)):
                    if F[j] != 0 and status[order[lo + j]] == OK:
                        flagged[m] = j
                        m += 1
            if modal:
                _modal_spike_pass(flagged, m, k, n_sub, dt, lo, order, Ya, Yb, F, G, props,
                                  forms, params, v_star, th_star, X, quick, decays, y, y0, D,
                                  step_spikes, max_per_step, max_spikes, burst_isi,
                                  runs, stats, (V_of, peak, trough, track_from))
            else:
                for q in range(m):
                    j = flagged[q]
                    i = order[lo + j]
                    for r in range(4):
                        y[r] = Ya[r, j]
                    count = _redo_steps(j, i, k, 0, n_sub, y, y0, dt, method, False, G, props,
                                        forms, params, v_star, th_star, D, step_spikes,
                                        max_per_step, max_spikes, burst_isi, runs,
                                        stats, (V_of, peak, trough, -1))  # see below
                    _store(j, i, y, Yb, G, status, count)
        k += n_sub
        if 0 <= track_from <= k and not modal:  # one step, every neuron, after its spikes
            _track(Yb, F, V_of, v_star, n, not exact, peak, trough)
        Ya, Yb = Yb, Ya
    end = n_steps * dt
    buffer = stats[7]
    for j in range(n):  # a run still open at the end is a burst if the end is a pause
        i = order[lo + j]
        if stats[0][i] > 0:
            stats[5][i] += _closes_burst(runs, j, end - stats[2][i])
        if buffer.shape[1]:
            buffer[i, min(stats[0][i], buffer.shape[1]):] = np.nan
        if tracking:
            extrema[i, 0], extrema[i, 1] = peak[j], trough[j]


@njit(parallel=True, cache=True, nogil=True)
def _run_chunk(block_lo, block_hi, starts, stops, modal, order, base, columns, values, x_init,
               scale, amplitudes, boundary_step, boundary_offset, n_steps, dt, method,
               max_per_step, max_spikes, burst_isi, stats, track_from, extrema, stop):
    # nogil: gifcli.interrupts' watcher thread must be able to set ``stop`` meanwhile.
    for b in prange(block_lo, block_hi):
        _run_block(starts[b], stops[b], modal[b], order, base, columns, values, x_init, scale,
                   amplitudes, boundary_step, boundary_offset, n_steps, dt, method,
                   max_per_step, max_spikes, burst_isi, stats, track_from, extrema, stop)


@njit(cache=True)
def _modal_flags(base, columns, values, N, dt):
    """Which neurons ``exact`` steps in the modal form (kernel.modal_form, as the single path)."""
    flags = np.zeros(N, dtype=np.bool_)
    p, form = np.empty(14), np.empty(kernel.MODAL_SIZE)
    for i in range(N):
        _neuron_params(base, columns, values, i if values.shape[0] > 1 else 0, p)
        flags[i] = kernel.modal_form(p, dt, form)
    return flags


# --- the Python side ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Per-neuron results of a batched run, arrays of length N (``size``).

    Counts and times: ``n_spikes``, ``first_spike_ms`` and ``last_spike_ms`` (NaN without a
    spike), ``isi_mean_ms`` (NaN with fewer than 2 spikes), ``isi_cv`` and ``rate_hz``
    (properties), ``last_isi_ms``, ``n_bursts`` (runs of ≥ 2 spikes at most 10 ms apart that
    end in a pause). ``status`` is OK, or TOO_MANY_SPIKES where a neuron fired without end
    (its numbers then stop there). ``spike_times`` (with ``record`` > 0) is (N, record): the
    first spikes, then NaN; ``trains()`` gives them as :class:`gifcli.features.SpikeTrains`.
    With ``track_after``, ``peak_mV`` and ``trough_mV``: V's first peak after that time and
    the lowest V after it.
    """

    method: str
    dt: float
    duration_ms: float  # the simulated time: n_steps * dt
    n_spikes: np.ndarray  # int64
    first_spike_ms: np.ndarray  # NaN without spikes
    last_spike_ms: np.ndarray  # NaN without spikes
    isi_mean_ms: np.ndarray  # NaN with fewer than 2 spikes
    isi_m2: np.ndarray  # sum of squared deviations of the ISIs from their mean (ms^2)
    n_bursts: np.ndarray  # int64: runs of >= 2 spikes with ISIs <= 10 ms, ended by a pause
    status: np.ndarray  # int8: OK, or TOO_MANY_SPIKES (the single path would raise)
    spike_times: np.ndarray | None  # (N, record): the first spikes, then NaN; None if record=0
    last_isi_ms: np.ndarray  # the last interval; NaN with fewer than 2 spikes
    notes: tuple[str, ...] = ()
    # With track_after: V's first peak after that time, and the lowest V after it.
    peak_mV: np.ndarray | None = None
    trough_mV: np.ndarray | None = None

    @property
    def size(self) -> int:
        return int(self.n_spikes.size)

    @property
    def rate_hz(self) -> np.ndarray:
        return 1000.0 * self.n_spikes / self.duration_ms

    @property
    def isi_cv(self) -> np.ndarray:
        """Population std over mean of the ISIs; NaN with fewer than 2 ISIs (as features)."""
        n_isi = self.n_spikes - 1
        with np.errstate(invalid="ignore", divide="ignore"):
            cv = np.sqrt(self.isi_m2 / n_isi) / self.isi_mean_ms
        return np.where((n_isi >= 2) & (self.isi_mean_ms != 0), cv, np.nan)

    @property
    def n_recorded(self) -> np.ndarray:
        width = 0 if self.spike_times is None else self.spike_times.shape[1]
        return np.minimum(self.n_spikes, width)

    @property
    def n_dropped(self) -> np.ndarray:
        return self.n_spikes - self.n_recorded

    def spikes(self, i: int) -> np.ndarray:
        """The recorded spike times of neuron ``i`` (all of them when none was dropped)."""
        if self.spike_times is None:
            raise ValueError("this run kept no spike times (record=0)")
        return self.spike_times[i, : min(int(self.n_spikes[i]), self.spike_times.shape[1])].copy()

    def trains(self) -> SpikeTrains:
        """The recorded spike trains of all neurons, flat (see gifcli.features.SpikeTrains)."""
        if self.spike_times is None:
            raise ValueError("this run kept no spike times (record=0)")
        return SpikeTrains.from_rows(self.spike_times, self.n_recorded, self.duration_ms)


ParamsLike = np.ndarray | Mapping[str, float | Sequence[float] | np.ndarray]


def split_params(params: ParamsLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(base[14], columns[m], values[N or 1, m]): the parameters as what varies.

    ``params`` is a (14,) or (N, 14) array in model.PARAMETERS order, or a mapping of
    parameter names to scalars or length-N arrays (missing names take the defaults).
    """
    if isinstance(params, Mapping):
        for name in params:
            if name not in DEFAULTS:
                raise GifError(f"unknown parameter {name!r}; the parameters are "
                               f"{', '.join(PARAMETER_NAMES)}")
        base = np.array([float(params[n]) if n in params and np.ndim(params[n]) == 0
                         else DEFAULTS[n] for n in PARAMETER_NAMES])
        varied = [(c, np.asarray(params[n], dtype=np.float64)) for c, n in
                  enumerate(PARAMETER_NAMES) if n in params and np.ndim(params[n]) > 0]
        if not varied:
            return base, np.zeros(0, np.int64), np.zeros((1, 0))
        sizes = {v.size for _, v in varied}
        if len(sizes) != 1 or any(v.ndim != 1 for _, v in varied):
            raise GifError("the varied parameters must be 1-D arrays of one common length")
        columns = np.array([c for c, _ in varied], dtype=np.int64)
        values = np.ascontiguousarray(np.stack([v for _, v in varied], axis=1))
        return base, columns, values
    array = np.asarray(params, dtype=np.float64)
    if array.shape == (14,):
        return array.copy(), np.zeros(0, np.int64), np.zeros((1, 0))
    if array.ndim != 2 or array.shape[1] != 14:
        raise GifError(f"parameters must have shape (14,) or (N, 14), got {array.shape}")
    return array[0].copy(), np.arange(14, dtype=np.int64), np.ascontiguousarray(array)


def _check_values(base, columns, values) -> None:
    """Every neuron's parameters valid (model.parameter_problem, vectorised, no N x 14 copy)."""
    varied = {PARAMETER_NAMES[c]: values[:, k] for k, c in enumerate(columns)}

    def column(name: str):
        return varied[name] if name in varied else base[PARAMETER_NAMES.index(name)]

    def fail(bad, text: str) -> None:
        if np.any(bad):
            i = int(np.argmax(bad)) if np.ndim(bad) else 0
            raise GifError(f"neuron {i}: {text(i)}")

    for spec in PARAMETERS:
        value = np.asarray(column(spec.name))
        bad = ~np.isfinite(value)
        if spec.positive:
            bad |= value <= 0
        rule = "> 0" if spec.positive else "finite"
        fail(bad, lambda i, v=value, n=spec.name, r=rule: f"{n} must be {r}, got "
                                                         f"{np.ravel(v)[i if v.ndim else 0]:g}")
    reset, th_reset = np.asarray(column("V_reset")), np.asarray(column("V_th_reset"))
    fail(reset >= th_reset, lambda i: (
        f"V_reset ({np.ravel(reset)[i if reset.ndim else 0]:g} mV) must be < V_th_reset "
        f"({np.ravel(th_reset)[i if th_reset.ndim else 0]:g} mV)"))


def initial_states(base, columns, values, initial: Mapping[str, float] | None = None
                   ) -> np.ndarray:
    """(N or 1, 4) initial states: the given values, else rest (V_rest, V_th_inf, 0, 0)."""
    initial = dict(initial or {})
    n = max([values.shape[0] if columns.size else 1,
             *(np.size(v) for v in initial.values())])
    rest = {name: np.full(n, base[c]) for c, name in enumerate(PARAMETER_NAMES)
            if name in ("V_rest", "V_th_inf")}
    for k, c in enumerate(columns):
        if PARAMETER_NAMES[c] in rest:
            rest[PARAMETER_NAMES[c]] = values[:, k]
    defaults = {"I1": np.zeros(n), "I2": np.zeros(n), "V": rest["V_rest"],
                "V_th": rest["V_th_inf"]}
    x = np.stack([np.broadcast_to(np.asarray(initial.get(s, defaults[s]), dtype=np.float64),
                                  (n,)) for s in STATE_NAMES], axis=1)
    if n > 1 and np.all(x == x[0]):
        x = x[:1]
    return np.ascontiguousarray(x)


def run_batch(params: ParamsLike, segments: Sequence[tuple[float, float]] | Grid, *,
              method: str = "exact", dt: float = 0.1, initial: Mapping[str, float] |
              np.ndarray | None = None, input_scale: float | Sequence[float] | np.ndarray =
              1.0, record: int = 0, progress: Callable[[int, int], None] | None = None,
              max_per_step: int = MAX_SPIKES_PER_STEP, max_spikes: int = MAX_SPIKES,
              block: int = BLOCK, track_after: float | None = None) -> BatchResult:
    """Simulate N neurons under one schedule; per-neuron statistics only.

    ``params``: see :func:`split_params`. ``segments``: (amplitude, duration ms) pairs, or a
    :class:`~gifcli.schedule.Grid` already built for ``dt`` and ``method``. ``initial``: a
    mapping of state names to scalars or length-N arrays, or an (N, 4)/(4,) array in
    model.STATE_NAMES order; by default every neuron starts at rest. ``input_scale``
    multiplies every amplitude (a scalar or one per neuron). ``record`` > 0 keeps the first
    ``record`` spike times of each neuron. ``progress(done, total)`` is called after each
    chunk of neurons. N is the common length of whatever varies. With ``track_after`` (ms),
    each neuron's V is followed from the first grid point at or after it to the end: its
    first peak and the lowest V after the peak (``peak_mV``, ``trough_mV``), as
    :class:`gifcli.checks.Extrema` reads them off a single run's trace.
    """
    if method not in METHODS:
        raise GifError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    dt = run_number(dt, "dt")
    if not (dt is not None and math.isfinite(dt) and dt > 0):
        raise GifError(f"dt must be a finite number of ms > 0, got {dt}")
    record, block = whole_number(record, "record", 0), whole_number(block, "block", 1)
    max_spikes = whole_number(max_spikes, "max_spikes", 1)
    max_per_step = whole_number(max_per_step, "max_per_step", 1)
    if not isinstance(segments, Grid):
        segments = checked_schedule(segments, dt, "run_batch()")
    base, columns, values = split_params(params)
    _check_values(base, columns, values)
    if isinstance(initial, np.ndarray):
        x_init = np.ascontiguousarray(np.atleast_2d(np.asarray(initial, dtype=np.float64)))
        if x_init.shape[1] != 4:
            raise GifError(f"initial states must have shape (4,) or (N, 4), got {initial.shape}")
    else:
        x_init = initial_states(base, columns, values, initial)
    scale = np.ascontiguousarray(np.atleast_1d(np.asarray(input_scale, dtype=np.float64)))
    if scale.ndim != 1:
        raise GifError("input_scale must be a scalar or a 1-D array")
    if not np.all(np.isfinite(scale)) or not np.all(np.isfinite(x_init)):
        raise GifError("input_scale and the initial states must be finite")
    sizes = {s for s in (values.shape[0] if columns.size else 1, x_init.shape[0], scale.size)
             if s != 1}
    if len(sizes) > 1:
        raise GifError(f"the per-neuron arrays differ in length: {sorted(sizes)}")
    N = sizes.pop() if sizes else 1
    grid = segments if isinstance(segments, Grid) else build_grid(list(segments), dt,
                                                                  exact=method == "exact")
    if not math.isclose(grid.dt, dt, rel_tol=0, abs_tol=0):
        raise GifError(f"the grid was built for dt = {grid.dt:g} ms, not {dt:g} ms")

    n_spikes = np.zeros(N, dtype=np.int64)
    first = np.full(N, np.nan)
    last = np.full(N, np.nan)
    isi_mean = np.zeros(N)
    isi_m2 = np.zeros(N)
    n_bursts = np.zeros(N, dtype=np.int64)
    status = np.zeros(N, dtype=np.int8)
    # Each block fills its rows' unused tail with NaN itself, in parallel.
    buffer = np.empty((N, int(record))) if record > 0 else np.empty((0, 0))
    last_isi = np.full(N, np.nan)
    extrema = np.empty((N if track_after is not None else 0, 2))
    track_from = -1
    if track_after is not None:
        times = np.arange(grid.n_steps + 1) * float(dt)  # the single run's t, to the bit
        track_from = int(np.searchsorted(times, track_after, side="left"))
        track_from = -1 if track_from > grid.n_steps else track_from

    stats = (n_spikes, first, last, isi_mean, isi_m2, n_bursts, status, buffer, last_isi)
    block = max(8, min(int(block), _balanced_block(N)))
    order, starts, stops, modal = _blocks(base, columns, values, N, float(dt), method, block)
    finished = _run_chunks(order, starts, stops, modal, base, columns, values, x_init, scale,
                           grid, float(dt), kernel.METHOD_CODES[method], int(max_per_step),
                           int(max_spikes), stats, track_from, extrema, progress)
    interrupts.raise_if_cut_short(not finished)
    isi_mean[n_spikes < 2] = np.nan
    tracked = track_after is not None
    # No grid point followed (track_after past the end): no peak, as a single trace has.
    peak = np.where(np.isfinite(extrema[:, 0]), extrema[:, 0], np.nan) if tracked else None
    return BatchResult(
        method=method, dt=float(dt), duration_ms=grid.n_steps * float(dt), n_spikes=n_spikes,
        first_spike_ms=first, last_spike_ms=last, isi_mean_ms=isi_mean, isi_m2=isi_m2,
        n_bursts=n_bursts, status=status, spike_times=buffer if record > 0 else None,
        last_isi_ms=last_isi, notes=grid.notes, peak_mV=peak,
        trough_mV=np.where(np.isfinite(extrema[:, 1]), extrema[:, 1], np.nan) if tracked
        else None,
    )


def _run_chunks(order, starts, stops, modal, base, columns, values, x_init, scale, grid: Grid,
                dt: float, method_code: int, max_per_step: int, max_spikes: int, stats,
                track_from: int, extrema, progress) -> bool:
    """Run every block, a chunk of blocks per parallel call; False if a signal stopped it.

    Signals are held while the kernel runs (gifcli.interrupts); one that arrives stops
    every block at its next poll, and is raised once the last call has returned.
    """
    N = order.size
    n_blocks = starts.size
    threads = max(1, get_num_threads())
    args = (starts, stops, modal, order, base, columns, values, x_init, scale, grid.amplitudes,
            grid.boundary_step, grid.boundary_offset, grid.n_steps, dt, method_code,
            max_per_step, max_spikes, BURST_MAX_ISI_MS, stats, track_from, extrema,
            interrupts.stop_flag())
    interrupts.prepare(_run_chunk, 0, 0, *args)
    done_blocks, chunk = 0, threads
    with interrupts.deferred():
        while done_blocks < n_blocks and not interrupts.stopped():
            hi = min(n_blocks, done_blocks + chunk)
            started = time.perf_counter()
            _run_chunk(done_blocks, hi, *args)
            rounds = -(-(hi - done_blocks) // threads)
            per_round = (time.perf_counter() - started) / rounds
            done_blocks = hi
            if progress is not None and not interrupts.stopped():
                progress(int(stops[:done_blocks].sum() - starts[:done_blocks].sum()), N)
            # Aim the next chunk at CHUNK_SECONDS, in whole rounds of the threads.
            chunk = threads * max(1, min(4 * rounds,
                                         int(CHUNK_SECONDS / max(per_round, 1e-6))))
        return not interrupts.stopped()


def _balanced_block(N: int) -> int:
    """A block small enough that every thread gets one when N is small (a multiple of 8)."""
    per_thread = -(-N // max(1, get_num_threads()))
    return max(8, ((per_thread + 7) // 8) * 8)


def _blocks(base, columns, values, N: int, dt: float, method: str, block: int):
    """(order, starts, stops, modal): the neurons order[starts[b]:stops[b]] make block b.

    ``exact`` steps a neuron in the modal form when kernel.modal_form allows it, as the
    single path does; those neurons come first, so that no block mixes the two forms.
    """
    if method == "exact":
        flags = interrupts.compiled_call(_modal_flags, base, columns, values, N, dt)
        order = np.argsort(~flags, kind="stable")
        n_modal = int(flags.sum())
    else:
        order, n_modal = np.arange(N), 0
    groups = ((0, n_modal, True), (n_modal, N, False))
    bounds = [(start, min(start + block, end), in_modal_form)
              for begin, end, in_modal_form in groups for start in range(begin, end, block)]
    starts = np.array([b[0] for b in bounds], dtype=np.int64)
    stops = np.array([b[1] for b in bounds], dtype=np.int64)
    modal = np.array([b[2] for b in bounds], dtype=np.bool_)
    return order.astype(np.int64), starts, stops, modal
