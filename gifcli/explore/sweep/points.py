"""The inputs of some grid points, and the batched kernel calls that simulate and judge them.

A batched call keeps the first :data:`RECORD` spike times of each point, so that its buffer
stays small; the few points that fire more run once more with room for all their spikes. Each
point's result depends on that point alone, so any cut of the grid gives the same bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from gifcli.analysis import checks
from gifcli.explore.sweep.axes import INITIAL_PARAMS, INPUT_SCALE, Axis
from gifcli.model.preset import Preset

RECORD = 128  # spike times kept per point in the first pass (W1 fires up to 89)
RERUN_BUDGET_BYTES = 64_000_000  # the spike buffer of a second pass


def _scaled(preset: Preset, scale: float) -> Preset:
    return replace(preset, segments=tuple((a * scale, d) for a, d in preset.segments))


def point_preset(preset: Preset, axes: Sequence[Axis], index: int) -> Preset:
    """The preset of one grid point, as a single run (``gif run --set ...``) would see it."""
    point = Points.of(preset, axes, np.array([index]))

    def value(v) -> float:
        return float(np.ravel(v)[0])

    return _scaled(replace(preset, params={k: value(v) for k, v in point.params.items()},
                           initial_given={k: value(v) for k, v in point.initial.items()}),
                   value(point.scale))


@dataclass(frozen=True, eq=False)
class Points:
    """The per-point inputs of some grid points: parameters, initial values (unset ones
    follow V_rest and V_th_inf, as in Preset) and the input scale, scalars where shared."""

    params: dict[str, float | np.ndarray]
    initial: dict[str, float | np.ndarray]
    scale: float | np.ndarray
    size: int

    @classmethod
    def of(cls, preset: Preset, axes: Sequence[Axis], index: np.ndarray) -> Points:
        params: dict = dict(preset.params)
        initial: dict = dict(preset.initial_given)
        scale: float | np.ndarray = 1.0
        for axis, k in zip(axes, np.unravel_index(index, [a.size for a in axes]), strict=True):
            values = np.ascontiguousarray(axis.values[k])
            if axis.param == INPUT_SCALE:
                scale = values
            elif axis.param in INITIAL_PARAMS:
                initial[axis.param.removeprefix("initial.")] = values
            else:
                params[axis.param] = values
        return cls(params, initial, scale, int(index.size))

    def subset(self, chosen: np.ndarray) -> Points:
        def pick(value):
            return value[chosen] if np.ndim(value) else value

        return Points({k: pick(v) for k, v in self.params.items()},
                      {k: pick(v) for k, v in self.initial.items()}, pick(self.scale),
                      int(chosen.size))

    def batch(self, grid, method: str, dt: float, record: int, progress=None,
              track_after: float | None = None):
        from gifcli.simulation import batch

        return batch.run_batch(self.params, grid, method=method, dt=dt, initial=self.initial,
                               input_scale=self.scale, record=record, progress=progress,
                               # exact's extrema come from the spike trains (judge)
                               track_after=None if method == "exact" else track_after)


def simulate(points: Points, grid, method: str, dt: float, v_after: float | None,
             trains_too: bool = True):
    """One batched call over the points (following V after ``v_after`` ms, if not None),
    and the full spike trains of all of them (None without ``trains_too``: the kernel's
    statistics need no spike buffer)."""
    from gifcli.analysis.features import SpikeTrains

    if not trains_too:
        return points.batch(grid, method, dt, 0, track_after=v_after), None
    result = points.batch(grid, method, dt, RECORD, track_after=v_after)
    trains = result.trains()
    over = np.flatnonzero((result.n_spikes > RECORD) & (result.status == 0))
    if over.size == 0:
        return result, trains
    # The points that fired more than RECORD times: once more, with room for all of it.
    parts, start = [trains], 0
    while start < over.size:
        width = int(result.n_spikes[over[start]])
        stop = start + 1
        while stop < over.size:
            wider = max(width, int(result.n_spikes[over[stop]]))
            if (stop + 1 - start) * wider * 8 > RERUN_BUDGET_BYTES:
                break
            width, stop = wider, stop + 1
        again = points.subset(over[start:stop]).batch(grid, method, dt, width)
        parts.append(again.trains())
        start = stop
    order = np.arange(points.size)
    order[over] = points.size + np.arange(over.size)
    return result, SpikeTrains.concatenate(parts).take(order)


def _chosen(points: Points, chosen: np.ndarray) -> tuple:
    part = points.subset(chosen)
    return part.params, part.initial, part.scale


def judge(preset: Preset, points: Points, result, trains, method: str, dt: float,
          name: str | None = None, fastest_rate: float | None = None):
    """Check ``name`` (default: the preset's) over some points
    (gifcli.analysis.checks.judge); V's extrema (see Check.v_after) are those of continuous
    time with ``exact`` (from the spike trains), else of the points' own batched call; the
    f–I probe and the controls run the points in batched calls, at the coarsest grid for
    ``fastest_rate`` if given (see gifcli.analysis.probe.Probe)."""
    from gifcli.analysis import probe

    amplitude = probe.probe_amplitude(preset.segments) * np.asarray(points.scale)
    prober = probe.Probe(points.params, points.initial, amplitude, points.size, method, dt,
                         points.scale, fastest_rate)
    ctx = checks.Context(
        trains, preset.segments, V_rest=points.params["V_rest"],
        extrema=lambda after, chosen: (
            checks.Extrema.of_spikes(*_chosen(points, chosen), preset.segments, trains, after,
                                     chosen) if method == "exact"
            else checks.Extrema(result.peak_mV, result.trough_mV)),
        onsets=lambda chosen: probe.onsets(prober.subset(chosen)),
        controls=lambda schedule, chosen: prober.subset(chosen).trains(schedule),
        passive_end=lambda schedule, chosen: prober.subset(chosen).passive_end(schedule))
    return checks.judge(name or preset.check, ctx)
