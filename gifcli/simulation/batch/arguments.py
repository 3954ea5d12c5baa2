"""run_batch's arguments, checked before anything is allocated: each wrong type, shape, name
or size is a GifError with one sentence (docs/api.md, Errors), never a NumPy error from
deep inside, and never silently ignored (a misspelt initial state would start every neuron
at rest)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gifcli.core.arguments import ArgumentError, choice, count, known_names, number, shown
from gifcli.model.parameters import METHODS, STATE_NAMES
from gifcli.simulation.single import available_memory

#: Memory per neuron besides its recorded spikes: the statistics, the state, the propagators
#: and the sort keys, about 40 float64 values (an estimate from the arrays run_batch makes).
BYTES_PER_NEURON = 320


def checked_options(method: Any, dt: Any, record: Any, max_spikes: Any, max_per_step: Any,
                    block: Any) -> tuple[str, float, int, int, int, int]:
    """(method, dt, record, max_spikes, max_per_step, block), each of the right kind."""
    method = choice(method, "method", METHODS)
    dt = number(dt, "dt")
    if not (dt is not None and math.isfinite(dt) and dt > 0):
        raise ArgumentError(f"dt must be a finite number of ms > 0, got {shown(dt)}")
    max_spikes = count(max_spikes, "max_spikes", 1)
    record = count(record, "record", 0)
    if record > max_spikes:
        raise ArgumentError(f"record ({record:,}) must be at most max_spikes ({max_spikes:,}): "
                            "no neuron runs on past that many spikes")
    return (method, dt, record, max_spikes, count(max_per_step, "max_per_step", 1),
            count(block, "block", 1))


def floats(value: Any, name: str) -> np.ndarray:
    """A scalar or a sequence of real numbers (per neuron) as a float64 array."""
    if isinstance(value, str | bytes) or value is None or np.iscomplexobj(value):
        raise ArgumentError(f"{name} must be a number or an array of numbers, got "
                            f"{type(value).__name__} {shown(value)}")
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ArgumentError(f"{name} must be a number or an array of numbers, got "
                            f"{type(value).__name__} {shown(value)}") from None


def checked_initial(initial: Any) -> dict[str, np.ndarray] | np.ndarray:
    """A mapping of known state names to values, or a (4,) / (N, 4) array."""
    if isinstance(initial, np.ndarray | list | tuple):
        array = np.atleast_2d(floats(initial, "initial"))
        if array.ndim != 2 or array.shape[1] != len(STATE_NAMES):
            raise ArgumentError(f"initial states must have shape (4,) or (N, 4) in the order "
                                f"{', '.join(STATE_NAMES)}, got {np.shape(initial)}")
        return np.ascontiguousarray(array)
    given = known_names(initial, "initial", STATE_NAMES, "initial state")
    return {name: floats(value, f"initial {name}") for name, value in given.items()}


def check_size(n_neurons: int, record: int) -> None:
    """At least one neuron, and what the results need fits in the memory free now."""
    if n_neurons < 1:
        raise ArgumentError("the batch has no neurons: every per-neuron array is empty")
    needed = n_neurons * (record * 8 + BYTES_PER_NEURON)
    free = available_memory()
    if free is not None and needed > free:
        raise ArgumentError(f"{n_neurons:,} neurons with record={record:,} need about "
                            f"{needed / 1e9:.1f} GB of memory, and {free / 1e9:.1f} GB are "
                            "free; record fewer spikes or run fewer neurons at a time")
