"""The polish of a fit, and what the spike trains determine.

With ``exact``, a spike time is a smooth function of the parameters wherever the spike
count does not change. :func:`polish` takes the search's best candidate and minimises the
differences between its spike times and the target's by bounded least squares
(``scipy.optimize.least_squares``, trust-region reflective), first over a prefix of each
target train, then over longer prefixes up to the whole trains; the Jacobian comes from
central finite differences, every candidate of it simulated in one batched call per target.
:func:`uncertainty` turns that Jacobian at the answer into a standard error per free
quantity and names the combinations that the trains leave undetermined.

Everything here works in the search's scaled coordinates (each free quantity's box mapped
to [0, 1]); ``simulate`` maps an (N, p) array of them to one SpikeTrains of N rows per
target.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from gifcli.analysis.features import SpikeTrains

#: Spike times of ``exact`` are located to about 1e-12 ms and agree across dt to 2e-10 ms;
#: a timing error below this is not told apart from zero (the standard errors' floor).
TIMING_FLOOR_MS = 1e-9
FD_STEP = 1e-6  # the finite-difference step, in scaled coordinates
PREFIXES = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0)  # the share of each train that a stage fits
EXACT_RMS_MS = 1e-6  # a polish this close reproduces the trains: no second try
STAGE_EVALUATIONS = 60  # evaluations of the residuals per stage, at most (scipy's max_nfev)
#: A direction along which the trains change this much less than along the best-determined
#: one is beyond what finite differences resolve: the trains do not determine it.
DEGENERATE_RATIO = 1e-6
SHARE_IN_COMBINATION = 0.05  # a quantity takes part in a combination above this weight
LEAST_SQUARES_STOPS = {
    0: "its iteration limit",
    1: "the gradient vanished",
    2: "the sum of squares stopped decreasing",
    3: "its steps became negligible",
    4: "the sum of squares and its steps stopped changing",
}

Simulate = Callable[[np.ndarray], list[SpikeTrains]]


@dataclass(frozen=True)
class Train:
    """One target train: its spike times (ms, sorted) and the run's duration (ms)."""

    times: np.ndarray
    duration: float


@dataclass(frozen=True)
class Polished:
    """Where the polish ended (scaled coordinates), its cost and why it stopped."""

    x: np.ndarray
    evaluations: int  # candidates simulated (each on every target)
    rms_ms: float  # of the spike-time differences over the whole trains at x
    stop: str


def prefix_sizes(trains: Sequence[Train], share: float) -> list[int]:
    """How many leading spikes of each train a stage fits (at least one)."""
    return [min(t.times.size, max(1, math.ceil(share * t.times.size))) for t in trains]


def residuals(found: list[SpikeTrains], trains: Sequence[Train], sizes: Sequence[int],
              row: int) -> np.ndarray:
    """The spike-time differences (ms) of candidate ``row`` over the first ``sizes[k]``
    spikes of each target ``k``: model minus target, in order. A missing model spike counts
    as if it came at the end of the run; when a whole train is fitted, a spike beyond the
    target's count adds how far before the end it came (0 as it leaves the run)."""
    parts = []
    for model, train, m in zip(found, trains, sizes, strict=True):
        times = model.times[model.offsets[row]:model.offsets[row + 1]]
        wanted = train.times[:m]
        got = np.full(m, train.duration)
        got[:min(m, times.size)] = times[:m]
        parts.append(got - wanted)
        if m == train.times.size:
            extra = train.duration - times[m] if times.size > m else 0.0
            parts.append(np.array([extra]))
    return np.concatenate(parts)


def _jacobian(simulate: Simulate, x: np.ndarray, trains: Sequence[Train],
              sizes: Sequence[int]) -> np.ndarray:
    """d residuals / d x by central differences (one-sided at a bound): the 2p candidates
    in one batched call per target."""
    p = x.size
    up = np.minimum(x + FD_STEP * np.eye(p), 1.0)
    down = np.maximum(x - FD_STEP * np.eye(p), 0.0)
    found = simulate(np.vstack([up, down]))
    columns = [(residuals(found, trains, sizes, j) - residuals(found, trains, sizes, p + j))
               / (up[j, j] - down[j, j]) for j in range(p)]
    return np.column_stack(columns)


class _Counter:
    """The residuals and Jacobian of one stage, counting the candidates simulated."""

    def __init__(self, simulate: Simulate, trains: Sequence[Train], sizes: Sequence[int]):
        self.simulate, self.trains, self.sizes = simulate, trains, sizes
        self.evaluations = 0

    def residuals(self, x: np.ndarray) -> np.ndarray:
        self.evaluations += 1
        return residuals(self.simulate(x[None, :]), self.trains, self.sizes, 0)

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        self.evaluations += 2 * x.size
        return _jacobian(self.simulate, x, self.trains, self.sizes)


def matched_share(found: list[SpikeTrains], trains: Sequence[Train], window: float) -> float:
    """The largest share of PREFIXES over which candidate 0 pairs every spike of every
    target, in order, within ±window (0 if not even the first)."""
    best = 0.0
    for share in PREFIXES:
        if np.all(np.abs(residuals(found, trains, prefix_sizes(trains, share), 0)) <= window):
            best = share
    return best


def _stages(simulate: Simulate, trains: Sequence[Train], x: np.ndarray,
            shares: Sequence[float]) -> Polished:
    """Least squares over the prefixes of ``shares`` in turn, each from where the last
    ended, and the RMS difference over the whole trains at the end."""
    from scipy.optimize import least_squares

    evaluations, stop = 0, "nothing to polish"
    for share in shares:
        stage = _Counter(simulate, trains, prefix_sizes(trains, share))
        done = least_squares(stage.residuals, x, jac=stage.jacobian, bounds=(0.0, 1.0),
                             method="trf", x_scale="jac", ftol=1e-15, xtol=1e-15,
                             gtol=1e-15, max_nfev=STAGE_EVALUATIONS)
        x, evaluations = np.clip(done.x, 0.0, 1.0), evaluations + stage.evaluations
        stop = LEAST_SQUARES_STOPS.get(done.status, done.message)
    final = residuals(simulate(x[None, :]), trains, [t.times.size for t in trains], 0)
    rms = float(np.sqrt(np.mean(final ** 2)))
    return Polished(x, evaluations + 1, rms,
                    f"least squares on every spike: {stop} (RMS {rms:.2g} ms)")


def polish(simulate: Simulate, trains: Sequence[Train], x0: np.ndarray,
           window: float) -> Polished:
    """Least squares on the spike times from ``x0``, over growing prefixes of the trains.

    First from the longest prefix that ``x0`` already pairs within the window. If that
    does not reproduce the trains to EXACT_RMS_MS, again from the shortest prefix: a
    candidate whose late spikes all fall within the window can sit in a basin of its own
    (a burst's spikes shifted in timing), and the early spikes alone lead out of it. The
    better of the two (the lower RMS difference over the whole trains)."""
    x = np.clip(np.asarray(x0, dtype=np.float64), 0.0, 1.0)
    start = matched_share(simulate(x[None, :]), trains, window)
    first = _stages(simulate, trains, x, [s for s in PREFIXES if s >= start])
    if first.rms_ms <= EXACT_RMS_MS or start == 0.0:
        return replace(first, evaluations=first.evaluations + 1)
    second = _stages(simulate, trains, x, PREFIXES)
    best = min((first, second), key=lambda p: p.rms_ms)
    return replace(best, evaluations=first.evaluations + second.evaluations + 1)


@dataclass(frozen=True)
class Uncertainty:
    """What the trains determine at the answer: a standard error per free quantity (in its
    own unit; inf where a combination is undetermined), the spike-timing error they assume,
    and one sentence per undetermined combination."""

    stderr: dict[str, float]
    timing_ms: float
    undetermined: tuple[str, ...]

    def range(self, name: str, value: float, lo: float, hi: float) -> tuple[float, float]:
        """value ± 2 standard errors, within the box [lo, hi]."""
        spread = 2.0 * self.stderr[name]
        return max(lo, value - spread), min(hi, value + spread)


def uncertainty(simulate: Simulate, trains: Sequence[Train], x: np.ndarray,
                names: Sequence[str], spans: Sequence[float]) -> Uncertainty:
    """Standard errors from the Jacobian of the whole trains at ``x``: the covariance
    σ² (JᵀJ)⁻¹ with σ the RMS spike-time difference (at least TIMING_FLOOR_MS), over the
    directions that the trains determine. ``spans`` are the boxes' widths (HI − LO)."""
    whole = [t.times.size for t in trains]
    r = residuals(simulate(x[None, :]), trains, whole, 0)
    jacobian = _jacobian(simulate, x, trains, whole)
    dof = max(sum(whole) - x.size, 1)  # the spikes, not the extra-spike terms (zero here)
    sigma = max(float(np.sqrt(r @ r / dof)), TIMING_FLOOR_MS)
    _, singular, directions = np.linalg.svd(jacobian, full_matrices=True)
    # fewer spikes than free quantities: the directions beyond them move no spike at all
    singular = np.concatenate([singular, np.zeros(x.size - singular.size)])
    lost = singular <= DEGENERATE_RATIO * singular[0] if singular[0] > 0 else singular >= 0
    kept = directions[~lost]
    covariance = (kept.T / singular[~lost] ** 2) @ kept * sigma ** 2
    spans = np.asarray(spans, dtype=np.float64)
    stderr = np.sqrt(np.diag(covariance)) * spans
    sentences = []
    for direction in directions[lost]:
        real = direction * spans  # the direction in each quantity's own unit
        taking_part = np.abs(direction) >= SHARE_IN_COMBINATION * np.abs(direction).max()
        stderr[taking_part] = math.inf
        sentences.append(_undetermined_sentence(real, taking_part, names))
    return Uncertainty({n: float(s) for n, s in zip(names, stderr, strict=True)}, sigma,
                       tuple(sentences))


def _undetermined_sentence(real: np.ndarray, taking_part: np.ndarray,
                           names: Sequence[str]) -> str:
    """'the spike trains do not determine tau and input_scale apart: ...'"""
    involved = [k for k in range(real.size) if taking_part[k]]
    if len(involved) == 1:
        return (f"the spike trains do not determine {names[involved[0]]}: changing it "
                f"leaves every spike time as it is")
    first = involved[0]
    together = ", ".join(f"{names[k]} by {real[k] / real[first]:+.3g}" for k in involved[1:])
    listed = " and ".join([", ".join(names[k] for k in involved[:-1]), names[involved[-1]]])
    return (f"the spike trains do not determine {listed} apart: changing {names[first]} by "
            f"+1 with {together} leaves every spike time as it is, to first order")
