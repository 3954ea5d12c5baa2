"""One validator per kind of argument of the Python API: a number, a count, a choice, a
mapping of known names, a sequence. Each returns the value in the form the code uses, or
raises :class:`ArgumentError` with one sentence that names the argument, so that every entry
point (``simulate``, ``run_batch``, ``fit``...) says the same thing of the same mistake.
"""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from gifcli.core.errors import GifError, one_line

_repr = reprlib.Repr()
_repr.maxstring, _repr.maxother, _repr.maxlist = 40, 40, 4


class ArgumentError(GifError, ValueError):
    """A wrong argument of a Python call: a GifError, and a ValueError as it always was."""


def shown(value: Any) -> str:
    """A short, one-line repr of ``value`` for a message."""
    try:
        return one_line(_repr.repr(value))
    except Exception:  # noqa: BLE001 - a hostile __repr__ must not hide the real problem
        return f"<{type(value).__name__}>"


def number(value: Any, name: str) -> float | None:
    """A keyword that takes a real number (NumPy's too) or None, as a float."""
    if value is None or type(value) is float:
        return value
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool | np.bool_):
        return float(value)
    raise ArgumentError(f"{name} must be a number, got {type(value).__name__} {shown(value)}")


def count(value: Any, name: str, minimum: int) -> int:
    """A keyword that takes a whole number ≥ ``minimum`` (``record``, ``max_steps``...)."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_) \
            and value >= minimum:
        return int(value)
    raise ArgumentError(f"{name} must be a whole number >= {minimum}, got {shown(value)}")


def choice(value: Any, name: str, options: Iterable[str]) -> str:
    """One of ``options`` (text), such as a method."""
    options = tuple(options)
    if isinstance(value, str) and value in options:
        return value
    raise ArgumentError(f"{name} must be one of {', '.join(options)}, got {shown(value)}")


def known_names(value: Any, name: str, known: Iterable[str], what: str) -> dict:
    """A mapping (or None: empty) whose keys are all ``known``; ``what`` names one key in the
    sentence (``"initial state"``)."""
    known = tuple(known)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ArgumentError(f"{name} must be a mapping of {what}s ({', '.join(known)}) to "
                            f"values, got {type(value).__name__} {shown(value)}")
    for key in value:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ArgumentError(f"unknown {what} {shown(key)}{hint}; the {what}s are "
                                f"{', '.join(known)}")
    return dict(value)


def items(value: Any, name: str, kind: type) -> tuple:
    """A list or tuple of ``kind`` instances (an ``Axis``, a ``Free``), as a tuple."""
    if isinstance(value, list | tuple) and all(isinstance(item, kind) for item in value):
        return tuple(value)
    raise ArgumentError(f"{name} must be a list of {kind.__name__}, got "
                        f"{type(value).__name__} {shown(value)}")


def positive(value: Any, name: str, unit: str = "") -> float:
    """A finite real number > 0 (a duration, a window), as a float."""
    checked = number(value, name)
    if checked is None or not (np.isfinite(checked) and checked > 0):
        raise ArgumentError(f"{name} must be a finite number{' of ' + unit if unit else ''} "
                            f"> 0, got {shown(value)}")
    return checked


def finite(value: Any, name: str) -> float:
    """A finite real number (an end of a range), as a float."""
    checked = number(value, name)
    if checked is None or not np.isfinite(checked):
        raise ArgumentError(f"{name} must be a finite number, got {shown(value)}")
    return checked


def flag(value: Any, name: str) -> bool:
    """True or False (NumPy's too), as a bool: a truthy list is a mistake, not a yes."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise ArgumentError(f"{name} must be True or False, got {type(value).__name__} "
                        f"{shown(value)}")


def instance(value: Any, name: str, kind: type, hint: str) -> Any:
    """An instance of ``kind`` (a ``Result``, a ``Context``); ``hint`` says where one comes
    from."""
    if isinstance(value, kind):
        return value
    raise ArgumentError(f"{name} must be a {kind.__name__} ({hint}), got "
                        f"{type(value).__name__} {shown(value)}")
