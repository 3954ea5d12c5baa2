"""What a notebook adds to the library: the interactive explorer (:func:`explorer`).

It needs the ``notebook`` extra (ipywidgets); nothing else in gifcli imports this package.
"""

from gifcli.notebook.explorer import DEFAULT_SLIDERS, Explorer, explorer

__all__ = ["DEFAULT_SLIDERS", "Explorer", "explorer"]
