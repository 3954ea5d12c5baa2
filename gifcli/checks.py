"""The 20 pattern checks of shared/spec/patterns.md (being written: see issue 3)."""

from __future__ import annotations

#: check name -> what it requires, as a person reads it
CHECKS: dict[str, str] = {
    "tonic_spiking": "≥ 5 spikes; ISI coefficient of variation < 0.05; last spike later than end − 2 × mean ISI",
    "class_1_excitability": "≥ 1 spike; first spike ≥ 100 ms after onset; mean rate over the run < 10 Hz",
    "spike_frequency_adaptation": "≥ 5 spikes; ISIs non-decreasing (tolerance 1e-6 ms); last ISI ≥ 1.2 × first ISI",
    "phasic_spiking": "≥ 1 spike; no spike in the second half of the step",
    "accommodation": "≥ 1 spike in segment 1; no spike from the start of segment 3 to the end",
    "threshold_variability": "no spike before segment 3; ≥ 1 spike in [start of seg 5, end of seg 5 + 10)",
    "rebound_spiking": "no spike before segment 3; exactly 1 spike in [start of seg 3, + 100)",
    "class_2_excitability": "≥ 3 spikes; median ISI ≤ 60 ms",
    "integrator": "no spike before seg 3; ≥ 1 spike in [start of seg 3, end of seg 3 + 10); none after that",
    "input_bistability": "≥ 5 spikes in segment 2; no spike in segment 4 (same input, opposite response)",
    "hyperpolarization_induced_spiking": "no spike at rest (seg 1); ≥ 3 spikes in seg 2, none of them in a burst",
    "hyperpolarization_induced_bursting": "no spike at rest (seg 1); ≥ 2 bursts of ≥ 2 spikes in seg 2",
    "tonic_bursting": "≥ 3 bursts of ≥ 2 spikes; the last burst starts after 70 % of the run",
    "phasic_bursting": "exactly one burst, of ≥ 2 spikes, starting in the first 20 % of the run, and nothing after it",
    "rebound_bursting": "no spike before seg 3; a burst of ≥ 2 spikes in [start of seg 3, + 100)",
    "mixed_mode": "≥ 10 spikes; first ISI ≤ 10 ms; last 5 ISIs each ≥ 20 ms with CV ≤ 0.3",
    "afterpotentials": "exactly 1 spike; after seg 1 ends, V rises above V_rest + 5 mV, and after that peak falls below V_rest − 0.5 mV",
    "basal_bistability": "≥ 3 spikes between the end of seg 1 and the start of seg 3; none from end of seg 3 + 5 ms to the end",
    "preferred_frequency": "exactly one of the two second pulses (seg 3, seg 7) fires within [its start, its end + 10)",
    "spike_latency": "exactly 1 spike; it comes ≥ 5 ms after the pulse ends",
}
