"""The compiled loops behind ``features.SpikeTrains``: one pass over each point's spikes.

The trains are flat: point ``i`` fired at ``times[offsets[i]:offsets[i + 1]]``, sorted.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def gather_rows(rows, offsets, times):
    for i in range(offsets.size - 1):
        for k in range(offsets[i + 1] - offsets[i]):
            times[offsets[i] + k] = rows[i, k]


@njit(cache=True)
def count_before(times, offsets, bounds):
    out = np.empty(offsets.size - 1, dtype=np.int64)
    for i in range(out.size):
        lo, hi = offsets[i], offsets[i + 1]
        out[i] = np.searchsorted(times[lo:hi], bounds[i], side="left")
    return out


@njit(cache=True)
def isi_moments(times, offsets):
    """Per point, the ISIs' mean and sum of squared deviations, in the batch's arithmetic
    (``spike_pass._record``)."""
    n = offsets.size - 1
    mean, m2 = np.full(n, np.nan), np.zeros(n)
    for i in range(n):
        mu, acc = 0.0, 0.0
        for k in range(offsets[i] + 1, offsets[i + 1]):
            isi = times[k] - times[k - 1]
            delta = isi - mu
            mu += delta / (k - offsets[i])
            acc += delta * (isi - mu)
        if offsets[i + 1] - offsets[i] >= 2:
            mean[i], m2[i] = mu, acc
    return mean, m2


@njit(cache=True)
def least_isi_step(times, offsets):
    n = offsets.size - 1
    out = np.full(n, np.nan)
    for i in range(n):
        for k in range(offsets[i] + 2, offsets[i + 1]):
            step = (times[k] - times[k - 1]) - (times[k - 1] - times[k - 2])
            if not step >= out[i]:  # NaN at first
                out[i] = step
    return out


@njit(cache=True)
def bursts(times, offsets, end, max_isi, min_pause, pause_factor):
    """Each point's runs (intervals ≤ max_isi) that end in a pause: (first, last) spike index
    of each burst, the number of bursts per point, and per spike whether it is in one."""
    n = offsets.size - 1
    first = np.empty(times.size, dtype=np.int64)
    last = np.empty(times.size, dtype=np.int64)
    counts = np.zeros(n, dtype=np.int64)
    in_burst = np.zeros(times.size, dtype=np.bool_)
    found = 0
    for i in range(n):
        lo, hi = offsets[i], offsets[i + 1]
        start, longest = lo, 0.0
        for k in range(lo, hi):
            closing = k + 1 == hi or not times[k + 1] - times[k] <= max_isi
            if not closing:
                longest = max(longest, times[k + 1] - times[k])
                continue
            pause = (end if k + 1 == hi else times[k + 1]) - times[k]
            if k > start and pause >= max(min_pause, pause_factor * longest):
                first[found], last[found] = start, k
                in_burst[start:k + 1] = True
                counts[i] += 1
                found += 1
            start, longest = k + 1, 0.0
    return first[:found].copy(), last[:found].copy(), counts, in_burst


@njit(cache=True)
def bursting_in(times, offsets, in_burst, lo_t, hi_t):
    n = offsets.size - 1
    bursting = np.zeros(n, dtype=np.int64)
    shortest = np.full(n, np.inf)
    for i in range(n):
        lo, hi = offsets[i], offsets[i + 1]
        for k in range(lo, hi):
            if not lo_t <= times[k] < hi_t:
                continue
            bursting[i] += in_burst[k]
            if k > lo:
                shortest[i] = min(shortest[i], times[k] - times[k - 1])
            if k + 1 < hi:
                shortest[i] = min(shortest[i], times[k + 1] - times[k])
    return bursting, shortest


@njit(cache=True)
def isi_jump(times, offsets):
    """Per point, the largest ratio of an ISI to the longest ISI before it, and the ISI's
    index (from 0); NaN and -1 with fewer than 2 ISIs."""
    n = offsets.size - 1
    ratio, index = np.full(n, np.nan), np.full(n, -1, dtype=np.int64)
    for i in range(n):
        longest = 0.0
        for k in range(offsets[i] + 1, offsets[i + 1]):
            isi = times[k] - times[k - 1]
            if k > offsets[i] + 1 and longest > 0.0 and not isi / longest <= ratio[i]:
                ratio[i], index[i] = isi / longest, k - offsets[i] - 1
            longest = max(longest, isi)
    return ratio, index
