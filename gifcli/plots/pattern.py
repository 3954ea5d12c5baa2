"""Figures: one per pattern, and the 5 × 4 gallery of the paper's Figure 1.

Matplotlib's object API on its Agg, SVG and PDF canvases, without pyplot: no global state, no
GUI backend, nothing changed for a notebook that imports this module. Every figure is drawn
and saved under the project's own complete style (:func:`isolated_style`: matplotlib's
defaults plus :data:`RC`), so a ``matplotlibrc`` in the working folder, ``MATPLOTLIBRC``,
``MPLBACKEND`` or a style set earlier in the same session changes no byte of a file.

Text from preset files is drawn literally (no mathtext; control characters shown escaped),
and any finite result draws: values too large for matplotlib's transforms are drawn at
±:data:`CLIP`, and the figure says so. A burst too crowded to tell its spikes apart, or a
run of input pulses too narrow to see, gets a zoomed inset that hides no data. Only the CLI
imports this module, and only when a figure is asked for, so that ``gif --help`` and
``gif list`` stay fast.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import itertools
import logging
import math
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gifcli import __version__
from gifcli.core.atomic import write_atomic
from gifcli.core.errors import GifError, one_line
from gifcli.simulation.result import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text

V_COLOR = "#1f4e79"
TH_COLOR = "#d95f02"
INPUT_COLOR = "#2e7d32"
FAIL_COLOR = "#c62828"
PASS_COLOR = "#2e7d32"  # a verdict that holds, beside FAIL_COLOR
NOTE_COLOR = "0.35"
SPIKE_COLOR = "0.15"
FRAME_COLOR = "0.55"  # the zoom's frame and the box it zooms into
FIGURE_FORMATS = ("png", "svg", "pdf")
PNG_DPI = 150  # 1200 × 660 px for one pattern: sharp on a slide, quick to render
GALLERY_DPI = 110
DPI_RANGE = (30.0, 600.0)  # at 600 dpi the gallery is 9000 × 9700 px, 350 MB while drawn
SPIKE_HEIGHT = 0.35  # spike marks rise this fraction of the trace's range above its top
#: |values| beyond this are drawn at it: matplotlib's transforms overflow near 1.8e308
CLIP = 1e300
CLIP_NOTE = f"values beyond ±{CLIP:g} drawn at ±{CLIP:g}"
SHORT_CLIP_NOTE = f"clipped at ±{CLIP:g}"  # in a gallery panel
#: spike marks closer than this (points) cannot be told apart: such a burst gets a zoom
CROWDED_SPACING_PT = 1.1
#: input segments narrower than this (points) get a zoom when two or more are in a row
NARROW_PT = 3.0
ZOOM_SPIKES, ZOOM_SEGMENTS = 8, 6  # a zoom shows at most so many spikes or input segments
MAX_PULSE_LEVELS = 3  # narrow segments at more levels are a sampled waveform: no zoom
INSET_SIZES = ((0.36, 0.42), (0.3, 0.34))  # of the trace panel, the larger where it fits
#: where neither fits: a band below the traces holds a lower inset, so that the traces keep
#: about two thirds of the panel's height (L's gallery panel)
BAND_INSET = (0.36, 0.26)
GRID_CELLS = 50  # the panel is searched for room in cells of 1/50 of its width and height
TICK_SIZE = 9  # points: tick labels of the pattern figures and the gallery, readable as printed
#: the project's style, over matplotlib's defaults (see isolated_style)
RC = {
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "text.usetex": False,
    "text.parse_math": False,  # titles from files are literal; own labels opt in to math
    "svg.fonttype": "none",  # text stays text, editable in Inkscape or Illustrator
    "svg.hashsalt": "gifcli",  # stable element ids in SVG files
    "pdf.fonttype": 42,  # TrueType: the PDF's text stays editable too
    "agg.path.chunksize": 20_000,  # a 2-million-point trace never exceeds Agg's cell limit
}
_CANVASES = {"png": ("backend_agg", "FigureCanvasAgg"),
             "svg": ("backend_svg", "FigureCanvasSVG"),
             "pdf": ("backend_pdf", "FigureCanvasPdf")}
Window = tuple[float, float]  # a time range, ms


# --- the isolated style -----------------------------------------------------------------------


def _import_matplotlib() -> Any:
    """matplotlib, imported with ``MPLBACKEND`` hidden: these figures use no backend, and an
    invalid value (``MPLBACKEND=bogus``) makes ``import matplotlib`` itself fail. Its
    complaints about bad values in the user's rc files are silenced too: the figures do not
    read those files."""
    if "matplotlib" not in sys.modules:
        saved = os.environ.pop("MPLBACKEND", None)
        logger = logging.getLogger("matplotlib")
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            import matplotlib  # noqa: F401
        finally:
            logger.setLevel(level)
            if saved is not None:
                os.environ["MPLBACKEND"] = saved
    import matplotlib

    return matplotlib


@contextlib.contextmanager
def isolated_style() -> Iterator[None]:
    """Matplotlib's own defaults, then :data:`RC`, for the ``with`` block.

    Whatever the user's rc files, ``MATPLOTLIBRC`` or an earlier ``rcParams`` change set
    (``text.usetex``, fonts, ``savefig.*``), figures created, drawn and saved inside the block
    look the same. Everything is restored afterwards. Create, draw *and* save inside it:
    artists read some settings when created and others when drawn.
    """
    matplotlib = _import_matplotlib()
    defaults = {k: v for k, v in matplotlib.rcParamsDefault.items() if k != "backend"}
    with matplotlib.rc_context(defaults | RC):
        yield


def new_figure(**kwargs: Any) -> Figure:
    """A :class:`~matplotlib.figure.Figure` (``Figure(**kwargs)``) on an Agg canvas.

    Call it inside :func:`isolated_style`, and draw there too.
    """
    _import_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


# --- text -------------------------------------------------------------------------------------


def _fit(text: Text, right_px: float) -> None:
    """Shorten ``text`` with an ellipsis so that it ends left of ``right_px`` (display px)."""
    renderer = text.get_figure().canvas.get_renderer()
    full = text.get_text()
    if text.get_window_extent(renderer).x1 <= right_px:
        return
    keep, too_long = 0, len(full)
    while too_long - keep > 1:  # the longest prefix that fits, by bisection
        middle = (keep + too_long) // 2
        text.set_text(full[:middle].rstrip() + "…")
        if text.get_window_extent(renderer).x1 <= right_px:
            keep = middle
        else:
            too_long = middle
    text.set_text(full[:keep].rstrip() + "…")


def _number(value: float) -> str:
    """A value as typed: the shortest text that reads back to it (2 rather than 2.0)."""
    return repr(float(value)).removesuffix(".0")


def overrides_text(overrides: Mapping[str, float]) -> str:
    """``--set a=0.01, input_scale=2``, or ``""`` without overrides."""
    if not overrides:
        return ""
    return "--set " + ", ".join(f"{one_line(key)}={_number(value)}"
                                for key, value in overrides.items())


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _label(result: Result) -> str:
    preset = result.preset
    title = one_line(preset.title)
    return f"{one_line(preset.letter)}  {title}" if preset.letter else title


def _joined(*parts: str) -> str:
    return "  ·  ".join(part for part in parts if part)


# --- what a panel draws -----------------------------------------------------------------------


def _clip(values: Any) -> tuple[np.ndarray, bool]:
    """``values`` within ±CLIP, and whether any was not."""
    values = np.asarray(values, dtype=float)
    if not values.size or (values.min() >= -CLIP and values.max() <= CLIP):
        return values, False
    return np.clip(values, -CLIP, CLIP), True


@dataclass(frozen=True, eq=False)
class _Traces:
    """One result as drawn, every value within ±CLIP.

    V's path is the grid samples plus, at each spike time, the threshold V reached and the
    reset it jumped to, so that V meets the threshold at each spike with any method and dt
    (the grid alone holds only the value after the reset).
    """

    t: np.ndarray  # V's path
    v: np.ndarray
    grid_t: np.ndarray
    th: np.ndarray
    spikes: np.ndarray
    spike_th: np.ndarray  # the threshold at each spike: where V's path and its mark meet
    edges: np.ndarray  # the input as the user gave it: segment edges...
    amplitudes: np.ndarray  # ...and amplitudes, the last one repeated, for a step plot
    clipped: bool

    @property
    def limits(self) -> tuple[float, float, float]:
        """Bottom, top of the spike marks, and top of the panel."""
        lo = float(min(self.v.min(), self.th.min()))
        hi = float(max(self.v.max(), self.th.max()))
        span = max(hi - lo, 1.0, 1e-9 * max(abs(lo), abs(hi)))
        marks_top = hi + SPIKE_HEIGHT * span
        return lo - 0.08 * span, marks_top, marks_top + 0.04 * span


def _traces(result: Result) -> _Traces:
    t, v, th, spikes = (np.asarray(a, dtype=float) for a in
                        (result.t, result.V, result.V_th, result.spike_times))
    spike_th = np.interp(spikes, t, th)
    reset = np.full(spikes.shape, result.preset.params["V_reset"])
    # A spike at a grid time (euler, exp-euler) comes before that point, which holds the reset.
    where = np.repeat(np.searchsorted(t, spikes, side="left"), 2)
    path_t = np.insert(t, where, np.repeat(spikes, 2))
    path_v = np.insert(v, where, np.column_stack([spike_th, reset]).ravel())
    segments = result.preset.segments
    edges = np.concatenate([[0.0], np.cumsum([duration for _, duration in segments])])
    amplitudes = np.array([amplitude for amplitude, _ in segments] + [segments[-1][0]])
    drawn = [_clip(values) for values in (path_t, path_v, t, th, spikes, spike_th, edges,
                                          amplitudes)]
    return _Traces(*(values for values, _ in drawn), clipped=any(c for _, c in drawn))


def _draw_traces(ax: Axes, traces: _Traces, linewidth: float, spike_width: float) -> None:
    """V and V_th against t, with a vertical mark from the threshold at each spike time up to
    a common height above the traces (the precise crossing time with ``exact``)."""
    bottom, marks_top, top = traces.limits
    if traces.spikes.size:  # first, so that ax.collections[0] holds the marks
        ax.vlines(traces.spikes, traces.spike_th, marks_top, color=SPIKE_COLOR,
                  linewidth=spike_width)
    ax.plot(traces.t, traces.v, color=V_COLOR, linewidth=linewidth)
    ax.plot(traces.grid_t, traces.th, color=TH_COLOR, linewidth=linewidth,
            linestyle=(0, (4, 2)))
    ax.set_xlim(0.0, float(traces.grid_t[-1]))
    ax.set_ylim(bottom, top)
    _offset_left_spine(ax)


def _offset_left_spine(ax: Axes) -> None:
    # Data at t = 0 (S's first pulse) would otherwise sit on the axis line and vanish in it.
    ax.spines["left"].set_position(("outward", 3))


def _tick_threshold(ax: Axes, threshold: float) -> None:
    """Label the threshold at rest (V_th_inf) on the V axis, in the threshold's colour, in
    place of any tick whose label would crowd it; the other ticks stay as they were."""
    from matplotlib.ticker import FixedLocator, FuncFormatter

    low, high = ax.get_ylim()
    if not low <= threshold <= high:
        return
    ticks = [t for t in ax.yaxis.get_major_locator().tick_values(low, high) if low <= t <= high]
    height_pt = ax.get_position().height * ax.get_figure().get_figheight() * 72
    min_gap = 2.0 * TICK_SIZE / height_pt * (high - low)  # a label's height and a gap
    ticks = sorted([t for t in ticks if abs(t - threshold) >= min_gap] + [threshold])
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_major_formatter(FuncFormatter(_tick_text))
    for value, tick in zip(ticks, ax.yaxis.get_major_ticks(len(ticks)), strict=True):
        color = TH_COLOR if value == threshold else "black"
        tick.label1.set_color(color)
        tick.tick1line.set_color(color)


def _draw_input(ax: Axes, traces: _Traces, linewidth: float, tick_size: float) -> None:
    """The input's step plot, ticked at its amplitudes."""
    edges, amplitudes = traces.edges, traces.amplitudes
    ax.fill_between(edges, amplitudes, step="post", color=INPUT_COLOR, alpha=0.18,
                    linewidth=0)
    ax.step(edges, amplitudes, where="post", color=INPUT_COLOR, linewidth=linewidth)
    ax.axhline(0.0, color="0.6", linewidth=0.5, zorder=0)
    lo, hi = min(0.0, float(amplitudes.min())), max(0.0, float(amplitudes.max()))
    pad = 0.15 * max(hi - lo, 1e-9 * max(abs(lo), abs(hi)), 1e-9)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(0.0, float(edges[-1]))
    _tick_amplitudes(ax, amplitudes, tick_size)
    _offset_left_spine(ax)


def _tick_amplitudes(ax: Axes, amplitudes: np.ndarray, tick_size: float) -> None:
    """Label 0 and the amplitudes, largest first, leaving out (as unlabelled ticks) any that
    would print over one already labelled: J's 1.5 and 1.7 in a short panel."""
    from matplotlib.ticker import FixedLocator, FuncFormatter

    height_pt = ax.get_position().height * ax.get_figure().get_figheight() * 72
    low, high = ax.get_ylim()
    min_gap = 1.4 * tick_size / height_pt * (high - low)  # a label's height, in data units
    labelled: list[float] = []
    for value in sorted(set(amplitudes.tolist()) | {0.0}, key=lambda a: (a != 0, -abs(a))):
        if all(abs(value - kept) >= min_gap for kept in labelled):
            labelled.append(value)
    unlabelled = sorted(set(amplitudes.tolist()) - set(labelled))
    ax.yaxis.set_major_locator(FixedLocator(sorted(labelled)))
    # A schedule of thousands of levels gets no minor ticks: they would be a grey smear.
    ax.yaxis.set_minor_locator(FixedLocator(unlabelled if len(unlabelled) <= 20 else []))
    ax.yaxis.set_major_formatter(FuncFormatter(_tick_text))
    ax.tick_params(axis="y", labelsize=tick_size)


def _tick_text(value: float, _: Any = None) -> str:
    """3 significant digits, with a short exponent (1e300) and a true minus sign."""
    # the minus sign written as itself: a \N{...} escape makes the compiler import unicodedata,
    # and a signal during that import would come out as a SyntaxError
    return f"{value + 0.0:.3g}".replace("e+", "e").replace("-", "−")  # no −0


def _legend(fig: Figure, spikes: bool, stimulus: bool, **kwargs: Any) -> Any:
    """The figure's legend, from handles of its own (whatever the first panel holds)."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=V_COLOR, label="membrane $V$"),
               Line2D([], [], color=TH_COLOR, linestyle=(0, (4, 2)),
                      label=r"threshold $V_\mathrm{th}$")]
    if spikes:
        handles.append(Line2D([], [], color=SPIKE_COLOR, linewidth=0.8, label="spike"))
    if stimulus:
        handles.append(Line2D([], [], color=INPUT_COLOR, label="input $I_e/C$"))
    legend = fig.legend(handles=handles, frameon=False, ncol=len(handles), **kwargs)
    for text in legend.get_texts():  # the project's own labels: $V_\mathrm{th}$ is math
        text.set_parse_math(True)
    return legend


# --- zooming into what is too small to see ----------------------------------------------------


def _crowded_burst(spikes: np.ndarray, points_per_ms: float) -> Window | None:
    """The time window of the burst whose marks are drawn closest together, if they are
    closer than CROWDED_SPACING_PT (L's and O's 5 to 7 spikes within 15 ms); else None."""
    if spikes.size < 4:
        return None
    spacing = (spikes[3:] - spikes[:-3]) / 3  # the mean interval over 3 in a row
    first = int(np.argmin(spacing))
    if not spacing[first] * points_per_ms < CROWDED_SPACING_PT:
        return None
    close = 4 * spacing[first]  # the burst: neighbours up to 4 times as far apart
    start, end = first, first + 3
    while start > 0 and spikes[start] - spikes[start - 1] < close:
        start -= 1
    # Its first ZOOM_SPIKES at most: a zoom must magnify, even into a long train.
    end = start + 3
    while end < min(spikes.size, start + ZOOM_SPIKES) - 1 and \
            spikes[end + 1] - spikes[end] < close:
        end += 1
    return _padded(float(spikes[start]), float(spikes[end]), float(spacing[first]))


def _narrow_pulses(edges: np.ndarray, amplitudes: np.ndarray,
                   points_per_ms: float) -> Window | None:
    """The time window of the longest run of input segments narrower than NARROW_PT (S's
    first pair of 5 ms pulses, 5 ms apart, in 800 ms), if a run holds two or more pulses
    (at most MAX_PULSE_LEVELS amplitudes: a ramp or noise held on the grid is drawn whole)."""
    narrow = [*(np.diff(edges) * points_per_ms < NARROW_PT).tolist(), False]
    best_length, best_start, start = 0, 0, 0
    for index, is_narrow in enumerate(narrow):
        if not is_narrow:
            if index - start > best_length:  # the longest run, the first of equals
                best_length, best_start = index - start, start
            start = index + 1
    levels = np.unique(amplitudes[best_start:best_start + best_length])
    if best_length < 2 or levels.size > MAX_PULSE_LEVELS:
        return None
    length = min(best_length, ZOOM_SEGMENTS)  # a zoom must magnify, even into a long run
    return _padded(float(edges[best_start]), float(edges[best_start + length]), 0.0)


def _padded(start: float, end: float, extra: float) -> Window:
    pad = 0.2 * (end - start) + extra
    return start - pad, end + pad


def _zoom_window(ax: Axes, traces: _Traces) -> Window | None:
    width_pt = ax.get_position().width * ax.get_figure().get_figwidth() * 72
    x0, x1 = ax.get_xlim()
    points_per_ms = width_pt / (x1 - x0)
    return (_crowded_burst(traces.spikes, points_per_ms)
            or _narrow_pulses(traces.edges, traces.amplitudes, points_per_ms))


def _occupied(ax: Axes, traces: _Traces) -> np.ndarray:
    """Which cells of the panel (rows from the bottom) a line of V, V_th or a spike mark
    may cross, and the cells around them. In each column of cells, everything between the
    lowest and the highest value of a line there counts: a superset, found in one pass over
    the samples (a run of 2 million steps costs no more than its arrays)."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    _, marks_top, _ = traces.limits

    def cells(x: np.ndarray) -> np.ndarray:
        return np.clip(((x - x0) / (x1 - x0) * GRID_CELLS).astype(np.int64), 0, GRID_CELLS - 1)

    def rows(y: np.ndarray) -> np.ndarray:
        return np.clip(((y - y0) / (y1 - y0) * GRID_CELLS).astype(np.int64), 0, GRID_CELLS - 1)

    def lines() -> Iterator[tuple[np.ndarray, np.ndarray]]:  # each line's [low, high] rows
        for t, y in ((traces.t, traces.v), (traces.grid_t, traces.th)):
            yield _column_ranges(cells(t), rows(y))
        if traces.spikes.size:
            marks = cells(traces.spikes)
            low, high = _empty_columns()
            _merge_by_column(low, high, marks, rows(traces.spike_th),
                             np.full(marks.shape, rows(np.array([marks_top]))[0]))
            yield low, high

    occupied = np.arange(GRID_CELLS)[:, None]
    grid = np.logical_or.reduce([(occupied >= low[None, :]) & (occupied <= high[None, :])
                                 for low, high in lines()])
    padded = np.pad(grid, 1)  # and the cells around: an inset keeps clear of every line
    return np.logical_or.reduce([padded[r:r + GRID_CELLS, c:c + GRID_CELLS]
                                 for r, c in np.ndindex(3, 3)])


def _empty_columns() -> tuple[np.ndarray, np.ndarray]:
    return (np.full(GRID_CELLS, GRID_CELLS, dtype=np.int64),  # per column: no row yet
            np.full(GRID_CELLS, -1, dtype=np.int64))


def _column_ranges(column: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest row that a polyline, its columns never decreasing, may cross
    in each column of cells: a segment covers the rows between its ends in every column
    from its start to its end."""
    low, high = _empty_columns()
    bottom, top = np.minimum(row[:-1], row[1:]), np.maximum(row[:-1], row[1:])
    first, last = column[:-1], column[1:]
    wide = np.flatnonzero(last - first > 1)  # segments across a whole column: fewer than 50
    middle = [np.arange(first[i] + 1, last[i]) for i in wide]
    counts = [len(columns) for columns in middle]
    for columns, lows, highs in ((first, bottom, top), (last, bottom, top),
                                 (np.concatenate([np.zeros(0, np.int64), *middle]),
                                  np.repeat(bottom[wide], counts), np.repeat(top[wide], counts))):
        if columns.size:
            _merge_by_column(low, high, columns, lows, highs)
    return low, high


def _merge_by_column(low: np.ndarray, high: np.ndarray, columns: np.ndarray,
                     lows: np.ndarray, highs: np.ndarray) -> None:
    """Widen each column's [low, high] rows by entries that arrive sorted by column."""
    starts = np.flatnonzero(np.r_[True, columns[1:] != columns[:-1]])
    at = columns[starts]
    low[at] = np.minimum(low[at], np.minimum.reduceat(lows, starts))
    high[at] = np.maximum(high[at], np.maximum.reduceat(highs, starts))


def _free_spot(grid: np.ndarray, avoid: Window,
               size: tuple[float, float]) -> tuple[tuple[float, float], int]:
    """The lower-left corner (axes fraction) of an inset of ``size`` where it covers the
    fewest occupied cells, not over the ``avoid`` range of x (what it zooms into), and how
    many it covers."""
    width, height = (round(fraction * GRID_CELLS) for fraction in size)
    table = np.zeros((GRID_CELLS + 1, GRID_CELLS + 1), dtype=np.int64)
    table[1:, 1:] = grid.cumsum(axis=0).cumsum(axis=1)
    rows = np.arange(1, GRID_CELLS - height)[:, None]  # a cell's margin from every edge
    columns = np.arange(1, GRID_CELLS - width)[None, :]
    covered = (table[rows + height, columns + width] - table[rows, columns + width]
               - table[rows + height, columns] + table[rows, columns])
    left, right = columns / GRID_CELLS, (columns + width) / GRID_CELLS
    covered = np.where((left < avoid[1]) & (right > avoid[0]), grid.size, covered)[::-1]
    row, column = np.unravel_index(int(np.argmin(covered)), covered.shape)  # top-left first
    corner = ((column + 1) / GRID_CELLS, (GRID_CELLS - height - 1 - row) / GRID_CELLS)
    return corner, int(covered[row, column])


def _make_room(ax: Axes, traces: _Traces, window: Window) -> list[float]:
    """Where the inset goes (left, bottom, width, height in axes fraction): an empty spot of
    the panel, or else a band added below the traces (the panel's range grows downwards,
    ticked only where the traces are)."""
    from matplotlib.ticker import FixedLocator

    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    avoid = ((window[0] - x0) / (x1 - x0), (window[1] - x0) / (x1 - x0))
    occupied = _occupied(ax, traces)
    for size in INSET_SIZES:
        spot, covered = _free_spot(occupied, avoid, size)
        if covered == 0:
            return [*spot, *size]
    ticks = ax.yaxis.get_major_locator().tick_values(y0, y1)
    ax.yaxis.set_major_locator(FixedLocator([t for t in ticks if y0 <= t <= y1]))
    size = BAND_INSET
    band = size[1] + 3.5 / GRID_CELLS
    ax.set_ylim(y0 - band / (1 - band) * (y1 - y0), y1)
    return [*_free_spot(_occupied(ax, traces), avoid, size)[0], *size]


def _zoom(ax: Axes, traces: _Traces, linewidth: float, text_size: float) -> None:
    """An inset that shows, at a larger scale, a burst whose spikes are too crowded to tell
    apart, or else a run of input pulses too narrow to see; the input is drawn below V in
    it when it changes there."""
    window = _zoom_window(ax, traces)
    if window is None:
        return
    inset = ax.inset_axes(_make_room(ax, traces, window))
    lo, hi = _zoom_traces(inset, traces, window, linewidth)
    span = hi - lo
    bottom = lo - 0.12 * span
    if np.any((traces.edges > window[0]) & (traces.edges < window[1])):
        bottom = _input_band(inset, traces, bottom, 0.3 * span, linewidth) - 0.16 * span
    _scale_bar(inset, window, bottom, text_size)
    inset.set_xlim(*window)
    inset.set_ylim(bottom - 0.08 * span, hi + 0.03 * span)
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_facecolor("white")
    for spine in inset.spines.values():
        spine.set_visible(True)
        spine.set_color(FRAME_COLOR)
        spine.set_linewidth(0.6)
    # The box in the panel holds what the inset zooms into: V, not the input band below it.
    source = max(window[0], 0.0), min(window[1], float(traces.grid_t[-1]))
    ax.indicate_inset([source[0], lo, source[1] - source[0], hi - lo], inset,
                      edgecolor=FRAME_COLOR, alpha=0.9, linewidth=0.6)


def _zoom_traces(inset: Axes, traces: _Traces, window: Window,
                 linewidth: float) -> tuple[float, float]:
    """V, V_th and the spike marks within ``window``; the lowest value and the marks' top."""
    def within(t: np.ndarray) -> slice:  # and one sample beyond each end, for the lines
        start, stop = np.searchsorted(t, window, side="left")
        return slice(max(start - 1, 0), stop + 1)

    path, grid = within(traces.t), within(traces.grid_t)
    marks = (traces.spikes >= window[0]) & (traces.spikes <= window[1])
    inside = (traces.t[path] >= window[0]) & (traces.t[path] <= window[1])
    values = np.concatenate([traces.v[path][inside], traces.spike_th[marks],
                             np.interp(window, traces.t, traces.v),
                             np.interp(window, traces.grid_t, traces.th)])
    lo, hi = float(values.min()), float(values.max())
    span = max(hi - lo, 1.0, 1e-9 * max(abs(lo), abs(hi)))
    marks_top = hi + 0.25 * span
    inset.vlines(traces.spikes[marks], traces.spike_th[marks], marks_top, color=SPIKE_COLOR,
                 linewidth=0.6 * linewidth)
    inset.plot(traces.t[path], traces.v[path], color=V_COLOR, linewidth=linewidth)
    inset.plot(traces.grid_t[grid], traces.th[grid], color=TH_COLOR, linewidth=linewidth,
               linestyle=(0, (3, 1.5)))
    return lo, marks_top


def _input_band(inset: Axes, traces: _Traces, top: float, height: float,
                linewidth: float) -> float:
    """The input's steps squeezed into [top - height, top] of the inset; its bottom."""
    low = min(0.0, float(traces.amplitudes.min()))
    high = max(0.0, float(traces.amplitudes.max()))
    scale = height / max(high - low, 1e-300)
    steps = top - height + (traces.amplitudes - low) * scale
    inset.fill_between(traces.edges, steps, top - height - low * scale, step="post",
                       color=INPUT_COLOR, alpha=0.18, linewidth=0)
    inset.step(traces.edges, steps, where="post", color=INPUT_COLOR, linewidth=linewidth)
    return top - height


def _scale_bar(inset: Axes, window: Window, y: float, size: float) -> None:
    """A bar of a round number of ms at the inset's lower right, labelled on its left,
    instead of tick labels."""
    span = window[1] - window[0]
    length = next(s * 10.0**e for e in range(math.floor(math.log10(span)), -330, -1)
                  for s in (5, 2, 1) if s * 10.0**e <= span / 4)
    right = window[1] - 0.04 * span
    inset.plot([right - length, right], [y, y], color="0.2", linewidth=1.0,
               solid_capstyle="butt")
    inset.annotate(f"{length:g} ms", xy=(right - length, y), xytext=(-2, 0),
                   textcoords="offset points", ha="right", va="center", fontsize=size,
                   color="0.2")


# --- the figures ------------------------------------------------------------------------------


def pattern_figure(result: Result) -> Figure:
    """One pattern: V, V_th and spikes on top, the input below, on one time axis in ms.

    The subtitle names the preset, the method and dt, the number of spikes and any
    overrides, then the check's verdict (the reason too when it fails).
    """
    with isolated_style():
        fig = new_figure(figsize=(8.0, 4.4), dpi=PNG_DPI, layout=None)
        grid = fig.add_gridspec(2, 1, height_ratios=(3.4, 1.0), hspace=0.08,
                                left=0.09, right=0.98, top=0.86, bottom=0.12)
        top = fig.add_subplot(grid[0])
        bottom = fig.add_subplot(grid[1], sharex=top)
        traces = _traces(result)
        _draw_traces(top, traces, linewidth=1.1, spike_width=0.85)
        _draw_input(bottom, traces, linewidth=1.0, tick_size=TICK_SIZE)
        _zoom(top, traces, linewidth=0.9, text_size=6.5)
        _tick_threshold(top, result.preset.params["V_th_inf"])
        top.tick_params(labelbottom=False, labelsize=TICK_SIZE)
        bottom.tick_params(axis="x", labelsize=TICK_SIZE)
        top.set_ylabel("membrane potential (mV)")
        bottom.set_ylabel("$I_e/C$ (V/s)", parse_math=True)
        bottom.set_xlabel("time (ms)")
        _keep_ylabels_inside(fig, grid, [top, bottom])
        top.grid(axis="y", color="0.92", linewidth=0.6)
        legend = _legend(fig, spikes=bool(result.n_spikes), stimulus=False, loc="center right",
                         bbox_to_anchor=(0.98, 0.955), handlelength=1.8)
        renderer = fig.canvas.get_renderer()
        title = fig.text(0.09, 0.955, _label(result), fontsize=13, fontweight="bold",
                         va="center")
        _fit(title, legend.get_window_extent(renderer).x0 - 12)
        subtitle = _joined(result.preset.name, f"method {result.method}, dt = {result.dt:g} ms",
                           _count(result.n_spikes, "spike"),
                           overrides_text(result.preset.overrides))
        subtitle = fig.text(0.09, 0.905, subtitle, fontsize=9, color="0.3", va="center")
        _fit(subtitle, 0.98 * fig.bbox.width)
        if result.verdict is not None:
            _verdict_note(fig, subtitle, result.verdict)
        if traces.clipped:  # on a line of its own above the traces, where it is never cut
            fig.text(0.98, 0.865, CLIP_NOTE, fontsize=8, color=NOTE_COLOR, ha="right",
                     va="bottom")
        fig.set_label(_label(result))
    return fig


def _verdict_note(fig: Figure, subtitle: Text, verdict: Any) -> None:
    """The check's verdict after the subtitle, on its line: "check passed" in green, or
    "check failed" and its reason in red, shortened to end inside the figure."""
    renderer = fig.canvas.get_renderer()
    x = fig.transFigure.inverted().transform((subtitle.get_window_extent(renderer).x1, 0))[0]
    words = "check passed" if verdict.passed else f"check failed: {verdict.reason}"
    note = fig.text(x, 0.905, f"  ·  {words}", fontsize=9, va="center",
                    color=PASS_COLOR if verdict.passed else FAIL_COLOR)
    _fit(note, 0.98 * fig.bbox.width)


def _keep_ylabels_inside(fig: Figure, grid: Any, axes: Sequence[Axes]) -> None:
    """Move the panels right if wide tick labels (``−1e300``) push a y label off the
    figure, and align the labels."""
    fig.align_ylabels(axes)
    labels = [ax.yaxis.get_major_formatter().format_ticks(ax.yaxis.get_major_locator()())
              for ax in axes]
    if max(len(label) for label in itertools.chain(*labels)) <= 5:
        return  # "−140" fits in the margin: no need to measure (a tenth of the drawing time)
    renderer = fig.canvas.get_renderer()
    overhang = 4 - min(ax.yaxis.get_tightbbox(renderer).x0 for ax in axes)  # px, 4 px margin
    if overhang > 0:
        grid.update(left=grid.left + overhang / fig.bbox.width)
        for ax in axes:
            ax.set_position(ax.get_subplotspec().get_position(fig))


def _gallery_panel(fig: Figure, cell: Any, result: Result, letter: str, failed: bool,
                   note: str) -> tuple[Axes, Axes]:
    """One lettered panel, traces over the input. Its letter and title are on a first line;
    on a second, just above the axes, ``note`` in grey and, if ``failed``, a red "check
    failed", so that neither ever meets the title."""
    from matplotlib.ticker import MaxNLocator

    grid = cell.subgridspec(2, 1, height_ratios=(3.3, 1.0), hspace=0.06)
    top = fig.add_subplot(grid[0])
    bottom = fig.add_subplot(grid[1], sharex=top)
    traces = _traces(result)
    _draw_traces(top, traces, linewidth=0.8, spike_width=0.45)
    _draw_input(bottom, traces, linewidth=0.8, tick_size=TICK_SIZE)
    top.yaxis.set_major_locator(MaxNLocator(4))
    _zoom(top, traces, linewidth=0.6, text_size=6)
    _tick_threshold(top, result.preset.params["V_th_inf"])
    top.tick_params(labelbottom=False, labelsize=TICK_SIZE)
    bottom.tick_params(axis="x", labelsize=TICK_SIZE)
    renderer = fig.canvas.get_renderer()
    box = top.get_window_extent(renderer)
    # Titles share one offset; their heights are set apart, the title's a line above the flag.
    first_line = 1 + 10 / (box.height * 72 / fig.dpi)
    letter_text = top.set_title(letter, loc="left", fontsize=13, fontweight="bold", pad=2,
                                y=first_line)
    title = top.set_title(one_line(result.preset.title), loc="center", fontsize=9.5, pad=2,
                          y=first_line)
    # Centred: it may reach as far from the right edge as the letter reaches from the left.
    _fit(title, box.x1 - (letter_text.get_window_extent(renderer).x1 - box.x0 + 6))
    right = box.x1
    if failed:
        flag = top.set_title("check failed", loc="right", fontsize=7.5, color=FAIL_COLOR, pad=2,
                             y=1.0)
        right = flag.get_window_extent(renderer).x0 - 6
    note = _joined(SHORT_CLIP_NOTE if traces.clipped else "", note)
    if note:
        _fit(top.annotate(note, xy=(0, 1), xycoords="axes fraction", xytext=(0, 2),
                          textcoords="offset points", fontsize=7, color=NOTE_COLOR,
                          va="bottom", ha="left"), right)
    return top, bottom


def gallery_figure(results: Sequence[Result],
                   passed: Sequence[bool | None] | None = None) -> Figure:
    """All patterns in a grid of 4 columns (5 rows for the 20 presets), lettered as in
    Figure 1 of the paper. A panel whose check failed says so in red; overrides shared by
    all panels are named in the heading, others above their panel."""
    n = len(results)
    columns = 4
    rows = max(1, -(-n // columns))
    passed = list(passed) if passed is not None else [None] * n
    overrides = [result.preset.overrides for result in results]
    shared = overrides[0] if all(o == overrides[0] for o in overrides) else None
    with isolated_style():
        height = 3.1 * rows + 1.2  # inches: 3.1 per row of panels, and the heading
        fig = new_figure(figsize=(15.0, height), dpi=GALLERY_DPI, layout=None)
        outer = fig.add_gridspec(rows, columns, left=0.05, right=0.99, bottom=0.6 / height,
                                 top=1 - 1.2 / height, wspace=0.18, hspace=0.5)
        for index, result in enumerate(results):
            row, column = divmod(index, columns)
            top, bottom = _gallery_panel(
                fig, outer[row, column], result, one_line(result.preset.letter or
                                                          str(index + 1)),
                passed[index] is False, "" if shared is not None else
                overrides_text(overrides[index]))
            if column == 0:
                top.set_ylabel(r"$V$, $V_\mathrm{th}$ (mV)", parse_math=True)
                bottom.set_ylabel("$I_e/C$\n(V/s)", parse_math=True, fontsize=8)
            if row == rows - 1 or index + columns >= n:
                bottom.set_xlabel("time (ms)")
        if results:
            _gallery_heading(fig, results, passed, shared or {}, height)
        fig.set_label(f"gifcli gallery: {_count(n, 'firing pattern')}")
    return fig


def _gallery_heading(fig: Figure, results: Sequence[Result], passed: Sequence[bool | None],
                     overrides: Mapping[str, float], height: float) -> None:
    methods = sorted({r.method for r in results})
    dts = sorted({r.dt for r in results})
    failed = sum(1 for p in passed if p is False)
    subtitle = _joined(
        f"method {', '.join(methods)}, dt = {', '.join(f'{dt:g}' for dt in dts)} ms",
        overrides_text(overrides),
        f"{failed} of {_count(len(passed), 'check')} failed (marked in red)" if failed else "")
    y = 1 - 0.32 / height
    legend = _legend(fig, spikes=True, stimulus=True, loc="center right",
                     bbox_to_anchor=(0.99, y), fontsize=10, handlelength=2.0)
    renderer = fig.canvas.get_renderer()
    title = fig.text(0.05, y, "Mihalaş–Niebur (2009) generalized integrate-and-fire neuron: "
                     f"{_count(len(results), 'firing pattern')}", fontsize=14,
                     fontweight="bold", va="center")
    _fit(title, legend.get_window_extent(renderer).x0 - 12)
    _fit(fig.text(0.05, y - 0.3 / height, subtitle, fontsize=10, color="0.3", va="center"),
         0.99 * fig.bbox.width)


# --- files ------------------------------------------------------------------------------------


def check_dpi(dpi: float) -> float:
    """``dpi`` as a float if a figure can be drawn at it (within DPI_RANGE), else GifError."""
    low, high = DPI_RANGE
    if isinstance(dpi, bool) or not isinstance(dpi, int | float) or not low <= dpi <= high:
        raise GifError(f"the resolution must be between {low:g} and {high:g} dpi, "
                       f"got {one_line(str(dpi))}")
    return float(dpi)


def command_line() -> str:
    """This process's command line with the program named by its base name (``gif run A``,
    not the install's path, which would make the bytes differ between installs), control
    characters shown escaped."""
    first = sys.argv[0] if sys.argv and sys.argv[0] else "python"
    program = os.path.basename(first)
    if program == "__main__.py":  # python -m PACKAGE: the package's name (gif for gifcli)
        program = os.path.basename(os.path.dirname(first))
    program = {"gifcli": "gif", "-c": "python -c"}.get(program, program)
    return one_line(" ".join([program, *sys.argv[1:]]))


def _metadata(fig: Figure, fmt: str, command: str) -> dict[str, str | None]:
    """Who made the file and with which command, in each format's own fields; no dates, so
    that the same inputs give the same bytes."""
    made_by = f"gifcli {__version__}"
    title = {"Title": fig.get_label()} if fig.get_label() else {}
    if fmt == "png":
        return title | {"Software": made_by, "Comment": command}
    if fmt == "svg":
        return title | {"Creator": made_by, "Description": command, "Date": None}
    return title | {"Creator": made_by, "Subject": command, "CreationDate": None}


def figure_bytes(fig: Figure, fmt: str, dpi: float | None = None, *,
                 command: str | None = None) -> bytes:
    """The figure encoded as ``png``, ``svg`` or ``pdf``.

    ``dpi`` (None: the figure's own, PNG_DPI or GALLERY_DPI) sets the PNG's pixel size.
    The file's metadata names gifcli's version and ``command`` (None: this process's command
    line), and holds no date, so the same inputs give the same bytes. It is drawn on the
    format's own canvas under :func:`isolated_style`.
    """
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"figure format must be one of {FIGURE_FORMATS}, got {fmt!r}")
    resolution = fig.dpi if dpi is None else check_dpi(dpi)
    module, name = _CANVASES[fmt]
    _import_matplotlib()
    canvas_class = getattr(importlib.import_module(f"matplotlib.backends.{module}"), name)
    metadata = _metadata(fig, fmt, command_line() if command is None else one_line(command))
    buffer, previous = io.BytesIO(), fig.canvas
    try:
        with isolated_style():
            canvas_class(fig).print_figure(buffer, format=fmt, dpi=resolution,
                                           metadata=metadata)
    finally:
        fig.set_canvas(previous)
    return buffer.getvalue()


def save_figure(fig: Figure, path: Path, fmt: str, dpi: float | None = None, *,
                command: str | None = None) -> Path:
    """Encode ``fig`` (see :func:`figure_bytes`) and write it atomically to ``path``."""
    write_atomic(path, figure_bytes(fig, fmt, dpi, command=command))
    return path
