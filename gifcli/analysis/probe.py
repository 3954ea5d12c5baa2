"""The f–I probe: where sustained firing begins, and the rate it begins at.

The probe of a preset replaces its schedule by one constant step of amplitude s · A (A: the
amplitude of largest magnitude in the schedule), :data:`PROBE_MS` long, from the preset's
initial state. The *steady-state rate* at s is the number of spikes in the last
:data:`STEADY_MS` of the step over that time: bursts and transients average correctly (a
neuron that fires bursts counts all their spikes, one that stops firing has rate 0), which
1000 / (the last interval) does not. The *onset* s* is the smallest s in (0, 2] with a
non-zero rate, found by bisection to a relative :data:`ONSET_TOLERANCE` (assuming one
onset); the *onset rate* is the rate at s* · (1 + ONSET_TOLERANCE), and the rate *above the
onset* that at s* · (1 + :data:`ABOVE`), 100 times farther from it. Class 1 neurons (Hodgkin
1948) start at an arbitrarily low rate, so their rate just above the onset is a small part of
the rate a little above it; class 2 neurons jump to a rate that hardly changes there.

Every function probes N points at once, each with its own parameters, initial state and
amplitude, in batched kernel calls (one per bisection step), so that one run and a sweep
point of the same parameters find the same onset to the bit.

With ``exact`` and a ``fastest_rate``, the runs that read only spikes (the rates and the
controls) step at the coarsest grid that fits their schedule for rates up to it
(gifcli.simulation.grid.coarsest_dt): their spikes do not depend on dt, and a silent point
near the onset costs a tenth of the steps. The passive response reads V, on the grid of dt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from gifcli.analysis.features import SpikeTrains
from gifcli.analysis.spike_grid import spike_dt
from gifcli.simulation.batch import OK, run_batch
from gifcli.simulation.extrema import v_extrema
from gifcli.simulation.grid import build_grid, fitted_dt

PROBE_MS = 2000.0
STEADY_MS = 1000.0  # the steady-state rate counts the spikes of the step's last second
MAX_SCALE = 2.0
ONSET_TOLERANCE = 1e-4
ABOVE = 1e-2  # "a little above the onset": s* · (1 + ABOVE)
RECORD = 128  # spike times kept per point in a control's first call

Values = Mapping[str, float | np.ndarray]


def probe_amplitude(segments: Sequence[tuple[float, float]]) -> float:
    """A: the amplitude of largest magnitude in the schedule (the first such one)."""
    amplitudes = [a for a, _ in segments]
    return max(amplitudes, key=abs)


@dataclass(frozen=True)
class Probe:
    """The points to probe: parameters and initial values (scalars or one per point, as
    :func:`gifcli.simulation.batch.run_batch` takes them), each point's amplitude A and the
    scale of its own schedule (``input_scale``, which a control run keeps). With
    ``fastest_rate`` (1/ms, at least that of every point; ``exact`` only), the spike-reading
    runs step at the coarsest grid of their schedule; without it, at ``dt``."""

    params: Values
    initial: Values
    amplitude: float | np.ndarray
    size: int
    method: str = "exact"
    dt: float = 0.1
    input_scale: float | np.ndarray = 1.0
    fastest_rate: float | None = None

    def spike_dt(self, segments: Sequence[tuple[float, float]]) -> float:
        """The dt of a run of ``segments`` that reads only spikes."""
        return spike_dt(segments, self.fastest_rate if self.method == "exact" else None,
                        self.dt)

    @property
    def steady_dt(self) -> float:
        """The dt of the rate runs: a grid of both PROBE_MS and PROBE_MS − STEADY_MS (the
        latter, a whole number of its steps, divides the former: 2000 = 2 × 1000)."""
        return self.spike_dt([(1.0, PROBE_MS - STEADY_MS)])

    def subset(self, points: np.ndarray) -> Probe:
        def one(value):
            return value[points] if np.ndim(value) else value

        def pick(values: Values) -> dict:
            return {k: one(v) for k, v in values.items()}

        return Probe(pick(self.params), pick(self.initial), one(self.amplitude),
                     int(points.size), self.method, self.dt, one(self.input_scale),
                     self.fastest_rate)

    def trains(self, segments: Sequence[tuple[float, float]]) -> SpikeTrains:
        """Every point's spike train under ``segments`` (a control's schedule), at the
        point's own input scale: one batched call, and one more for the points that fire
        more than :data:`RECORD` times."""
        dt = self.spike_dt(segments)
        grid = build_grid(list(segments), dt, exact=self.method == "exact")

        def batch(probe: Probe, record: int):
            return run_batch(probe.params, grid, method=probe.method, dt=dt,
                             initial=probe.initial, input_scale=probe.input_scale,
                             record=record)

        result = batch(self, RECORD)
        trains = result.trains()
        over = np.flatnonzero((result.n_spikes > RECORD) & (result.status == OK))
        if over.size:
            again = batch(self.subset(over), int(result.n_spikes[over].max())).trains()
            order = np.arange(self.size)
            order[over] = self.size + np.arange(over.size)
            trains = SpikeTrains.concatenate([trains, again]).take(order)
        return trains

    def passive_end(self, segments: Sequence[tuple[float, float]]) -> np.ndarray:
        """V of every point at the end of ``segments`` with the spike-triggered currents
        switched off (A1 = A2 = 0): the passive response, in one batched call. The grid is
        that of any schedule that begins with ``segments``, so this is V at that time in the
        longer control run too. With ``exact``, V at the end is the closed form's from the
        control's spike trains (gifcli.simulation.extrema), on a grid that ends there (a dt
        that does not fit ``segments`` would stop at the grid point before: it is shortened
        until it does), whatever dt."""
        passive = replace(self, params=dict(self.params) | {"A1": 0.0, "A2": 0.0})
        if self.method == "exact":
            trains = replace(passive, dt=fitted_dt(segments, self.dt)).trains(segments)
            return v_extrema(passive.params, segments, trains.times, trains.offsets,
                             trains.end, trains.end, initial=self.initial,
                             input_scale=self.input_scale)[0]
        grid = build_grid(list(segments), self.dt, exact=False)
        return run_batch(passive.params, grid, method=self.method, dt=self.dt,
                         initial=self.initial, input_scale=self.input_scale,
                         track_after=grid.n_steps * self.dt).peak_mV

    def rates(self, scale: np.ndarray) -> np.ndarray:
        """The steady-state rate (Hz) of every point at its own s = ``scale``."""
        # The spikes of the last STEADY_MS: those of the whole step less those of a step
        # that stops there (the same grid up to that time), with no spike buffer.
        dt = self.steady_dt
        whole, early = (run_batch(self.params, build_grid([(1.0, ms)], dt,
                                                          exact=self.method == "exact"),
                                  method=self.method, dt=dt, initial=self.initial,
                                  input_scale=scale * self.amplitude)
                        for ms in (PROBE_MS, PROBE_MS - STEADY_MS))
        rate = (whole.n_spikes - early.n_spikes) * (1000.0 / STEADY_MS)
        return np.where(whole.status == OK, rate, np.inf)  # fired without end: not silent


@dataclass(frozen=True)
class Onsets:
    """Per point: s* (NaN where nothing in (0, 2] fires), the onset rate and the rate a
    little above the onset (Hz, at s* · (1 + ONSET_TOLERANCE) and s* · (1 + ABOVE); NaN too)."""

    scale: np.ndarray
    rate: np.ndarray
    rate_above: np.ndarray


def onsets(probe: Probe) -> Onsets:
    """The onset of sustained firing of every point of ``probe`` (bisection, all at once)."""
    n = probe.size
    scale, rate, rate_above = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    fires = probe.rates(np.full(n, MAX_SCALE)) > 0
    points = np.flatnonzero(fires)
    lo, hi = np.zeros(points.size), np.full(points.size, MAX_SCALE)
    open_ = hi - lo > ONSET_TOLERANCE * hi
    while open_.any():
        part = probe.subset(points[open_])
        mid = (lo[open_] + hi[open_]) / 2.0
        firing = part.rates(mid) > 0
        hi[open_] = np.where(firing, mid, hi[open_])
        lo[open_] = np.where(firing, lo[open_], mid)
        open_ = hi - lo > ONSET_TOLERANCE * hi
    scale[points] = hi
    if points.size:  # both rates in one batched call: each point twice
        twice = probe.subset(np.concatenate([points, points]))
        both = twice.rates(np.concatenate([hi * (1.0 + ONSET_TOLERANCE), hi * (1.0 + ABOVE)]))
        rate[points], rate_above[points] = both[:points.size], both[points.size:]
    return Onsets(scale, rate, rate_above)
