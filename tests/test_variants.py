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
