"""What one simulation returns: the traces on the grid and the precise spike times."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import numpy as np

from gifcli.core.extras import require_extra
from gifcli.core.html import html_table
from gifcli.model.preset import Preset


@dataclass(frozen=True, eq=False)
class Result:
    """One simulated neuron: the state at every grid point and the spike times.

    ``t`` (ms) is the grid t_k = k·dt, k = 0..n_steps; ``V`` and ``V_th`` (mV), ``I1``,
    ``I2`` and ``I_ext`` (input units; ``I_ext`` is the input of the step that starts at t_k)
    are on it, with the reset values shown after a spike. ``spike_times`` (ms) are the
    precise crossing times with ``exact``, grid times with the fixed-step methods. ``preset``
    is the preset as run, overrides included (``preset.overrides``); ``notes`` say what the
    user should know (a segment boundary moved to the grid, say).

    In a notebook: ``plot()`` draws it, ``to_xarray()`` labels it, ``verdict`` judges it, and
    it shows itself as a small table.
    """

    preset: Preset  # with any overrides applied
    method: str
    dt: float
    t: np.ndarray  # ms, t_k = k dt, k = 0..n_steps
    V: np.ndarray  # mV; after a spike, the reset value
    V_th: np.ndarray  # mV
    I1: np.ndarray
    I2: np.ndarray
    I_ext: np.ndarray  # the input during the step that starts at t_k
    spike_times: np.ndarray  # ms; precise crossing times with `exact`, grid times otherwise
    notes: tuple[str, ...] = ()  # what the user should know about this run (e.g. grid rounding)

    @property
    def n_spikes(self) -> int:
        """How many spikes the run fired."""
        return int(self.spike_times.size)

    @property
    def duration(self) -> float:
        """The simulated time, ms."""
        return float(self.t[-1])

    @functools.cached_property
    def verdict(self):
        """The preset's check on this run (a ``Verdict``), or None when it names none;
        computed once, on first use."""
        from gifcli.analysis.checks import evaluate  # a climb: see pyproject's importlinter

        return evaluate(self)

    def __repr__(self) -> str:
        return (f"Result({self.preset.name}, method={self.method}, dt={self.dt:g} ms, "
                f"{self.duration:g} ms, {self.n_spikes} spikes)")

    def _repr_html_(self) -> str:
        verdict = self.verdict
        margin = verdict.margin.relative if verdict and verdict.margin else None
        rows = [("preset", self.preset.name), ("method", self.method),
                ("dt", f"{self.dt:g} ms"), ("duration", f"{self.duration:g} ms"),
                ("spikes", str(self.n_spikes)),
                ("verdict", "no check" if verdict is None else
                 f"{'pass' if verdict.passed else 'fail'}: {verdict.reason}"),
                ("margin", "—" if margin is None else f"{margin:.3g}")]
        if self.preset.overrides:
            rows.insert(1, ("overrides", ", ".join(f"{k}={v:g}"
                                                   for k, v in self.preset.overrides.items())))
        return html_table(f"gifcli Result: {self.preset.title}", rows)

    def plot(self):
        """The figure ``gif run`` draws: V, V_th and the spikes over the input as applied
        (a matplotlib Figure; a notebook shows it inline)."""
        from gifcli.plots.inline import inline  # climbs: see pyproject's importlinter
        from gifcli.plots.pattern import pattern_figure

        return inline(pattern_figure(self))

    def to_xarray(self):
        """The run as an xarray Dataset: ``V``, ``V_th``, ``I1``, ``I2`` and ``I_ext`` over
        the time coordinate ``t`` (ms), ``spike_times`` over ``spike``, each with its unit;
        the preset, method, dt, overrides and notes as attributes (needs the ``cluster``
        extra, which installs xarray)."""
        require_extra("Result.to_xarray()", "cluster", ["xarray"])
        import xarray as xr

        trace = {"V": ("mV", "membrane potential"), "V_th": ("mV", "threshold"),
                 "I1": ("input", "spike-induced current I1"),
                 "I2": ("input", "spike-induced current I2"),
                 "I_ext": ("input", "input during the step that starts at t (I_e/C, V/s)")}
        data = {name: ("t", getattr(self, name), {"units": unit, "long_name": meaning})
                for name, (unit, meaning) in trace.items()}
        data["spike_times"] = ("spike", self.spike_times,
                               {"units": "ms", "long_name": "spike times"})
        coords = {"t": ("t", self.t, {"units": "ms", "long_name": "time"})}
        attrs = {"preset": self.preset.name, "source": self.preset.source,
                 "method": self.method, "dt_ms": self.dt, "duration_ms": self.duration,
                 "overrides": json.dumps(self.preset.overrides), "notes": "\n".join(self.notes)}
        return xr.Dataset(data, coords=coords, attrs=attrs)
