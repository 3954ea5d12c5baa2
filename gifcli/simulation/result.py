"""What one simulation returns: the traces on the grid and the precise spike times."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
