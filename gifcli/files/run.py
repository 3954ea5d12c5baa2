"""The CSV and JSON files of a run, written atomically and byte-for-byte reproducibly.

Plain Python and NumPy only: no typer, rich or matplotlib here. Every writer goes through
:func:`write_atomic`, so an interrupted run leaves each file either complete or absent.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gifcli.core.errors import OutputError
from gifcli.model.parameters import PARAMETER_NAMES
from gifcli.model.preset import INITIAL_KEYS
from gifcli.simulation.result import Result

CSV_HEADER = "t_ms,V_mV,V_th_mV,I1,I2,I_ext,spike"
#: A spike this close below a grid point (in steps) counts as on it: a fixed-step spike at
#: (k + 1) dt marks row k + 1 itself, not the row after, despite rounding in t / dt.
ON_GRID_STEPS = 1e-9
T_DECIMALS = 9  # t_ms is written rounded to 1e-9 ms


# --- the output folder ------------------------------------------------------------------------


def check_out_dir(path: Path) -> None:
    """Raise OutputError unless ``path`` is, or can be created as, a writable folder.

    Writes nothing: this runs before any simulation so that bad input leaves no trace.
    """
    try:
        _check_out_dir(path)
    except OSError as error:  # a name too long for the file system, a loop of links...
        raise OutputError(f"output folder {path} cannot be used ({error.strerror})") from None


def check_not_inputs(outputs: Sequence[Path], inputs: Sequence[str]) -> None:
    """Refuse to write over a file the command reads (``gif run y.json --out .``)."""
    for output in outputs:
        for source in inputs:
            try:
                same = os.path.samefile(output, source)
            except (OSError, ValueError):
                continue
            if same:
                raise OutputError(f"{output} would overwrite the input file {source}; "
                                  "choose another --out")


def _check_out_dir(path: Path) -> None:
    probe = path
    while not probe.exists():
        if probe.is_symlink():
            raise OutputError(f"output folder {path}: {probe} is a broken symbolic link")
        parent = probe.parent
        if parent == probe:
            break
        probe = parent
    if not probe.is_dir():
        if probe == path:
            raise OutputError(f"output folder {path} is a file, not a folder")
        raise OutputError(f"output folder {path} cannot be created: {probe} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        if probe == path:
            raise OutputError(f"output folder {path} is not writable")
        raise OutputError(f"output folder {path} cannot be created: {probe} is not writable")


def make_out_dir(path: Path) -> Path:
    """Create the output folder (and its parents) if needed; OutputError if that fails."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"output folder {path} cannot be created ({error.strerror})") from None
    return path


# --- CSV --------------------------------------------------------------------------------------


def spike_counts(spike_times: np.ndarray, dt: float, n_steps: int) -> np.ndarray:
    """Per grid row k (t = k dt, k = 0..n_steps), how many spikes fell in (t_{k-1}, t_k].

    The column sums to the number of spikes, even when one step holds two (``exact`` at a
    coarse dt): it counts them, it does not mark them.
    """
    rows = np.ceil(np.asarray(spike_times, dtype=np.float64) / dt - ON_GRID_STEPS)
    return np.bincount(np.clip(rows, 0, n_steps).astype(np.int64), minlength=n_steps + 1)


def csv_bytes(result: Result) -> bytes:
    """The trace as CSV: one row per grid point, ``t_ms`` as k dt rounded to 1e-9 ms (``0.15``,
    not ``0.15000000000000002``), every other float in its shortest exact form."""
    from gifcli.files.table import table_csv_bytes  # numba: not for `gif list --json`

    n_steps = result.t.size - 1
    values = (np.round(result.t, T_DECIMALS), result.V, result.V_th, result.I1, result.I2,
              result.I_ext, spike_counts(result.spike_times, result.dt, n_steps))
    return table_csv_bytes(list(zip(CSV_HEADER.split(","), values, strict=True)))


# --- JSON -------------------------------------------------------------------------------------


def summary(result: Result, features: dict[str, Any], check: dict[str, Any] | None,
            version: str) -> dict[str, Any]:
    """The JSON summary of one run, in a fixed key order (see the README's Output files).

    ``features`` and ``check`` are already JSON-ready (``check`` is None for a preset
    without expectations).
    """
    preset = result.preset
    initial = preset.initial
    return {
        "name": preset.name,
        "title": preset.title,
        "letter": preset.letter,
        "source": preset.source,
        "description": preset.description,
        "method": result.method,
        "dt": result.dt,
        "duration_ms": preset.duration,
        "n_steps": int(result.t.size - 1),
        "params": {name: preset.params[name] for name in PARAMETER_NAMES},
        "initial": {name: initial[name] for name in INITIAL_KEYS},
        "input": [{"amplitude": a, "duration": d} for a, d in preset.segments],
        "spike_times_ms": np.asarray(result.spike_times, dtype=np.float64).tolist(),
        "n_spikes": result.n_spikes,
        "features": features,
        "check": check,
        "overrides": dict(preset.overrides),
        "notes": list(result.notes),
        "version": version,
    }


def json_bytes(data: Any) -> bytes:
    """Deterministic JSON: the given key order, 2-space indent, floats in shortest exact form.

    NaN and infinities are not valid JSON; they become null.
    """
    text = json.dumps(_finite(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    # A file name that is not UTF-8 holds lone surrogates: written as JSON escapes (\udcff)
    return text.encode("utf-8", errors="backslashreplace")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    if isinstance(value, np.generic):
        return _finite(value.item())
    return value
