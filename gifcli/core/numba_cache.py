"""Where Numba keeps the compiled kernels when neither of its own places can be written.

Numba caches a function beside its source (``__pycache__`` in the installed package) or, if
that folder is read-only, in the user's cache folder (``~/.cache/numba``). A read-only
installation with no writable home (a container, a shared install, ``HOME=/nonexistent``) has
neither, and Numba then refuses every function compiled with ``cache=True`` ("no locator
available"). In that case the cache goes to a private folder in the system's temporary
directory, so that the tool runs and later runs start fast again.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PACKAGE_CACHE = Path(__file__).parent / "__pycache__"


def choose_cache_dir() -> None:
    """Set ``NUMBA_CACHE_DIR`` to a temporary folder if Numba's own places are unwritable
    (and the user has not chosen one). Runs before Numba is imported."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    if writable(PACKAGE_CACHE) or writable(user_cache()):
        return
    os.environ["NUMBA_CACHE_DIR"] = str(fallback_cache())


def user_cache() -> Path | None:
    """The folder Numba uses when the package's is read-only (``$XDG_CACHE_HOME/numba``)."""
    base = os.environ.get("XDG_CACHE_HOME")
    try:
        return Path(base) / "numba" if base else Path.home() / ".cache" / "numba"
    except RuntimeError:  # no home directory at all
        return None


def fallback_cache() -> Path:
    user = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"gifcli-numba-cache-{user}"


def writable(folder: Path | None) -> bool:
    """Whether ``folder`` exists or can be made, and takes a new file (as Numba checks)."""
    if folder is None:
        return False
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True
