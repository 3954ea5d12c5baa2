"""Running every chunk of a plan, in this process or on a cluster, and gathering the table.

The chunks may finish in any order; each is put in its place in the per-point table, so the
result is the same whichever ran where.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gifcli.explore.sweep.axes import Axis
from gifcli.explore.sweep.columns import COLUMNS, ChunkResult
from gifcli.explore.sweep.plan import BATCH_POINTS, CHUNK_POINTS, SweepPlan, plan_sweep
from gifcli.explore.sweep.result import SweepResult, grid_notes, sample_trains
from gifcli.model.preset import DEFAULT_MAX_STEPS, Preset
from gifcli.simulation.batch import OVERFLOWED, TOO_MANY_SPIKES

#: progress(phase, done, total): phase is "simulate", "check" or "write"
Progress = Callable[[str, int, int], None]
#: chunk_progress(chunks done, chunks in all)
ChunkProgress = Callable[[int, int], None]


def no_progress(_phase: str, _done: int, _total: int) -> None:
    pass


def no_chunk_progress(_done: int, _total: int) -> None:
    pass


@dataclass(frozen=True, eq=False)
class Table:
    """A sweep's per-point arrays, filled chunk by chunk (see SweepResult)."""

    columns: dict[str, np.ndarray]
    status: np.ndarray
    passed: np.ndarray | None
    margin: np.ndarray | None
    seconds: dict[str, float]

    @classmethod
    def empty(cls, n: int, checked: bool) -> Table:
        return cls({name: np.full(n, np.nan) for name in COLUMNS}, np.zeros(n, np.int8),
                   np.zeros(n, bool) if checked else None,
                   np.full(n, np.nan) if checked else None, {"simulate": 0.0, "check": 0.0})

    def put(self, lo: int, chunk: ChunkResult) -> None:
        """Chunk results for the points from ``lo`` on."""
        part = slice(lo, lo + chunk.size)
        for name in COLUMNS:
            self.columns[name][part] = chunk.columns[name]
        self.status[part] = chunk.status
        if self.passed is not None:
            self.passed[part] = chunk.passed
            self.margin[part] = chunk.margin
        for stage, seconds in chunk.seconds.items():
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def result(self, plan: SweepPlan, chunks: dict[str, object] | None = None,
               seconds: dict[str, float] | None = None) -> SweepResult:
        """The finished sweep, with the trains that its figure draws."""
        return SweepResult(
            plan=plan, preset=plan.preset, method=plan.method, dt=plan.dt, axes=plan.axes,
            columns=self.columns, status=self.status, passed=self.passed, margin=self.margin,
            samples=sample_trains(plan, lambda points: self.status[points]),
            notes=grid_notes(plan, int(np.count_nonzero(self.status == TOO_MANY_SPIKES)),
                             int(np.count_nonzero(self.status == OVERFLOWED))),
            seconds=self.seconds | (seconds or {}),
            chunks=chunks or {"count": plan.chunks.count, "computed": plan.chunks.count,
                              "reused": 0, "points": math.prod(plan.chunks.chunk_shape)})


def run_sweep(preset: Preset, axes: Sequence[Axis], method: str = "exact",
              dt: float | None = None, max_steps: int = DEFAULT_MAX_STEPS,
              progress: ChunkProgress = no_chunk_progress, chunk_points: int = CHUNK_POINTS,
              batch_points: int = BATCH_POINTS) -> SweepResult:
    """Simulate ``preset`` at every point of the grid of ``axes``, and judge each, in this
    process; ``progress(done, total)`` after each chunk."""
    plan = plan_sweep(preset, axes, method, dt, max_steps, chunk_points,
                      batch_points=batch_points)
    return run_plan(plan, progress)


def run_plan(plan: SweepPlan, progress: ChunkProgress = no_chunk_progress,
             executor=None) -> SweepResult:
    """Every chunk of ``plan``, in this process in order, or on ``executor`` (a
    :class:`gifcli.explore.cluster.Cluster`) in any order; the results gathered in memory."""
    table = Table.empty(plan.size, plan.checked)
    count = plan.chunks.count
    finished = 0

    def put(k: int, chunk: ChunkResult) -> None:
        nonlocal finished
        table.put(plan.chunks.bounds(k)[0], chunk)
        finished += 1
        progress(finished, count)

    started = time.perf_counter()
    if executor is None:
        for k in range(count):
            put(k, plan.compute(k))
    else:
        executor.run(compute_chunk, plan, range(count), (), put)
    return table.result(plan, seconds={"chunks_wall": time.perf_counter() - started})


def compute_chunk(plan: SweepPlan, k: int) -> ChunkResult:
    """Chunk ``k`` of ``plan`` (a task for a worker)."""
    return plan.compute(k)
