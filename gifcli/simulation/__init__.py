"""Simulating the neuron: the time grid of an input schedule, the three integrators' compiled
kernels, one neuron with its trace (:func:`simulate`), many neurons in one batched call
(:mod:`gifcli.simulation.batch`), and the :class:`~gifcli.simulation.result.Result` of a run.

The names of :mod:`gifcli.simulation.single` are served from here when first asked for, so
that importing ``gifcli.simulation.result`` or ``.grid`` (as the writers do) does not load
numba.
"""

__all__ = [
    "BYTES_PER_STEP",
    "MAX_SPIKES",
    "MAX_SPIKES_PER_STEP",
    "available_memory",
    "check_finite",
    "check_memory",
    "parameter_vector",
    "run_number",
    "simulate",
    "whole_number",
]


def __getattr__(name: str):
    if name in __all__:
        from gifcli.simulation import single

        return getattr(single, name)
    raise AttributeError(f"module 'gifcli.simulation' has no attribute {name!r}")
