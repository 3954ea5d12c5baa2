"""Sweeps and f–I curves: values, validation, results, files, figures and the CLI commands."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gifcli import __version__
from gifcli.analysis import checks
from gifcli.analysis.features import spike_features
from gifcli.core.errors import GifError, PresetError
from gifcli.explore import sweep
from gifcli.explore.sweep import points as sweep_points
from gifcli.files import sweep as sweep_files
from gifcli.model.preset import Preset, resolve
from gifcli.simulation.single import simulate


def one_axis(param: str, start: float, stop: float, num: int) -> list[sweep.Axis]:
    return [sweep.Axis(param, sweep.sweep_values(start, stop, num))]


# --- values and validation ---------------------------------------------------------------------


def test_values_linear_inclusive_and_explicit():
    np.testing.assert_array_equal(sweep.sweep_values(0.0, 1.0, 5), [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_array_equal(sweep.sweep_values(2.0, 2.0, 1), [2.0])
    np.testing.assert_array_equal(sweep.sweep_values(3.0, 1.0, 1), [3.0])  # one value: start
    np.testing.assert_array_equal(sweep.sweep_values(values=[1, 2, 3]), [1.0, 2.0, 3.0])
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
    ("tau", [0.0, 10.0], "at tau = 0, tau must be > 0"),
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
    with pytest.raises(PresetError, match="given twice"):
        sweep.check_sweep(preset, [sweep.Axis("a", [0.0, 0.01]), sweep.Axis("a", [0.02, 0.03])])
    with pytest.raises(PresetError, match="every grid point"):
        sweep.check_sweep(preset, [sweep.Axis("V_reset", np.array([-70.0, -62.0])),
                                   sweep.Axis("V_th_reset", np.array([-63.0, -60.0]))])
    two_million = [sweep.Axis("a", np.arange(2000) * 1e-5),
                   sweep.Axis("b", 0.01 + np.arange(1000) * 1e-5)]
    with pytest.raises(PresetError, match="written only as zarr"):
        sweep.check_sweep(preset, two_million)
    sweep.check_sweep(preset, two_million, stored=True)  # a store takes it, chunk by chunk
    with pytest.raises(PresetError, match="above the cap of 1,000,000,000"):
        sweep.check_sweep(preset, [sweep.Axis(p, 0.1 + np.arange(1001) * 1e-4)
                                   for p in ("a", "b", "k1")],
                          stored=True)
    with pytest.raises(GifError, match="one to 3 axes"):
        sweep.check_sweep(preset, [sweep.Axis(p, np.array([1.0, 2.0]))
                                   for p in ("a", "b", "k1", "k2")])


def test_the_general_axis_form():
    axis = sweep.parse_axis("a=-0.01:0.01:5")
    assert axis.param == "a"
    np.testing.assert_array_equal(axis.values, [-0.01, -0.005, 0.0, 0.005, 0.01])
    np.testing.assert_array_equal(sweep.parse_axis("A2=-1,-0.5,0").values, [-1, -0.5, 0])
    np.testing.assert_array_equal(sweep.parse_axis("initial.V_th=-45").values, [-45.0])
    for text, words in (("a", "give P=START:STOP:NUM"), ("=1,2", "give P=START:STOP:NUM"),
                        ("tua=1,2", "did you mean tau"), ("a=0:1", "not START:STOP:NUM"),
                        ("a=0:1:2.5", "whole number"), ("a=0:x:3", "'x' is not a number"),
                        ("a=1:0:3", "must be ≤"), ("a=0:1:0", "must be ≥ 1"),
                        ("a=1,,2", "empty item"), ("a=0:inf:3", "finite")):
        with pytest.raises(PresetError, match=words):
            sweep.parse_axis(text)


def test_ranges_beyond_the_float_span_do_not_overflow():
    values = sweep.sweep_values(-1e308, 1e308, 3)
    np.testing.assert_array_equal(values, [-1e308, 0.0, 1e308])
    top = sweep.sweep_values(0, 1.7e308, 5)
    assert np.all(np.isfinite(top)) and top[-1] == 1.7e308 and np.all(np.diff(top) > 0)


@pytest.mark.parametrize("shape, target", [((1000, 1000, 1000), 100_000), ((61,), 100_000),
                                           ((3, 7, 50_000), 100_000), ((2_000_000,), 100_000),
                                           ((31, 11, 3), 40), ((5, 4), 3), ((7,), 1)])
def test_chunks_are_contiguous_blocks_that_tile_the_grid(shape, target):
    chunks = sweep.Chunks.of(shape, target)
    assert math.prod(chunks.chunk_shape) <= target
    # never less than half the target, unless the grid itself is smaller
    assert 2 * math.prod(chunks.chunk_shape) > min(target, math.prod(shape))
    covered, previous = 0, 0
    for k in range(chunks.count) if chunks.count < 50 else (0, 1, chunks.count - 1):
        lo, hi = chunks.bounds(k)
        region = chunks.region(k)
        block = np.zeros(shape, dtype=bool) if math.prod(shape) <= 10**6 else None
        if block is not None:  # the block's points are exactly lo..hi in row-major order
            block[region] = True
            np.testing.assert_array_equal(np.flatnonzero(block.ravel()), np.arange(lo, hi))
        if chunks.count < 50:
            assert lo == previous
            previous, covered = hi, covered + hi - lo
    if chunks.count < 50:
        assert covered == math.prod(shape)
    assert chunks.bounds(chunks.count - 1)[1] == math.prod(shape)


def test_results_do_not_depend_on_how_the_grid_is_cut(shipped):
    axes = [sweep.parse_axis("a=-0.01:0.02:7"), sweep.parse_axis("A1=0:20:5"),
            sweep.parse_axis("A2=-1,0")]
    whole = sweep.run_sweep(shipped["M"], axes)
    cut = sweep.run_sweep(shipped["M"], axes, chunk_points=9, batch_points=4)
    assert cut.chunks["count"] == 14 and whole.chunks["count"] == 1  # blocks of 1 × 4 × 2
    for name in sweep.COLUMNS:
        np.testing.assert_array_equal(cut.columns[name], whole.columns[name])
    np.testing.assert_array_equal(cut.passed, whole.passed)
    np.testing.assert_array_equal(cut.margin, whole.margin)


# --- results ---------------------------------------------------------------------------------


def assert_point_is_a_single_run(preset, axes, result, i, method="exact"):
    """Point i's features, verdict and margin are those of simulate() + evaluate() on the
    sweep's grid (a coarse one against dt 0.1: tests/test_coarse_grid.py)."""
    single = simulate(sweep.point_preset(preset, axes, i), method, result.dt)
    f = spike_features(single.spike_times, single.duration)
    for name in sweep.COLUMNS:
        expected = getattr(f, name)
        assert result.columns[name][i] == (np.nan if expected is None else expected) or (
            expected is None and np.isnan(result.columns[name][i])), (name, i)
    verdict = checks.evaluate(single)
    if verdict is not None:
        assert result.passed[i] == verdict.passed, (preset.name, i, verdict.reason)
        margin = np.nan if verdict.margin is None else verdict.margin.relative
        assert result.margin[i] == margin or np.isnan(margin) and np.isnan(result.margin[i])
    if i in result.samples:
        np.testing.assert_array_equal(result.spike_train(i), single.spike_times)


def test_every_point_matches_a_single_run_and_its_check(shipped):
    for letter, axes in (("M", one_axis("a", -0.01, 0.02, 13)),
                         ("Q", one_axis("A1", 0.0, 10.0, 6)),  # afterpotentials: reads V
                         ("H", one_axis("a", 0.0, 0.005, 3)),  # class 2: the f–I probe
                         ("E", [sweep.Axis("input_scale", np.array([0.8, 1.0])),
                                sweep.Axis("b", np.array([0.005, 0.01, 0.02]))]),
                         # the initial state follows a swept V_rest / V_th_inf, as in Preset
                         ("A", [sweep.Axis("V_th_inf", np.array([-55.0, -50.0, -45.0])),
                                sweep.Axis("V_rest", np.array([-72.0, -68.0]))]),
                         ("K", one_axis("initial.V_th", -80.0, -40.0, 5))):
        preset = shipped[letter]
        # at a given grid; the f–I probe of a single run's check steps at it too
        result = sweep.run_sweep(preset, axes, method="exact", dt=0.1)
        assert result.passed is not None and result.passed.any() and not result.passed.all()
        for i in range(result.size):
            assert_point_is_a_single_run(preset, axes, result, i)


def test_points_beyond_the_spike_buffer_are_run_again_in_full(monkeypatch, shipped):
    monkeypatch.setattr(sweep_points, "RECORD", 3)  # read by sweep_points.simulate
    preset = shipped["A"]
    axes = one_axis("input_scale", 0.5, 2.0, 7)
    result = sweep.run_sweep(preset, axes, chunk_points=4, batch_points=3)  # 3+1, then 3
    assert result.columns["n_spikes"].max() > 3
    for i in range(result.size):
        assert_point_is_a_single_run(preset, axes, result, i)


def test_a_sweep_of_a_thousand_points_samples_the_raster(shipped):
    result = sweep.run_sweep(shipped["A"], one_axis("a", -0.01, 0.01, 1001))
    assert sorted(result.samples) == sweep.sampled_points(result.axes).tolist()
    assert len(result.samples) == sweep.MAX_RASTER_ROWS and 0 in result.samples
    assert {"simulate", "check"} <= set(result.seconds)


def test_fi_curves_use_the_probes_steady_state_rate(shipped):
    b, h = sweep.fi_curves([shipped["B"], shipped["H"]], start=0.5, stop=1.5, num=21)
    # class 1: the rate near the onset is low and rises continuously: the spikes of the last
    # second go up one at a time
    assert b.onset_rate < 10.0 and 0.9999 < b.onset_scale <= 1.0
    rising = b.zoom_rate[b.zoom_rate > 0]
    assert rising[0] < 6.0 and np.all(np.isin(np.diff(rising), [0.0, 1.0]))
    assert np.all(b.zoom_rate[b.zoom_scale < b.onset_scale] == 0)
    # class 2: it jumps from 0 to more than 20 Hz
    assert h.onset_rate > 20.0
    assert h.zoom_rate[h.zoom_scale >= h.onset_scale].min() > 20.0
    assert np.all(h.zoom_rate[h.zoom_scale < h.onset_scale * (1 - 1e-4)] == 0)
    # the onset is the f–I probe's, as the class checks read it
    verdict = checks.evaluate(simulate(shipped["H"]))
    assert f"onset at {h.onset_scale:.6g} × the input: {h.onset_rate:.3g} Hz just" in (
        verdict.reason)
    assert sweep.fi_input(shipped["B"], np.array([2.0]))[0] == 2.000002


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
    assert by_fixed <= {(0.6,), (1.0,)} and by_fixed
    unchecked = Preset(name="free", title="free", segments=((1.5, 50.0),), params=preset.params)
    assert sweep.pass_ranges(sweep.run_sweep(unchecked, one_axis("a", 0, 0.01, 3))) == []


# --- files and figures -----------------------------------------------------------------------


def test_csv_is_deterministic_and_complete(tmp_path: Path, shipped):
    preset = shipped["A"]
    axes = one_axis("input_scale", 0.0, 2.0, 9)
    first = sweep_files.write_sweep(sweep.run_sweep(preset, axes), tmp_path / "a")
    second = sweep_files.write_sweep(sweep.run_sweep(preset, axes), tmp_path / "b")
    assert [p.name for p in first] == ["tonic_spiking_sweep_input_scale.csv",
                                       "tonic_spiking_sweep_input_scale.png"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    lines = first[0].read_text().splitlines()
    assert lines[0] == ("input_scale,n_spikes,rate_hz,first_spike_ms,isi_cv,n_bursts,"
                        "check_passed,check_margin,status")
    assert len(lines) == 10
    silent = lines[1].split(",")
    assert silent == ["0.0", "0", "0.0", "", "", "0", "false", "", "ok"]
    busy = lines[-1].split(",")
    assert int(busy[1]) > 5 and busy[-3] in ("true", "false") and float(busy[4]) >= 0
    assert not list((tmp_path / "a").glob(".*tmp"))  # no temporary file left behind


def test_csv_values_round_trip(tmp_path: Path, shipped):
    import csv

    result = sweep.run_sweep(shipped["M"], one_axis("a", -0.01, 0.02, 31))
    (path,) = sweep_files.write_sweep(result, tmp_path, formats=("csv",))
    rows = list(csv.DictReader(path.open()))
    for name in ("rate_hz", "first_spike_ms", "isi_cv", "check_margin"):
        parsed = np.array([float(row[name]) if row[name] else np.nan for row in rows])
        expected = result.margin if name == "check_margin" else result.columns[name]
        np.testing.assert_array_equal(parsed, expected)
    assert [row["check_passed"] == "true" for row in rows] == result.passed.tolist()


def test_two_axis_csv_and_heat_map(tmp_path: Path, shipped):
    result = sweep.run_sweep(shipped["M"], [sweep.Axis("a", np.array([0.0, 0.005])),
                                            sweep.Axis("input_scale", np.array([1.0, 1.5, 2.0]))])
    paths = sweep_files.write_sweep(result, tmp_path, metric="n_bursts",
                                    formats=("csv", "png", "pdf", "json"))
    stem = "tonic_bursting_sweep_a_input_scale"
    assert [p.name for p in paths] == [f"{stem}.csv", f"{stem}.png", f"{stem}.pdf",
                                       f"{stem}.json"]
    lines = paths[0].read_text().splitlines()
    assert lines[0].startswith("a,input_scale,n_spikes,")
    assert [line.split(",")[:2] for line in lines[1:]] == [
        ["0.0", "1.0"], ["0.0", "1.5"], ["0.0", "2.0"],
        ["0.005", "1.0"], ["0.005", "1.5"], ["0.005", "2.0"]]
    assert paths[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[2].read_bytes()[:5] == b"%PDF-"


def test_figures_render(tmp_path: Path, shipped):
    from gifcli import plots
    from gifcli.plots import sweep as sweep_plots

    big = sweep.run_sweep(shipped["B"], one_axis("input_scale", 0.9, 1.1, 700))
    figure = sweep_plots.sweep_figure(big, "first_spike_ms")
    assert len(figure.axes) == 2
    curves = sweep.fi_curves([shipped["B"], shipped["H"]], start=0.8, stop=1.2, num=9)
    fi = sweep_plots.fi_figure(curves)
    assert len(fi.axes) == 3  # the curves, and one zoom per onset
    path = plots.save_figure(fi, tmp_path / "fi.png", "png")
    assert path.stat().st_size > 10_000


def test_summary_is_json_ready(shipped):
    import json

    result = sweep.run_sweep(shipped["A"], one_axis("input_scale", 0.0, 1.5, 4))
    data = sweep_files.sweep_summary(result, "first_spike_ms")
    text = json.dumps(data, allow_nan=False)
    assert [axis["param"] for axis in data["axes"]] == ["input_scale"]
    assert data["points"] == 4 and '"pass_ranges"' in text
    assert data["version"] == __version__
    assert {"simulate", "check", "chunks_wall"} <= set(data["seconds"])
    assert data["chunks"]["count"] == 1 and data["overrides"] == {}


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
    assert rows[0].startswith("a,n_spikes,")


def test_cli_sweep_two_axes_json(tmp_path: Path):
    import json

    run = gif("sweep", "M", "-p", "a", "--values", "0,0.01", "--param", "input_scale=1:2:3",
              "--metric", "n_bursts", "--json", "--out", str(tmp_path))
    assert run.exit_code == 0, run.output
    data = json.loads(run.output)
    assert [axis["param"] for axis in data["axes"]] == ["a", "input_scale"]
    assert data["points"] == 6 and data["metric"] == "n_bursts"
    assert [Path(f).name for f in data["files"]] == ["tonic_bursting_sweep_a_input_scale.csv",
                                                     "tonic_bursting_sweep_a_input_scale.png"]


@pytest.mark.parametrize("args, words", [
    (["--param", "tua", "--start", "1", "--stop", "2", "--num", "3"], "did you mean tau"),
    (["--param", "tau", "--start", "-1", "--stop", "2", "--num", "3"], "tau must be > 0"),
    (["--param", "a", "--start", "0", "--stop", "1", "--num", "0"], "whole number ≥ 1"),
    (["--param", "a", "--start", "1", "--stop", "0", "--num", "3"], "must be ≤ --stop"),
    (["--param", "a", "--values", "0,nan"], "finite"),
    (["--param", "a", "--values", "0,x"], "'x' is not a number"),
    (["--param", "a", "--start", "0", "--stop", "1"], "--num: is missing"),
    (["--param", "a=0:1:3", "--start", "1"], "--start goes with a bare --param"),
    (["--param", "a", "--param", "b", "--values", "1"], "only one --param may take"),
    (["--param", "a", "--values", "0", "--param", "a=1"], "given twice"),
    (["-p", "a=0:1:3", "-p", "b=1:2:2", "-p", "k1=1,2", "-p", "k2=1"], "one to 3 axes"),
    (["-p", "a=0:1:1001", "-p", "b=1:2:1000"], "written only as zarr"),
    (["--param", "a=0,1", "--resume"], "--resume continues a zarr store"),
    (["--param", "a=0,1", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
    (["--param", "a=0,1", "--workers", "0"], "--workers"),
    (["--param", "a=0,1", "--format", "csv,zip"], "zip"),
    (["--param", "a", "--values", "0", "--format", "csv,gif"], "gif"),
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
    assert lines[0] == "preset,input_scale,input,rate_hz,zoom,status"
    assert {line.split(",")[-2] for line in lines[1:]} == {"0", "1"}  # coarse and zoom rows
    assert {line.split(",")[-1] for line in lines[1:]} == {"ok"}
    assert "class_2_excitability" in run.output and "onset rate" in run.output


def test_cli_sweep_of_an_initial_value_with_json_only(tmp_path: Path):
    run = gif("sweep", "K", "-p", "initial.V_th", "--values", "-75,-50", "--format", "json",
              "--out", str(tmp_path))
    assert run.exit_code == 0, run.output
    (written,) = tmp_path.iterdir()
    assert written.name == "hyperpolarization_induced_spiking_sweep_initial.V_th.json"
    assert "passes at 1 of 2 points" in run.output


def test_cli_fi_bad_range_exits_2(tmp_path: Path):
    run = gif("fi", "B", "--num", "0", "--out", str(tmp_path / "x"))
    assert run.exit_code == 2 and "--num" in run.output
    assert not (tmp_path / "x").exists()


# --- figures: what a reader needs to see ------------------------------------------------------


def test_the_raster_marks_the_presets_value_and_shows_silent_points(shipped):
    from gifcli.plots import sweep as sweep_plots

    result = sweep.run_sweep(shipped["A"], one_axis("input_scale", 0.0, 2.0, 21))
    figure = sweep_plots.sweep_figure(result, "first_spike_ms")
    raster, side = figure.axes[:2]
    assert raster.get_ylabel() == "input_scale (× the preset's input)"
    assert "no spike" in [tick.get_text() for tick in side.get_xticklabels()]
    silent = int((result.columns["n_spikes"] == 0).sum())
    crosses = [line for line in side.get_lines() if line.get_marker() == "x"]
    assert silent > 0 and len(crosses) == 1 and len(crosses[0].get_xdata()) == silent
    own = [line for line in raster.get_lines() if line.get_color() == sweep_plots.OWN_COLOR]
    assert own and list(own[0].get_ydata()) == [1.0, 1.0]  # the preset's own input


def _lightness(colour) -> float:
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_heat_maps_count_in_bands_and_pass_fail_reads_without_colour(shipped):
    from matplotlib.colors import BoundaryNorm, to_rgb

    from gifcli.plots import sweep as sweep_plots

    result = sweep.run_sweep(shipped["M"], [sweep.parse_axis("a=-0.01:0.02:7"),
                                            sweep.parse_axis("input_scale=0.5:1.5:5")])
    figure = sweep_plots.sweep_figure(result, "n_bursts")
    metric_ax, _bar, check_ax = figure.axes[:3]
    assert metric_ax.get_xlabel() == "a (1/ms)"
    norm = metric_ax.collections[-1].norm
    assert isinstance(norm, BoundaryNorm)  # a whole-number metric: one band per count
    top = int(np.nanmax(result.columns["n_bursts"]))
    np.testing.assert_array_equal(norm.boundaries, np.arange(0, top + 2) - 0.5)
    colours = check_ax.collections[0].cmap.colors
    assert [to_rgb(c) for c in colours] == [to_rgb(sweep_plots.FAIL_COLOR),
                                           to_rgb(sweep_plots.PASS_COLOR)]
    # told apart by lightness too (in grey, and with any colour vision), not red vs green
    assert abs(_lightness(colours[0]) - _lightness(colours[1])) > 0.2
    stars = [line for line in metric_ax.get_lines() if line.get_marker() == "*"]
    assert stars and (stars[0].get_xdata()[0], stars[0].get_ydata()[0]) == (0.005, 1.0)


def test_a_three_axis_grid_draws_small_multiples(shipped, tmp_path):
    from gifcli import plots
    from gifcli.plots import sweep as sweep_plots

    result = sweep.run_sweep(shipped["M"], [sweep.parse_axis("a=-0.01:0.02:7"),
                                            sweep.parse_axis("A1=0:20:5"),
                                            sweep.parse_axis("A2=-1,-0.6,0")])
    figure = sweep_plots.sweep_figure(result, "rate_hz")
    titles = [ax.get_title(loc="left") for ax in figure.axes]
    for value in ("-1", "-0.6", "0"):  # a metric map and a check map per value of A2
        assert titles.count(f"A2 = {value}") + titles.count(f"A2 = {value}  (the preset's)") \
            == 2
    assert titles.count("A2 = -0.6  (the preset's)") == 2
    assert plots.save_figure(figure, tmp_path / "p.png", "png").stat().st_size > 20_000


def test_values_near_the_float_limit_still_draw(shipped, tmp_path):
    from gifcli import plots
    from gifcli.plots import sweep as sweep_plots

    for axes in ([sweep.Axis("A1", sweep.sweep_values(0, 1.7e308, 5))],
                 [sweep.Axis("A1", sweep.sweep_values(0, 1.7e308, 5)),
                  sweep.Axis("a", sweep.sweep_values(-1e308, 1e308, 3))]):
        result = sweep.run_sweep(shipped["A"], axes)
        figure = sweep_plots.sweep_figure(result, "rate_hz")
        assert plots.save_figure(figure, tmp_path / "x.png", "png").stat().st_size > 10_000


def test_fi_curves_of_many_presets_keep_their_colours_and_onsets(shipped):
    from gifcli.plots import sweep as sweep_plots

    presets = [shipped[letter] for letter in "ABCDEFGHIJK"]
    curves = sweep.fi_curves(presets, start=0.0, stop=2.0, num=5)
    figure = sweep_plots.fi_figure(curves)
    main = figure.axes[0]
    colours = [line.get_color() for line in main.get_lines() if line.get_label()[:1] != "_"]
    assert len(colours) == len(presets) and len(set(map(str, colours))) == len(presets)
    found = sum(1 for c in curves if c.zoom_scale is not None)
    assert found > 4 and len(figure.axes) == 1 + found  # every onset its own panel


# --- the CLI: issue 12 and 13 items ------------------------------------------------------------


def test_cli_sweep_over_the_whole_float_range(tmp_path):
    run = gif("sweep", "A", "-p", "a", "--start", "-1e308", "--stop", "1e308", "--num", "3",
              "--out", str(tmp_path))
    assert run.exit_code == 0, run.output
    run = gif("sweep", "A", "-p", "A1", "--start", "0", "--stop", "1.7e308", "--num", "5",
              "--out", str(tmp_path), "--format", "csv,png,json")
    assert run.exit_code == 0, run.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "tonic_spiking_sweep_A1.csv", "tonic_spiking_sweep_A1.json",
        "tonic_spiking_sweep_A1.png", "tonic_spiking_sweep_a.csv",
        "tonic_spiking_sweep_a.png"]


def test_cli_fi_keeps_two_files_of_the_same_name(tmp_path, monkeypatch):
    import json

    for folder, a in (("one", 0.0), ("two", 0.01)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "n.yaml").write_text(
            f"name: n\ntitle: N\nparams: {{a: {a}}}\ninput:\n  - {{amplitude: 1.5, "
            "duration: 200}\n")
    monkeypatch.chdir(tmp_path)
    run = gif("fi", "one/n.yaml", "two/n.yaml", "one/n.yaml", "--num", "5", "--json",
              "--format", "csv,json", "--out", "out")
    assert run.exit_code == 0, run.output
    data = json.loads(run.output)
    assert [c["name"] for c in data["curves"]] == ["one/n.yaml", "two/n.yaml"]
    assert data["version"] == __version__
    names = {line.split(",")[0] for line in
             (tmp_path / "out" / "fi_n_n.csv").read_text().splitlines()[1:]}
    assert names == {"one/n.yaml", "two/n.yaml"}
    saved = json.loads((tmp_path / "out" / "fi_n_n.json").read_text())
    assert saved["version"] == __version__ and len(saved["curves"]) == 2


def test_cli_sweep_json_carries_the_version(tmp_path):
    import json

    run = gif("sweep", "A", "-p", "a=0,0.01", "--json", "--format", "json", "--out",
              str(tmp_path))
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["version"] == __version__
    saved = json.loads((tmp_path / "tonic_spiking_sweep_a.json").read_text())
    assert saved["version"] == __version__


def test_help_paragraphs_wrap_at_the_terminal_width():
    from typer.testing import CliRunner

    from gifcli.cli import app

    for command in ("sweep", "fi"):
        text = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "80"}).output
        lines = text.splitlines()
        # a paragraph is filled to the width: no short line followed by a continuation
        body = lines[:next(i for i, line in enumerate(lines) if "Examples" in line)]
        for line, after in zip(body, body[1:], strict=False):
            if line.strip() and after.strip() and not after.startswith(" " * 3):
                assert len(line.rstrip()) > 55, (command, line)
