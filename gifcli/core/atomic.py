"""Files written whole or not at all: a temporary file in the same folder, then a rename."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path

from gifcli.core.errors import OutputError


def write_atomic(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` (bytes, or pieces of bytes written as they come) to ``path`` through a
    temporary file in the same folder and a rename.

    Readers never see a partial file, and an interruption (even Ctrl-C) leaves the old file
    or none, never half of one. The file gets the usual permissions (0o666 less the umask).
    """
    write_files([(path, data)])


def write_files(items: Sequence[tuple[Path, bytes | Iterable[bytes]]]) -> None:
    """Write several files as :func:`write_atomic` does, each to a temporary file first, and
    rename them into place only once every one of them is complete.

    An error or an interruption before the renames leaves none of them (and removes every
    temporary file); the renames themselves take microseconds each.
    """
    temporaries: list[Path] = []
    current = None
    try:
        for current, data in items:
            temporaries.append(_temporary_for(current))
            _write_new(temporaries[-1], data)
        for temporary, (current, _) in zip(temporaries, items, strict=True):
            os.replace(temporary, current)
    except OSError as error:
        raise OutputError(f"cannot write {current} ({error.strerror})") from None
    finally:
        for temporary in temporaries:
            _remove_quietly(temporary)  # after a rename, it is gone already


def _temporary_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _write_new(temporary: Path, data: bytes | Iterable[bytes]) -> None:
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as stream:
        for piece in [data] if isinstance(data, bytes) else data:
            stream.write(piece)


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
