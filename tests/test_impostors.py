"""Impostors: runs of a preset, modified, that show some OTHER behaviour and must fail its check.

docs/patterns.md, "Checks reject impostors": a check that passes its own pattern
is half of it; it must also fail a run that shows another behaviour. Each case below is the
check's own shipped preset with a modification (parameter overrides, a scaled input, a
replaced schedule and/or a changed initial state). Every one was simulated (exact method,
the preset's dt) and its figure looked at; ``shows`` says in words what the figure shows.
``reason`` is a regex that the failing verdict's one-line reason must match: it names the
condition that must fail.

The second round of issue 20 added at least two per check (the checks as experiments,
docs/patterns.md): the class 2 neurons that B's old fixed onset rate let through and the
class 1 neurons H's shape test rejects, afterpotentials that are the pulse still charging V,
and, for every other check, the preset with a current removed or added, the threshold
adaptation removed or raised, or the input scaled, wherever that shows another pattern.

``revised`` marks the impostors that the first version of the checks let through; the revised
definitions (a burst ends in a pause; phasic_bursting wants a silent second half; the class 1
and class 2 checks read the f–I probe; phasic_spiking and preferred_frequency reject bursts,
and preferred_frequency wants each first pulse to fire on its own) reject them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace

import pytest

from gifcli.analysis.checks import evaluate
from gifcli.model.preset import Preset, shipped_presets
from gifcli.simulation.single import simulate

PRESETS: dict[str, Preset] = {preset.name: preset for preset in shipped_presets()}

SHAPE = r"f–I onset at [\d.]+ × the input: [\d.]+ Hz just above it, [\d.]+ Hz 1 % above "


@dataclass(frozen=True)
class Impostor:
    id: str
    check: str  # the check, and the shipped preset that is modified
    shows: str  # what the figure of the modified run shows
    reason: str  # regex the failing reason must match (re.search)
    params: dict[str, float] = field(default_factory=dict)  # model parameter overrides
    input_scale: float | None = None  # every amplitude of the schedule times this
    segments: tuple[tuple[float, float], ...] | None = None  # a replacement schedule
    initial: dict[str, float] = field(default_factory=dict)  # initial-state overrides
    revised: bool = False  # passes the first version of the checks (see the docstring)
    fooled_before: bool = False  # passed the checks before they were judged as experiments

    def preset(self) -> Preset:
        preset = PRESETS[self.check]
        if self.params:
            preset = replace(preset, params=preset.params | self.params)
        if self.segments is not None:
            preset = replace(preset, segments=tuple((float(a), float(d))
                                                    for a, d in self.segments))
        if self.input_scale is not None:
            preset = replace(preset, segments=tuple((a * self.input_scale, d)
                                                    for a, d in preset.segments))
        if self.initial:
            preset = replace(preset, initial_given=preset.initial_given | self.initial)
        return preset


I = Impostor  # noqa: E741 - the table reads better with a short name

IMPOSTORS: tuple[Impostor, ...] = (
    # --- A tonic_spiking ------------------------------------------------------------------------
    I("threshold-adaptation", "tonic_spiking",
      "5 spikes with ISIs growing 29 → 49 ms, then silence from 177 ms (phasic spiking)",
      r"ISI CV .*expected < 0\.05", params={"a": 0.005}),
    I("phasic-burst", "tonic_spiking",
      "one 7-spike burst at 25–49 ms, then silence to the end",
      r"ISI CV .*expected < 0\.05", params={"a": 0.005, "A1": 10.0, "A2": -0.6}),
    I("subthreshold", "tonic_spiking",
      "V rises to about −52 mV and stays below threshold: no spike",
      r"0 spikes, expected ≥ 5", input_scale=0.6),
    I("bursting", "tonic_spiking",
      "A1 = 10, A2 = −0.6: an 8-spike burst at 22–47 ms, the next from 170 ms: bursting, not a "
      "regular train",
      r"ISI CV 2\.565, expected < 0\.05", params={"A1": 10.0, "A2": -0.6}),
    I("adapting", "tonic_spiking",
      "A2 = −0.5: 4 spikes whose intervals lengthen 37 → 50 ms: adaptation, too few to be a train",
      r"4 spikes, expected ≥ 5", params={"A2": -0.5}),
    # --- B class_1_excitability -----------------------------------------------------------------
    I("class-2-late-onset", "class_1_excitability",
      "4 spikes from 283 ms (ISIs 65 → 52 ms), rate 8 Hz; its f–I curve jumps from 0 to "
      "about 18 Hz at the onset (class 2)",
      SHAPE + r"\(a ratio of 1\.00: the rate jumps from 0\), expected a ratio < 0\.75",
      params={"a": 0.002}, initial={"V_th": -30.0}, input_scale=1.3, revised=True),
    I("class-2-neuron", "class_1_excitability",
      "the class 2 neuron of H: 11 spikes from 86 ms to the end, ISIs shortening 56 → 33 ms",
      r"first spike at 85\.\d ms, expected ≥ 100", params={"a": 0.005},
      initial={"V_th": -30.0}, input_scale=1.9),
    I("tonic", "class_1_excitability",
      "regular tonic firing at about 45 Hz from 22 ms to the end",
      r"first spike at 22\.\d ms, expected ≥ 100", input_scale=1.5),
    I("class-2-slow", "class_1_excitability",
      "a = 0.002, A2 = −0.3, V_th(0) = −30 mV, input × 1.3: 3 spikes from 283 ms, 6 Hz: late "
      "and slow, but its f–I curve jumps from 0 to 8 Hz (9 Hz 1 % above): a class 2 neuron "
      "whose low onset rate passed the old fixed 10 Hz bound",
      SHAPE + r"\(a ratio of 0\.89: the rate jumps from 0\), expected a ratio < 0\.75",
      params={"a": 0.002, "A2": -0.3}, initial={"V_th": -30.0}, input_scale=1.3,
      fooled_before=True),
    I("class-2-latent", "class_1_excitability",
      "a = 0.003, V_th(0) = −30 mV, input × 1.45: 3 spikes from 342 ms, after a long latency "
      "while V_th falls; the f–I curve jumps from 0 to 23 Hz at its onset (class 2)",
      SHAPE + r"\(a ratio of 0\.96: the rate jumps from 0\), expected a ratio < 0\.75",
      params={"a": 0.003}, initial={"V_th": -30.0}, input_scale=1.45),
    # --- C spike_frequency_adaptation -----------------------------------------------------------
    I("no-adaptation", "spike_frequency_adaptation",
      "tonic firing with constant ISIs of 13.9 ms (14 spikes), no adaptation",
      r"last ISI .* expected ≥ 1\.2", params={"a": 0.0}),
    I("tonic-bursting", "spike_frequency_adaptation",
      "two bursts (8 spikes at 15 ms, 6 at 143 ms) separated by a 104 ms pause",
      r"ISI \d+ is shorter than ISI \d+", params={"A1": 10.0, "A2": -0.6}),
    I("phasic", "spike_frequency_adaptation",
      "a = 0.02: a single spike at 20.7 ms, then the threshold stays above V: phasic spiking",
      r"1 spike, expected ≥ 5", params={"a": 0.02}),
    I("subthreshold", "spike_frequency_adaptation",
      "input × 0.6: V settles below threshold, no spike",
      r"0 spikes, expected ≥ 5", input_scale=0.6),
    # --- D phasic_spiking -----------------------------------------------------------------------
    I("tonic", "phasic_spiking",
      "tonic firing at 45 Hz (ISI 22 ms) to the end of the step",
      r"spikes in the second half .*expected none", params={"a": 0.0}),
    I("subthreshold", "phasic_spiking",
      "V rises toward −55 mV and never reaches threshold: no spike",
      r"0 spikes, expected ≥ 1", input_scale=0.5),
    I("phasic-burst", "phasic_spiking",
      "one 7-spike burst at 25–49 ms, then silence (phasic bursting, N's pattern)",
      r"spike at 25\.2 ms is in a burst of 7 spikes", params={"A1": 10.0, "A2": -0.6},
      revised=True),
    I("short-burst", "phasic_spiking",
      "a 3-spike burst at 25 ms, then silence",
      r"spike at 25\.2 ms is in a burst of 3 spikes", params={"A1": 5.0, "A2": -0.3},
      revised=True),
    I("stronger-input", "phasic_spiking",
      "input × 1.5: firing goes on to the end of the step, 13 spikes in its second half",
      r"13 spikes in the second half of the step \[250, 500\) ms, first at 250\.4",
      input_scale=1.5),
    I("depolarizing-current", "phasic_spiking",
      "A1 = 5: each spike's depolarizing current fires the next: 44 spikes to the end of the step",
      r"15 spikes in the second half of the step \[250, 500\) ms, first at 255\.2",
      params={"A1": 5.0}),
    # --- E accommodation ------------------------------------------------------------------------
    I("no-accommodation", "accommodation",
      "fires on the fast step (4 spikes) and again when the ramp reaches 1.5 (5 spikes at "
      "800–888 ms)",
      r"spikes from seg 3 on .*expected none", params={"a": 0.0}),
    I("no-step-response", "accommodation",
      "no spike anywhere: even the fast step stays below threshold",
      r"0 spikes in seg 1 .*expected ≥ 1", input_scale=0.5),
    I("staircase-fires", "accommodation",
      "input × 1.5: the staircase climbs fast enough to fire 7 times from 724 ms: no "
      "accommodation",
      r"7 spikes from seg 3 on \[600, 1000\) ms, first at 724\.3 ms", input_scale=1.5),
    I("nothing-fires", "accommodation",
      "a = 0.02: the threshold follows V so closely that not even the sharp step fires",
      r"0 spikes in seg 1 \[0, 100\) ms, expected ≥ 1", params={"a": 0.02}),
    # --- F threshold_variability ----------------------------------------------------------------
    I("fires-alone", "threshold_variability",
      "the last pulse, raised to 2.5, fires twice (261.6, 271.2 ms) and does so just as well "
      "without the inhibitory pulse: the inhibition is not why it fires",
      r"control, without the inhibitory pulse \(seg 3 set to 0\): 2 spikes in seg 5",
      segments=((1.5, 20), (0, 180), (-1.5, 25), (0, 25), (2.5, 25), (0, 125)),
      fooled_before=True),
    I("stronger-input", "threshold_variability",
      "input × 1.05: the last pulse fires once (272.4 ms), and just as well without the "
      "inhibitory pulse (273.3 ms)",
      r"control, without the inhibitory pulse \(seg 3 set to 0\): 1 spike in seg 5",
      input_scale=1.05, fooled_before=True),
    I("fixed-threshold-raised-pulse", "threshold_variability",
      "no threshold adaptation (a = 0): the raised last pulse fires on its own, with or "
      "without the inhibitory pulse",
      r"control, without the inhibitory pulse \(seg 3 set to 0\): 2 spikes in seg 5",
      params={"a": 0.0},
      segments=((1.5, 20), (0, 180), (-1.5, 25), (0, 25), (2.5, 25), (0, 125)),
      fooled_before=True),
    I("fixed-threshold", "threshold_variability",
      "no spike at all: without threshold adaptation the inhibition does not lower the "
      "threshold, and the second pulse stays below it",
      r"0 spikes in seg 5", params={"a": 0.0}),
    I("both-pulses-fire", "threshold_variability",
      "both excitatory pulses fire (17.5 ms and 268 ms): the first one needs no lowered "
      "threshold",
      r"spike before seg 3 .*expected none", input_scale=1.2),
    I("long-first-pulse", "threshold_variability",
      "the first pulse, 30 ms instead of 20, fires at 25 ms; the second pulse fires too",
      r"spike before seg 3 .*expected none",
      segments=((1.5, 30.0), (0.0, 170.0), (-1.5, 25.0), (0.0, 25.0), (1.5, 25.0),
                (0.0, 125.0))),
    I("first-pulse-fires", "threshold_variability",
      "input × 1.5: the first excitatory pulse fires on its own (12.3 ms): the threshold needs no "
      "lowering",
      r"1 spike before seg 3 \[0, 200\) ms, first at 12\.3 ms", input_scale=1.5),
    I("nothing-fires", "threshold_variability",
      "input × 0.6: no pulse fires, not even the last one after the inhibition",
      r"0 spikes in seg 5 \(\+10 ms\) \[250, 285\) ms, expected ≥ 1", input_scale=0.6),
    # --- G rebound_spiking ----------------------------------------------------------------------
    I("no-rebound", "rebound_spiking",
      "V returns from −140 mV to rest after the inhibition without firing: no spike",
      r"0 spikes in the first 100 ms of seg 3", params={"a": 0.0}),
    I("rebound-burst", "rebound_spiking",
      "a rebound burst of 7 spikes at 855–866 ms instead of one spike",
      r"7 spikes in the first 100 ms of seg 3 .*expected exactly 1",
      params={"A1": 10.0, "A2": -0.6}),
    I("fires-during-inhibition", "rebound_spiking",
      "tonic firing every 72 ms during the inhibition itself (from 126 ms), none after it",
      r"spikes before seg 3 .*expected none", params={"a": 0.03}),
    I("fires-at-rest", "rebound_spiking",
      "a = 0.02: single spikes every 119 ms during the inhibition, from 175 ms: "
      "hyperpolarization-induced spiking, not a rebound",
      r"6 spikes before seg 3 \[0, 806\) ms, first at 174\.9 ms", params={"a": 0.02}),
    I("rebound-discharge", "rebound_spiking",
      "A1 = 5: release from inhibition sets off a 12-spike discharge, not one spike",
      r"12 spikes in the first 100 ms of seg 3 \[806, 906\) ms, expected exactly",
      params={"A1": 5.0}),
    # --- H class_2_excitability -----------------------------------------------------------------
    I("class-1", "class_2_excitability",
      "tonic firing with ISIs shortening 28 → 15 ms (15 spikes); its f–I curve rises from "
      "0 Hz (class 1, about 5 Hz at the onset)",
      SHAPE + r"\(a ratio of 0\.45: the rate rises from 0\), expected a ratio ≥ 0\.75",
      params={"a": 0.0}, revised=True),
    I("class-1-slow", "class_2_excitability",
      "a = 0, A2 = −0.5: 8 regular spikes, ISIs 40 → 33 ms, to the end; its f–I curve (gif fi) "
      "starts at 2 Hz and is at 4 Hz 1 % above the onset: it rises from 0 (class 1)",
      SHAPE + r"\(a ratio of 0\.50: the rate rises from 0\)", params={"a": 0.0, "A2": -0.5}),
    I("class-1-fast", "class_2_excitability",
      "a = 0, input × 2: fast regular firing (about 70 Hz) to the end; fast firing at this "
      "input does not make the curve jump: it still rises from 5 Hz, 11 Hz 1 % above",
      SHAPE + r"\(a ratio of 0\.45: the rate rises from 0\)", params={"a": 0.0},
      input_scale=2.0),
    I("below-onset", "class_2_excitability",
      "V and V_th settle apart below the onset: no spike",
      r"0 spikes, expected ≥ 2", input_scale=0.9),
    # --- I integrator ---------------------------------------------------------------------------
    I("every-pulse-fires", "integrator",
      "the first pulse of each pair fires on its own (17.5 ms, 318 ms): no summation needed",
      r"spike before seg 3 .*expected none", input_scale=1.2),
    I("no-coincidence-window", "integrator",
      "both pairs fire (42 ms and 357 ms): the 20 ms gap sums as well as the 10 ms one",
      r"spike after that .*expected none", params={"a": 0.0}),
    I("no-summation", "integrator",
      "no spike: even the close pair stays below threshold",
      r"0 spikes in seg 3", input_scale=0.8),
    I("strong-adaptation", "integrator",
      "a = 0.02: even the close pair does not sum to a spike: no spike at all",
      r"0 spikes in seg 3 \(\+10 ms\) \[30, 60\) ms, expected ≥ 1", params={"a": 0.02}),
    I("every-pulse-fires-twice", "integrator",
      "input × 2: every pulse fires on its own, the first twice (8.3, 16.9 ms)",
      r"2 spikes before seg 3 \[0, 30\) ms, first at 8\.3 ms", input_scale=2.0),
    # --- J input_bistability --------------------------------------------------------------------
    I("dies-out", "input_bistability",
      "A2 = −0.3: the discharge in seg 2 slows (ISIs 46 → 86 ms) and stops at 388 ms under "
      "the same constant input: not a stable firing state",
      r"control, the input of seg 2 held 2 × as long \(seg 2\): last spike at 387\.8 ms",
      params={"A2": -0.3}, fooled_before=True),
    I("dies-out-slowly", "input_bistability",
      "A2 = −0.2: the discharge in seg 2 slows and stops at 460 ms; held longer, it stays "
      "silent",
      r"control, the input of seg 2 held 2 × as long \(seg 2\): last spike at 460\.0 ms",
      params={"A2": -0.2}, fooled_before=True),
    I("monostable", "input_bistability",
      "tonic firing in all four segments: seg 4 (1.7) fires like seg 2",
      r"spikes in seg 4 .*expected none", params={"a": 0.0}),
    I("silent", "input_bistability",
      "no spike in any segment",
      r"0 spikes in seg 2 .*expected ≥ 5", input_scale=0.8),
    I("phasic-bursts", "input_bistability",
      "A1 = 10, A2 = −0.6: seg 2's firing is a run of bursts that stops by itself when seg 2 is "
      "held longer (last spike 376 ms): not a stable state",
      r"control, the input of seg 2 held 2 × as long \(seg 2\): last spike",
      params={"A1": 10.0, "A2": -0.6}),
    I("depolarizing-current", "input_bistability",
      "A1 = 5: fast firing in seg 2 and again in seg 4: the input 1.7 always fires, history does "
      "not matter",
      r"33 spikes in seg 4 \[600, 1000\) ms, first at 602\.3 ms", params={"A1": 5.0}),
    # --- K hyperpolarization_induced_spiking ----------------------------------------------------
    I("bursts", "hyperpolarization_induced_spiking",
      "three bursts of 4–5 spikes in the hyperpolarization (232, 327, 420 ms)",
      r"spike at 231\.9 ms is in a burst of 5 spikes in seg 2", params={"A1": 10.0, "A2": -0.6}),
    I("no-spikes", "hyperpolarization_induced_spiking",
      "V sits at −90 mV during the hyperpolarization without firing: no spike",
      r"0 spikes in seg 2 .*expected ≥ 3", params={"a": 0.0}),
    I("fires-at-rest", "hyperpolarization_induced_spiking",
      "a spike at 0.1 ms at rest (the threshold starts below V), then the usual three",
      r"spike at rest .*expected none", initial={"V_th": -75.0}),
    I("too-weak", "hyperpolarization_induced_spiking",
      "input × 0.6: one spike at 342 ms under the hyperpolarizing input, not repeated",
      r"1 spike in seg 2 \[100, 500\) ms, expected ≥ 3", input_scale=0.6),
    I("depolarizing-current", "hyperpolarization_induced_spiking",
      "A1 = 5: two spikes (232, 376 ms) under the hyperpolarizing input, the threshold raised "
      "after each",
      r"2 spikes in seg 2 \[100, 500\) ms, expected ≥ 3", params={"A1": 5.0}),
    # --- L hyperpolarization_induced_bursting ---------------------------------------------------
    I("single-spikes", "hyperpolarization_induced_bursting",
      "three single spikes every 117 ms in the hyperpolarization, no burst",
      r"0 bursts in seg 2 .*expected ≥ 2", params={"A1": 0.0, "A2": 0.0}),
    I("one-long-burst", "hyperpolarization_induced_bursting",
      "one long discharge of 43 spikes at 232–304 ms, then silence",
      r"1 burst in seg 2 .*expected ≥ 2", params={"A1": 15.0, "A2": 0.0}),
    I("doublet-then-single", "hyperpolarization_induced_bursting",
      "one doublet at 179 ms, then single spikes every 84 ms",
      r"1 burst in seg 2 .*expected ≥ 2", input_scale=3.0),
    I("bursts-at-rest", "hyperpolarization_induced_bursting",
      "a 6-spike burst at rest from 0.1 ms (the threshold starts below V), then bursts",
      r"spikes at rest .*expected none", initial={"V_th": -75.0}),
    I("fixed-threshold", "hyperpolarization_induced_bursting",
      "a = 0: the threshold no longer falls with V: no spike at all",
      r"0 bursts in seg 2 \[100, 500\) ms, expected ≥ 2", params={"a": 0.0}),
    I("depolarizing-current", "hyperpolarization_induced_bursting",
      "A1 = 5: three single spikes (232, 348, 461 ms), no bursts: hyperpolarization-induced "
      "spiking",
      r"0 bursts in seg 2 \[100, 500\) ms, expected ≥ 2", params={"A1": 5.0}),
    # --- M tonic_bursting -----------------------------------------------------------------------
    I("adapting-spikes", "tonic_bursting",
      "tonic firing with ISIs growing 15.5 → 25 ms, no burst",
      r"0 bursts, expected ≥ 3", params={"A1": 0.0, "A2": 0.0}),
    I("sustained-fast", "tonic_bursting",
      "fast firing (ISI 2.2 → 3.5 ms, 168 spikes) from 15 ms to the end, no pause",
      r"0 bursts, expected ≥ 3", params={"A2": 0.0}),
    I("phasic-burst", "tonic_bursting",
      "one 7-spike burst at 25–49 ms, then silence",
      r"1 burst, expected ≥ 3", input_scale=0.75),
    I("no-pause", "tonic_bursting",
      "input × 2: 80 spikes at 2–4 ms intervals that never pause: sustained fast firing",
      r"0 bursts, expected ≥ 3", input_scale=2.0),
    I("burst-then-spikes", "tonic_bursting",
      "A1 = 5: a 3-spike burst at the onset, then single spikes 45–75 ms apart: mixed mode",
      r"1 burst, expected ≥ 3", params={"A1": 5.0}),
    # --- N phasic_bursting ----------------------------------------------------------------------
    I("sustained-234hz", "phasic_bursting",
      "fast tonic firing (117 spikes, ISIs 2.5 → 4.7 ms) from 25 ms to the end of the step, "
      "no pause",
      r"0 bursts, expected exactly 1", params={"A2": -0.1}, revised=True),
    I("long-adapting-discharge", "phasic_bursting",
      "50 spikes from 25 to 352 ms, ISIs growing 2.6 → 9 ms, firing well into the second "
      "half (48 before exact found the crossings inside a step at dt 0.1)",
      r"12 spikes in the second half of the run \[250, 500\) ms, .*expected none",
      params={"A2": -0.3}, revised=True),
    I("tonic-bursting", "phasic_bursting",
      "four bursts, every 130 ms, to the end of the run",
      r"4 bursts, expected exactly 1", input_scale=2.0 / 1.5),
    I("phasic-spikes", "phasic_bursting",
      "5 single spikes with ISIs growing 29 → 49 ms, then silence (phasic spiking)",
      r"0 bursts, expected exactly 1", params={"A1": 0.0, "A2": 0.0}),
    I("fixed-threshold", "phasic_bursting",
      "a = 0: bursts every 120 ms to the end of the step: tonic bursting",
      r"4 bursts, expected exactly 1", params={"a": 0.0}),
    I("stronger-input", "phasic_bursting",
      "input × 1.5: bursts repeat to the end of the step (4 of them): tonic bursting",
      r"4 bursts, expected exactly 1", input_scale=1.5),
    # --- O rebound_bursting ---------------------------------------------------------------------
    I("sustained-rebound", "rebound_bursting",
      "after the inhibition, fast firing (120 spikes, ISIs 1.2 → 4.8 ms) from 652 ms to the "
      "end, no pause",
      r"0 bursts in the first 100 ms of seg 3 .*expected ≥ 1", params={"A2": 0.0},
      revised=True),
    I("rebound-spike", "rebound_bursting",
      "a single rebound spike at 652 ms",
      r"0 bursts in the first 100 ms of seg 3 .*expected ≥ 1", params={"A1": 0.0, "A2": 0.0}),
    I("no-rebound", "rebound_bursting",
      "no spike: V returns to rest after the inhibition",
      r"0 bursts in the first 100 ms of seg 3 .*expected ≥ 1", params={"a": 0.0}),
    I("fires-at-rest", "rebound_bursting",
      "a = 0.02: tonic firing from 225 ms, during the inhibition, then a discharge at its release",
      r"3 spikes before seg 3 \[0, 600\) ms, first at 224\.9 ms", params={"a": 0.02}),
    I("too-weak", "rebound_bursting",
      "input × 0.6: the inhibition is too weak for a rebound: no spike",
      r"0 bursts in the first 100 ms of seg 3 \[600, 700\) ms, expected ≥ 1", input_scale=0.6),
    # --- P mixed_mode ---------------------------------------------------------------------------
    I("adapting-spikes", "mixed_mode",
      "tonic firing with ISIs growing 15.5 → 25 ms, no initial burst",
      r"first ISI .*expected ≤ 10", params={"A1": 0.0, "A2": 0.0}),
    I("tonic-bursting", "mixed_mode",
      "four bursts of 5–8 spikes every 130 ms, no tonic phase",
      r"last 5 ISIs .*expected ≥ 20", params={"A1": 10.0, "A2": -0.6}),
    I("phasic-burst", "mixed_mode",
      "one 3-spike burst at 25–40 ms, then silence",
      r"3 spikes, expected ≥ 10", input_scale=0.75),
    I("smooth-adaptation", "mixed_mode",
      "A1 = 4: ISIs lengthen smoothly from 6.3 to 35 ms; no fast discharge that ends in a "
      "jump, no burst",
      r"no jump: at most, ISI 5 is 1\.56 × the longest before it", params={"A1": 4.0},
      fooled_before=True),
    I("smooth-adaptation-A2", "mixed_mode",
      "A1 = 3, A2 = −0.2: ISIs lengthen smoothly from 7.9 ms; no jump",
      r"no jump: at most, ISI 4 is 1\.19 × the longest before it",
      params={"A1": 3.0, "A2": -0.2}, fooled_before=True),
    I("fixed-threshold", "mixed_mode",
      "a = 0: 51 spikes whose intervals lengthen smoothly from 4.5 ms: adaptation with no jump",
      r"no jump: at most, ISI 6 is 1\.11 × the longest before it, expected ≥ 2\.",
      params={"a": 0.0}),
    I("strong-input", "mixed_mode",
      "input × 2: 74 spikes, intervals lengthening smoothly from 2.9 ms: adaptation, no jump",
      r"no jump: at most, ISI 4 is 1\.06 × the longest before it, expected ≥ 2\.", input_scale=2.0),
    # --- Q afterpotentials ----------------------------------------------------------------------
    I("no-afterpotentials", "afterpotentials",
      "one spike, then V stays near rest after the reset (peak rest + 0.6 mV), no "
      "afterpotential",
      r"V peaks at rest \+ 0\.61 mV, expected ≥ 1 mV above the passive response",
      params={"A1": 0.0, "A2": 0.0}),
    I("depolarizing-only", "afterpotentials",
      "one spike, a depolarizing afterpotential, then V returns to rest without undershoot",
      r"falls only to rest .*expected below rest", params={"A2": 0.0}),
    I("doublet", "afterpotentials",
      "two spikes (8.3, 12.0 ms) during the pulse",
      r"2 spikes, expected exactly 1", input_scale=1.5),
    I("charging-pulse", "afterpotentials",
      "A1 = 0, the pulse 25 ms long: one spike at 14.7 ms, and the pulse charges V again after "
      "the reset, to rest + 14 mV at its end; from there V only decays (no rise) and "
      "undershoots (A2): the old check read V at the pulse's end as the afterpotential",
      r"V peaks at rest \+ 13\.94 mV, expected ≥ 1 mV above the passive response",
      params={"A1": 0.0}, segments=((2.0, 25.0), (0.0, 175.0)), fooled_before=True),
    I("long-weak-pulse", "afterpotentials",
      "A1 = 0, a pulse of 1.5 for 40 ms: one spike at 25.2 ms, V charged to rest + 13 mV when "
      "the pulse ends, then a plain decay with an undershoot",
      r"V peaks at rest \+ 13\.02 mV, expected ≥ 1 mV above the passive response",
      params={"A1": 0.0}, segments=((1.5, 40.0), (0.0, 160.0)), fooled_before=True),
    I("residual-current", "afterpotentials",
      "A1 = 0, I1(0) = 20: the initial current fires a spike at 1.0 ms, then it and the pulse "
      "hold V at rest + 17.5 mV at the pulse's end, from where it decays: no spike-triggered "
      "rise",
      r"V peaks at rest \+ 17\.52 mV, expected ≥ 1 mV above the passive response",
      params={"A1": 0.0}, initial={"I1": 20.0}, fooled_before=True),
    # --- R basal_bistability --------------------------------------------------------------------
    I("dies-out", "basal_bistability",
      "A1 = 7.5, a second pulse too weak to do anything (1.0): the discharge stops by itself "
      "at 43 ms, long before the second pulse",
      r"control, without the second pulse \(seg 3 set to 0\): last spike at 43\.4 ms",
      params={"A1": 7.5}, segments=((5, 10), (0, 90), (1, 10), (0, 90)), fooled_before=True),
    I("dies-out-A2", "basal_bistability",
      "A2 = −0.15, the same weak second pulse: the discharge stops by itself at 34 ms",
      r"control, without the second pulse \(seg 3 set to 0\): last spike at 34\.1 ms",
      params={"A2": -0.15}, segments=((5, 10), (0, 90), (1, 10), (0, 90)), fooled_before=True),
    I("not-switched-off", "basal_bistability",
      "tonic firing at 240 Hz from the first pulse to the end: the second pulse does not "
      "stop it",
      r"spikes from 5 ms after seg 3 on .*expected none", params={"A2": 0.0}),
    I("burst-per-pulse", "basal_bistability",
      "a 4-spike burst on each pulse, silence in between",
      r"spikes? between seg 1 and seg 3 .*expected ≥ 3", params={"A2": -0.3}),
    I("doublet-per-pulse", "basal_bistability",
      "two spikes on each pulse, silence in between",
      r"0 spikes between seg 1 and seg 3 .*expected ≥ 3", params={"A1": 0.0}),
    I("no-currents", "basal_bistability",
      "A1 = A2 = 0: each pulse fires two spikes, nothing between: no state to switch",
      r"0 spikes between seg 1 and seg 3 \[10, 100\) ms, expected ≥ 3",
      params={"A1": 0.0, "A2": 0.0}),
    I("bursts", "basal_bistability",
      "A1 = 10, A2 = −0.6: each pulse fires a short burst that stops by itself",
      r"0 spikes between seg 1 and seg 3 \[10, 100\) ms, expected ≥ 3",
      params={"A1": 10.0, "A2": -0.6}),
    # --- S preferred_frequency ------------------------------------------------------------------
    I("integrator-pair", "preferred_frequency",
      "no spike-triggered currents, input × 1.1: each first pulse fires, the 5 ms pair's "
      "second pulse fires (14.4 ms), the 45 ms pair's does not: it prefers the short "
      "interval, as an integrator does",
      r"0 spikes on the wide pair's second pulse", params={"A1": 0.0, "A2": 0.0},
      input_scale=1.1, fooled_before=True),
    I("both-intervals", "preferred_frequency",
      "the second pulse fires at both intervals (5 ms and 45 ms): no preference",
      r"spike at 4\.5 ms is in a burst of 2 spikes", params={"A1": 0.0}),
    I("no-resonance", "preferred_frequency",
      "only the first pulse of each pair fires; neither second pulse does",
      r"0 spikes on the wide pair's second pulse", params={"A1": 0.0, "A2": 0.0}),
    I("every-pulse", "preferred_frequency",
      "every one of the four pulses fires",
      r"1 spike on the close pair's second pulse \[10, 25\) ms", input_scale=1.5),
    I("integrator", "preferred_frequency",
      "no first pulse fires; the 5 ms pair sums and fires at 13.7 ms, the 45 ms pair does "
      "not: it prefers the shortest interval, as an integrator does",
      r"0 spikes on the first pulse of pair 1 \[0, 10\) ms, expected exactly 1",
      input_scale=0.75, revised=True),
    I("bursts", "preferred_frequency",
      "each first pulse sets off a 5-spike burst, whose later spikes fall on the second "
      "pulse",
      r"2 spikes on the first pulse of pair 1 \[0, 10\) ms, expected exactly 1",
      params={"A1": 10.0, "A2": -0.6}, revised=True),
    I("short-burst", "preferred_frequency",
      "the first pulse sets off a 3-spike burst at 4.5 ms whose later spikes fall on the "
      "second pulse of the 5 ms pair: a burst, not a response to the interval",
      r"spike at 4\.5 ms is in a burst of 3 spikes", params={"A1": 5.0, "A2": -0.3},
      revised=True),
    I("strong-pulses", "preferred_frequency",
      "input × 2: every pulse fires on its own, the first twice: no selectivity for the interval",
      r"2 spikes on the first pulse of pair 1 \[0, 10\) ms, expected exactly 1", input_scale=2.0),
    I("hyperpolarizing-current", "preferred_frequency",
      "A2 = −0.5: only each pair's first pulse fires; the wide pair's second does not",
      r"0 spikes on the wide pair's second pulse \[450, 465\) ms, expected ≥ 1",
      params={"A2": -0.5}),
    # --- T spike_latency ------------------------------------------------------------------------
    I("immediate", "spike_latency",
      "one spike at 1.6 ms, during the pulse: no latency",
      r"first spike at 1\.\d ms, expected ≥ 7", input_scale=1.5),
    I("short-latency", "spike_latency",
      "one spike at 2.8 ms, just after the pulse",
      r"first spike at 2\.\d ms, expected ≥ 7", params={"a": -0.2}),
    I("no-spike", "spike_latency",
      "V peaks at −55 mV at the end of the pulse and decays: no spike",
      r"0 spikes, expected exactly 1", params={"a": 0.0}),
    I("burst", "spike_latency",
      "A1 = 10, A2 = −0.6: after the latency, a 10-spike burst instead of one spike",
      r"10 spikes, expected exactly 1", params={"A1": 10.0, "A2": -0.6}),
    I("discharge", "spike_latency",
      "A1 = 5: after the latency, 14 spikes 2.5 ms apart, each firing the next",
      r"14 spikes, expected exactly 1", params={"A1": 5.0}),
)


@pytest.mark.parametrize("case", IMPOSTORS, ids=lambda case: f"{case.check}-{case.id}")
def test_the_check_rejects_the_impostor(case: Impostor):
    preset = case.preset()
    assert preset.check == case.check
    verdict = evaluate(simulate(preset))
    assert verdict is not None
    assert not verdict.passed, (
        f"{case.check} passed an impostor ({case.shows}): {verdict.reason}")
    assert re.search(case.reason, verdict.reason), (
        f"{case.check} rejected {case.id} for another reason than /{case.reason}/: "
        f"{verdict.reason}")


def test_every_check_has_impostors():
    counts = Counter(case.check for case in IMPOSTORS)
    checks = {preset.check for preset in PRESETS.values()}
    assert len(checks) == 20
    assert set(counts) == checks
    assert min(counts.values()) >= 4, counts


def test_the_table_is_well_formed():
    keys = [(case.check, case.id) for case in IMPOSTORS]
    assert len(keys) == len(set(keys))
    for case in IMPOSTORS:
        assert case.check in PRESETS
        assert case.params or case.initial or case.segments or case.input_scale is not None
        assert set(case.params) <= set(PRESETS[case.check].params)
        assert set(case.initial) <= {"V", "V_th", "I1", "I2"}
        re.compile(case.reason)


@pytest.mark.parametrize("name", sorted({case.check for case in IMPOSTORS}))
def test_the_unmodified_preset_passes(name: str):
    """The control: each impostor fails because of its modification, not because the check
    fails everything."""
    verdict = evaluate(simulate(PRESETS[name]))
    assert verdict is not None and verdict.passed, verdict.reason
