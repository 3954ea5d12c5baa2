"""What a notebook user gets from results: figures, short reprs, HTML tables, labelled data,
sequences for axes, and the explorer (issue 25)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

import gifcli
from gifcli.core.errors import GifError, PresetError
from gifcli.explore.sweep import Axis, fi_curves, plan_sweep, run_sweep

xr = pytest.importorskip("xarray", reason="needs the cluster extra")


@pytest.fixture(scope="module")
def bursting():
    return gifcli.simulate("tonic_bursting")


@pytest.fixture(scope="module")
def sweep():
    return run_sweep(gifcli.resolve("M"), [Axis("a", [-0.01, 0.0, 0.005, 0.01]),
                                           Axis("A2", (-1.0, -0.6, -0.2))])


def test_a_result_is_short_in_repr_and_a_table_in_html(bursting):
    text = repr(bursting)
    assert text == "Result(tonic_bursting, method=exact, dt=0.1 ms, 500 ms, 24 spikes)"
    page = bursting._repr_html_()
    for shown in ("tonic_bursting", "exact", "0.1 ms", "24", "pass: 4 bursts", "0.345"):
        assert shown in page
    assert len(page) < 2000


def test_the_verdict_is_the_check_of_the_run_computed_once(bursting):
    from gifcli.analysis.checks import evaluate

    assert bursting.verdict is bursting.verdict
    assert bursting.verdict.margin.relative == evaluate(bursting).margin.relative
    assert gifcli.simulate(gifcli.resolve("M").replace(A2=-0.1)).verdict.passed is False


def test_html_escapes_what_it_shows(tmp_path):
    path = tmp_path / "odd.yaml"
    path.write_text("name: odd\ntitle: '<b>x</b> & y'\n"
                    "input:\n  - {amplitude: 1.5, duration: 50}\n")
    page = gifcli.simulate(str(path))._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in page and "<b>x</b>" not in page
    assert "no check" in page


def test_plot_is_the_figure_of_gif_run(bursting):
    from gifcli.plots import pattern_figure

    fig = bursting.plot()
    assert isinstance(fig, Figure)
    assert fig.get_label() == pattern_figure(bursting).get_label() == "M  Tonic bursting"
    assert len(fig.axes) >= 2


def test_a_run_as_a_dataset_holds_the_arrays_with_units(bursting):
    data = bursting.to_xarray()
    assert data.sizes == {"t": bursting.t.size, "spike": bursting.n_spikes}
    for name in ("V", "V_th", "I1", "I2", "I_ext"):
        np.testing.assert_array_equal(data[name].values, getattr(bursting, name))
    np.testing.assert_array_equal(data.spike_times.values, bursting.spike_times)
    assert data.t.attrs["units"] == "ms" and data.V.attrs["units"] == "mV"
    assert data.attrs["method"] == "exact" and data.attrs["dt_ms"] == 0.1


def test_a_sweep_is_short_in_repr_and_html(sweep):
    assert repr(sweep) == ("SweepResult(tonic_bursting, a[4] × A2[3] = 12 points, "
                           "method=exact, dt=2.43902 ms, 6 pass)")  # the coarsest grid
    page = sweep._repr_html_()
    assert "6 of 12 pass" in page and "-1 … -0.2" in page


def test_a_large_sweep_repr_stays_short():
    big = run_sweep(gifcli.resolve("A"), [Axis("input_scale", np.linspace(0.5, 2, 93))])
    assert len(repr(big)) < 150
    assert len(big._repr_html_()) < 1500


def test_the_grid_and_the_dataset_are_the_columns_reshaped(sweep):
    grid = sweep.to_xarray()
    assert dict(grid.sizes) == {"a": 4, "A2": 3}
    np.testing.assert_array_equal(grid.n_bursts.values, sweep.grid("n_bursts"))
    np.testing.assert_array_equal(sweep.grid("n_bursts").ravel(), sweep.columns["n_bursts"])
    np.testing.assert_array_equal(grid.check_passed.values, sweep.grid("check_passed"))
    i, j = 2, 1  # a = 0.005, A2 = -0.6: the preset itself
    point = gifcli.simulate("M", dt=sweep.dt)  # the sweep's own grid: equal to the bit
    assert grid.n_spikes.values[i, j] == point.n_spikes
    assert grid.check_margin.values[i, j] == point.verdict.margin.relative


def test_to_xarray_is_the_dataset_the_netcdf_file_and_the_store_hold(sweep, tmp_path):
    from gifcli.files import store

    ds = sweep.to_xarray("a command")
    from_file = xr.open_dataset(store.netcdf_bytes(sweep, sweep.plan, "a command"),
                                engine="h5netcdf")
    xr.testing.assert_identical(ds.load(), from_file.load())
    plan = plan_sweep(sweep.preset, sweep.axes, stored=True)
    store.run_into_store(plan, tmp_path / "s.zarr", "a command")
    stored = xr.open_zarr(tmp_path / "s.zarr").load()
    assert stored.attrs.pop("complete") is True
    xr.testing.assert_identical(ds, stored)


def test_a_sweep_built_by_hand_has_no_dataset(sweep):
    import dataclasses

    with pytest.raises(GifError, match="built by hand"):
        dataclasses.replace(sweep, plan=None).to_xarray()


@pytest.mark.parametrize("metric", ["rate_hz", "n_bursts", "isi_cv"])
def test_a_sweep_plots_any_metric(sweep, metric):
    fig = sweep.plot(metric)
    assert isinstance(fig, Figure) and len(fig.axes) >= 2


def test_a_bad_metric_is_one_sentence(sweep):
    with pytest.raises(GifError):
        sweep.plot("rate")


@pytest.mark.parametrize("values", [[-1.0, -0.6, -0.2], (-1.0, -0.6, -0.2),
                                    np.array([-1, -0.6, -0.2], dtype=np.float32), range(-1, 1)])
def test_an_axis_takes_any_sequence(values):
    axis = Axis("A2", values)
    assert axis.values.dtype == np.float64 and axis.values.ndim == 1
    np.testing.assert_allclose(axis.values, np.asarray(values, dtype=float), rtol=1e-7)


@pytest.mark.parametrize(("values", "words"), [
    ([], "empty"), ([1.0, math.nan], "finite"), (["x"], "sequence of numbers"),
    ([[1.0, 2.0]], "flat"), (None, "sequence of numbers")])
def test_a_bad_axis_is_one_sentence(values, words):
    with pytest.raises(PresetError, match=words):
        Axis("A2", values)


def test_sweeps_of_lists_and_arrays_agree():
    preset = gifcli.resolve("M")
    listed = run_sweep(preset, [Axis("A2", [-1.0, -0.6, -0.2])])
    arrayed = run_sweep(preset, [Axis("A2", np.array([-1.0, -0.6, -0.2]))])
    np.testing.assert_array_equal(listed.columns["n_spikes"], arrayed.columns["n_spikes"])


def test_an_fi_curve_plots_itself():
    curve, = fi_curves([gifcli.resolve("class_1_excitability")], 0.5, 1.5, 5, zoom=False)
    fig = curve.plot()
    assert isinstance(fig, Figure)
    assert "Class 1" in " ".join(t.get_text() for ax in fig.axes
                                 for t in ax.get_legend().get_texts() if ax.get_legend())


def test_figures_show_inline_in_ipython():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        fig = gifcli.simulate("A").plot()
        data, _ = shell.display_formatter.format(fig)
        assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        InteractiveShell.clear_instance()


# --- the explorer -------------------------------------------------------------------------

ipywidgets = pytest.importorskip("ipywidgets", reason="needs the notebook extra")


def test_the_explorer_builds_its_sliders_at_the_presets_values():
    explorer = gifcli.explorer("M")
    assert list(explorer.sliders) == ["a", "A1", "A2", "b", "input_scale"]
    assert explorer.values() == {"a": 0.005, "A1": 10.0, "A2": -0.6, "b": 0.01,
                                 "input_scale": 1.0}
    assert isinstance(explorer.widget, ipywidgets.VBox)
    for name, slider in explorer.sliders.items():
        assert slider.min <= slider.value <= slider.max, name
        assert not slider.continuous_update
    assert explorer.verdict.passed and "pass" in explorer.status.value
    assert isinstance(explorer.figure, Figure)


def test_moving_a_slider_redraws_with_the_new_verdict():
    explorer = gifcli.explorer("M")
    before = explorer.figure
    explorer.sliders["A2"].value = -0.1
    assert explorer.result.preset.params["A2"] == -0.1
    assert explorer.result.n_spikes == gifcli.simulate("M", A2=-0.1).n_spikes
    assert explorer.verdict.passed is False
    assert "fail" in explorer.status.value and "0 bursts" in explorer.status.value
    assert explorer.figure is not before
    explorer.sliders["A2"].value = -0.6
    assert explorer.verdict.passed


def test_the_explorer_takes_any_quantity_and_refuses_unknown_ones():
    explorer = gifcli.explorer("A", params=["tau", "initial.V_th"])
    explorer.sliders["initial.V_th"].value = -45.0
    assert explorer.result.preset.initial["V_th"] == -45.0
    with pytest.raises(PresetError, match="did you mean tau"):
        gifcli.explorer("A", params=["tau_m"])


def test_an_invalid_combination_shows_its_sentence_instead_of_a_figure():
    explorer = gifcli.explorer("A", params=["V_reset"])
    explorer.sliders["V_reset"].value = explorer.sliders["V_reset"].max  # above V_th_reset
    assert explorer.result is None and explorer.figure is None
    assert "V_reset" in explorer.status.value and "must be" in explorer.status.value


def test_gifcli_explore_stays_the_subpackage():
    import types

    assert isinstance(gifcli.explore, types.ModuleType)
    assert callable(gifcli.explorer)


@pytest.mark.parametrize("kind", [list, tuple, np.array])
def test_a_spike_target_takes_any_sequence(kind):
    from gifcli.explore.fit import SpikeTarget

    times = gifcli.simulate("A").spike_times
    target = SpikeTarget(kind(times.tolist()))
    assert target.times.dtype == np.float64
    np.testing.assert_array_equal(target.times, times)


@pytest.mark.parametrize(("times", "words"), [([], "no spike times"), ([3.0, 1.0], "sorted"),
                                              ([1.0, math.nan], "finite"),
                                              ("abc", "sequence of numbers")])
def test_a_bad_spike_target_is_one_sentence(times, words):
    from gifcli.explore.fit import SpikeTarget

    with pytest.raises(GifError, match=words):
        SpikeTarget(times)
