"""Figures of sweeps: the raster beside the metric, 2-D heat maps, their small multiples along
a third axis, and f–I curves.

Matplotlib's object API on the Agg canvas, as in :mod:`gifcli.plots.pattern` (same style, same
deterministic encoding through :func:`gifcli.plots.pattern.save_figure`). A figure is drawn from a
:class:`gifcli.explore.sweep.GridView`, the points it shows, so a grid of a billion points is drawn
from a few thousand of them. Pass and fail are blue and orange (told apart with any colour
vision, and in grey); an axis whose values are uneven or beyond what matplotlib can place
(±1e300) is drawn one cell per value, labelled with the values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap, Normalize, SymLogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, MaxNLocator

from gifcli.explore.sweep import (
    COUNTS,
    INITIAL_PARAMS,
    INPUT_SCALE,
    METRIC_LABELS,
    FiCurve,
    GridView,
    SweepResult,
    own_value,
    resolve_metric,
)
from gifcli.explore.sweep.dataset import UNITS as DATA_UNITS
from gifcli.explore.sweep.fi import fi_drive
from gifcli.plots.pattern import PNG_DPI, isolated_style, new_figure, save_figure

PASS_COLOR = "#0072B2"  # Okabe–Ito blue and orange: distinct for every colour vision
FAIL_COLOR = "#E69F00"
NEUTRAL_COLOR = "0.15"
METRIC_COLOR = "0.25"
OWN_COLOR = "#CC0077"  # the preset's own value
NO_VALUE_COLOR = "0.86"  # a metric without a value (no spike, too few intervals)
FAILED_COLOR = "0.55"  # a point with no numbers: fired without end, or overflowed
MAX_TICKS = 12
MAX_COUNT_BINS = 12  # a whole-number metric's colour bar: one band per value up to this
PANEL_COLUMNS = 4  # small multiples per row
LARGEST_PLACED = 1e300  # beyond this, values are drawn one cell each (matplotlib overflows)
UNITS = DATA_UNITS | {INPUT_SCALE: ""}  # the store's units; a scale has none to print
#: A rate scale above this many Hz is logarithmic beyond RATE_LINEAR_HZ: a few points at
#: 1,000 Hz would otherwise leave the 0–100 Hz structure one colour.
RATE_LOG_ABOVE_HZ, RATE_LINEAR_HZ = 200.0, 10.0
RATE_TICKS = (0, 10, 30, 100, 300, 1000, 3000, 10000)
NO_VALUE = {"first_spike_ms": "no spike", "isi_cv": "fewer than 3 spikes",
            "rate_hz": "no value", "n_spikes": "no value", "n_bursts": "no value"}


def save(fig: Figure, path: Path, fmt: str) -> Path:
    return save_figure(fig, path, fmt)


def axis_label(param: str) -> str:
    """A swept quantity with its unit: ``a (1/ms)``, ``input_scale (× the input)``."""
    if param == INPUT_SCALE:
        return "input_scale (× the preset's input)"
    unit = UNITS.get(param, "")
    if param in INITIAL_PARAMS or unit:
        return f"{param} ({unit})" if unit else param
    return param


def _fmt(value: float) -> str:
    return format(value, ".4g")


def _title(view: GridView) -> str:
    preset = view.preset
    name = f"{preset.letter}  {preset.title}" if preset.letter else preset.title
    return f"{name}: sweep of " + " × ".join(axis.param for axis in view.axes)


def _subtitle(view: GridView) -> str:
    preset = view.preset
    check = f"check {preset.check}" if preset.check else "no check"
    points = " × ".join(f"{axis.size:,}" for axis in view.axes) + " points"
    drawn = [f"{len(shown):,} of {axis.size:,} values of {axis.param}"
             for axis, shown in zip(view.axes, view.shown, strict=True)
             if len(shown) < axis.size]
    if drawn:
        points += " (drawn: " + ", ".join(drawn) + ")"
    parts = [preset.name, f"method {view.method}, dt = {view.dt:g} ms", points, check]
    if preset.overrides:
        parts.append("set " + ", ".join(f"{k} = {v:g}" for k, v in preset.overrides.items()))
    return "  ·  ".join(parts)


def _heading(fig: Figure, view: GridView, left: float, top_inches: float) -> None:
    height = fig.get_figheight()
    fig.text(left, 1.0 - top_inches / height, _title(view), fontsize=12, fontweight="bold",
             va="center")
    fig.text(left, 1.0 - (top_inches + 0.23) / height, _subtitle(view), fontsize=8.5,
             color="0.3", va="center")


# --- where the values of an axis sit ------------------------------------------------------------


def _placeable(values: np.ndarray) -> bool:
    """Evenly spaced, increasing, and small enough for matplotlib to place by value."""
    if values.size < 2 or not np.all(np.abs(values) <= LARGEST_PLACED):
        return values.size == 1 and abs(float(values[0])) <= LARGEST_PLACED
    steps = np.diff(values)
    return bool(np.all(steps > 0) and np.allclose(steps, steps[0], rtol=1e-6, atol=0))


def _positions(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """Where each value is drawn: at the value itself, or at its index (uneven, huge)."""
    if _placeable(values):
        return values.astype(np.float64), True
    return np.arange(values.size, dtype=np.float64), False


def _edges(positions: np.ndarray) -> np.ndarray:
    """Cell edges around positions (midpoints inside, half a step beyond the ends)."""
    if positions.size == 1:
        half = max(abs(positions[0]) * 0.05, 0.5)
        return np.array([positions[0] - half, positions[0] + half])
    mids = positions[1:] / 2 + positions[:-1] / 2
    return np.concatenate([[positions[0] - (mids[0] - positions[0])], mids,
                           [positions[-1] + (positions[-1] - mids[-1])]])


def _label_by_index(ax, which: str, values: np.ndarray, positions: np.ndarray) -> None:
    """Ticks at some of the cells of an axis drawn by index, labelled with their values."""
    ticks = _tick_rows(values.size)
    locator = FixedLocator(positions[ticks])
    target = ax.yaxis if which == "y" else ax.xaxis
    target.set_major_locator(locator)
    target.set_ticklabels([_fmt(values[t]) for t in ticks])


def _tick_rows(n: int) -> np.ndarray:
    """Every 1st, 2nd, 5th, 10th, 20th, ... row: at most MAX_TICKS labelled rows."""
    step = next(s * 10**e for e in range(12) for s in (1, 2, 5) if n / (s * 10**e) <= MAX_TICKS)
    return np.arange(0, n, step)


def _own_position(view: GridView, axis: int, positions: np.ndarray, by_value: bool
                  ) -> float | None:
    """Where the preset's own value falls on a drawn axis (None outside it)."""
    values = view.values(axis)
    own = own_value(view.preset, view.axes[axis].param)
    if by_value:
        return own if values[0] <= own <= values[-1] else None
    exact = np.flatnonzero(values == own)
    return float(positions[exact[0]]) if exact.size else None


# --- a metric in colour ---------------------------------------------------------------------


def _metric_colours(name: str, values: np.ndarray):
    """(colour map, norm, colour bar ticks or None) for a metric's values: a whole-number
    metric gets one band per value (or per few values), a continuous one a smooth scale."""
    import matplotlib

    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    base = matplotlib.colormaps["viridis"]
    if name == "rate_hz" and lo >= 0 and hi > RATE_LOG_ABOVE_HZ:
        ticks = np.array([t for t in RATE_TICKS if t <= hi])
        return base, SymLogNorm(RATE_LINEAR_HZ, vmin=0.0, vmax=hi, base=10), ticks
    if name not in COUNTS:
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        return base, Normalize(lo, hi), None
    lo, hi = math.floor(lo), math.ceil(hi)
    if hi - lo < MAX_COUNT_BINS:
        bounds = np.arange(lo, hi + 2) - 0.5
        ticks = np.arange(lo, hi + 1)
    else:
        bounds = MaxNLocator(nbins=MAX_COUNT_BINS, integer=True).tick_values(lo, hi + 1)
        ticks = bounds
    colours = ListedColormap(base(np.linspace(0, 1, max(1, bounds.size - 1))))
    return colours, BoundaryNorm(bounds, colours.N), ticks


def _undefined(view: GridView) -> tuple[np.ndarray, np.ndarray]:
    """Masks over the drawn points: no metric value (silent, too few spikes), and no
    numbers at all (fired without end or overflowed: view.failure says which)."""
    empty = ~np.isfinite(view.metric)
    return empty & ~view.failed, empty & view.failed


# --- 1-D: the raster beside the metric -------------------------------------------------------


def sweep_figure(view: GridView | SweepResult, metric: str = "rate_hz") -> Figure:
    """1-D: raster and metric; 2-D: the metric's heat map and the check's pass map; 3-D:
    those maps as small multiples along the third axis."""
    if isinstance(view, SweepResult):
        view = view.view(resolve_metric(metric))
    if len(view.axes) == 1:
        return raster_figure(view)
    if len(view.axes) == 2:
        return heatmap_figure(view)
    return panels_figure(view)


def raster_figure(view: GridView) -> Figure:
    """One row of spike marks per value (stacked by value, lowest at the bottom), and on the
    same rows the metric against the value."""

    axis = view.axes[0]
    rows = view.shown[0]
    values = view.values(0)
    passed = view.passed
    with isolated_style():
        height = 4.6 if len(rows) <= 40 else 6.2
        fig = new_figure(figsize=(10.0, height), dpi=PNG_DPI)
        grid = fig.add_gridspec(1, 2, width_ratios=(3.0, 1.25), wspace=0.06, left=0.1,
                                right=0.97, top=1.0 - 0.72 / height, bottom=0.5 / height + 0.04)
        raster = fig.add_subplot(grid[0])
        side = fig.add_subplot(grid[1], sharey=raster)
        positions, by_value = _positions(values)
        spacing = (positions[-1] / 2 - positions[0] / 2) / max(len(rows) - 1, 1) * 2 or 1.0
        trains = [view.samples[int(i)] for i in rows]
        colours = [NEUTRAL_COLOR if passed is None else (PASS_COLOR if ok else FAIL_COLOR)
                   for ok in (passed if passed is not None else [None] * len(rows))]
        raster.eventplot(trains, lineoffsets=positions, linelengths=0.8 * spacing,
                         linewidths=0.9 if len(rows) <= 60 else 0.6, colors=colours)
        segments = view.preset.segments
        for edge in np.cumsum([d for _, d in segments])[:-1]:
            raster.axvline(edge, color="0.75", linewidth=0.6, linestyle=(0, (3, 3)), zorder=0)
        raster.set_xlim(0.0, float(sum(d for _, d in segments)))
        raster.set_ylim(positions[0] - 0.7 * spacing, positions[-1] + 0.7 * spacing)
        raster.set_xlabel("time (ms)")
        raster.set_ylabel(axis_label(axis.param))
        if not by_value:
            _label_by_index(raster, "y", values, positions)
        raster.tick_params(axis="y", length=2)
        _draw_side(side, view, positions)
        own = _own_position(view, 0, positions, by_value)
        handles = []
        if own is not None:
            for ax in (raster, side):
                ax.axhline(own, color=OWN_COLOR, linewidth=0.8, linestyle=(0, (1, 1.5)),
                           zorder=1)
            handles.append(Line2D([], [], color=OWN_COLOR, linewidth=0.8,
                                  linestyle=(0, (1, 1.5)), label="the preset's own value"))
        if passed is not None:
            handles += [Line2D([], [], color=c, marker="|", linestyle="none", markersize=8,
                               label=label)
                        for c, label in ((PASS_COLOR, "check passes"),
                                         (FAIL_COLOR, "check fails"))]
        fig.legend(handles=handles, loc="center right", ncol=3, frameon=False,
                   bbox_to_anchor=(0.97, 1.0 - 0.58 / height))
        _heading(fig, view, 0.1, 0.2)
    return fig


def _draw_side(side, view: GridView, positions: np.ndarray) -> None:
    """The metric against the value, on the raster's rows; points without a value sit in a
    column of their own past the axis' end ("no spike"), as do those that fired without end."""
    values = view.metric
    name = view.metric_name
    no_value, failed = _undefined(view)
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    lo = min(lo, 0.0) if lo >= 0 else lo
    span = max(hi - lo, 1e-9 * max(abs(hi), 1.0), 1e-12)
    side.plot(values, positions, color=METRIC_COLOR, linewidth=1.0, zorder=2)
    ok = view.passed if view.passed is not None else np.ones(values.size, bool)
    face = {True: PASS_COLOR if view.passed is not None else METRIC_COLOR, False: "white"}
    for state in (True, False):
        chosen = ok == state
        side.plot(values[chosen], positions[chosen], "o", markersize=2.8,
                  markerfacecolor=face[state], markeredgewidth=0.8, zorder=3,
                  markeredgecolor=PASS_COLOR if state and view.passed is not None else
                  (FAIL_COLOR if view.passed is not None else METRIC_COLOR))
    ticks = [t for t in MaxNLocator(4).tick_values(lo, hi)
             if lo - 1e-9 * span <= t <= hi + 1e-9 * span]
    labels = [_fmt(t) for t in ticks]
    plain = len(ticks)
    right = hi
    for mask, label, colour in ((no_value, NO_VALUE[name], NO_VALUE_COLOR),
                                (failed, view.failure, FAILED_COLOR)):
        if mask.any():
            right += 0.22 * span
            side.plot(np.full(mask.sum(), right), positions[mask], "x", color="0.35",
                      markersize=3.2, markeredgewidth=0.8, zorder=3)
            side.axvspan(right - 0.09 * span, right + 0.09 * span, color=colour, alpha=0.5,
                         linewidth=0, zorder=0)
            ticks.append(right)
            labels.append(label)
    side.set_xlim(lo - 0.04 * span, right + 0.12 * span)
    side.set_xticks(ticks, labels)
    for tick in side.get_xticklabels()[plain:]:  # the columns of points without a value
        tick.set_rotation(25)
        tick.set_horizontalalignment("right")
    side.set_xlabel(METRIC_LABELS[name])
    side.tick_params(labelleft=False)
    side.grid(axis="x", color="0.92", linewidth=0.6)
    if not finite.size and not (no_value.any() or failed.any()):
        side.text(0.5, 0.5, f"{METRIC_LABELS[name]}\nundefined everywhere",
                  transform=side.transAxes, ha="center", va="center", color="0.4")


# --- 2-D: heat maps ---------------------------------------------------------------------------


class _Map:
    """How the drawn part of a 2-D grid (or of one small multiple) sits on its axes."""

    def __init__(self, view: GridView):
        xv, yv = view.values(0), view.values(1)
        (self.x, self.x_by_value), (self.y, self.y_by_value) = _positions(xv), _positions(yv)
        self.xe, self.ye = _edges(self.x), _edges(self.y)
        self.own = (_own_position(view, 0, self.x, self.x_by_value),
                    _own_position(view, 1, self.y, self.y_by_value))
        self.view = view

    def axes_labels(self, ax, x_label: bool, y_label: bool, few: bool = False) -> None:
        """Ticks (``few`` for a small multiple), axis labels where asked, and limits."""
        view = self.view
        for which, values, positions, by_value, shown in (
                ("x", view.values(0), self.x, self.x_by_value, x_label),
                ("y", view.values(1), self.y, self.y_by_value, y_label)):
            if not by_value:
                _label_by_index(ax, which, values, positions)
            elif values.size <= (4 if few else MAX_TICKS):
                (ax.set_xticks if which == "x" else ax.set_yticks)(
                    positions, [_fmt(v) for v in values])
            elif few:
                (ax.xaxis if which == "x" else ax.yaxis).set_major_locator(MaxNLocator(4))
            if shown:
                label = axis_label(view.axes[0 if which == "x" else 1].param)
                (ax.set_xlabel if which == "x" else ax.set_ylabel)(label)
        ax.set_xlim(self.xe[0], self.xe[-1])
        ax.set_ylim(self.ye[0], self.ye[-1])
        ax.spines["top"].set_visible(True)
        ax.spines["right"].set_visible(True)

    def mark_own(self, ax) -> bool:
        """The preset's own point (or line, when only one of its values is on the grid)."""
        x, y = self.own
        if x is not None and y is not None:
            ax.plot([x], [y], marker="*", markersize=9, color=OWN_COLOR,
                    markeredgecolor="white", markeredgewidth=0.7, zorder=5, clip_on=False)
        elif x is not None:
            ax.axvline(x, color=OWN_COLOR, linewidth=0.9, linestyle=(0, (1, 1.5)), zorder=5)
        elif y is not None:
            ax.axhline(y, color=OWN_COLOR, linewidth=0.9, linestyle=(0, (1, 1.5)), zorder=5)
        return x is not None or y is not None


def _draw_metric(ax, geometry: _Map, metric: np.ndarray, no_value: np.ndarray,
                 failed: np.ndarray, cmap, norm):
    """The metric's cells, with its undefined cells in greys of their own."""
    grey = np.where(failed, 1.0, np.where(no_value, 0.0, np.nan)).T
    ax.pcolormesh(geometry.xe, geometry.ye, np.ma.masked_invalid(grey),
                  cmap=ListedColormap([NO_VALUE_COLOR, FAILED_COLOR]), vmin=0, vmax=1,
                  shading="flat")
    return ax.pcolormesh(geometry.xe, geometry.ye, np.ma.masked_invalid(metric.T), cmap=cmap,
                         norm=norm, shading="flat")


def _draw_check(ax, geometry: _Map, passed: np.ndarray | None) -> None:
    if passed is None:
        ax.text(0.5, 0.5, "this preset has no check", transform=ax.transAxes, ha="center",
                va="center", color="0.4")
        return
    ax.pcolormesh(geometry.xe, geometry.ye, passed.T.astype(float),
                  cmap=ListedColormap([FAIL_COLOR, PASS_COLOR]), vmin=0, vmax=1,
                  shading="flat")


def _legend_handles(view: GridView, own: bool, check: bool) -> list:
    no_value, failed = _undefined(view)
    handles = []
    if check and view.passed is not None:
        handles += [Patch(color=PASS_COLOR, label="check passes"),
                    Patch(color=FAIL_COLOR, label="check fails")]
    if no_value.any():
        handles.append(Patch(color=NO_VALUE_COLOR, label=NO_VALUE[view.metric_name]))
    if failed.any():
        handles.append(Patch(color=FAILED_COLOR, label=view.failure))
    if own:
        handles.append(Line2D([], [], marker="*", color=OWN_COLOR, linestyle="none",
                              markersize=8, label="the preset's own values"))
    return handles


def _colour_bar(fig, mappable, axes, view: GridView, ticks, cax=None) -> None:
    bar = (fig.colorbar(mappable, cax=cax) if cax is not None else
           fig.colorbar(mappable, ax=axes, fraction=0.05, pad=0.03))
    bar.set_label(METRIC_LABELS[view.metric_name])
    if ticks is not None:
        bar.set_ticks(ticks)
        bar.set_ticklabels([f"{t:.0f}" for t in ticks])
        bar.minorticks_off()


def heatmap_figure(view: GridView) -> Figure:
    """The metric over the grid (x: first parameter, y: second), and where the check passes."""

    geometry = _Map(view)
    no_value, failed = _undefined(view)
    cmap, norm, ticks = _metric_colours(view.metric_name, view.metric)
    with isolated_style():
        fig = new_figure(figsize=(11.0, 5.0), dpi=PNG_DPI)
        grid = fig.add_gridspec(1, 2, wspace=0.32, left=0.08, right=0.95, top=0.8,
                                bottom=0.13)
        ax = fig.add_subplot(grid[0])
        mesh = _draw_metric(ax, geometry, view.metric, no_value, failed, cmap, norm)
        _colour_bar(fig, mesh, ax, view, ticks)
        ax.set_title(METRIC_LABELS[view.metric_name], loc="left", fontsize=10)
        check_ax = fig.add_subplot(grid[1], sharex=ax, sharey=ax)
        _draw_check(check_ax, geometry, view.passed)
        check_ax.set_title(f"check {view.preset.check}" if view.preset.check else "check",
                           loc="left", fontsize=10)
        geometry.axes_labels(ax, True, True)
        geometry.axes_labels(check_ax, True, False)
        check_ax.tick_params(labelleft=False)
        own = [geometry.mark_own(a) for a in (ax, check_ax)][0]
        fig.legend(handles=_legend_handles(view, own, True), loc="center right", ncol=5,
                   frameon=False, bbox_to_anchor=(0.95, 0.865))
        _heading(fig, view, 0.08, 0.22)
    return fig


# --- 3-D: small multiples -----------------------------------------------------------------------


def panels_figure(view: GridView) -> Figure:
    """One heat map of the metric and one of the check per drawn value of the third axis:
    the metric's maps in the upper block (one colour scale), the check's below."""

    third = view.axes[2]
    picks = view.shown[2]
    columns = min(PANEL_COLUMNS, picks.size)
    rows = -(-picks.size // columns)
    cmap, norm, ticks = _metric_colours(view.metric_name, view.metric)
    own_third = own_value(view.preset, third.param)
    panel_in, head_in, gap_in, foot_in = 2.05, 1.25, 0.55, 0.75
    width = 2.6 * columns + 1.9
    height = head_in + 2 * rows * panel_in + gap_in + foot_in
    left, right = 0.85 / width, 1 - 1.15 / width
    with isolated_style():
        fig = new_figure(figsize=(width, height), dpi=PNG_DPI)
        top_of = [1 - head_in / height, 1 - (head_in + rows * panel_in + gap_in) / height]
        blocks = [fig.add_gridspec(rows, columns, left=left, right=right, top=top,
                                   bottom=top - (rows * panel_in - 0.45) / height,
                                   hspace=0.45, wspace=0.1) for top in top_of]
        what = (METRIC_LABELS[view.metric_name],
                f"check {view.preset.check}" if view.preset.check else "check")
        for block_top, title in zip(top_of, what, strict=True):
            fig.text(left, block_top + 0.32 / height, title, fontsize=10, fontweight="bold",
                     va="center")
        mesh, own = None, False
        for p, k in enumerate(picks):
            row, column = divmod(p, columns)
            panel = GridView(view.preset, view.method, view.dt, view.axes[:2], view.shown[:2],
                             view.metric_name, view.metric[:, :, p],
                             None if view.passed is None else view.passed[:, :, p], {},
                             view.failed[:, :, p], view.failure)
            geometry = _Map(panel)
            no_value, failed = _undefined(panel)
            top, bottom = (fig.add_subplot(block[row, column]) for block in blocks)
            for ax in (top, bottom):
                ax.tick_params(labelsize=7)  # small multiples: smaller tick labels
            mesh = _draw_metric(top, geometry, panel.metric, no_value, failed, cmap, norm)
            _draw_check(bottom, geometry, panel.passed)
            value = float(third.values[k])
            mine = value == own_third
            caption = f"{third.param} = {_fmt(value)}" + ("  (the preset's)" if mine else "")
            last_row = row == rows - 1 or p + columns >= picks.size
            for ax in (top, bottom):
                ax.set_title(caption, fontsize=8, loc="left", pad=3,
                             color=OWN_COLOR if mine else "black")
                geometry.axes_labels(ax, last_row and ax is bottom, column == 0, few=True)
                if column:
                    ax.tick_params(labelleft=False)
                if mine:  # the preset's point is in this panel only
                    own = geometry.mark_own(ax) or own
        bar_top = top_of[0]
        cax = fig.add_axes((right + 0.25 / width, bar_top - (rows * panel_in - 0.45) / height,
                            0.16 / width, (rows * panel_in - 0.45) / height))
        _colour_bar(fig, mesh, None, view, ticks, cax)
        unit = UNITS.get(third.param, "")
        fig.legend(handles=_legend_handles(view, own, True), loc="lower center", ncol=5,
                   frameon=False, bbox_to_anchor=(0.5, 0.05 / height * 2))
        _heading(fig, view, left, 0.22)
        if own_third not in third.values[picks]:
            fig.text(left, 1 - 0.68 / height, f"the preset's own {third.param} = "
                     f"{_fmt(own_third)}" + (f" ({unit})" if unit and unit != "1" else "")
                     + " is not among the values drawn", fontsize=8, color=OWN_COLOR,
                     va="center")
    return fig


# --- f–I curves -----------------------------------------------------------------------------------


def fi_colours(n: int) -> list:
    """``n`` colours, none repeated: a qualitative palette, or an even spread beyond it."""
    import matplotlib

    if n <= 10:
        return list(matplotlib.colormaps["tab10"].colors[:n])
    if n <= 20:
        return list(matplotlib.colormaps["tab20"].colors[:n])
    return [matplotlib.colormaps["turbo"](x) for x in np.linspace(0.03, 0.97, n)]


def fi_figure(curves: Sequence[FiCurve]) -> Figure:
    """Steady-state rate against input, one curve per preset; below it, every onset zoomed
    (one panel per curve whose onset the probe found)."""

    colours = fi_colours(len(curves))
    zooms = [(k, c) for k, c in enumerate(curves) if c.zoom_scale is not None]
    columns = min(4, max(1, len(zooms)))
    zoom_rows = -(-len(zooms) // columns) if zooms else 0
    with isolated_style():
        height = 4.6 + 2.1 * zoom_rows
        fig = new_figure(figsize=(11.0, height), dpi=PNG_DPI)
        outer = fig.add_gridspec(1 + zoom_rows, columns, height_ratios=[3.2] + [1.5] * zoom_rows,
                                 left=0.07, right=0.98, top=1 - 0.85 / height,
                                 bottom=0.5 / height, hspace=0.55, wspace=0.28)
        ax = fig.add_subplot(outer[0, :])
        for k, curve in enumerate(curves):
            ax.plot(fi_drive(curve.preset, curve.scale), curve.rate, color=colours[k],
                    linewidth=1.3, marker="o", markersize=2.0, label=curve.label)
            if np.isfinite(curve.onset_scale):
                ax.plot([_onset_drive(curve)], [curve.onset_rate], "o", markersize=5,
                        markerfacecolor="none", markeredgecolor=colours[k],
                        markeredgewidth=0.9)
        ax.set_xlabel("$I_e/C$ (V/s), the probe's constant step", parse_math=True)
        ax.set_ylabel("steady-state rate (Hz)")
        ax.set_ylim(bottom=0)
        ax.grid(color="0.92", linewidth=0.6)
        ax.legend(loc="upper left", frameon=False, ncol=1 if len(curves) <= 8 else 2,
                  fontsize=8 if len(curves) <= 8 else 6.5)
        for p, (k, curve) in enumerate(zooms):
            row, column = divmod(p, columns)
            _draw_onset(fig.add_subplot(outer[1 + row, column]), curve, colours[k],
                        last=row == zoom_rows - 1)
        methods = sorted({(c.method, c.dt) for c in curves})
        how = ", ".join(f"{m}, dt = {dt:g} ms" for m, dt in methods)
        found = f"{len(zooms)} of {len(curves)} onsets found" if len(zooms) < len(curves) \
            else "below: around each onset"
        fig.text(0.07, 1 - 0.3 / height, "f–I curves: steady-state rate against input",
                 fontsize=12, fontweight="bold", va="center")
        fig.text(0.07, 1 - 0.55 / height, f"method {how}  ·  rate = spikes in the last 1 s of "
                 f"a 2 s step  ·  circles: the onset found by bisection; {found}",
                 fontsize=8.5, color="0.3", va="center")
    return fig


def _draw_onset(ax, curve: FiCurve, color, last: bool) -> None:
    """The finer curve centred on the onset, with the onset and its rate marked."""
    x = fi_drive(curve.preset, curve.zoom_scale)
    ax.plot(x, curve.zoom_rate, color=color, linewidth=1.1, marker="o", markersize=2.0)
    onset = _onset_drive(curve)
    ax.axvline(onset, color="0.6", linewidth=0.7, linestyle=(0, (3, 3)), zorder=0)
    ax.plot([onset], [curve.onset_rate], "o", markersize=5, markerfacecolor="none",
            markeredgecolor="black", markeredgewidth=0.8)
    ax.annotate(f"onset: {curve.onset_rate:.3g} Hz", (onset, curve.onset_rate),
                textcoords="offset points", xytext=(6, 4), fontsize=7)
    finite = curve.zoom_rate[np.isfinite(curve.zoom_rate)]
    ax.set_ylim(bottom=0, top=max(1.0, float(finite.max()) if finite.size else 1.0) * 1.3)
    ax.set_title(curve.label, loc="left", fontsize=8)
    ax.set_ylabel("Hz")
    ax.grid(color="0.92", linewidth=0.6)
    ax.ticklabel_format(axis="x", useOffset=False)
    ax.xaxis.set_major_locator(MaxNLocator(3))
    if last:
        ax.set_xlabel("$I_e/C$ (V/s)", parse_math=True)


def _onset_drive(curve: FiCurve) -> float:
    """The input of the onset's marker: where its rate was measured, a point of the curve."""
    from gifcli.analysis.probe import ONSET_TOLERANCE

    return float(fi_drive(curve.preset, np.array([curve.onset_scale * (1 + ONSET_TOLERANCE)]))[0])
