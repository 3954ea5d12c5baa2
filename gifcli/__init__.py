"""gifcli: the 20 firing patterns of the Mihalaş–Niebur (2009) generalized integrate-and-fire
neuron, simulated exactly, checked, and explorable from the command line.

The Python API (no CLI needed)::

    from gifcli import resolve, simulate
    result = simulate("tonic_spiking")                 # a name, a letter or a YAML file
    result.spike_times                                 # ms, precise with the exact method
    simulate("tonic_bursting", A2=-0.3, dt=0.05)       # parameters changed, as --set does
    preset = resolve("M").replace(a=0.01, input_scale=1.2)

    from gifcli.simulation.batch import run_batch      # many neurons in one call
    batch = run_batch({"a": [0.0, 0.01, 0.02]}, preset.segments, dt=0.1)
    batch.n_spikes, batch.rate_hz
"""

__version__ = "0.1.0"  # the one place it is written; pyproject.toml reads it from here

from gifcli._former_paths import install as _keep_former_paths  # noqa: E402
from gifcli.core.numba_cache import choose_cache_dir  # noqa: E402  (before anything imports numba)

choose_cache_dir()
_keep_former_paths()

__all__ = ["__version__", "explorer", "resolve", "simulate"]


def __getattr__(name: str):
    # Lazy, so that `gif --help` and `gif list` do not pay for numba.
    if name == "simulate":
        from gifcli.simulation.single import simulate

        return simulate
    if name == "resolve":
        from gifcli.model.preset import resolve

        return resolve
    if name == "explorer":  # not `explore`: that is the subpackage of sweeps and fits
        from gifcli.notebook.explorer import explorer

        return explorer
    raise AttributeError(name)
