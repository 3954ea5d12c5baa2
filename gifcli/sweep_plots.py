"""Figures of sweeps: the raster beside the metric, the 2-D heat maps, and f–I curves.

Matplotlib's object API on the Agg canvas, as in :mod:`gifcli.plots` (same style, same
deterministic encoding through :func:`gifcli.plots.save_figure`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from gifcli.plots import FAIL_COLOR, PNG_DPI, RC, save_figure
from gifcli.sweep import (
    INPUT_SCALE,
    METRIC_LABELS,
    FiCurve,
    SweepResult,
    fi_input,
    resolve_metric,
    sampled_points,
)

PASS_COLOR = "#2e7d32"
NEUTRAL_COLOR = "0.15"
METRIC_COLOR = "#1f4e79"
FI_COLORS = ("#1f4e79", "#d95f02", "#2e7d32", "#7b1fa2", "#c62828", "#00838f", "#6d4c41")
MAX_TICKS = 12
MAX_FI_ZOOMS = 4  # onset panels beside the f–I curves


def save(fig: Figure, path: Path, fmt: str) -> Path:
    return save_figure(fig, path, fmt)


def _title(result: SweepResult) -> str:
    preset = result.preset
    name = f"{preset.letter}  {preset.title}" if preset.letter else preset.title
    swept = " × ".join(axis.param for axis in result.axes)
    return f"{name}: sweep of {swept}"


def _subtitle(result: SweepResult) -> str:
    check = f"check {result.preset.check}" if result.preset.check else "no check"
    points = " × ".join(str(axis.size) for axis in result.axes) + " points"
    shown = sampled_points(result.axes).size
    if len(result.axes) == 1 and shown < result.size:
        points += f" (raster: {shown} of them)"
    return (f"{result.preset.name}  ·  method {result.method}, dt = {result.dt:g} ms  ·  "
            f"{points}  ·  {check}")


def _fmt(value: float) -> str:
    return format(value, ".4g")


def _tick_rows(n: int) -> np.ndarray:
    """Every 1st, 2nd, 5th, 10th, 20th, ... row: at most MAX_TICKS labelled rows."""
    step = next(s * 10**e for e in range(12) for s in (1, 2, 5) if n / (s * 10**e) <= MAX_TICKS)
    return np.arange(0, n, step)


def sweep_figure(result: SweepResult, metric: str = "rate_hz") -> Figure:
    """1-D: raster and metric; 2-D: the metric's heat map and the check's pass map."""
    metric = resolve_metric(metric)
    if len(result.axes) == 2:
        return heatmap_figure(result, metric)
    return raster_figure(result, metric)


def raster_figure(result: SweepResult, metric: str) -> Figure:
    """One row of spike marks per value (stacked by value, lowest at the bottom), and on the
    same rows the metric against the value."""
    import matplotlib

    axis = result.axes[0]
    n = axis.size
    rows = sampled_points(result.axes)
    passed = result.passed
    with matplotlib.rc_context(RC):
        height = 4.6 if len(rows) <= 40 else 6.2
        fig = Figure(figsize=(10.0, height), dpi=PNG_DPI)
        FigureCanvasAgg(fig)
        top = 1.0 - 0.62 / height
        grid = fig.add_gridspec(1, 2, width_ratios=(3.0, 1.25), wspace=0.06, left=0.1,
                                right=0.97, top=top, bottom=0.5 / height + 0.04)
        raster = fig.add_subplot(grid[0])
        side = fig.add_subplot(grid[1], sharey=raster)

        trains = [result.spike_train(int(i)) for i in rows]
        colors = [NEUTRAL_COLOR if passed is None else
                  (PASS_COLOR if passed[i] else FAIL_COLOR) for i in rows]
        # Evenly spaced values: rows sit at the values themselves (plain ticks). A listed,
        # uneven set: rows are stacked one per value, labelled with it.
        even = n > 2 and np.allclose(np.diff(axis.values), axis.values[1] - axis.values[0],
                                     rtol=1e-6, atol=0)
        if even:
            positions = axis.values[rows]
            spacing = (axis.values[-1] - axis.values[0]) / max(len(rows) - 1, 1)
        else:
            spacing = 1.0
            positions = np.arange(len(rows)) * spacing
        raster.eventplot(trains, lineoffsets=positions, linelengths=0.8 * spacing,
                         linewidths=0.9 if len(rows) <= 60 else 0.6, colors=colors)
        end = float(sum(d for _, d in result.preset.segments))
        edges = np.cumsum([d for _, d in result.preset.segments])[:-1]
        for edge in edges:
            raster.axvline(edge, color="0.75", linewidth=0.6, linestyle=(0, (3, 3)), zorder=0)
        raster.set_xlim(0.0, end)
        raster.set_ylim(positions[0] - 0.7 * spacing, positions[-1] + 0.7 * spacing)
        raster.set_xlabel("time (ms)")
        raster.set_ylabel(axis.param if axis.param != INPUT_SCALE else "input_scale (× input)")
        if not even:
            ticks = _tick_rows(len(rows))
            raster.set_yticks(positions[ticks], [_fmt(axis.values[rows[t]]) for t in ticks])
        raster.tick_params(axis="y", length=2)

        values = result.metric(metric)[rows]
        side.plot(values, positions, color=METRIC_COLOR, linewidth=1.0, zorder=2)
        if passed is None:
            side.plot(values, positions, "o", color=METRIC_COLOR, markersize=2.5, zorder=3)
        else:
            ok = passed[rows]
            side.plot(values[ok], positions[ok], "o", color=PASS_COLOR, markersize=2.8,
                      zorder=3)
            side.plot(values[~ok], positions[~ok], "o", markerfacecolor="white",
                      markeredgecolor=FAIL_COLOR, markersize=2.8, markeredgewidth=0.8, zorder=3)
        side.set_xlabel(METRIC_LABELS[metric])
        side.tick_params(labelleft=False)
        side.grid(axis="x", color="0.92", linewidth=0.6)
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            side.text(0.5, 0.5, f"{METRIC_LABELS[metric]}\nundefined everywhere",
                      transform=side.transAxes, ha="center", va="center", color="0.4")
        elif finite.min() >= 0:
            side.set_xlim(left=0.0, right=max(1.0, float(finite.max())) * 1.05)

        fig.text(0.1, 1.0 - 0.22 / height, _title(result), fontsize=12, fontweight="bold",
                 va="center")
        fig.text(0.1, 1.0 - 0.45 / height, _subtitle(result), fontsize=8.5, color="0.3",
                 va="center")
        if passed is not None:
            handles = [Line2D([], [], color=PASS_COLOR, marker="|", linestyle="none",
                              markersize=8, label="check passes"),
                       Line2D([], [], color=FAIL_COLOR, marker="|", linestyle="none",
                              markersize=8, label="check fails")]
            fig.legend(handles=handles, loc="center right", ncol=2, frameon=False,
                       bbox_to_anchor=(0.97, 1.0 - 0.33 / height))
    return fig


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges around grid values (midpoints inside, half a step beyond the ends)."""
    if values.size == 1:
        half = max(abs(values[0]) * 0.05, 0.5)
        return np.array([values[0] - half, values[0] + half])
    mids = (values[1:] + values[:-1]) / 2
    return np.concatenate([[2 * values[0] - mids[0]], mids, [2 * values[-1] - mids[-1]]])


def heatmap_figure(result: SweepResult, metric: str) -> Figure:
    """The metric over the grid (x: first parameter, y: second), and where the check passes."""
    import matplotlib

    first, second = result.axes
    grid_metric = result.metric(metric).reshape(result.shape).T  # rows: second parameter
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(11.0, 4.8), dpi=PNG_DPI)
        FigureCanvasAgg(fig)
        grid = fig.add_gridspec(1, 2, wspace=0.32, left=0.08, right=0.95, top=0.82,
                                bottom=0.13)
        ax = fig.add_subplot(grid[0])
        xe, ye = _edges(first.values), _edges(second.values)
        cmap = matplotlib.colormaps["viridis"].with_extremes(bad="0.85")
        mesh = ax.pcolormesh(xe, ye, np.ma.masked_invalid(grid_metric), cmap=cmap,
                             shading="flat")
        bar = fig.colorbar(mesh, ax=ax, fraction=0.05, pad=0.03)
        bar.set_label(METRIC_LABELS[metric])
        ax.set_xlabel(first.param)
        ax.set_ylabel(second.param)
        ax.set_title(METRIC_LABELS[metric], loc="left", fontsize=10)
        if np.isnan(grid_metric).any():
            ax.legend(handles=[Patch(color="0.85", label="undefined")], loc="upper right",
                      fontsize=7, frameon=True, framealpha=0.8)

        check_ax = fig.add_subplot(grid[1], sharex=ax, sharey=ax)
        if result.passed is None:
            check_ax.text(0.5, 0.5, "this preset has no check", transform=check_ax.transAxes,
                          ha="center", va="center", color="0.4")
        else:
            ok = result.passed.reshape(result.shape).T.astype(float)
            check_ax.pcolormesh(xe, ye, ok, cmap=ListedColormap(["#f4c7c3", "#a5d6a7"]),
                                vmin=0, vmax=1, shading="flat")
            check_ax.legend(handles=[Patch(color="#a5d6a7", label="check passes"),
                                     Patch(color="#f4c7c3", label="check fails")],
                            loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2,
                            frameon=False, borderaxespad=0.2)
        check_ax.set_xlabel(first.param)
        check_ax.tick_params(labelleft=False)
        check_ax.set_title(f"check {result.preset.check}" if result.preset.check else "check",
                           loc="left", fontsize=10)
        if first.size <= MAX_TICKS:
            ax.set_xticks(first.values, [_fmt(v) for v in first.values])
        if second.size <= MAX_TICKS:
            ax.set_yticks(second.values, [_fmt(v) for v in second.values])
        for a in (ax, check_ax):
            a.spines["top"].set_visible(True)
            a.spines["right"].set_visible(True)
        fig.text(0.08, 0.955, _title(result), fontsize=12, fontweight="bold", va="center")
        fig.text(0.08, 0.905, _subtitle(result), fontsize=8.5, color="0.3", va="center")
    return fig


def fi_figure(curves: Sequence[FiCurve]) -> Figure:
    """Steady-state rate against input, one curve per preset; beside it, each onset zoomed."""
    import matplotlib

    zooms = [(k, c) for k, c in enumerate(curves) if c.zoom_scale is not None][:MAX_FI_ZOOMS]
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(11.0 if zooms else 7.5, 5.0), dpi=PNG_DPI)
        FigureCanvasAgg(fig)
        outer = fig.add_gridspec(1, 2 if zooms else 1, width_ratios=(2.0, 1.0) if zooms
                                 else None, wspace=0.18, left=0.07 if zooms else 0.1,
                                 right=0.98, top=0.82, bottom=0.11)
        ax = fig.add_subplot(outer[0])
        for k, curve in enumerate(curves):
            color = FI_COLORS[k % len(FI_COLORS)]
            ax.plot(fi_input(curve.preset, curve.scale), curve.rate, color=color,
                    linewidth=1.3, marker="o", markersize=2.0, label=_preset_label(curve))
            if np.isfinite(curve.onset_scale):
                ax.plot(fi_input(curve.preset, np.array([curve.onset_scale])),
                        [curve.onset_rate], "o", markersize=5, markerfacecolor="none",
                        markeredgecolor=color, markeredgewidth=0.9)
        ax.set_xlabel("input amplitude I (the probe's constant step)")
        ax.set_ylabel("steady-state rate (Hz)")
        ax.set_ylim(bottom=0)
        ax.grid(color="0.92", linewidth=0.6)
        ax.legend(loc="upper left", frameon=False)
        if zooms:
            inner = outer[1].subgridspec(len(zooms), 1, hspace=0.75)
            for row, (k, curve) in enumerate(zooms):
                _draw_onset(fig.add_subplot(inner[row]), curve, FI_COLORS[k % len(FI_COLORS)],
                            last=row == len(zooms) - 1)
        methods = sorted({(c.method, c.dt) for c in curves})
        how = ", ".join(f"{m}, dt = {dt:g} ms" for m, dt in methods)
        fig.text(0.07 if zooms else 0.1, 0.95, "f–I curves: steady-state rate against input",
                 fontsize=12, fontweight="bold", va="center")
        fig.text(0.07 if zooms else 0.1, 0.9, f"method {how}  ·  rate = 1000 / the last "
                 "interval of a 2 s step  ·  circles: the onset found by bisection; right: "
                 "around it", fontsize=8.5, color="0.3", va="center")
    return fig


def _preset_label(curve) -> str:
    preset = curve.preset
    return f"{preset.letter}  {preset.title}" if preset.letter else preset.title


def _draw_onset(ax, curve: FiCurve, color: str, last: bool) -> None:
    """The finer curve centred on the onset, with the onset and its rate marked."""
    x = fi_input(curve.preset, curve.zoom_scale)
    ax.plot(x, curve.zoom_rate, color=color, linewidth=1.1, marker="o", markersize=2.0)
    onset = float(fi_input(curve.preset, np.array([curve.onset_scale]))[0])
    ax.axvline(onset, color="0.6", linewidth=0.7, linestyle=(0, (3, 3)), zorder=0)
    ax.plot([onset], [curve.onset_rate], "o", markersize=5, markerfacecolor="none",
            markeredgecolor="black", markeredgewidth=0.8)
    ax.annotate(f"onset: {curve.onset_rate:.3g} Hz", (onset, curve.onset_rate),
                textcoords="offset points", xytext=(8, 4), fontsize=7.5)
    finite = curve.zoom_rate[np.isfinite(curve.zoom_rate)]
    ax.set_ylim(bottom=0, top=max(1.0, float(finite.max()) if finite.size else 1.0) * 1.25)
    ax.set_title(f"{_preset_label(curve)}: onset", loc="left", fontsize=9, color=color)
    ax.set_ylabel("Hz")
    ax.grid(color="0.92", linewidth=0.6)
    ax.ticklabel_format(axis="x", useOffset=False)
    ax.xaxis.set_major_locator(MaxNLocator(4))
    if last:
        ax.set_xlabel("input amplitude I")
