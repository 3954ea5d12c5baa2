"""Every figure: a run's pattern figure and the gallery (re-exported here), sweeps, f–I curves
and fits. Only this package imports matplotlib, and only when a figure is drawn."""

from gifcli.plots.pattern import (
    CLIP_NOTE,
    DPI_RANGE,
    FIGURE_FORMATS,
    GALLERY_DPI,
    PNG_DPI,
    RC,
    SHORT_CLIP_NOTE,
    check_dpi,
    command_line,
    figure_bytes,
    gallery_figure,
    isolated_style,
    new_figure,
    overrides_text,
    pattern_figure,
    save_figure,
)

__all__ = [
    "CLIP_NOTE",
    "DPI_RANGE",
    "FIGURE_FORMATS",
    "GALLERY_DPI",
    "PNG_DPI",
    "RC",
    "SHORT_CLIP_NOTE",
    "check_dpi",
    "command_line",
    "figure_bytes",
    "gallery_figure",
    "isolated_style",
    "new_figure",
    "overrides_text",
    "pattern_figure",
    "save_figure",
]
