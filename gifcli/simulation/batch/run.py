"""The entry point of the batched kernel: :func:`run_batch`, and its :class:`BatchResult`.

``run_batch`` checks its arguments, sorts the neurons into blocks
(:mod:`~gifcli.simulation.batch.blocks`), runs them a chunk of blocks at a time and hands back
the per-neuron results.

Layout (the W1 workload of the README's Performance section):

- the neurons are cut into blocks of a few hundred; ``prange`` runs the blocks on all cores;
- inside a block the time loop is outermost. A step is a branch-free, straight-line loop over
  the block's neurons, in structure-of-arrays form, that LLVM vectorises (AVX-512 on the
  machine this was tuned on). It reads the old state and writes the new one into a second
  buffer, sets a byte per neuron whose V reached V_th and counts them (``vector_pass``);
- with ``exact``, a neuron whose rates allow it (``kernel.modal_form``) is kept in the modal
  form, where a step is four products and the test their sum; the neurons are sorted so that
  a block holds only modal or only triangular neurons, and a modal pass makes MODAL_STEPS
  steps with the state in registers (one step per pass is bound by its loads and stores);
- in the triangular form, rows of the propagator that are the same for every neuron of a
  block (a sweep of ``a`` changes only the threshold row) are held in registers, not loaded
  per neuron, and then a pass makes two steps;
- each pass flags a neuron whose test fired in any of its steps. When the count is not zero,
  a scalar pass (``spike_pass``) redoes the flagged neurons' steps one by one, in the same
  arithmetic: the fixed-step methods reset at the step's end; ``exact`` hands the step to
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
first ``record`` spike times of each neuron (with ``n_spikes - record`` dropped); with
``track_after`` (fixed-step methods), V's first peak and the trough after it (``tracking``).

A run is cut into chunks of blocks, each one parallel call of about CHUNK_SECONDS, so that a
callback can report progress. Signals are held while the kernel runs (gifcli.core.interrupts):
every block polls the stop flag, so Ctrl-C ends the call within milliseconds, and the
interrupt is raised once the call has returned.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import get_num_threads

from gifcli.core import interrupts
from gifcli.core.arguments import ArgumentError
from gifcli.core.errors import GifError
from gifcli.model.bursts import BURST_MAX_ISI_MS
from gifcli.model.parameters import DEFAULTS, PARAMETER_NAMES, PARAMETERS, STATE_NAMES
from gifcli.model.preset import checked_schedule
from gifcli.simulation import kernel
from gifcli.simulation.batch.arguments import check_size, checked_initial, checked_options, floats
from gifcli.simulation.batch.blocks import _balanced_block, _blocks, _run_chunk
from gifcli.simulation.grid import Grid, build_grid
from gifcli.simulation.single import MAX_SPIKES, MAX_SPIKES_PER_STEP

if TYPE_CHECKING:
    from gifcli.analysis.features import SpikeTrains

BLOCK = 256  # neurons per block: the state, propagators and flags stay in L1/L2
CHUNK_SECONDS = 0.25  # aim for parallel calls this long: Ctrl-C and progress stay prompt


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Per-neuron results of a batched run, arrays of length N (``size``).

    Counts and times: ``n_spikes``, ``first_spike_ms`` and ``last_spike_ms`` (NaN without a
    spike), ``isi_mean_ms`` (NaN with fewer than 2 spikes), ``isi_cv`` and ``rate_hz``
    (properties), ``last_isi_ms``, ``n_bursts`` (runs of ≥ 2 spikes at most 10 ms apart that
    end in a pause). ``status`` is OK, TOO_MANY_SPIKES where a neuron fired without end
    (its numbers then stop there), or OVERFLOWED where its state reached inf or NaN (its
    numbers mean nothing): exactly the neurons that ``simulate`` refuses. ``spike_times``
    (with ``record`` > 0) is (N, record): the first spikes, then NaN; ``trains()`` gives them as
    :class:`gifcli.analysis.features.SpikeTrains`.
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
    status: np.ndarray  # int8: OK, TOO_MANY_SPIKES or OVERFLOWED (the single path would raise)
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
        """The recorded spike trains of all neurons, flat (see ``features.SpikeTrains``)."""
        from gifcli.analysis.features import SpikeTrains  # the one climb: see pyproject.toml

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
        given = {name: floats(value, f"parameter {name}") for name, value in params.items()}
        base = np.array([float(given[n]) if n in given and given[n].ndim == 0
                         else DEFAULTS[n] for n in PARAMETER_NAMES])
        varied = [(c, given[n]) for c, n in enumerate(PARAMETER_NAMES)
                  if n in given and given[n].ndim > 0]
        if not varied:
            return base, np.zeros(0, np.int64), np.zeros((1, 0))
        sizes = {v.size for _, v in varied}
        if len(sizes) != 1 or any(v.ndim != 1 for _, v in varied):
            raise GifError("the varied parameters must be 1-D arrays of one common length")
        columns = np.array([c for c, _ in varied], dtype=np.int64)
        values = np.ascontiguousarray(np.stack([v for _, v in varied], axis=1))
        return base, columns, values
    array = floats(params, "params")
    if array.shape == (14,):
        return array.copy(), np.zeros(0, np.int64), np.zeros((1, 0))
    if array.ndim != 2 or array.shape[1] != 14:
        raise GifError(f"parameters must have shape (14,) or (N, 14), got {array.shape}")
    check_size(array.shape[0], 0)  # no rows: no neurons
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
    :class:`~gifcli.simulation.grid.Grid` already built for ``dt`` and ``method``. ``initial``: a
    mapping of state names to scalars or length-N arrays, or an (N, 4)/(4,) array in
    model.STATE_NAMES order; by default every neuron starts at rest. ``input_scale``
    multiplies every amplitude (a scalar or one per neuron). ``record`` > 0 keeps the first
    ``record`` spike times of each neuron. ``progress(done, total)`` is called after each
    chunk of neurons. N is the common length of whatever varies. With ``track_after`` (ms;
    the fixed-step methods, whose trajectory is the grid values), each neuron's V is followed
    from the first grid point at or after it to the end: its first peak and the lowest V
    after the peak (``peak_mV``, ``trough_mV``), as :class:`gifcli.analysis.checks.Extrema`
    reads them off a single run's trace. ``exact``'s are those of continuous time, from the
    spike trains (:func:`gifcli.simulation.extrema.v_extrema`).
    """
    method, dt, record, max_spikes, max_per_step, block = checked_options(
        method, dt, record, max_spikes, max_per_step, block)
    if track_after is not None and method == "exact":
        raise ArgumentError("track_after follows V at the grid points, the trajectory of the "
                            "fixed-step methods; exact's V extrema are those of continuous "
                            "time: gifcli.simulation.extrema.v_extrema")
    if not isinstance(segments, Grid):
        segments = checked_schedule(segments, dt, "run_batch()")
    base, columns, values, x_init, scale, N = per_neuron(params, initial, input_scale)
    check_size(N, record)
    grid = segments if isinstance(segments, Grid) else build_grid(list(segments), dt,
                                                                  exact=method == "exact")
    if not math.isclose(grid.dt, dt, rel_tol=0, abs_tol=0):
        raise GifError(f"the grid was built for dt = {grid.dt:g} ms, not {dt:g} ms")

    stats = _new_stats(N, record)
    tracked = track_after is not None
    extrema = np.empty((N if tracked else 0, 2))
    track_from = _track_from(grid, float(dt), track_after)
    block = max(8, min(int(block), _balanced_block(N)))
    order, starts, stops, modal = _blocks(base, columns, values, N, float(dt), method, block)
    finished = _run_chunks(order, starts, stops, modal, base, columns, values, x_init, scale,
                           grid, float(dt), kernel.METHOD_CODES[method], int(max_per_step),
                           int(max_spikes), stats, track_from, extrema, progress)
    interrupts.raise_if_cut_short(not finished)
    return _result(method, float(dt), grid, stats, record, extrema if tracked else None)


def per_neuron(params: ParamsLike, initial, input_scale):
    """(base, columns, values, x_init, scale, N): run_batch's per-neuron arguments, checked."""
    base, columns, values = split_params(params)
    _check_values(base, columns, values)
    initial = checked_initial(initial)
    x_init = initial if isinstance(initial, np.ndarray) else \
        initial_states(base, columns, values, initial)
    scale = np.ascontiguousarray(np.atleast_1d(floats(input_scale, "input_scale")))
    if scale.ndim != 1:
        raise GifError("input_scale must be a scalar or a 1-D array")
    if not np.all(np.isfinite(scale)) or not np.all(np.isfinite(x_init)):
        raise GifError("input_scale and the initial states must be finite")
    sizes = {s for s in (values.shape[0] if columns.size else 1, x_init.shape[0], scale.size)
             if s != 1}
    if len(sizes) > 1:
        raise GifError(f"the per-neuron arrays differ in length: {sorted(sizes)}")
    N = sizes.pop() if sizes else 1
    return base, columns, values, x_init, scale, N


def _new_stats(N: int, record: int) -> tuple:
    """The per-neuron result arrays the kernel fills (see spike_pass: ``stats``)."""
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
    return n_spikes, first, last, isi_mean, isi_m2, n_bursts, status, buffer, last_isi


def _track_from(grid: Grid, dt: float, track_after: float | None) -> int:
    """The first grid point at or after ``track_after``; -1 without it or past the end."""
    if track_after is None:
        return -1
    times = np.arange(grid.n_steps + 1) * dt  # the single run's t, to the bit
    track_from = int(np.searchsorted(times, track_after, side="left"))
    return -1 if track_from > grid.n_steps else track_from


def _result(method: str, dt: float, grid: Grid, stats: tuple, record: int,
            extrema: np.ndarray | None) -> BatchResult:
    """The finished run's BatchResult; ``extrema`` (peak, trough) is None without tracking."""
    n_spikes, first, last, isi_mean, isi_m2, n_bursts, status, buffer, last_isi = stats
    isi_mean[n_spikes < 2] = np.nan
    tracked = extrema is not None
    # No grid point followed (track_after past the end): no peak, as a single trace has.
    peak = np.where(np.isfinite(extrema[:, 0]), extrema[:, 0], np.nan) if tracked else None
    return BatchResult(
        method=method, dt=dt, duration_ms=grid.n_steps * dt, n_spikes=n_spikes,
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

    Signals are held while the kernel runs (gifcli.core.interrupts); one that arrives stops
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
