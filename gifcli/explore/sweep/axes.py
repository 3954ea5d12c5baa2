"""The values of a sweep's axes: what may be swept, how the user writes an axis, and the checks
that a grid is valid before anything runs.

A swept quantity is a model parameter, ``input_scale`` (which multiplies every amplitude of the
schedule) or an initial value (``initial.V``). Its values are a linear, inclusive range or an
explicit list. Every error names the option that gave the value, so the user knows what to fix.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gifcli.core.arguments import shown
from gifcli.core.errors import GifError, PresetError
from gifcli.core.numbers import not_finite, number_from_text
from gifcli.model.parameters import PARAMETER_NAMES, parameter_problem
from gifcli.model.preset import INITIAL_KEYS, Preset

INPUT_SCALE = "input_scale"
INITIAL_PARAMS = tuple(f"initial.{key}" for key in INITIAL_KEYS)
SWEEPABLE: tuple[str, ...] = (*PARAMETER_NAMES, INPUT_SCALE, *INITIAL_PARAMS)
MAX_AXES = 3
MAX_AXIS_VALUES = 1_000_000  # values of one axis
MAX_POINTS = 1_000_000  # grid points of a sweep held in memory (CSV, NetCDF)
MAX_STORED_POINTS = 1_000_000_000  # grid points of a sweep written chunk by chunk (zarr)


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
        return _increasing(array, values_opt)
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
    if num > 1 and start == stop:
        raise PresetError(num_opt, None, f"must be 1 when {start_opt} = {stop_opt} "
                                         f"({start:g}): more would repeat one value")
    if num == 1:
        return np.array([float(start)])
    start, stop = float(start), float(stop)
    step = stop / (num - 1) - start / (num - 1)  # finite even where stop - start is not
    if math.isfinite(stop - start):
        values = _tidy(np.linspace(start, stop, num), step)
    else:  # beyond ±1.8e308 the span overflows: weigh the two ends instead of adding steps
        weight = np.arange(num) / (num - 1)
        values = _tidy(start * (1.0 - weight) + stop * weight, step)
    return _increasing(values, num_opt)


def _increasing(values: np.ndarray, option: str) -> np.ndarray:
    """``values`` if strictly increasing: an axis is a coordinate, each value once and in
    order, so that its columns, figures and store index line up (docs/sweeps.md)."""
    rises = values[1:] > values[:-1]  # not np.diff: the step between ±1e308 overflows
    if not np.all(rises):
        k = int(np.argmax(~rises))
        before, after = values[k], values[k + 1]
        if before == after:
            raise PresetError(option, None, f"has {before:g} twice (values {k + 1} and {k + 2}); "
                                            "give each value once")
        raise PresetError(option, None, f"must be in increasing order, got {before:g} before "
                                        f"{after:g}")
    return values


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
    values: np.ndarray  # any sequence of numbers is taken, and held as a float64 array

    def __post_init__(self) -> None:
        if not isinstance(self.param, str):
            raise PresetError("Axis", None, f"the name must be text, got {shown(self.param)}")
        resolve_param(self.param, "Axis")
        object.__setattr__(self, "values", _axis_values(self.param, self.values))

    @property
    def size(self) -> int:
        return int(self.values.size)


def _axis_values(param: str, values: object) -> np.ndarray:
    """The values of ``Axis(param, values)`` as a 1-D float64 array, validated."""
    where = f"Axis({param!r})"
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise PresetError(where, None, f"values must be a sequence of numbers, got "
                                       f"{type(values).__name__}") from None
    if array.ndim != 1:
        raise PresetError(where, None, f"values must be a flat sequence of numbers, got "
                                       f"{array.ndim} dimensions")
    return sweep_values(values=array, names=where)


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
