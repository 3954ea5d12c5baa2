"""Sweeps and f–I curves: values, validation, results, files, figures and the CLI commands."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gifcli import checks, sweep
from gifcli.errors import GifError, PresetError
from gifcli.features import spike_features
from gifcli.preset import Preset, resolve
from gifcli.simulation import simulate


def one_axis(param: str, start: float, stop: float, num: int) -> list[sweep.Axis]:
    return [sweep.Axis(param, sweep.sweep_values(start, stop, num))]


# --- values and validation ---------------------------------------------------------------------


def test_values_linear_inclusive_and_explicit():
    np.testing.assert_array_equal(sweep.sweep_values(0.0, 1.0, 5), [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_array_equal(sweep.sweep_values(2.0, 2.0, 1), [2.0])
    np.testing.assert_array_equal(sweep.sweep_values(3.0, 1.0, 1), [3.0])  # one value: start
    np.testing.assert_array_equal(sweep.sweep_values(values=[3, 1, 2]), [3.0, 1.0, 2.0])
    assert sweep.parse_values(" 1, 2.5,-3 ") == [1.0, 2.5, -3.0]
    # grid values read as the decimals a person expects
    values = sweep.sweep_values(-0.01, 0.02, 61)
    assert values[2] == -0.009 and values[20] == 0.0 and values[-1] == 0.02
    assert np.all(np.abs(values - np.linspace(-0.01, 0.02, 61)) < 1e-15)


@pytest.mark.parametrize("kwargs, option, words", [
    ({"start": 0, "stop": 1, "num": 0}, "--num", "must be ≥ 1"),
    ({"start": 0, "stop": 1, "num": -3}, "--num", "must be ≥ 1"),
    ({"start": 0, "stop": 1, "num": 2.5}, "--num", "whole number"),
    ({"start": 2, "stop": 1, "num": 3}, "--start", "must be ≤ --stop"),
    ({"start": math.nan, "stop": 1, "num": 3}, "--start", "finite"),
    ({"start": 0, "stop": math.inf, "num": 3}, "--stop", "finite"),
    ({"start": 0, "num": 3}, "--stop", "missing"),
    ({}, "--start", "missing"),
    ({"start": 0, "stop": 1, "num": 3, "values": [1.0]}, "--values", "not both"),
    ({"values": []}, "--values", "empty"),
    ({"values": [1.0, math.nan]}, "--values", "finite"),
    ({"start": 0, "stop": 1, "num": 2_000_000}, "--num", "≤ 1,000,000"),
])
def test_bad_values_are_refused(kwargs, option, words):
    with pytest.raises(PresetError) as caught:
        sweep.sweep_values(**kwargs)
    assert caught.value.source == option
    assert words in str(caught.value)


@pytest.mark.parametrize("text, words", [
    ("1,,2", "empty item"), ("1,x", "'x' is not a number"), ("nan", "finite"), ("1,inf", "finite"),
    (" , ", "one or more"),
])
def test_bad_value_lists_are_refused(text, words):
    with pytest.raises(PresetError, match=words):
        sweep.parse_values(text)


def test_unknown_parameter_suggests_the_closest():
    with pytest.raises(PresetError, match="did you mean tau"):
        sweep.resolve_param("tua")
    with pytest.raises(PresetError, match="did you mean V_th_inf"):
        sweep.resolve_param("v_th_inf")
    with pytest.raises(PresetError, match="did you mean input_scale"):
        sweep.resolve_param("input_scal")
    with pytest.raises(PresetError, match="unknown metric 'rate'; did you mean rate_hz"):
        sweep.resolve_metric("rate")
    assert sweep.resolve_param("input_scale") == "input_scale"


@pytest.mark.parametrize("param, values, words", [
    ("tau", [10.0, 0.0], "at tau = 0, tau must be > 0"),
    ("b", [-0.01], "at b = -0.01, b must be > 0"),
    ("V_reset", [-70.0, -55.0], "at V_reset = -55, V_reset must be < V_th_reset"),
    ("V_th_reset", [-75.0], "at V_th_reset = -75, V_reset must be < V_th_reset"),
])
def test_values_that_make_a_parameter_invalid_are_refused_before_running(param, values, words):
    preset = resolve("tonic_spiking")
    with pytest.raises(PresetError, match=words) as caught:
        sweep.run_sweep(preset, [sweep.Axis(param, np.array(values))])
    assert caught.value.source == f"--param {param}"


def test_two_axes_are_validated_together():
    preset = resolve("tonic_spiking")
    with pytest.raises(PresetError, match="same as --param"):
        sweep.check_sweep(preset, [sweep.Axis("a", np.zeros(2)), sweep.Axis("a", np.ones(2))])
    with pytest.raises(PresetError, match="every grid point"):
        sweep.check_sweep(preset, [sweep.Axis("V_reset", np.array([-70.0, -62.0])),
                                   sweep.Axis("V_th_reset", np.array([-63.0, -60.0]))])
    with pytest.raises(PresetError, match="above the cap"):
        sweep.check_sweep(preset, [sweep.Axis("a", np.zeros(2000)),
                                   sweep.Axis("b", np.full(1000, 0.01))])


# --- results ---------------------------------------------------------------------------------


def test_every_point_matches_a_single_run_and_its_check(shipped):
    """Spike counts, features and the check's verdict at each point are those of
    simulate() + checks.evaluate() on the point's own preset."""
    for letter, axes in (("M", one_axis("a", -0.01, 0.02, 13)),
                         ("Q", one_axis("A1", 0.0, 10.0, 6)),  # afterpotentials: needs V
                         ("E", [sweep.Axis("input_scale", np.array([0.8, 1.0])),
                                sweep.Axis("b", np.array([0.005, 0.01, 0.02]))]),
                         # the initial state follows a swept V_rest / V_th_inf, as in Preset
                         ("A", [sweep.Axis("V_th_inf", np.array([-55.0, -50.0, -45.0])),
                                sweep.Axis("V_rest", np.array([-72.0, -68.0]))])):
        preset = shipped[letter]
        result = sweep.run_sweep(preset, axes, method="exact")
        assert result.passed is not None and result.passed.any()
        assert result.batch.n_spikes.any()
        for i in range(result.size):
            single = simulate(sweep.point_preset(preset, axes, i), "exact")
            f = spike_features(single.spike_times, single.duration)
            assert result.batch.n_spikes[i] == f.n_spikes
            assert result.metric("rate_hz")[i] == pytest.approx(f.rate_hz)
            np.testing.assert_allclose(result.spike_train(i), single.spike_times, rtol=0,
                                       atol=1e-9)
            verdict = checks.evaluate(single)
            assert result.passed[i] == verdict.passed, (letter, i, verdict.reason)
            assert result.reasons[i] == verdict.reason


def test_points_beyond_the_spike_buffer_are_run_again_in_full(monkeypatch, shipped):
    monkeypatch.setattr(sweep, "MAX_RECORD", 3)
    monkeypatch.setattr(sweep, "MIN_RECORD", 3)
    preset = shipped["A"]
    axes = one_axis("input_scale", 0.5, 2.0, 7)
    result = sweep.run_sweep(preset, axes)
    assert result.trains  # some points fired more than 3 times
    for i in range(result.size):
        single = simulate(sweep.point_preset(preset, axes, i))
        np.testing.assert_allclose(result.spike_train(i), single.spike_times, atol=1e-9)
        assert result.passed[i] == checks.evaluate(single).passed


def test_class_1_rate_rises_continuously_from_zero(shipped):
    """Sweeping input_scale over class_1_excitability on a fine grid: silent, then a first
    rate below 5 Hz, then a rate that only rises, by small steps."""
    result = sweep.run_sweep(shipped["B"], one_axis("input_scale", 0.99, 1.03, 401))
    rate = result.metric("rate_hz")
    fired = np.flatnonzero(rate > 0)
    assert fired.size and fired[0] > 0
    assert 0 < rate[fired[0]] < 5.0
    assert np.all(rate[: fired[0]] == 0)
    assert np.all(np.diff(rate[fired[0]:]) >= 0)
    assert np.max(np.diff(rate)) <= 4.0  # at most 2 more spikes from one point to the next
    assert rate[-1] > 10.0


def test_class_2_rate_jumps_from_zero(shipped):
    """The same over class_2_excitability: from 0 straight to more than 10 Hz."""
    result = sweep.run_sweep(shipped["H"], one_axis("input_scale", 0.9, 1.0, 1001))
    rate = result.metric("rate_hz")
    fired = np.flatnonzero(rate > 0)
    assert fired.size and fired[0] > 0
    assert rate[fired[0] - 1] == 0.0
    assert rate[fired[0]] > 10.0


def test_fi_curves_zoom_in_on_each_onset(shipped):
    curves = sweep.fi_curves([shipped["B"], shipped["H"]], start=0.5, stop=1.5, num=21)
    first_rates = []
    for curve in curves:
        lo, hi = sweep.onset_bracket(curve.coarse)
        zoom = curve.zoom
        assert zoom.axes[0].values[0] == lo and zoom.axes[0].values[-1] > hi
        rate = zoom.metric("rate_hz")
        first_rates.append(rate[np.flatnonzero(rate > 0)[0]])
    assert first_rates[0] < 5.0 < 10.0 < first_rates[1]
    assert sweep.fi_input(shipped["B"], np.array([2.0]))[0][0] == 2.000002
    assert sweep.fi_input(shipped["E"], np.array([2.0]))[1] == "input_scale"


def test_pass_ranges_one_and_two_axes(shipped):
    preset = shipped["M"]
    result = sweep.run_sweep(preset, one_axis("a", -0.01, 0.02, 31))
    ranges = sweep.pass_ranges(result)
    covered = np.zeros(result.size, dtype=bool)
    values = result.axes[0].values
    for r in ranges:
        inside = (values >= r.lo) & (values <= r.hi)
        assert result.passed[inside].all() and inside.sum() == r.count
        covered |= inside
    np.testing.assert_array_equal(covered, result.passed)
    two = sweep.run_sweep(preset, [sweep.Axis("a", values[::5]),
                                   sweep.Axis("input_scale", np.array([0.6, 1.0]))])
    by_fixed = {r.fixed for r in sweep.pass_ranges(two)}
    assert by_fixed <= {0.6, 1.0} and by_fixed
    unchecked = Preset(name="free", title="free", segments=((1.5, 50.0),), params=preset.params)
    assert sweep.pass_ranges(sweep.run_sweep(unchecked, one_axis("a", 0, 0.01, 3))) == []


# --- files and figures -----------------------------------------------------------------------


def test_csv_is_deterministic_and_complete(tmp_path: Path, shipped):
    preset = shipped["A"]
    axes = one_axis("input_scale", 0.0, 2.0, 9)
    first = sweep.write_sweep(sweep.run_sweep(preset, axes), tmp_path / "a")
    second = sweep.write_sweep(sweep.run_sweep(preset, axes), tmp_path / "b")
    assert [p.name for p in first] == ["tonic_spiking_sweep_input_scale.csv",
                                       "tonic_spiking_sweep_input_scale.png"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    lines = first[0].read_text().splitlines()
    assert lines[0] == "value,n_spikes,rate_hz,first_spike_ms,isi_cv,n_bursts,check_passed"
    assert len(lines) == 10
    silent = lines[1].split(",")
    assert silent == ["0.0", "0", "0.0", "", "", "0", "false"]
    busy = lines[-1].split(",")
    assert int(busy[1]) > 5 and busy[-1] in ("true", "false") and float(busy[4]) >= 0
    assert not list((tmp_path / "a").glob(".*tmp"))  # no temporary file left behind


def test_two_axis_csv_and_heat_map(tmp_path: Path, shipped):
    result = sweep.run_sweep(shipped["M"], [sweep.Axis("a", np.array([0.0, 0.005])),
                                            sweep.Axis("input_scale", np.array([1.0, 1.5, 2.0]))])
    paths = sweep.write_sweep(result, tmp_path, metric="n_bursts")
    assert [p.name for p in paths] == ["tonic_bursting_sweep_a_input_scale.csv",
                                       "tonic_bursting_sweep_a_input_scale.png"]
    lines = paths[0].read_text().splitlines()
    assert lines[0].startswith("value,value2,n_spikes,")
    assert [line.split(",")[:2] for line in lines[1:]] == [
        ["0.0", "1.0"], ["0.0", "1.5"], ["0.0", "2.0"],
        ["0.005", "1.0"], ["0.005", "1.5"], ["0.005", "2.0"]]
    assert paths[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_render(tmp_path: Path, shipped):
    from gifcli import sweep_plots

    big = sweep.run_sweep(shipped["B"], one_axis("input_scale", 0.9, 1.1, 700))
    figure = sweep_plots.sweep_figure(big, "first_spike_ms")
    assert len(figure.axes) == 2
    raster = figure.axes[0]
    assert len(raster.collections) <= sweep_plots.MAX_RASTER_ROWS  # rows thinned out
    curves = sweep.fi_curves([shipped["B"], shipped["H"]], start=0.8, stop=1.2, num=9)
    fi = sweep_plots.fi_figure(curves)
    assert len(fi.axes) == 3  # the curves, and one zoom per onset
    path = sweep_plots.save(fi, tmp_path / "fi.png", "png")
    assert path.stat().st_size > 10_000


def test_summary_is_json_ready(shipped):
    import json

    result = sweep.run_sweep(shipped["A"], one_axis("input_scale", 0.0, 1.5, 4))
    data = sweep.sweep_summary(result, "first_spike_ms")
    text = json.dumps(data, allow_nan=False)
    assert data["metric_values"][0] is None  # no spike at input 0
    assert data["params"] == ["input_scale"] and '"pass_ranges"' in text


def test_bad_method_is_refused(shipped):
    with pytest.raises(GifError, match="method"):
        sweep.run_sweep(shipped["A"], one_axis("a", 0, 0.01, 2), method="rk4")


# --- the CLI ------------------------------------------------------------------------------------


def gif(*args: str):
    from typer.testing import CliRunner

    from gifcli.cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_sweep_writes_files_and_the_pass_table(tmp_path: Path):
    run = gif("sweep", "tonic_bursting", "--param", "a", "--start", "-0.01", "--stop", "0.02",
              "--num", "13", "--out", str(tmp_path))
    assert run.exit_code == 0, run.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tonic_bursting_sweep_a.csv",
                                                          "tonic_bursting_sweep_a.png"]
    assert "check tonic_bursting passes at" in run.output
    assert "a from" in run.output  # the table of ranges
    rows = (tmp_path / "tonic_bursting_sweep_a.csv").read_text().splitlines()
    assert len(rows) == 14 and rows[1].startswith("-0.01,")


def test_cli_sweep_two_axes_json(tmp_path: Path):
    import json

    run = gif("sweep", "M", "-p", "a", "--values", "0,0.01", "--param2", "input_scale",
              "--start2", "1", "--stop2", "2", "--num2", "3", "--metric", "n_bursts", "--json",
              "--out", str(tmp_path))
    assert run.exit_code == 0, run.output
    data = json.loads(run.output)
    assert data["params"] == ["a", "input_scale"] and len(data["metric_values"]) == 6
    assert data["metric"] == "n_bursts"
    assert [Path(f).name for f in data["files"]] == ["tonic_bursting_sweep_a_input_scale.csv",
                                                     "tonic_bursting_sweep_a_input_scale.png"]


@pytest.mark.parametrize("args, words", [
    (["--param", "tua", "--start", "1", "--stop", "2", "--num", "3"], "did you mean tau"),
    (["--param", "tau", "--start", "-1", "--stop", "2", "--num", "3"], "tau must be > 0"),
    (["--param", "a", "--start", "0", "--stop", "1", "--num", "0"], "--num: must be ≥ 1"),
    (["--param", "a", "--start", "1", "--stop", "0", "--num", "3"], "must be ≤ --stop"),
    (["--param", "a", "--values", "0,nan"], "finite"),
    (["--param", "a", "--values", "0,x"], "'x' is not a number"),
    (["--param", "a", "--start", "0", "--stop", "1"], "--num: is missing"),
    (["--param", "a", "--values", "0", "--start2", "1"], "--start2 needs --param2"),
    (["--param", "a", "--values", "0", "--param2", "a", "--values2", "1"], "same as --param"),
    (["--param", "a", "--values", "0", "--metric", "rate"], "did you mean rate_hz"),
    (["--param", "V_reset", "--values", "-70,-50"], "V_reset must be < V_th_reset"),
    (["--param", "a", "--values", "0", "--dt", "500"], "longer than the shortest"),
])
def test_cli_sweep_bad_arguments_exit_2_and_write_nothing(tmp_path: Path, args, words):
    out = tmp_path / "out"
    run = gif("sweep", "tonic_spiking", *args, "--out", str(out))
    assert run.exit_code == 2, run.output
    assert words in run.output
    assert "Traceback" not in run.output
    assert not out.exists()


def test_cli_sweep_unknown_preset_and_option(tmp_path: Path):
    run = gif("sweep", "tonic_spikin", "--param", "a", "--values", "0", "--out", str(tmp_path))
    assert run.exit_code == 2 and "did you mean tonic_spiking" in run.output
    run = gif("sweep", "A", "--param", "a", "--values", "0", "--bogus", "--out", str(tmp_path))
    assert run.exit_code == 2
    assert not list(tmp_path.iterdir())


def test_cli_fi_two_presets(tmp_path: Path):
    run = gif("fi", "class_1_excitability", "class_2_excitability", "--start", "0.8", "--stop",
              "1.2", "--num", "21", "--out", str(tmp_path))
    assert run.exit_code == 0, run.output
    stem = "fi_class_1_excitability_class_2_excitability"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{stem}.csv", f"{stem}.png"]
    lines = (tmp_path / f"{stem}.csv").read_text().splitlines()
    assert lines[0].startswith("preset,input_scale,input,n_spikes,rate_hz")
    assert {line.split(",")[-1] for line in lines[1:]} == {"0", "1"}  # coarse and zoom rows
    assert "class_2_excitability" in run.output and "first rate" in run.output


def test_cli_fi_bad_range_exits_2(tmp_path: Path):
    run = gif("fi", "B", "--num", "0", "--out", str(tmp_path / "x"))
    assert run.exit_code == 2 and "--num" in run.output
    assert not (tmp_path / "x").exists()
