"""Features of a spike train: count, rate, first spike, ISIs, bursts, and segment windows.

Plain numpy on precise spike times (ms, sorted). Every function says what it returns when
there are too few spikes for the feature to exist: ``None``, never NaN.

Definitions (shared/spec/patterns.md):

- the *mean rate* is the spike count over the whole run, in Hz (spikes per second);
- an *ISI* is the interval between two successive spikes;
- the *ISI CV* is the population standard deviation of the ISIs over their mean
  (``numpy.std`` with ``ddof=0``). It needs at least two ISIs (three spikes): with one
  interval there is no variation to measure, so it is ``None`` rather than 0;
- a *run* is a maximal sequence of spikes whose successive intervals are all ≤ 10 ms
  (:data:`BURST_MAX_ISI_MS`); every spike belongs to exactly one run, and a lone spike is a
  run of 1. A *burst* is a run of at least 2 spikes: a lone spike is **not** a burst, and
  ``n_bursts`` counts only runs of ≥ 2 spikes;
- segment ``i`` (counting from 1) of a schedule of ``(amplitude, duration)`` pairs spans
  the half-open window ``[start, end)``, the starts being the sums of the earlier durations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

BURST_MAX_ISI_MS = 10.0  # successive intervals ≤ this (ms) join spikes into one run


class Burst(NamedTuple):
    """A run of spikes: indices of its first and last spike in the train (both inclusive)."""

    first: int
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class Features:
    """The summary features of one run; ``None`` where a feature is undefined."""

    n_spikes: int
    duration_ms: float
    rate_hz: float
    first_spike_ms: float | None  # None without spikes
    isi_mean_ms: float | None  # None with fewer than 2 spikes
    isi_cv: float | None  # None with fewer than 3 spikes (2 ISIs)
    n_bursts: int  # runs of ≥ 2 spikes with successive intervals ≤ 10 ms

    def as_json(self) -> dict[str, float | int | None]:
        """The ``features`` object of the JSON summary (shared/spec/cli.md); None -> null."""
        return {
            "rate_hz": self.rate_hz,
            "first_spike_ms": self.first_spike_ms,
            "isi_mean_ms": self.isi_mean_ms,
            "isi_cv": self.isi_cv,
            "n_bursts": self.n_bursts,
        }


def as_spike_array(spike_times: Sequence[float] | np.ndarray) -> np.ndarray:
    """The spike times as a 1-D float64 array; raises ValueError unless finite and sorted."""
    spikes = np.asarray(spike_times, dtype=np.float64)
    if spikes.ndim != 1:
        raise ValueError(f"spike times must be a 1-D sequence, got shape {spikes.shape}")
    if not np.all(np.isfinite(spikes)):
        raise ValueError("spike times must be finite")
    if spikes.size > 1 and np.any(np.diff(spikes) < 0):
        raise ValueError("spike times must be sorted in increasing order")
    return spikes


def spike_count(spike_times) -> int:
    return int(as_spike_array(spike_times).size)


def mean_rate_hz(spike_times, duration_ms: float) -> float:
    """Spikes per second over the whole run of ``duration_ms`` (> 0) ms."""
    if not duration_ms > 0:
        raise ValueError(f"duration must be > 0 ms, got {duration_ms}")
    return 1000.0 * spike_count(spike_times) / duration_ms


def first_spike(spike_times) -> float | None:
    """The time of the first spike (ms), or None without spikes."""
    spikes = as_spike_array(spike_times)
    return float(spikes[0]) if spikes.size else None


def isis(spike_times) -> np.ndarray:
    """The inter-spike intervals (ms); empty with fewer than 2 spikes."""
    return np.diff(as_spike_array(spike_times))


def isi_mean(spike_times) -> float | None:
    """The mean ISI (ms), or None with fewer than 2 spikes."""
    intervals = isis(spike_times)
    return float(intervals.mean()) if intervals.size else None


def coefficient_of_variation(values) -> float | None:
    """Population std over mean of ``values``; None with fewer than 2 values or a zero mean."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return None
    mean = float(values.mean())
    if mean == 0.0:
        return None
    return float(values.std()) / mean


def isi_cv(spike_times) -> float | None:
    """The ISI coefficient of variation, or None with fewer than 3 spikes (2 ISIs)."""
    return coefficient_of_variation(isis(spike_times))


def spike_runs(spike_times, max_isi_ms: float = BURST_MAX_ISI_MS) -> list[Burst]:
    """Every maximal run of spikes with successive intervals ≤ ``max_isi_ms``, lone ones too.

    The runs partition the train, in order: ``[Burst(0, 2), Burst(3, 3), ...]``.
    """
    spikes = as_spike_array(spike_times)
    if spikes.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(spikes) > max_isi_ms)  # a run ends at each such index
    firsts = np.concatenate(([0], breaks + 1))
    lasts = np.concatenate((breaks, [spikes.size - 1]))
    return [Burst(int(f), int(la)) for f, la in zip(firsts, lasts, strict=True)]


def bursts(spike_times, max_isi_ms: float = BURST_MAX_ISI_MS, min_size: int = 2) -> list[Burst]:
    """The runs of at least ``min_size`` spikes (default 2: a lone spike is not a burst)."""
    return [run for run in spike_runs(spike_times, max_isi_ms) if run.size >= min_size]


def segment_bounds(segments: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """``(start, end)`` in ms of every segment of ``(amplitude, duration)`` pairs, in order."""
    if not segments:
        return []
    ends = np.cumsum([float(duration) for _, duration in segments])
    starts = np.concatenate(([0.0], ends[:-1]))
    return [(float(s), float(e)) for s, e in zip(starts, ends, strict=True)]


def segment_window(segments: Sequence[tuple[float, float]], i: int) -> tuple[float, float]:
    """``(start, end)`` in ms of segment ``i``, counting from 1; IndexError if there is none."""
    if not 1 <= i <= len(segments):
        raise IndexError(f"segment {i} does not exist: the input has {len(segments)} segments")
    return segment_bounds(segments)[i - 1]


def spikes_in(spike_times, lo: float, hi: float) -> np.ndarray:
    """The spikes in the half-open window ``[lo, hi)``."""
    spikes = as_spike_array(spike_times)
    return spikes[(spikes >= lo) & (spikes < hi)]


def spike_features(spike_times, duration_ms: float) -> Features:
    """All summary features of a run of ``duration_ms`` ms that fired at ``spike_times``."""
    spikes = as_spike_array(spike_times)
    return Features(
        n_spikes=int(spikes.size),
        duration_ms=float(duration_ms),
        rate_hz=mean_rate_hz(spikes, duration_ms),
        first_spike_ms=first_spike(spikes),
        isi_mean_ms=isi_mean(spikes),
        isi_cv=isi_cv(spikes),
        n_bursts=len(bursts(spikes)),
    )
