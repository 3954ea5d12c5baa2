"""The ``gif`` command line: one module per command over shared options and terminal output.

Thin on purpose: each command parses its options and calls plain functions in the numerical
modules (``gifcli.cli.runner``, ``gifcli.explore.sweep``, ...), the writers (``gifcli.files``)
and the figures (``gifcli.plots``). Those heavy modules (numba, matplotlib) are imported
inside the commands that need them, so ``gif --help`` and ``gif list`` start fast.
"""

from __future__ import annotations

import contextlib
import os
import sys
from importlib import import_module

import typer

from gifcli.cli.app import app
from gifcli.cli.streams import guard_streams
from gifcli.cli.terminal import (
    CLICK_EXCEPTION,
    EXIT_BROKEN_PIPE,
    EXIT_USAGE,
    USAGE_ERROR,
    fail,
    interrupt_reported,
    interruption,
    silence_stdout,
    usage_message,
)
from gifcli.core import interrupts
from gifcli.core.errors import GifError

# Each module registers its command on ``app``; ``gif --help`` lists them in this order.
COMMANDS = ("list", "show", "run", "gallery", "check", "sweep", "fi", "fit", "export")
for _command in COMMANDS:
    import_module(f"gifcli.cli.{_command}")


def main(args: list[str] | None = None) -> None:
    """Run ``gif`` with ``args`` (default: the command line) and exit with its code.

    Every ending gets one line on stderr and its code: a usage error (2, the same one
    sentence as any bad input), Ctrl-C, SIGTERM or SIGHUP (130, 143, 129), a reader that
    closed the pipe (141, silently), a standard output that cannot be written (2).
    """
    guard_streams()
    # gif draws on matplotlib's Agg/SVG/PDF canvases itself; a bad value breaks its import
    os.environ.pop("MPLBACKEND", None)
    sys.exit(run(args))


def run(args: list[str] | None) -> int:
    """The exit code of ``gif ARGS``, with everything printed (see :func:`main`)."""
    try:
        code = app(args=args, prog_name="gif", standalone_mode=False)
        interrupts.check()  # a signal whose exception something swallowed
        sys.stdout.flush()
    except USAGE_ERROR as error:
        if not error.format_message():  # `gif` alone: typer has printed the help
            return EXIT_USAGE
        return _error(usage_message(error), EXIT_USAGE)
    except CLICK_EXCEPTION as error:
        return _error(error.format_message(), error.exit_code)
    except typer.Abort:
        return _error(*interruption(interrupts.last_signal()))
    except KeyboardInterrupt as stop:
        return _error(*interruption(stop))
    except GifError as error:  # outside a command: standard output cannot be written
        return _error(str(error), EXIT_USAGE)
    except BrokenPipeError:  # while typer printed help
        silence_stdout()
        return EXIT_BROKEN_PIPE
    if code == 130 and not interrupt_reported():  # a signal that typer caught while parsing
        return _error(*interruption(interrupts.last_signal()))
    return code if isinstance(code, int) else 0


def _error(message: str, code: int) -> int:
    with contextlib.suppress(GifError, OSError):  # stderr itself may be what fails
        fail(message)
    return code


__all__ = ["COMMANDS", "app", "main", "run"]
