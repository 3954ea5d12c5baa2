"""The input schedule on the time grid t_k = k dt.

At step k (t_k to t_{k+1}) the input is the amplitude of the segment that contains t_k.
``exact`` honours a segment boundary that falls between grid points by splitting that step;
the fixed-step methods move it to the nearest grid point, and the grid says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gifcli.simulation.kernel import TAYLOR_REACH

ON_GRID = 1e-6  # in steps: a boundary this close to a grid point is on it
# rate * dt below this keeps ``exact`` in the modal form (TAYLOR_REACH, with a margin)
MODAL_REACH = 0.98 * TAYLOR_REACH


@dataclass(frozen=True)
class Grid:
    dt: float
    n_steps: int
    amplitudes: np.ndarray  # one per segment
    boundary_step: np.ndarray  # segment j ends at boundary_step[j] * dt + boundary_offset[j]
    boundary_offset: np.ndarray
    notes: tuple[str, ...]  # what the grid changed, for the user to read once


def n_steps_for(duration: float, dt: float) -> int:
    ratio = duration / dt
    return round(ratio) if abs(ratio - round(ratio)) < ON_GRID else math.floor(ratio)


def build_grid(segments: list[tuple[float, float]], dt: float, exact: bool) -> Grid:
    """Lay ``segments`` of (amplitude, duration ms) on the grid of ``dt``."""
    ends = np.cumsum([duration for _, duration in segments])
    steps, offsets, moved = [], [], []
    for end in ends[:-1]:
        ratio = end / dt
        if abs(ratio - round(ratio)) < ON_GRID:
            steps.append(round(ratio))
            offsets.append(0.0)
        elif exact:
            steps.append(math.floor(ratio))
            offsets.append(end - math.floor(ratio) * dt)
        else:
            steps.append(math.floor(ratio + 0.5))
            offsets.append(0.0)
            moved.append(f"{end:g}")
    notes = []
    if moved:
        notes.append(
            f"segment boundaries at {', '.join(moved)} ms are not on the {dt:g} ms grid; "
            "this method moves them to the nearest grid point"
        )
    n_steps = n_steps_for(float(ends[-1]), dt)
    if not math.isclose(n_steps * dt, ends[-1], rel_tol=1e-9):
        notes.append(
            f"the run lasts {ends[-1]:g} ms, not a whole number of {dt:g} ms steps; "
            f"it stops at {n_steps * dt:g} ms"
        )
    return Grid(
        dt=dt,
        n_steps=n_steps,
        amplitudes=np.array([amplitude for amplitude, _ in segments], dtype=np.float64),
        boundary_step=np.array(steps, dtype=np.int64),
        boundary_offset=np.array(offsets, dtype=np.float64),
        notes=tuple(notes),
    )


def fits_schedule(segments, dt: float) -> bool:
    """Whether ``dt`` may step this schedule of (amplitude, duration ms): no longer than the
    shortest segment, and the run a whole number of steps (else it would stop early)."""
    durations = [duration for _, duration in segments]
    total = math.fsum(durations)
    return dt <= min(durations) and math.isclose(n_steps_for(total, dt) * dt, total,
                                                 rel_tol=1e-9)


def fitted_dt(segments, dt: float) -> float:
    """``dt`` if it fits the schedule (``fits_schedule``), else the longest shorter step
    that does: the run then ends at the schedule's end, not at the grid point before it."""
    if fits_schedule(segments, dt):
        return dt
    total = math.fsum(duration for _, duration in segments)
    fitted = total / math.ceil(total / dt)
    while not fits_schedule(segments, fitted):  # rounding of total / n: one more step
        fitted = total / (round(total / fitted) + 1)
    return fitted


def coarsest_dt(segments, fastest_rate: float = 0.0) -> float:
    """The largest dt that fits the schedule (``fits_schedule``) and keeps ``exact`` in its
    modal form for rates up to ``fastest_rate`` (1/ms; rate * dt below TAYLOR_REACH).

    With ``exact``, spike times and counts do not depend on dt (docs/integrators.md), so a
    run that reads only spikes may step at this grid. The run is cut into a whole number of
    equal steps, each no longer than the shortest segment.
    """
    limit = min(duration for _, duration in segments)
    if fastest_rate > 0.0:  # MODAL_REACH keeps a margin below TAYLOR_REACH: no padding here
        limit = min(limit, MODAL_REACH / fastest_rate)
    return fitted_dt(segments, limit)
