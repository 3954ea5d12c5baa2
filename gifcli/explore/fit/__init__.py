"""Fitting: the parameters that reproduce a spike train, or that make a preset show a pattern.

Plain functions on numbers (the files and the figure are written by :mod:`gifcli.files.fit`
and :mod:`gifcli.plots.fit`, the command by :mod:`gifcli.cli.fit`):

- :func:`coincidence_factor` is Γ of Jolivet et al. (2008) for two spike trains, and
  :func:`coincidence_factors` the same for many model trains against one target at once;
- :func:`parse_free` reads ``P=LO:HI`` and :func:`check_free` validates the bounds;
- :func:`read_target` reads a target train (a CSV with a ``t_ms`` column, or a run's JSON);
- :func:`fit` runs CMA-ES (the ``cma`` package) over the free quantities, polishes a
  spike-train fit by least squares on the spike times, and returns a :class:`FitResult`
  with a standard error per free quantity.

**The two targets.** A :class:`SpikeTarget` scores a candidate by ``1 − Γ`` against the
target train (0 for a perfect match, about 1 for an unrelated train). Many candidates near
the answer reproduce every spike within the window and tie at Γ = 1; among equal Γ the one
whose coincident spikes lie closer in time ranks first (a term below a thousandth of what
one more coincidence is worth), so the search goes on to the parameters themselves. A
:class:`PatternTarget` maximises the relative margin of a pattern's check
(:func:`gifcli.analysis.checks.judge`): a passing candidate scores ``−margin`` (≤ 0), a failing one
``1 + the number of conditions it did not reach + how far it misses the first of them``
(squashed into [0, 1)), so every failing candidate scores above every passing one and
passing more conditions scores better.

**The optimizer.** Each free quantity is searched on [LO, HI], scaled to [0, 1], so that
one step size suits them all; CMA-ES keeps its samples inside the box (pycma's
``BoundTransform``). The search starts at the preset's own values (clipped into the box),
with a step of :data:`SIGMA0` of each range. Every generation's whole population is
simulated in one batched kernel call (:func:`gifcli.simulation.batch.run_batch`). A run
stops when CMA-ES has converged, when it has stalled, at the budget of simulations, or
(for spike trains) as soon as Γ = 1. Then the polish (:mod:`.polish`) minimises the
spike-time differences by least squares over growing prefixes of the trains. A run that
ends short of its goal (Γ = 1, or a passing check) restarts from a random point with twice
the population, up to ``restarts`` times. The random numbers come from a generator
seeded by ``seed``, so a seed gives the same result, to the bit.
"""

from gifcli.explore.fit.polish import TIMING_FLOOR_MS, Uncertainty
from gifcli.explore.fit.search import (
    FLAT_GENERATIONS,
    MIN_POPSIZE,
    SIGMA0,
    STALL_GENERATIONS,
    TOLX,
    FitResult,
    Generation,
    default_popsize,
    fit,
    population,
    reflect,
    under_input,
    warm_up,
)
from gifcli.explore.fit.targets import (
    DEFAULT_BUDGET,
    DEFAULT_RESTARTS,
    DEFAULT_SEED,
    MAX_BUDGET,
    WINDOW_MS,
    Coincidences,
    Free,
    PatternTarget,
    SpikeTarget,
    Target,
    check_free,
    coincidence_factor,
    coincidence_factors,
    parse_free,
    read_target,
    start_values,
)

__all__ = [
    "DEFAULT_BUDGET", "DEFAULT_RESTARTS", "DEFAULT_SEED", "FLAT_GENERATIONS", "MAX_BUDGET",
    "MIN_POPSIZE", "SIGMA0", "STALL_GENERATIONS", "TIMING_FLOOR_MS", "TOLX", "WINDOW_MS",
    "Coincidences", "FitResult", "Free", "Generation", "PatternTarget", "SpikeTarget",
    "Target", "Uncertainty", "check_free", "coincidence_factor", "coincidence_factors",
    "default_popsize", "fit", "parse_free", "population", "read_target", "reflect",
    "start_values", "under_input", "warm_up",
]
