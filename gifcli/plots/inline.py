"""Figures returned to a notebook: shown inline as PNG, the way they are saved.

The figures live on their own Agg canvas, never in pyplot, so IPython has no formatter for
them until one is registered: :func:`inline` does that once, when IPython is running.
"""

from __future__ import annotations

import sys

from matplotlib.figure import Figure

from gifcli.plots.pattern import figure_bytes


def inline(fig: Figure) -> Figure:
    """``fig``, after making sure that a running IPython shows Figures as PNG images."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        formatter = shell.display_formatter.formatters["image/png"]
        formatter.for_type(Figure, _png)
    return fig


def _png(fig: Figure) -> bytes:
    return figure_bytes(fig, "png")
