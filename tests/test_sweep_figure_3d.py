"""The 3-D sweep figure: the preset's star only where the third axis holds its value, the
input's units on A1 and A2 (V/s only where R = tau), and a rate scale that shows 0–100 Hz
beside 1,000 Hz."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import SymLogNorm

from gifcli.explore import sweep
from gifcli.model.preset import resolve
from gifcli.plots import sweep as sweep_plots


@pytest.fixture(scope="module")
def figure():
    axes = [sweep.Axis("a", np.array([-0.01, 0.0, 0.005, 0.01])),
            sweep.Axis("A1", np.array([0.0, 10.0, 20.0])),
            sweep.Axis("A2", np.array([-1.0, -0.6, -0.2]))]
    return sweep_plots.sweep_figure(sweep.run_sweep(resolve("tonic_bursting"), axes, "exact",
                                                    0.1))


def stars(ax) -> int:
    return sum(line.get_marker() == "*" for line in ax.get_lines())


def test_the_star_is_drawn_only_on_the_panels_of_the_presets_own_A2(figure):
    panels = [ax for ax in figure.axes if ax.get_title(loc="left").startswith("A2 = ")]
    assert len(panels) == 6  # rate and check for each of the 3 values
    marked = {ax.get_title(loc="left") for ax in panels if stars(ax)}
    assert marked == {"A2 = -0.6  (the preset's)"}
    assert all(stars(ax) == 1 for ax in panels if ax.get_title(loc="left") in marked)


def test_A1_is_labelled_with_the_inputs_unit(figure):
    labels = {ax.get_ylabel() for ax in figure.axes if ax.get_ylabel()}
    assert "A1 (input units)" in labels
    assert not any("(input)" in label for label in labels)
    assert sweep_plots.axis_label("initial.I1") == "initial.I1 (input units)"


def test_a_rate_up_to_1000_hz_gets_a_scale_that_shows_the_low_rates():
    rates = np.array([0.0, 3.0, 40.0, 80.0, 1400.0])
    _, norm, ticks = sweep_plots._metric_colours("rate_hz", rates)
    assert isinstance(norm, SymLogNorm)
    # 0–100 Hz spans over half of the colours, not a fourteenth
    assert norm(100.0) > 0.5 and norm(10.0) > 0.2
    assert list(ticks) == [0, 10, 30, 100, 300, 1000]
    _, linear, none = sweep_plots._metric_colours("rate_hz", np.array([0.0, 50.0, 120.0]))
    assert not isinstance(linear, SymLogNorm) and none is None


def test_the_stores_units_name_the_inputs_unit():
    from gifcli.explore.sweep import dataset

    assert dataset.UNITS["A1"] == dataset.UNITS["initial.I2"] == "input units"
    assert "input" not in dataset.UNITS.values()
