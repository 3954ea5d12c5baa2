"""True variants: a shipped preset with a parameter or its input moved while the pattern is
still plainly there (found by sweeps around the preset); each must pass its check. The other
side of tests/test_impostors.py: a check must not lean on the shipped preset's own numbers."""

from __future__ import annotations

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
      "the firing goes on to 196 ms", input_scale=1.1),
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
