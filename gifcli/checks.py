"""The 20 pattern checks of shared/spec/patterns.md, with their margins.

A check reads the spike times (ms) and the input schedule; ``afterpotentials`` also reads the
V trace. Each check is a list of *conditions* from a small vocabulary (spikes in a window,
no spike in a window, bursts, ISI statistics, a voltage excursion), all of which must hold.
Windows are half-open, ``[lo, hi)``, and segments count from 1 (see :mod:`gifcli.features`
for spikes, runs and bursts: a burst has ≥ 2 spikes).

Entry points:

- :func:`evaluate` takes a :class:`gifcli.result.Result` and returns a :class:`Verdict`, or
  None when the preset names no check;
- :func:`check_spikes` takes the spike times and the segments directly (the sweep uses it).

**Margins.** Every condition that holds also says by how much (a :class:`Margin`), in its own
unit:

- a threshold on a number (ISI CV < 0.05, first ISI ≤ 10 ms, rate < 10 Hz, ...): the distance
  to the threshold;
- "≥ n spikes (or bursts) in [lo, hi)": how much later the n-th one could have come,
  ``hi − t_n`` ms;
- "no spike in [lo, hi)", and "nothing after" the last allowed spike: the smallest
  ``V_th − V`` (mV) at the grid points of the window. It needs the ``t``, ``V`` and ``V_th``
  traces; without them this margin is not measured. With ``exp-euler`` (which compares the new
  V with the old threshold) it can be ≤ 0 at a grid point where no spike was fired.

To name the tightest condition of a check, each margin is divided by a scale (the threshold
itself, the window's length, or 20 mV — the default distance from rest to threshold — for a
voltage gap): :attr:`Margin.relative`. The smallest relative margin is :attr:`Verdict.margin`.

When a check fails, :attr:`Verdict.margin` is the failing condition's negative margin: by how
much a threshold is missed, or, for a window that should fire and holds no spike at all, by
how much V stayed below V_th (``−min(V_th − V)``, traces needed). It is None when the failure
is a count with no distance to measure (e.g. "2 spikes, expected ≥ 5", or a spike where none
is allowed).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from gifcli.features import (
    BURST_MAX_ISI_MS,
    as_spike_array,
    bursts,
    coefficient_of_variation,
    segment_bounds,
    spike_runs,
)

if TYPE_CHECKING:
    from gifcli.result import Result

GAP_SCALE_MV = 20.0  # the scale of a V_th − V margin: V_th_inf − V_rest with the defaults


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
    passed: bool
    reason: str  # one line, on a pass too
    margin: Margin | None = None  # the tightest condition (the failing one on a fail)
    margins: tuple[Margin, ...] = ()  # every measured condition, in the check's order

    def as_json(self) -> dict[str, bool | str]:
        """The ``check`` object of the JSON summary (shared/spec/cli.md)."""
        return {"passed": self.passed, "reason": self.reason}


@dataclass(frozen=True)
class Outcome:
    """What one condition found: whether it holds, a short phrase, and its margins."""

    passed: bool
    text: str
    margins: tuple[Margin, ...] = ()


# --- times and windows --------------------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    """A time in the run: ``frac`` of the way through segment ``seg`` plus ``offset`` ms.

    ``seg`` counts from 1; ``seg = 0`` means the whole run.
    """

    seg: int
    frac: float
    offset: float = 0.0

    def at(self, run: RunData) -> float:
        lo, hi = (0.0, run.end) if self.seg == 0 else run.bounds[self.seg - 1]
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

    def at(self, run: RunData) -> tuple[float, float]:
        return self.lo.at(run), self.hi.at(run)

    def describe(self, lo: float, hi: float) -> str:
        return f" {self.where} [{lo:g}, {hi:g}) ms" if self.where else ""


WHOLE_RUN = Window(RUN_START, RUN_END)


def segment(seg: int, where: str | None = None) -> Window:
    return Window(start(seg), end(seg), where or f"in seg {seg}")


class RunData:
    """What the conditions read: spikes, segment bounds, runs of spikes, optional traces."""

    def __init__(self, spike_times, segments: Sequence[tuple[float, float]],
                 t=None, V=None, V_th=None, V_rest: float | None = None):
        self.spikes = as_spike_array(spike_times)
        self.bounds = segment_bounds(segments)
        self.end = self.bounds[-1][1]
        self.runs = spike_runs(self.spikes)
        self.bursts = bursts(self.spikes)
        self.t = None if t is None else np.asarray(t, dtype=np.float64)
        self.V = None if V is None else np.asarray(V, dtype=np.float64)
        self.V_th = None if V_th is None else np.asarray(V_th, dtype=np.float64)
        self.V_rest = V_rest

    def within(self, lo: float, hi: float) -> np.ndarray:
        return self.spikes[(self.spikes >= lo) & (self.spikes < hi)]

    def isis(self) -> np.ndarray:
        return np.diff(self.spikes)

    def gap(self, lo: float, hi: float) -> float | None:
        """The smallest V_th − V at the grid points in [lo, hi); None without the traces."""
        if self.t is None or self.V is None or self.V_th is None:
            return None
        inside = (self.t >= lo) & (self.t < hi)
        if not inside.any():
            return None
        return float(np.min(self.V_th[inside] - self.V[inside]))


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _gap_margins(run: RunData, lo: float, hi: float, condition: str) -> tuple[Margin, ...]:
    gap = run.gap(lo, hi)
    return () if gap is None else (Margin(condition, gap, "mV", GAP_SCALE_MV),)


def _shortfall(run: RunData, lo: float, hi: float, where: str) -> tuple[Margin, ...]:
    """The (negative) margin of a window that should fire and does not: −min(V_th − V)."""
    gap = run.gap(lo, hi)
    return () if gap is None else (Margin(f"V reaches V_th {where}", -gap, "mV", GAP_SCALE_MV),)


# --- the vocabulary of conditions ---------------------------------------------------------------


class Condition(Protocol):
    def evaluate(self, run: RunData) -> Outcome: ...


@dataclass(frozen=True)
class AtLeast:
    """≥ n spikes (or bursts of ≥ 2 spikes, counted where they start) in the window."""

    n: int
    window: Window = WHOLE_RUN
    count_bursts: bool = False

    def evaluate(self, run: RunData) -> Outcome:
        lo, hi = self.window.at(run)
        if self.count_bursts:
            noun = "burst"
            starts = (run.spikes[b.first] for b in run.bursts)
            times = np.array([s for s in starts if lo <= s < hi])
        else:
            noun, times = "spike", run.within(lo, hi)
        text = _n(times.size, noun) + self.window.describe(lo, hi)
        if times.size < self.n:
            shortfall = ()  # with no spike at all: how far V stayed below V_th
            if self.n == 1 and not self.count_bursts and times.size == 0:
                shortfall = _shortfall(run, lo, hi, self.window.where)  # "in seg 5 ..."
            return Outcome(False, f"{text}, expected ≥ {self.n}", shortfall)
        nth = float(times[self.n - 1])
        margin = Margin(f"{_ordinal(self.n)} {noun} before {hi:g} ms", hi - nth, "ms", hi - lo)
        return Outcome(True, text, (margin,))


@dataclass(frozen=True)
class Exactly:
    """Exactly n ≥ 1 spikes in the window; margins: the n-th's time, the gap after it."""

    n: int
    window: Window = WHOLE_RUN

    def evaluate(self, run: RunData) -> Outcome:
        lo, hi = self.window.at(run)
        times = run.within(lo, hi)
        text = _n(times.size, "spike") + self.window.describe(lo, hi)
        if times.size != self.n:
            return Outcome(False, f"{text}, expected exactly {self.n}")
        nth = float(times[-1])
        margins = (Margin(f"{_ordinal(self.n)} spike before {hi:g} ms", hi - nth, "ms", hi - lo),
                   *_gap_margins(run, nth, hi, f"V below V_th after spike {self.n}"))
        return Outcome(True, text, margins)


@dataclass(frozen=True)
class NoSpike:
    """No spike in the window; margin: the smallest V_th − V in it."""

    window: Window

    def evaluate(self, run: RunData) -> Outcome:
        lo, hi = self.window.at(run)
        where = self.window.describe(lo, hi)
        times = run.within(lo, hi)
        if times.size:
            return Outcome(False, f"{_n(times.size, 'spike')}{where}, first at "
                                  f"{times[0]:.1f} ms; expected none")
        return Outcome(True, f"no spike{where}",
                       _gap_margins(run, lo, hi, f"V below V_th {self.window.where}"))


@dataclass(frozen=True)
class IsiCv:
    """The CV of the ISIs (or of the last ``last`` ISIs) below ``limit``."""

    limit: float
    strict: bool = True  # < rather than ≤
    last: int | None = None

    def evaluate(self, run: RunData) -> Outcome:
        intervals = run.isis()
        label = "ISI CV" if self.last is None else f"CV of the last {self.last} ISIs"
        op = "<" if self.strict else "≤"
        if self.last is not None:
            if intervals.size < self.last:
                return Outcome(False, f"{label} undefined: only {_n(intervals.size, 'ISI')}")
            intervals = intervals[-self.last:]
        cv = coefficient_of_variation(intervals)
        if cv is None:
            return Outcome(False, f"{label} undefined with {_n(run.spikes.size, 'spike')}")
        margin = Margin(f"{label} {op} {self.limit:g}", self.limit - cv, "", self.limit)
        passed = cv < self.limit if self.strict else cv <= self.limit
        text = f"{label} {cv:.3f}" + ("" if passed else f", expected {op} {self.limit:g}")
        return Outcome(passed, text, (margin,))


@dataclass(frozen=True)
class LastSpikeLate:
    """The last spike later than end − k × mean ISI (the firing lasts to the end)."""

    k: float = 2.0

    def evaluate(self, run: RunData) -> Outcome:
        if run.spikes.size < 2:
            return Outcome(False, f"mean ISI undefined with {_n(run.spikes.size, 'spike')}")
        mean = float(run.isis().mean())
        bound = run.end - self.k * mean
        last = float(run.spikes[-1])
        margin = Margin(f"last spike after end − {self.k:g} × mean ISI", last - bound, "ms",
                        self.k * mean)
        if not last > bound:
            return Outcome(False, f"last spike at {last:.1f} ms, expected after {bound:.1f} ms "
                                  f"(end − {self.k:g} × mean ISI)", (margin,))
        return Outcome(True, f"last at {last:.1f} ms", (margin,))


@dataclass(frozen=True)
class FirstSpikeNotBefore:
    """The first spike at or after ``edge``; ``edge.offset`` (> 0) is the margin's scale."""

    edge: Edge
    label: str  # why that time, e.g. "100 ms after onset"

    def evaluate(self, run: RunData) -> Outcome:
        if run.spikes.size == 0:
            return Outcome(False, "no spike")
        bound, first = self.edge.at(run), float(run.spikes[0])
        margin = Margin(f"first spike ≥ {bound:g} ms", first - bound, "ms", self.edge.offset)
        if first < bound:
            return Outcome(False, f"first spike at {first:.1f} ms, expected ≥ {bound:g} ms "
                                  f"({self.label})", (margin,))
        return Outcome(True, f"first at {first:.1f} ms", (margin,))


@dataclass(frozen=True)
class RateBelow:
    """The mean rate over the whole run below ``hz``."""

    hz: float

    def evaluate(self, run: RunData) -> Outcome:
        rate = 1000.0 * run.spikes.size / run.end
        margin = Margin(f"rate < {self.hz:g} Hz", self.hz - rate, "Hz", self.hz)
        if not rate < self.hz:
            return Outcome(False, f"rate {rate:.2f} Hz, expected < {self.hz:g} Hz", (margin,))
        return Outcome(True, f"rate {rate:.2f} Hz", (margin,))


@dataclass(frozen=True)
class IsisNonDecreasing:
    """Each ISI ≥ the one before − ``tolerance`` ms; margin scale: the mean ISI."""

    tolerance: float = 1e-6

    def evaluate(self, run: RunData) -> Outcome:
        intervals = run.isis()
        if intervals.size < 2:
            return Outcome(False, f"ISI trend undefined: only {_n(intervals.size, 'ISI')}")
        steps = np.diff(intervals)
        i = int(np.argmin(steps))
        margin = Margin("ISIs non-decreasing", float(steps[i]) + self.tolerance, "ms",
                        float(intervals.mean()))
        if steps[i] < -self.tolerance:
            return Outcome(False, f"ISI {i + 2} is shorter than ISI {i + 1} by {-steps[i]:.3g} ms "
                                  f"({intervals[i]:.3f} → {intervals[i + 1]:.3f} ms)", (margin,))
        return Outcome(True, f"ISIs grow {intervals[0]:.1f} → {intervals[-1]:.1f} ms", (margin,))


@dataclass(frozen=True)
class LastOverFirstIsi:
    """The last ISI ≥ ``ratio`` × the first; margin in units of the ratio, scale ratio − 1."""

    ratio: float

    def evaluate(self, run: RunData) -> Outcome:
        intervals = run.isis()
        if intervals.size < 2:
            return Outcome(False, f"ISI ratio undefined: only {_n(intervals.size, 'ISI')}")
        first, last = float(intervals[0]), float(intervals[-1])
        ratio = last / first
        margin = Margin(f"last ISI ≥ {self.ratio:g} × first", ratio - self.ratio, "",
                        self.ratio - 1.0)
        if not last >= self.ratio * first:
            return Outcome(False, f"last ISI {last:.2f} ms is {ratio:.2f} × the first "
                                  f"({first:.2f} ms), expected ≥ {self.ratio:g} ×", (margin,))
        return Outcome(True, f"last/first ISI {ratio:.2f}", (margin,))


@dataclass(frozen=True)
class IsiStatistic:
    """One ISI statistic against a limit in ms: the median, the first, or the least of the
    last ``last`` ISIs."""

    statistic: str  # "median", "first" or "last"
    limit: float
    at_most: bool  # ≤ limit (else ≥ limit)
    last: int = 0

    def evaluate(self, run: RunData) -> Outcome:
        intervals = run.isis()
        needed = max(self.last, 1)
        if intervals.size < needed:
            return Outcome(False, f"{self._label()} undefined: only {_n(intervals.size, 'ISI')}")
        if self.statistic == "median":
            value = float(np.median(intervals))
        elif self.statistic == "first":
            value = float(intervals[0])
        else:
            value = float(intervals[-self.last:].min())
        op = "≤" if self.at_most else "≥"
        passed = value <= self.limit if self.at_most else value >= self.limit
        margin = Margin(f"{self._label()} {op} {self.limit:g} ms",
                        self.limit - value if self.at_most else value - self.limit, "ms",
                        self.limit)
        text = f"{self._label()} {value:.1f} ms"
        if not passed:
            return Outcome(False, f"{text}, expected {op} {self.limit:g} ms", (margin,))
        return Outcome(True, text, (margin,))

    def _label(self) -> str:
        if self.statistic == "last":
            return f"shortest of the last {self.last} ISIs"
        return f"{self.statistic} ISI"


@dataclass(frozen=True)
class NotInBurst:
    """No spike in the window belongs to a burst; margin: its shortest interval − 10 ms."""

    window: Window

    def evaluate(self, run: RunData) -> Outcome:
        lo, hi = self.window.at(run)
        inside = np.flatnonzero((run.spikes >= lo) & (run.spikes < hi))
        if inside.size == 0:
            return Outcome(True, "none of them in a burst")
        for burst in run.runs:
            if burst.size >= 2 and burst.first <= inside[-1] and burst.last >= inside[0]:
                i = max(burst.first, int(inside[0]))
                return Outcome(False, f"spike at {run.spikes[i]:.1f} ms is in a burst of "
                                      f"{burst.size} spikes{self.window.describe(lo, hi)}")
        intervals = run.isis()
        around = [intervals[j] for i in inside for j in (i - 1, i) if 0 <= j < intervals.size]
        margins = ()
        if around:
            shortest = float(min(around))
            margins = (Margin(f"intervals > {BURST_MAX_ISI_MS:g} ms {self.window.where}",
                              shortest - BURST_MAX_ISI_MS, "ms", BURST_MAX_ISI_MS),)
        return Outcome(True, "none of them in a burst", margins)


@dataclass(frozen=True)
class LastBurstAfter:
    """The last burst (of ≥ 2 spikes) starts after ``edge``; margin scale: edge to the end."""

    edge: Edge
    label: str

    def evaluate(self, run: RunData) -> Outcome:
        if not run.bursts:
            return Outcome(False, "no burst")
        bound = self.edge.at(run)
        t = float(run.spikes[run.bursts[-1].first])
        margin = Margin(f"last burst after {bound:g} ms", t - bound, "ms", run.end - bound)
        if not t > bound:
            return Outcome(False, f"last burst starts at {t:.1f} ms, expected after {bound:g} ms "
                                  f"({self.label})", (margin,))
        return Outcome(True, f"last starts at {t:.1f} ms", (margin,))


@dataclass(frozen=True)
class OnlyBurst:
    """Exactly one burst (of ≥ 2 spikes), starting before ``edge``, and no spike after it."""

    edge: Edge
    label: str

    def evaluate(self, run: RunData) -> Outcome:
        if len(run.bursts) != 1:
            return Outcome(False, f"{_n(len(run.bursts), 'burst')}, expected exactly 1")
        burst = run.bursts[0]
        bound = self.edge.at(run)
        first, last = float(run.spikes[burst.first]), float(run.spikes[burst.last])
        margin = Margin(f"burst starts before {bound:g} ms", bound - first, "ms", bound)
        if not first < bound:
            return Outcome(False, f"the burst starts at {first:.1f} ms, expected before "
                                  f"{bound:g} ms ({self.label})", (margin,))
        after = run.spikes[burst.last + 1:]
        if after.size:
            return Outcome(False, f"{_n(after.size, 'spike')} after the burst, first at "
                                  f"{after[0]:.1f} ms; expected none")
        margins = (margin, *_gap_margins(run, last, run.end, "V below V_th after the burst"))
        return Outcome(True, f"1 burst of {burst.size} spikes at {first:.1f} ms, nothing after",
                       margins)


@dataclass(frozen=True)
class Afterpotential:
    """After segment ``seg`` ends, V rises above V_rest + ``above`` mV, and after that peak
    falls below V_rest − ``below`` mV (read at the grid points of the V trace)."""

    seg: int
    above: float
    below: float

    def evaluate(self, run: RunData) -> Outcome:
        if run.t is None or run.V is None or run.V_rest is None:
            raise ValueError("the afterpotentials check needs the t and V traces and V_rest")
        after = run.t >= end(self.seg).at(run)
        if not after.any():
            return Outcome(False, f"the V trace stops before seg {self.seg} ends")
        t, V, rest = run.t[after], run.V[after], run.V_rest
        peak_at = int(np.argmax(V))
        peak = float(V[peak_at])
        rise = Margin(f"V peak above rest + {self.above:g} mV", peak - (rest + self.above), "mV",
                      self.above)
        if not peak > rest + self.above:
            return Outcome(False, f"after seg {self.seg}, V peaks at {_vs_rest(peak - rest)}, "
                                  f"expected above rest + {self.above:g} mV", (rise,))
        if peak_at + 1 >= V.size:
            return Outcome(False, "V peaks at the end of the run and never falls back", (rise,))
        trough = float(V[peak_at + 1:].min())
        dip = Margin(f"V trough below rest − {self.below:g} mV", (rest - self.below) - trough,
                     "mV", self.below)
        if not trough < rest - self.below:
            return Outcome(False, f"after its peak V falls only to {_vs_rest(trough - rest)}, "
                                  f"expected below rest − {self.below:g} mV", (rise, dip))
        return Outcome(True, f"V rises to {_vs_rest(peak - rest)} at {t[peak_at]:.1f} ms, "
                             f"then falls to {_vs_rest(trough - rest)}", (rise, dip))


def _vs_rest(offset: float) -> str:
    return f"rest {'+' if offset >= 0 else '−'} {abs(offset):.2f} mV"


@dataclass(frozen=True)
class OneOfTwoFires:
    """Exactly one of two windows holds a spike."""

    first: Window
    second: Window

    def evaluate(self, run: RunData) -> Outcome:
        spans = [w.at(run) for w in (self.first, self.second)]
        fired = [run.within(lo, hi) for lo, hi in spans]
        names = [self.first.where, self.second.where]
        if fired[0].size and fired[1].size:
            return Outcome(False, f"both fire: {names[0]} at {fired[0][0]:.1f} ms, "
                                  f"{names[1]} at {fired[1][0]:.1f} ms; expected one")
        if not fired[0].size and not fired[1].size:
            windows = ", ".join(w.describe(lo, hi).strip()
                                for w, (lo, hi) in zip((self.first, self.second), spans,
                                                       strict=True))
            closest = max((_shortfall(run, lo, hi, f"at {w.where}")
                           for w, (lo, hi) in zip((self.first, self.second), spans, strict=True)),
                          key=lambda m: m[0].value if m else -np.inf)
            return Outcome(False, f"neither fires ({windows}); expected one", closest)
        yes = 0 if fired[0].size else 1
        no = 1 - yes
        (lo, hi), t = spans[yes], float(fired[yes][0])
        margins = (Margin(f"{names[yes]} fires before {hi:g} ms", hi - t, "ms", hi - lo),
                   *_gap_margins(run, *spans[no], f"V below V_th at {names[no]}"))
        return Outcome(True, f"only {names[yes]} fires, at {t:.1f} ms", margins)


# --- the 20 checks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One pattern check: its name, the spec's wording, and the conditions that must hold."""

    name: str
    description: str
    conditions: tuple[Condition, ...]

    def __str__(self) -> str:
        return self.description

    @property
    def segments_needed(self) -> int:
        """The highest segment number the conditions refer to (0: none)."""
        return max((edge.seg for edge in _edges(self.conditions)), default=0)


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

_CHECK_LIST = (
    Check("tonic_spiking",
          "≥ 5 spikes; ISI coefficient of variation < 0.05; "
          "last spike later than end − 2 × mean ISI",
          (AtLeast(5), IsiCv(0.05), LastSpikeLate(2.0))),
    Check("class_1_excitability",
          "≥ 1 spike; first spike ≥ 100 ms after onset; mean rate over the run < 10 Hz",
          (AtLeast(1), FirstSpikeNotBefore(start(1, 100.0), "100 ms after onset"),
           RateBelow(10.0))),
    Check("spike_frequency_adaptation",
          "≥ 5 spikes; ISIs non-decreasing (tolerance 1e-6 ms); last ISI ≥ 1.2 × first ISI",
          (AtLeast(5), IsisNonDecreasing(1e-6), LastOverFirstIsi(1.2))),
    Check("phasic_spiking",
          "≥ 1 spike; no spike in the second half of the step",
          (AtLeast(1), NoSpike(Window(Edge(1, 0.5), end(1), "in the second half of the step")))),
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
          "≥ 3 spikes; median ISI ≤ 60 ms",
          (AtLeast(3), IsiStatistic("median", 60.0, at_most=True))),
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
          "exactly one burst, of ≥ 2 spikes, starting in the first 20 % of the run, "
          "and nothing after it",
          (OnlyBurst(of_run(0.2), "the first 20 % of the run"),)),
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
          "[its start, its end + 10)",
          (OneOfTwoFires(Window(start(3), end(3, 10.0), "the seg 3 pulse"),
                         Window(start(7), end(7, 10.0), "the seg 7 pulse")),)),
    Check("spike_latency",
          "exactly 1 spike; it comes ≥ 5 ms after the pulse ends",
          (Exactly(1), FirstSpikeNotBefore(end(1, 5.0), "5 ms after the pulse ends"))),
)

#: check name -> Check; ``str(CHECKS[name])`` is what it requires, as a person reads it
CHECKS: dict[str, Check] = {check.name: check for check in _CHECK_LIST}


# --- entry points --------------------------------------------------------------------------------


def check_spikes(name: str, spike_times, segments: Sequence[tuple[float, float]], *,
                 t=None, V=None, V_th=None, V_rest: float | None = None) -> Verdict:
    """Run check ``name`` on spike times (ms, sorted) under ``segments`` of
    ``(amplitude, duration ms)``.

    ``afterpotentials`` needs ``t``, ``V`` and ``V_rest`` (ValueError without them). Every
    other check decides on the spike times alone; with ``t``, ``V`` and ``V_th`` it also
    measures the voltage margins of its "no spike" conditions.
    """
    if name not in CHECKS:
        close = difflib.get_close_matches(name, list(CHECKS), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ValueError(f"unknown check {name!r}{hint}")
    if not segments:
        raise ValueError("the input has no segments")
    check = CHECKS[name]
    if check.segments_needed > len(segments):
        return Verdict(False, f"the input has {_n(len(segments), 'segment')}; this check reads "
                              f"seg {check.segments_needed}")
    run = RunData(spike_times, segments, t=t, V=V, V_th=V_th, V_rest=V_rest)
    outcomes = [condition.evaluate(run) for condition in check.conditions]
    margins = tuple(margin for outcome in outcomes for margin in outcome.margins)
    failed = next((outcome for outcome in outcomes if not outcome.passed), None)
    if failed is not None:
        worst = min(failed.margins, key=lambda margin: margin.relative, default=None)
        return Verdict(False, failed.text, worst, margins)
    tightest = min(margins, key=lambda margin: margin.relative, default=None)
    return Verdict(True, "; ".join(outcome.text for outcome in outcomes), tightest, margins)


def evaluate(result: Result) -> Verdict | None:
    """The verdict of the preset's check on ``result``, or None if the preset names none."""
    name = result.preset.check
    if name is None:
        return None
    return check_spikes(name, result.spike_times, result.preset.segments, t=result.t,
                        V=result.V, V_th=result.V_th, V_rest=result.preset.params["V_rest"])
