"""What the commands show on the terminal: errors and exit codes, warnings, progress bars,
JSON on stdout and the tables' common parts.

rich is imported inside the functions, so ``gif --help`` and ``gif list`` start fast.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from gifcli.errors import GifError, one_line, printable

if TYPE_CHECKING:
    from rich.console import Console

    from gifcli.runner import Outcome

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_BROKEN_PIPE = 141  # what a shell reports for a reader that went away (128 + SIGPIPE)


# click's exception classes, from click itself or from the copy that newer typer vendors.
_CLICK_CLASSES = {c.__name__: c for c in typer.BadParameter.__mro__}
CLICK_EXCEPTION, USAGE_ERROR = _CLICK_CLASSES["ClickException"], _CLICK_CLASSES["UsageError"]
_CLICK_ERRORS = (CLICK_EXCEPTION,)


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print ``gif: error: MESSAGE`` on stderr (one line, control characters escaped) and
    return the Exit to raise."""
    sys.stderr.write(f"gif: error: {one_line(message)}\n")
    sys.stderr.flush()
    return typer.Exit(code)


_interrupts_reported: list[int] = []


def markup_safe(text: str) -> str:
    """Text that comes from a file (a title, a description, a path) for rich markup: control
    characters shown escaped (no escape sequence reaches the terminal), brackets escaped."""
    from rich.markup import escape

    return escape(printable(text))


def interruption(stop: KeyboardInterrupt) -> tuple[str, int]:
    """The sentence and exit code for Ctrl-C (130), SIGTERM (143) or SIGHUP (129)."""
    from gifcli import interrupts

    what, code = getattr(stop, "what", "interrupted"), getattr(stop, "exit_code", 130)
    _interrupts_reported.append(code)
    interrupts.acknowledge()
    return f"{what}; every file already written is complete", code


def interrupt_reported() -> bool:
    """Whether an interruption has been reported (so that it is said once)."""
    return bool(_interrupts_reported)


def usage_message(error: Any) -> str:
    """click's usage error as one sentence, with where to find the command's help."""
    text = " ".join(error.format_message().replace("Value error, ", "").split())
    text = text[:1].lower() + text[1:]
    command = error.ctx.command_path if error.ctx is not None else "gif"
    return f"{text.rstrip('.')} (see '{command} --help')"


@contextmanager
def reporting_errors(debug: bool = False, quiet: bool = False) -> Iterator[None]:
    """:func:`reporting_errors_only`, with Python's warnings (numpy's, matplotlib's, a preset
    shadowed by a file) as one ``gif: warning:`` line each, or none with ``--quiet``."""
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore")
        else:
            warnings.showwarning = _warning_line
        with reporting_errors_only(debug):
            yield


def _warning_line(message: Warning | str, category: type[Warning], *args: Any,
                  **kwargs: Any) -> None:
    warn(str(message))


@contextmanager
def reporting_errors_only(debug: bool = False) -> Iterator[None]:
    """Turn what can go wrong into one sentence on stderr and an exit code.

    GifError (bad preset, bad value, unwritable folder, a run that cannot finish) -> exit 2;
    Ctrl-C, SIGTERM, SIGHUP -> exit 130, 143, 129 (files are written atomically, so none is
    left half-written);
    anything else is a bug -> exit 3. ``--debug`` re-raises, for the traceback.
    """
    try:
        yield
    except GifError as error:
        if debug:
            raise
        raise fail(str(error)) from None
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM/SIGHUP (gifcli.interrupts)
        if debug:
            raise
        raise fail(*interruption(stop)) from None
    except BrokenPipeError:  # the reader went away (`gif list | head -1`): not a failure
        _silence_stdout()
        raise typer.Exit(EXIT_BROKEN_PIPE) from None
    except (typer.Exit, typer.Abort, *_CLICK_ERRORS):
        raise  # typer's own handling: usage errors
    except Exception as error:
        if debug:
            raise
        raise fail(f"internal error ({type(error).__name__}: {error}); run again with --debug "
                   "for the traceback, and please report it", EXIT_INTERNAL) from None


MIN_WIDTH = 40  # COLUMNS=0 or a tiny window: lay out for this width and let lines wrap


def _silence_stdout() -> None:
    """Point stdout at the null device, so that Python's last flush at exit cannot fail."""
    import os

    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())
        os.close(devnull)


def stdout() -> Console:
    return _console(stderr=False)


def stderr() -> Console:
    return _console(stderr=True)


def _console(stderr: bool) -> Console:
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False)
    if console.width < MIN_WIDTH:
        console.width = MIN_WIDTH
    return console


def warn(message: str) -> None:
    sys.stderr.write(f"gif: warning: {one_line(message)}\n")


@contextmanager
def progress_bar(total: int, hidden: bool) -> Iterator[Callable[[str], Callable[[str], None]]]:
    """A rich progress bar on stderr over ``total`` items, phase by phase.

    Yields ``phase(label)``, which starts a phase (``simulate``, ``draw``) from zero and
    returns its ``advance(name)``. Hidden when ``hidden`` (--quiet, --json) and when stderr
    is not a terminal.
    """
    console = None if hidden else stderr()
    if console is None or not console.is_terminal:  # no bar in a log file or a pipe
        yield lambda label: lambda name: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("[dim]{task.fields[item]}"), console=console,
                  transient=True) as bar:
        task = bar.add_task("", total=total, item="")

        def phase(label: str) -> Callable[[str], None]:
            bar.reset(task, total=total, description=label, item="")
            return lambda name: bar.update(task, advance=1, item=name)

        yield phase


def print_json(data: Any) -> None:
    from gifcli.files import json_bytes

    sys.stdout.write(json_bytes(data).decode("utf-8"))


def new_table(title: str | None) -> Any:
    from rich import box
    from rich.table import Table

    return Table(title=title, title_justify="left", title_style="bold", header_style="bold",
                 box=box.SIMPLE_HEAD, pad_edge=False)


def number(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


WIDE_TABLE = 110  # below this console width, a check's reason goes under the table


def verdict_cell(outcome: Outcome, with_reason: bool = True) -> str:

    verdict = outcome.verdict
    if verdict is None:
        return "[dim]no check[/dim]"
    reason = f" {markup_safe(str(verdict.reason))}" if with_reason else ""
    if verdict.passed:
        return f"[green]✓ pass[/green][dim]{reason}[/dim]"
    return f"[bold red]✗ FAIL[/bold red]{reason}"


def print_table(table: Any, outcomes: Sequence[Outcome], wide: bool) -> None:
    """The table, then (on a narrow terminal) each check's reason on a line of its own."""

    console = stdout()
    console.print(table)
    if wide:
        return
    for outcome in outcomes:
        r, verdict = outcome.result, outcome.verdict
        if verdict is not None:
            style = "dim" if verdict.passed else "red"
            console.print(f"[{style}]{r.preset.letter or '-'} {markup_safe(r.preset.name)} "
                          f"({r.method}, {r.dt:g} ms): {markup_safe(str(verdict.reason))}"
                          f"[/{style}]")


def print_notes(outcomes: Sequence[Outcome], quiet: bool) -> None:
    if quiet:
        return
    seen: set[str] = set()
    for outcome in outcomes:
        for note in outcome.result.notes:
            line = f"{outcome.result.preset.name}: {note}"
            if line not in seen:
                seen.add(line)
                warn(line)




def number_text(value: float) -> str:
    """A number as a person writes it, without float noise or lost digits: 1.000001, 200."""
    return format(value, ".15g")



@contextmanager
def points_progress(label: str, hidden: bool) -> Iterator[Callable[[str, int, int], None]]:
    """One rich progress bar over the grid points, through simulate, check and write."""
    console = None if hidden else stderr()
    if console is None or not console.is_terminal:
        yield lambda phase, done, total: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task(label, total=None)
        # Simulating is most of the work; checking and writing follow it on the same bar.
        weights = {"simulate": 0.0, "check": 0.0, "write": 0.0}

        def update(phase: str, done: int, total: int) -> None:
            weights[phase] = done / max(total, 1)
            share = 0.8 * weights["simulate"] + 0.1 * weights["check"] + 0.1 * weights["write"]
            bar.update(task, description=f"{label}: {phase}", completed=round(share * total),
                       total=total)

        yield update

