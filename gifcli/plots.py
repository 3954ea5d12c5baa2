"""Figures: one per pattern, and the 5 × 4 gallery of the paper's Figure 1.

Matplotlib's object API on the Agg canvas, without pyplot: no global state, no GUI backend,
nothing changed for a notebook that imports this module. Only the CLI imports it, and only
when a figure is asked for, so that ``gif --help`` and ``gif list`` stay fast.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gifcli.files import write_atomic
from gifcli.result import Result

V_COLOR = "#1f4e79"
TH_COLOR = "#d95f02"
INPUT_COLOR = "#2e7d32"
FAIL_COLOR = "#c62828"
FIGURE_FORMATS = ("png", "svg", "pdf")
#: what each format's file may not hold, so that reruns give the same bytes
_NO_DATES = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
             "pdf": {"CreationDate": None, "Creator": None, "Producer": None}}
PNG_DPI = 150  # 1200 × 660 px for one pattern: sharp on a slide, quick to render
GALLERY_DPI = 110
SPIKE_COLOR = "0.15"
SPIKE_HEIGHT = 0.35  # spike marks rise this fraction of the trace's range above its top
RC = {
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "svg.hashsalt": "gifcli",  # stable element ids in SVG files
}


def _schedule_steps(result: Result) -> tuple[np.ndarray, np.ndarray]:
    """The input as the user gave it: segment edges and amplitudes, for a step plot."""
    segments = result.preset.segments
    edges = np.concatenate([[0.0], np.cumsum([duration for _, duration in segments])])
    amplitudes = np.array([amplitude for amplitude, _ in segments] + [segments[-1][0]])
    return edges, amplitudes


def _draw_traces(ax: Axes, result: Result, linewidth: float = 1.1) -> None:
    """V and V_th against t, with a vertical mark at each spike time.

    V is drawn as the grid samples, which hold the reset value after a spike; each spike
    is a mark from the threshold at its time (the precise crossing time with ``exact``) up
    to a common height above the traces.
    """
    t, v, th = result.t, result.V, result.V_th
    lo = float(min(v.min(), th.min()))
    hi = float(max(v.max(), th.max()))
    span = max(hi - lo, 1.0)
    top = hi + SPIKE_HEIGHT * span
    ax.plot(t, v, color=V_COLOR, linewidth=linewidth, label="membrane $V$")
    ax.plot(t, th, color=TH_COLOR, linewidth=linewidth, linestyle=(0, (4, 2)),
            label=r"threshold $V_\mathrm{th}$")
    spikes = result.spike_times
    if spikes.size:
        bottoms = np.interp(spikes, t, th)
        ax.vlines(spikes, bottoms, top, color=SPIKE_COLOR, linewidth=0.8 * linewidth,
                  label="spike")
    ax.set_xlim(0.0, float(t[-1]))
    ax.set_ylim(lo - 0.08 * span, top + 0.04 * span)
    ax.margins(x=0)


def _draw_input(ax: Axes, result: Result, linewidth: float = 1.0) -> None:
    edges, amplitudes = _schedule_steps(result)
    ax.fill_between(edges, amplitudes, step="post", color=INPUT_COLOR, alpha=0.18,
                    linewidth=0)
    ax.step(edges, amplitudes, where="post", color=INPUT_COLOR, linewidth=linewidth,
            label="input $I$")
    ax.axhline(0.0, color="0.6", linewidth=0.5, zorder=0)
    lo, hi = min(0.0, float(amplitudes.min())), max(0.0, float(amplitudes.max()))
    pad = 0.15 * max(hi - lo, 1e-9)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(0.0, float(result.t[-1]))


def _label(result: Result) -> str:
    preset = result.preset
    return f"{preset.letter}  {preset.title}" if preset.letter else preset.title


def pattern_figure(result: Result) -> Figure:
    """One pattern: V, V_th and spikes on top, the input below, on one time axis in ms."""
    import matplotlib

    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(8.0, 4.4), dpi=PNG_DPI, layout=None)
        FigureCanvasAgg(fig)
        grid = fig.add_gridspec(2, 1, height_ratios=(3.4, 1.0), hspace=0.08,
                                left=0.09, right=0.98, top=0.86, bottom=0.12)
        top = fig.add_subplot(grid[0])
        bottom = fig.add_subplot(grid[1], sharex=top)
        _draw_traces(top, result)
        _draw_input(bottom, result)
        top.tick_params(labelbottom=False)
        top.set_ylabel("membrane potential (mV)")
        bottom.set_ylabel("input I")
        bottom.set_xlabel("time (ms)")
        preset = result.preset
        fig.text(0.09, 0.955, _label(result), fontsize=13, fontweight="bold", va="center")
        fig.text(0.09, 0.905, f"{preset.name}  ·  method {result.method}, dt = "
                 f"{result.dt:g} ms  ·  {result.n_spikes} spikes", fontsize=9, color="0.3",
                 va="center")
        fig.legend(handles=top.get_legend_handles_labels()[0], loc="center right",
                   bbox_to_anchor=(0.98, 0.955), ncol=3, frameon=False, handlelength=1.8)
        top.grid(axis="y", color="0.92", linewidth=0.6)
    return fig


def gallery_figure(results: Sequence[Result],
                   passed: Sequence[bool | None] | None = None) -> Figure:
    """All patterns in a grid of 4 columns (5 rows for the 20 presets), lettered as in
    Figure 1 of the paper. A panel whose check failed says so in red."""
    import matplotlib

    n = len(results)
    columns = 4
    rows = max(1, -(-n // columns))
    passed = list(passed) if passed is not None else [None] * n
    first = results[0] if results else None
    methods = sorted({r.method for r in results})
    dts = sorted({r.dt for r in results})
    with matplotlib.rc_context(RC | {"xtick.labelsize": 7, "ytick.labelsize": 7}):
        height = 3.0 * rows + 1.2  # inches: 3 per row of panels, and the heading
        fig = Figure(figsize=(15.0, height), dpi=GALLERY_DPI, layout=None)
        FigureCanvasAgg(fig)
        outer = fig.add_gridspec(rows, columns, left=0.045, right=0.99, bottom=0.6 / height,
                                 top=1 - 1.15 / height, wspace=0.17, hspace=0.42)
        for index, result in enumerate(results):
            row, column = divmod(index, columns)
            cell = outer[row, column].subgridspec(2, 1, height_ratios=(3.3, 1.0), hspace=0.06)
            top = fig.add_subplot(cell[0])
            bottom = fig.add_subplot(cell[1], sharex=top)
            _draw_traces(top, result, linewidth=0.8)
            _draw_input(bottom, result, linewidth=0.8)
            top.tick_params(labelbottom=False)
            amplitudes = [amplitude for amplitude, _ in result.preset.segments]
            bottom.set_yticks(sorted({0.0, min(amplitudes), max(amplitudes)}))
            bottom.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
            top.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
            letter = result.preset.letter or str(index + 1)
            top.set_title(letter, loc="left", fontsize=13, fontweight="bold", pad=3)
            top.set_title(result.preset.title, loc="center", fontsize=9.5, pad=4)
            if passed[index] is False:
                top.set_title("check failed", loc="right", fontsize=8, color=FAIL_COLOR, pad=4)
            if column == 0:
                top.set_ylabel(r"$V$, $V_\mathrm{th}$ (mV)")
                bottom.set_ylabel("I")
            if row == rows - 1 or index + columns >= n:
                bottom.set_xlabel("time (ms)")
        if first is not None:
            how = (f"method {', '.join(methods)}, dt = "
                   f"{', '.join(f'{dt:g}' for dt in dts)} ms")
            y = 1 - 0.32 / height
            fig.text(0.045, y, "Mihalaş–Niebur (2009) generalized integrate-and-fire neuron: "
                     f"{n} firing patterns", fontsize=14, fontweight="bold", va="center")
            fig.text(0.045, y - 0.3 / height, how, fontsize=10, color="0.3", va="center")
            handles = fig.axes[0].get_legend_handles_labels()[0]
            handles += fig.axes[1].get_legend_handles_labels()[0]
            fig.legend(handles=handles, loc="center right", bbox_to_anchor=(0.99, y), ncol=4,
                       frameon=False, fontsize=10, handlelength=2.0)
    return fig


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """The figure encoded as ``png``, ``svg`` or ``pdf``, without a date, so reruns match."""
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"figure format must be one of {FIGURE_FORMATS}, got {fmt!r}")
    buffer = io.BytesIO()
    metadata = _NO_DATES[fmt]
    import matplotlib

    with matplotlib.rc_context(RC):
        fig.savefig(buffer, format=fmt, dpi="figure", metadata=metadata)
    return buffer.getvalue()


def save_figure(fig: Figure, path: Path, fmt: str) -> Path:
    """Encode ``fig`` and write it atomically to ``path``."""
    write_atomic(path, figure_bytes(fig, fmt))
    return path
