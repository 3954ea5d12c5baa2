"""Exports of a preset to other simulators: a self-contained file that runs the neuron, its
initial state and its input there, and writes the spike times it gets.

One module per target (``brian2``, ``nestml``, ``brainpy``) over :mod:`gifcli.export.common`,
which lays the input on the grid, writes the header and checks the request.
:func:`export` writes the files and returns their paths.
"""

from gifcli.export.common import TARGETS, ExportError, export

__all__ = ["TARGETS", "ExportError", "export"]
