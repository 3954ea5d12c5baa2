"""The f–I probe's steady-state rate: the spikes of the step's last second, so that bursts and
transients average correctly, and the onset's marker on the curve `gif fi` draws."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from gifcli.analysis import probe
from gifcli.explore import sweep
from gifcli.model.preset import shipped_presets
from gifcli.simulation.single import simulate

PRESETS = {preset.letter: preset for preset in shipped_presets()}


def probe_of(preset, size: int) -> probe.Probe:
    return probe.Probe(preset.params, preset.initial, probe.probe_amplitude(preset.segments),
                       size)


@pytest.mark.parametrize(("letter", "scales"), [
    ("M", [0.8, 1.0, 1.3]),  # bursts: every spike of every burst counts
    ("H", [0.9, 1.0, 2.0]),
    ("D", [1.0, 1.5]),  # phasic: fires at the onset, then stops
])
def test_the_rate_is_the_spikes_of_the_last_second_of_a_single_run(letter, scales):
    preset = PRESETS[letter]
    scales = np.array(scales)
    rates = probe_of(preset, scales.size).rates(scales)
    amplitude = probe.probe_amplitude(preset.segments)
    for scale, rate in zip(scales, rates, strict=True):
        run = simulate(replace(preset, segments=((scale * amplitude, probe.PROBE_MS),)))
        spikes = np.asarray(run.spike_times)
        last_second = np.count_nonzero(spikes >= probe.PROBE_MS - probe.STEADY_MS)
        assert rate == last_second * 1000.0 / probe.STEADY_MS, (scale, spikes[-5:])


def test_a_discharge_that_stops_has_no_steady_state_rate():
    """Phasic spiking fires 5 spikes at the onset of its own step: a transient, rate 0 (the
    last interval of those 5 would read as ~40 Hz)."""
    preset = PRESETS["D"]
    assert simulate(replace(preset, segments=((1.5, probe.PROBE_MS),))).spike_times.size >= 3
    assert probe_of(preset, 1).rates(np.array([1.0]))[0] == 0.0


def test_tonic_bursting_has_a_rate_that_moves_with_the_input():
    """Bursts average over the last second: neighbouring inputs give neighbouring rates, not a
    jump between an intra-burst and an inter-burst interval."""
    scales = np.linspace(1.0, 1.2, 11)
    rates = probe_of(PRESETS["M"], scales.size).rates(scales)
    assert rates.min() > 0
    assert np.abs(np.diff(rates)).max() <= 0.25 * rates.max(), rates


def test_the_onset_marker_is_a_point_of_both_curves():
    curves = sweep.fi_curves([PRESETS["B"], PRESETS["H"]], start=0.5, stop=1.5, num=11)
    for curve in curves:
        at = curve.onset_scale * (1 + probe.ONSET_TOLERANCE)
        for scale, rate in ((curve.scale, curve.rate), (curve.zoom_scale, curve.zoom_rate)):
            assert np.all(np.diff(scale) >= 0)
            k = int(np.flatnonzero(scale == at)[0])
            assert rate[k] == curve.onset_rate
            below = curve.onset_scale * (1 - probe.ONSET_TOLERANCE)
            assert rate[int(np.flatnonzero(scale == below)[0])] == 0.0


def test_the_figure_reads_the_input_as_i_e_over_c():
    preset = replace(PRESETS["H"], params=PRESETS["H"].params | {"R": 40.0})
    drive = sweep.fi.fi_drive(preset, np.array([1.0]))
    assert drive[0] == pytest.approx(2.0 * probe.probe_amplitude(preset.segments))
