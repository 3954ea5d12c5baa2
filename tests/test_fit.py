"""``gif fit``: the coincidence factor Γ, the free quantities and targets, recovery of known
parameters from their own spike trains, robustness to jitter, the pattern mode, the files
(and that ``gif run`` of the fitted preset gives the same Γ), and bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from gifcli import cli
from gifcli.analysis.features import SpikeTrains
from gifcli.cli import fit as fit_command
from gifcli.core.errors import GifError, PresetError
from gifcli.explore import fit
from gifcli.files import fit as fit_files
from gifcli.model.preset import resolve
from gifcli.simulation.single import simulate

# --- Γ ------------------------------------------------------------------------------------------


def test_gamma_of_a_train_with_itself_is_one():
    bursts = np.concatenate([t0 + np.array([0.0, 3.1, 6.5, 10.2]) for t0 in (15, 140, 270)])
    for train in (bursts, np.array([5.0]), np.arange(10.0, 990.0, 7.0)):
        assert fit.coincidence_factor(train, train, 1000.0) == 1.0
        assert fit.coincidence_factor(train, train, 1000.0, window=0.1) == 1.0


@pytest.mark.parametrize("shift", [2.5, 4.0, 9.0])
def test_gamma_of_a_train_shifted_by_more_than_the_window_is_at_most_zero(shift):
    rng = np.random.default_rng(3)
    target = np.cumsum(rng.uniform(25.0, 60.0, size=20))  # ISIs well above shift + Δ
    duration = float(target[-1]) + 50.0
    gamma = fit.coincidence_factor(target + shift, target, duration, window=2.0)
    assert gamma <= 0.0
    chance = 2.0 * target.size / duration * 2.0  # no coincidences left: only the correction
    assert gamma == pytest.approx(-chance / (1.0 - chance), rel=1e-12)


def test_gamma_matches_a_hand_computed_example():
    # Target 10, 20, 30, 40; model 11, 23, 30.5 over 100 ms, Δ = 2 ms: 10~11 and 30~30.5
    # coincide (23 is 3 ms from 20). ν = 3/100 per ms, 2νΔ = 0.12, chance coincidences
    # 0.12 × 4 = 0.48; Γ = (2 − 0.48) / (½ (4 + 3) (1 − 0.12)) = 1.52 / 3.08.
    gamma = fit.coincidence_factor([11.0, 23.0, 30.5], [10.0, 20.0, 30.0, 40.0], 100.0, 2.0)
    assert gamma == pytest.approx(1.52 / 3.08, rel=1e-13)


def test_gamma_pairs_each_spike_once_and_handles_the_edges():
    # Two model spikes near one target spike: one coincidence, not two. 2νΔ = 0.08, so
    # Γ = (1 − 0.08) / (½ (1 + 2) (1 − 0.08)) = 2/3.
    assert fit.coincidence_factor([10.0, 10.5], [10.0], 100.0, 2.0) == pytest.approx(2 / 3)
    # Both bursts of three within the window of each other pair up in order.
    assert fit.coincidence_factor([10.0, 12.0, 14.0], [11.0, 13.0, 15.0], 100.0, 2.0) == 1.0
    assert fit.coincidence_factor([], [], 100.0) == 1.0
    assert fit.coincidence_factor([], [10.0, 50.0], 100.0) == 0.0
    assert fit.coincidence_factor([10.0, 50.0], [], 100.0) == 0.0
    assert math.isnan(fit.coincidence_factor(np.arange(0.0, 100.0, 2.0), [10.0], 100.0, 2.0))
    with pytest.raises(ValueError, match="sorted"):
        fit.coincidence_factor([5.0, 1.0], [1.0], 100.0)


def test_batched_gamma_equals_each_single_one():
    rng = np.random.default_rng(5)
    target = np.sort(rng.uniform(0, 500, 30))
    trains = [np.sort(rng.uniform(0, 500, n)) for n in (0, 5, 30, 60)] + [target + 0.3]
    rows = np.full((len(trains), 60), np.nan)
    for i, train in enumerate(trains):
        rows[i, :train.size] = train
    batch = SpikeTrains.from_rows(rows, np.array([t.size for t in trains]), 500.0)
    gammas = fit.coincidence_factors(batch, target, 500.0, 2.0)
    singles = [fit.coincidence_factor(train, target, 500.0, 2.0) for train in trains]
    np.testing.assert_array_equal(gammas, singles)
    assert gammas[-1] == 1.0


# --- free quantities and targets ------------------------------------------------------------------


def test_parse_free():
    assert fit.parse_free("a=-0.05:0.05") == fit.Free("a", -0.05, 0.05)
    assert fit.parse_free(" initial.V_th = -60 : -40 ") == fit.Free("initial.V_th", -60, -40)
    assert fit.parse_free("input_scale=0.5:2").hi == 2.0


@pytest.mark.parametrize("text, words", [
    ("a", "must look like P=LO:HI"),
    ("a=0.1", "must look like P=LO:HI"),
    ("a=0.1:0.1", "LO (0.1) must be less than HI (0.1)"),
    ("A1=20:0", "LO (20) must be less than HI (0)"),
    ("a=x:1", "LO must be a finite number"),
    ("a=0:2_0", "write 20 without underscores"),
    ("a=0:nan", "HI must be a finite number"),
    ("tau_m=5:50", "did you mean tau?"),
    ("dt=0.01:0.1", "is not a model parameter"),
])
def test_bad_free_quantities_are_refused(text, words):
    with pytest.raises(PresetError, match="--free") as caught:
        fit.parse_free(text)
    assert words in str(caught.value)


def test_bounds_must_give_valid_models_everywhere():
    preset = resolve("tonic_spiking")
    with pytest.raises(PresetError, match="tau = 0"):
        fit.check_free(preset, [fit.Free("tau", 0.0, 10.0)])
    with pytest.raises(PresetError, match="given twice"):
        fit.check_free(preset, [fit.Free("a", 0, 1), fit.Free("a", 0, 2)])
    with pytest.raises(PresetError, match="V_reset's HI"):
        fit.check_free(preset, [fit.Free("V_reset", -80, -65), fit.Free("V_th_reset", -68, -50)])


def test_targets_from_csv_and_json(tmp_path):
    csv_file = tmp_path / "spikes.csv"
    csv_file.write_text("unit,t_ms\n1,12.5\n1,30.25\n\n", encoding="utf-8")
    np.testing.assert_array_equal(fit.read_target(csv_file), [12.5, 30.25])
    json_file = tmp_path / "run.json"
    json_file.write_text(json.dumps({"spike_times_ms": [1.0, 2.0]}), encoding="utf-8")
    np.testing.assert_array_equal(fit.read_target(json_file), [1.0, 2.0])


@pytest.mark.parametrize("name, text, words", [
    ("a.csv", "time\n1.0\n", "has no t_ms column"),
    ("a.csv", "t_ms,V_mV,V_th_mV\n0.0,-70,-50\n", "is the trace of a run"),
    ("a.csv", "t_ms\n", "holds no spike times"),
    ("a.csv", "t_ms\n1\nfast\n", "line 3: t_ms must be a number"),
    ("a.csv", "t_ms\n5\n1\n", "increasing order"),
    ("a.json", '{"spikes": [1, 2]}', "has no spike_times_ms"),
    ("a.json", '{"spike_times_ms": []}', "holds no spike times"),
    ("a.json", "{", "is not valid JSON"),
])
def test_bad_targets_are_refused(tmp_path, name, text, words):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GifError, match="--target") as caught:
        fit.read_target(path)
    assert words in str(caught.value)


def test_a_target_outside_the_run_or_too_fast_for_the_window_is_refused():
    preset = resolve("tonic_spiking")  # 200 ms
    with pytest.raises(GifError, match="250 ms lies outside"):
        fit.SpikeTarget(np.array([10.0, 250.0]), source="t.csv").validate(preset)
    with pytest.raises(GifError, match="too wide"):
        fit.SpikeTarget(np.arange(1.0, 200.0, 3.0), window=2.0).validate(preset)


def test_the_command_line_defaults_are_the_library_ones():
    assert fit_command.DEFAULT_BUDGET == fit.DEFAULT_BUDGET
    assert fit_command.DEFAULT_RESTARTS == fit.DEFAULT_RESTARTS
    assert fit_command.DEFAULT_SEED == fit.DEFAULT_SEED
    assert fit_command.WINDOW_MS == fit.WINDOW_MS
    assert fit_command.FIT_FORMATS == fit_files.FIT_FORMATS


# --- recovery ---------------------------------------------------------------------------------

#: preset, a start far from its own values, the free quantities and bounds
RECOVERY = [
    ("tonic_bursting", ["a=-0.02", "A1=3", "A2=1"], ["a=-0.05:0.05", "A1=0:20", "A2=-2:2"]),
    ("phasic_bursting", ["a=-0.03", "A1=2", "A2=-1.8"], ["a=-0.05:0.05", "A1=0:20", "A2=-2:2"]),
    ("mixed_mode", ["A1=15", "A2=-1.5"], ["A1=0:20", "A2=-2:0"]),
    ("spike_frequency_adaptation", ["a=0.04", "A2=-1"], ["a=0:0.05", "A2=-2:0"]),
    ("tonic_spiking", ["input_scale=2.5"], ["input_scale=0.5:3"]),
]


def gif(*args: str) -> int:
    """``gif ARGS...`` in this process, as the console script runs it; its exit code."""
    return cli.run(list(args))


def own_train(tmp_path: Path, name: str) -> Path:
    assert gif("run", name, "--out", str(tmp_path), "--format", "json", "-q") == 0
    return tmp_path / f"{name}.json"


@pytest.mark.parametrize("name, start, free", RECOVERY, ids=[case[0] for case in RECOVERY])
def test_recovery_from_a_far_start_and_gif_run_of_the_fitted_yaml(tmp_path, capsys, name,
                                                                  start, free):
    target_file = own_train(tmp_path, name)
    out = tmp_path / "fit"
    sets = [arg for value in start for arg in ("--set", value)]
    frees = [arg for value in free for arg in ("--free", value)]
    assert gif("fit", name, "--target", str(target_file), *sets, *frees, "--out", str(out),
               "--json") == 0
    printed = json.loads(capsys.readouterr().out)
    summary = json.loads((out / f"{name}_fit.json").read_text(encoding="utf-8"))
    assert printed["gamma"] == summary["gamma"] >= 0.98
    preset = resolve(name)
    for value in start:  # each free quantity back near its true value
        key = value.split("=")[0]
        true = preset.overrides.get(key, 1.0) if key == "input_scale" else preset.params[key]
        assert summary["best"][key] == pytest.approx(true, abs=1e-4 * (1 + abs(true)))
    # gif run of the fitted preset reproduces the fitted train, so the same Γ
    rerun = tmp_path / "rerun"
    assert gif("run", str(out / f"{name}_fit.yaml"), "--out", str(rerun), "--format",
               "json", "-q") == 0
    again = json.loads((rerun / f"{name}_fitted.json").read_text(encoding="utf-8"))
    target = fit.read_target(target_file)
    assert again["spike_times_ms"] == summary["spike_times_ms"]
    assert fit.coincidence_factor(again["spike_times_ms"], target, again["duration_ms"]) == \
        summary["gamma"]
    assert {p.name for p in out.iterdir()} == {f"{name}_fit.{ext}" for ext in
                                               ("yaml", "json", "png")}


def test_a_jittered_target_still_gives_the_original_train():
    preset = resolve("tonic_bursting")
    original = simulate(preset).spike_times
    jittered = np.sort(original + np.random.default_rng(8).normal(0.0, 0.5, original.size))
    start = preset.replace(a=0.003, A1=8.0, A2=-0.8)
    result = fit.fit(start, [fit.parse_free(t) for t in ("a=-0.05:0.05", "A1=0:20",
                                                          "A2=-2:2")],
                     fit.SpikeTarget(jittered, source="jittered"))
    assert not np.array_equal(jittered, original)
    assert result.measures["gamma"] >= 0.9
    assert fit.coincidence_factor(result.run.spike_times, original, preset.duration) >= 0.9


def test_the_same_seed_gives_the_same_bytes_and_another_seed_another_search(tmp_path):
    target_file = own_train(tmp_path, "mixed_mode")
    outputs = {}
    for label, seed in (("one", "1"), ("two", "1"), ("three", "7")):
        out = tmp_path / label
        assert gif("fit", "mixed_mode", "--target", str(target_file), "--set", "A1=15",
                   "--free", "A1=0:20", "--free", "A2=-2:0", "--seed", seed, "--out",
                   str(out), "-q") == 0
        outputs[label] = {p.name: p.read_bytes() for p in out.iterdir()}
    assert outputs["one"] == outputs["two"]
    assert outputs["one"]["mixed_mode_fit.json"] != outputs["three"]["mixed_mode_fit.json"]


# --- pattern mode --------------------------------------------------------------------------------


def test_pattern_mode_makes_tonic_spiking_burst(tmp_path, capsys):
    out = tmp_path / "fit"
    assert gif("fit", "tonic_spiking", "--pattern", "tonic_bursting", "--free", "A1=0:20",
               "--free", "A2=-2:0", "--out", str(out), "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["check"]["passed"] is True
    assert summary["margin"] > 0.1 and summary["gamma"] is None
    fitted = out / "tonic_spiking_fit.yaml"
    assert "check: tonic_bursting" in fitted.read_text(encoding="utf-8")
    # the fitted preset passes the check under gif run too (exit 0, not 1)
    assert gif("run", str(fitted), "--out", str(tmp_path / "rerun"), "--format", "json",
               "-q") == 0


# --- bad input: one sentence, exit 2, nothing written --------------------------------------------


@pytest.mark.parametrize("args, words", [
    (["--target", "{tmp}/empty.csv", "--free", "a=0:0.01"], "holds no spike times"),
    (["--target", "{tmp}/nospikes.json", "--free", "a=0:0.01"], "has no spike_times_ms"),
    (["--target", "{tmp}/spikes.csv", "--free", "a=0.01:0"], "LO (0.01) must be less than"),
    (["--target", "{tmp}/spikes.csv", "--free", "alpha=0:1"], "is not a model parameter"),
    (["--pattern", "tonic_burst", "--free", "A1=0:20"], "did you mean tonic_bursting?"),
    (["--pattern", "bursting_fast", "--free", "A1=0:20"], "unknown check"),
    (["--free", "A1=0:20"], "give either --target FILE or --pattern CHECK"),
    (["--target", "{tmp}/spikes.csv", "--pattern", "tonic_bursting", "--free", "a=0:1"],
     "give either --target FILE or --pattern CHECK"),
    (["--target", "{tmp}/spikes.csv"], "--free"),
    (["--target", "{tmp}/spikes.csv", "--free", "a=0:1", "--budget", "10"],
     "smaller than one generation"),
])
def test_bad_input_is_one_sentence_exit_2_and_writes_nothing(tmp_path, capsys, args, words):
    (tmp_path / "empty.csv").write_text("t_ms\n", encoding="utf-8")
    (tmp_path / "nospikes.json").write_text('{"name": "x"}', encoding="utf-8")
    (tmp_path / "spikes.csv").write_text("t_ms\n20\n40\n", encoding="utf-8")
    out = tmp_path / "out"
    code = gif("fit", "tonic_spiking", *[a.format(tmp=tmp_path) for a in args], "--out",
               str(out))
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("gif: error: "), captured.err
    assert words in lines[0]
    assert not out.exists()
