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

# Paths as text and no tempfile: this runs at every start, before gif's signal handlers
# exist, and pathlib and tempfile would add 10-20 ms of imports to that window.
PACKAGE_CACHE = os.path.join(os.path.dirname(__file__), "__pycache__")


def choose_cache_dir() -> None:
    """Set ``NUMBA_CACHE_DIR`` to a temporary folder if Numba's own places are unwritable
    (and the user has not chosen one). Runs before Numba is imported."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    if writable(PACKAGE_CACHE) or writable(user_cache()):
        return
    os.environ["NUMBA_CACHE_DIR"] = str(fallback_cache())


def user_cache() -> str | None:
    """The folder Numba uses when the package's is read-only (``$XDG_CACHE_HOME/numba``)."""
    base = os.environ.get("XDG_CACHE_HOME")
    home = os.path.expanduser("~")
    if base:
        return os.path.join(base, "numba")
    if home == "~":  # no home directory at all
        return None
    return os.path.join(home, ".cache", "numba")


def fallback_cache() -> str:
    import tempfile

    user = os.getuid() if hasattr(os, "getuid") else "user"
    return os.path.join(tempfile.gettempdir(), f"gifcli-numba-cache-{user}")


def writable(folder: str | None) -> bool:
    """Whether ``folder`` exists or can be made, and takes a new file (as Numba checks)."""
    if folder is None:
        return False
    probe = os.path.join(folder, f".gifcli-probe-{os.getpid()}")
    try:
        os.makedirs(folder, exist_ok=True)
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        os.unlink(probe)
    except OSError:
        return False
    return True
