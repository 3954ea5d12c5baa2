"""The conditions the checks are written in, each measured for N points at once.

A condition (spikes in a window, no spike in a window, bursts, ISI statistics, a voltage
excursion, the f–I probe) reads a :class:`Context`: the
:class:`~gifcli.analysis.features.SpikeTrains` of N points of one schedule, and what a few
conditions need besides. It returns a :class:`Measured`: per point whether it holds, its
margins and the phrase a reason is made of, with no Python loop over the points. Windows are
half-open, ``[lo, hi)``, and segments count from 1.

Each margin is in the condition's own unit, over a scale (the threshold, the window's length)
that ranks the margins of different conditions:

- a threshold on a number (ISI CV < 0.05, first ISI ≤ 10 ms, rate < 10 Hz, ...): the distance
  to the threshold, negative when it is missed;
- "≥ n spikes (or bursts) in [lo, hi)": ``hi − t_n``, t_n being the n-th at or after lo: how
  much later it could come (negative: how much earlier it must come);
- "no spike in [lo, hi)": how far the nearest spikes outside lie from the window (the first
  at or after lo, less hi; lo, less the last before it); negative when one is inside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from gifcli.analysis.checks.context import (
    WHOLE_RUN,
    CheckError,
    Context,
    Edge,
    Measured,
    Window,
    _limit,
    _n,
    _ordinal,
    end,
    start,
)
from gifcli.analysis.features import BURST_MAX_ISI_MS

# --- the conditions -----------------------------------------------------------------------------


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
class IsiJump:
    """Some ISI is ≥ ``ratio`` × the longest ISI before it: a fast discharge that ends in a
    jump, not a smooth lengthening; margin in units of the ratio, scale ratio − 1."""

    ratio: float

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        trains = ctx.trains
        jump, index = trains.isi_jump()
        passed = jump >= self.ratio

        def describe(i: int) -> str:
            if np.isnan(jump[i]):
                return f"ISI jump undefined: only {_n(int(trains.n_isis[i]), 'ISI')}"
            text = f"ISI {index[i] + 1} is {jump[i]:.2f} × the longest before it"
            if passed[i]:
                return f"the fast discharge ends in a jump: {text}"
            return f"no jump: at most, {text}, expected ≥ {self.ratio:g} ×"

        return Measured(passed, [(f"an ISI ≥ {self.ratio:g} × the longest before it",
                                  jump - self.ratio, "", self.ratio - 1.0)], describe)


@dataclass(frozen=True)
class IsiStatistic:
    """One ISI statistic against a limit in ms: the first, or the least of the last ``last``
    ISIs."""

    statistic: str  # "first" or "last"
    limit: float
    at_most: bool  # ≤ limit (else ≥ limit)
    last: int = 0

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        trains = ctx.trains
        if self.statistic == "first":
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
    """After segment ``seg`` (the pulse) ends, V rises ≥ ``rise`` mV above the passive
    response (the control with A1 = A2 = 0), then falls ≥ ``below`` mV below it and below
    rest: what the spike-triggered currents add to what the pulse alone does.

    With no input after the pulse, the passive response only relaxes from its V at the
    pulse's end towards rest, so it stays between the two: a control that stops at the
    pulse's end gives all of it. V that the pulse itself charged (a long pulse, a residual
    current) is in the passive response too, and does not count."""

    seg: int
    rise: float
    below: float

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        if ctx.extrema is None:
            raise CheckError("the afterpotentials check needs V after the segment ends")
        points = np.flatnonzero(active)
        x = ctx.extrema(end(self.seg).at(ctx), points)
        passive = np.full(ctx.size, np.nan)
        if points.size:
            if ctx.passive_end is None:
                raise CheckError("the afterpotentials check runs a control that stops at the "
                                 "pulse's end: give passive_end (see gifcli.analysis.probe."
                                 "Probe.passive_end)")
            passive[points] = ctx.passive_end(ctx.segments[:self.seg], points)
        rest = np.broadcast_to(ctx.V_rest, x.peak.shape)
        ceiling, floor = np.fmax(passive, rest), np.fmin(passive, rest)
        rise = x.peak - (ceiling + self.rise)
        dip = (floor - self.below) - x.trough
        rose = rise > 0
        passed = rose & (dip > 0)

        def describe(i: int) -> str:
            if np.isnan(x.peak[i]):
                return f"the V trace stops before seg {self.seg} ends"
            alone = (f"control, without the spike-triggered currents (A1 = A2 = 0): "
                     f"V at the pulse's end {_vs_rest(passive[i] - rest[i])}")
            if not rose[i]:
                return (f"after seg {self.seg}, V peaks at {_vs_rest(x.peak[i] - rest[i])}, "
                        f"expected ≥ {self.rise:g} mV above the passive response ({alone})")
            if np.isnan(x.trough[i]):
                return "V peaks at the end of the run and never falls back"
            low = _vs_rest(x.trough[i] - rest[i])
            if not passed[i]:
                bound = (f"rest − {self.below:g} mV" if floor[i] == rest[i] else
                         f"{_vs_rest(floor[i] - rest[i] - self.below)} ({self.below:g} mV "
                         "below the passive response)")
                return f"after its peak V falls only to {low}, expected below {bound}"
            when = "" if x.peak_time is None else f" at {x.peak_time[i]:.1f} ms"
            return (f"after the pulse V rises to {_vs_rest(x.peak[i] - rest[i])}{when}, "
                    f"{x.peak[i] - ceiling[i]:.2f} mV above the passive response, then falls "
                    f"to {low}")

        return Measured(passed, [
            (f"V ≥ {self.rise:g} mV above the passive response", rise, "mV", self.rise),
            (f"V falls ≥ {self.below:g} mV below rest", np.where(rose, dip, np.nan), "mV",
             self.below)], describe)


def _vs_rest(offset: float) -> str:
    return f"rest {'+' if offset >= 0 else '−'} {abs(offset):.2f} mV"


@dataclass(frozen=True)
class ProbeShape:
    """The f–I probe finds an onset, and the shape of the curve there says the class: the
    rate just above the onset over the rate a little above it (see
    :mod:`gifcli.analysis.probe`) is below ``JUMP`` where the rate rises continuously from
    0 (class 1), at least ``JUMP`` where it jumps to a finite rate (class 2)."""

    class_2: bool

    #: A rate that rises from 0 at least as fast as 1 / ln(1 / distance to the onset) (the
    #: slowest rise, that of a leaky integrate-and-fire neuron) keeps at most half of itself
    #: from 1e-2 down to 1e-4 above the onset; a jump keeps nearly all. 3/4 lies between.
    JUMP = 0.75

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        scale, rate, above = (np.full(ctx.size, np.nan) for _ in range(3))
        points = np.flatnonzero(active)
        if points.size and ctx.onsets is None:
            raise CheckError("this check reads the f–I probe, which runs the neuron: give "
                             "onsets (gifcli.analysis.probe.onsets of its parameters)")
        if points.size:
            onsets = ctx.onsets(points)
            scale[points], rate[points], above[points] = (onsets.scale, onsets.rate,
                                                          onsets.rate_above)
        with np.errstate(invalid="ignore", divide="ignore"):
            kept = np.where((above > 0) & np.isfinite(above), rate / above, np.nan)
        passed = _limit(kept, self.JUMP, at_most=not self.class_2, strict=not self.class_2)
        op = "≥" if self.class_2 else "<"

        def describe(i: int) -> str:
            if np.isnan(scale[i]):
                return "f–I probe: no sustained firing up to twice the input"
            text = (f"f–I onset at {scale[i]:.6g} × the input: {rate[i]:.3g} Hz just above it, "
                    f"{above[i]:.3g} Hz 1 % above")
            if np.isnan(kept[i]):
                return f"{text}: no steady rate 1 % above the onset"
            shape = "jumps from 0" if kept[i] >= self.JUMP else "rises from 0"
            text = f"{text} (a ratio of {kept[i]:.2f}: the rate {shape})"
            return text if passed[i] else f"{text}, expected a ratio {op} {self.JUMP:g}"

        distance = kept - self.JUMP if self.class_2 else self.JUMP - kept
        return Measured(passed, [(f"f–I rate just above the onset {op} {self.JUMP:g} × the "
                                  "rate 1 % above", distance, "", self.JUMP)], describe)


# --- controls -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    """A control experiment: the run's schedule with segment ``seg`` changed. ``how``:
    "zero" (its amplitude set to 0), "hold" (held ``factor`` × longer, the segments after it
    dropped), "scale" (its amplitude × ``factor``: a power of 2, which scales exactly, so that
    a sweep point and its single run get the same bits) or "step" (segments ``seg``..``last``
    given as one sharp step at the last one's amplitude, lasting as long as they did
    together). ``what`` names the segment in reasons."""

    how: str
    seg: int
    what: str
    last: int = 0
    factor: float = 2.0

    def schedule(self, segments: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
        segs = [(float(a), float(d)) for a, d in segments]
        i = self.seg - 1
        amplitude, duration = segs[i]
        if self.how == "zero":
            return segs[:i] + [(0.0, duration)] + segs[i + 1:]
        if self.how == "hold":
            return segs[:i] + [(amplitude, duration * self.factor)]
        if self.how == "scale":
            return segs[:i] + [(amplitude * self.factor, duration)] + segs[i + 1:]
        span = sum(d for _, d in segs[i:self.last])
        return segs[:i] + [(segs[self.last - 1][0], span)] + segs[self.last:]

    def __str__(self) -> str:
        if self.how == "zero":
            return f"without {self.what} (seg {self.seg} set to 0)"
        if self.how == "hold":
            return f"{self.what} held {self.factor:g} × as long (seg {self.seg})"
        if self.how == "scale":
            return f"{self.what} × {self.factor:g} (seg {self.seg})"
        return f"{self.what} as one sharp step (segs {self.seg}–{self.last})"

    @property
    def edges(self) -> tuple[Edge, ...]:
        """The segments the control changes, for Check.segments_needed."""
        return (start(self.seg), start(max(self.seg, self.last)))


@dataclass(frozen=True)
class InControl:
    """``condition`` holds in the control run of the same points (its windows read the
    control's schedule); run once, batched, for the points still passing."""

    control: Control
    condition: Condition

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        n, points = ctx.size, np.flatnonzero(active)
        passed = np.zeros(n, dtype=bool)
        if points.size == 0:
            return Measured(passed, [], lambda i: "")
        if ctx.controls is None:
            raise CheckError(f"this check runs a control ({self.control}), which runs the "
                             "neuron: give controls (see gifcli.analysis.probe.Probe.trains)")
        segments = self.control.schedule(ctx.segments)
        rest = ctx.V_rest[points] if np.ndim(ctx.V_rest) else ctx.V_rest
        sub = Context(ctx.controls(segments, points), segments, V_rest=rest)
        inner = self.condition.measure(sub, np.ones(points.size, dtype=bool))
        passed[points] = inner.passed
        rank = np.full(n, -1)
        rank[points] = np.arange(points.size)

        def spread(values) -> np.ndarray:
            full = np.full(n, np.nan)
            full[points] = np.broadcast_to(values, (points.size,))
            return full

        margins = [(f"control, {self.control}: {label}", spread(value), unit, spread(scale))
                   for label, value, unit, scale in inner.margins]
        return Measured(passed, margins,
                        lambda i: f"control, {self.control}: {inner.describe(int(rank[i]))}")


@dataclass(frozen=True)
class FirstSpikeEarlierInControl:
    """The control run's first spike comes earlier than the run's own; margin: how much
    earlier, over the run's own latency."""

    control: Control

    def measure(self, ctx: Context, active: np.ndarray) -> Measured:
        n, points = ctx.size, np.flatnonzero(active)
        own, theirs = ctx.trains.first(), np.full(n, np.nan)
        if points.size:
            if ctx.controls is None:
                raise CheckError(f"this check runs a control ({self.control}), which runs "
                                 "the neuron: give controls (see gifcli.analysis.probe)")
            theirs[points] = ctx.controls(self.control.schedule(ctx.segments), points).first()
        passed = theirs < own

        def describe(i: int) -> str:
            if np.isnan(theirs[i]):
                return f"control, {self.control}: no spike, expected one before {own[i]:.1f} ms"
            text = f"control, {self.control}: first spike at {theirs[i]:.1f} ms"
            if passed[i]:
                return f"{text}, earlier"
            return f"{text}, expected before {own[i]:.1f} ms (latency shrinks with strength)"

        return Measured(passed, [(f"control, {self.control}: first spike earlier",
                                  own - theirs, "ms", own)], describe)
