"""Compile the kernels, or load them from Numba's cache, before the real work starts.

The first command after an install compiles (:data:`COMPILE_CPU_S`); later ones load the
compiled code in well under a second. Running tiny workloads through the same code paths
first lets the command line say "compiling..." while that happens, before its progress bar
starts, and lets ``make demo`` leave every kernel compiled (``python -m gifcli.cli.warmup``),
sweeps and the f–I probe included. Each workload takes milliseconds once compiled.
"""

from __future__ import annotations

import numpy as np

from gifcli.model.parameters import DEFAULTS, METHODS
from gifcli.model.preset import Preset, resolve

#: Two segments whose boundary (20.05 ms) falls between grid points at dt = 0.1: the exact
#: method's split step is compiled too.
TINY = Preset(name="warm_up", title="warm-up", segments=((1.5, 20.05), (0.0, 9.95)),
              params=dict(DEFAULTS), source="<warm-up>")
SWEPT = ("tonic_spiking", "class_1_excitability", "afterpotentials", "tonic_bursting")
#: CPU seconds each warm-up takes with an empty cache, rounded up (bench/startup.py --cold;
#: docs/performance.md): what the compile notice promises, and more on a busy machine.
COMPILE_CPU_S = {"warm_single_runs": 30, "warm_batches": 80}


def warm_single_runs() -> None:
    """What ``gif run``, ``gallery`` and ``check`` compile: the trace kernel, the checks'
    loops and the CSV writer."""
    from gifcli import files
    from gifcli.analysis.checks import evaluate
    from gifcli.analysis.features import spike_features
    from gifcli.simulation.single import simulate

    for method in METHODS:
        result = simulate(TINY, method, 0.1)
        evaluate(result)
        spike_features(result.spike_times, result.duration)
        files.csv_bytes(result)


def warm_batches() -> None:
    """What ``gif sweep`` and ``gif fi`` compile: the batched kernel (with spike times), V's
    continuous extrema for afterpotentials, the batched checks, the f–I probe, the table
    writer."""
    from gifcli.explore import sweep
    from gifcli.files.table import table_csv_bytes

    axis = sweep.Axis("a", np.array([0.0, 0.01]))
    for name in SWEPT:
        sweep.run_sweep(resolve(name), [axis], "exact", 1.0)
    table_csv_bytes([("a", axis.values), ("n", np.array([1, 2])),
                     ("ok", np.array([True, False]))])
    sweep.fi_curves([resolve("class_1_excitability")], 0.5, 1.5, 3, "exact", 1.0)


def warm_everything() -> None:
    """Every kernel of every command: what ``make demo`` runs."""
    from gifcli.explore import fit

    warm_single_runs()
    warm_batches()
    fit.warm_up()


if __name__ == "__main__":
    warm_everything()
