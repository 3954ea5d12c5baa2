"""A finished sweep in memory, and what its figure draws.

The figure reads only the points it draws, through :func:`grid_view`, so the same view comes
from memory or from a zarr store of a billion points.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from gifcli.core.errors import GifError
from gifcli.core.extras import require_extra
from gifcli.core.html import html_table
from gifcli.explore.sweep.axes import Axis
from gifcli.explore.sweep.columns import ChunkResult, merge_stats, resolve_metric
from gifcli.explore.sweep.plan import SweepPlan
from gifcli.model.preset import Preset
from gifcli.simulation.batch import OK, OVERFLOWED, TOO_MANY_SPIKES

MAX_RASTER_ROWS = 300  # a 1-D sweep's figure draws at most this many rows of spikes


@dataclass(frozen=True, eq=False)
class SweepResult:
    """One sweep: the grid and, per point, its features and its check's verdict and margin.

    Points are in row-major order over the axes: with two axes, point ``i * n2 + j`` has
    ``axes[0].values[i]`` and ``axes[1].values[j]``. ``columns`` holds COLUMNS (NaN where a
    feature is undefined or the point fired without end); ``samples`` the full spike trains
    of the points that a 1-D sweep's figure draws.
    """

    preset: Preset
    method: str
    dt: float
    axes: tuple[Axis, ...]
    columns: dict[str, np.ndarray]
    status: np.ndarray  # OK (0), TOO_MANY_SPIKES or OVERFLOWED: see STATUS_NAMES
    passed: np.ndarray | None  # bool per point; None when the preset names no check
    margin: np.ndarray | None  # the check's relative margin per point (NaN: not measured)
    samples: dict[int, np.ndarray] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)  # time per stage
    chunks: dict[str, object] = field(default_factory=dict)  # how the grid was cut and run
    plan: SweepPlan | None = None  # what ran (None for a result built by hand)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(axis.size for axis in self.axes)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def point_values(self) -> list[np.ndarray]:
        """Per axis, the value at every point (flattened grid)."""
        grids = np.meshgrid(*[axis.values for axis in self.axes], indexing="ij")
        return [g.ravel() for g in grids]

    @property
    def failed(self) -> np.ndarray:
        """Points that fired without end (the single-neuron path would raise)."""
        return self.status == TOO_MANY_SPIKES

    @property
    def overflowed(self) -> np.ndarray:
        """Points whose state overflowed to inf or NaN (the single-neuron path would raise):
        no numbers and no verdict, counted apart from the failed checks."""
        return self.status == OVERFLOWED

    def metric(self, name: str) -> np.ndarray:
        """``name`` (one of METRICS) per point, float, NaN where undefined or failed."""
        return self.columns[resolve_metric(name)].astype(np.float64)

    def spike_train(self, i: int) -> np.ndarray:
        """All spike times of point ``i``, one of the ``samples``."""
        return self.samples[i]

    def read(self, name: str, index: tuple[np.ndarray, ...]) -> np.ndarray:
        """``name`` (a metric, ``check_passed`` or ``status``) at the grid points ``index``
        (one array of indices per axis, as numpy.ix_ takes them)."""
        values = {"check_passed": self.passed, "status": self.status}.get(name)
        values = self.metric(name) if values is None else values
        return values.reshape(self.shape)[np.ix_(*index)]

    def view(self, metric: str) -> GridView:
        """What the sweep's figure draws."""
        return grid_view(self.preset, self.method, self.dt, self.axes, self.read, metric,
                         self.samples, self.passed is not None)

    def stats(self) -> dict[str, float | None]:
        """The sweep's summary (as :func:`merge_stats` gives it for chunks)."""
        whole = ChunkResult(self.columns, self.status, self.passed, self.margin, {})
        return merge_stats(whole.stats())

    def grid(self, name: str) -> np.ndarray:
        """``name`` (a metric, ``check_passed`` or ``check_margin``) shaped as the grid:
        ``grid("rate_hz")[i, j]`` is the point at ``axes[0].values[i]``,
        ``axes[1].values[j]``."""
        if name in ("check_passed", "check_margin"):
            values = self.passed if name == "check_passed" else self.margin
            if values is None:
                raise GifError(f"{name}: {self.preset.name} names no check")
            return values.reshape(self.shape)
        return self.metric(name).reshape(self.shape)

    def to_xarray(self, command: str = ""):
        """The sweep as an xarray Dataset in memory: the very Dataset that ``gif sweep
        --format zarr`` stores (``command`` fills its ``command`` attribute). Needs the
        ``cluster`` extra (xarray)."""
        if self.plan is None:
            raise GifError("to_xarray() needs a sweep made by run_sweep() (this one was "
                           "built by hand, without its plan)")
        require_extra("SweepResult.to_xarray()", "cluster", ["xarray"])
        from gifcli.explore.sweep.dataset import dataset

        return dataset(self, self.plan, command)

    def plot(self, metric: str = "rate_hz"):
        """The figure ``gif sweep`` draws for ``metric`` (one of METRICS): a raster and the
        metric for one axis, the metric's and the check's maps for two, small multiples of
        them for three (a matplotlib Figure; a notebook shows it inline)."""
        from gifcli.plots.inline import inline  # climbs: see pyproject's importlinter
        from gifcli.plots.sweep import sweep_figure

        return inline(sweep_figure(self, metric))

    def __repr__(self) -> str:
        grid = " × ".join(f"{axis.param}[{axis.size}]" for axis in self.axes)
        checked = "" if self.passed is None else f", {int(self.passed.sum())} pass"
        return (f"SweepResult({self.preset.name}, {grid} = {self.size:,} points, "
                f"method={self.method}, dt={self.dt:g} ms{checked})")

    def _repr_html_(self) -> str:
        rows = [("preset", self.preset.name)]
        rows += [(f"axis {axis.param}", f"{axis.size:,} values, {axis.values.min():g} … "
                  f"{axis.values.max():g}") for axis in self.axes]
        rows += [("points", f"{self.size:,}"), ("method", self.method),
                 ("dt", f"{self.dt:g} ms")]
        if self.passed is not None:
            finite = self.margin[np.isfinite(self.margin)]
            rows += [("check", f"{self.preset.check}: {int(self.passed.sum()):,} of "
                                f"{self.size:,} pass"),
                     ("margin", f"{finite.min():.3g} … {finite.max():.3g}" if finite.size
                      else "—")]
        if self.failed.any():
            rows.append(("fired without end", f"{int(self.failed.sum()):,} points"))
        if self.overflowed.any():
            rows.append(("overflowed", f"{int(self.overflowed.sum()):,} points"))
        return html_table(f"gifcli SweepResult: {self.preset.title}", rows)


def sample_trains(plan: SweepPlan, status_of: Callable[[np.ndarray], np.ndarray]
                  ) -> dict[int, np.ndarray]:
    """The trains that a 1-D sweep's raster draws, by point; ``status_of(points)`` gives
    their status. An overflowed point's train is no result: its row stays empty."""
    wanted = sampled_points(plan.axes)
    if not wanted.size:
        return {}
    overflowed = status_of(wanted) == OVERFLOWED
    return {i: train[:0] if gone else train
            for (i, train), gone in zip(plan.trains(wanted).items(), overflowed, strict=True)}


def sampled_points(axes: Sequence[Axis]) -> np.ndarray:
    """The points whose trains a 1-D sweep's raster draws (none for a grid)."""
    if len(axes) != 1:
        return np.zeros(0, dtype=np.int64)
    n = axes[0].size
    if n <= MAX_RASTER_ROWS:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, MAX_RASTER_ROWS)).astype(np.int64))


MAX_MAP_CELLS = 400  # values per axis that a 2-D heat map draws
MAX_PANELS = 12  # values of a third axis drawn as small multiples
MAX_PANEL_CELLS = 160  # values per axis that each small multiple draws


def spread(n: int, most: int) -> np.ndarray:
    """At most ``most`` indices of ``n`` values, evenly spread, first and last included."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, most)).astype(np.int64))


@dataclass(frozen=True, eq=False)
class GridView:
    """What a sweep's figure draws: the metric and the check at some of the grid points.

    ``shown`` holds, per axis, the indices of the values drawn: a 1-D sweep's raster rows
    (:func:`sampled_points`), every value of a 2-D grid up to MAX_MAP_CELLS per axis, and
    up to MAX_PANELS values of a third axis (small multiples of MAX_PANEL_CELLS). ``metric``,
    ``passed`` (None without a check) and ``failed`` (no numbers: fired without end or
    overflowed) have one entry per point drawn; ``failure`` names what the failed points
    did.
    """

    preset: Preset
    method: str
    dt: float
    axes: tuple[Axis, ...]
    shown: tuple[np.ndarray, ...]
    metric_name: str
    metric: np.ndarray
    passed: np.ndarray | None
    samples: dict[int, np.ndarray]
    failed: np.ndarray
    failure: str = "fired without end"

    @property
    def size(self) -> int:
        return math.prod(axis.size for axis in self.axes)

    def values(self, axis: int) -> np.ndarray:
        """The values drawn along ``axis``."""
        return self.axes[axis].values[self.shown[axis]]


def grid_view(preset: Preset, method: str, dt: float, axes: Sequence[Axis],
              read: Callable[[str, tuple[np.ndarray, ...]], np.ndarray], metric: str,
              samples: dict[int, np.ndarray], checked: bool) -> GridView:
    """The view of a sweep whose values ``read(name, index)`` gives (from memory or from a
    store): only the points drawn are read."""
    metric = resolve_metric(metric)
    sizes = [axis.size for axis in axes]
    if len(axes) == 1:
        shown = (sampled_points(axes),)
    elif len(axes) == 2:
        shown = tuple(spread(n, MAX_MAP_CELLS) for n in sizes)
    else:
        shown = (*(spread(n, MAX_PANEL_CELLS) for n in sizes[:2]), spread(sizes[2], MAX_PANELS))
    status = read("status", shown)
    failure = " or ".join(what for code, what in ((TOO_MANY_SPIKES, "fired without end"),
                                                  (OVERFLOWED, "overflowed"))
                          if (status == code).any())
    return GridView(preset, method, dt, tuple(axes), shown, metric, read(metric, shown),
                    read("check_passed", shown) if checked else None, samples,
                    status != OK, failure or "fired without end")


def grid_notes(plan: SweepPlan, failed: int, overflowed: int) -> tuple[str, ...]:
    """What the user should read once about a finished sweep."""
    notes = list(plan.grid.notes)
    if failed:
        notes.append(f"{failed} of {plan.size} points fired without end (more than the spike "
                     "limits allow); their metrics are left empty")
    if overflowed:
        notes.append(f"{overflowed} of {plan.size} points overflowed (the state reached inf or "
                     "NaN, as gif run refuses); their metrics and verdicts are left empty, "
                     "with status overflowed")
    return tuple(notes)
