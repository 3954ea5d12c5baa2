"""Standard output and error that cannot crash the command: closed, full, or not Unicode.

- A closed stream (``gif list >&-``) is replaced by the null device: the command runs.
- A stream whose encoding cannot take a character (``PYTHONIOENCODING=ascii``, ``LC_ALL=C``)
  writes it as a backslash escape instead of failing mid-table.
- A write that fails (``> /dev/full``) becomes an :class:`OutputError` with one sentence;
  a reader that went away (EPIPE) stays a BrokenPipeError, which ``gif`` ends quietly.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import Any

from gifcli.core.errors import GifError


class OutputError(GifError):
    """Standard output or error cannot be written."""


class _Guarded:
    """A text stream whose write and flush errors say which stream failed."""

    def __init__(self, stream: Any, name: str):
        self._stream, self._name = stream, name

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as error:
            raise self._failure(error) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as error:
            raise self._failure(error) from None

    def _failure(self, error: OSError) -> OSError | OutputError:
        if error.errno == errno.EPIPE:
            return BrokenPipeError(error.errno, error.strerror)
        return OutputError(f"cannot write to standard {self._name} "
                           f"({error.strerror or type(error).__name__})")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_streams() -> None:
    """Install the guarded stdout and stderr (for the ``gif`` console script only)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:  # the file descriptor was closed when Python started
            stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (lives to exit)
        elif isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
        setattr(sys, name, _Guarded(stream, name.removeprefix("std")))
