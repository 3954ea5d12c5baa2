"""The input schedule on the time grid t_k = k dt.

At step k (t_k to t_{k+1}) the input is the amplitude of the segment that contains t_k.
``exact`` honours a segment boundary that falls between grid points by splitting that step;
the fixed-step methods move it to the nearest grid point, and the grid says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ON_GRID = 1e-6  # in steps: a boundary this close to a grid point is on it


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
