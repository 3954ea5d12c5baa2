"""The 20 pattern checks: every shipped preset passes them with every method, and each check
fails, with the reason a person reads, on spike trains and presets that lack its pattern."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gifcli.analysis.checks import CHECKS, Verdict, check_spikes, evaluate
from gifcli.analysis.checks.conditions import Control
from gifcli.analysis.features import SpikeTrains
from gifcli.analysis.probe import Onsets, Probe, onsets, probe_amplitude
from gifcli.core.errors import PresetError
from gifcli.model.parameters import METHODS
from gifcli.model.preset import load_preset, parse_preset, shipped_presets
from gifcli.simulation.single import simulate

DATA = Path(__file__).parent / "data" / "checks"
PATTERNS = (  # docs/patterns.md, A to T
    "tonic_spiking", "class_1_excitability", "spike_frequency_adaptation", "phasic_spiking",
    "accommodation", "threshold_variability", "rebound_spiking", "class_2_excitability",
    "integrator", "input_bistability", "hyperpolarization_induced_spiking",
    "hyperpolarization_induced_bursting", "tonic_bursting", "phasic_bursting",
    "rebound_bursting", "mixed_mode", "afterpotentials", "basal_bistability",
    "preferred_frequency", "spike_latency",
)
PRESETS = {preset.name: preset for preset in shipped_presets()}


def segments_of(name: str):
    return PRESETS[name].segments


def fake_onsets(rate: float, above: float = 10.0):
    """An f–I probe that finds its onset at s = 1, with this onset rate and this rate 1 %
    above the onset, at every point."""
    return lambda points: Onsets(np.ones(len(points)), np.full(len(points), rate),
                                 np.full(len(points), above))


def fake_controls(train):
    """Control runs that give every point this spike train, whatever the schedule."""
    return lambda schedule, points: SpikeTrains.concatenate(
        [SpikeTrains.single(np.asarray(train, float), sum(d for _, d in schedule))
         for _ in points])


def fake_passive(passive: float = -70.0):
    """A control that stops at the pulse's end and finds V there without the spike-triggered
    currents: ``passive``, at every point."""
    return lambda schedule, points: np.full(len(points), passive)


def modified(name: str, **params) -> Verdict:
    preset = PRESETS[name]
    return evaluate(simulate(replace(preset, params=preset.params | params)))


# --- the table of checks -------------------------------------------------------------------------


def test_there_is_one_check_per_pattern_and_preset():
    assert list(CHECKS) == list(PATTERNS)
    assert [p.check for p in PRESETS.values()] == list(PATTERNS)
    for name in PATTERNS:
        assert name in CHECKS
        assert str(CHECKS[name]) == CHECKS[name].description and CHECKS[name].description


def test_the_preset_loader_still_validates_check_names():
    text = "name: x\ninput:\n  - {amplitude: 1, duration: 10}\ncheck: tonic_spikin\n"
    with pytest.raises(PresetError, match="did you mean tonic_spiking"):
        parse_preset(text, "x.yaml")


def test_no_check_gives_no_verdict():
    preset = parse_preset("name: x\ninput:\n  - {amplitude: 1.5, duration: 50}\n", "x.yaml")
    assert evaluate(simulate(preset)) is None


def test_unknown_check_name_is_an_error():
    with pytest.raises(ValueError, match="did you mean integrator"):
        check_spikes("integrater", [], [(1.0, 10.0)])


def test_a_check_on_too_few_segments_fails_with_a_reason():
    verdict = check_spikes("integrator", [5.0], [(1.5, 20.0), (0.0, 30.0)])
    assert not verdict.passed
    assert verdict.reason == "the input has 2 segments; this check reads seg 3"


def test_verdict_json():
    verdict = check_spikes("spike_latency", [12.0], segments_of("spike_latency"),
                           controls=fake_controls([1.0]))
    assert verdict.as_json() == {
        "passed": True, "margin": 38.0 / 50.0,
        "reason": "1 spike; first at 12.0 ms; control, the pulse × 2 (seg 1): first spike at "
                  "1.0 ms, earlier",
        "margin_condition": "1st spike before 50 ms: margin 38 ms"}
    failed = check_spikes("spike_latency", [], segments_of("spike_latency")).as_json()
    assert failed["margin"] is None and failed["margin_condition"] is None


# --- every shipped preset passes, with every method ----------------------------------------------


@pytest.mark.parametrize("dt", [0.01, 0.05, 0.1])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", PATTERNS)
def test_shipped_preset_passes(name, method, dt):
    result = simulate(PRESETS[name], method, dt)
    verdict = evaluate(result)
    assert verdict.passed, f"{name} {method} dt={dt}: {verdict.reason}"
    assert verdict.reason and "\n" not in verdict.reason
    # each condition holds with room to spare, and the tightest is the one reported
    assert verdict.margins and all(m.value > 0 for m in verdict.margins), verdict.margins
    assert verdict.margin.relative == min(m.relative for m in verdict.margins)


def test_spike_times_alone_give_the_same_verdicts():
    for name, preset in PRESETS.items():
        if name == "afterpotentials":
            continue  # reads V
        result = simulate(preset)
        full = evaluate(result)
        runs = Probe(preset.params, preset.initial, probe_amplitude(preset.segments), 1)
        bare = check_spikes(name, result.spike_times, preset.segments, end_ms=result.duration,
                            onsets=lambda _, runs=runs: onsets(runs),
                            controls=lambda schedule, _, runs=runs: runs.trains(schedule))
        assert (bare.passed, bare.margin) == (full.passed, full.margin)


def test_afterpotentials_and_the_probe_need_what_they_read():
    with pytest.raises(ValueError, match="V after the segment"):
        check_spikes("afterpotentials", [14.7], segments_of("afterpotentials"))
    with pytest.raises(ValueError, match="f–I probe"):
        check_spikes("class_2_excitability", np.arange(10.0, 300.0, 30.0),
                     segments_of("class_2_excitability"))
    # a check that fails before it reaches the probe needs none
    assert not check_spikes("class_2_excitability", [10], segments_of("class_2_excitability")
                            ).passed


def test_margins_of_tonic_spiking_by_hand():
    # a = 0: spikes at k * 20 ln 3 (see test_features); ISI CV 0
    period = 20.0 * math.log(3.0)
    verdict = evaluate(simulate(PRESETS["tonic_spiking"]))
    by_condition = {m.condition: m for m in verdict.margins}
    assert by_condition["ISI CV < 0.05"].value == pytest.approx(0.05, abs=1e-9)
    assert by_condition["5th spike before 200 ms"].value == pytest.approx(200 - 5 * period)
    last = by_condition["last spike after end − 2 × mean ISI"]
    assert last.value == pytest.approx(9 * period - (200 - 2 * period))
    assert verdict.margin is by_condition["5th spike before 200 ms"]
    assert str(verdict.margin) == "5th spike before 200 ms: margin 90.1 ms"
    assert verdict.reason == "9 spikes; ISI CV 0.000; last at 197.8 ms"


def test_margin_of_a_silent_window_is_the_distance_of_the_nearest_spikes():
    result = simulate(PRESETS["input_bistability"])
    verdict = evaluate(result)
    last_before = float(result.spike_times[result.spike_times < 600][-1])
    by_condition = {m.condition: m for m in verdict.margins}
    assert by_condition["last spike before 600 ms"].value == 600 - last_before
    assert by_condition["last spike before 600 ms"].scale == 400  # the window's length
    assert "no spike before 1000 ms" not in by_condition  # nothing fires after seg 4


def test_a_window_that_should_fire_measures_how_early_the_next_spike_must_come():
    verdict = check_spikes("threshold_variability", [300.0], segments_of("threshold_variability"))
    assert verdict.reason == "0 spikes in seg 5 (+10 ms) [250, 285) ms, expected ≥ 1"
    assert verdict.margin.condition == "1st spike before 285 ms"
    assert verdict.margin.value == -15.0


# --- each check fails without its pattern ---------------------------------------------------------

FAILING_TRAINS = [  # (check, spike times, reason)
    ("tonic_spiking", [20, 40, 60, 80], "4 spikes, expected ≥ 5"),
    ("tonic_spiking", [10, 20, 40, 80, 160, 190],
     "ISI CV 0.671, expected < 0.05"),
    ("tonic_spiking", [10, 20, 30, 40, 50],
     "last spike at 50.0 ms, expected after 180.0 ms (end − 2 × mean ISI)"),
    ("tonic_spiking", [70, 90, 110, 130, 150],
     "last spike at 150.0 ms, expected after 160.0 ms (end − 2 × mean ISI)"),
    ("tonic_spiking", [21, 40, 61, 80, 101, 120, 141, 160, 181],  # ISIs 19, 21: CV 1/20
     "ISI CV 0.050, expected < 0.05"),
    ("class_1_excitability", [], "0 spikes, expected ≥ 1"),
    ("class_1_excitability", [50],
     "first spike at 50.0 ms, expected ≥ 100 ms (100 ms after onset)"),
    ("class_1_excitability", [100, 200, 300, 400, 450], "rate 10.00 Hz, expected < 10 Hz"),
    ("spike_frequency_adaptation", [10, 20, 30, 40], "4 spikes, expected ≥ 5"),
    ("spike_frequency_adaptation", [10, 30, 45, 55, 60],
     "ISI 2 is shorter than ISI 1 by 5 ms (20.000 → 15.000 ms)"),
    ("spike_frequency_adaptation", [0, 10, 20, 30, 40, 51],
     "last ISI 11.00 ms is 1.10 × the first (10.00 ms), expected ≥ 1.2 ×"),
    ("spike_frequency_adaptation", [0, 10, 19.999998, 32, 46, 62],
     "ISI 2 is shorter than ISI 1 by 2e-06 ms (10.000 → 10.000 ms)"),  # tolerance 1e-6
    ("phasic_spiking", [], "0 spikes, expected ≥ 1"),
    ("phasic_spiking", [25, 100, 250],
     "1 spike in the second half of the step [250, 500) ms, first at 250.0 ms; expected none"),
    ("accommodation", [], "0 spikes in seg 1 [0, 100) ms, expected ≥ 1"),
    ("accommodation", [25, 850],
     "1 spike from seg 3 on [600, 1000) ms, first at 850.0 ms; expected none"),
    ("threshold_variability", [15, 260],
     "1 spike before seg 3 [0, 200) ms, first at 15.0 ms; expected none"),
    ("threshold_variability", [285], "0 spikes in seg 5 (+10 ms) [250, 285) ms, expected ≥ 1"),
    ("rebound_spiking", [], "0 spikes in the first 100 ms of seg 3 [806, 906) ms, expected "
                            "exactly 1"),
    ("rebound_spiking", [850, 860], "2 spikes in the first 100 ms of seg 3 [806, 906) ms, "
                                    "expected exactly 1"),
    ("rebound_spiking", [10, 850], "1 spike before seg 3 [0, 806) ms, first at 10.0 ms; "
                                   "expected none"),
    ("class_2_excitability", [150], "1 spike, expected ≥ 2"),
    ("class_2_excitability", [10, 40, 70],
     "last spike at 70.0 ms, expected after 240.0 ms (end − 2 × mean ISI)"),
    ("integrator", [25, 49], "1 spike before seg 3 [0, 30) ms, first at 25.0 ms; expected none"),
    ("integrator", [], "0 spikes in seg 3 (+10 ms) [30, 60) ms, expected ≥ 1"),
    ("integrator", [49, 355], "1 spike after that [60, 400) ms, first at 355.0 ms; expected none"),
    ("input_bistability", [150, 200], "2 spikes in seg 2 [100, 500) ms, expected ≥ 5"),
    ("input_bistability", [150, 200, 250, 300, 350, 700],
     "1 spike in seg 4 [600, 1000) ms, first at 700.0 ms; expected none"),
    ("hyperpolarization_induced_spiking", [50, 200, 300, 400],
     "1 spike at rest (seg 1) [0, 100) ms, first at 50.0 ms; expected none"),
    ("hyperpolarization_induced_spiking", [200, 300], "2 spikes in seg 2 [100, 500) ms, "
                                                      "expected ≥ 3"),
    ("hyperpolarization_induced_spiking", [150, 160, 300, 400],
     "spike at 150.0 ms is in a burst of 2 spikes in seg 2 [100, 500) ms"),
    ("hyperpolarization_induced_bursting", [150, 155, 300, 400],
     "1 burst in seg 2 [100, 500) ms, expected ≥ 2"),
    ("tonic_bursting", [10, 15, 50, 55, 400, 450], "2 bursts, expected ≥ 3"),
    ("tonic_bursting", [10, 15, 50, 55, 100, 105],
     "last burst starts at 100.0 ms, expected after 350 ms (70 % of the run)"),
    ("phasic_bursting", [], "0 bursts, expected exactly 1"),
    ("phasic_bursting", [10, 15, 20, 300],
     "1 spike after the burst, first at 300.0 ms; expected none"),
    ("phasic_bursting", [200, 205],
     "the burst starts at 200.0 ms, expected before 100 ms (the first 20 % of the run)"),
    ("rebound_bursting", [650], "0 bursts in the first 100 ms of seg 3 [600, 700) ms, "
                                "expected ≥ 1"),
    ("rebound_bursting", [50, 650, 655], "1 spike before seg 3 [0, 600) ms, first at 50.0 ms; "
                                         "expected none"),
    ("mixed_mode", [20.0 * k for k in range(1, 10)], "9 spikes, expected ≥ 10"),
    ("mixed_mode", [20.0 * k for k in range(1, 21)], "first ISI 20.0 ms, expected ≤ 10 ms"),
    ("mixed_mode", [5.0 * k for k in range(1, 13)],
     "no jump: at most, ISI 2 is 1.00 × the longest before it, expected ≥ 2.5 ×"),
    ("mixed_mode", [0, 5, 10, 30, 35, 40, 45, 50, 55, 60, 65],
     "shortest of the last 5 ISIs 5.0 ms, expected ≥ 20 ms"),
    ("mixed_mode", [0, 5, 10, 15, 20, 25, 45, 105, 125, 185, 205],
     "CV of the last 5 ISIs 0.544, expected ≤ 0.3"),
    ("basal_bistability", [5, 20, 40, 60, 80, 115],
     "1 spike from 5 ms after seg 3 on [115, 200) ms, first at 115.0 ms; expected none"),
    ("basal_bistability", [5, 20, 40], "2 spikes between seg 1 and seg 3 [10, 100) ms, "
                                       "expected ≥ 3"),
    ("preferred_frequency", [4.5, 404.5],
     "0 spikes on the wide pair's second pulse [450, 465) ms, expected ≥ 1"),
    ("preferred_frequency", [4.5, 24.9, 404.5, 464.9],
     "1 spike on the close pair's second pulse [10, 25) ms, first at 24.9 ms; expected none"),
    ("spike_latency", [5], "first spike at 5.0 ms, expected ≥ 7 ms (5 ms after the pulse ends)"),
    ("spike_latency", [10, 20], "2 spikes, expected exactly 1"),
    ("spike_latency", [], "0 spikes, expected exactly 1"),
]


@pytest.mark.parametrize(("name", "train", "reason"), FAILING_TRAINS)
def test_check_fails_on_a_train_without_its_pattern(name, train, reason):
    verdict = check_spikes(name, [float(t) for t in train], segments_of(name))
    assert not verdict.passed
    assert verdict.reason == reason


def test_every_check_has_a_failing_case():
    tested = {name for name, _, _ in FAILING_TRAINS} | {"afterpotentials"}
    assert tested == set(PATTERNS)


@pytest.mark.parametrize(("name", "train", "control"), [
    ("threshold_variability", [284.99], []),  # the window is [250, 285)
    ("basal_bistability", [5, 20, 40, 60, 80, 114.99], [5, 20, 40, 60, 80, 100, 120, 160.01]),
    ("hyperpolarization_induced_spiking", [150, 160.01, 300], None),  # 10.01 ms: no burst
    ("spike_frequency_adaptation", [0, 10, 19.9999995, 32, 46, 62],  # within 1e-6 ms
     [0, 10, 20, 32, 46, 62, 80, 400, 440, 480, 520, 560, 600, 640, 680, 720, 760, 800]),
    ("phasic_spiking", [25, 249.99], [25, 499.99]),  # the held step's added half: [500, 1000)
    ("class_1_excitability", [100, 200, 300, 400], None),  # 8 Hz, first at exactly 100 ms
])
def test_check_passes_just_inside_its_edges(name, train, control):
    verdict = check_spikes(name, train, segments_of(name), onsets=fake_onsets(5.0, 10.0),
                           controls=None if control is None else fake_controls(control))
    assert verdict.passed, verdict.reason


@pytest.mark.parametrize(("name", "train", "control", "reason"), [
    ("threshold_variability", [262.0], [262.0],
     "control, without the inhibitory pulse (seg 3 set to 0): 1 spike in seg 5 (+10 ms) "
     "[250, 285) ms, first at 262.0 ms; expected none"),
    ("input_bistability", [150, 200, 250, 300, 350], [150, 200, 250, 300, 350],
     "control, the input of seg 2 held 2 × as long (seg 2): last spike at 350.0 ms, expected "
     "after 800.0 ms (end − 2 × mean ISI)"),
    ("basal_bistability", [5, 20, 40, 60, 80], [5, 20, 40, 60, 80],
     "control, without the second pulse (seg 3 set to 0): last spike at 80.0 ms, expected "
     "after 162.5 ms (end − 2 × mean ISI)"),
    ("phasic_spiking", [25, 60], [25, 60, 700],
     "control, the step held 2 × as long (seg 1): 1 spike in the added half of the step "
     "[500, 1000) ms, first at 700.0 ms; expected none"),
    ("spike_latency", [16.2], [20.0],
     "control, the pulse × 2 (seg 1): first spike at 20.0 ms, expected before 16.2 ms "
     "(latency shrinks with strength)"),
    ("rebound_spiking", [850], [850],
     "control, without the inhibition (seg 2 set to 0): 1 spike in the first 100 ms of seg 3 "
     "[806, 906) ms, first at 850.0 ms; expected none"),
])
def test_the_control_decides_and_the_reason_names_it(name, train, control, reason):
    verdict = check_spikes(name, train, segments_of(name), controls=fake_controls(control))
    assert not verdict.passed
    assert verdict.reason == reason
    assert verdict.margin is not None and verdict.margin.condition.startswith("control, ")


def test_a_silent_control_has_no_margin_to_measure():
    verdict = check_spikes("spike_latency", [16.2], segments_of("spike_latency"),
                           controls=fake_controls([]))
    assert verdict.reason == "control, the pulse × 2 (seg 1): no spike, expected one before 16.2 ms"
    assert verdict.margin is None


def test_a_check_with_a_control_needs_the_control_runs():
    from gifcli.core.errors import GifError

    with pytest.raises(GifError, match="runs a control") as raised:
        check_spikes("threshold_variability", [262.0], segments_of("threshold_variability"))
    assert isinstance(raised.value, ValueError)  # as it was before it was a GifError


@pytest.mark.parametrize(("control", "schedule"), [
    (Control("zero", 2, "x"), [(1.0, 10.0), (0.0, 20.0), (3.0, 30.0)]),
    (Control("hold", 2, "x"), [(1.0, 10.0), (2.0, 40.0)]),
    (Control("hold", 1, "x", factor=3.0), [(1.0, 30.0)]),
    (Control("step", 1, "x", last=2), [(2.0, 30.0), (3.0, 30.0)]),
    (Control("scale", 2, "x"), [(1.0, 10.0), (4.0, 20.0), (3.0, 30.0)]),
])
def test_a_control_changes_the_schedule_as_it_says(control, schedule):
    assert control.schedule([(1.0, 10.0), (2.0, 20.0), (3.0, 30.0)]) == schedule


def test_failed_threshold_has_a_negative_margin():
    verdict = check_spikes("tonic_spiking", [10, 20, 40, 80, 160, 190],
                           segments_of("tonic_spiking"))
    assert verdict.margin.condition == "ISI CV < 0.05"
    # ISIs 10, 20, 40, 80, 30: mean 36, population variance 584
    assert verdict.margin.value == pytest.approx(0.05 - math.sqrt(584) / 36, rel=1e-12)
    assert verdict.margin.relative < 0


# --- the seed notebook's cells that do not show their pattern ------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_notebook_threshold_variability_fails(method):
    # 20 ms for the inhibitory pulse, the gap and the second pulse: the second pulse stays
    # below threshold.
    preset = load_preset(DATA / "notebook_threshold_variability.yaml")
    assert [d for _, d in preset.segments] == [20, 180, 20, 20, 20, 140]
    verdict = evaluate(simulate(preset, method, 0.1))
    assert not verdict.passed
    assert verdict.reason == "0 spikes in seg 5 (+10 ms) [240, 270) ms, expected ≥ 1"
    assert verdict.margin is None  # no spike at all after seg 5 starts: nothing to move


@pytest.mark.parametrize("method", METHODS)
def test_notebook_preferred_frequency_fails(method):
    # 10 ms pulses at gaps of 10 and 90 ms: each second pulse fires on its own.
    preset = load_preset(DATA / "notebook_preferred_frequency.yaml")
    verdict = evaluate(simulate(preset, method, 0.1))
    assert not verdict.passed
    assert verdict.reason.startswith(
        "1 spike on the close pair's second pulse [20, 40) ms, first at 23.")


@pytest.mark.parametrize("method", METHODS)
def test_notebook_hyperpolarization_induced_spiking_fails(method):
    # a = 0, V_th_inf = -120: the threshold sinks through rest on its own.
    preset = load_preset(DATA / "notebook_hyperpolarization_induced_spiking.yaml")
    assert preset.params["a"] == 0 and preset.initial["V_th"] == -50
    verdict = evaluate(simulate(preset, method, 0.1))
    assert not verdict.passed
    assert verdict.reason.startswith("4 spikes at rest (seg 1) [0, 100) ms, first at 33.")


def test_notebook_threshold_variability_as_a_replaced_preset():
    shipped = PRESETS["threshold_variability"]
    amplitudes = [a for a, _ in shipped.segments]
    notebook = replace(shipped, segments=tuple(zip(amplitudes, (20, 180, 20, 20, 20, 140),
                                                   strict=True)))
    assert not evaluate(simulate(notebook)).passed


# --- presets that lose their pattern when a parameter changes -------------------------------------


def test_phasic_spiking_without_threshold_adaptation_fires_on():
    verdict = modified("phasic_spiking", a=0.0)
    assert not verdict.passed
    assert verdict.reason.startswith("11 spikes in the second half of the step [250, 500) ms")


def test_accommodation_without_threshold_adaptation_fires_on_the_ramp():
    verdict = modified("accommodation", a=0.0)
    assert verdict.reason.startswith("5 spikes from seg 3 on [600, 1000) ms, first at 800.1 ms")


def test_rebound_bursting_without_currents_fires_one_spike():
    verdict = modified("rebound_bursting", A1=0.0, A2=0.0)
    assert verdict.reason == "0 bursts in the first 100 ms of seg 3 [600, 700) ms, expected ≥ 1"


def test_basal_bistability_without_the_depolarizing_current_stops():
    verdict = modified("basal_bistability", A1=0.0)
    assert verdict.reason == "0 spikes between seg 1 and seg 3 [10, 100) ms, expected ≥ 3"


def test_spike_latency_without_the_falling_threshold_is_silent():
    assert modified("spike_latency", a=0.0).reason == "0 spikes, expected exactly 1"


def test_mixed_mode_without_currents_starts_without_a_burst():
    verdict = modified("mixed_mode", A1=0.0, A2=0.0)
    assert verdict.reason == "first ISI 15.5 ms, expected ≤ 10 ms"
    assert verdict.margin.value == pytest.approx(-5.52, abs=0.01)


def test_hyperpolarization_induced_spiking_does_not_burst():
    result = simulate(PRESETS["hyperpolarization_induced_spiking"])
    verdict = check_spikes("hyperpolarization_induced_bursting", result.spike_times,
                           result.preset.segments)
    assert verdict.reason == "0 bursts in seg 2 [100, 500) ms, expected ≥ 2"


def test_tonic_and_phasic_bursting_fail_each_other():
    tonic = simulate(PRESETS["tonic_bursting"]).spike_times
    phasic = simulate(PRESETS["phasic_bursting"]).spike_times
    segments = segments_of("tonic_bursting")
    assert check_spikes("phasic_bursting", tonic, segments).reason == "4 bursts, expected exactly 1"
    assert check_spikes("tonic_bursting", phasic, segments).reason == "1 burst, expected ≥ 3"


def test_afterpotentials_without_the_hyperpolarizing_current_has_no_undershoot():
    verdict = modified("afterpotentials", A2=0.0)
    assert not verdict.passed
    assert verdict.reason.startswith("after its peak V falls only to rest + 0.0")
    assert verdict.reason.endswith("expected below rest − 0.5 mV")
    assert verdict.margin.condition == "V falls ≥ 0.5 mV below rest"
    assert verdict.margin.value < 0


def test_afterpotentials_without_the_depolarizing_current_has_no_rise():
    """A1 = 0: V only decays from where the pulse left it, below the passive response (the
    control without the spike-triggered currents) all along."""
    verdict = modified("afterpotentials", A1=0.0)
    assert verdict.reason == (
        "after seg 1, V peaks at rest + 0.52 mV, expected ≥ 1 mV above the passive response "
        "(control, without the spike-triggered currents (A1 = A2 = 0): V at the pulse's end "
        "rest + 0.61 mV)")


@pytest.mark.parametrize("method", METHODS)
def test_the_passive_control_is_the_run_without_currents_to_the_bit(method):
    preset = PRESETS["afterpotentials"]
    probe = Probe(preset.params, preset.initial, 2.0, 1, method, 0.1)
    passive = probe.passive_end(preset.segments[:1])
    alone = simulate(preset, method, A1=0.0, A2=0.0)
    assert passive[0] == alone.V[int(np.searchsorted(alone.t, 15.0))]


def test_afterpotentials_fails_on_two_spikes_and_on_a_flat_trace():
    segments = segments_of("afterpotentials")
    t = np.arange(2001) * 0.1
    flat = np.full(t.size, -70.0)
    verdict = check_spikes("afterpotentials", [14.7], segments, t=t, V=flat, V_rest=-70.0,
                           passive_end=fake_passive())
    assert verdict.reason.startswith("after seg 1, V peaks at rest + 0.00 mV, expected ≥ 1 mV "
                                     "above the passive response")
    verdict = check_spikes("afterpotentials", [14.7, 30.0], segments, t=t, V=flat,
                           V_rest=-70.0)
    assert verdict.reason == "2 spikes, expected exactly 1"


@pytest.mark.parametrize(("trough", "passed", "reason"), [
    (-70.3, False, "after its peak V falls only to rest − 0.30 mV, expected below rest − 0.5 mV"),
    (-70.6, True, "1 spike; after the pulse V rises to rest + 10.00 mV at 40.0 ms, "
                  "10.00 mV above the passive response, then falls to rest − 0.60 mV"),
])
def test_afterpotential_undershoot_must_pass_half_a_millivolt(trough, passed, reason):
    t = np.arange(2001) * 0.1
    V = np.full(t.size, -70.0)
    V[400], V[1000] = -60.0, trough  # peak at 40 ms, trough at 100 ms
    verdict = check_spikes("afterpotentials", [14.7], segments_of("afterpotentials"), t=t, V=V,
                           V_rest=-70.0, passive_end=fake_passive())
    assert (verdict.passed, verdict.reason) == (passed, reason)


@pytest.mark.parametrize(("passive", "passed"), [
    (-60.5, False),  # the pulse alone leaves V at −60.5 mV: 0.5 mV above it is no rise
    (-61.5, True),  # 1.5 mV above it
    (-70.0, True),  # the pulse alone leaves V at rest: 10 mV above it
])
def test_the_rise_is_measured_against_the_passive_response(passive, passed):
    t = np.arange(2001) * 0.1
    V = np.full(t.size, -70.0)
    V[400], V[1000] = -60.0, -72.0
    verdict = check_spikes("afterpotentials", [14.7], segments_of("afterpotentials"), t=t, V=V,
                           V_rest=-70.0, passive_end=fake_passive(passive))
    assert verdict.passed == passed, verdict.reason


def test_the_undershoot_is_measured_below_the_passive_response():
    """The passive response that ends the pulse at −73 mV relaxes up to rest: the run must
    fall 0.5 mV below −73 mV, not below rest."""
    t = np.arange(2001) * 0.1
    V = np.full(t.size, -70.0)
    V[400], V[1000] = -60.0, -73.2
    verdict = check_spikes("afterpotentials", [14.7], segments_of("afterpotentials"), t=t, V=V,
                           V_rest=-70.0, passive_end=fake_passive(-73.0))
    assert verdict.reason == ("after its peak V falls only to rest − 3.20 mV, expected below "
                              "rest − 3.50 mV (0.5 mV below the passive response)")


def test_afterpotential_trough_counts_only_after_the_peak():
    t = np.arange(2001) * 0.1
    V = np.full(t.size, -70.0)
    V[200], V[400] = -71.0, -60.0  # a dip before the peak does not count
    verdict = check_spikes("afterpotentials", [14.7], segments_of("afterpotentials"), t=t, V=V,
                           V_rest=-70.0, passive_end=fake_passive())
    assert verdict.reason.startswith("after its peak V falls only to rest + 0.00 mV")


def test_the_checks_are_the_papers_20_patterns_in_order():
    """preset.py validates `check:` against model.PATTERNS (no numpy at `gif list`)."""
    from gifcli.model.parameters import PATTERNS

    assert list(CHECKS) == list(PATTERNS)
    assert [p.name for p in shipped_presets()] == list(PATTERNS)


def reference_isi_jump(train) -> tuple[float, int]:
    """The largest ISI over the longest before it, and its index, one train at a time."""
    isis = np.diff(np.asarray(train, dtype=float))
    best, where = math.nan, -1
    for k in range(1, isis.size):
        ratio = isis[k] / isis[:k].max()
        if not ratio <= best:
            best, where = ratio, k
    return best, where


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.floats(0.1, 100.0), max_size=12), min_size=1, max_size=6))
def test_the_isi_jump_of_many_trains_is_each_trains_own(gaps):
    trains = [np.cumsum(g) for g in gaps]
    together = SpikeTrains.concatenate([SpikeTrains.single(t, 2000.0) for t in trains])
    ratio, index = together.isi_jump()
    for i, train in enumerate(trains):
        expected, where = reference_isi_jump(train)
        assert (ratio[i] == expected or (math.isnan(ratio[i]) and math.isnan(expected)))
        assert index[i] == where


def test_the_docs_table_of_checks_is_what_the_checks_require():
    """docs/patterns.md, "The checks": each row says exactly what str(check) says."""
    text = (Path(__file__).parent.parent / "docs" / "patterns.md").read_text(encoding="utf-8")
    table = text.split("## The checks\n")[1].strip().split("\n\n")[0].splitlines()[2:]
    rows = {cells[1]: cells[2] for cells in
            ([c.strip() for c in line.strip("|").split("|")] for line in table)}
    assert rows == {name: str(check) for name, check in CHECKS.items()}


# --- the new definitions, against their statement -----------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.floats(1.0, 500.0), st.floats(1.0, 500.0))
def test_class_1_and_class_2_split_every_curve_at_three_quarters(rate, above):
    """A rate just above the onset below 3/4 of the rate 1 % above it is a rise (class 1),
    otherwise a jump (class 2): exactly one of the two shape conditions holds."""
    train = np.arange(110.0, 500.0, 100.0)  # late and slow: B's other conditions hold
    b = check_spikes("class_1_excitability", train, segments_of("class_1_excitability"),
                     onsets=fake_onsets(rate, above))
    h_train = np.arange(10.0, 300.0, 30.0)
    h = check_spikes("class_2_excitability", h_train, segments_of("class_2_excitability"),
                     onsets=fake_onsets(rate, above))
    assert b.passed == (rate / above < 0.75)
    assert h.passed == (rate / above >= 0.75)
    assert b.passed != h.passed


@settings(max_examples=200, deadline=None)
@given(st.floats(-80.0, -50.0), st.floats(-69.0, -50.0), st.floats(-80.0, -69.0))
def test_the_afterpotential_is_what_the_currents_add_to_the_passive_response(passive, peak,
                                                                             trough):
    """A trace that rises to ``peak`` at 40 ms and falls to ``trough`` at 100 ms passes when
    the peak is ≥ 1 mV above the passive response and rest, and the trough ≥ 0.5 mV below
    both."""
    t = np.arange(2001) * 0.1
    V = np.full(t.size, -70.0)
    V[400], V[1000] = peak, trough
    verdict = check_spikes("afterpotentials", [14.7], segments_of("afterpotentials"), t=t, V=V,
                           V_rest=-70.0, passive_end=fake_passive(passive))
    rises = peak - max(passive, -70.0) > 1.0
    falls = min(passive, -70.0) - trough > 0.5
    assert verdict.passed == (rises and falls), verdict.reason
