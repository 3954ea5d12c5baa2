"""Parameter sweeps and f–I curves: many runs of one preset, in batched kernel calls.

Plain functions on numbers, usable without the CLI (the files and figures are drawn by
:mod:`gifcli.sweep_files` and :mod:`gifcli.sweep_plots`, which read what is computed here):

- :func:`sweep_values` builds the values of one axis (``start``/``stop``/``num``, linear and
  inclusive, or an explicit list) and :func:`check_axis` / :func:`check_sweep` validate them;
- :func:`run_sweep` runs a grid of one to three axes and judges every point with the preset's
  check, chunk by chunk, each stage linear in the number of points;
- :func:`pass_ranges` gives the value ranges where the check passes;
- :func:`fi_curves` gives f–I curves: the steady-state rate of the f–I probe against the
  input scale, and a finer curve centred on the onset that the probe finds.

Everything is validated before anything is simulated.

A swept quantity is a model parameter, ``input_scale`` (which multiplies every amplitude of
the schedule) or an initial value (``initial.V``). The grid is run in chunks of about
:data:`CHUNK_POINTS` points: each chunk is one batched kernel call that keeps the first
:data:`RECORD` spike times of each point (the few that fire more run once more with room for
all), then its features and its check, judged for the whole chunk at once by
:func:`gifcli.checks.judge`. Only per-point columns are kept, and the trains of the points
that the figure draws.
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
COLUMNS = (*METRICS[1:2], METRICS[0], *METRICS[2:])  # n_spikes, rate_hz, first_spike_ms, ...
MAX_AXES = 3
MAX_POINTS = 1_000_000  # grid points per sweep
CHUNK_POINTS = 8_192  # points per batched call: its spike buffer and trains, some 14 MB
RECORD = 128  # spike times kept per point in the first pass (W1 fires up to 89)
MAX_RASTER_ROWS = 300  # a 1-D sweep's figure draws at most this many rows of spikes
RERUN_BUDGET_BYTES = 64_000_000  # the spike buffer of a second pass

#: progress(phase, done, total): phase is "simulate", "check" or "write"
Progress = Callable[[str, int, int], None]


def no_progress(_phase: str, _done: int, _total: int) -> None:
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


def parse_values(text: str, option: str = "--values") -> list[float]:
    """``"1, 2.5,3"`` -> [1.0, 2.5, 3.0]; every item a finite number."""
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        raise PresetError(option, None, "give one or more comma-separated numbers, e.g. 0,0.5,1")
    values = []
    for item in items:
        if not item:
            raise PresetError(option, None, f"has an empty item in {text!r}")
        try:
            value = float(item)
        except ValueError:
            raise PresetError(option, None, f"{item!r} is not a number") from None
        if not math.isfinite(value):
            raise PresetError(option, None, f"must be finite numbers, got {item}")
        values.append(value)
    return values


def sweep_values(start: float | None = None, stop: float | None = None, num: int | None = None,
                 values: Sequence[float] | None = None, suffix: str = "") -> np.ndarray:
    """The values of one axis: ``num`` points from ``start`` to ``stop`` (linear, inclusive),
    or the explicit ``values``. ``suffix`` ("2" for the second axis) names the options."""
    start_opt, stop_opt, num_opt = f"--start{suffix}", f"--stop{suffix}", f"--num{suffix}"
    values_opt = f"--values{suffix}"
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
        if array.size > MAX_POINTS:
            raise PresetError(values_opt, None, f"has {array.size:,} values, above the cap of "
                                                f"{MAX_POINTS:,}")
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
    if num > MAX_POINTS:
        raise PresetError(num_opt, None, f"must be ≤ {MAX_POINTS:,}, got {num:,}")
    if num > 1 and start > stop:
        raise PresetError(start_opt, None, f"({start:g}) must be ≤ {stop_opt} ({stop:g}) when "
                                           f"{num_opt} > 1")
    if num == 1:
        return np.array([float(start)])
    return _tidy(np.linspace(float(start), float(stop), num), (stop - start) / (num - 1))


def _tidy(values: np.ndarray, step: float) -> np.ndarray:
    """Grid values rounded to 9 digits below the step: -0.009, not -0.009000000000000001,
    and 0, not 1.7e-18 (a relative change of 1e-9 of the step at most)."""
    if step <= 0:
        return values
    digits = max(0, 9 - math.floor(math.log10(step)))
    scale = 10.0 ** digits
    counts = np.rint(values * scale)
    if digits > 22 or np.abs(counts).max() >= 2.0**53:  # 10**d or the counts not exact
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


def check_sweep(preset: Preset, axes: Sequence[Axis]) -> None:
    """Validate a sweep of one to three axes before anything runs (PresetError)."""
    if not 1 <= len(axes) <= MAX_AXES:
        raise GifError(f"a sweep has one to {MAX_AXES} axes, got {len(axes)}")
    names = [axis.param for axis in axes]
    repeated = next((name for name in names if names.count(name) > 1), None)
    if repeated:
        raise PresetError("--param", repeated, "is given twice; sweep different quantities")
    points = math.prod(axis.size for axis in axes)
    if points > MAX_POINTS:
        raise PresetError("--param", None, f"the grid has {points:,} points, above the cap of "
                                           f"{MAX_POINTS:,}")
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


# --- running a sweep ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SweepResult:
    """One sweep: the grid and, per point, its features and its check's verdict and margin.

    Points are in row-major order over the axes: with two axes, point ``i * n2 + j`` has
    ``axes[0].values[i]`` and ``axes[1].values[j]``. ``columns`` holds COLUMNS (NaN where a
    feature is undefined or the point fired without end); ``samples`` the full spike trains
    of the points the figure draws.
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


def sampled_points(axes: Sequence[Axis]) -> np.ndarray:
    """The points whose trains a 1-D sweep's raster draws (none for a grid)."""
    if len(axes) != 1:
        return np.zeros(0, dtype=np.int64)
    n = axes[0].size
    if n <= MAX_RASTER_ROWS:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, MAX_RASTER_ROWS)).astype(np.int64))


def run_sweep(preset: Preset, axes: Sequence[Axis], method: str = "exact",
              dt: float | None = None, max_steps: int = DEFAULT_MAX_STEPS,
              progress: Progress = no_progress, chunk_points: int = CHUNK_POINTS) -> SweepResult:
    """Simulate ``preset`` at every point of the grid of ``axes``, and judge each."""
    from gifcli.schedule import build_grid

    if method not in METHODS:
        raise GifError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    axes = tuple(axes)
    check_sweep(preset, axes)
    dt = effective_dt(preset, dt)
    check_run_size(preset, dt, max_steps)
    grid = build_grid(list(preset.segments), dt, exact=method == "exact")
    n = math.prod(a.size for a in axes)
    table = _Table.empty(n, preset.check is not None, sampled_points(axes))
    v_after = checks.CHECKS[preset.check].v_after(preset.segments) if preset.check else None
    for lo in range(0, n, chunk_points):
        index = np.arange(lo, min(n, lo + chunk_points))
        # One function per chunk: its spike buffer and trains are gone before the next one's.
        table.fill(preset, axes, index, grid, method, dt, v_after,
                   lambda phase, done, lo=lo: progress(phase, lo + done, n))
    notes = list(grid.notes)
    n_failed = int(np.count_nonzero(table.status))
    if n_failed:
        notes.append(f"{n_failed} of {n} points fired without end (more than the spike "
                     "limits allow); their metrics are left empty")
    return SweepResult(preset=preset, method=method, dt=dt, axes=axes, columns=table.columns,
                       status=table.status, passed=table.passed, margin=table.margin,
                       samples=table.samples, notes=tuple(notes), seconds=table.seconds)


@dataclass(frozen=True, eq=False)
class _Table:
    """What a sweep keeps per point while its chunks run (see SweepResult)."""

    columns: dict[str, np.ndarray]
    status: np.ndarray
    passed: np.ndarray | None
    margin: np.ndarray | None
    wanted: np.ndarray  # the points whose trains are kept, in samples
    samples: dict[int, np.ndarray]
    seconds: dict[str, float]

    @classmethod
    def empty(cls, n: int, checked: bool, wanted: np.ndarray) -> _Table:
        return cls({name: np.full(n, np.nan) for name in COLUMNS}, np.zeros(n, np.int8),
                   np.zeros(n, bool) if checked else None,
                   np.full(n, np.nan) if checked else None, wanted, {},
                   {"simulate": 0.0, "check": 0.0})

    def fill(self, preset: Preset, axes, index: np.ndarray, grid, method: str, dt: float,
             v_after: float | None, progress) -> None:
        """Simulate and judge the points ``index``; fill their rows."""
        started = time.perf_counter()
        points = Points.of(preset, axes, index)
        result, trains = _simulate_chunk(points, grid, method, dt, v_after,
                                         lambda done, _total: progress("simulate", done))
        self.seconds["simulate"] += time.perf_counter() - started
        started = time.perf_counter()
        ok = result.status == 0
        self.status[index] = result.status
        # The kernel's own statistics: those of the trains, to the bit (tests hold it).
        for name, values in (("n_spikes", result.n_spikes), ("rate_hz", result.rate_hz),
                             ("first_spike_ms", result.first_spike_ms),
                             ("isi_cv", result.isi_cv), ("n_bursts", result.n_bursts)):
            self.columns[name][index] = np.where(ok, values, np.nan)
        if self.passed is not None:
            judged = _judge_chunk(preset, points, result, trains, method, dt)
            self.passed[index] = judged.passed & ok
            self.margin[index] = np.where(ok, judged.margin, np.nan)
        for i in self.wanted[(self.wanted >= index[0]) & (self.wanted <= index[-1])]:
            self.samples[int(i)] = trains.train(int(i - index[0])).copy()
        self.seconds["check"] += time.perf_counter() - started
        progress("check", index.size)


def _simulate_chunk(points: Points, grid, method: str, dt: float, v_after: float | None,
                    progress):
    """One batched call over the chunk (following V after ``v_after`` ms, if not None), and
    the full spike trains of all its points."""
    from gifcli.features import SpikeTrains

    result = points.batch(grid, method, dt, RECORD, progress, track_after=v_after)
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


def _judge_chunk(preset: Preset, points: Points, result, trains, method: str, dt: float):
    """The preset's check over a chunk's points (gifcli.checks.judge); V's extrema come
    from the chunk's own batched call (see Check.v_after)."""
    from gifcli import probe

    amplitude = probe.probe_amplitude(preset.segments) * np.asarray(points.scale)
    prober = probe.Probe(points.params, points.initial, amplitude, points.size, method, dt)
    ctx = checks.Context(
        trains, preset.segments, V_rest=points.params["V_rest"],
        extrema=lambda _after: checks.Extrema(result.peak_mV, result.trough_mV),
        onsets=lambda chosen: probe.onsets(prober.subset(chosen)))
    return checks.judge(preset.check, ctx)


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
                              float(onset.rate[0]), zoom_scale, zoom_rate))
        progress("simulate", k + 1, len(presets))
    return curves


def fi_input(preset: Preset, scale: np.ndarray) -> np.ndarray:
    """The probe's input amplitude at each scale: s × A."""
    from gifcli.probe import probe_amplitude

    return scale * probe_amplitude(preset.segments)
