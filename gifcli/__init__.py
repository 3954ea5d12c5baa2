"""gifcli: the 20 firing patterns of the Mihalaş–Niebur (2009) generalized integrate-and-fire
neuron, simulated exactly, checked, and explorable from the command line.

The Python API (no CLI needed)::

    from gifcli import resolve, simulate
    result = simulate(resolve("tonic_spiking"), method="exact")
    result.spike_times
"""

__version__ = "0.1.0"  # the one place it is written; pyproject.toml reads it from here

__all__ = ["__version__", "resolve", "simulate"]


def __getattr__(name: str):
    # Lazy, so that `gif --help` and `gif list` do not pay for numba.
    if name == "simulate":
        from gifcli.simulation import simulate

        return simulate
    if name == "resolve":
        from gifcli.preset import resolve

        return resolve
    raise AttributeError(name)
