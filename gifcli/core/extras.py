"""Optional dependencies: one sentence naming the extra to install when one is missing."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

from gifcli.core.errors import GifError


def require_extra(what: str, extra: str, modules: Sequence[str]) -> None:
    """GifError unless every module of ``modules`` can be imported (``what`` names the
    feature that needs them, ``extra`` the pip extra that installs them)."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise GifError(f"{what} needs the {extra} extra ({', '.join(missing)} not installed): "
                       f"pip install 'gifcli[{extra}]'")
