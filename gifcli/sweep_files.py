"""The files of sweeps and f–I curves: their CSV tables, JSON summaries and figures.

Reads what :mod:`gifcli.sweep` computed; never the other way round. The figures and the
summary are rendered in memory first, so a figure that cannot be drawn leaves no table
behind; the table (up to a million rows) is then streamed to its file a piece at a time.
Every file goes through :func:`gifcli.files.write_atomic`: whole or absent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gifcli import __version__, files
from gifcli.preset import Preset
from gifcli.sweep import (
    COLUMNS,
    FiCurve,
    Progress,
    SweepResult,
    fi_input,
    no_progress,
    pass_ranges,
    resolve_metric,
)
from gifcli.table import table_csv_bytes

COUNTS = ("n_spikes", "n_bursts")
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
    check's verdict and margin (empty cells without a check)."""
    columns = [(axis.param, values) for axis, values in zip(result.axes, result.point_values(),
                                                            strict=True)]
    for name in COLUMNS:
        values = result.columns[name]
        if name in COUNTS:  # whole numbers, empty where the point fired without end
            values = np.ma.masked_invalid(values).astype(np.int64)
        columns.append((name, values))
    if result.passed is None:
        empty = np.full(result.size, np.nan)
        columns += [("check_passed", empty), ("check_margin", empty)]
    else:
        columns += [("check_passed", result.passed), ("check_margin", result.margin)]
    return columns


def sweep_csv_pieces(result: SweepResult, progress: Progress = no_progress):
    """The sweep's CSV, CSV_ROWS_PER_PIECE rows at a time (the header with the first)."""
    columns = sweep_columns(result)
    for lo in range(0, result.size, CSV_ROWS_PER_PIECE):
        hi = min(result.size, lo + CSV_ROWS_PER_PIECE)
        piece = table_csv_bytes([(name, values[lo:hi]) for name, values in columns])
        yield piece if lo == 0 else piece[piece.index(b"\n") + 1:]
        progress("write", hi, result.size)


def sweep_summary(result: SweepResult, metric: str) -> dict[str, Any]:
    """The sweep's JSON summary: the grid, where the check passes, the timings."""
    values = result.metric(metric)
    finite = values[np.isfinite(values)]
    return {
        "name": result.preset.name,
        "source": result.preset.source,
        "method": result.method,
        "dt": result.dt,
        "axes": [{"param": axis.param, "size": axis.size, "values": axis.values.tolist()}
                 for axis in result.axes],
        "points": result.size,
        "metric": metric,
        "metric_range": [float(finite.min()), float(finite.max())] if finite.size else None,
        "check": result.preset.check,
        "n_passed": None if result.passed is None else int(result.passed.sum()),
        "pass_ranges": [
            {"lo": r.lo, "hi": r.hi, "count": r.count,
             **({"fixed": dict(zip([a.param for a in result.axes[1:]], r.fixed, strict=True))}
                if r.fixed else {})}
            for r in pass_ranges(result)
        ],
        "n_failed": int(np.count_nonzero(result.failed)),
        "seconds": {stage: round(s, 6) for stage, s in result.seconds.items()},
        "notes": list(result.notes),
        "version": __version__,
    }


def write_sweep(result: SweepResult, out_dir: Path, metric: str = "rate_hz",
                formats: Sequence[str] = DEFAULT_FORMATS, progress: Progress = no_progress
                ) -> list[Path]:
    """Write ``NAME_sweep_P.csv``, its figures and its JSON summary, as ``formats`` asks."""
    metric = resolve_metric(metric)
    stem = sweep_stem(result.preset, [axis.param for axis in result.axes])

    def figure():
        from gifcli import sweep_plots

        return sweep_plots.sweep_figure(result, metric)

    return _write(out_dir, stem, formats, lambda: sweep_csv_pieces(result, progress), figure,
                  lambda: sweep_summary(result, metric))


def _write(out_dir: Path, stem: str, formats: Sequence[str], csv_pieces, figure, summary
           ) -> list[Path]:
    """Render the figures and the summary, then write the table and them."""
    rendered: list[tuple[Path, Any]] = []
    if "csv" in formats:
        rendered.append((out_dir / f"{stem}.csv", None))  # streamed below
    shown = [fmt for fmt in FIGURE_FORMATS if fmt in formats]
    if shown:
        from gifcli import plots

        drawn = figure()
        rendered.extend((out_dir / f"{stem}.{fmt}", plots.figure_bytes(drawn, fmt))
                        for fmt in shown)
    if "json" in formats:
        rendered.append((out_dir / f"{stem}.json", files.json_bytes(summary())))
    files.make_out_dir(out_dir)
    for path, data in rendered:
        files.write_atomic(path, csv_pieces() if data is None else data)
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
    return {
        "name": curve.preset.name,
        "input_scale": curve.scale.tolist(),
        "input": fi_input(curve.preset, curve.scale).tolist(),
        "rate_hz": _finite_or_none(rate),
        "max_rate_hz": float(np.nanmax(rate)) if np.isfinite(rate).any() else None,
        "onset": onset,
        "zoom": None if curve.zoom_scale is None else {
            "input_scale": curve.zoom_scale.tolist(), "rate_hz": _finite_or_none(curve.zoom_rate)},
        "method": curve.method,
        "dt": curve.dt,
    }


def fi_columns(curves: Sequence[FiCurve]) -> list[tuple[str, np.ndarray]]:
    """preset, input_scale, input, rate_hz, zoom: the curve's points, then its zoom's."""
    names, scales, zooms, rates = [], [], [], []
    for curve in curves:
        for zoom, scale, rate in ((0, curve.scale, curve.rate),
                                  (1, curve.zoom_scale, curve.zoom_rate)):
            if scale is None:
                continue
            names.extend([curve.preset.name] * scale.size)
            scales.append(scale)
            rates.append(rate)
            zooms.append(np.full(scale.size, zoom, dtype=np.int64))
    inputs = [fi_input(curve.preset, s) for curve in curves
              for s in (curve.scale, curve.zoom_scale) if s is not None]
    return [("preset", np.array(names)), ("input_scale", np.concatenate(scales)),
            ("input", np.concatenate(inputs)), ("rate_hz", np.concatenate(rates)),
            ("zoom", np.concatenate(zooms))]


def write_fi(curves: Sequence[FiCurve], out_dir: Path,
             formats: Sequence[str] = DEFAULT_FORMATS) -> list[Path]:
    """Write ``fi_NAMES.csv``, the f–I figure and the JSON summary, as ``formats`` asks."""

    def figure():
        from gifcli import sweep_plots

        return sweep_plots.fi_figure(curves)

    return _write(out_dir, fi_stem([curve.preset for curve in curves]), formats,
                  lambda: [table_csv_bytes(fi_columns(curves))], figure,
                  lambda: {"curves": [fi_summary(c) for c in curves], "version": __version__})
