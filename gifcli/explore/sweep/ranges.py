"""Where the check passes: runs of consecutive values of a sweep's first axis.

These are the ranges a user reads off a sweep (how far a parameter may move and the pattern
still hold), one set per combination of the other axes' values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gifcli.explore.sweep.result import SweepResult


@dataclass(frozen=True)
class PassRange:
    """A run of consecutive grid values of the first axis where the check passes (both ends
    inclusive); ``fixed`` holds the values of the other axes along which it runs."""

    lo: float
    hi: float
    count: int  # grid points in the run
    fixed: tuple[float, ...] = ()


def pass_ranges(result: SweepResult) -> list[PassRange]:
    """The maximal runs of consecutive values of the first axis where the check passes, one
    set of runs per combination of the other axes' values. Empty without a check."""
    if result.passed is None:
        return []
    first = result.axes[0].values
    grid = result.passed.reshape(result.shape[0], -1)
    others = [axis.values for axis in result.axes[1:]]
    combos = [tuple(float(v) for v in combo) for combo in
              zip(*(g.ravel() for g in np.meshgrid(*others, indexing="ij")), strict=True)
              ] if others else [()]
    out: list[PassRange] = []
    for j, fixed in enumerate(combos):
        out.extend(_runs(first, grid[:, j], fixed))
    return out


def _runs(values: np.ndarray, ok: np.ndarray, fixed: tuple[float, ...]) -> list[PassRange]:
    edges = np.diff(np.concatenate(([0], ok.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [PassRange(float(values[a]), float(values[b]), int(b - a + 1), fixed)
            for a, b in zip(starts, stops, strict=True)]
