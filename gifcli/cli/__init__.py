"""The ``gif`` command line: one module per command over shared options and terminal output.

Thin on purpose: each command parses its options and calls plain functions in the numerical
modules (``gifcli.runner``, ``gifcli.sweep``, ...) and the writers (``gifcli.files``,
``gifcli.plots``). Those heavy modules (numba, matplotlib) are imported inside the commands
that need them, so ``gif --help`` and ``gif list`` start fast.
"""

from __future__ import annotations

from importlib import import_module

from gifcli.cli.app import app

# Each module registers its command on ``app``; ``gif --help`` lists them in this order.
COMMANDS = ("list", "show", "run", "gallery", "check", "sweep", "fi")
for _command in COMMANDS:
    import_module(f"gifcli.cli.{_command}")


def main() -> None:
    """The ``gif`` console script."""
    app(prog_name="gif")


__all__ = ["app", "main"]
