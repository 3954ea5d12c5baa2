"""Parameter sweeps and f–I curves: many runs of one preset, as one batched kernel call.

Plain functions, usable without the CLI:

- :func:`sweep_values` builds the values of one axis (``start``/``stop``/``num``, linear and
  inclusive, or an explicit list) and :func:`check_axis` / :func:`check_sweep` validate them;
- :func:`run_sweep` runs a 1-D or 2-D sweep through :func:`gifcli.batch.run_batch` and judges
  every point with the preset's check;
- :func:`pass_ranges` gives the value ranges where the check passes;
- :func:`sweep_csv_bytes` and :func:`write_sweep` write ``NAME_sweep_P.csv`` and ``.png``;
- :func:`fi_curves` sweeps ``input_scale`` over several presets (the f–I curve).

Everything is validated before anything is simulated, and nothing is written on bad input.

The checks read spike times. The kernel keeps the first ``record`` spike times of each point
(bounded so that memory stays small); a point that fired more is run once more, alone in a
second batched call, to get all of its spikes. The ``afterpotentials`` check also reads the V
trace: for it, each point is run through the single-neuron :func:`gifcli.simulation.simulate`
(the same kernel functions, so the same spikes), which costs about a millisecond per point.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from gifcli.errors import GifError, PresetError
from gifcli.model import METHODS, PARAMETER_NAMES, parameter_problem
from gifcli.preset import DEFAULT_MAX_STEPS, Preset, check_run_size, effective_dt

INPUT_SCALE = "input_scale"
SWEEPABLE: tuple[str, ...] = (*PARAMETER_NAMES, INPUT_SCALE)
METRICS: tuple[str, ...] = ("rate_hz", "n_spikes", "first_spike_ms", "isi_cv", "n_bursts")
METRIC_LABELS = {
    "rate_hz": "mean rate (Hz)",
    "n_spikes": "spikes",
    "first_spike_ms": "first spike (ms)",
    "isi_cv": "ISI CV",
    "n_bursts": "bursts",
}
CSV_COLUMNS = ("n_spikes", "rate_hz", "first_spike_ms", "isi_cv", "n_bursts", "check_passed")
MAX_POINTS = 1_000_000  # grid points per sweep
RECORD_BUDGET_BYTES = 64_000_000  # the kernel's spike-time buffer, all points together
MAX_RECORD = 512  # spike times kept per point in the first pass
MIN_RECORD = 16
NEEDS_TRACE = ("afterpotentials",)  # checks that read V, not only spike times

#: progress(phase, done, total): phase is "simulate" or "check"
Progress = Callable[[str, int, int], None]


def _quiet(_phase: str, _done: int, _total: int) -> None:
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
    raise PresetError(option, None, f"{name!r} is not a model parameter or {INPUT_SCALE}{hint} "
                                    f"(valid: {', '.join(SWEEPABLE)})")


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
    return np.array([float(f"{v:.{digits}f}") for v in values])


@dataclass(frozen=True, eq=False)
class Axis:
    """One swept quantity: a model parameter or ``input_scale``, and its values."""

    param: str
    values: np.ndarray

    @property
    def size(self) -> int:
        return int(self.values.size)


def check_axis(preset: Preset, axis: Axis, option: str = "--param") -> None:
    """Every value of ``axis`` gives valid parameters with the preset's others."""
    resolve_param(axis.param, option)
    if axis.param == INPUT_SCALE:
        return
    for value in np.unique(axis.values):
        problem = parameter_problem(preset.params | {axis.param: float(value)})
        if problem:
            key, reason = problem
            raise PresetError(f"{option} {axis.param}", None,
                              f"at {axis.param} = {value:g}, {key} {reason} "
                              f"(the other parameters as in {preset.source})")


def check_sweep(preset: Preset, axes: Sequence[Axis]) -> None:
    """Validate a 1-D or 2-D sweep before anything runs (PresetError on the first problem)."""
    if not 1 <= len(axes) <= 2:
        raise GifError("a sweep has one or two axes")
    if len(axes) == 2 and axes[0].param == axes[1].param:
        raise PresetError("--param2", axes[1].param, "is the same as --param; sweep two "
                                                     "different quantities")
    points = math.prod(axis.size for axis in axes)
    if points > MAX_POINTS:
        raise PresetError("--num", None, f"the grid has {points:,} points, above the cap of "
                                         f"{MAX_POINTS:,}")
    for axis, option in zip(axes, ("--param", "--param2"), strict=False):
        check_axis(preset, axis, option)
    if len(axes) == 2 and {a.param for a in axes} == {"V_reset", "V_th_reset"}:
        # The one rule between two parameters: check every pair.
        reset = next(a for a in axes if a.param == "V_reset").values
        th_reset = next(a for a in axes if a.param == "V_th_reset").values
        bad = reset.max() >= th_reset.min()
        if bad:
            raise PresetError(
                f"{preset.source} with --param/--param2", "V_reset",
                f"must be < V_th_reset at every grid point; V_reset = {reset.max():g} and "
                f"V_th_reset = {th_reset.min():g} would fire forever at one instant")


# --- running a sweep ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SweepResult:
    """One sweep: the grid, the per-point results, and the check's verdict per point.

    Points are in row-major order over the axes: with two axes, point ``i * n2 + j`` has
    ``axes[0].values[i]`` and ``axes[1].values[j]``.
    """

    preset: Preset
    method: str
    dt: float
    axes: tuple[Axis, ...]
    batch: object  # gifcli.batch.BatchResult
    trains: dict[int, np.ndarray]  # full spike trains of the points whose buffer overflowed
    passed: np.ndarray | None  # bool per point; None when the preset names no check
    reasons: tuple[str, ...] | None
    notes: tuple[str, ...] = ()

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
        return self.batch.status != 0

    def metric(self, name: str) -> np.ndarray:
        """``name`` (one of METRICS) per point, float, NaN where undefined or failed."""
        b = self.batch
        values = {
            "rate_hz": b.rate_hz,
            "n_spikes": b.n_spikes.astype(np.float64),
            "first_spike_ms": b.first_spike_ms,
            "isi_cv": b.isi_cv,
            "n_bursts": b.n_bursts.astype(np.float64),
        }[resolve_metric(name)]
        return np.where(self.failed, np.nan, values)

    def spike_train(self, i: int) -> np.ndarray:
        """All spike times of point ``i``."""
        if i in self.trains:
            return self.trains[i]
        return self.batch.spikes(i)


def _scaled(preset: Preset, scale: float) -> Preset:
    return replace(preset, segments=tuple((a * scale, d) for a, d in preset.segments))


def point_preset(preset: Preset, axes: Sequence[Axis], index: int) -> Preset:
    """The preset of one grid point, as a single run would see it."""
    params, scale = dict(preset.params), 1.0
    for axis, value in zip(axes, np.unravel_index(index, [a.size for a in axes]), strict=True):
        v = float(axis.values[value])
        if axis.param == INPUT_SCALE:
            scale = v
        else:
            params[axis.param] = v
    return _scaled(replace(preset, params=params), scale)


def _batch_inputs(preset: Preset, axes: Sequence[Axis]):
    """(params mapping, input_scale, initial mapping) for run_batch, one entry per point."""
    grids = np.meshgrid(*[axis.values for axis in axes], indexing="ij")
    params: dict[str, float | np.ndarray] = dict(preset.params)
    scale: float | np.ndarray = 1.0
    for axis, grid in zip(axes, grids, strict=True):
        if axis.param == INPUT_SCALE:
            scale = np.ascontiguousarray(grid.ravel())
        else:
            params[axis.param] = np.ascontiguousarray(grid.ravel())
    # Unset initial values follow the (possibly swept) V_rest and V_th_inf, as in Preset.
    return params, scale, dict(preset.initial_given)


def record_size(points: int) -> int:
    """Spike times kept per point in the first pass: memory stays within the budget."""
    return int(min(MAX_RECORD, max(MIN_RECORD, RECORD_BUDGET_BYTES // (8 * max(points, 1)))))


def run_sweep(preset: Preset, axes: Sequence[Axis], method: str = "exact",
              dt: float | None = None, max_steps: int = DEFAULT_MAX_STEPS,
              progress: Progress = _quiet) -> SweepResult:
    """Simulate ``preset`` at every point of the 1-D or 2-D grid of ``axes``; judge each."""
    from gifcli import batch
    from gifcli.schedule import build_grid

    if method not in METHODS:
        raise GifError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    axes = tuple(axes)
    check_sweep(preset, axes)
    dt = effective_dt(preset, dt)
    check_run_size(preset, dt, max_steps)
    points = math.prod(a.size for a in axes)
    params, scale, initial = _batch_inputs(preset, axes)
    grid = build_grid(list(preset.segments), dt, exact=method == "exact")
    record = record_size(points)
    result = batch.run_batch(params, grid, method=method, dt=dt, initial=initial,
                             input_scale=scale, record=record,
                             progress=lambda done, total: progress("simulate", done, total))
    trains = _overflowed_trains(result, params, scale, initial, grid, method, dt)
    passed, reasons = _judge(preset, axes, result, trains, method, dt, max_steps, progress)
    notes = list(grid.notes)
    n_failed = int(np.count_nonzero(result.status))
    if n_failed:
        notes.append(f"{n_failed} of {points} points fired without end (more than the spike "
                     "limits allow); their metrics are left empty")
    return SweepResult(preset=preset, method=method, dt=dt, axes=axes, batch=result,
                       trains=trains, passed=passed, reasons=reasons, notes=tuple(notes))


def _overflowed_trains(result, params, scale, initial, grid, method, dt) -> dict[int, np.ndarray]:
    """All spike times of the points that fired more than the first pass kept."""
    from gifcli import batch

    over = np.flatnonzero((result.n_dropped > 0) & (result.status == 0))
    trains: dict[int, np.ndarray] = {}
    start = 0
    while start < over.size:
        # As many points as fit the budget, each with room for all of its spikes.
        width = int(result.n_spikes[over[start]])
        stop = start + 1
        while stop < over.size:
            wider = max(width, int(result.n_spikes[over[stop]]))
            if (stop + 1 - start) * wider * 8 > RECORD_BUDGET_BYTES:
                break
            width, stop = wider, stop + 1
        chosen = over[start:stop]
        sub_params = {k: (v[chosen] if np.ndim(v) else v) for k, v in params.items()}
        sub_initial = {k: (v[chosen] if np.ndim(v) else v) for k, v in initial.items()}
        sub_scale = scale[chosen] if np.ndim(scale) else scale
        again = batch.run_batch(sub_params, grid, method=method, dt=dt, initial=sub_initial,
                                input_scale=sub_scale, record=width)
        for k, i in enumerate(chosen):
            trains[int(i)] = again.spikes(k)
        start = stop
    return trains


def _judge(preset, axes, result, trains, method, dt, max_steps, progress):
    """The preset's check at every point: (passed, reasons), or (None, None) without one."""
    from gifcli.checks import check_spikes, evaluate

    if preset.check is None:
        return None, None
    n = result.size
    passed = np.zeros(n, dtype=bool)
    reasons = []
    step = max(1, n // 100)
    for i in range(n):
        if result.status[i] != 0:
            passed[i], reason = False, "fired without end"
        elif preset.check in NEEDS_TRACE:
            from gifcli.simulation import simulate

            verdict = evaluate(simulate(point_preset(preset, axes, i), method, dt, max_steps))
            passed[i], reason = verdict.passed, verdict.reason
        else:
            spikes = trains[i] if i in trains else result.spikes(i)
            verdict = check_spikes(preset.check, spikes, preset.segments)
            passed[i], reason = verdict.passed, verdict.reason
        reasons.append(reason)
        if (i + 1) % step == 0 or i + 1 == n:
            progress("check", i + 1, n)
    return passed, tuple(reasons)


# --- where the check passes -------------------------------------------------------------------


@dataclass(frozen=True)
class PassRange:
    """A run of consecutive grid values where the check passes (both ends inclusive).

    With two axes, ``fixed`` is the value of the second axis along which the first one runs.
    """

    lo: float
    hi: float
    count: int  # grid points in the run
    fixed: float | None = None


def pass_ranges(result: SweepResult) -> list[PassRange]:
    """The maximal runs of consecutive values of the first axis where the check passes;
    with two axes, one set of runs per value of the second axis. Empty without a check."""
    if result.passed is None:
        return []
    first = result.axes[0].values
    grid = result.passed.reshape(result.shape)
    if len(result.axes) == 1:
        return _runs(first, grid, None)
    out: list[PassRange] = []
    for j, fixed in enumerate(result.axes[1].values):
        out.extend(_runs(first, grid[:, j], float(fixed)))
    return out


def _runs(values: np.ndarray, ok: np.ndarray, fixed: float | None) -> list[PassRange]:
    runs, i = [], 0
    while i < ok.size:
        if not ok[i]:
            i += 1
            continue
        j = i
        while j + 1 < ok.size and ok[j + 1]:
            j += 1
        runs.append(PassRange(float(values[i]), float(values[j]), j - i + 1, fixed))
        i = j + 1
    return runs


# --- files ----------------------------------------------------------------------------------------


def sweep_stem(preset: Preset, axes: Sequence[Axis]) -> str:
    """``NAME_sweep_P`` (one axis) or ``NAME_sweep_P_Q`` (two)."""
    return f"{preset.name}_sweep_" + "_".join(axis.param for axis in axes)


def _cell(value: float) -> str:
    return repr(float(value)) if math.isfinite(value) else ""


def sweep_csv_bytes(result: SweepResult) -> bytes:
    """One row per point: the value(s), n_spikes, rate_hz, first_spike_ms, isi_cv, n_bursts,
    check_passed. Empty cells where a feature is undefined (no spike, < 3 spikes, no check,
    or a point that fired without end)."""
    names = ["value"] if len(result.axes) == 1 else ["value", "value2"]
    lines = [",".join([*names, *CSV_COLUMNS])]
    columns = [result.metric(m) for m in ("n_spikes", "rate_hz", "first_spike_ms", "isi_cv",
                                          "n_bursts")]
    values = result.point_values()
    failed = result.failed
    for i in range(result.size):
        cells = [_cell(v[i]) for v in values]
        n_spikes, rate, first, cv, bursts = (c[i] for c in columns)
        cells.append("" if failed[i] else str(int(n_spikes)))
        cells.extend(_cell(x) for x in (rate, first, cv))
        cells.append("" if failed[i] else str(int(bursts)))
        cells.append("" if result.passed is None else
                     ("true" if result.passed[i] else "false"))
        lines.append(",".join(cells))
    lines.append("")
    return "\n".join(lines).encode("ascii")


def write_sweep(result: SweepResult, out_dir: Path, metric: str = "rate_hz",
                formats: Sequence[str] = ("csv", "png")) -> list[Path]:
    """Write ``NAME_sweep_P.csv`` and the figure (``.png``/``.svg``), atomically."""
    from gifcli import sweep_plots

    metric = resolve_metric(metric)
    return _write_table_and_figure(
        out_dir, sweep_stem(result.preset, result.axes), formats,
        lambda: sweep_csv_bytes(result), lambda: sweep_plots.sweep_figure(result, metric))


def _write_table_and_figure(out_dir: Path, stem: str, formats: Sequence[str],
                            csv_bytes: Callable[[], bytes], figure: Callable[[], Any]
                            ) -> list[Path]:
    """``stem.csv`` and ``stem.png``/``.svg`` as ``formats`` asks; the figure drawn once."""
    from gifcli import files

    files.make_out_dir(out_dir)
    written = []
    if "csv" in formats:
        path = out_dir / f"{stem}.csv"
        files.write_atomic(path, csv_bytes())
        written.append(path)
    figure_formats = [f for f in ("png", "svg") if f in formats]
    if figure_formats:
        from gifcli import sweep_plots

        drawn = figure()
        for fmt in figure_formats:
            written.append(sweep_plots.save(drawn, out_dir / f"{stem}.{fmt}", fmt))
    return written


def sweep_summary(result: SweepResult, metric: str) -> dict:
    """What ``gif sweep --json`` prints: the grid, the metric, and where the check passes."""
    return {
        "name": result.preset.name,
        "source": result.preset.source,
        "method": result.method,
        "dt": result.dt,
        "params": [axis.param for axis in result.axes],
        "values": [axis.values.tolist() for axis in result.axes],
        "metric": metric,
        "metric_values": [None if not math.isfinite(v) else float(v)
                          for v in result.metric(metric)],
        "check": result.preset.check,
        "check_passed": None if result.passed is None else result.passed.tolist(),
        "pass_ranges": [
            {"lo": r.lo, "hi": r.hi, "count": r.count,
             **({} if r.fixed is None else {"fixed": r.fixed})}
            for r in pass_ranges(result)
        ],
        "notes": list(result.notes),
    }


# --- f–I curves -------------------------------------------------------------------------------


FI_START, FI_STOP, FI_NUM = 0.0, 2.0, 201
FI_ZOOM_NUM = 121  # points of the second, finer sweep around each onset of firing
FI_ZOOM_SPAN = 4.0  # the zoom covers the coarse bracket and this many times its width


@dataclass(frozen=True, eq=False)
class FiCurve:
    """One preset's f–I curve, and a finer sweep around its onset of firing (or None)."""

    coarse: SweepResult
    zoom: SweepResult | None


def onset_bracket(result: SweepResult) -> tuple[float, float] | None:
    """(last silent value, first firing value) of the first axis, where firing starts;
    None when the first value already fires or no value does."""
    rate = result.metric("rate_hz")
    fired = np.flatnonzero(rate > 0)
    if fired.size == 0 or fired[0] == 0:
        return None
    values = result.axes[0].values
    return float(values[fired[0] - 1]), float(values[fired[0]])


def fi_curves(presets: Sequence[Preset], start: float = FI_START, stop: float = FI_STOP,
              num: int = FI_NUM, method: str = "exact", dt: float | None = None,
              max_steps: int = DEFAULT_MAX_STEPS, progress: Progress = _quiet,
              zoom: bool = True) -> list[FiCurve]:
    """The rate of each preset against ``input_scale`` (its input times the scale); with
    ``zoom``, also a sweep of FI_ZOOM_NUM points around where firing starts, which shows
    whether the rate rises from 0 continuously (class 1) or jumps (class 2)."""
    axis = Axis(INPUT_SCALE, sweep_values(start, stop, num))
    for preset in presets:  # validate everything first
        check_sweep(preset, [axis])
        check_run_size(preset, effective_dt(preset, dt), max_steps)
    curves = []
    for preset in presets:
        coarse = run_sweep(preset, [axis], method, dt, max_steps, progress)
        bracket = onset_bracket(coarse) if zoom else None
        fine = None
        if bracket is not None:
            lo, hi = bracket
            values = sweep_values(lo, lo + FI_ZOOM_SPAN * (hi - lo), FI_ZOOM_NUM)
            fine = run_sweep(preset, [Axis(INPUT_SCALE, values)], method, dt, max_steps,
                             progress)
        curves.append(FiCurve(coarse, fine))
    return curves


def fi_input(preset: Preset, scale: np.ndarray) -> tuple[np.ndarray, str]:
    """The x axis of an f–I curve: the input amplitude when the preset has one step
    amplitude (scale × amplitude), else the scale itself."""
    amplitudes = {a for a, _ in preset.segments if a != 0.0}
    if len(amplitudes) == 1:
        return scale * amplitudes.pop(), "input amplitude I"
    return scale, INPUT_SCALE


def fi_stem(presets: Sequence[Preset]) -> str:
    """``fi_NAME1_NAME2``, or ``fi_N_presets`` when the names would make a long file name."""
    stem = "fi_" + "_".join(preset.name for preset in presets)
    return stem if len(stem) <= 120 else f"fi_{len(presets)}_presets"


def fi_summary(curve: FiCurve) -> dict:
    """One f–I curve as JSON-ready data: the points, and where firing starts."""
    coarse = curve.coarse
    x, label = fi_input(coarse.preset, coarse.axes[0].values)
    rate = coarse.metric("rate_hz")
    finest = curve.zoom or coarse
    onset = None
    bracket = onset_bracket(finest)
    if bracket is not None:
        fine_rate = finest.metric("rate_hz")
        first = int(np.flatnonzero(fine_rate > 0)[0])
        xf, _ = fi_input(finest.preset, finest.axes[0].values)
        onset = {"last_silent": float(xf[first - 1]), "first_firing": float(xf[first]),
                 "first_rate_hz": float(fine_rate[first])}
    return {
        "name": coarse.preset.name,
        "x": label,
        "input_scale": coarse.axes[0].values.tolist(),
        "input": x.tolist(),
        "rate_hz": [float(r) if math.isfinite(r) else None for r in rate],
        "max_rate_hz": float(np.nanmax(rate)) if np.isfinite(rate).any() else None,
        "onset": onset,
        "method": coarse.method,
        "dt": coarse.dt,
    }


def fi_csv_bytes(curves: Sequence[FiCurve]) -> bytes:
    """One row per preset and input: the coarse sweep, then the finer one (zoom = 1)."""
    lines = ["preset,input_scale,input,n_spikes,rate_hz,first_spike_ms,isi_cv,n_bursts,zoom"]
    for curve in curves:
        for zoom, result in ((0, curve.coarse), (1, curve.zoom)):
            if result is None:
                continue
            scale = result.axes[0].values
            x, _ = fi_input(result.preset, scale)
            metrics = [result.metric(m) for m in ("rate_hz", "first_spike_ms", "isi_cv")]
            for i in range(result.size):
                failed = bool(result.failed[i])
                lines.append(",".join([
                    result.preset.name, _cell(scale[i]), _cell(x[i]),
                    "" if failed else str(int(result.batch.n_spikes[i])),
                    *(_cell(m[i]) for m in metrics),
                    "" if failed else str(int(result.batch.n_bursts[i])), str(zoom)]))
    lines.append("")
    return "\n".join(lines).encode("ascii")


def write_fi(curves: Sequence[FiCurve], out_dir: Path,
             formats: Sequence[str] = ("csv", "png")) -> list[Path]:
    """Write ``fi_NAMES.csv`` and the f–I figure, atomically."""
    from gifcli import sweep_plots

    return _write_table_and_figure(
        out_dir, fi_stem([curve.coarse.preset for curve in curves]), formats,
        lambda: fi_csv_bytes(curves), lambda: sweep_plots.fi_figure(curves))
