"""What the conditions read and how they speak: margins, the context of N runs, and the
times and windows a check is written in (half-open ``[lo, hi)``, segments counted from 1)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from gifcli.analysis.features import SpikeTrains, segment_bounds
from gifcli.core.arguments import instance
from gifcli.core.errors import GifError
from gifcli.model.preset import checked_schedule

if TYPE_CHECKING:
    from gifcli.analysis.probe import Onsets

#: (schedule, points) -> the spike trains of those points under that schedule
Controls = Callable[[Sequence[tuple[float, float]], np.ndarray], SpikeTrains]
#: (schedule, points) -> V of those points at the schedule's end without the spike-triggered
#: currents (A1 = A2 = 0)
PassiveEnd = Callable[[Sequence[tuple[float, float]], np.ndarray], np.ndarray]

class CheckError(GifError, ValueError):
    """A check asked of what cannot answer it (an unknown name, a control or a probe from
    spike times alone). A GifError, and a ValueError as it always was."""


# --- margins ------------------------------------------------------------------------------------


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


# --- what the conditions read --------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Extrema:
    """Per point, V after a segment ends: its first peak, and the lowest V after the peak
    (NaN when the peak is at the run's end), and the peak's time where known (else None).

    With ``exact`` they are those of continuous time (:meth:`of_spikes`); with the
    fixed-step methods, whose trajectory is the grid values, those of the grid points
    (:meth:`of_trace`, and a batch's ``peak_mV`` and ``trough_mV``)."""

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

    @classmethod
    def of_spikes(cls, params: Mapping, initial: Mapping, input_scale,
                  segments: Sequence[tuple[float, float]], trains: SpikeTrains, after: float,
                  points: np.ndarray) -> Extrema:
        """The continuous-time extrema of ``points`` (indices into ``trains``; the others
        NaN), from the points' parameters, initial values and input scale (scalars, or one
        per point of ``points``) and their whole spike trains of an ``exact`` run
        (gifcli.simulation.extrema)."""
        from gifcli.simulation.extrema import v_extrema

        chosen = trains.take(points)
        found = v_extrema(params, segments, chosen.times, chosen.offsets, after, trains.end,
                          initial=initial, input_scale=input_scale)
        out = [np.full(len(trains), np.nan) for _ in range(3)]
        for column, values in zip(out, found, strict=True):
            column[points] = values
        peak, peak_time, trough = out
        return cls(peak, trough, peak_time)


@dataclass(eq=False)
class Context:
    """What the conditions read for N points of one schedule."""

    trains: SpikeTrains
    segments: Sequence[tuple[float, float]]
    V_rest: float | np.ndarray = -70.0
    extrema: Callable[[float, np.ndarray], Extrema] | None = None  # V after that time, at
    # those points (the others may be NaN)
    onsets: Callable[[np.ndarray], Onsets] | None = None  # the probe of those points
    controls: Controls | None = None  # runs those points under a control's schedule
    passive_end: PassiveEnd | None = None  # V at a shortened schedule's end, A1 = A2 = 0
    bounds: list[tuple[float, float]] = field(init=False)

    def __post_init__(self) -> None:
        self.trains = instance(self.trains, "trains", SpikeTrains, "SpikeTrains(times, offsets, "
                                                                   "end) or SpikeTrains.single")
        self.segments = checked_schedule(self.segments, None, "Context()")
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
