"""The figure of a fit (NAME_fit.png): the spike trains over the input, and the search.

Left, on one time axis: a raster of the target train (for a spike-train target), the
preset's own train (where the search started) and the fitted train, and the input below
them. Right: the loss of the best candidate so far, per generation, with each restart
marked. Matplotlib's object API on the Agg canvas, as in :mod:`gifcli.plots.pattern`.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gifcli.explore.fit import FitResult, SpikeTarget
from gifcli.plots.pattern import (
    FAIL_COLOR,
    INPUT_COLOR,
    NOTE_COLOR,
    PNG_DPI,
    SPIKE_COLOR,
    TH_COLOR,
    V_COLOR,
    isolated_style,
    new_figure,
)

START_COLOR = "0.6"
SCORE_COLOR = "0.55"
FOOTER_WIDTH = 160  # characters of a footer line (the warnings, why the search stopped)


def _rows(result: FitResult) -> list[tuple[str, np.ndarray | None, str]]:
    """(label, spike times, colour) of each raster row, top to bottom; no times for a start
    that fires without end."""
    start = result.start_run
    rows: list[tuple[str, np.ndarray | None, str]] = [
        ("start", None if start is None else start.spike_times, START_COLOR)]
    if not isinstance(result.target, SpikeTarget):
        return rows + [("fitted", result.run.spike_times, V_COLOR)]
    several = len(result.targets) > 1
    for target, run in zip(result.targets, result.runs, strict=True):
        scale = f" ×{target.input_scale:g}" if several else ""
        rows += [(f"target{scale}", target.times, SPIKE_COLOR),
                 (f"fitted{scale}", run.spike_times, V_COLOR)]
    return rows


def _draw_rasters(ax: Axes, result: FitResult) -> None:
    rows = _rows(result)
    for k, (_, times, color) in enumerate(rows):
        y = len(rows) - 1 - k
        if times is None:
            ax.text(0.5, y, "fires without end", transform=ax.get_yaxis_transform(),
                    ha="center", va="center", fontsize=8, color=NOTE_COLOR)
            continue
        ax.vlines(times, y - 0.36, y + 0.36, color=color, linewidth=0.9)
        ax.text(1.005, y, f"{times.size}", transform=ax.get_yaxis_transform(), va="center",
                fontsize=7.5, color=NOTE_COLOR)
    ax.set_yticks(range(len(rows)), [label for label, _, _ in reversed(rows)])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlim(0.0, result.preset.duration)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", length=0)
    ax.spines["left"].set_visible(False)
    ax.spines["bottom"].set_visible(False)
    ax.set_title("spike trains (their counts at the right)", loc="left", fontsize=9,
                 color=NOTE_COLOR)


def _draw_input(ax: Axes, result: FitResult) -> None:
    segments = result.fitted.segments
    edges = np.concatenate([[0.0], np.cumsum([duration for _, duration in segments])])
    base = np.array([amplitude for amplitude, _ in segments] + [segments[-1][0]])
    scales = sorted({getattr(t, "input_scale", 1.0) for t in result.targets})
    for scale in scales:  # each target's input: the fitted amplitudes times its scale
        ax.fill_between(edges, base * scale, step="post", color=INPUT_COLOR,
                        alpha=0.18 / len(scales), linewidth=0)
        ax.step(edges, base * scale, where="post", color=INPUT_COLOR, linewidth=1.0)
    amplitudes = np.concatenate([base * scale for scale in scales])
    ax.axhline(0.0, color="0.6", linewidth=0.5, zorder=0)
    lo, hi = min(0.0, float(amplitudes.min())), max(0.0, float(amplitudes.max()))
    pad = 0.15 * max(hi - lo, 1e-9)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(0.0, result.preset.duration)
    ax.set_ylabel("$I_e/C$ (V/s)", parse_math=True)
    ax.set_xlabel("time (ms)")


def _draw_search(ax: Axes, result: FitResult) -> None:
    history = result.history
    generation = np.array([g.generation for g in history])
    spikes = isinstance(result.target, SpikeTarget)
    key, label = ("loss", "1 − Γ, best so far") if spikes else ("margin", "margin, best so far")
    best = np.array([g.measures.get(key, np.nan) for g in history], dtype=np.float64)
    ax.plot(generation, best, color=V_COLOR, linewidth=1.4, label=label,
            drawstyle="steps-post")
    scores = np.array([g.best_score for g in history])
    if spikes:
        ax.plot(generation, np.minimum(scores, 2.0), ".", color=SCORE_COLOR, markersize=2.5,
                label="search score, each generation")
        # the fitted values after the least-squares polish, one step past the last generation
        ax.plot([generation.max() + 1], [result.measures["loss"]], "*", color=V_COLOR,
                markersize=9, label=f"after least squares: {result.measures['loss']:.3g}")
        ax.set_ylim(-0.03, max(1.0, float(np.nanmax(best[np.isfinite(best)], initial=0.0))))
        ax.set_ylabel("loss 1 − Γ")
    else:
        ax.axhline(0.0, color=FAIL_COLOR, linewidth=0.7, linestyle=(0, (3, 2)),
                   label="passes above")
        ax.set_ylabel("margin")
    starts = [g.generation for g, before in zip(history[1:], history[:-1], strict=True)
              if g.restart != before.restart]
    for k, x in enumerate(starts):
        ax.axvline(x - 0.5, color=TH_COLOR, linewidth=0.7, linestyle=":",
                   label="restart" if k == 0 else None)
    ax.set_xlim(0.5, max(1.5, float(generation.max()) + 1.5 + spikes))
    ax.set_xlabel("generation")
    ax.set_title(f"the search: {result.evaluations:,} simulations", loc="left", fontsize=9,
                 color=NOTE_COLOR)
    ax.legend(loc="upper right" if spikes else "center right", frameon=False, fontsize=7)
    ax.grid(axis="y", color="0.92", linewidth=0.6)


def _value_text(result: FitResult, name: str) -> str:
    """'tau = 20 ± 2.3e-10', or 'tau = 32.2 (undetermined)'."""
    value = f"{name} = {result.values[name]:.6g}"
    if result.uncertainty is None:
        return value
    stderr = result.uncertainty.stderr[name]
    return f"{value} ({'undetermined' if math.isinf(stderr) else f'± {stderr:.2g}'})"


def _subtitle(result: FitResult) -> str:
    values = ", ".join(_value_text(result, name) for name in result.values)
    if isinstance(result.target, SpikeTarget):
        gammas = ", ".join(f"{g:.4f}" for g in result.gammas)
        score = f"Γ = {gammas}"
    else:
        verdict = result.verdict
        score = (f"{result.target.name} {'passes' if verdict.passed else 'fails'}, margin "
                 f"{result.measures['margin']:.3g}")
    return f"{values}  ·  {score}  ·  method {result.method}, dt = {result.dt:g} ms"


def fit_figure(result: FitResult) -> Figure:
    """The fit's figure: rasters over the input (left), the loss per generation (right)."""
    with isolated_style():
        fig = new_figure(figsize=(10.0, 5.0), dpi=PNG_DPI, layout=None)
        grid = fig.add_gridspec(2, 2, width_ratios=(2.3, 1.0), height_ratios=(2.2, 1.0),
                                left=0.075, right=0.985, top=0.82, bottom=0.2, wspace=0.2,
                                hspace=0.1)
        rasters = fig.add_subplot(grid[0, 0])
        stimulus = fig.add_subplot(grid[1, 0], sharex=rasters)
        search = fig.add_subplot(grid[:, 1])
        _draw_rasters(rasters, result)
        rasters.tick_params(labelbottom=False)
        _draw_input(stimulus, result)
        _draw_search(search, result)
        preset = result.preset
        aim = (f"pattern {result.target.name}" if not isinstance(result.target, SpikeTarget)
               else f"spike train of {Path(result.target.source).name}"
               if result.target.source else "spike train given")  # from Python: no file
        if len(result.targets) > 1:
            aim = f"{len(result.targets)} spike trains, one per input"
        fig.text(0.075, 0.95, f"{preset.name}: fitted to the {aim}", fontsize=12,
                 fontweight="bold", va="center")
        fig.text(0.075, 0.9, _subtitle(result), fontsize=8.5, color="0.3", va="center")
        undetermined = result.uncertainty.undetermined if result.uncertainty else ()
        footer = [(line, FAIL_COLOR) for s in undetermined
                  for line in textwrap.wrap(f"warning: {s}", FOOTER_WIDTH)]
        footer += [(line, NOTE_COLOR) for s in result.stops[-1:]
                   for line in textwrap.wrap(s, FOOTER_WIDTH)]
        for k, (text, color) in enumerate(footer[:3]):
            fig.text(0.075, 0.09 - 0.03 * k, text, fontsize=7.5, color=color, va="center")
    return fig
