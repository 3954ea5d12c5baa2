"""The grid of a run that reads only spikes.

With ``exact``, spike times and counts are those of continuous time at any dt that fits the
schedule (docs/integrators.md), and so are V's extrema (afterpotentials), so a sweep, ``gif
fi``, the f–I probe and a fit's search may step at the coarsest grid that fits it: fewer
steps, the same spikes. The fixed-step methods' spikes depend on dt, so they keep their
default grid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from gifcli.model.preset import DEFAULT_DT
from gifcli.simulation.grid import MODAL_REACH, coarsest_dt

RATES = ("k1", "k2", "b")  # rates of the model (1/ms); 1/tau is the fourth
# 4.9/ms, a hair less: the coarsest grid for it is 0.1 ms where 0.1 fits the schedule
GRID_RATE_CAP = MODAL_REACH / (DEFAULT_DT * (1.0 + 1e-9))


def fastest_rate(params: Mapping[str, float | np.ndarray]) -> float:
    """The fastest of k1, k2, b and 1/tau (1/ms) over every value given (scalars, or one
    per point): the rate that bounds ``exact``'s step in its modal form."""
    rates = [np.abs(np.asarray(params[name], dtype=np.float64)) for name in RATES]
    rates.append(1.0 / np.abs(np.asarray(params["tau"], dtype=np.float64)))
    return float(max(np.max(rate) for rate in rates))



def coarse_rate(method: str, dt: float | None, rate: float) -> float | None:
    """The rate that sets the coarsest grid of a run of ``method`` with ``dt`` (None: not
    given), or None if it steps at its dt or the default (fixed-step, or dt given).

    A rate faster than :data:`GRID_RATE_CAP` counts as that one: the grid is never finer
    than the default 0.1 ms, where such a rate leaves the modal form anyway (the
    triangular form, as exact at any dt) and a finer grid would only cost steps."""
    return min(rate, GRID_RATE_CAP) if method == "exact" and dt is None else None


def spike_dt(segments: Sequence[tuple[float, float]], rate: float | None,
             fallback: float) -> float:
    """The dt of a run of ``segments`` that reads only spikes: the coarsest grid that fits
    them for rates up to ``rate`` (see :func:`coarse_rate`), or ``fallback`` if None."""
    return fallback if rate is None else coarsest_dt(list(segments), rate)
