"""A validated sweep cut into chunks, each of which can be computed anywhere.

A chunk is a contiguous run of points in row-major order and a block of the grid: the unit of
work of a Dask worker and of a zarr chunk. A plan pickles, so a worker computes a chunk from
the plan alone, in batched calls of :data:`BATCH_POINTS` points.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gifcli.analysis import checks
from gifcli.analysis.spike_grid import coarse_rate, fastest_rate, spike_dt
from gifcli.core.arguments import choice, count, items, number
from gifcli.core.errors import GifError
from gifcli.explore.sweep.axes import Axis, check_sweep
from gifcli.explore.sweep.columns import COLUMNS, ChunkResult
from gifcli.explore.sweep.points import Points, judge, simulate
from gifcli.model.parameters import METHODS
from gifcli.model.preset import (
    DEFAULT_MAX_STEPS,
    Preset,
    check_run_size,
    effective_dt,
    validate_preset,
)

CHUNK_POINTS = 100_000  # points per chunk: a worker's unit of work and a zarr chunk
BATCH_POINTS = 8_192  # points per batched call: its spike buffer and trains, some 14 MB
#: What a sweep costs, for the estimate given before a long one: the neuron-steps per second
#: of ``gif sweep`` with a check (docs/performance.md: 4.5e8 end to end for W1, 60 spikes a
#: point, on a quiet 2-core machine since the crossing test that cannot miss; rounded up),
#: and a zarr store's bytes per point: 11 measured on a 200,000-point grid of
#: tonic_bursting (compressed), 42 uncompressed (the most).
SWEEP_RATE = 5e8
STORED_BYTES_PER_POINT = 11
STORED_BYTES_PER_POINT_MOST = 42


@dataclass(frozen=True)
class Chunks:
    """A grid cut into blocks of about ``target`` points: the last axes whole, one axis cut,
    the axes before it one value at a time, so that each block is also one contiguous run
    of points in row-major order. Chunk ``k`` is block ``k`` in row-major order."""

    shape: tuple[int, ...]
    chunk_shape: tuple[int, ...]

    @classmethod
    def of(cls, shape: Sequence[int], target: int = CHUNK_POINTS) -> Chunks:
        shape = tuple(int(n) for n in shape)
        if target < 1:
            raise GifError(f"chunks must hold at least 1 point, got {target}")
        chunk = list(shape)
        whole = 1  # points in the axes kept whole, from the last one back
        for axis in range(len(shape) - 1, -1, -1):
            if whole * shape[axis] <= target:
                whole *= shape[axis]
                continue
            chunk[axis] = max(1, target // whole)
            chunk[:axis] = [1] * axis
            break
        return cls(shape, tuple(chunk))

    @property
    def counts(self) -> tuple[int, ...]:
        """Chunks along each axis."""
        return tuple(-(-n // c) for n, c in zip(self.shape, self.chunk_shape, strict=True))

    @property
    def count(self) -> int:
        return math.prod(self.counts)

    def region(self, k: int) -> tuple[slice, ...]:
        """Chunk ``k``'s block of the grid, one slice per axis."""
        at = np.unravel_index(k, self.counts)
        return tuple(slice(int(i) * c, min(n, (int(i) + 1) * c))
                     for i, c, n in zip(at, self.chunk_shape, self.shape, strict=True))

    def bounds(self, k: int) -> tuple[int, int]:
        """Chunk ``k``'s points, ``lo`` to ``hi`` (exclusive) in row-major order."""
        region = self.region(k)
        lo = int(np.ravel_multi_index([s.start for s in region], self.shape))
        return lo, lo + math.prod(s.stop - s.start for s in region)


@dataclass(frozen=True, eq=False)
class SweepPlan:
    """A validated sweep, ready to run chunk by chunk anywhere (it pickles for Dask)."""

    preset: Preset
    axes: tuple[Axis, ...]
    method: str
    dt: float
    grid: object  # gifcli.simulation.grid.Grid
    chunks: Chunks
    batch_points: int = BATCH_POINTS
    #: With ``exact`` and no dt given, the fastest rate (1/ms) of every point of the grid:
    #: the sweep and its f–I probe step at the coarsest grid for it (None: at dt as given).
    fastest_rate: float | None = None

    @property
    def coarse(self) -> bool:
        """Whether the sweep steps at the coarsest grid of its schedule (docs/sweeps.md)."""
        return self.fastest_rate is not None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.chunks.shape

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def checked(self) -> bool:
        return self.preset.check is not None

    @property
    def estimate_grid(self) -> tuple[int, float]:
        """(steps, dt) that the time estimate counts: the preset's default grid, also for a
        coarse sweep, whose time goes mostly to the spikes (the same at any grid) and which
        is not slower (docs/performance.md)."""
        from gifcli.simulation.grid import n_steps_for

        dt = effective_dt(self.preset, None) if self.coarse else self.dt
        return n_steps_for(self.preset.duration, dt), dt

    @property
    def seconds_estimate(self) -> float:
        """About how long the sweep takes, at SWEEP_RATE."""
        return self.size * self.estimate_grid[0] / SWEEP_RATE

    def compute(self, k: int) -> ChunkResult:
        """Simulate and judge chunk ``k``'s points."""
        lo, hi = self.chunks.bounds(k)
        return self.compute_points(np.arange(lo, hi))

    def compute_points(self, index: np.ndarray) -> ChunkResult:
        """Simulate and judge the points ``index`` (flat, row-major), BATCH_POINTS at once."""
        n = index.size
        columns = {name: np.full(n, np.nan) for name in COLUMNS}
        status = np.zeros(n, np.int8)
        passed = np.zeros(n, bool) if self.checked else None
        margin = np.full(n, np.nan) if self.checked else None
        seconds = {"simulate": 0.0, "check": 0.0}
        v_after = (checks.CHECKS[self.preset.check].v_after(self.preset.segments)
                   if self.checked else None)
        for lo in range(0, n, self.batch_points):
            part = slice(lo, min(n, lo + self.batch_points))
            # One call per batch: its spike buffer and trains are gone before the next one's.
            self._fill(index[part], part, v_after, columns, status, passed, margin, seconds)
        return ChunkResult(columns, status, passed, margin, seconds)

    def _fill(self, index, part, v_after, columns, status, passed, margin, seconds) -> None:
        started = time.perf_counter()
        points = Points.of(self.preset, self.axes, index)
        result, trains = simulate(points, self.grid, self.method, self.dt, v_after,
                                  trains_too=passed is not None)
        seconds["simulate"] += time.perf_counter() - started
        started = time.perf_counter()
        ok = result.status == 0
        status[part] = result.status
        # The kernel's own statistics: those of the trains, to the bit (tests hold it).
        for name, values in (("n_spikes", result.n_spikes), ("rate_hz", result.rate_hz),
                             ("first_spike_ms", result.first_spike_ms),
                             ("isi_cv", result.isi_cv), ("n_bursts", result.n_bursts)):
            columns[name][part] = np.where(ok, values, np.nan)
        if passed is not None:
            judged = judge(self.preset, points, result, trains, self.method, self.dt,
                           fastest_rate=self.fastest_rate)
            passed[part] = judged.passed & ok
            margin[part] = np.where(ok, judged.margin, np.nan)
        seconds["check"] += time.perf_counter() - started

    def trains(self, index: np.ndarray) -> dict[int, np.ndarray]:
        """The full spike trains of the points ``index``, by point."""
        points = Points.of(self.preset, self.axes, index)
        _result, trains = simulate(points, self.grid, self.method, self.dt, None)
        return {int(i): trains.train(j).copy() for j, i in enumerate(index.tolist())}


def plan_sweep(preset: Preset, axes: Sequence[Axis], method: str = "exact",
               dt: float | None = None, max_steps: int = DEFAULT_MAX_STEPS,
               chunk_points: int = CHUNK_POINTS, stored: bool = False,
               batch_points: int = BATCH_POINTS) -> SweepPlan:
    """Validate a sweep (PresetError, GifError) and cut its grid into chunks.

    With ``exact`` and no ``dt``, the sweep steps at the coarsest grid that fits the schedule
    for the fastest rate of every point of the grid (the same for every chunk, so a resumed
    sweep steps on it too)."""
    from gifcli.simulation.grid import build_grid

    preset, axes = validate_preset(preset), items(axes, "axes", Axis)
    method = choice(method, "method", METHODS)
    check_sweep(preset, axes, stored)
    given = number(dt, "dt")
    rate = coarse_rate(method, given, sweep_fastest_rate(preset, axes))
    dt = spike_dt(preset.segments, rate, effective_dt(preset, given))
    check_run_size(preset, dt, count(max_steps, "max_steps", 1))
    grid = build_grid(list(preset.segments), dt, exact=method == "exact")
    chunks = Chunks.of([axis.size for axis in axes], chunk_points)
    return SweepPlan(preset, axes, method, dt, grid, chunks, max(1, int(batch_points)), rate)


def sweep_fastest_rate(preset: Preset, axes: Sequence[Axis]) -> float:
    """The fastest rate (k1, k2, b, 1/tau) that any point of the grid of ``axes`` has."""
    params = dict(preset.params) | {axis.param: axis.values for axis in axes
                                    if axis.param in preset.params}
    return fastest_rate(params)
