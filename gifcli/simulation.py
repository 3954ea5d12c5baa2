"""simulate(): a preset in, a Result out. The one entry point for single runs."""

from __future__ import annotations

import numpy as np

from gifcli import interrupts, kernel
from gifcli.errors import SimulationError
from gifcli.model import METHODS, PARAMETER_NAMES, STATE_NAMES
from gifcli.preset import DEFAULT_MAX_STEPS, Preset, check_run_size, effective_dt
from gifcli.result import Result
from gifcli.schedule import build_grid

MAX_SPIKES = 1_000_000  # per run: bounds memory when extreme parameters fire without end
MAX_SPIKES_PER_STEP = 1_000  # with `exact`, one step may hold several spikes, but not without end


def parameter_vector(params: dict[str, float]) -> np.ndarray:
    return np.array([params[name] for name in PARAMETER_NAMES], dtype=np.float64)


def simulate(preset: Preset, method: str = "exact", dt: float | None = None,
             max_steps: int = DEFAULT_MAX_STEPS) -> Result:
    """Simulate ``preset`` with ``method`` (``exact``, ``euler`` or ``exp-euler``).

    ``dt`` (ms) defaults to the preset's, else 0.1. Raises GifError on bad input, and
    SimulationError if the run fires more than the tool's spike limits allow.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    dt = effective_dt(preset, dt)
    check_run_size(preset, dt, max_steps)
    grid = build_grid(list(preset.segments), dt, exact=method == "exact")
    initial = np.array([preset.initial[name] for name in STATE_NAMES], dtype=np.float64)
    states, inputs, spikes, status = interrupts.compiled_call(
        kernel.simulate_trace, parameter_vector(preset.params), initial, grid.amplitudes,
        grid.boundary_step, grid.boundary_offset, grid.n_steps, dt,
        kernel.METHOD_CODES[method], MAX_SPIKES, MAX_SPIKES_PER_STEP, interrupts.stop_flag(),
    )
    interrupts.raise_if_cut_short(status == kernel.INTERRUPTED)
    if status != kernel.OK:
        raise SimulationError(
            f"{preset.source}: the neuron fired more than {MAX_SPIKES:,} times, or more than "
            f"{MAX_SPIKES_PER_STEP:,} times in one {dt:g} ms step, within the first "
            f"{states.shape[0] * dt:g} ms; the parameters make it fire without end"
        )
    check_finite(states, dt, preset.source)
    return Result(
        preset=preset, method=method, dt=dt,
        t=np.arange(grid.n_steps + 1) * dt,
        I1=states[:, 0].copy(), I2=states[:, 1].copy(),
        V=states[:, 2].copy(), V_th=states[:, 3].copy(),
        I_ext=inputs, spike_times=spikes.copy(), notes=grid.notes,
    )


def check_finite(states: np.ndarray, dt: float, source: str) -> None:
    """Refuse a trace that overflowed, rather than hand out infinities and NaNs."""
    finite = np.isfinite(states).all(axis=1)
    if not finite.all():
        k = int(np.argmin(finite))
        raise SimulationError(
            f"{source}: the state overflowed to inf or NaN at t = {k * dt:g} ms; the "
            "parameters, the initial state or dt make the integration unstable (forward Euler "
            "needs dt < 2 / rate for each of k1, k2, 1/tau and b)"
        )
