"""Optional dependencies: one sentence naming the extra to install when one is missing."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

from gifcli.core.errors import GifError

DEMO_EXTRAS = ("cluster",)  # what `make demo` installs besides gifcli itself


def install_hint(extra: str) -> str:
    """A command that installs ``extra`` (gifcli is installed from its folder, not an index)."""
    demo = "run `make demo`, or " if extra in DEMO_EXTRAS else "run "
    return f"{demo}`pip install -e '.[{extra}]'`, in gifcli's folder"


def require_extra(what: str, extra: str, modules: Sequence[str]) -> None:
    """GifError unless every module of ``modules`` can be imported (``what`` names the
    feature that needs them, ``extra`` the pip extra that installs them)."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise GifError(f"{what} needs the {extra} extra ({', '.join(missing)} not installed): "
                       f"{install_hint(extra)}")
