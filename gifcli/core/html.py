"""The small HTML tables that results show in a notebook (``_repr_html_``)."""

from __future__ import annotations

import html
from collections.abc import Sequence


def html_table(title: str, rows: Sequence[tuple[str, str]]) -> str:
    """A two-column table of ``(label, value)`` rows under a bold ``title``, escaped."""
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(label)}</th>"
                   f"<td style='text-align:left'>{html.escape(value)}</td></tr>"
                   for label, value in rows)
    return f"<table><caption><b>{html.escape(title)}</b></caption>{body}</table>"
