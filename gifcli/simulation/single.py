"""simulate(): a preset in, a Result out. The one entry point for single runs."""

from __future__ import annotations

import os

import numpy as np

from gifcli.core import interrupts
from gifcli.core.arguments import choice
from gifcli.core.arguments import count as whole_number  # the names other modules import
from gifcli.core.arguments import number as run_number
from gifcli.core.errors import SimulationError
from gifcli.model.parameters import METHODS, PARAMETER_NAMES, STATE_NAMES
from gifcli.model.preset import (
    DEFAULT_MAX_STEPS,
    Preset,
    check_run_size,
    effective_dt,
    resolve,
    validate_preset,
)
from gifcli.simulation import kernel
from gifcli.simulation.grid import build_grid
from gifcli.simulation.result import Result

MAX_SPIKES = 1_000_000  # per run: bounds memory when extreme parameters fire without end
MAX_SPIKES_PER_STEP = 1_000  # with `exact`, one step may hold several spikes, but not without end
#: Memory per grid step of a single run: the trace (10 float64 columns while it is copied into
#: a Result), its CSV text and what drawing it takes, measured at about 150 bytes.
BYTES_PER_STEP = 200


def parameter_vector(params: dict[str, float]) -> np.ndarray:
    return np.array([params[name] for name in PARAMETER_NAMES], dtype=np.float64)


def simulate(preset: Preset | str | os.PathLike, method: str = "exact",
             dt: float | None = None, max_steps: int = DEFAULT_MAX_STEPS, *,
             initial: dict[str, float] | None = None, **overrides: float) -> Result:
    """Simulate one neuron and return its trace and spike times.

    ``preset``: a :class:`~gifcli.model.preset.Preset`, or a name (``"tonic_spiking"``), a letter
    (``"A"``) or a YAML file, as on the command line. ``method``: ``exact`` (precise spike
    times), ``euler`` or ``exp-euler``. ``dt`` (ms) defaults to the preset's, else 0.1.

    Keywords change the preset first, as ``--set`` does: model parameters (``a=0.01``),
    ``input_scale=2`` (every input amplitude times 2) and ``initial={"V_th": -45}``::

        simulate("tonic_bursting", A2=-0.3, dt=0.05)

    Raises GifError (PresetError) with the command line's sentence on bad input, and
    SimulationError if the run fires more than the tool's spike limits allow.
    """
    if not isinstance(preset, Preset):
        preset = resolve(preset)
    if overrides or initial is not None:
        preset = preset.replace(initial=initial, **overrides)
    preset = validate_preset(preset)
    method = choice(method, "method", METHODS)
    dt = effective_dt(preset, run_number(dt, "dt"))
    check_run_size(preset, dt, whole_number(max_steps, "max_steps", minimum=1))
    check_memory(preset, dt)
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


def check_memory(preset: Preset, dt: float) -> None:
    """Refuse, before allocating anything, a run whose trace would not fit in the memory
    that is free now (a --max-steps raised far above its default)."""
    needed = (preset.duration / dt + 1) * BYTES_PER_STEP
    free = available_memory()
    if free is not None and needed > free:
        raise SimulationError(
            f"{preset.source}: {preset.duration:g} ms at dt = {dt:g} ms needs about "
            f"{needed / 1e9:.1f} GB of memory for its trace, and {free / 1e9:.1f} GB are "
            "free; use a larger dt or a shorter input"
        )


def available_memory() -> int | None:
    """Bytes of memory free for a new allocation (Linux: MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


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
