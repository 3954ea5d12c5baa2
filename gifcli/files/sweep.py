"""The files of sweeps and f–I curves: their CSV tables, JSON summaries, figures and
NetCDF grids.

Reads what :mod:`gifcli.explore.sweep` computed (and :mod:`gifcli.files.store` stored); never the
other way round. Every output is rendered in memory first (figures, summary, NetCDF), and
the table (up to a million rows) is streamed to its temporary file before any file is
renamed into place: a figure that cannot be drawn leaves no table behind. The files go
through :func:`gifcli.files.write_files`: all of them or, after an error such as a full
disk, none. (A zarr store is written while
the sweep runs, chunk by chunk; see :mod:`gifcli.files.store`.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gifcli import __version__, files
from gifcli.explore.sweep import (
    COLUMNS,
    COUNTS,
    STATUS_NAMES,
    FiCurve,
    GridView,
    Progress,
    SweepResult,
    fi_input,
    no_progress,
    pass_ranges,
    resolve_metric,
)
from gifcli.files.table import table_csv_bytes
from gifcli.model.preset import Preset

FIGURE_FORMATS = ("png", "svg", "pdf")
DEFAULT_FORMATS = ("csv", "png")
CSV_ROWS_PER_PIECE = 1 << 14  # rows formatted and written at a time: a few MB in memory


def sweep_stem(preset: Preset, params: Sequence[str]) -> str:
    """``NAME_sweep_P`` (one axis), ``NAME_sweep_P_Q`` (two), ..."""
    return f"{preset.name}_sweep_" + "_".join(params)


def _finite_or_none(values: np.ndarray) -> list[float | None]:
    return [None if not math.isfinite(v) else float(v) for v in values]


# --- sweeps ---------------------------------------------------------------------------------------


def sweep_columns(result: SweepResult) -> list[tuple[str, np.ndarray]]:
    """The CSV's columns: one per swept quantity (named after it), then COLUMNS, then the
    check's verdict and margin (empty cells without a check, and where the point
    overflowed: no verdict), then the point's status (STATUS_NAMES)."""
    columns = [(axis.param, values) for axis, values in zip(result.axes, result.point_values(),
                                                            strict=True)]
    for name in COLUMNS:
        values = result.columns[name]
        if name in COUNTS:  # whole numbers, empty where the point has none
            known = np.isfinite(values)
            values = np.ma.masked_array(np.where(known, values, 0).astype(np.int64),
                                        mask=~known)
        columns.append((name, values))
    if result.passed is None:
        empty = np.full(result.size, np.nan)
        columns += [("check_passed", empty), ("check_margin", empty)]
    else:
        columns += [("check_passed", np.ma.masked_array(result.passed, mask=result.overflowed)),
                    ("check_margin", result.margin)]
    names = np.array(list(STATUS_NAMES.values()))
    codes = np.searchsorted(np.array(list(STATUS_NAMES)), result.status)
    columns.append(("status", names[codes]))
    return columns


def sweep_csv_pieces(result: SweepResult, progress: Progress = no_progress):
    """The sweep's CSV, CSV_ROWS_PER_PIECE rows at a time (the header with the first)."""
    columns = sweep_columns(result)
    for lo in range(0, result.size, CSV_ROWS_PER_PIECE):
        hi = min(result.size, lo + CSV_ROWS_PER_PIECE)
        piece = table_csv_bytes([(name, values[lo:hi]) for name, values in columns])
        yield piece if lo == 0 else piece[piece.index(b"\n") + 1:]
        progress("write", hi, result.size)


def _summary(preset: Preset, method: str, dt: float, axes, metric: str,
             stats: dict[str, Any], ranges: list | None, seconds: dict[str, float],
             notes: Sequence[str], chunks: dict[str, Any]) -> dict[str, Any]:
    low, high = stats[f"{metric}_min"], stats[f"{metric}_max"]
    summary = {
        "name": preset.name,
        "source": preset.source,
        "method": method,
        "dt": dt,
        "overrides": dict(preset.overrides),
        "axes": [{"param": axis.param, "size": axis.size, "values": axis.values.tolist()}
                 for axis in axes],
        "points": stats["points"],
        "metric": metric,
        "metric_range": None if low is None else [low, high],
        "check": preset.check,
        "n_passed": stats["passed"],
        # The ranges are listed for grids held in memory (up to a million points).
        "pass_ranges": None if ranges is None else [
            {"lo": r.lo, "hi": r.hi, "count": r.count,
             **({"fixed": dict(zip([a.param for a in axes[1:]], r.fixed, strict=True))}
                if r.fixed else {})}
            for r in ranges],
        "n_failed": stats["failed"],
        "n_overflowed": stats["overflowed"],
        "chunks": chunks,
        "seconds": {stage: round(s, 6) for stage, s in seconds.items()},
        "notes": list(notes),
        "version": __version__,
    }
    return summary


def sweep_summary(result: SweepResult, metric: str) -> dict[str, Any]:
    """The sweep's JSON summary: the grid, where the check passes, the chunks, the timings."""
    return _summary(result.preset, result.method, result.dt, result.axes,
                    resolve_metric(metric), result.stats(), pass_ranges(result),
                    result.seconds, result.notes, result.chunks)


def stored_summary(stored, metric: str) -> dict[str, Any]:
    """The summary of a sweep that stays in its store (no pass ranges: a grid that large
    has millions of them; the store holds check_passed for every point)."""
    plan = stored.plan
    return _summary(plan.preset, plan.method, plan.dt, plan.axes, resolve_metric(metric),
                    stored.stats, None, stored.seconds, stored.notes, stored.chunks)


def write_sweep(result: SweepResult, out_dir: Path, metric: str = "rate_hz",
                formats: Sequence[str] = DEFAULT_FORMATS, progress: Progress = no_progress,
                command: str = "") -> list[Path]:
    """Write ``NAME_sweep_P.csv``, its figures, its JSON summary and its NetCDF grid
    (``nc``), as ``formats`` asks. ``command`` is the command line the grid records."""
    metric = resolve_metric(metric)
    stem = sweep_stem(result.preset, [axis.param for axis in result.axes])
    rendered = _render(out_dir, stem, formats, lambda: result.view(metric),
                       lambda: sweep_summary(result, metric))
    if "nc" in formats:
        from gifcli.files import store as sweep_store

        plan = result.plan
        if plan is None:
            raise ValueError("a NetCDF grid needs the sweep's plan (run it with run_sweep)")
        rendered.append((out_dir / f"{stem}.nc", sweep_store.netcdf_bytes(result, plan,
                                                                          command)))
    if "csv" in formats:
        rendered.insert(0, (out_dir / f"{stem}.csv", lambda: sweep_csv_pieces(result,
                                                                             progress)))
    return _write(out_dir, rendered)


def write_stored(stored, out_dir: Path, metric: str = "rate_hz",
                 formats: Sequence[str] = DEFAULT_FORMATS) -> list[Path]:
    """The figures and JSON summary of a sweep that stays in its zarr store."""
    metric = resolve_metric(metric)
    stem = sweep_stem(stored.plan.preset, [axis.param for axis in stored.plan.axes])
    return _write(out_dir, _render(out_dir, stem, formats, lambda: stored.view(metric),
                                   lambda: stored_summary(stored, metric)))


def _render(out_dir: Path, stem: str, formats: Sequence[str], view: Callable[[], GridView],
            summary: Callable[[], dict[str, Any]]) -> list[tuple[Path, Any]]:
    """The figures and the summary as bytes, by file."""
    rendered: list[tuple[Path, Any]] = []
    shown = [fmt for fmt in FIGURE_FORMATS if fmt in formats]
    if shown:
        from gifcli import plots
        from gifcli.plots import sweep as sweep_plots

        drawn = sweep_plots.sweep_figure(view())
        rendered.extend((out_dir / f"{stem}.{fmt}", plots.figure_bytes(drawn, fmt))
                        for fmt in shown)
    if "json" in formats:
        rendered.append((out_dir / f"{stem}.json", files.json_bytes(summary())))
    return rendered


def _write(out_dir: Path, rendered: list[tuple[Path, Any]]) -> list[Path]:
    """Write each file: bytes, or a function that gives its pieces (streamed); all of them
    or, after an error (a full disk), none (files.write_files)."""
    files.make_out_dir(out_dir)
    files.write_files([(path, data() if callable(data) else data) for path, data in rendered])
    return [path for path, _ in rendered]


# --- f–I curves -----------------------------------------------------------------------------------


def fi_stem(presets: Sequence[Preset]) -> str:
    """``fi_NAME1_NAME2``, or ``fi_N_presets`` when the names would make a long file name."""
    stem = "fi_" + "_".join(preset.name for preset in presets)
    return stem if len(stem) <= 120 else f"fi_{len(presets)}_presets"


def fi_summary(curve: FiCurve) -> dict[str, Any]:
    """One f–I curve as JSON-ready data: the points, and where sustained firing starts."""
    onset = None
    if math.isfinite(curve.onset_scale):
        onset = {"input_scale": curve.onset_scale,
                 "input": float(fi_input(curve.preset, np.array([curve.onset_scale]))[0]),
                 "rate_hz": curve.onset_rate}
    rate = curve.rate
    zoom_status = None if curve.zoom_rate is None else _fi_status(curve.zoom_rate)
    return {
        "name": curve.name or curve.preset.name,
        "source": curve.preset.source,
        "input_scale": curve.scale.tolist(),
        "input": fi_input(curve.preset, curve.scale).tolist(),
        "rate_hz": _finite_or_none(rate),
        "status": _fi_status(rate).tolist(),
        "max_rate_hz": float(np.nanmax(rate)) if np.isfinite(rate).any() else None,
        "onset": onset,
        "zoom": None if curve.zoom_scale is None else {
            "input_scale": curve.zoom_scale.tolist(), "rate_hz": _finite_or_none(curve.zoom_rate),
            "status": zoom_status.tolist()},
        "method": curve.method,
        "dt": curve.dt,
    }


def _fi_status(rate: np.ndarray) -> np.ndarray:
    """``ok``, or ``runaway`` where the point has no rate (see FiCurve.runaway)."""
    return np.where(np.isnan(rate), "runaway", "ok")


def fi_columns(curves: Sequence[FiCurve]) -> list[tuple[str, np.ndarray]]:
    """preset, input_scale, input, rate_hz, zoom, status: the curve's points, then its
    zoom's."""
    names, scales, zooms, rates = [], [], [], []
    for curve in curves:
        for zoom, scale, rate in ((0, curve.scale, curve.rate),
                                  (1, curve.zoom_scale, curve.zoom_rate)):
            if scale is None:
                continue
            names.extend([curve.name or curve.preset.name] * scale.size)
            scales.append(scale)
            rates.append(rate)
            zooms.append(np.full(scale.size, zoom, dtype=np.int64))
    inputs = [fi_input(curve.preset, s) for curve in curves
              for s in (curve.scale, curve.zoom_scale) if s is not None]
    return [("preset", np.array(names)), ("input_scale", np.concatenate(scales)),
            ("input", np.concatenate(inputs)), ("rate_hz", np.concatenate(rates)),
            ("zoom", np.concatenate(zooms)), ("status", _fi_status(np.concatenate(rates)))]


def write_fi(curves: Sequence[FiCurve], out_dir: Path,
             formats: Sequence[str] = DEFAULT_FORMATS) -> list[Path]:
    """Write ``fi_NAMES.csv``, the f–I figure and the JSON summary, as ``formats`` asks."""
    stem = fi_stem([curve.preset for curve in curves])
    rendered: list[tuple[Path, Any]] = []
    if "csv" in formats:
        rendered.append((out_dir / f"{stem}.csv", table_csv_bytes(fi_columns(curves))))
    shown = [fmt for fmt in FIGURE_FORMATS if fmt in formats]
    if shown:
        from gifcli import plots
        from gifcli.plots import sweep as sweep_plots

        drawn = sweep_plots.fi_figure(curves)
        rendered.extend((out_dir / f"{stem}.{fmt}", plots.figure_bytes(drawn, fmt))
                        for fmt in shown)
    if "json" in formats:
        rendered.append((out_dir / f"{stem}.json", files.json_bytes(fi_document(curves))))
    return _write(out_dir, rendered)


def fi_document(curves: Sequence[FiCurve]) -> dict[str, Any]:
    """The f–I JSON summary: every curve, and the version."""
    return {"curves": [fi_summary(c) for c in curves], "version": __version__}
