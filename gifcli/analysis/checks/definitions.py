"""The 20 pattern checks, one per shipped preset, each a tuple of conditions that must all hold.

A check is data, not code: its name (the pattern's), what it requires as a person reads it
(``str(check)``) and its conditions from :mod:`.conditions`. Kept apart from the engine, the
20 can be read side by side, as a table, against docs/patterns.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from gifcli.analysis.checks.conditions import (
    Afterpotential,
    AtLeast,
    Condition,
    Control,
    Exactly,
    FirstSpikeEarlierInControl,
    FirstSpikeNotBefore,
    InControl,
    IsiCv,
    IsiJump,
    IsisNonDecreasing,
    IsiStatistic,
    LastBurstAfter,
    LastOverFirstIsi,
    LastSpikeLate,
    NoSpike,
    NotInBurst,
    OnlyBurst,
    ProbeShape,
    RateBelow,
)
from gifcli.analysis.checks.context import (
    RUN_END,
    RUN_START,
    WHOLE_RUN,
    Edge,
    Window,
    end,
    of_run,
    segment,
    start,
)
from gifcli.analysis.features import segment_bounds


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
    if isinstance(value, Control):
        return list(value.edges)
    if isinstance(value, tuple | list):
        return [edge for item in value for edge in _edges(item)]
    if dataclasses.is_dataclass(value):
        return _edges([getattr(value, f.name) for f in dataclasses.fields(value)])
    return []


BEFORE_SEG_3 = Window(RUN_START, start(3), "before seg 3")
FIRST_100_OF_SEG_3 = Window(start(3), start(3, 100.0), "in the first 100 ms of seg 3")
AT_REST = segment(1, "at rest (seg 1)")
SECOND_HALF = Window(of_run(0.5), RUN_END, "in the second half of the run")
SEG_5_PULSE = Window(start(5), end(5, 10.0), "in seg 5 (+10 ms)")
HELD_STEP = Control("hold", 1, "the step")
#: a control of a step held twice as long: no spike in its added half
SILENT_WHEN_HELD = InControl(HELD_STEP, NoSpike(Window(Edge(1, 0.5), end(1),
                                                       "in the added half of the step")))

_CHECK_LIST = (
    Check("tonic_spiking",
          "≥ 5 spikes; ISI coefficient of variation < 0.05; "
          "last spike later than end − 2 × mean ISI",
          (AtLeast(5), IsiCv(0.05), LastSpikeLate(2.0))),
    Check("class_1_excitability",
          "≥ 1 spike; first spike ≥ 100 ms after onset; mean rate over the run < 10 Hz; "
          "f–I probe: an onset exists, and the rate just above it (s* + 0.01 %) is < 0.75 × "
          "the rate 1 % above it (the rate rises from 0)",
          (AtLeast(1), FirstSpikeNotBefore(start(1, 100.0), "100 ms after onset"),
           RateBelow(10.0), ProbeShape(class_2=False))),
    Check("spike_frequency_adaptation",
          "≥ 5 spikes; ISIs non-decreasing (tolerance 1e-6 ms); last ISI ≥ 1.2 × first ISI; "
          "control, the step held twice as long: the last spike later than end − 2 × mean ISI",
          (AtLeast(5), IsisNonDecreasing(1e-6), LastOverFirstIsi(1.2),
           InControl(HELD_STEP, LastSpikeLate(2.0)))),
    Check("phasic_spiking",
          "≥ 1 spike, none of them in a burst; no spike in the second half of the step; "
          "control, the step held twice as long: no spike in its added half",
          (AtLeast(1), NotInBurst(WHOLE_RUN),
           NoSpike(Window(Edge(1, 0.5), end(1), "in the second half of the step")),
           SILENT_WHEN_HELD)),
    Check("accommodation",
          "≥ 1 spike in segment 1; no spike from the start of segment 3 to the end; "
          "control, segs 3–5 as one sharp step to seg 5's level: ≥ 1 spike in it",
          (AtLeast(1, segment(1)), NoSpike(Window(start(3), RUN_END, "from seg 3 on")),
           InControl(Control("step", 3, "the staircase", last=5), AtLeast(1, segment(3))))),
    Check("threshold_variability",
          "no spike before segment 3; ≥ 1 spike in [start of seg 5, end of seg 5 + 10); "
          "control, seg 3 set to 0: no spike there",
          (NoSpike(BEFORE_SEG_3), AtLeast(1, SEG_5_PULSE),
           InControl(Control("zero", 3, "the inhibitory pulse"), NoSpike(SEG_5_PULSE)))),
    Check("rebound_spiking",
          "no spike before segment 3; exactly 1 spike in [start of seg 3, + 100); "
          "control, seg 2 set to 0: no spike there",
          (NoSpike(BEFORE_SEG_3), Exactly(1, FIRST_100_OF_SEG_3),
           InControl(Control("zero", 2, "the inhibition"), NoSpike(FIRST_100_OF_SEG_3)))),
    Check("class_2_excitability",
          "≥ 2 spikes; last spike later than end − 2 × mean ISI (it keeps firing); "
          "f–I probe: an onset exists, and the rate just above it (s* + 0.01 %) is ≥ 0.75 × "
          "the rate 1 % above it (the rate jumps from 0)",
          (AtLeast(2), LastSpikeLate(2.0), ProbeShape(class_2=True))),
    Check("integrator",
          "no spike before seg 3; ≥ 1 spike in [start of seg 3, end of seg 3 + 10); "
          "none after that",
          (NoSpike(BEFORE_SEG_3), AtLeast(1, Window(start(3), end(3, 10.0), "in seg 3 (+10 ms)")),
           NoSpike(Window(end(3, 10.0), RUN_END, "after that")))),
    Check("input_bistability",
          "≥ 5 spikes in segment 2; no spike in segment 4 (same input, opposite response); "
          "controls, seg 2 held twice as long: the last spike later than end − 2 × mean ISI; "
          "seg 4 held twice as long: no spike in it",
          (AtLeast(5, segment(2)), NoSpike(segment(4)),
           InControl(Control("hold", 2, "the input of seg 2"), LastSpikeLate(2.0)),
           InControl(Control("hold", 4, "the input of seg 4"), NoSpike(segment(4))))),
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
          "no spike in the second half of the run; "
          "control, the step held twice as long: no spike in its added half",
          (OnlyBurst(of_run(0.2), "the first 20 % of the run"), NoSpike(SECOND_HALF),
           SILENT_WHEN_HELD)),
    Check("rebound_bursting",
          "no spike before seg 3; a burst of ≥ 2 spikes in [start of seg 3, + 100); "
          "control, seg 2 set to 0: no spike there",
          (NoSpike(BEFORE_SEG_3), AtLeast(1, FIRST_100_OF_SEG_3, count_bursts=True),
           InControl(Control("zero", 2, "the inhibition"), NoSpike(FIRST_100_OF_SEG_3)))),
    Check("mixed_mode",
          "≥ 10 spikes; first ISI ≤ 10 ms; an ISI ≥ 2.5 × the longest before it (the fast "
          "discharge ends in a jump); last 5 ISIs each ≥ 20 ms with CV ≤ 0.3",
          (AtLeast(10), IsiStatistic("first", 10.0, at_most=True), IsiJump(2.5),
           IsiStatistic("last", 20.0, at_most=False, last=5),
           IsiCv(0.3, strict=False, last=5))),
    Check("afterpotentials",
          "exactly 1 spike; after seg 1 (the pulse) ends, V rises ≥ 1 mV above the passive "
          "response (control, the same pulse with A1 = A2 = 0), then falls ≥ 0.5 mV below "
          "rest and below the passive response",
          (Exactly(1), Afterpotential(1, rise=1.0, below=0.5))),
    Check("basal_bistability",
          "≥ 3 spikes between the end of seg 1 and the start of seg 3; "
          "none from end of seg 3 + 5 ms to the end; "
          "control, seg 3 set to 0: the last spike later than end − 2 × mean ISI",
          (AtLeast(3, Window(end(1), start(3), "between seg 1 and seg 3")),
           NoSpike(Window(end(3, 5.0), RUN_END, "from 5 ms after seg 3 on")),
           InControl(Control("zero", 3, "the second pulse"), LastSpikeLate(2.0)))),
    Check("preferred_frequency",
          "the first pulse of each pair (seg 1, seg 5) fires exactly 1 spike before the "
          "second pulse; no spike in a burst; the second pulse of the wide pair (seg 7) "
          "fires within [its start, its end + 10); that of the close pair (seg 3) does not",
          (Exactly(1, Window(start(1), start(3), "on the first pulse of pair 1")),
           Exactly(1, Window(start(5), start(7), "on the first pulse of pair 2")),
           NotInBurst(WHOLE_RUN),
           AtLeast(1, Window(start(7), end(7, 10.0), "on the wide pair's second pulse")),
           NoSpike(Window(start(3), end(3, 10.0), "on the close pair's second pulse")))),
    Check("spike_latency",
          "exactly 1 spike; it comes ≥ 5 ms after the pulse ends; "
          "control, the pulse × 2: the first spike comes earlier",
          (Exactly(1), FirstSpikeNotBefore(end(1, 5.0), "5 ms after the pulse ends"),
           FirstSpikeEarlierInControl(Control("scale", 1, "the pulse")))),
)

#: check name -> Check; ``str(CHECKS[name])`` is what it requires, as a person reads it
CHECKS: dict[str, Check] = {check.name: check for check in _CHECK_LIST}
