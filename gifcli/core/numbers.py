"""One rule for a number written as text: on the command line (``--set``, ``--dt``, sweep
values, fit bounds) and in a preset file alike.

A number is written as a person writes it: ``0.1``, ``-50``, ``.5``, ``1e3``, ``2.5E-4``.
Python's ``float()`` would also take ``1_000``, ``0_1`` (which is 1.0, not 0.1), ``inf`` and
``nan``; YAML reads ``1_000`` as text. Those are refused, with a sentence that says why.
"""

from __future__ import annotations

import math
import re

NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def number_from_text(text: str) -> float:
    """The finite number that ``text`` writes; ValueError, with the reason, for anything else.

    >>> number_from_text(" 1e-3 ")
    0.001
    """
    stripped = text.strip()
    if NUMBER.fullmatch(stripped):
        value = float(stripped)
        if math.isfinite(value):
            return value
    raise ValueError(number_problem(stripped))


def number_problem(text: str) -> str:
    """Why ``text`` is not a number by the rule above (for hints in messages)."""
    if "_" in text and NUMBER.fullmatch(text.replace("_", "")):
        return f"write {text.replace('_', '')} without underscores"
    if not_finite(text):
        return "give a finite number"
    return "write a number such as 0.01, -50 or 1e3"


def not_finite(text: str) -> bool:
    """``inf``, ``nan`` and numbers beyond float64 (``1e400``): numbers, but not finite ones."""
    stripped = text.strip()
    return stripped.lower().lstrip("+-") in ("inf", "infinity", "nan") or bool(
        NUMBER.fullmatch(stripped) and not math.isfinite(float(stripped)))
