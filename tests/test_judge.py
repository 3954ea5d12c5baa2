"""One check engine: a sweep judges every point as `gif run` judges that point alone.

For each of the 20 checks, a grid of random parameter sets around the preset's own, which
holds points that pass, near-misses and impostors (a current removed, no threshold
adaptation, a scaled input): each point's verdict and margin from the batched path equal, to
the bit, those of simulate() and checks.evaluate() on the point's own preset.
"""

from __future__ import annotations

import numpy as np
import pytest

from gifcli.analysis import checks
from gifcli.explore import sweep
from gifcli.model.preset import shipped_presets
from gifcli.simulation.single import simulate

PRESETS = {preset.name: preset for preset in shipped_presets()}


def random_axes(name: str, seed: int) -> list[sweep.Axis]:
    """input_scale and one other quantity, each with the preset's own value, an impostor's
    (0.6 × the input; a current or the threshold adaptation removed, or added) and random
    values near the preset's."""
    rng = np.random.default_rng(seed)
    preset = PRESETS[name]
    own = {"a": preset.params["a"], "A1": preset.params["A1"], "A2": preset.params["A2"],
           "input_scale": 1.0}
    added = {"a": 0.005, "A1": 10.0, "A2": -0.6, "input_scale": 0.6}
    spread = {"a": 0.004, "A1": 4.0, "A2": 0.3, "input_scale": 0.15}
    other = rng.choice(["a", "A1", "A2"])
    axes = []
    for param, n in (("input_scale", 4), (str(other), 3)):
        impostor = added[param] if own[param] == 0 or param == "input_scale" else 0.0
        values = own[param] + spread[param] * rng.uniform(-1, 1, n - 2)
        axes.append(sweep.Axis(param, np.unique([own[param], impostor, *values])))  # sorted
    return axes


def own_point(preset, axes: list[sweep.Axis]) -> int:
    """The grid index of the preset's own values."""
    where = [int(np.flatnonzero(axis.values == sweep.own_value(preset, axis.param))[0])
             for axis in axes]
    return int(np.ravel_multi_index(where, [axis.size for axis in axes]))


@pytest.mark.parametrize("method", ["exact", "euler"])
@pytest.mark.parametrize("name", list(PRESETS))
def test_batched_verdicts_and_margins_equal_single_runs(name, method):
    preset = PRESETS[name]
    axes = random_axes(name, seed=sum(map(ord, name + method)))
    # on the single runs' grid: a coarse grid against it is tests/test_coarse_grid.py's
    result = sweep.run_sweep(preset, axes, method=method, dt=preset.dt)
    for i in range(result.size):
        verdict = checks.evaluate(simulate(sweep.point_preset(preset, axes, i), method))
        margin = np.nan if verdict.margin is None else verdict.margin.relative
        assert result.passed[i] == verdict.passed, (i, verdict.reason)
        assert result.margin[i] == margin or (np.isnan(margin) and np.isnan(result.margin[i])), (
            i, verdict.reason, margin, result.margin[i])
    assert result.passed[own_point(preset, axes)]  # the preset's own point
    assert not result.passed.all()  # and some of the others fail


def test_a_batch_judges_each_point_as_it_judges_it_alone():
    """checks.judge over trains side by side equals judge over each train alone."""
    from gifcli.analysis.features import SpikeTrains

    rng = np.random.default_rng(11)
    segments = PRESETS["tonic_bursting"].segments
    trains = [np.sort(rng.uniform(0, 500, rng.integers(0, 40))) for _ in range(50)]
    trains += [np.concatenate([t0 + np.arange(4) * 3.0 for t0 in (20, 140, 260, 380)])]
    together = SpikeTrains.concatenate([SpikeTrains.single(t, 500.0) for t in trains])
    for name in ("tonic_bursting", "phasic_bursting", "mixed_mode", "tonic_spiking",
                 "spike_frequency_adaptation", "hyperpolarization_induced_spiking"):
        # each point's control run: its own train again
        many = checks.judge(name, checks.Context(
            together, segments, controls=lambda _schedule, points: together.take(points)))
        for i, train in enumerate(trains):
            alone = checks.check_spikes(name, train, segments, end_ms=500.0,
                                        controls=lambda _s, _p, i=i: together.take([i]))
            assert many.verdict(i) == alone
            assert many.passed[i] == alone.passed
    assert checks.judge("tonic_bursting", checks.Context(together, segments)).passed[-1]
