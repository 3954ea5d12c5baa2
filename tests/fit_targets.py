"""Random reachable targets for ``gif fit``, shared by tests/test_fit_recovery.py and
bench/fit.py: for each of four presets (two of them bursting), five seeded draws of its free
quantities near the preset's own values; each target is the exact spike train of its draw,
and each fit starts from the preset's own values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: preset, its free quantities and their bounds
PRESETS = {
    "tonic_bursting": {"a": (-0.05, 0.05), "A1": (0.0, 20.0), "A2": (-2.0, 2.0)},
    "phasic_bursting": {"a": (-0.05, 0.05), "A1": (0.0, 20.0), "A2": (-2.0, 2.0)},
    "mixed_mode": {"A1": (0.0, 20.0), "A2": (-2.0, 0.0)},
    "spike_frequency_adaptation": {"a": (0.0, 0.05), "A2": (-2.0, 0.0)},
}
PER_PRESET = 5
SPREAD = 0.1  # a draw lies within this share of each range of the preset's own value
MIN_SPIKES = 3


@dataclass(frozen=True)
class Case:
    preset: str
    seed: int
    truth: dict[str, float]
    bounds: dict[str, tuple[float, float]]

    @property
    def label(self) -> str:
        return f"{self.preset}-{self.seed}"

    def free_texts(self) -> list[str]:
        return [f"{name}={lo!r}:{hi!r}" for name, (lo, hi) in self.bounds.items()]


def cases() -> list[Case]:
    """PER_PRESET targets per preset, each a draw whose train has ≥ MIN_SPIKES spikes."""
    from gifcli import resolve, simulate

    found = []
    for k, (name, bounds) in enumerate(PRESETS.items()):
        preset = resolve(name)
        rng = np.random.default_rng(1000 + k)
        while sum(case.preset == name for case in found) < PER_PRESET:
            truth = {}
            for param, (lo, hi) in bounds.items():
                spread = SPREAD * (hi - lo)
                low = max(lo, preset.params[param] - spread)
                high = min(hi, preset.params[param] + spread)
                truth[param] = float(rng.uniform(low, high))
            if simulate(preset.replace(**truth)).n_spikes >= MIN_SPIKES:
                found.append(Case(name, len(found) + 1, truth, bounds))
    return found


def fit_case(case: Case):
    """The fit of ``case`` from its preset's own values, seed 1: the FitResult."""
    from gifcli import resolve, simulate
    from gifcli.explore import fit

    preset = resolve(case.preset)
    target = fit.SpikeTarget(simulate(preset.replace(**case.truth)).spike_times,
                             source=case.label)
    return fit.fit(preset, [fit.parse_free(t) for t in case.free_texts()], target, seed=1)
