"""A sweep as a labelled grid in memory: the xarray Dataset that a zarr store or a NetCDF
file holds, and the encoding of its variables.

One dimension per swept quantity, named after it, with its values as the coordinate (and its
unit); one variable per result column and, with a check, ``check_passed`` and
``check_margin``; the preset, method, dt, overrides, command line and version as attributes.
The counts are 32-bit integers with -1 as their fill value (xarray reads them as floats with
NaN there). :mod:`gifcli.files.store` writes exactly this Dataset; ``SweepResult.to_xarray()``
returns it. xarray comes with the ``cluster`` extra.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from gifcli import __version__
from gifcli.explore.sweep.axes import INITIAL_PARAMS, INPUT_SCALE, own_value
from gifcli.explore.sweep.columns import COUNTS, STATUS_NAMES, ChunkResult
from gifcli.explore.sweep.plan import SweepPlan
from gifcli.model.parameters import PARAMETERS

if TYPE_CHECKING:
    from gifcli.explore.sweep.result import SweepResult

COUNT_FILL = -1
# A1, A2, I1 and I2 are in the input's units (docs/model.md): R/tau times one is V/s, so
# they are V/s only where R = tau. "input" alone would read as the quantity's name.
INPUT_UNIT = "input units"
UNITS = {p.name: INPUT_UNIT if p.unit == "input" else p.unit for p in PARAMETERS} | {
    INPUT_SCALE: "1", "initial.V": "mV", "initial.V_th": "mV", "initial.I1": INPUT_UNIT,
    "initial.I2": INPUT_UNIT}
VARIABLE_UNITS = {"rate_hz": "Hz", "first_spike_ms": "ms", "n_spikes": "1", "n_bursts": "1",
                  "isi_cv": "1", "check_margin": "1"}
LONG_NAMES = {"n_spikes": "spikes in the run", "rate_hz": "mean rate",
              "first_spike_ms": "time of the first spike", "isi_cv": "ISI coefficient of "
              "variation", "n_bursts": "bursts", "check_passed": "the check passes",
              "check_margin": "the check's relative margin", "status": "how the point's run ended"}
STATUS_FILL = -1  # an unwritten chunk: xarray reads NaN there, as for the counts


# --- what is stored ---------------------------------------------------------------------------


def variables(checked: bool) -> tuple[str, ...]:
    """The Dataset's variables, in order."""
    return (*("n_spikes", "rate_hz", "first_spike_ms", "isi_cv", "n_bursts"),
            *(("check_passed", "check_margin") if checked else ()), "status")


def variable_dtype(name: str) -> np.dtype:
    if name in COUNTS:
        return np.dtype(np.int32)
    if name == "status":
        return np.dtype(np.int8)
    return np.dtype(bool) if name == "check_passed" else np.dtype(np.float64)


def fill_value(name: str) -> Any:
    if name == "status":
        return STATUS_FILL
    return COUNT_FILL if name in COUNTS else (False if name == "check_passed" else np.nan)


def encoded(chunk: ChunkResult, name: str) -> np.ndarray:
    """One variable of a chunk as stored: the counts as int32 with -1 where undefined."""
    if name == "check_passed":
        return chunk.passed
    if name == "check_margin":
        return chunk.margin
    if name == "status":
        return chunk.status.astype(np.int8)
    values = chunk.columns[name]
    if name in COUNTS:
        return np.where(np.isfinite(values), values, COUNT_FILL).astype(np.int32)
    return values


def decoded(name: str, values: np.ndarray) -> np.ndarray:
    """Stored values as the sweep's columns hold them: counts as float, NaN where -1."""
    if name in COUNTS:
        return np.where(values == COUNT_FILL, np.nan, values.astype(np.float64))
    return values


def variable_encoding(name: str) -> dict[str, Any]:
    if name == "status":
        return {"_FillValue": STATUS_FILL}
    return {"_FillValue": COUNT_FILL} if name in COUNTS else {}


def variable_attrs(name: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {"long_name": LONG_NAMES[name]}
    if name == "status":  # the CF convention for a coded variable
        attrs["flag_values"] = np.array(list(STATUS_NAMES), dtype=np.int8)
        attrs["flag_meanings"] = " ".join(STATUS_NAMES.values())
    if name in VARIABLE_UNITS:
        attrs["units"] = VARIABLE_UNITS[name]
    return attrs


def coords(plan: SweepPlan) -> dict[str, Any]:
    return {axis.param: (axis.param, axis.values,
                         {"units": UNITS[axis.param], "long_name": _long_name(axis.param),
                          "preset_value": _own(plan, axis.param)})
            for axis in plan.axes}


def _long_name(param: str) -> str:
    if param == INPUT_SCALE:
        return "factor on every input amplitude"
    if param in INITIAL_PARAMS:
        return f"initial value of {param.removeprefix('initial.')}"
    return next(p.meaning for p in PARAMETERS if p.name == param)


def _own(plan: SweepPlan, param: str) -> float:
    return own_value(plan.preset, param)


def identity(plan: SweepPlan) -> dict[str, Any]:
    """What makes two stores the same sweep: the preset's numbers, the method and dt, the
    grid (names, sizes and a hash of the values), the chunks and the version."""
    preset = plan.preset
    return {
        "preset": preset.name,
        "params": dict(preset.params),
        "initial": dict(preset.initial_given),
        "input": [list(segment) for segment in preset.segments],
        "check": preset.check,
        "method": plan.method,
        "dt": plan.dt,
        "axes": [axis.param for axis in plan.axes],
        "shape": list(plan.shape),
        "values_sha256": [hashlib.sha256(np.ascontiguousarray(axis.values, "<f8").tobytes())
                          .hexdigest() for axis in plan.axes],
        "chunk_shape": list(plan.chunks.chunk_shape),
        "version": __version__,
    }


def attributes(plan: SweepPlan, command: str) -> dict[str, Any]:
    """The Dataset's attributes (strings and numbers only, as NetCDF allows)."""
    preset = plan.preset
    return {
        "title": f"gifcli sweep of {preset.name}: " + " × ".join(a.param for a in plan.axes),
        "preset": preset.name,
        "preset_title": preset.title,
        "source": preset.source,
        "check": preset.check or "",
        "method": plan.method,
        "dt_ms": plan.dt,
        "duration_ms": preset.duration,
        "overrides": json.dumps(preset.overrides),
        "command": command,
        "version": __version__,
        "gifcli_sweep": json.dumps(identity(plan)),
    }


def dataset(result: SweepResult, plan: SweepPlan, command: str):
    """The whole sweep as an in-memory xarray Dataset (grids of up to MAX_POINTS points)."""
    import xarray as xr

    chunk = ChunkResult(result.columns, result.status, result.passed, result.margin, {})
    dims = [axis.param for axis in plan.axes]
    data = {name: (dims, encoded(chunk, name).reshape(plan.shape), variable_attrs(name))
            for name in variables(plan.checked)}
    ds = xr.Dataset(data, coords=coords(plan), attrs=attributes(plan, command))
    for name in variables(plan.checked):
        ds[name].encoding.update(variable_encoding(name))
    return ds
