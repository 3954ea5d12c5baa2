"""Features of spike trains: count, rate, first spike, ISIs, bursts, and segment windows.

One implementation serves one run and a whole batch: :class:`SpikeTrains` holds N trains of
one schedule side by side (point ``i`` fired at ``times[offsets[i]:offsets[i + 1]]``), and
every feature is computed for all N at once, with no Python loop over the points. A single
run is a batch of one, so a sweep point and ``gif run`` of the same parameters get the same
numbers to the bit.

Definitions (Mihalaş & Niebur 2009 read as in docs/patterns.md):

- the *mean rate* is the spike count over the whole run, in Hz;
- an *ISI* is the interval between two successive spikes; the *ISI CV* is the population
  standard deviation of the ISIs over their mean. It needs two ISIs (three spikes), else it
  is undefined (``None`` for one run, NaN in arrays), never 0;
- a *run* is a maximal sequence of spikes whose successive intervals are all ≤ 10 ms
  (:data:`BURST_MAX_ISI_MS`); every spike belongs to one run, a lone spike to a run of 1;
- a *burst* is a run of ≥ 2 spikes **that ends in a pause**: the next spike, or the end of
  the simulated time, comes at least max(15 ms, 3 × the run's longest interval) after its
  last spike. Fast firing that never pauses (200 Hz to the end of a step) is sustained
  firing, not a burst. A burst belongs to the window in which its first spike falls;
- segment ``i`` (counting from 1) of a schedule of ``(amplitude, duration)`` pairs spans the
  half-open window ``[start, end)``, the starts being the sums of the earlier durations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from gifcli.core.arguments import ArgumentError, number, positive, shown
from gifcli.core.errors import GifError
from gifcli.model.bursts import (  # noqa: F401  (features.BURST_* as before)
    BURST_MAX_ISI_MS,
    BURST_MIN_PAUSE_MS,
    BURST_PAUSE_FACTOR,
)


@dataclass(frozen=True)
class Features:
    """The summary features of one run; ``None`` where a feature is undefined."""

    n_spikes: int
    duration_ms: float
    rate_hz: float
    first_spike_ms: float | None  # None without spikes
    isi_mean_ms: float | None  # None with fewer than 2 spikes
    isi_cv: float | None  # None with fewer than 3 spikes (2 ISIs)
    n_bursts: int  # runs of ≥ 2 spikes with intervals ≤ 10 ms that end in a pause

    def as_json(self) -> dict[str, float | int | None]:
        """The ``features`` object of the JSON summary; None -> null."""
        return {
            "rate_hz": self.rate_hz,
            "first_spike_ms": self.first_spike_ms,
            "isi_mean_ms": self.isi_mean_ms,
            "isi_cv": self.isi_cv,
            "n_bursts": self.n_bursts,
        }


def as_spike_array(spike_times: Sequence[float] | np.ndarray, name: str = "spike times"
                   ) -> np.ndarray:
    """The spike times as a 1-D float64 array; ArgumentError (a GifError and a ValueError)
    unless finite and sorted."""
    spikes = _finite_times(spike_times, name)
    if spikes.size > 1 and np.any(np.diff(spikes) < 0):
        raise ArgumentError(f"{name} must be sorted in increasing order")
    return spikes


def _finite_times(values, name: str) -> np.ndarray:
    try:
        times = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ArgumentError(f"{name} must be a sequence of numbers (ms), got "
                            f"{type(values).__name__} {shown(values)}") from None
    if times.ndim != 1:
        raise ArgumentError(f"{name} must be a 1-D sequence, got shape {times.shape}")
    if not np.all(np.isfinite(times)):
        raise ArgumentError(f"{name} must be finite")
    return times


def _checked_offsets(offsets, n_times: int) -> np.ndarray:
    """Offsets that cut ``n_times`` spike times into trains: 0, ..., n_times, never falling."""
    array = np.asarray(offsets) if isinstance(offsets, np.ndarray | list | tuple) else None
    if array is None or array.ndim != 1 or array.size == 0 or array.dtype.kind not in "iu":
        raise ArgumentError(f"offsets must be a 1-D sequence of whole numbers, got "
                            f"{shown(offsets)}")
    if array[0] != 0 or array[-1] != n_times:
        raise ArgumentError(f"offsets must start at 0 and end at the number of spike times "
                            f"({n_times}), got {int(array[0])} and {int(array[-1])}")
    if np.any(np.diff(array) < 0):
        raise ArgumentError("offsets must never decrease: train i is "
                            "times[offsets[i]:offsets[i + 1]]")
    return np.ascontiguousarray(array, dtype=np.int64)


def _loop(name: str, *args):
    """Run the compiled loop ``gifcli.analysis.spike_loops.<name>`` with signals held while it runs
    (gifcli.core.interrupts). Imported when first needed: a check's description is read by
    commands that must start without numba."""
    from gifcli.analysis import spike_loops
    from gifcli.core import interrupts

    return interrupts.compiled_call(getattr(spike_loops, name), *args)


def _undefined(values: np.ndarray, index: int) -> float | None:
    value = float(values[index])
    return None if np.isnan(value) else value


class SpikeTrains:
    """N spike trains of one run length: point ``i`` fired at ``times[offsets[i]:offsets[i+1]]``.

    ``end`` (ms) is the simulated time, where a burst's closing pause may end. Every
    statistic is computed for all points at once, by compiled loops over the points (one
    pass over the spikes each), so that judging a sweep costs about what simulating it did.
    """

    def __init__(self, times: np.ndarray, offsets: np.ndarray, end: float):
        times = _finite_times(times, "spike times")
        offsets = _checked_offsets(offsets, times.size)
        falls = np.diff(times) < 0
        falls[offsets[(offsets > 0) & (offsets < times.size)] - 1] = False  # a new train
        if np.any(falls):
            raise ArgumentError("spike times must be sorted in increasing order within "
                                "each train")
        self._set(times, offsets, positive(end, "end", "ms"))

    def _set(self, times: np.ndarray, offsets: np.ndarray, end: float) -> None:
        self.times = np.ascontiguousarray(times, dtype=np.float64)
        self.offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        self.end = float(end)

    @classmethod
    def _built(cls, times: np.ndarray, offsets: np.ndarray, end: float) -> SpikeTrains:
        """Trains built here from valid ones: not checked again (a sweep's can be long)."""
        trains = cls.__new__(cls)
        trains._set(times, offsets, end)
        return trains

    @classmethod
    def single(cls, spike_times, end: float) -> SpikeTrains:
        spikes = as_spike_array(spike_times)
        return cls._built(spikes, np.array([0, spikes.size]), positive(end, "end", "ms"))

    @classmethod
    def from_rows(cls, rows: np.ndarray, counts: np.ndarray, end: float) -> SpikeTrains:
        """From an (N, width) buffer whose row i holds point i's first counts[i] spikes."""
        counts = np.minimum(np.asarray(counts, dtype=np.int64), rows.shape[1])
        offsets = np.concatenate(([0], np.cumsum(counts)))
        times = np.empty(int(offsets[-1]))
        _loop("gather_rows", rows, offsets, times)
        return cls._built(times, offsets, end)

    @classmethod
    def concatenate(cls, parts: Sequence[SpikeTrains]) -> SpikeTrains:
        """The trains of ``parts``, one after the other (all of one run length)."""
        sizes = np.concatenate([np.diff(p.offsets) for p in parts])
        return cls._built(np.concatenate([p.times for p in parts]),
                          np.concatenate(([0], np.cumsum(sizes))), parts[0].end)

    def take(self, points: np.ndarray) -> SpikeTrains:
        """The trains of ``points`` (indices), in that order."""
        points = np.asarray(points, dtype=np.int64)
        counts = self.counts[points]
        offsets = np.concatenate(([0], np.cumsum(counts)))
        spikes = np.repeat(self.offsets[points] - offsets[:-1], counts)
        return SpikeTrains._built(self.times[spikes + np.arange(offsets[-1])], offsets,
                                  self.end)

    def __len__(self) -> int:
        return self.offsets.size - 1

    def train(self, i: int) -> np.ndarray:
        return self.times[self.offsets[i]:self.offsets[i + 1]]

    # --- per point: counts and times ----------------------------------------------------------

    @cached_property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    @cached_property
    def n_isis(self) -> np.ndarray:
        return np.maximum(self.counts - 1, 0)

    def count_before(self, t: float | np.ndarray) -> np.ndarray:
        """Per point, how many spikes come before ``t`` (a scalar or one time per point)."""
        bounds = np.broadcast_to(np.asarray(t, dtype=np.float64), (len(self),))
        return _loop("count_before", self.times, self.offsets, np.ascontiguousarray(bounds))

    def count_in(self, lo: float, hi: float) -> np.ndarray:
        """Per point, the number of spikes in [lo, hi)."""
        return self.count_before(hi) - self.count_before(lo)

    def at(self, index: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """times[index] where ``valid``, NaN elsewhere."""
        if not self.times.size:
            return np.full(index.shape, np.nan)
        return np.where(valid, self.times[np.where(valid, index, 0)], np.nan)

    def nth_from(self, lo: float, n: int) -> np.ndarray:
        """Per point, its n-th spike (n ≥ 1) at or after ``lo``; NaN if it has fewer."""
        index = self.offsets[:-1] + self.count_before(lo) + (n - 1)
        return self.at(index, index < self.offsets[1:])

    def last_before(self, t: float) -> np.ndarray:
        """Per point, its last spike before ``t``; NaN if none."""
        index = self.offsets[:-1] + self.count_before(t) - 1
        return self.at(index, index >= self.offsets[:-1])

    def first(self) -> np.ndarray:
        return self.at(self.offsets[:-1], self.counts > 0)

    def last(self) -> np.ndarray:
        return self.at(self.offsets[1:] - 1, self.counts > 0)

    # --- per point: ISIs -----------------------------------------------------------------------

    def isi_at(self, k: int) -> np.ndarray:
        """Per point, its k-th ISI from the start (k ≥ 0) or from the end (k < 0); NaN if none."""
        later = self.offsets[:-1] + k + 1 if k >= 0 else self.offsets[1:] + k
        valid = self.n_isis >= (k + 1 if k >= 0 else -k)
        return self.at(later, valid) - self.at(later - 1, valid)

    def tail_isis(self, last: int) -> np.ndarray:
        """(N, last): each point's last ``last`` ISIs in order; NaN rows with fewer."""
        return np.stack([self.isi_at(k) for k in range(-last, 0)], axis=1) * np.where(
            self.n_isis >= last, 1.0, np.nan)[:, None]

    @cached_property
    def _isi_moments(self) -> tuple[np.ndarray, np.ndarray]:
        return _loop("isi_moments", self.times, self.offsets)

    @property
    def isi_mean(self) -> np.ndarray:
        """Per point, the mean ISI (ms); NaN with fewer than 2 spikes."""
        return self._isi_moments[0]

    @property
    def isi_cv(self) -> np.ndarray:
        """Per point, the ISI CV (population std over mean); NaN with fewer than 2 ISIs.

        The mean and the squared deviations are accumulated spike by spike (Welford), as the
        batched kernel does, so both give the same numbers to the bit.
        """
        mean, m2 = self._isi_moments
        with np.errstate(invalid="ignore", divide="ignore"):
            cv = np.sqrt(m2 / self.n_isis) / mean
        return np.where((self.n_isis >= 2) & (mean != 0), cv, np.nan)

    def least_isi_step(self) -> np.ndarray:
        """Per point, the least change from one ISI to the next; NaN with fewer than 2 ISIs."""
        return _loop("least_isi_step", self.times, self.offsets)

    def isi_jump(self) -> tuple[np.ndarray, np.ndarray]:
        """Per point, the largest ratio of an ISI to the longest ISI before it, and that ISI's
        index (from 0): where a fast discharge ends; NaN and -1 with fewer than 2 ISIs."""
        return _loop("isi_jump", self.times, self.offsets)

    # --- runs and bursts -----------------------------------------------------------------------

    @cached_property
    def bursts(self) -> Bursts:
        return Bursts.of(self)

    def features(self) -> dict[str, np.ndarray]:
        """Per point: n_spikes, rate_hz, first_spike_ms, isi_mean_ms, isi_cv, n_bursts."""
        return {
            "n_spikes": self.counts,
            "rate_hz": 1000.0 * self.counts / self.end,
            "first_spike_ms": self.first(),
            "isi_mean_ms": self.isi_mean,
            "isi_cv": self.isi_cv,
            "n_bursts": self.bursts.starts.counts,
        }

    def features_of(self, i: int) -> Features:
        """The features of point ``i`` as one run's :class:`Features`."""
        f = self.features()
        return Features(
            n_spikes=int(f["n_spikes"][i]), duration_ms=self.end, rate_hz=float(f["rate_hz"][i]),
            first_spike_ms=_undefined(f["first_spike_ms"], i),
            isi_mean_ms=_undefined(f["isi_mean_ms"], i), isi_cv=_undefined(f["isi_cv"], i),
            n_bursts=int(f["n_bursts"][i]))


@dataclass(frozen=True, eq=False)
class Bursts:
    """The bursts of N trains: ``starts`` (their first spikes' times, as SpikeTrains, so that
    the window functions count them), and per burst its size and its first and last spike
    (indices into the trains' ``times``); per spike, whether it belongs to a burst."""

    starts: SpikeTrains
    size: np.ndarray
    first: np.ndarray
    last: np.ndarray
    in_burst: np.ndarray  # bool per spike

    @classmethod
    def of(cls, trains: SpikeTrains) -> Bursts:
        first, last, counts, in_burst = _loop("bursts", trains.times, trains.offsets,
                                              trains.end, BURST_MAX_ISI_MS,
                                              BURST_MIN_PAUSE_MS, BURST_PAUSE_FACTOR)
        starts = SpikeTrains._built(trains.times[first],
                                    np.concatenate(([0], np.cumsum(counts))), trains.end)
        return cls(starts, last - first + 1, first, last, in_burst)

    def runs_of(self, trains: SpikeTrains, i: int) -> list[tuple[int, int]]:
        """Point i's bursts as (first, last) spike indices within its own train."""
        lo, hi = self.starts.offsets[i], self.starts.offsets[i + 1]
        base = trains.offsets[i]
        return [(int(f - base), int(la - base)) for f, la in
                zip(self.first[lo:hi], self.last[lo:hi], strict=True)]

    def in_window(self, trains: SpikeTrains, lo: float, hi: float
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Per point: how many of its spikes in [lo, hi) belong to a burst, and the shortest
        interval that ends at or starts from one of them (inf without one)."""
        return _loop("bursting_in", trains.times, trains.offsets, self.in_burst, lo, hi)


# --- one train ----------------------------------------------------------------------------------


def coefficient_of_variation(values) -> float | None:
    """Population std over mean of ``values``; None with fewer than 2 values or a zero mean."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return None
    mean = float(values.mean())
    if mean == 0.0:
        return None
    return float(values.std()) / mean


def spike_features(spike_times, duration_ms: float) -> Features:
    """All summary features of a run of ``duration_ms`` ms that fired at ``spike_times``."""
    return SpikeTrains.single(spike_times, positive(duration_ms, "duration_ms", "ms")
                              ).features_of(0)


def bursts(spike_times, end_ms: float) -> list[tuple[int, int]]:
    """The bursts of one train in a run of ``end_ms`` ms, as (first, last) spike indices."""
    trains = SpikeTrains.single(spike_times, positive(end_ms, "end_ms", "ms"))
    return trains.bursts.runs_of(trains, 0)


def segment_bounds(segments: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """``(start, end)`` in ms of every segment of ``(amplitude, duration)`` pairs, in order."""
    if not segments:
        return []
    ends = np.cumsum([float(duration) for _, duration in segments])
    starts = np.concatenate(([0.0], ends[:-1]))
    return [(float(s), float(e)) for s, e in zip(starts, ends, strict=True)]


class NoSegment(GifError, IndexError):
    """A segment number the input does not have: a GifError, and an IndexError as it was."""


def segment_window(segments: Sequence[tuple[float, float]], i: int) -> tuple[float, float]:
    """``(start, end)`` in ms of segment ``i``, counting from 1; NoSegment (an IndexError)
    if there is none."""
    try:
        durations = [number(duration, "a duration") for _amplitude, duration in segments]
    except (TypeError, ValueError):
        durations = [np.nan]
    if not all(d is not None and 0 <= d < np.inf for d in durations):
        raise ArgumentError("segments must be (amplitude, duration ms) pairs, such as "
                            f"[(1.5, 200.0)], got {shown(segments)}")
    if not isinstance(i, int | np.integer) or isinstance(i, bool | np.bool_):
        raise ArgumentError(f"i must be a whole number (a segment, counting from 1), got "
                            f"{shown(i)}")
    if not 1 <= i <= len(durations):
        raise NoSegment(f"segment {i} does not exist: the input has {len(durations)} segments")
    ends = np.cumsum(durations)  # as segment_bounds sums them, to the bit
    return (float(ends[i - 2]) if i > 1 else 0.0), float(ends[i - 1])
