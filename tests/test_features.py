"""Spike-train features against values computed by hand."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from gifcli.features import (
    BURST_MAX_ISI_MS,
    Burst,
    bursts,
    coefficient_of_variation,
    first_spike,
    isi_cv,
    isi_mean,
    isis,
    mean_rate_hz,
    segment_bounds,
    segment_window,
    spike_features,
    spike_runs,
    spikes_in,
)
from gifcli.preset import resolve
from gifcli.simulation import simulate

JSON_KEYS = ["rate_hz", "first_spike_ms", "isi_mean_ms", "isi_cv", "n_bursts"]


def test_empty_train_has_no_spike_features():
    f = spike_features([], 250.0)
    assert (f.n_spikes, f.rate_hz, f.first_spike_ms, f.isi_mean_ms, f.isi_cv, f.n_bursts) == (
        0, 0.0, None, None, None, 0)
    assert spike_runs([]) == [] and bursts([]) == []


def test_one_spike():
    f = spike_features([5.0], 50.0)
    assert f.rate_hz == 20.0  # 1 spike in 50 ms
    assert f.first_spike_ms == 5.0
    assert f.isi_mean_ms is None and f.isi_cv is None
    assert f.n_bursts == 0  # a lone spike is a run of 1, not a burst
    assert spike_runs([5.0]) == [Burst(0, 0)]


def test_two_spikes_have_a_mean_isi_but_no_cv():
    f = spike_features([10.0, 30.0], 200.0)
    assert f.rate_hz == 10.0
    assert f.isi_mean_ms == 20.0
    assert f.isi_cv is None  # one interval: nothing to vary


def test_regular_train():
    f = spike_features([10.0, 30.0, 50.0, 70.0], 100.0)
    assert f.rate_hz == 40.0
    assert f.first_spike_ms == 10.0
    assert f.isi_mean_ms == 20.0
    assert f.isi_cv == 0.0
    assert f.n_bursts == 0


def test_isi_cv_is_the_population_cv():
    # ISIs 10, 20, 30: mean 20, population variance (100 + 0 + 100) / 3
    assert isi_cv([0.0, 10.0, 30.0, 60.0]) == pytest.approx(math.sqrt(200 / 3) / 20, rel=1e-12)
    assert list(isis([0.0, 10.0, 30.0, 60.0])) == [10.0, 20.0, 30.0]
    assert isi_mean([0.0, 10.0, 30.0, 60.0]) == 20.0


def test_coefficient_of_variation_edge_cases():
    assert coefficient_of_variation([]) is None
    assert coefficient_of_variation([4.0]) is None
    assert coefficient_of_variation([0.0, 0.0]) is None  # zero mean
    assert coefficient_of_variation([1.0, 3.0]) == 0.5


def test_bursts_join_intervals_of_exactly_10_ms():
    assert BURST_MAX_ISI_MS == 10.0
    train = [0.0, 10.0, 20.0, 30.5, 100.0, 105.0]  # intervals 10, 10, 10.5, 69.5, 5
    assert spike_runs(train) == [Burst(0, 2), Burst(3, 3), Burst(4, 5)]
    assert bursts(train) == [Burst(0, 2), Burst(4, 5)]
    assert [b.size for b in bursts(train)] == [3, 2]
    assert bursts(train, min_size=3) == [Burst(0, 2)]
    assert spike_features(train, 200.0).n_bursts == 2


def test_an_interval_just_over_10_ms_splits_a_burst():
    assert bursts([0.0, 10.000001]) == []
    assert bursts([0.0, 10.0]) == [Burst(0, 1)]


def test_runs_partition_the_train():
    rng = np.random.default_rng(3)
    train = np.sort(rng.uniform(0, 500, size=60))
    runs = spike_runs(train)
    covered = [i for run in runs for i in range(run.first, run.last + 1)]
    assert covered == list(range(60))
    for run in runs:
        assert np.all(np.diff(train[run.first:run.last + 1]) <= 10.0)
    for left, right in zip(runs, runs[1:], strict=False):
        assert train[right.first] - train[left.last] > 10.0


def test_rate_is_over_the_whole_run():
    assert mean_rate_hz([1.0, 2.0, 3.0], 1000.0) == 3.0
    assert mean_rate_hz([1.0, 2.0, 3.0], 500.0) == 6.0
    with pytest.raises(ValueError, match="duration"):
        mean_rate_hz([], 0.0)


def test_segment_windows_count_from_one():
    segments = [(1.5, 20.0), (0.0, 180.0), (-1.5, 25.0)]
    assert segment_bounds(segments) == [(0.0, 20.0), (20.0, 200.0), (200.0, 225.0)]
    assert segment_window(segments, 1) == (0.0, 20.0)
    assert segment_window(segments, 3) == (200.0, 225.0)
    for missing in (0, 4):
        with pytest.raises(IndexError, match="3 segments"):
            segment_window(segments, missing)
    assert segment_bounds([]) == []


def test_windows_are_half_open():
    train = [0.0, 10.0, 20.0]
    assert list(spikes_in(train, 10.0, 20.0)) == [10.0]
    assert list(spikes_in(train, 0.0, 20.0 + 1e-12)) == [0.0, 10.0, 20.0]


def test_bad_spike_trains_are_rejected():
    with pytest.raises(ValueError, match="sorted"):
        first_spike([2.0, 1.0])
    with pytest.raises(ValueError, match="finite"):
        spike_features([1.0, math.nan], 10.0)
    with pytest.raises(ValueError, match="1-D"):
        spike_features([[1.0, 2.0]], 10.0)


def test_json_keys_and_nulls():
    f = spike_features([3.0], 10.0)
    assert list(f.as_json()) == JSON_KEYS
    assert json.loads(json.dumps(f.as_json())) == {
        "rate_hz": 100.0, "first_spike_ms": 3.0, "isi_mean_ms": None, "isi_cv": None,
        "n_bursts": 0}
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.rate_hz = 1.0  # type: ignore[misc]


def test_tonic_spiking_features_match_the_closed_form():
    # a = 0: V(t) = -70 + 30 (1 - exp(-t / 20)) reaches -50 at 20 ln 3, and every reset
    # starts the same climb again, so the train is k * 20 ln 3.
    period = 20.0 * math.log(3.0)
    result = simulate(resolve("tonic_spiking"), "exact", 0.1)
    f = spike_features(result.spike_times, result.duration)
    assert f.n_spikes == 9 and f.rate_hz == pytest.approx(45.0)
    assert f.first_spike_ms == pytest.approx(period, abs=1e-6)
    assert f.isi_mean_ms == pytest.approx(period, abs=1e-6)
    assert f.isi_cv < 1e-9
    assert f.n_bursts == 0
