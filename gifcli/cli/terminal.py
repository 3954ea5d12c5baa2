"""What the commands show on the terminal: errors and exit codes, warnings, progress bars,
JSON on stdout and the tables' common parts.

rich is imported inside the functions, so ``gif --help`` and ``gif list`` start fast.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from gifcli.core import interrupts
from gifcli.core.errors import GifError, one_line, printable

if TYPE_CHECKING:
    from rich.console import Console

    from gifcli.cli.runner import Outcome

EXIT_CHECK_FAILED, EXIT_USAGE, EXIT_INTERNAL = 1, 2, 3  # and 128 + the signal after one
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
    from gifcli.core import interrupts

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
    # A signal during an import can come back as an ImportError that a library catches and
    # warns about (matplotlib: "Unable to import Axes3D"), sending the user after a broken
    # install: stop for the signal instead.
    interrupts.check()
    warn(str(message))


@contextmanager
def reporting_errors_only(debug: bool = False) -> Iterator[None]:
    """Turn what can go wrong into one sentence on stderr and an exit code.

    GifError (bad preset, bad value, unwritable folder, a run that cannot finish) -> exit 2;
    ``--debug`` prints the traceback first, and keeps the exit code;
    Ctrl-C, SIGTERM, SIGHUP -> exit 130, 143, 129 (files are written atomically, so none is
    left half-written);
    anything else is a bug -> exit 3.
    """
    try:
        yield
    except GifError as error:
        _traceback_if(debug)
        raise fail(str(error)) from None
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM/SIGHUP (gifcli.core.interrupts)
        _traceback_if(debug)
        raise fail(*interruption(stop)) from None
    except BrokenPipeError:  # the reader went away (`gif list | head -1`): not a failure
        silence_stdout()
        raise typer.Exit(EXIT_BROKEN_PIPE) from None
    except (typer.Exit, typer.Abort, *_CLICK_ERRORS):
        raise  # typer's own handling: usage errors
    except Exception as error:
        _traceback_if(debug)
        # A signal that a library turned into another error (raised while matplotlib builds
        # a class, Python reports a RuntimeError) is the signal, not a bug.
        stop = interrupts.signal_behind(error)
        if stop is not None:
            raise fail(*interruption(stop)) from None
        raise fail(f"internal error ({type(error).__name__}: {error}); run again with --debug "
                   "for the traceback, and please report it", EXIT_INTERNAL) from None


def _traceback_if(debug: bool) -> None:
    """With --debug, the traceback on stderr before the one-line error (and its exit code)."""
    if debug:
        import traceback

        traceback.print_exc(file=sys.stderr)


MIN_WIDTH = 40  # COLUMNS=0 or a tiny window: lay out for this width and let lines wrap


def silence_stdout() -> None:
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
    console = bar_console(hidden)
    if console is None:
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


COMPILING = "compiling the simulation kernels, once after an install: {wait}; make demo " \
    "compiles them all"
NOTICE_AFTER_S = 1.0  # loading them from Numba's cache takes less: then nothing is said
BUSY_FACTOR = 2.5  # wall time over CPU time of a cold start at a load of 3-5 on 2 cores


def compiling_notice(warm: Callable[[], None]) -> str:
    """The spinner's text: how long ``warm`` compiles on a free core, and on a busy machine."""
    from gifcli.cli.warmup import COMPILE_CPU_S

    seconds = COMPILE_CPU_S.get(warm.__name__)
    if seconds is None:
        return COMPILING.format(wait="a minute or two, longer on a busy machine")
    busy = BUSY_FACTOR * seconds
    return COMPILING.format(wait=f"about {_seconds(seconds)}, up to {_seconds(busy)} on a busy "
                                 "machine")


def _seconds(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 100 else f"{seconds / 60:.0f} min"


def compiled_kernels(warm: Callable[[], None], hidden: bool) -> None:
    """Run ``warm`` (a gifcli.cli.warmup function) and, if it takes long enough to be a
    compilation, say so with a spinner on stderr while it lasts."""
    import threading

    console = bar_console(hidden)
    if console is None:
        warm()
        return
    status = console.status(compiling_notice(warm), spinner="dots")
    timer = threading.Timer(NOTICE_AFTER_S, status.start)
    timer.start()
    try:
        warm()
    finally:
        timer.cancel()
        timer.join()
        status.stop()


def print_json(data: Any) -> None:
    from gifcli.files.run import json_bytes

    sys.stdout.write(json_bytes(data).decode("utf-8"))


def new_table(title: str | None) -> Any:
    """An empty table in the house style: a rule under the header, one space between
    columns, the title on the left."""
    from rich import box
    from rich.table import Table

    return Table(title=title, title_justify="left", title_style="bold", header_style="bold",
                 box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0))


@dataclass(frozen=True)
class Column:
    """A table column, given whole: its header, its cells (rich markup), and how soon it
    goes when the terminal is narrow (``drop`` 0: never; higher numbers go first)."""

    header: str
    cells: Sequence[str]
    drop: int = 0
    justify: str = "right"
    style: str | None = None
    fold: bool = False  # below the narrowest width, this column (a name) folds, none other


def fitted_table(title: str | None, columns: Sequence[Column], width: int) -> Any:
    """A table of the columns that fit in ``width`` (80 by design, 50 at least): the
    droppable ones leave, highest ``drop`` first, before any cell would wrap or be cut."""
    shown = list(columns)
    while True:
        table = _table_of(title, shown)
        if not any(c.drop for c in shown) or table_width(table) <= width:
            return table
        shown.remove(max(shown, key=lambda c: c.drop))


def _table_of(title: str | None, columns: Sequence[Column]) -> Any:
    table = new_table(title)
    for column in columns:
        table.add_column(column.header, justify=column.justify, style=column.style,
                         no_wrap=not column.fold, overflow="fold",
                         min_width=_longest_word(column))
    for cells in zip(*(column.cells for column in columns), strict=True):
        table.add_row(*cells)
    return table


def _longest_word(column: Column) -> int | None:
    """A folding column of several words a cell breaks between words, never inside one; a
    column of single words (names) may fold inside them, as the last resort."""
    from rich.text import Text

    cells = [Text.from_markup(cell).plain for cell in column.cells]
    if not column.fold or not any(" " in cell for cell in cells):
        return None
    return max(len(word) for cell in cells for word in cell.split())


def table_width(table: Any) -> int:
    """The table's width with every folding column at its longest word, the rest whole."""
    from rich.console import Console

    measuring = Console(width=10_000, file=io.StringIO())
    return measuring.measure(table).minimum


def checks_summary(failed: int, checked: int) -> str:
    """``all 20 checks passed``, ``1 check passed``, ``2 of 20 checks failed`` (markup)."""
    if checked == 0:
        return "[dim]no check: these presets name none[/dim]"
    noun = "check" if checked == 1 else "checks"
    if failed:
        return f"[bold red]{failed} of {checked} {noun} failed[/bold red]"
    return f"[green]{'1 check' if checked == 1 else f'all {checked} checks'} passed[/green]"


def number(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


FEW_ROWS = 3  # a table of this many runs or fewer says why each check passed, too


def verdict_cell(outcome: Outcome) -> str:
    """``✓ pass``, ``✗ FAIL`` or ``no check`` (the reason is printed under the table)."""
    verdict = outcome.verdict
    if verdict is None:
        return "[dim]no check[/dim]"
    return "[green]✓ pass[/green]" if verdict.passed else "[bold red]✗ FAIL[/bold red]"


def print_reasons(outcomes: Sequence[Outcome], every: bool) -> None:
    """Under a table, one line per check: why it failed (always), or why it passed
    (``every``: for a run of a few presets)."""
    console = stdout()
    for outcome in outcomes:
        r, verdict = outcome.result, outcome.verdict
        if verdict is None or (verdict.passed and not every):
            continue
        style = "dim" if verdict.passed else "red"
        console.print(f"[{style}]{r.preset.letter or '-'} {markup_safe(r.preset.name)} "
                      f"({r.method}, {r.dt:g} ms): {markup_safe(str(verdict.reason))}"
                      f"[/{style}]")


def print_notes(outcomes: Sequence[Outcome], quiet: bool) -> None:
    """What the time grid changed, one warning per dt and kind of note: the first preset's
    note, and the others it holds for (a check over 6 dt values and 20 presets said 64)."""
    if quiet:
        return
    groups: dict[tuple[float, str], dict[str, str]] = {}
    for outcome in outcomes:
        result = outcome.result
        for note in result.notes:
            kind = _NUMBER.sub("#", note)
            first = groups.setdefault((result.dt, kind), {})
            first.setdefault(result.preset.name, f"{result.preset.name}: {note}")
    for first in groups.values():
        lines = list(first.values())
        if len(lines) == 1:
            warn(lines[0])
        else:
            others = list(first)[1:]
            warn(f"{lines[0]}; the same for {len(others)} more: {', '.join(others)}")


_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")  # a note's kind: its text without them




def number_text(value: float) -> str:
    """A number as a person writes it, without float noise or lost digits: 1.000001, 200."""
    return format(value, ".15g")



def bar_console(hidden: bool) -> Console | None:
    """The stderr console for a progress display, or None: hidden with --quiet or --json, and
    when stderr is not a terminal (a log file, a pipe)."""
    console = None if hidden else stderr()
    return console if console is not None and console.is_terminal else None


def timed_progress(console: Console, label: str = "{task.description}", unit: str = "") -> Any:
    """A transient rich progress bar: the label, the bar, done/total (and ``unit``), the time
    elapsed and the time left."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    counted = [MofNCompleteColumn()] + ([TextColumn(unit)] if unit else [])
    return Progress(TextColumn(label), BarColumn(), *counted, TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console, transient=True)


@contextmanager
def points_progress(label: str, hidden: bool) -> Iterator[Callable[[str, int, int], None]]:
    """One rich progress bar over the grid points, through simulate, check and write."""
    console = bar_console(hidden)
    if console is None:
        yield lambda phase, done, total: None
        return
    with timed_progress(console) as bar:
        task = bar.add_task(label, total=None)
        # Simulating is most of the work; checking and writing follow it on the same bar.
        weights = {"simulate": 0.0, "check": 0.0, "write": 0.0}

        def update(phase: str, done: int, total: int) -> None:
            weights[phase] = done / max(total, 1)
            share = 0.8 * weights["simulate"] + 0.1 * weights["check"] + 0.1 * weights["write"]
            bar.update(task, description=f"{label}: {phase}", completed=round(share * total),
                       total=total)

        yield update

