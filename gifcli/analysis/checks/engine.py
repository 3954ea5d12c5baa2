"""Judging a check: one engine for one run and for a whole batch, a run being a batch of one.

:func:`judge` takes the trains of N points (and, for the checks that need them, the
afterpotential extrema and an f–I probe) and returns a :class:`Judgement`: the verdict and the
margin of every point as arrays, and :meth:`Judgement.verdict` for one point's reasons.
:func:`check_spikes` judges one train of spike times and :func:`evaluate` one
:class:`gifcli.simulation.result.Result`, both through :func:`judge`, so ``gif run`` and a sweep
point of the same parameters get the same verdict and the same margin to the bit.

A margin over its scale is its relative margin; the check's margin is the smallest relative
margin of its conditions, or on a failure the failing condition's. It is NaN (JSON null) where
there is nothing to measure: a count missed with no spike to move, or a threshold on a
statistic that does not exist. A point's conditions are measured in order until the first that
fails; later ones (the f–I probe and the controls, the costliest) are measured only for the
points still passing.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gifcli.analysis.checks.context import (
    CheckError,
    Context,
    Controls,
    Extrema,
    Margin,
    Measured,
    PassiveEnd,
    _n,
)
from gifcli.analysis.checks.definitions import CHECKS, Check
from gifcli.analysis.features import SpikeTrains
from gifcli.core.arguments import instance, shown
from gifcli.model.preset import checked_schedule

if TYPE_CHECKING:
    from gifcli.analysis.probe import Onsets
    from gifcli.simulation.result import Result

# --- verdicts -----------------------------------------------------------------------------------


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
    if not isinstance(name, str) or name not in CHECKS:
        close = difflib.get_close_matches(name, list(CHECKS), n=1, cutoff=0.5) \
            if isinstance(name, str) else []
        hint = f"; did you mean {close[0]}?" if close else ""
        raise CheckError(f"unknown check {shown(name)}{hint}")
    return CHECKS[name]


def judge(name: str, ctx: Context) -> Judgement:
    """Check ``name`` at every point of ``ctx``, with no Python loop over the points."""
    check = resolve_check(name)
    ctx = instance(ctx, "ctx", Context, "Context(trains, segments, ...)")
    n = ctx.size
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
                 onsets: Callable[[np.ndarray], Onsets] | None = None,
                 controls: Controls | None = None,
                 passive_end: PassiveEnd | None = None,
                 extrema: Callable[[float, np.ndarray], Extrema] | None = None) -> Verdict:
    """Run check ``name`` on one train of spike times (ms, sorted) under ``segments`` of
    ``(amplitude, duration ms)``; the simulated time ends at ``end_ms`` (default: the
    schedule's end).

    ``afterpotentials`` also reads V's extrema after the pulse: ``extrema(after, points)``
    if given (see :meth:`Extrema.of_spikes`), else those of the ``t`` and ``V`` traces'
    grid points (and ``V_rest``); the class 1 and class 2 checks call ``onsets`` (see
    :func:`gifcli.analysis.probe.onsets`) once the other conditions hold; a check with a
    control calls ``controls(schedule, points)`` for the spike trains under the control's
    schedule (see :meth:`gifcli.analysis.probe.Probe.trains`),
    and ``afterpotentials`` ``passive_end(schedule, points)`` for V at the pulse's end
    without the spike-triggered currents (see :meth:`gifcli.analysis.probe.Probe.passive_end`).
    Without what it needs, a check that reaches that condition raises CheckError (a ValueError).
    """
    resolve_check(name)
    segments = checked_schedule(segments, None, "check_spikes()")
    stop = end_ms if end_ms is not None else sum(d for _, d in segments)
    if extrema is None and t is not None and V is not None:
        t, V = np.asarray(t, dtype=np.float64), np.asarray(V, dtype=np.float64)
        extrema = lambda after, _points: Extrema.of_trace(t, V, after)  # noqa: E731
    ctx = Context(SpikeTrains.single(spike_times, stop), segments, V_rest=V_rest,
                  extrema=extrema, onsets=onsets, controls=controls,
                  passive_end=passive_end)
    return judge(name, ctx).verdict(0)


def evaluate(result: Result) -> Verdict | None:
    """The verdict of the preset's check on ``result``, or None if the preset names none."""
    from gifcli.analysis.probe import Probe, onsets, probe_amplitude
    from gifcli.simulation.result import Result

    name = instance(result, "result", Result, "what simulate() returns").preset.check
    if name is None:
        return None

    preset = result.preset
    extrema = None
    if result.method == "exact":  # the closed form between the spikes: no grid
        trains = SpikeTrains.single(result.spike_times, result.duration)
        extrema = lambda after, points: Extrema.of_spikes(  # noqa: E731
            preset.params, preset.initial, 1.0, preset.segments, trains, after, points)
    probe = Probe(preset.params, preset.initial, probe_amplitude(preset.segments), 1,
                  result.method, result.dt)
    return check_spikes(name, result.spike_times, preset.segments, end_ms=result.duration,
                        t=result.t, V=result.V, V_rest=preset.params["V_rest"],
                        onsets=lambda points: onsets(probe.subset(points)),
                        controls=lambda schedule, points: probe.subset(points).trains(schedule),
                        passive_end=lambda schedule, points:
                        probe.subset(points).passive_end(schedule), extrema=extrema)
