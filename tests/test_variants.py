"""True variants: a shipped preset with a parameter or its input moved while the pattern is
still plainly there (found by sweeps around the preset); each must pass its check. The other
side of tests/test_impostors.py: a check must not lean on the shipped preset's own numbers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import pytest

from gifcli.analysis.checks import evaluate
from gifcli.model.preset import shipped_presets
from gifcli.simulation.single import simulate

PRESETS = {preset.name: preset for preset in shipped_presets()}


@dataclass(frozen=True)
class Variant:
    id: str
    check: str
    shows: str  # what the modified run shows
    params: dict[str, float] = field(default_factory=dict)
    input_scale: float = 1.0
    fixed_step: str = ""  # why it fails under exp-euler at dt 0.1 ("": it passes there too)

    def preset(self):
        preset = PRESETS[self.check]
        return replace(preset, params=preset.params | self.params,
                       segments=tuple((a * self.input_scale, d) for a, d in preset.segments))


V = Variant
VARIANTS = (
    V("weaker-input", "phasic_spiking",
      "input × 0.9: 2 single spikes (34, 86 ms), then silence, also when the step is held "
      "twice as long", input_scale=0.9),
    V("more-threshold-adaptation", "phasic_spiking",
      "a = 0.006: single spikes at the onset, silent in the second half and when held longer",
      {"a": 0.006}),
    V("more-threshold-adaptation", "accommodation",
      "a = 0.006: the sharp step fires twice, the staircase not at all, the staircase's last "
      "level as a sharp step 3 times", {"a": 0.006}),
    V("more-threshold-adaptation", "threshold_variability",
      "a = 0.006: one spike to the last pulse (274 ms), none without the inhibitory pulse",
      {"a": 0.006}),
    V("stronger-input", "rebound_spiking",
      "input × 1.1: one rebound spike at 844 ms, none without the inhibition", input_scale=1.1),
    V("more-threshold-adaptation", "rebound_spiking",
      "a = 0.006: one rebound spike at 834 ms, none without the inhibition", {"a": 0.006}),
    V("stronger-input", "rebound_bursting",
      "input × 1.1: a rebound burst at 639 ms, nothing without the inhibition",
      input_scale=1.1),
    V("stronger-current", "rebound_bursting",
      "A1 = 8: a rebound burst at 652 ms, nothing without the inhibition", {"A1": 8.0}),
    V("stronger-pulses", "basal_bistability",
      "input × 1.1: the first pulse switches firing on, the second off; without the second "
      "the firing goes on to 196 ms", input_scale=1.1,
      fixed_step="exp-euler fires once more at 116.3 ms, just after the second pulse"),
    V("stronger-pulse", "spike_latency",
      "input × 1.05: one spike at 10.0 ms, 8 ms after the pulse; twice the pulse fires at "
      "1.2 ms", input_scale=1.05),
    V("stronger-adaptation", "spike_frequency_adaptation",
      "A2 = −0.3: 7 spikes, ISIs 19 → 36 ms, still firing when the step is held twice as long",
      {"A2": -0.3}),
    V("much-stronger-adaptation", "spike_frequency_adaptation",
      "A2 = −0.5: 6 spikes, ISIs 23 → 46 ms, still firing when the step is held longer",
      {"A2": -0.5}),
    V("weaker-current", "input_bistability",
      "A1 = −1: 12 spikes in seg 2 that go on when it is held longer; seg 4 silent",
      {"A1": -1.0}),
    V("stronger-A2", "mixed_mode",
      "A2 = −0.4: 5 fast spikes (ISIs 5 → 11 ms), a 52 ms jump, then regular spikes",
      {"A2": -0.4}),
    V("much-stronger-A2", "mixed_mode",
      "A2 = −0.5: 4 fast spikes, a 57 ms jump, then regular spikes", {"A2": -0.5}),
    V("stronger-input", "tonic_spiking",
      "input × 1.1: 10 regular spikes (ISI 18.6 ms) to the end", input_scale=1.1),
    V("slight-adaptation", "tonic_spiking",
      "a = −0.001: 9 spikes, ISIs 21.2 → 20.1 ms (CV 0.017), to the end", {"a": -0.001}),
    V("hyperpolarizing-current", "class_1_excitability",
      "A2 = −0.1: one spike at 276 ms; the f–I curve rises from 2 Hz just above the onset "
      "to 7 Hz 1 % above", {"A2": -0.1}),
    V("a-little-more-input", "class_1_excitability",
      "input × 1.001: 3 spikes at 138, 276, 415 ms (6 Hz); the f–I curve rises from 6 Hz to "
      "11 Hz 1 % above the onset", input_scale=1.001),
    V("weaker-input", "accommodation",
      "input × 0.9: the sharp step fires twice (34, 86 ms), the staircase not at all, its last "
      "level as a sharp step twice", input_scale=0.9),
    V("hyperpolarizing-current", "accommodation",
      "A2 = −0.05: the sharp step fires 3 times, the staircase not at all, its last level as "
      "a sharp step 4 times", {"A2": -0.05}),
    V("depolarizing-current", "threshold_variability",
      "A1 = 1: one spike to the last pulse (274.5 ms), none without the inhibitory pulse",
      {"A1": 1.0}),
    V("hyperpolarizing-current", "threshold_variability",
      "A2 = −0.05: one spike to the last pulse (274.5 ms), none without the inhibitory "
      "pulse", {"A2": -0.05}),
    V("slow-class-2", "class_2_excitability",
      "A2 = −0.5: 4 slow spikes (55 → 255 ms) to the end; the f–I curve jumps from 0 to "
      "15 Hz (16 Hz 1 % above): class 2 at a low rate (the old check's 60 ms median ISI, a "
      "number of the preset, rejected it)", {"A2": -0.5}),
    V("less-threshold-adaptation", "class_2_excitability",
      "a = 0.003: 11 spikes to the end; the f–I curve jumps from 0 to 23 Hz", {"a": 0.003}),
    V("stronger-input", "class_2_excitability",
      "input × 1.1: 10 spikes to the end; the f–I curve jumps from 0 to 33 Hz",
      input_scale=1.1),
    V("stronger-pulses", "integrator",
      "input × 1.05: only the close pair fires (46 ms)", input_scale=1.05),
    V("less-threshold-adaptation", "integrator",
      "a = 0.004: only the close pair fires (47 ms)", {"a": 0.004}),
    V("hyperpolarizing-current", "input_bistability",
      "A2 = −0.05: 9 spikes in seg 2 that go on when it is held longer; seg 4 silent, also "
      "held longer", {"A2": -0.05}),
    V("stronger-input", "hyperpolarization_induced_spiking",
      "input × 1.1: silent at rest, 3 single spikes (223, 333, 443 ms) under the "
      "hyperpolarizing input", input_scale=1.1),
    V("more-threshold-adaptation", "hyperpolarization_induced_spiking",
      "a = 0.036: silent at rest, 4 single spikes 90 ms apart", {"a": 0.036}),
    V("weaker-input", "hyperpolarization_induced_bursting",
      "input × 0.9: silent at rest, 3 bursts of 4–5 spikes", input_scale=0.9),
    V("stronger-current", "hyperpolarization_induced_bursting",
      "A1 = 12: silent at rest, 3 bursts of 7 spikes", {"A1": 12.0}),
    V("stronger-input", "tonic_bursting",
      "input × 1.1: 4 bursts, the last at 370 ms", input_scale=1.1),
    V("stronger-current", "tonic_bursting",
      "A1 = 12: 4 longer bursts, the last at 452 ms", {"A1": 12.0},
      fixed_step="exp-euler's longer bursts leave room for only 3, the last at 315 ms"),
    V("weaker-input", "phasic_bursting",
      "input × 0.9: one 6-spike burst at 34 ms, then silence, also when held longer",
      input_scale=0.9),
    V("stronger-current", "phasic_bursting",
      "A1 = 12: one 9-spike burst at 25 ms, then silence, also when held longer", {"A1": 12.0}),
    V("smaller-depolarizing-current", "afterpotentials",
      "A1 = 2: one spike, V rises after the pulse to rest + 4.9 mV at 21.6 ms (4.3 mV above "
      "the passive response), then falls to rest − 1.8 mV (the old check's fixed rest + 5 mV "
      "rejected it)", {"A1": 2.0}),
    V("stronger-hyperpolarizing-current", "afterpotentials",
      "A2 = −1: one spike, V rises after the pulse to rest + 10.3 mV, then falls to rest − "
      "6.8 mV", {"A2": -1.0}),
    V("stronger-pulse", "afterpotentials",
      "input × 1.05: one spike at 13.6 ms, V rises after the pulse to rest + 15.8 mV, then "
      "falls to rest − 1.2 mV", input_scale=1.05),
    V("weaker-pulses", "basal_bistability",
      "input × 0.9: the first pulse switches firing on, the second off; without the second "
      "the firing goes on to the end", input_scale=0.9),
    V("negative-threshold-adaptation", "basal_bistability",
      "a = −0.001: the first pulse switches firing on, the second off; without the second "
      "the firing goes on to 196 ms", {"a": -0.001}),
    V("stronger-threshold-coupling", "spike_latency",
      "a = −0.096: one spike at 8.0 ms, 6 ms after the pulse; twice the pulse fires at 1.2 ms",
      {"a": -0.096}),
    V("depolarizing-current", "spike_latency",
      "A1 = 1: one spike at 16.2 ms; twice the pulse fires at 1.2 ms", {"A1": 1.0}),
    V("fixed-threshold", "preferred_frequency",
      "a = 0: each first pulse fires, then only the 45 ms pair's second pulse",
      {"a": 0.0}),
    V("weaker-reset-current", "preferred_frequency",
      "A1 = −1: each first pulse fires, then only the 45 ms pair's second pulse",
      {"A1": -1.0}),
)


@pytest.mark.parametrize("case", VARIANTS, ids=lambda case: f"{case.check}-{case.id}")
def test_the_check_passes_the_true_variant(case: Variant):
    verdict = evaluate(simulate(case.preset()))
    assert verdict is not None and verdict.passed, f"{case.shows}: {verdict.reason}"


@pytest.mark.parametrize("method", ["euler", "exp-euler"])
@pytest.mark.parametrize("case", VARIANTS, ids=lambda case: f"{case.check}-{case.id}")
def test_the_fixed_step_methods_pass_the_true_variant(case: Variant, method: str):
    """Every variant passes under euler at dt 0.1 too, and all but the two marked under
    exp-euler: on those, exp-euler's own discretisation moves a spike across a window."""
    verdict = evaluate(simulate(case.preset(), method, 0.1))
    expected = not (case.fixed_step and method == "exp-euler")
    assert verdict.passed == expected, f"{case.shows}: {verdict.reason}"


def test_every_check_has_two_true_variants():
    counts = Counter(case.check for case in VARIANTS)
    assert set(counts) == {preset.check for preset in PRESETS.values()}
    assert min(counts.values()) >= 2, counts
    keys = [(case.check, case.id) for case in VARIANTS]
    assert len(keys) == len(set(keys))
