"""The import paths of the flat layout (gifcli 0.1), kept working for users' code and notebooks.

``import gifcli.checks`` gives the module ``gifcli.analysis.checks`` itself, not a copy, so a
monkeypatch or an ``isinstance`` through either name sees the same objects. The packages that
kept their old names (``gifcli.model``, ``gifcli.simulation``, ``gifcli.files``,
``gifcli.plots``) re-export what those modules held.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

FORMER_PATHS = {
    "gifcli.errors": "gifcli.core.errors",
    "gifcli.numbers": "gifcli.core.numbers",
    "gifcli.interrupts": "gifcli.core.interrupts",
    "gifcli.numba_cache": "gifcli.core.numba_cache",
    "gifcli.preset": "gifcli.model.preset",
    "gifcli.schedule": "gifcli.simulation.grid",
    "gifcli.kernel": "gifcli.simulation.kernel",
    "gifcli.batch": "gifcli.simulation.batch",
    "gifcli.result": "gifcli.simulation.result",
    "gifcli.features": "gifcli.analysis.features",
    "gifcli.spike_loops": "gifcli.analysis.spike_loops",
    "gifcli.checks": "gifcli.analysis.checks",
    "gifcli.probe": "gifcli.analysis.probe",
    "gifcli.sweep": "gifcli.explore.sweep",
    "gifcli.fit": "gifcli.explore.fit",
    "gifcli.cluster": "gifcli.explore.cluster",
    "gifcli.table": "gifcli.files.table",
    "gifcli.sweep_files": "gifcli.files.sweep",
    "gifcli.sweep_store": "gifcli.files.store",
    "gifcli.fit_files": "gifcli.files.fit",
    "gifcli.sweep_plots": "gifcli.plots.sweep",
    "gifcli.fit_plots": "gifcli.plots.fit",
    "gifcli.runner": "gifcli.cli.runner",
    "gifcli.warmup": "gifcli.cli.warmup",
}


class _FormerPathFinder:
    """Finds a former path and loads it as the module that now lives elsewhere. The import
    system needs only these methods: importlib.abc's base classes would cost every start
    (gif's too, before its signal handlers exist) 13 ms of imports."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in FORMER_PATHS:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return importlib.import_module(FORMER_PATHS[spec.name])

    def exec_module(self, module):
        pass  # the module ran when it was imported under its own name


def install() -> None:
    if not any(isinstance(finder, _FormerPathFinder) for finder in sys.meta_path):
        sys.meta_path.append(_FormerPathFinder())
