"""The 20 pattern checks, with their margins: one engine for one run and for a whole batch.

A check is data: a list of *conditions* from a small vocabulary (spikes in a window, no spike
in a window, bursts, ISI statistics, a voltage excursion, the f–I probe), all of which must
hold. Windows are half-open, ``[lo, hi)``, and segments count from 1. Every condition is
measured for N points at once from their :class:`~gifcli.features.SpikeTrains` (no Python
loop over points), and a single run is a batch of one, so ``gif run`` and a sweep point of
the same parameters get the same verdict and the same margin to the bit.

Entry points:

- :func:`judge` takes the trains of N points (and, for the checks that need them, the
  afterpotential extrema and an f–I probe) and returns a :class:`Judgement`: the verdict and
  the margin of every point as arrays, and :meth:`Judgement.verdict` for one point's reasons;
- :func:`evaluate` takes one :class:`gifcli.result.Result` and returns its :class:`Verdict`,
  or None when the preset names no check; :func:`check_spikes` takes spike times directly.

**Margins** are measured on spike times (and on V for afterpotentials, on the probe's rate
for the excitability classes), in each condition's own unit:

- a threshold on a number (ISI CV < 0.05, first ISI ≤ 10 ms, rate < 10 Hz, ...): the distance
  to the threshold, negative when it is missed;
- "≥ n spikes (or bursts) in [lo, hi)": ``hi − t_n``, t_n being the n-th at or after lo: how
  much later it could come (negative: how much earlier it must come);
- "no spike in [lo, hi)": how far the nearest spikes outside lie from the window (the first
  at or after lo, less hi; lo, less the last before it); negative when one is inside.

A margin over its *scale* (the threshold, the window's length) is its relative margin; the
check's margin is the smallest relative margin of its conditions, or on a failure the failing
condition's. It is NaN (JSON null) where there is nothing to measure: a count missed with no
spike to move, or a threshold on a statistic that does not exist.

The conditions of a point are measured in order until the first that fails; later ones
(the f–I probe, the costliest) are measured only for the points that are still passing.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from gifcli.features import BURST_MAX_ISI_MS, SpikeTrains, segment_bounds

if TYPE_CHECKING:
    from gifcli.probe import Onsets
    from gifcli.result import Result

# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Margin:
    """By how much one condition holds (negative: by how much it fails), in ``unit``."""

    condition: str  # e.g. "ISI CV < 0.05"
    value: float
    unit: str  # "ms", "mV", "Hz" or "" (a pure number)
    scale: float  # > 0; value / scale ranks the margins of different conditions

    @property
    def relative(self) -> float:
        return self.value / self.scale

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.condition}: margin {self.value:.3g}{unit}"


@dataclass(frozen=True)
class Verdict:
    """A check's verdict on one run: ``passed``, a one-line ``reason`` (on a pass too), the
    tightest condition's ``margin`` (the failing one's on a fail; ``margin.relative`` is the
    number shown as the margin: how far from failing, negative when failing) and every
    measured condition's margin in ``margins``."""

    passed: bool
    reason: str  # one line, on a pass too
    margin: Margin | None = None  # the tightest condition (the failing one on a fail)
    margins: tuple[Margin, ...] = ()  # every measured condition, in the check's order

    def as_json(self) -> dict[str, bool | str | float | None]:
        """The ``check`` object of the JSON summary: margin is the relative margin."""
        margin = self.margin
        return {"passed": self.passed, "reason": self.reason,
                "margin": None if margin is None else margin.relative,
                "margin_condition": None if margin is None else str(margin)}


# --- what the conditions read --------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Extrema:
    """Per point, V after a segment ends (at the grid points): its first peak, and the lowest
    V after the peak (NaN when the peak is the last grid point); one run's trace also gives
    the peak's time (a batch does not keep it: NaN)."""

    peak: np.ndarray
    trough: np.ndarray
    peak_time: np.ndarray | None = None

    @classmethod
    def of_trace(cls, t: np.ndarray, V: np.ndarray, after: float) -> Extrema:
        start = int(np.searchsorted(t, after, side="left"))
        if start >= t.size:
            return cls(*(np.array([np.nan]) for _ in range(3)))
        peak_at = start + int(np.argmax(V[start:]))
        trough = float(V[peak_at + 1:].min()) if peak_at + 1 < V.size else np.nan
        return cls(np.array([V[peak_at]]), np.array([trough]), np.array([t[peak_at]]))


@dataclass(eq=False)
class Context:
    """What the conditions read for N points of one schedule."""

    trains: SpikeTrains
    segments: Sequence[tuple[float, float]]
    V_rest: float | np.ndarray = -70.0
    extrema: Callable[[float], Extrema] | None = None  # V after that time
    onsets: Callable[[np.ndarray], Onsets] | None = None  # the probe of those points
    bounds: list[tuple[float, float]] = field(init=False)

    def __post_init__(self) -> None:
        self.bounds = segment_bounds(self.segments)

    @property
    def end(self) -> float:
        return self.bounds[-1][1]

    @property
    def size(self) -> int:
        return len(self.trains)


@dataclass(eq=False)
class Measured:
    """One condition over N points: whether it holds, its margins, and what its text reads."""

    passed: np.ndarray
    margins: list[tuple[str, np.ndarray, str, float | np.ndarray]]  # label, value, unit, scale
    describe: Callable[[int], str]  # point -> one phrase (pass or fail)

    def margins_of(self, i: int) -> list[Margin]:
        out = []
        for label, value, unit, scale in self.margins:
            v, s = float(value[i]), float(np.broadcast_to(scale, value.shape)[i])
            if np.isfinite(v) and s > 0:
                out.append(Margin(label, v, unit, s))
        return out

    def relative(self) -> np.ndarray:
        """(n_margins, N): each margin over its scale, NaN where not measured."""
        if not self.margins:
            return np.full((1, self.passed.size), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.stack([np.where(np.asarray(scale) > 0, value / scale, np.nan)
                             for _, value, _, scale in self.margins])


# --- times and windows --------------------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    """A time in the run: ``frac`` of the way through segment ``seg`` plus ``offset`` ms.

    ``seg`` counts from 1; ``seg = 0`` means the whole run.
    """

    seg: int
    frac: float
    offset: float = 0.0

    def at(self, ctx: Context) -> float:
        lo, hi = (0.0, ctx.end) if self.seg == 0 else ctx.bounds[self.seg - 1]
        return lo + self.frac * (hi - lo) + self.offset


def start(seg: int, plus: float = 0.0) -> Edge:
    return Edge(seg, 0.0, plus)


def end(seg: int, plus: float = 0.0) -> Edge:
    return Edge(seg, 1.0, plus)


def of_run(frac: float) -> Edge:
    return Edge(0, frac)


RUN_START, RUN_END = of_run(0.0), of_run(1.0)


@dataclass(frozen=True)
class Window:
    """The half-open window [lo, hi); ``where`` names it in reasons ("" = the whole run)."""

    lo: Edge
    hi: Edge
    where: str = ""

    def at(self, ctx: Context) -> tuple[float, float]:
        return self.lo.at(ctx), self.hi.at(ctx)

    def describe(self, lo: float, hi: float) -> str:
        return f" {self.where} [{lo:g}, {hi:g}) ms" if self.where else ""


WHOLE_RUN = Window(RUN_START, RUN_END)


def segment(seg: int, where: str | None = None) -> Window:
    return Window(start(seg), end(seg), where or f"in seg {seg}")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _limit(value: np.ndarray, limit: float, at_most: bool, strict: bool) -> np.ndarray:
    """value <, ≤, ≥ or > limit; False where value is NaN."""
    if at_most:
        return value < limit if strict else value <= limit
    return value > limit if strict else value >= limit


# --- the vocabulary of conditions ---------------------------------------------------------------


class Condition(Protocol):
    def measure(self, ctx: Context, active: np.ndarray) -> Measured: ...


@dataclass(frozen=True)
class AtLeast:
    """≥ n spikes (or bursts, counted where they start) in the window."""

    n: int
    window: Window = WHOLE_RUN
    count_bursts: bool = False

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        lo, hi = self.window.at(ctx)
        source = ctx.trains.bursts.starts if self.count_bursts else ctx.trains
        noun = "burst" if self.count_bursts else "spike"
        count = source.count_in(lo, hi)
        nth = source.nth_from(lo, self.n)
        passed = count >= self.n

        def describe(i: int) -> str:
            text = _n(int(count[i]), noun) + self.window.describe(lo, hi)
            return text if passed[i] else f"{text}, expected ≥ {self.n}"

        label = f"{_ordinal(self.n)} {noun} before {hi:g} ms"
        return Measured(passed, [(label, hi - nth, "ms", hi - lo)], describe)


@dataclass(frozen=True)
class NoSpike:
    """No spike in the window; margins: how far the nearest spikes lie from it."""

    window: Window

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        lo, hi = self.window.at(ctx)
        count = ctx.trains.count_in(lo, hi)
        following, before = ctx.trains.nth_from(lo, 1), ctx.trains.last_before(lo)
        where = self.window.describe(lo, hi)
        passed = count == 0

        def describe(i: int) -> str:
            if passed[i]:
                return f"no spike{where}"
            return (f"{_n(int(count[i]), 'spike')}{where}, first at {following[i]:.1f} ms; "
                    "expected none")

        span = hi - lo
        return Measured(passed, [(f"no spike in [{lo:g}, {hi:g}) ms", following - hi, "ms", span),
                                 (f"last spike before {lo:g} ms", lo - before, "ms", span)],
                        describe)


@dataclass(frozen=True)
class Exactly:
    """Exactly n ≥ 1 spikes in the window; margins: the n-th's and the next one's time."""

    n: int
    window: Window = WHOLE_RUN

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        lo, hi = self.window.at(ctx)
        count = ctx.trains.count_in(lo, hi)
        nth, following = ctx.trains.nth_from(lo, self.n), ctx.trains.nth_from(lo, self.n + 1)
        passed = count == self.n

        def describe(i: int) -> str:
            text = _n(int(count[i]), "spike") + self.window.describe(lo, hi)
            return text if passed[i] else f"{text}, expected exactly {self.n}"

        span = hi - lo
        return Measured(passed, [
            (f"{_ordinal(self.n)} spike before {hi:g} ms", hi - nth, "ms", span),
            (f"{_ordinal(self.n + 1)} spike at or after {hi:g} ms", following - hi, "ms", span),
        ], describe)


@dataclass(frozen=True)
class IsiCv:
    """The CV of the ISIs (or of the last ``last`` ISIs) below ``limit``."""

    limit: float
    strict: bool = True  # < rather than ≤
    last: int | None = None

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        trains = ctx.trains
        if self.last is None:
            cv, label = trains.isi_cv, "ISI CV"
        else:
            tail = trains.tail_isis(self.last)
            mean = tail.mean(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                cv = np.sqrt(((tail - mean[:, None]) ** 2).mean(axis=1)) / mean
            label = f"CV of the last {self.last} ISIs"
        op = "<" if self.strict else "≤"
        passed = _limit(cv, self.limit, at_most=True, strict=self.strict)

        def describe(i: int) -> str:
            if np.isnan(cv[i]):
                if self.last is None:
                    return f"{label} undefined with {_n(int(trains.counts[i]), 'spike')}"
                return f"{label} undefined: only {_n(int(trains.n_isis[i]), 'ISI')}"
            text = f"{label} {cv[i]:.3f}"
            return text if passed[i] else f"{text}, expected {op} {self.limit:g}"

        return Measured(passed, [(f"{label} {op} {self.limit:g}", self.limit - cv, "",
                                  self.limit)], describe)


@dataclass(frozen=True)
class LastSpikeLate:
    """The last spike later than end − k × mean ISI (the firing lasts to the end)."""

    k: float = 2.0

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        trains = ctx.trains
        mean = trains.isi_mean
        bound = ctx.end - self.k * mean
        last = trains.last()
        passed = last > bound

        def describe(i: int) -> str:
            if np.isnan(mean[i]):
                return f"mean ISI undefined with {_n(int(trains.counts[i]), 'spike')}"
            if not passed[i]:
                return (f"last spike at {last[i]:.1f} ms, expected after {bound[i]:.1f} ms "
                        f"(end − {self.k:g} × mean ISI)")
            return f"last at {last[i]:.1f} ms"

        return Measured(passed, [(f"last spike after end − {self.k:g} × mean ISI",
                                  last - bound, "ms", self.k * mean)], describe)


@dataclass(frozen=True)
class FirstSpikeNotBefore:
    """The first spike at or after ``edge``; ``edge.offset`` (> 0) is the margin's scale."""

    edge: Edge
    label: str  # why that time, e.g. "100 ms after onset"

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        bound, first = self.edge.at(ctx), ctx.trains.first()
        passed = first >= bound

        def describe(i: int) -> str:
            if np.isnan(first[i]):
                return "no spike"
            if not passed[i]:
                return (f"first spike at {first[i]:.1f} ms, expected ≥ {bound:g} ms "
                        f"({self.label})")
            return f"first at {first[i]:.1f} ms"

        return Measured(passed, [(f"first spike ≥ {bound:g} ms", first - bound, "ms",
                                  self.edge.offset)], describe)


@dataclass(frozen=True)
class RateBelow:
    """The mean rate over the whole run below ``hz``."""

    hz: float

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        rate = 1000.0 * ctx.trains.counts / ctx.end
        passed = rate < self.hz

        def describe(i: int) -> str:
            text = f"rate {rate[i]:.2f} Hz"
            return text if passed[i] else f"{text}, expected < {self.hz:g} Hz"

        return Measured(passed, [(f"rate < {self.hz:g} Hz", self.hz - rate, "Hz", self.hz)],
                        describe)


@dataclass(frozen=True)
class IsisNonDecreasing:
    """Each ISI ≥ the one before − ``tolerance`` ms; margin scale: the mean ISI."""

    tolerance: float = 1e-6

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        trains = ctx.trains
        least = trains.least_isi_step()
        passed = least >= -self.tolerance

        def describe(i: int) -> str:
            n_isis = int(trains.n_isis[i])
            if n_isis < 2:
                return f"ISI trend undefined: only {_n(n_isis, 'ISI')}"
            isis = np.diff(trains.train(i))
            if passed[i]:
                return f"ISIs grow {isis[0]:.1f} → {isis[-1]:.1f} ms"
            k = int(np.argmin(np.diff(isis)))
            return (f"ISI {k + 2} is shorter than ISI {k + 1} by {-least[i]:.3g} ms "
                    f"({isis[k]:.3f} → {isis[k + 1]:.3f} ms)")

        return Measured(passed, [("ISIs non-decreasing", least + self.tolerance, "ms",
                                  trains.isi_mean)], describe)


@dataclass(frozen=True)
class LastOverFirstIsi:
    """The last ISI ≥ ``ratio`` × the first; margin in units of the ratio, scale ratio − 1."""

    ratio: float

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        trains = ctx.trains
        first, last = trains.isi_at(0), trains.isi_at(-1)
        defined = trains.n_isis >= 2
        first, last = np.where(defined, first, np.nan), np.where(defined, last, np.nan)
        ratio = last / first
        passed = last >= self.ratio * first

        def describe(i: int) -> str:
            if not defined[i]:
                return f"ISI ratio undefined: only {_n(int(trains.n_isis[i]), 'ISI')}"
            if not passed[i]:
                return (f"last ISI {last[i]:.2f} ms is {ratio[i]:.2f} × the first "
                        f"({first[i]:.2f} ms), expected ≥ {self.ratio:g} ×")
            return f"last/first ISI {ratio[i]:.2f}"

        return Measured(passed, [(f"last ISI ≥ {self.ratio:g} × first", ratio - self.ratio, "",
                                  self.ratio - 1.0)], describe)


@dataclass(frozen=True)
class IsiStatistic:
    """One ISI statistic against a limit in ms: the median, the first, or the least of the
    last ``last`` ISIs."""

    statistic: str  # "median", "first" or "last"
    limit: float
    at_most: bool  # ≤ limit (else ≥ limit)
    last: int = 0

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        trains = ctx.trains
        if self.statistic == "median":
            value = trains.isi_median()
        elif self.statistic == "first":
            value = trains.isi_at(0)
        else:
            value = trains.tail_isis(self.last).min(axis=1)
        op = "≤" if self.at_most else "≥"
        passed = _limit(value, self.limit, self.at_most, strict=False)

        def describe(i: int) -> str:
            if np.isnan(value[i]):
                return f"{self._label()} undefined: only {_n(int(trains.n_isis[i]), 'ISI')}"
            text = f"{self._label()} {value[i]:.1f} ms"
            return text if passed[i] else f"{text}, expected {op} {self.limit:g} ms"

        distance = self.limit - value if self.at_most else value - self.limit
        return Measured(passed, [(f"{self._label()} {op} {self.limit:g} ms", distance, "ms",
                                  self.limit)], describe)

    def _label(self) -> str:
        if self.statistic == "last":
            return f"shortest of the last {self.last} ISIs"
        return f"{self.statistic} ISI"


@dataclass(frozen=True)
class NotInBurst:
    """No spike in the window belongs to a burst; margin: its shortest interval − 10 ms,
    where its spikes form no run at all."""

    window: Window

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        trains = ctx.trains
        bursts = trains.bursts
        lo, hi = self.window.at(ctx)
        bursting, shortest = bursts.in_window(trains, lo, hi)
        passed = bursting == 0
        margin = shortest - BURST_MAX_ISI_MS
        margin = np.where(np.isfinite(margin) & (margin > 0), margin, np.nan)

        def describe(i: int) -> str:
            if passed[i]:
                return "none of them in a burst" if self.window.where else "no spike in a burst"
            train = trains.train(i)
            k = next(k for k in range(train.size)
                     if bursts.in_burst[trains.offsets[i] + k] and lo <= train[k] < hi)
            size = next(int(s) for f, s in zip(bursts.first, bursts.size, strict=True)
                        if f <= trains.offsets[i] + k < f + s)
            return (f"spike at {train[k]:.1f} ms is in a burst of {size} spikes"
                    f"{self.window.describe(lo, hi)}")

        where = f" {self.window.where}" if self.window.where else ""
        return Measured(passed, [(f"intervals > {BURST_MAX_ISI_MS:g} ms{where}", margin, "ms",
                                  BURST_MAX_ISI_MS)], describe)


@dataclass(frozen=True)
class LastBurstAfter:
    """The last burst starts after ``edge``; margin scale: edge to the end."""

    edge: Edge
    label: str

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        bound = self.edge.at(ctx)
        t = ctx.trains.bursts.starts.last()
        passed = t > bound

        def describe(i: int) -> str:
            if np.isnan(t[i]):
                return "no burst"
            if not passed[i]:
                return (f"last burst starts at {t[i]:.1f} ms, expected after {bound:g} ms "
                        f"({self.label})")
            return f"last starts at {t[i]:.1f} ms"

        return Measured(passed, [(f"last burst after {bound:g} ms", t - bound, "ms",
                                  ctx.end - bound)], describe)


@dataclass(frozen=True)
class OnlyBurst:
    """Exactly one burst, starting before ``edge``, and no spike after it."""

    edge: Edge
    label: str

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        trains, bursts = ctx.trains, ctx.trains.bursts
        bound = self.edge.at(ctx)
        n_bursts = bursts.starts.counts
        one = n_bursts == 1
        which = np.where(one, bursts.starts.offsets[:-1], 0)
        first = np.where(one, bursts.starts.first(), np.nan)
        size = np.where(one, bursts.size[which] if bursts.size.size else 0, 0)
        after = np.where(one, trains.offsets[1:] - 1 - (bursts.last[which] if bursts.last.size
                                                        else 0), 0)
        early = first < bound
        passed = one & early & (after == 0)

        def describe(i: int) -> str:
            if not one[i]:
                return f"{_n(int(n_bursts[i]), 'burst')}, expected exactly 1"
            if not early[i]:
                return (f"the burst starts at {first[i]:.1f} ms, expected before {bound:g} ms "
                        f"({self.label})")
            if after[i]:
                t = trains.times[trains.offsets[i + 1] - after[i]]
                return (f"{_n(int(after[i]), 'spike')} after the burst, first at {t:.1f} ms; "
                        "expected none")
            return f"1 burst of {size[i]} spikes at {first[i]:.1f} ms, nothing after"

        return Measured(passed, [(f"burst starts before {bound:g} ms", bound - first, "ms",
                                  bound)], describe)


@dataclass(frozen=True)
class Afterpotential:
    """After segment ``seg`` ends, V rises above V_rest + ``above`` mV, and after that peak
    falls below V_rest − ``below`` mV (read at the grid points of the V trace)."""

    seg: int
    above: float
    below: float

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        if ctx.extrema is None:
            raise ValueError("the afterpotentials check needs V after the segment ends")
        x = ctx.extrema(end(self.seg).at(ctx))
        rest = np.broadcast_to(ctx.V_rest, x.peak.shape)
        rise = x.peak - (rest + self.above)
        dip = (rest - self.below) - x.trough
        rose = rise > 0
        passed = rose & (dip > 0)

        def describe(i: int) -> str:
            peak, trough = x.peak[i] - rest[i], x.trough[i] - rest[i]
            if np.isnan(peak):
                return f"the V trace stops before seg {self.seg} ends"
            if not rose[i]:
                return (f"after seg {self.seg}, V peaks at {_vs_rest(peak)}, expected above "
                        f"rest + {self.above:g} mV")
            if np.isnan(trough):
                return "V peaks at the end of the run and never falls back"
            if not passed[i]:
                return (f"after its peak V falls only to {_vs_rest(trough)}, expected below "
                        f"rest − {self.below:g} mV")
            when = "" if x.peak_time is None else f" at {x.peak_time[i]:.1f} ms"
            return f"V rises to {_vs_rest(peak)}{when}, then falls to {_vs_rest(trough)}"

        return Measured(passed, [
            (f"V peak above rest + {self.above:g} mV", rise, "mV", self.above),
            (f"V trough below rest − {self.below:g} mV", np.where(rose, dip, np.nan), "mV",
             self.below)], describe)


def _vs_rest(offset: float) -> str:
    return f"rest {'+' if offset >= 0 else '−'} {abs(offset):.2f} mV"


@dataclass(frozen=True)
class OneOfTwoFires:
    """Exactly one of two windows holds a spike. Margins: in the window that fires, how much
    later its spike could come; in the other, how far the nearest spikes lie from it; when
    neither fires, how much earlier the closer one's next spike must come."""

    first: Window
    second: Window

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        windows = (self.first, self.second)
        spans = [w.at(ctx) for w in windows]
        lengths = [hi - lo for lo, hi in spans]
        fires = [AtLeast(1, w).measure(ctx, active) for w in windows]
        quiet = [np.fmin(*(m[1] for m in NoSpike(w).measure(ctx, active).margins))
                 for w in windows]
        lead = [f.margins[0][1] for f in fires]  # hi − the first spike at or after lo
        yes = [f.passed for f in fires]
        passed = yes[0] != yes[1]
        neither = ~yes[0] & ~yes[1]
        hit = [ctx.trains.nth_from(lo, 1) for lo, _ in spans]
        names = [w.where for w in windows]

        def describe(i: int) -> str:
            if yes[0][i] and yes[1][i]:
                return (f"both fire: {names[0]} at {hit[0][i]:.1f} ms, {names[1]} at "
                        f"{hit[1][i]:.1f} ms; expected one")
            if neither[i]:
                where = ", ".join(w.describe(lo, hi).strip()
                                  for w, (lo, hi) in zip(windows, spans, strict=True))
                return f"neither fires ({where}); expected one"
            k = 0 if yes[0][i] else 1
            return f"{names[k]} fires, at {hit[k][i]:.1f} ms; {names[1 - k]} does not"

        def where_one_fires(values: np.ndarray) -> np.ndarray:
            return np.where(passed, values, np.nan)

        return Measured(passed, [
            ("the firing pulse's spike before its window ends",
             where_one_fires(np.where(yes[0], lead[0], lead[1])), "ms",
             np.where(yes[0], lengths[0], lengths[1])),
            ("the silent pulse's nearest spike outside it",
             where_one_fires(np.where(yes[0], quiet[1], quiet[0])), "ms",
             np.where(yes[0], lengths[1], lengths[0])),
            ("the closer pulse's next spike before its window ends",
             np.where(neither, np.fmax(lead[0] / lengths[0], lead[1] / lengths[1]), np.nan), "",
             1.0)], describe)


@dataclass(frozen=True)
class ProbeOnset:
    """The f–I probe finds an onset, and its onset rate is below (class 1) or at least
    (class 2) ``hz``."""

    hz: float
    below: bool

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        scale, rate = np.full(ctx.size, np.nan), np.full(ctx.size, np.nan)
        points = np.flatnonzero(active)
        if points.size and ctx.onsets is None:
            raise ValueError("this check reads the f–I probe, which runs the neuron: give "
                             "onsets (gifcli.probe.onsets of its parameters)")
        if points.size:
            onsets = ctx.onsets(points)
            scale[points], rate[points] = onsets.scale, onsets.rate
        found = ~np.isnan(scale)
        passed = found & _limit(rate, self.hz, at_most=self.below, strict=self.below)
        op = "<" if self.below else "≥"

        def describe(i: int) -> str:
            if not found[i]:
                return "f–I probe: no sustained firing up to twice the input"
            text = f"f–I onset at {scale[i]:.6g} × the input, onset rate {rate[i]:.3g} Hz"
            return text if passed[i] else f"{text}, expected {op} {self.hz:g} Hz"

        distance = self.hz - rate if self.below else rate - self.hz
        return Measured(passed, [(f"f–I onset rate {op} {self.hz:g} Hz", distance, "Hz",
                                  self.hz)], describe)


# --- the 20 checks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One pattern check: its name, what it requires as a person reads it, its conditions."""

    name: str
    description: str
    conditions: tuple[Condition, ...]

    def __str__(self) -> str:
        return self.description

    def v_after(self, segments: Sequence[tuple[float, float]]) -> float | None:
        """The time after which a condition reads V (see Extrema), or None if none does."""
        bounds = segment_bounds(segments)
        return next((bounds[c.seg - 1][1] for c in self.conditions
                     if isinstance(c, Afterpotential) and c.seg <= len(bounds)), None)

    @property
    def segments_needed(self) -> int:
        """The highest segment number the conditions refer to (0: none)."""
        return max((e.seg for e in _edges(self.conditions)), default=0)


def _edges(value) -> list[Edge]:
    if isinstance(value, Edge):
        return [value]
    if isinstance(value, tuple | list):
        return [edge for item in value for edge in _edges(item)]
    if dataclasses.is_dataclass(value):
        return _edges([getattr(value, f.name) for f in dataclasses.fields(value)])
    return []


BEFORE_SEG_3 = Window(RUN_START, start(3), "before seg 3")
FIRST_100_OF_SEG_3 = Window(start(3), start(3, 100.0), "in the first 100 ms of seg 3")
AT_REST = segment(1, "at rest (seg 1)")
SECOND_HALF = Window(of_run(0.5), RUN_END, "in the second half of the run")

_CHECK_LIST = (
    Check("tonic_spiking",
          "≥ 5 spikes; ISI coefficient of variation < 0.05; "
          "last spike later than end − 2 × mean ISI",
          (AtLeast(5), IsiCv(0.05), LastSpikeLate(2.0))),
    Check("class_1_excitability",
          "≥ 1 spike; first spike ≥ 100 ms after onset; mean rate over the run < 10 Hz; "
          "f–I probe: an onset exists and the onset rate is < 10 Hz",
          (AtLeast(1), FirstSpikeNotBefore(start(1, 100.0), "100 ms after onset"),
           RateBelow(10.0), ProbeOnset(10.0, below=True))),
    Check("spike_frequency_adaptation",
          "≥ 5 spikes; ISIs non-decreasing (tolerance 1e-6 ms); last ISI ≥ 1.2 × first ISI",
          (AtLeast(5), IsisNonDecreasing(1e-6), LastOverFirstIsi(1.2))),
    Check("phasic_spiking",
          "≥ 1 spike, none of them in a burst; no spike in the second half of the step",
          (AtLeast(1), NotInBurst(WHOLE_RUN),
           NoSpike(Window(Edge(1, 0.5), end(1), "in the second half of the step")))),
    Check("accommodation",
          "≥ 1 spike in segment 1; no spike from the start of segment 3 to the end",
          (AtLeast(1, segment(1)), NoSpike(Window(start(3), RUN_END, "from seg 3 on")))),
    Check("threshold_variability",
          "no spike before segment 3; ≥ 1 spike in [start of seg 5, end of seg 5 + 10)",
          (NoSpike(BEFORE_SEG_3),
           AtLeast(1, Window(start(5), end(5, 10.0), "in seg 5 (+10 ms)")))),
    Check("rebound_spiking",
          "no spike before segment 3; exactly 1 spike in [start of seg 3, + 100)",
          (NoSpike(BEFORE_SEG_3), Exactly(1, FIRST_100_OF_SEG_3))),
    Check("class_2_excitability",
          "≥ 3 spikes; median ISI ≤ 60 ms; "
          "f–I probe: an onset exists and the onset rate is ≥ 20 Hz",
          (AtLeast(3), IsiStatistic("median", 60.0, at_most=True),
           ProbeOnset(20.0, below=False))),
    Check("integrator",
          "no spike before seg 3; ≥ 1 spike in [start of seg 3, end of seg 3 + 10); "
          "none after that",
          (NoSpike(BEFORE_SEG_3), AtLeast(1, Window(start(3), end(3, 10.0), "in seg 3 (+10 ms)")),
           NoSpike(Window(end(3, 10.0), RUN_END, "after that")))),
    Check("input_bistability",
          "≥ 5 spikes in segment 2; no spike in segment 4 (same input, opposite response)",
          (AtLeast(5, segment(2)), NoSpike(segment(4)))),
    Check("hyperpolarization_induced_spiking",
          "no spike at rest (seg 1); ≥ 3 spikes in seg 2, none of them in a burst",
          (NoSpike(AT_REST), AtLeast(3, segment(2)), NotInBurst(segment(2)))),
    Check("hyperpolarization_induced_bursting",
          "no spike at rest (seg 1); ≥ 2 bursts of ≥ 2 spikes in seg 2",
          (NoSpike(AT_REST), AtLeast(2, segment(2), count_bursts=True))),
    Check("tonic_bursting",
          "≥ 3 bursts of ≥ 2 spikes; the last burst starts after 70 % of the run",
          (AtLeast(3, count_bursts=True), LastBurstAfter(of_run(0.7), "70 % of the run"))),
    Check("phasic_bursting",
          "exactly one burst, starting in the first 20 % of the run; no spike after it; "
          "no spike in the second half of the run",
          (OnlyBurst(of_run(0.2), "the first 20 % of the run"), NoSpike(SECOND_HALF))),
    Check("rebound_bursting",
          "no spike before seg 3; a burst of ≥ 2 spikes in [start of seg 3, + 100)",
          (NoSpike(BEFORE_SEG_3), AtLeast(1, FIRST_100_OF_SEG_3, count_bursts=True))),
    Check("mixed_mode",
          "≥ 10 spikes; first ISI ≤ 10 ms; last 5 ISIs each ≥ 20 ms with CV ≤ 0.3",
          (AtLeast(10), IsiStatistic("first", 10.0, at_most=True),
           IsiStatistic("last", 20.0, at_most=False, last=5),
           IsiCv(0.3, strict=False, last=5))),
    Check("afterpotentials",
          "exactly 1 spike; after seg 1 ends, V rises above V_rest + 5 mV, "
          "and after that peak falls below V_rest − 0.5 mV",
          (Exactly(1), Afterpotential(1, above=5.0, below=0.5))),
    Check("basal_bistability",
          "≥ 3 spikes between the end of seg 1 and the start of seg 3; "
          "none from end of seg 3 + 5 ms to the end",
          (AtLeast(3, Window(end(1), start(3), "between seg 1 and seg 3")),
           NoSpike(Window(end(3, 5.0), RUN_END, "from 5 ms after seg 3 on")))),
    Check("preferred_frequency",
          "exactly one of the two second pulses (seg 3, seg 7) fires within "
          "[its start, its end + 10); the first pulse of each pair (seg 1, seg 5) fires "
          "exactly 1 spike before the second pulse; no spike in a burst",
          (OneOfTwoFires(Window(start(3), end(3, 10.0), "the seg 3 pulse"),
                         Window(start(7), end(7, 10.0), "the seg 7 pulse")),
           Exactly(1, Window(start(1), start(3), "on the first pulse of pair 1")),
           Exactly(1, Window(start(5), start(7), "on the first pulse of pair 2")),
           NotInBurst(WHOLE_RUN))),
    Check("spike_latency",
          "exactly 1 spike; it comes ≥ 5 ms after the pulse ends",
          (Exactly(1), FirstSpikeNotBefore(end(1, 5.0), "5 ms after the pulse ends"))),
)

#: check name -> Check; ``str(CHECKS[name])`` is what it requires, as a person reads it
CHECKS: dict[str, Check] = {check.name: check for check in _CHECK_LIST}


# --- the engine ----------------------------------------------------------------------------------


@dataclass(eq=False)
class Judgement:
    """One check over N points: per point whether it passed and its margin (relative to the
    condition's scale; NaN where not measured), and each point's :class:`Verdict`."""

    check: Check | None
    passed: np.ndarray
    margin: np.ndarray
    failed_at: np.ndarray  # index of the first failing condition; len(conditions) on a pass
    measured: list[Measured]
    note: str | None = None  # a reason for every point (e.g. too few segments)

    def verdict(self, i: int) -> Verdict:
        if self.note is not None:
            return Verdict(False, self.note)
        upto = int(self.failed_at[i])
        margins = tuple(m for c in self.measured[:upto + 1] for m in c.margins_of(i))
        if upto < len(self.measured):
            failing = self.measured[upto]
            worst = min(failing.margins_of(i), key=lambda m: m.relative, default=None)
            if worst is not None and worst.relative > 0:
                worst = None  # nothing measures the miss
            return Verdict(False, failing.describe(i), worst, margins)
        tightest = min(margins, key=lambda m: m.relative, default=None)
        return Verdict(True, "; ".join(c.describe(i) for c in self.measured), tightest, margins)


def resolve_check(name: str) -> Check:
    if name not in CHECKS:
        close = difflib.get_close_matches(name, list(CHECKS), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ValueError(f"unknown check {name!r}{hint}")
    return CHECKS[name]


def judge(name: str, ctx: Context) -> Judgement:
    """Check ``name`` at every point of ``ctx``, with no Python loop over the points."""
    check = resolve_check(name)
    n = ctx.size
    if not ctx.segments:
        raise ValueError("the input has no segments")
    if check.segments_needed > len(ctx.segments):
        note = (f"the input has {_n(len(ctx.segments), 'segment')}; this check reads "
                f"seg {check.segments_needed}")
        return Judgement(check, np.zeros(n, bool), np.full(n, np.nan), np.zeros(n, int), [],
                         note)
    active = np.ones(n, dtype=bool)
    failed_at = np.full(n, len(check.conditions))
    margin = np.full(n, np.inf)
    measured = []
    for k, condition in enumerate(check.conditions):
        result = condition.measure(ctx, active.copy())
        measured.append(result)
        relative = result.relative()
        least = np.where(np.isnan(relative), np.inf, relative).min(axis=0)
        fails = active & ~result.passed
        # A failing condition's margin is its worst, if it measures a miss (≤ 0).
        margin = np.where(fails, np.where(least <= 0, least, np.nan), margin)
        margin = np.where(active & result.passed, np.fmin(margin, least), margin)
        failed_at[fails] = k
        active &= result.passed
    margin = np.where(np.isinf(margin), np.nan, margin)
    return Judgement(check, active, margin, failed_at, measured)


def check_spikes(name: str, spike_times, segments: Sequence[tuple[float, float]], *,
                 end_ms: float | None = None, t=None, V=None, V_rest: float = -70.0,
                 onsets: Callable[[np.ndarray], Onsets] | None = None) -> Verdict:
    """Run check ``name`` on one train of spike times (ms, sorted) under ``segments`` of
    ``(amplitude, duration ms)``; the simulated time ends at ``end_ms`` (default: the
    schedule's end).

    ``afterpotentials`` also reads the ``t`` and ``V`` traces (and ``V_rest``); the class 1
    and class 2 checks call ``onsets`` (see :func:`gifcli.probe.onsets`) once the other
    conditions hold. Without what it needs, a check that reaches that condition raises
    ValueError.
    """
    resolve_check(name)
    if not segments:
        raise ValueError("the input has no segments")
    stop = end_ms if end_ms is not None else sum(d for _, d in segments)
    extrema = None
    if t is not None and V is not None:
        t, V = np.asarray(t, dtype=np.float64), np.asarray(V, dtype=np.float64)
        extrema = lambda after: Extrema.of_trace(t, V, after)  # noqa: E731
    ctx = Context(SpikeTrains.single(spike_times, stop), segments, V_rest=V_rest,
                  extrema=extrema, onsets=onsets)
    return judge(name, ctx).verdict(0)


def evaluate(result: Result) -> Verdict | None:
    """The verdict of the preset's check on ``result``, or None if the preset names none."""
    name = result.preset.check
    if name is None:
        return None
    from gifcli.probe import Probe, onsets, probe_amplitude

    preset = result.preset
    probe = Probe(preset.params, preset.initial, probe_amplitude(preset.segments), 1,
                  result.method, result.dt)
    return check_spikes(name, result.spike_times, preset.segments, end_ms=result.duration,
                        t=result.t, V=result.V, V_rest=preset.params["V_rest"],
                        onsets=lambda points: onsets(probe.subset(points)))
