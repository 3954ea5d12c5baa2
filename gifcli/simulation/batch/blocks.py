"""The blocks: how the neurons are cut into blocks, and one block's run from start to end.

``_blocks`` sorts the neurons so that no block mixes the modal and the triangular form and
cuts them into blocks; ``_run_chunk`` runs a range of blocks in parallel (``prange``), each
through ``_run_block``: its neurons set up as ``kernel.simulate_trace`` does, then the time
loop of vector passes (:mod:`~gifcli.simulation.batch.vector_pass`), spike passes
(:mod:`~gifcli.simulation.batch.spike_pass`) and segment boundaries.
"""

from __future__ import annotations

import math

import numpy as np
from numba import get_num_threads, njit, prange

from gifcli.core import interrupts
from gifcli.simulation import kernel
from gifcli.simulation.batch.spike_pass import (
    OK,
    OVERFLOWED,
    TOO_MANY_SPIKES,
    X_SIZE,
    _closes_burst,
    _kill,
    _modal_spike_pass,
    _note_overflow,
    _record_spikes,
    _redo_steps,
    _store,
)
from gifcli.simulation.batch.tracking import _track, _track_value
from gifcli.simulation.batch.vector_pass import (
    ALL_ROWS,
    BOUNDED,
    MODAL_STEPS,
    NO_ROWS,
    THRESHOLD_ROWS,
    _modal_step,
    _modal_steps,
    _step2_no_rows,
    _step2_threshold_rows,
    _step_all_rows,
    _step_bounded,
    _step_no_rows,
    _step_threshold_rows,
)

_ROW_PAD = 8  # rows of the block's work array are 64 k + _ROW_PAD doubles long


@njit(cache=True)
def _neuron_params(base, columns, values, row, out):
    out[:] = base
    for c in range(columns.shape[0]):
        out[columns[c]] = values[row, c]


# Long on purpose, as one compiled unit: the set-up, the boundaries and the time loop share
# the block's two dozen work arrays as locals (Ya and Yb swap after every pass), and the
# vector passes are inlined into the loop. Cut into compiled calls, each would take those
# arrays again as arguments, with their reference counting, once per pass of every step.
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
    # doubles: no two of its rows lie a multiple of 4 KiB apart, which would make the
    # core stall loads behind stores to the other row (apart, they could land anywhere).
    width = 64 * ((n + 63 - _ROW_PAD) // 64) + _ROW_PAD
    rows = np.zeros((9 + kernel.P_SIZE, width))
    Ya, Yb, P, G = rows[0:4], rows[4:8], rows[8:8 + kernel.P_SIZE], rows[8 + kernel.P_SIZE]
    F = np.zeros(width, dtype=np.uint8)
    words = F.view(np.uint64)
    params = np.empty((n, 14))
    forms = np.empty((n, kernel.MODAL_SIZE))
    props = np.empty((n, kernel.P_SIZE))
    v_star = np.empty(n)
    th_star = np.empty(n)
    scales = np.empty(n)
    runs = np.zeros((2, n))
    flagged = np.empty(n, dtype=np.int64)
    X = np.empty((n if modal else 0, X_SIZE))
    quick = np.empty(n, dtype=np.bool_)
    decays = np.zeros(4 * n if modal else 0)
    active = np.empty(n if modal else 0, dtype=np.int64)
    y = np.empty(4)
    y0 = np.empty(4)
    D = np.empty((kernel.MAX_TAYLOR_TERMS, 4))
    step_spikes = np.empty(max_per_step)
    tracking = track_from >= 0  # the fixed-step methods only (run_batch)
    v_reset = np.empty(n if tracking else 0)
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
            v_reset[j] = p[kernel.V_RESET]
            if track_from == 0:
                _track_value(peak, trough, j, x[kernel.V], True)  # the initial state
    variant = BOUNDED if exact else ALL_ROWS
    if not modal and not exact:
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
    k = np.int64(0)  # not 0: see kernel.simulate_trace's n_spikes
    next_poll = 0
    while k < n_steps:
        if k >= next_poll:
            if stop[0] != 0:
                return
            next_poll = k + kernel.POLL_STEPS
        while seg < last_seg and boundary_step[seg] == k and boundary_offset[seg] == 0.0:
            for j in range(n):
                if status[order[lo + j]] == TOO_MANY_SPIKES:
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
                if status[i] == TOO_MANY_SPIKES:
                    continue
                p = params[j]
                for r in range(4):
                    y[r] = Ya[r, j]
                _note_overflow(status, i, y)
                count = kernel.advance_state(y, p, forms[j], modal,
                                             kernel.step_map(p, part, method, forms[j], modal),
                                             v_star[j], th_star[j], t0, part, method,
                                             step_spikes, np.int64(0), max_per_step, D, y0)
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
                                                 vs, ts, t0 + part, rest, method, step_spikes,
                                                 np.int64(0), max_per_step, D, y0)
                    count = _record_spikes(stats, count, i, j, step_spikes, (k + 1) * dt,
                                           exact, max_spikes, burst_isi, runs)
                for r in range(4):
                    Ya[r, j] = y[r]
                if count < 0:
                    _kill(j, Ya, G, status, i)
            seg += 1
            k += 1
            continue

        # Several steps in one vector pass (the state stays in registers in between: a single
        # step is bound by its loads and stores), as many as fit before the next boundary.
        # A tracked stretch (fixed-step methods) makes one step a pass and follows V after it.
        free = min(boundary_step[seg] if seg < last_seg else n_steps, n_steps) - k
        if 0 <= track_from <= k + MODAL_STEPS:
            free = 1
        if modal and free >= MODAL_STEPS:
            n_sub = MODAL_STEPS
            fired = _modal_steps(Ya, Yb, P, G, F, n)
        elif modal:
            n_sub = 1
            fired = _modal_step(Ya, Yb, P, G, F, n)
        elif variant == BOUNDED:
            n_sub = 1
            fired = _step_bounded(Ya, Yb, P, G, F, n)
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
        m = np.int64(0)
        if fired:
            for w in range(words.shape[0]):
                if words[w] == 0:
                    continue
                for j in range(8 * w, min(8 * w + 8, n)):
                    if F[j] != 0 and status[order[lo + j]] != TOO_MANY_SPIKES:
                        flagged[m] = j
                        m += 1
            if modal:
                _modal_spike_pass(flagged, m, k, n_sub, dt, lo, order, Ya, Yb, F, G, props,
                                  forms, params, v_star, th_star, X, quick, decays, active, y,
                                  y0, D, step_spikes, max_per_step, max_spikes, burst_isi,
                                  runs, stats)
            else:
                for q in range(m):
                    j = flagged[q]
                    i = order[lo + j]
                    for r in range(4):
                        y[r] = Ya[r, j]
                    count = _redo_steps(j, i, k, np.int64(0), n_sub, y, y0, dt, method, False,
                                        G, props, forms, params, v_star, th_star, D, step_spikes,
                                        max_per_step, max_spikes, burst_isi, runs, stats)
                    _store(j, i, y, Yb, G, status, count)
        k += n_sub
        if 0 <= track_from <= k:  # one step, every neuron, after its spikes
            _track(Yb, F, v_reset, v_star, n, peak, trough)
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
        if status[i] == OK and not _finite_state(Ya, j, forms[j], modal, v_star[j], th_star[j],
                                                 y):
            status[i] = OVERFLOWED


@njit(cache=True)
def _finite_state(Ya, j, form, modal, v_star, th_star, y):
    """Neuron j's state as simulate() records it is finite (inf and NaN never leave it)."""
    for r in range(4):
        y[r] = Ya[r, j]
    y1, y2, yv, yt = kernel.deviation(y, form, modal)
    return (math.isfinite(y1) and math.isfinite(y2) and math.isfinite(yv + v_star)
            and math.isfinite(yt + th_star))


@njit(parallel=True, cache=True, nogil=True)
def _run_chunk(block_lo, block_hi, starts, stops, modal, order, base, columns, values, x_init,
               scale, amplitudes, boundary_step, boundary_offset, n_steps, dt, method,
               max_per_step, max_spikes, burst_isi, stats, track_from, extrema, stop):
    # nogil: gifcli.core.interrupts' watcher thread must be able to set ``stop`` meanwhile.
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
