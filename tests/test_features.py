"""Spike-train features against values computed by hand."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from gifcli.analysis.features import (
    BURST_MAX_ISI_MS,
    BURST_MIN_PAUSE_MS,
    SpikeTrains,
    as_spike_array,
    bursts,
    coefficient_of_variation,
    segment_bounds,
    segment_window,
    spike_features,
)
from gifcli.model.preset import resolve
from gifcli.simulation.single import simulate

JSON_KEYS = ["rate_hz", "first_spike_ms", "isi_mean_ms", "isi_cv", "n_bursts"]


def test_empty_train_has_no_spike_features():
    f = spike_features([], 250.0)
    assert (f.n_spikes, f.rate_hz, f.first_spike_ms, f.isi_mean_ms, f.isi_cv, f.n_bursts) == (
        0, 0.0, None, None, None, 0)
    assert bursts([], 250.0) == []


def test_one_spike():
    f = spike_features([5.0], 50.0)
    assert f.rate_hz == 20.0  # 1 spike in 50 ms
    assert f.first_spike_ms == 5.0
    assert f.isi_mean_ms is None and f.isi_cv is None
    assert f.n_bursts == 0  # a lone spike is a run of 1, not a burst


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
    f = spike_features([0.0, 10.0, 30.0, 60.0], 100.0)
    assert f.isi_cv == pytest.approx(math.sqrt(200 / 3) / 20, rel=1e-12)
    assert f.isi_mean_ms == 20.0


def test_coefficient_of_variation_edge_cases():
    assert coefficient_of_variation([]) is None
    assert coefficient_of_variation([4.0]) is None
    assert coefficient_of_variation([0.0, 0.0]) is None  # zero mean
    assert coefficient_of_variation([1.0, 3.0]) == 0.5


def test_a_burst_is_a_run_that_ends_in_a_pause():
    assert (BURST_MAX_ISI_MS, BURST_MIN_PAUSE_MS) == (10.0, 15.0)
    # intervals 3, 3, 40, 5: runs [0-2] and [3-4], each followed by a pause
    train = [0.0, 3.0, 6.0, 46.0, 51.0]
    assert bursts(train, 200.0) == [(0, 2), (3, 4)]
    assert spike_features(train, 200.0).n_bursts == 2
    # the last run needs 15 ms of silence before the end of the run
    assert bursts(train, 66.0) == [(0, 2), (3, 4)]
    assert bursts(train, 65.9) == [(0, 2)]
    # intervals of exactly 10 ms join a run; the 10.5 ms after it is no pause
    assert bursts([0.0, 10.0, 20.0, 30.5, 100.0], 200.0) == []
    assert bursts([0.0, 10.0, 20.0, 50.0, 100.0], 200.0) == [(0, 2)]


def test_the_pause_is_three_times_the_longest_interval_when_that_is_longer():
    # a run with 8 ms intervals needs 24 ms of silence after it
    assert bursts([0.0, 8.0, 16.0, 39.9], 100.0) == []
    assert bursts([0.0, 8.0, 16.0, 40.0], 100.0) == [(0, 2)]
    # 4 ms intervals: the 15 ms floor
    assert bursts([0.0, 4.0, 18.9], 100.0) == []
    assert bursts([0.0, 4.0, 19.0], 100.0) == [(0, 1)]


def test_tonic_firing_to_the_end_is_no_burst():
    fast = list(np.arange(20.0, 500.0, 4.3))  # 233 Hz up to the end of the step
    assert bursts(fast, 500.0) == []
    assert spike_features(fast, 500.0).n_bursts == 0
    assert bursts([0.0, 10.000001], 100.0) == []  # an interval just over 10 ms: no run


def test_runs_separated_by_a_short_gap_are_not_bursts():
    # 12 ms between runs: each run breaks off, but not into a pause
    train = [0.0, 3.0, 15.0, 18.0, 30.0, 33.0]
    assert bursts(train, 100.0) == [(4, 5)]


def test_trains_side_by_side_give_what_each_gives_alone():
    rng = np.random.default_rng(7)
    singles = []
    for n in (0, 1, 2, 3, 9, 40, 0, 5, 120):
        gaps = np.where(rng.random(n) < 0.5, rng.uniform(1, 9, n), rng.uniform(11, 60, n))
        singles.append(np.cumsum(gaps))
    end = max(float(t[-1]) for t in singles if t.size) + 5.0
    together = SpikeTrains.concatenate([SpikeTrains.single(t, end) for t in singles])
    features = together.features()
    for i, train in enumerate(singles):
        alone = SpikeTrains.single(train, end)
        for name, values in alone.features().items():
            np.testing.assert_array_equal(features[name][i:i + 1], values, err_msg=name)
        assert together.bursts.runs_of(together, i) == alone.bursts.runs_of(alone, 0)
        for t in (0.0, 30.0, 100.0):
            np.testing.assert_array_equal(together.nth_from(t, 2)[i:i + 1],
                                          alone.nth_from(t, 2))
            np.testing.assert_array_equal(together.last_before(t)[i:i + 1],
                                          alone.last_before(t))
    picked = together.take(np.array([8, 0, 3]))
    assert [picked.train(k).tolist() for k in range(3)] == [singles[8].tolist(), [],
                                                            singles[3].tolist()]


def test_rows_of_a_buffer_become_trains():
    rows = np.array([[1.0, 2.0, np.nan], [np.nan] * 3, [5.0, 6.0, 7.0]])
    trains = SpikeTrains.from_rows(rows, np.array([2, 0, 3]), 10.0)
    assert trains.times.tolist() == [1.0, 2.0, 5.0, 6.0, 7.0]
    assert trains.counts.tolist() == [2, 0, 3]
    assert trains.count_in(2.0, 6.0).tolist() == [1, 0, 1]  # half-open


def test_segment_windows_count_from_one():
    segments = [(1.5, 20.0), (0.0, 180.0), (-1.5, 25.0)]
    assert segment_bounds(segments) == [(0.0, 20.0), (20.0, 200.0), (200.0, 225.0)]
    assert segment_window(segments, 1) == (0.0, 20.0)
    assert segment_window(segments, 3) == (200.0, 225.0)
    for missing in (0, 4):
        with pytest.raises(IndexError, match="3 segments"):
            segment_window(segments, missing)
    assert segment_bounds([]) == []


def test_bad_spike_trains_are_rejected():
    with pytest.raises(ValueError, match="sorted"):
        as_spike_array([2.0, 1.0])
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
