"""Inputs beyond steps: ramps, sines, Ornstein–Uhlenbeck noise and sampled currents, held
piecewise constant on the grid, in YAML, in Python and with --input (issue 25)."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gifcli
from gifcli import cli
from gifcli.core.errors import PresetError
from gifcli.model.stimuli import Noise, Ramp, Samples, Sine

METHODS = ("exact", "euler", "exp-euler")


def levels(stimulus, step=0.1) -> np.ndarray:
    return np.array([amplitude for amplitude, _ in stimulus.segments(step)])


def test_a_ramp_takes_its_value_at_the_middle_of_each_hold():
    segments = Ramp(start=0.0, stop=2.0, duration=1.0, step=0.25).segments(0.1)
    assert segments == [(0.25, 0.25), (0.75, 0.25), (1.25, 0.25), (1.75, 0.25)]


def test_a_sine_takes_its_value_at_the_middle_of_each_hold():
    sine = Sine(mean=1.0, amplitude=0.5, frequency=10.0, duration=100.0, phase=90.0, step=1.0)
    middles = (np.arange(100) + 0.5) / 1000.0
    np.testing.assert_allclose(levels(sine), 1.0 + 0.5 * np.cos(2 * np.pi * 10 * middles),
                               rtol=0, atol=1e-15)


def test_samples_are_held_one_step_each_and_read_from_csv(tmp_path):
    path = tmp_path / "current.csv"
    path.write_text("current (V/s)\n0\n1.5\n\n# a comment\n3\n")
    samples = Samples.from_csv(path, step=0.5)
    assert samples.segments(0.1) == [(0.0, 0.5), (1.5, 0.5), (3.0, 0.5)]
    assert samples.duration == 1.5


def test_noise_is_repeatable_from_its_seed_and_only_from_it():
    one = levels(Noise(mean=1.0, sd=0.5, tau=5.0, duration=100.0, seed=1))
    again = levels(Noise(mean=1.0, sd=0.5, tau=5.0, duration=100.0, seed=1))
    other = levels(Noise(mean=1.0, sd=0.5, tau=5.0, duration=100.0, seed=2))
    np.testing.assert_array_equal(one, again)
    assert not np.allclose(one, other)


def test_noise_has_the_mean_sd_and_correlation_it_is_given():
    # 1e5 holds of 1 ms with tau = 5 ms: lag-1 correlation rho = exp(-0.2), about 1e4
    # independent samples, so the sample mean is within 4 sd / 100 of the mean.
    mean, sd, tau, step = 2.0, 0.5, 5.0, 1.0
    x = levels(Noise(mean=mean, sd=sd, tau=tau, duration=1e5, seed=11, step=step))
    rho = math.exp(-step / tau)
    independent = x.size * (1 - rho) / (1 + rho)
    assert abs(x.mean() - mean) < 4 * sd / math.sqrt(independent)
    assert abs(x.std() / sd - 1) < 4 / math.sqrt(2 * independent)
    lag1 = np.corrcoef(x[:-1], x[1:])[0, 1]
    assert abs(lag1 - rho) < 4 * (1 - rho**2) / math.sqrt(x.size)


def test_zero_sd_noise_is_its_mean():
    np.testing.assert_array_equal(levels(Noise(mean=1.5, sd=0.0, tau=1.0, duration=5.0,
                                               seed=0)), np.full(50, 1.5))


@settings(max_examples=60, deadline=None)
@given(start=st.floats(-10, 10), stop=st.floats(-10, 10), holds=st.integers(1, 400),
       step=st.sampled_from([0.01, 0.05, 0.1, 0.25, 1.0]))
def test_a_ramp_lasts_its_duration_and_stays_between_its_ends(start, stop, holds, step):
    ramp = Ramp(start=start, stop=stop, duration=holds * step, step=step)
    segments = ramp.segments(0.1)
    assert len(segments) == holds
    assert math.isclose(math.fsum(d for _, d in segments), holds * step, rel_tol=1e-12)
    values = np.array([a for a, _ in segments])
    assert np.all(values >= min(start, stop) - 1e-12) and np.all(values <= max(start, stop)
                                                                  + 1e-12)
    assert math.isclose(values.mean(), (start + stop) / 2, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=40, deadline=None)
@given(mean=st.floats(-5, 5), sd=st.floats(0, 3), tau=st.floats(0.05, 100),
       seed=st.integers(0, 2**32), holds=st.integers(1, 300))
def test_noise_is_finite_and_lasts_its_duration(mean, sd, tau, seed, holds):
    segments = Noise(mean=mean, sd=sd, tau=tau, duration=holds * 0.1, seed=seed).segments(0.1)
    assert len(segments) == holds
    assert all(math.isfinite(a) and d == 0.1 for a, d in segments)


@pytest.mark.parametrize(("make", "words"), [
    (lambda: Ramp(start=0, stop=1, duration=-5), "duration: must be > 0"),
    (lambda: Ramp(start="0", stop=1, duration=5), "start: must be a number, got the text"),
    (lambda: Sine(mean=0, amplitude=1, frequency=-2, duration=5), "frequency: must be ≥ 0"),
    (lambda: Noise(mean=0, sd=-1, tau=1, duration=5, seed=0), "sd: must be ≥ 0"),
    (lambda: Noise(mean=0, sd=1, tau=0, duration=5, seed=0), "tau: must be > 0"),
    (lambda: Noise(mean=0, sd=1, tau=1, duration=5, seed=1.5), "seed: must be a whole number"),
    (lambda: Noise(mean=math.nan, sd=1, tau=1, duration=5, seed=0), "mean: must be a finite"),
    (lambda: Samples([], 0.1), "non-empty"),
    (lambda: Samples([1.0, math.inf], 0.1), "value 2 is inf"),
    (lambda: Samples([1.0], -0.1), "step: must be > 0"),
    (lambda: Ramp(start=0, stop=1, duration=1.0, step=0.3).segments(0.1),
     "whole number of 0.3 ms steps"),
    (lambda: Ramp(start=0, stop=1, duration=1e9, step=1e-3).segments(0.1), "above the cap"),
])
def test_bad_stimuli_are_one_sentence(make, words):
    with pytest.raises(PresetError, match=words):
        make()


# --- in a preset file -------------------------------------------------------------------------

MIXED = """\
name: mixed
params: {a: 0.005, A1: 10, A2: -0.6}
input:
  - {amplitude: 0, duration: 50}
  - ramp: {start: 0, stop: 3, duration: 100}
  - sine: {mean: 1.5, amplitude: 1, frequency: 20, duration: 100}
  - noise: {mean: 2, sd: 0.5, tau: 5, duration: 100, seed: 1}
  - samples: {file: current.csv, step: 0.5}
"""


@pytest.fixture
def mixed(tmp_path):
    (tmp_path / "current.csv").write_text("I\n" + "\n".join(["0", "1", "2", "3"] + ["2.5"] * 36))
    path = tmp_path / "mixed.yaml"
    path.write_text(MIXED)
    return gifcli.resolve(path)


def test_a_file_mixes_stimuli_with_plain_segments(mixed):
    assert mixed.duration == 370.0
    assert len(mixed.segments) == 1 + 1000 + 1000 + 1000 + 40
    assert mixed.segments[0] == (0.0, 50.0)
    assert mixed.segments[1] == (0.0015, 0.1)  # the ramp's first hold, at 0.05 ms
    assert mixed.segments[-40:-36] == ((0.0, 0.5), (1.0, 0.5), (2.0, 0.5), (3.0, 0.5))


@pytest.mark.parametrize("method", METHODS)
def test_a_noisy_and_a_sampled_input_run_under_every_method(mixed, method):
    result = gifcli.simulate(mixed, method=method)
    assert result.notes == ()  # every hold is on the grid: nothing moved
    held = np.repeat([a for a, _ in mixed.segments],
                     [round(d / result.dt) for _, d in mixed.segments])
    np.testing.assert_array_equal(result.I_ext[:-1], held)  # the input as applied
    assert 10 <= result.n_spikes <= 30
    noisy = np.array([a for a, _ in mixed.segments[2001:3001]])
    assert noisy.std() > 0.2


def test_exact_spike_times_do_not_depend_on_dt_for_a_held_input(mixed):
    coarse = gifcli.simulate(mixed, dt=0.1).spike_times
    fine = gifcli.simulate(mixed, dt=0.025).spike_times
    assert coarse.size == fine.size
    np.testing.assert_allclose(coarse, fine, rtol=0, atol=1e-8)


def test_a_dt_longer_than_the_hold_is_refused(mixed):
    with pytest.raises(PresetError, match="longer than the shortest input segment"):
        gifcli.simulate(mixed, dt=0.2)


@pytest.mark.parametrize(("entry", "key", "words"), [
    ("ramp: {start: 0, stop: 1, duration: 10, tau: 2}", "input[2].ramp.tau", "unknown key"),
    ("ramp: {start: 0, duration: 10}", "input[2].ramp.stop", "is missing"),
    ("ramp: [0, 1, 10]", "input[2].ramp", "must be a mapping"),
    ("noise: {mean: 1, sd: -1, tau: 2, duration: 10, seed: 1}", "input[2].noise.sd", "≥ 0"),
    ("noise: {mean: 1, sd: 1, tau: 2, duration: 10}", "input[2].noise.seed", "is missing"),
    ("sine: {mean: 1, amplitude: 1, frequency: 5, duration: 10.05}",
     "input[2].sine.duration", "whole number of 0.1 ms steps"),
    ("samples: {values: [1, 2], file: x.csv, step: 0.1}", "input[2].samples", "either"),
    ("samples: {values: [1, .nan], step: 0.1}", "input[2].samples.values", "finite"),
])
def test_bad_stimuli_in_a_file_name_the_file_and_the_key(tmp_path, entry, key, words):
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: bad\ninput:\n  - {{amplitude: 0, duration: 10}}\n  - {entry}\n")
    with pytest.raises(PresetError, match=words) as caught:
        gifcli.resolve(path)
    assert caught.value.key == key and caught.value.source == str(path)


def test_a_missing_samples_file_is_one_sentence(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ninput:\n  - samples: {file: nowhere.csv, step: 0.1}\n")
    with pytest.raises(PresetError, match="nowhere.csv: cannot be read"):
        gifcli.resolve(path)


def test_a_bad_line_in_a_samples_file_is_named(tmp_path):
    (tmp_path / "c.csv").write_text("I\n1\ntwo\n")
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ninput:\n  - samples: {file: c.csv, step: 0.1}\n")
    with pytest.raises(PresetError, match="'two' is not a number") as caught:
        gifcli.resolve(path)
    assert caught.value.key == "line 3"


def test_the_preset_dt_is_the_default_hold(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("name: p\ndt: 0.05\ninput:\n  - ramp: {start: 0, stop: 1, duration: 1}\n")
    assert len(gifcli.resolve(path).segments) == 20


# --- in Python -------------------------------------------------------------------------------


def test_with_input_replaces_the_schedule_and_keeps_the_rest():
    preset = gifcli.resolve("M").replace(A2=-0.3)
    changed = preset.with_input((0.0, 20.0), Ramp(start=0, stop=2, duration=10), (2.0, 100.0))
    assert changed.duration == 130.0 and len(changed.segments) == 102
    assert changed.params == preset.params and changed.overrides == preset.overrides
    assert preset.segments == ((2.0, 500.0),)


def test_with_input_applies_the_input_scale_already_set():
    scaled = gifcli.resolve("A").replace(input_scale=2).with_input((1.0, 50.0))
    assert scaled.segments == ((2.0, 50.0),)
    assert scaled.replace(input_scale=3).segments == ((3.0, 50.0),)


@pytest.mark.parametrize(("parts", "words"), [
    ((), "give one or more"), (("1x50",), r"input\[1\]: must be an \(amplitude"),
    (((1.0, 2.0, 3.0),), "pair"), (((1.0, -5.0),), r"input\[1\]\.duration: must be > 0")])
def test_with_input_refuses_what_is_not_an_input(parts, words):
    with pytest.raises(PresetError, match=words):
        gifcli.resolve("A").with_input(*parts)


# --- on the command line ---------------------------------------------------------------------


def test_gif_run_with_input_runs_that_schedule(tmp_path):
    assert cli.run(["run", "M", "--input", "0x100,2x400", "--out", str(tmp_path), "-f",
                    "json", "-q"]) == 0
    summary = json.loads((tmp_path / "tonic_bursting.json").read_text())
    expected = gifcli.simulate(gifcli.resolve("M").with_input((0.0, 100.0), (2.0, 400.0)))
    assert summary["n_spikes"] == expected.n_spikes
    assert expected.n_spikes != gifcli.simulate("M").n_spikes


def test_gif_sweep_with_input(tmp_path):
    assert cli.run(["sweep", "A", "-p", "a=0,0.01", "--input", "0x50,1.5x150", "--out",
                    str(tmp_path), "-f", "csv", "-q"]) == 0
    assert (tmp_path / "tonic_spiking_sweep_a.csv").exists()


@pytest.mark.parametrize(("schedule", "words"), [
    ("2y400", "must be AMPLITUDExDURATION"), ("0x100,", "must be AMPLITUDExDURATION"),
    ("1x-5", r"duration: must be > 0"), ("ax100", "'a' is not a number"),
    ("1xnan", "is not a number")])
def test_a_bad_input_option_is_one_sentence_exit_2_and_writes_nothing(tmp_path, capsys,
                                                                      schedule, words):
    assert cli.run(["run", "M", "--input", schedule, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--input" in err and len(err.strip().splitlines()) == 1
    assert re.search(words, err)
    assert not (tmp_path / "o").exists()


def test_the_figure_draws_a_held_waveform_whole_without_a_pulse_zoom(mixed):
    fig = gifcli.simulate(mixed).plot()
    assert fig.axes[0].child_axes == []
    drawn = fig.axes[1].lines[0].get_ydata()  # the input's step plot, as applied
    np.testing.assert_array_equal(drawn[:-1], [a for a, _ in mixed.segments])


def test_gif_fit_with_input_fits_under_that_schedule(tmp_path):
    schedule = ((0.0, 50.0), (1.5, 150.0))
    train = gifcli.simulate(gifcli.resolve("A").with_input(*schedule), A2=-0.2).spike_times
    target = tmp_path / "train.csv"
    target.write_text("t_ms\n" + "\n".join(repr(float(t)) for t in train))
    assert cli.run(["fit", "A", "--target", str(target), "--free", "A2=-1:1", "--input",
                    "0x50,1.5x150", "--budget", "200", "--out", str(tmp_path), "-q"]) == 0
    fitted = gifcli.resolve(next(tmp_path.glob("*_fit.yaml")))
    assert fitted.segments == schedule
    assert abs(fitted.params["A2"] + 0.2) < 0.2  # 5 spikes pin A2 down only roughly
