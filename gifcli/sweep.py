"""Parameter sweeps and f–I curves: many runs of one preset, in batched kernel calls.

Plain functions on numbers, usable without the CLI (the files and figures are drawn by
:mod:`gifcli.sweep_files` and :mod:`gifcli.sweep_plots`, labelled grids are stored by
:mod:`gifcli.sweep_store`, and :mod:`gifcli.cluster` runs the chunks on Dask workers; all
of them read what is computed here):

- :func:`sweep_values` builds the values of one axis (``start``/``stop``/``num``, linear and
  inclusive, or an explicit list), :func:`parse_axis` reads the ``P=X:Y:N`` and
  ``P=v1,v2,...`` forms, and :func:`check_axis` / :func:`check_sweep` validate them;
- :func:`plan_sweep` validates a grid of one to three axes and cuts it into :class:`Chunks`;
  :meth:`SweepPlan.compute` runs one chunk and judges every point with the preset's check;
- :func:`run_sweep` runs every chunk in this process and keeps the per-point table;
- :func:`pass_ranges` gives the value ranges where the check passes;
- :func:`fi_curves` gives f–I curves: the steady-state rate of the f–I probe against the
  input scale, and a finer curve centred on the onset that the probe finds.

Everything is validated before anything is simulated.

A swept quantity is a model parameter, ``input_scale`` (which multiplies every amplitude of
the schedule) or an initial value (``initial.V``). The grid is cut into chunks of about
:data:`CHUNK_POINTS` points, each a contiguous run of points in row-major order and a block
of the grid (the unit of work of a worker, and of a zarr store). A chunk runs in batched
kernel calls of :data:`BATCH_POINTS` points that keep the first :data:`RECORD` spike times of
each point (the few that fire more run once more with room for all), then its features and
its check, judged for all those points at once by :func:`gifcli.checks.judge`. Each point's
result depends on that point alone, so any cut into chunks, in any process, gives the same
bits.
"""

from __future__ import annotations

import difflib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from gifcli import checks
from gifcli.errors import GifError, PresetError
from gifcli.model import METHODS, PARAMETER_NAMES, parameter_problem
from gifcli.numbers import not_finite, number_from_text
from gifcli.preset import DEFAULT_MAX_STEPS, INITIAL_KEYS, Preset, check_run_size, effective_dt

INPUT_SCALE = "input_scale"
INITIAL_PARAMS = tuple(f"initial.{key}" for key in INITIAL_KEYS)
SWEEPABLE: tuple[str, ...] = (*PARAMETER_NAMES, INPUT_SCALE, *INITIAL_PARAMS)
METRICS: tuple[str, ...] = ("rate_hz", "n_spikes", "first_spike_ms", "isi_cv", "n_bursts")
METRIC_LABELS = {
    "rate_hz": "mean rate (Hz)",
    "n_spikes": "spikes",
    "first_spike_ms": "first spike (ms)",
    "isi_cv": "ISI CV",
    "n_bursts": "bursts",
}
COUNTS = ("n_spikes", "n_bursts")  # whole-number metrics
COLUMNS = (*METRICS[1:2], METRICS[0], *METRICS[2:])  # n_spikes, rate_hz, first_spike_ms, ...
MAX_AXES = 3
MAX_AXIS_VALUES = 1_000_000  # values of one axis
MAX_POINTS = 1_000_000  # grid points of a sweep held in memory (CSV, NetCDF)
MAX_STORED_POINTS = 1_000_000_000  # grid points of a sweep written chunk by chunk (zarr)
CHUNK_POINTS = 100_000  # points per chunk: a worker's unit of work and a zarr chunk
BATCH_POINTS = 8_192  # points per batched call: its spike buffer and trains, some 14 MB
RECORD = 128  # spike times kept per point in the first pass (W1 fires up to 89)
MAX_RASTER_ROWS = 300  # a 1-D sweep's figure draws at most this many rows of spikes
RERUN_BUDGET_BYTES = 64_000_000  # the spike buffer of a second pass

#: progress(phase, done, total): phase is "simulate", "check" or "write"
Progress = Callable[[str, int, int], None]
#: chunk_progress(chunks done, chunks in all)
ChunkProgress = Callable[[int, int], None]


def no_progress(_phase: str, _done: int, _total: int) -> None:
    pass


def no_chunk_progress(_done: int, _total: int) -> None:
    pass


# --- the values of an axis --------------------------------------------------------------------


def resolve_param(name: str, option: str = "--param") -> str:
    """``name`` if it can be swept, else a GifError that suggests the closest name."""
    if name in SWEEPABLE:
        return name
    by_case = {p.lower(): p for p in SWEEPABLE}
    close = [by_case[name.lower()]] if name.lower() in by_case else difflib.get_close_matches(
        name, SWEEPABLE, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise PresetError(option, None, f"{name!r} is not a model parameter, {INPUT_SCALE} or an "
                                    f"initial value{hint} (valid: {', '.join(SWEEPABLE)})")


def resolve_metric(name: str) -> str:
    if name in METRICS:
        return name
    close = difflib.get_close_matches(name, METRICS, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise PresetError("--metric", None, f"unknown metric {name!r}{hint} "
                                        f"(valid: {', '.join(METRICS)})")


def _number(item: str, option: str) -> float:
    try:
        return number_from_text(item)
    except ValueError as problem:
        if not_finite(item):
            raise PresetError(option, None, f"must be finite numbers, got {item}") from None
        raise PresetError(option, None, f"{item!r} is not a number; {problem}") from None


def parse_values(text: str, option: str = "--values") -> list[float]:
    """``"1, 2.5,3"`` -> [1.0, 2.5, 3.0]; every item a finite number."""
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        raise PresetError(option, None, "give one or more comma-separated numbers, e.g. 0,0.5,1")
    if "" in items:
        raise PresetError(option, None, f"has an empty item in {text!r}")
    return [_number(item, option) for item in items]


def parse_axis(text: str, option: str = "--param") -> Axis:
    """One axis in the general form: ``P=X:Y:N`` (N values from X to Y, linear and inclusive)
    or ``P=v1,v2,...`` (the values listed)."""
    name, equals, spec = text.partition("=")
    name, spec = name.strip(), spec.strip()
    if not equals or not name:
        raise PresetError(option, None, f"{text!r}: give P=START:STOP:NUM or P=V1,V2,... "
                                        "(e.g. a=-0.01:0.01:101 or A2=-1,-0.5,0)")
    param = resolve_param(name, option)
    where = f"{option} {param}"
    if ":" not in spec:
        return Axis(param, sweep_values(values=parse_values(spec, where), names=where))
    parts = [part.strip() for part in spec.split(":")]
    if len(parts) != 3 or not all(parts):
        raise PresetError(where, None, f"{spec!r} is not START:STOP:NUM "
                                       "(e.g. -0.01:0.01:101)")
    start, stop = (_number(part, where) for part in parts[:2])
    try:
        num = int(parts[2])
    except ValueError:
        raise PresetError(where, None, f"NUM must be a whole number, got {parts[2]!r}") from None
    return Axis(param, sweep_values(start, stop, num, names=where))


def sweep_values(start: float | None = None, stop: float | None = None, num: int | None = None,
                 values: Sequence[float] | None = None, suffix: str = "",
                 names: str | None = None) -> np.ndarray:
    """The values of one axis: ``num`` points from ``start`` to ``stop`` (linear, inclusive),
    or the explicit ``values``. Errors name the options ``--start{suffix}``, ... or, with
    ``names`` (``"--param a"``), that one option."""
    options = [f"--{o}{suffix}" if names is None else f"{names} {o.upper()}"
               for o in ("start", "stop", "num", "values")]
    start_opt, stop_opt, num_opt, values_opt = options
    if names is not None:
        values_opt = names
    ranged = [o for o, v in ((start_opt, start), (stop_opt, stop), (num_opt, num))
              if v is not None]
    if values is not None:
        if ranged:
            raise PresetError(values_opt, None, f"give either {values_opt} or "
                                                f"{start_opt}/{stop_opt}/{num_opt}, not both")
        array = np.array([float(v) for v in values], dtype=np.float64)
        if array.size == 0:
            raise PresetError(values_opt, None, "is empty; give one or more numbers")
        if not np.all(np.isfinite(array)):
            raise PresetError(values_opt, None, "must be finite numbers")
        if array.size > MAX_AXIS_VALUES:
            raise PresetError(values_opt, None, f"has {array.size:,} values, above the cap of "
                                                f"{MAX_AXIS_VALUES:,} per axis")
        return array
    missing = [o for o, v in ((start_opt, start), (stop_opt, stop), (num_opt, num)) if v is None]
    if missing:
        raise PresetError(missing[0], None, f"is missing: give {start_opt}, {stop_opt} and "
                                            f"{num_opt}, or {values_opt}")
    for option, value in ((start_opt, start), (stop_opt, stop)):
        if not math.isfinite(value):
            raise PresetError(option, None, f"must be a finite number, got {value}")
    if isinstance(num, bool) or int(num) != num:
        raise PresetError(num_opt, None, f"must be a whole number, got {num}")
    num = int(num)
    if num <= 0:
        raise PresetError(num_opt, None, f"must be ≥ 1, got {num}")
    if num > MAX_AXIS_VALUES:
        raise PresetError(num_opt, None, f"must be ≤ {MAX_AXIS_VALUES:,}, got {num:,}")
    if num > 1 and start > stop:
        raise PresetError(start_opt, None, f"({start:g}) must be ≤ {stop_opt} ({stop:g}) when "
                                           f"{num_opt} > 1")
    if num == 1:
        return np.array([float(start)])
    start, stop = float(start), float(stop)
    step = stop / (num - 1) - start / (num - 1)  # finite even where stop - start is not
    if math.isfinite(stop - start):
        return _tidy(np.linspace(start, stop, num), step)
    # Beyond ±1.8e308 the span overflows: weigh the two ends instead of adding steps.
    weight = np.arange(num) / (num - 1)
    return _tidy(start * (1.0 - weight) + stop * weight, step)


def _tidy(values: np.ndarray, step: float) -> np.ndarray:
    """Grid values rounded to 9 digits below the step: -0.009, not -0.009000000000000001,
    and 0, not 1.7e-18 (a relative change of 1e-9 of the step at most)."""
    if not (step > 0 and math.isfinite(step)):
        return values
    digits = max(0, 9 - math.floor(math.log10(step)))
    if digits > 22:  # 10**d would not be exact
        return values
    scale = 10.0 ** digits
    with np.errstate(over="ignore", invalid="ignore"):
        counts = np.rint(values * scale)
    if not np.all(np.abs(counts) < 2.0**53):  # the counts not exact (or overflowed)
        return values
    return counts / scale


@dataclass(frozen=True, eq=False)
class Axis:
    """One swept quantity (a model parameter, ``input_scale`` or ``initial.X``) and its values."""

    param: str
    values: np.ndarray

    @property
    def size(self) -> int:
        return int(self.values.size)


def check_axis(preset: Preset, axis: Axis, option: str = "--param") -> None:
    """Every value of ``axis`` gives valid parameters with the preset's others."""
    resolve_param(axis.param, option)
    if axis.param == INPUT_SCALE or axis.param in INITIAL_PARAMS:
        return
    # Each rule on one parameter (> 0; V_reset < V_th_reset) fails first at an extreme.
    for value in sorted({float(axis.values.min()), float(axis.values.max())}):
        problem = parameter_problem(preset.params | {axis.param: float(value)})
        if problem:
            key, reason = problem
            raise PresetError(f"{option} {axis.param}", None,
                              f"at {axis.param} = {value:g}, {key} {reason} "
                              f"(the other parameters as in {preset.source})")


def check_sweep(preset: Preset, axes: Sequence[Axis], stored: bool = False) -> None:
    """Validate a sweep of one to three axes before anything runs (PresetError).

    A grid held in memory has at most MAX_POINTS points; one written chunk by chunk to a
    store (``stored``), at most MAX_STORED_POINTS."""
    if not 1 <= len(axes) <= MAX_AXES:
        raise GifError(f"a sweep has one to {MAX_AXES} axes (--param given once per axis), "
                       f"got {len(axes)}")
    names = [axis.param for axis in axes]
    repeated = next((name for name in names if names.count(name) > 1), None)
    if repeated:
        raise PresetError("--param", repeated, "is given twice; sweep different quantities")
    points = math.prod(axis.size for axis in axes)
    if points > MAX_STORED_POINTS:
        raise PresetError("--param", None, f"the grid has {points:,} points, above the cap of "
                                           f"{MAX_STORED_POINTS:,}")
    if points > MAX_POINTS and not stored:
        raise PresetError("--param", None, f"the grid has {points:,} points; above "
                                           f"{MAX_POINTS:,} a sweep is written only as zarr, "
                                           "chunk by chunk (add zarr to --format, without "
                                           "csv or nc)")
    for axis in axes:
        check_axis(preset, axis)
    if {"V_reset", "V_th_reset"} <= set(names):
        # The one rule between two parameters: check every pair.
        reset = next(a for a in axes if a.param == "V_reset").values
        th_reset = next(a for a in axes if a.param == "V_th_reset").values
        if reset.max() >= th_reset.min():
            raise PresetError(
                f"{preset.source} with --param", "V_reset",
                f"must be < V_th_reset at every grid point; V_reset = {reset.max():g} and "
                f"V_th_reset = {th_reset.min():g} would fire forever at one instant")


def own_value(preset: Preset, param: str) -> float:
    """The preset's own value of a swept quantity (1 for ``input_scale``)."""
    if param == INPUT_SCALE:
        return 1.0
    if param in INITIAL_PARAMS:
        return float(preset.initial[param.removeprefix("initial.")])
    return float(preset.params[param])


# --- the points of a grid ---------------------------------------------------------------------


def _scaled(preset: Preset, scale: float) -> Preset:
    return replace(preset, segments=tuple((a * scale, d) for a, d in preset.segments))


def point_preset(preset: Preset, axes: Sequence[Axis], index: int) -> Preset:
    """The preset of one grid point, as a single run (``gif run --set ...``) would see it."""
    point = Points.of(preset, axes, np.array([index]))

    def value(v) -> float:
        return float(np.ravel(v)[0])

    return _scaled(replace(preset, params={k: value(v) for k, v in point.params.items()},
                           initial_given={k: value(v) for k, v in point.initial.items()}),
                   value(point.scale))


@dataclass(frozen=True, eq=False)
class Points:
    """The per-point inputs of some grid points: parameters, initial values (unset ones
    follow V_rest and V_th_inf, as in Preset) and the input scale, scalars where shared."""

    params: dict[str, float | np.ndarray]
    initial: dict[str, float | np.ndarray]
    scale: float | np.ndarray
    size: int

    @classmethod
    def of(cls, preset: Preset, axes: Sequence[Axis], index: np.ndarray) -> Points:
        params: dict = dict(preset.params)
        initial: dict = dict(preset.initial_given)
        scale: float | np.ndarray = 1.0
        for axis, k in zip(axes, np.unravel_index(index, [a.size for a in axes]), strict=True):
            values = np.ascontiguousarray(axis.values[k])
            if axis.param == INPUT_SCALE:
                scale = values
            elif axis.param in INITIAL_PARAMS:
                initial[axis.param.removeprefix("initial.")] = values
            else:
                params[axis.param] = values
        return cls(params, initial, scale, int(index.size))

    def subset(self, chosen: np.ndarray) -> Points:
        def pick(value):
            return value[chosen] if np.ndim(value) else value

        return Points({k: pick(v) for k, v in self.params.items()},
                      {k: pick(v) for k, v in self.initial.items()}, pick(self.scale),
                      int(chosen.size))

    def batch(self, grid, method: str, dt: float, record: int, progress=None,
              track_after: float | None = None):
        from gifcli import batch

        return batch.run_batch(self.params, grid, method=method, dt=dt, initial=self.initial,
                               input_scale=self.scale, record=record, progress=progress,
                               track_after=track_after)


# --- chunks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunks:
    """A grid cut into blocks of about ``target`` points: the last axes whole, one axis cut,
    the axes before it one value at a time, so that each block is also one contiguous run
    of points in row-major order. Chunk ``k`` is block ``k`` in row-major order."""

    shape: tuple[int, ...]
    chunk_shape: tuple[int, ...]

    @classmethod
    def of(cls, shape: Sequence[int], target: int = CHUNK_POINTS) -> Chunks:
        shape = tuple(int(n) for n in shape)
        if target < 1:
            raise GifError(f"chunks must hold at least 1 point, got {target}")
        chunk = list(shape)
        whole = 1  # points in the axes kept whole, from the last one back
        for axis in range(len(shape) - 1, -1, -1):
            if whole * shape[axis] <= target:
                whole *= shape[axis]
                continue
            chunk[axis] = max(1, target // whole)
            chunk[:axis] = [1] * axis
            break
        return cls(shape, tuple(chunk))

    @property
    def counts(self) -> tuple[int, ...]:
        """Chunks along each axis."""
        return tuple(-(-n // c) for n, c in zip(self.shape, self.chunk_shape, strict=True))

    @property
    def count(self) -> int:
        return math.prod(self.counts)

    def region(self, k: int) -> tuple[slice, ...]:
        """Chunk ``k``'s block of the grid, one slice per axis."""
        at = np.unravel_index(k, self.counts)
        return tuple(slice(int(i) * c, min(n, (int(i) + 1) * c))
                     for i, c, n in zip(at, self.chunk_shape, self.shape, strict=True))

    def bounds(self, k: int) -> tuple[int, int]:
        """Chunk ``k``'s points, ``lo`` to ``hi`` (exclusive) in row-major order."""
        region = self.region(k)
        lo = int(np.ravel_multi_index([s.start for s in region], self.shape))
        return lo, lo + math.prod(s.stop - s.start for s in region)


# --- one chunk ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ChunkResult:
    """What a chunk's points gave: COLUMNS (NaN where undefined or fired without end), the
    kernel's status, the check's verdict and margin (None without a check)."""

    columns: dict[str, np.ndarray]
    status: np.ndarray
    passed: np.ndarray | None
    margin: np.ndarray | None
    seconds: dict[str, float]

    @property
    def size(self) -> int:
        return int(self.status.size)

    def stats(self) -> np.ndarray:
        """The chunk's summary as one row of STATS (see :func:`merge_stats`)."""
        row = [float(self.size), float(np.count_nonzero(self.status)),
               float(-1 if self.passed is None else np.count_nonzero(self.passed))]
        for name in METRICS:
            finite = self.columns[name][np.isfinite(self.columns[name])]
            row += [float(finite.min()), float(finite.max())] if finite.size else [np.nan] * 2
        return np.array(row)


#: The columns of ChunkResult.stats: points, fired without end, passed, then each metric's
#: finite minimum and maximum (NaN where it has none).
STATS = ("points", "failed", "passed",
         *(f"{name}_{end}" for name in METRICS for end in ("min", "max")))


def merge_stats(rows: np.ndarray) -> dict[str, float | None]:
    """Many chunks' STATS rows (a 2-D array) as one summary of the grid."""
    rows = np.atleast_2d(rows)
    out: dict[str, float | None] = {
        "points": int(rows[:, 0].sum()), "failed": int(rows[:, 1].sum()),
        "passed": None if rows.size and rows[0, 2] < 0 else int(rows[:, 2].sum())}
    for j, name in enumerate(STATS[3:], start=3):
        column = rows[:, j][np.isfinite(rows[:, j])]
        pick = np.min if name.endswith("_min") else np.max
        out[name] = float(pick(column)) if column.size else None
    return out


@dataclass(frozen=True, eq=False)
class SweepPlan:
    """A validated sweep, ready to run chunk by chunk anywhere (it pickles for Dask)."""

    preset: Preset
    axes: tuple[Axis, ...]
    method: str
    dt: float
    grid: object  # gifcli.schedule.Grid
    chunks: Chunks
    batch_points: int = BATCH_POINTS

    @property
    def shape(self) -> tuple[int, ...]:
        return self.chunks.shape

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def checked(self) -> bool:
        return self.preset.check is not None

    def compute(self, k: int) -> ChunkResult:
        """Simulate and judge chunk ``k``'s points."""
        lo, hi = self.chunks.bounds(k)
        return self.compute_points(np.arange(lo, hi))

    def compute_points(self, index: np.ndarray) -> ChunkResult:
        """Simulate and judge the points ``index`` (flat, row-major), BATCH_POINTS at once."""
        n = index.size
        columns = {name: np.full(n, np.nan) for name in COLUMNS}
        status = np.zeros(n, np.int8)
        passed = np.zeros(n, bool) if self.checked else None
        margin = np.full(n, np.nan) if self.checked else None
        seconds = {"simulate": 0.0, "check": 0.0}
        v_after = (checks.CHECKS[self.preset.check].v_after(self.preset.segments)
                   if self.checked else None)
        for lo in range(0, n, self.batch_points):
            part = slice(lo, min(n, lo + self.batch_points))
            # One call per batch: its spike buffer and trains are gone before the next one's.
            self._fill(index[part], part, v_after, columns, status, passed, margin, seconds)
        return ChunkResult(columns, status, passed, margin, seconds)

    def _fill(self, index, part, v_after, columns, status, passed, margin, seconds) -> None:
        started = time.perf_counter()
        points = Points.of(self.preset, self.axes, index)
        result, trains = _simulate(points, self.grid, self.method, self.dt, v_after,
                                   trains_too=passed is not None)
        seconds["simulate"] += time.perf_counter() - started
        started = time.perf_counter()
        ok = result.status == 0
        status[part] = result.status
        # The kernel's own statistics: those of the trains, to the bit (tests hold it).
        for name, values in (("n_spikes", result.n_spikes), ("rate_hz", result.rate_hz),
                             ("first_spike_ms", result.first_spike_ms),
                             ("isi_cv", result.isi_cv), ("n_bursts", result.n_bursts)):
            columns[name][part] = np.where(ok, values, np.nan)
        if passed is not None:
            judged = _judge(self.preset, points, result, trains, self.method, self.dt)
            passed[part] = judged.passed & ok
            margin[part] = np.where(ok, judged.margin, np.nan)
        seconds["check"] += time.perf_counter() - started

    def trains(self, index: np.ndarray) -> dict[int, np.ndarray]:
        """The full spike trains of the points ``index``, by point."""
        points = Points.of(self.preset, self.axes, index)
        _result, trains = _simulate(points, self.grid, self.method, self.dt, None)
        return {int(i): trains.train(j).copy() for j, i in enumerate(index.tolist())}


def plan_sweep(preset: Preset, axes: Sequence[Axis], method: str = "exact",
               dt: float | None = None, max_steps: int = DEFAULT_MAX_STEPS,
               chunk_points: int = CHUNK_POINTS, stored: bool = False,
               batch_points: int = BATCH_POINTS) -> SweepPlan:
    """Validate a sweep (PresetError, GifError) and cut its grid into chunks."""
    from gifcli.schedule import build_grid

    if method not in METHODS:
        raise GifError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    axes = tuple(axes)
    check_sweep(preset, axes, stored)
    dt = effective_dt(preset, dt)
    check_run_size(preset, dt, max_steps)
    grid = build_grid(list(preset.segments), dt, exact=method == "exact")
    chunks = Chunks.of([axis.size for axis in axes], chunk_points)
    return SweepPlan(preset, axes, method, dt, grid, chunks, max(1, int(batch_points)))


def _simulate(points: Points, grid, method: str, dt: float, v_after: float | None,
              trains_too: bool = True):
    """One batched call over the points (following V after ``v_after`` ms, if not None),
    and the full spike trains of all of them (None without ``trains_too``: the kernel's
    statistics need no spike buffer)."""
    from gifcli.features import SpikeTrains

    if not trains_too:
        return points.batch(grid, method, dt, 0, track_after=v_after), None
    result = points.batch(grid, method, dt, RECORD, track_after=v_after)
    trains = result.trains()
    over = np.flatnonzero((result.n_spikes > RECORD) & (result.status == 0))
    if over.size == 0:
        return result, trains
    # The points that fired more than RECORD times: once more, with room for all of it.
    parts, start = [trains], 0
    while start < over.size:
        width = int(result.n_spikes[over[start]])
        stop = start + 1
        while stop < over.size:
            wider = max(width, int(result.n_spikes[over[stop]]))
            if (stop + 1 - start) * wider * 8 > RERUN_BUDGET_BYTES:
                break
            width, stop = wider, stop + 1
        again = points.subset(over[start:stop]).batch(grid, method, dt, width)
        parts.append(again.trains())
        start = stop
    order = np.arange(points.size)
    order[over] = points.size + np.arange(over.size)
    return result, SpikeTrains.concatenate(parts).take(order)


def _judge(preset: Preset, points: Points, result, trains, method: str, dt: float):
    """The preset's check over some points (gifcli.checks.judge); V's extrema come from the
    points' own batched call (see Check.v_after)."""
    from gifcli import probe

    amplitude = probe.probe_amplitude(preset.segments) * np.asarray(points.scale)
    prober = probe.Probe(points.params, points.initial, amplitude, points.size, method, dt)
    ctx = checks.Context(
        trains, preset.segments, V_rest=points.params["V_rest"],
        extrema=lambda _after: checks.Extrema(result.peak_mV, result.trough_mV),
        onsets=lambda chosen: probe.onsets(prober.subset(chosen)))
    return checks.judge(preset.check, ctx)


# --- a sweep in this process ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SweepResult:
    """One sweep: the grid and, per point, its features and its check's verdict and margin.

    Points are in row-major order over the axes: with two axes, point ``i * n2 + j`` has
    ``axes[0].values[i]`` and ``axes[1].values[j]``. ``columns`` holds COLUMNS (NaN where a
    feature is undefined or the point fired without end); ``samples`` the full spike trains
    of the points that a 1-D sweep's figure draws.
    """

    preset: Preset
    method: str
    dt: float
    axes: tuple[Axis, ...]
    columns: dict[str, np.ndarray]
    status: np.ndarray  # 0, or the kernel's code for a point that fired without end
    passed: np.ndarray | None  # bool per point; None when the preset names no check
    margin: np.ndarray | None  # the check's relative margin per point (NaN: not measured)
    samples: dict[int, np.ndarray] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)  # time per stage
    chunks: dict[str, object] = field(default_factory=dict)  # how the grid was cut and run
    plan: SweepPlan | None = None  # what ran (None for a result built by hand)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(axis.size for axis in self.axes)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def point_values(self) -> list[np.ndarray]:
        """Per axis, the value at every point (flattened grid)."""
        grids = np.meshgrid(*[axis.values for axis in self.axes], indexing="ij")
        return [g.ravel() for g in grids]

    @property
    def failed(self) -> np.ndarray:
        """Points that fired without end (the single-neuron path would raise)."""
        return self.status != 0

    def metric(self, name: str) -> np.ndarray:
        """``name`` (one of METRICS) per point, float, NaN where undefined or failed."""
        return self.columns[resolve_metric(name)].astype(np.float64)

    def spike_train(self, i: int) -> np.ndarray:
        """All spike times of point ``i``, one of the ``samples``."""
        return self.samples[i]

    def read(self, name: str, index: tuple[np.ndarray, ...]) -> np.ndarray:
        """``name`` (a metric or ``check_passed``) at the grid points ``index`` (one array
        of indices per axis, as numpy.ix_ takes them)."""
        values = self.passed if name == "check_passed" else self.metric(name)
        return values.reshape(self.shape)[np.ix_(*index)]

    def view(self, metric: str) -> GridView:
        """What the sweep's figure draws."""
        return grid_view(self.preset, self.method, self.dt, self.axes, self.read, metric,
                         self.samples, self.passed is not None)

    def stats(self) -> dict[str, float | None]:
        """The sweep's summary (as :func:`merge_stats` gives it for chunks)."""
        whole = ChunkResult(self.columns, self.status, self.passed, self.margin, {})
        return merge_stats(whole.stats())


def sampled_points(axes: Sequence[Axis]) -> np.ndarray:
    """The points whose trains a 1-D sweep's raster draws (none for a grid)."""
    if len(axes) != 1:
        return np.zeros(0, dtype=np.int64)
    n = axes[0].size
    if n <= MAX_RASTER_ROWS:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, MAX_RASTER_ROWS)).astype(np.int64))


MAX_MAP_CELLS = 400  # values per axis that a 2-D heat map draws
MAX_PANELS = 12  # values of a third axis drawn as small multiples
MAX_PANEL_CELLS = 160  # values per axis that each small multiple draws


def spread(n: int, most: int) -> np.ndarray:
    """At most ``most`` indices of ``n`` values, evenly spread, first and last included."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, most)).astype(np.int64))


@dataclass(frozen=True, eq=False)
class GridView:
    """What a sweep's figure draws: the metric and the check at some of the grid points.

    ``shown`` holds, per axis, the indices of the values drawn: a 1-D sweep's raster rows
    (:func:`sampled_points`), every value of a 2-D grid up to MAX_MAP_CELLS per axis, and
    up to MAX_PANELS values of a third axis (small multiples of MAX_PANEL_CELLS). ``metric``,
    ``passed`` (None without a check) and ``failed`` (fired without end) have one entry per
    point drawn.
    """

    preset: Preset
    method: str
    dt: float
    axes: tuple[Axis, ...]
    shown: tuple[np.ndarray, ...]
    metric_name: str
    metric: np.ndarray
    passed: np.ndarray | None
    samples: dict[int, np.ndarray]
    failed: np.ndarray

    @property
    def size(self) -> int:
        return math.prod(axis.size for axis in self.axes)

    def values(self, axis: int) -> np.ndarray:
        """The values drawn along ``axis``."""
        return self.axes[axis].values[self.shown[axis]]


def grid_view(preset: Preset, method: str, dt: float, axes: Sequence[Axis],
              read: Callable[[str, tuple[np.ndarray, ...]], np.ndarray], metric: str,
              samples: dict[int, np.ndarray], checked: bool) -> GridView:
    """The view of a sweep whose values ``read(name, index)`` gives (from memory or from a
    store): only the points drawn are read."""
    metric = resolve_metric(metric)
    sizes = [axis.size for axis in axes]
    if len(axes) == 1:
        shown = (sampled_points(axes),)
    elif len(axes) == 2:
        shown = tuple(spread(n, MAX_MAP_CELLS) for n in sizes)
    else:
        shown = (*(spread(n, MAX_PANEL_CELLS) for n in sizes[:2]), spread(sizes[2], MAX_PANELS))
    return GridView(preset, method, dt, tuple(axes), shown, metric, read(metric, shown),
                    read("check_passed", shown) if checked else None, samples,
                    ~np.isfinite(read("n_spikes", shown)))


def grid_notes(plan: SweepPlan, failed: int) -> tuple[str, ...]:
    """What the user should read once about a finished sweep."""
    notes = list(plan.grid.notes)
    if failed:
        notes.append(f"{failed} of {plan.size} points fired without end (more than the spike "
                     "limits allow); their metrics are left empty")
    return tuple(notes)


@dataclass(frozen=True, eq=False)
class Table:
    """A sweep's per-point arrays, filled chunk by chunk (see SweepResult)."""

    columns: dict[str, np.ndarray]
    status: np.ndarray
    passed: np.ndarray | None
    margin: np.ndarray | None
    seconds: dict[str, float]

    @classmethod
    def empty(cls, n: int, checked: bool) -> Table:
        return cls({name: np.full(n, np.nan) for name in COLUMNS}, np.zeros(n, np.int8),
                   np.zeros(n, bool) if checked else None,
                   np.full(n, np.nan) if checked else None, {"simulate": 0.0, "check": 0.0})

    def put(self, lo: int, chunk: ChunkResult) -> None:
        """Chunk results for the points from ``lo`` on."""
        part = slice(lo, lo + chunk.size)
        for name in COLUMNS:
            self.columns[name][part] = chunk.columns[name]
        self.status[part] = chunk.status
        if self.passed is not None:
            self.passed[part] = chunk.passed
            self.margin[part] = chunk.margin
        for stage, seconds in chunk.seconds.items():
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def result(self, plan: SweepPlan, chunks: dict[str, object] | None = None,
               seconds: dict[str, float] | None = None) -> SweepResult:
        """The finished sweep, with the trains that its figure draws."""
        wanted = sampled_points(plan.axes)
        return SweepResult(
            plan=plan, preset=plan.preset, method=plan.method, dt=plan.dt, axes=plan.axes,
            columns=self.columns, status=self.status, passed=self.passed, margin=self.margin,
            samples=plan.trains(wanted) if wanted.size else {},
            notes=grid_notes(plan, int(np.count_nonzero(self.status))),
            seconds=self.seconds | (seconds or {}),
            chunks=chunks or {"count": plan.chunks.count, "computed": plan.chunks.count,
                              "reused": 0, "points": math.prod(plan.chunks.chunk_shape)})


def run_sweep(preset: Preset, axes: Sequence[Axis], method: str = "exact",
              dt: float | None = None, max_steps: int = DEFAULT_MAX_STEPS,
              progress: ChunkProgress = no_chunk_progress, chunk_points: int = CHUNK_POINTS,
              batch_points: int = BATCH_POINTS) -> SweepResult:
    """Simulate ``preset`` at every point of the grid of ``axes``, and judge each, in this
    process; ``progress(done, total)`` after each chunk."""
    plan = plan_sweep(preset, axes, method, dt, max_steps, chunk_points,
                      batch_points=batch_points)
    return run_plan(plan, progress)


def run_plan(plan: SweepPlan, progress: ChunkProgress = no_chunk_progress,
             executor=None) -> SweepResult:
    """Every chunk of ``plan``, in this process in order, or on ``executor`` (a
    :class:`gifcli.cluster.Cluster`) in any order; the results gathered in memory."""
    table = Table.empty(plan.size, plan.checked)
    count = plan.chunks.count
    finished = 0

    def put(k: int, chunk: ChunkResult) -> None:
        nonlocal finished
        table.put(plan.chunks.bounds(k)[0], chunk)
        finished += 1
        progress(finished, count)

    started = time.perf_counter()
    if executor is None:
        for k in range(count):
            put(k, plan.compute(k))
    else:
        executor.run(compute_chunk, plan, range(count), (), put)
    return table.result(plan, seconds={"chunks_wall": time.perf_counter() - started})


def compute_chunk(plan: SweepPlan, k: int) -> ChunkResult:
    """Chunk ``k`` of ``plan`` (a task for a worker)."""
    return plan.compute(k)


# --- where the check passes -------------------------------------------------------------------


@dataclass(frozen=True)
class PassRange:
    """A run of consecutive grid values of the first axis where the check passes (both ends
    inclusive); ``fixed`` holds the values of the other axes along which it runs."""

    lo: float
    hi: float
    count: int  # grid points in the run
    fixed: tuple[float, ...] = ()


def pass_ranges(result: SweepResult) -> list[PassRange]:
    """The maximal runs of consecutive values of the first axis where the check passes, one
    set of runs per combination of the other axes' values. Empty without a check."""
    if result.passed is None:
        return []
    first = result.axes[0].values
    grid = result.passed.reshape(result.shape[0], -1)
    others = [axis.values for axis in result.axes[1:]]
    combos = [tuple(float(v) for v in combo) for combo in
              zip(*(g.ravel() for g in np.meshgrid(*others, indexing="ij")), strict=True)
              ] if others else [()]
    out: list[PassRange] = []
    for j, fixed in enumerate(combos):
        out.extend(_runs(first, grid[:, j], fixed))
    return out


def _runs(values: np.ndarray, ok: np.ndarray, fixed: tuple[float, ...]) -> list[PassRange]:
    edges = np.diff(np.concatenate(([0], ok.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [PassRange(float(values[a]), float(values[b]), int(b - a + 1), fixed)
            for a, b in zip(starts, stops, strict=True)]


# --- f–I curves -------------------------------------------------------------------------------


FI_START, FI_STOP, FI_NUM = 0.0, 2.0, 201
FI_ZOOM_NUM = 121  # points of the finer curve centred on the onset
FI_ZOOM_SPAN = 0.02  # it covers s* × (1 ± this)


@dataclass(frozen=True, eq=False)
class FiCurve:
    """One preset's f–I curve: the probe's steady-state rate against the input scale, the
    onset the probe found (s*, NaN if none) and its rate, and a finer curve around s*."""

    preset: Preset
    method: str
    dt: float
    scale: np.ndarray
    rate: np.ndarray
    onset_scale: float
    onset_rate: float
    zoom_scale: np.ndarray | None
    zoom_rate: np.ndarray | None
    label: str = ""  # what the figure calls it: its letter and title, or its file
    name: str = ""  # what the table calls it: its name, or its file when names repeat


def fi_curves(presets: Sequence[Preset], start: float = FI_START, stop: float = FI_STOP,
              num: int = FI_NUM, method: str = "exact", dt: float | None = None,
              max_steps: int = DEFAULT_MAX_STEPS, progress: Progress = no_progress,
              zoom: bool = True) -> list[FiCurve]:
    """The steady-state rate of each preset's f–I probe at ``num`` input scales from
    ``start`` to ``stop``; with ``zoom``, also FI_ZOOM_NUM scales centred on its onset, which
    show whether the rate rises from 0 continuously (class 1) or jumps (class 2)."""
    from gifcli import probe

    scales = sweep_values(start, stop, num)
    chosen = []
    for preset in presets:  # validate everything first
        step = effective_dt(preset, dt)
        check_run_size(replace(preset, segments=((1.0, probe.PROBE_MS),)), step, max_steps)
        chosen.append(step)
    names = fi_names(presets)
    curves = []
    for k, (preset, step) in enumerate(zip(presets, chosen, strict=True)):
        single = probe.Probe(preset.params, preset.initial,
                             probe.probe_amplitude(preset.segments), 1, method, step)
        many = replace(single, size=scales.size)
        rate = many.rates(scales)
        onset = probe.onsets(single)
        s_star = float(onset.scale[0])
        zoom_scale = zoom_rate = None
        if zoom and math.isfinite(s_star):
            zoom_scale = s_star * (1.0 + np.linspace(-FI_ZOOM_SPAN, FI_ZOOM_SPAN, FI_ZOOM_NUM))
            zoom_rate = replace(single, size=FI_ZOOM_NUM).rates(zoom_scale)
        curves.append(FiCurve(preset, method, step, scales, rate, s_star,
                              float(onset.rate[0]), zoom_scale, zoom_rate, *names[k]))
        progress("simulate", k + 1, len(presets))
    return curves


def fi_names(presets: Sequence[Preset]) -> list[tuple[str, str]]:
    """(figure label, table name) of each preset: its letter and title and its name, or,
    for presets that share a name (two files ``n.yaml`` in two folders), their files."""
    names = [preset.name for preset in presets]
    out = []
    for preset in presets:
        if names.count(preset.name) > 1:
            path = "".join(c if c.isascii() and c.isprintable() and c not in ',"' else "_"
                           for c in preset.source)
            out.append((path, path))
        else:
            out.append((f"{preset.letter}  {preset.title}" if preset.letter else preset.title,
                        preset.name))
    return out


def fi_input(preset: Preset, scale: np.ndarray) -> np.ndarray:
    """The probe's input amplitude at each scale: s × A."""
    from gifcli.probe import probe_amplitude

    return scale * probe_amplitude(preset.segments)
