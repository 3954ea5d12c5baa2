"""``gif`` and ``python -m gifcli``: signal handling first, then the command line.

The handlers are set before typer, rich or numba are imported, so that Ctrl-C, SIGTERM or
SIGHUP at any moment, even during the imports, ends with one line and its exit code.
"""

from __future__ import annotations

import sys


def main() -> None:
    """The ``gif`` console script."""
    from gifcli.core import interrupts

    interrupts.install()
    try:
        from gifcli.cli import main as command_line
    except BaseException as error:
        stop = interrupts.signal_behind(error)
        if stop is None:
            raise
        _ignore_signals_from_now(interrupts.SIGNALS)
        # The sentence of gifcli.cli.terminal.interruption, which is not imported yet.
        sys.stderr.write(f"gif: error: {stop.what}; every file already written is complete\n")
        sys.exit(stop.exit_code)
    try:
        command_line()
    finally:
        _ignore_signals_from_now(interrupts.SIGNALS)


def _ignore_signals_from_now(signals: tuple[int, ...]) -> None:
    """The command is over and its exit code decided. Python's shutdown (a second or more
    with numba loaded, on a busy machine) puts handled signals back to their default, which
    kills the process silently with the signal's status instead of the command's: a finished
    run would look interrupted. Ignored signals stay ignored through the shutdown."""
    import signal

    for signum in signals:
        signal.signal(signum, signal.SIG_IGN)


if __name__ == "__main__":
    main()
