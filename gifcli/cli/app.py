"""The Typer app of ``gif``, its help text and the --version option.

The commands register themselves on :data:`app` from their own modules (``gifcli.cli.run``,
``gifcli.cli.sweep``, ...); ``gifcli.cli`` imports them in the order ``gif --help`` lists them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
import typer.core

from gifcli import __version__

F = TypeVar("F", bound=Callable)


def _no_type_for_flags_and_arguments() -> None:
    """typer prints a type beside every option and argument: ``<bool>`` for a flag, which
    takes no value, and ``<list[str]>`` beside an argument whose name already says what it
    takes (``NAME|LETTER|FILE...``). Show a type only where a value is typed."""
    option_type = typer.core.TyperOption.display_type_rich

    def option_display(self, ctx):
        return None if self.is_flag else option_type(self, ctx)

    typer.core.TyperOption.display_type_rich = option_display
    typer.core.TyperArgument.display_type_rich = lambda self, ctx: None


_no_type_for_flags_and_arguments()


def _broken_pipe_is_not_a_failure() -> None:
    """rich ends the process with exit 1 when the reader of stdout goes away (`gif check |
    head -1`), which reads as a failed check. Raise BrokenPipeError instead (without an errno,
    which typer would turn into exit 1 too): gif ends quietly with 141, as a shell does."""
    import rich.console

    def reader_went_away(self) -> None:
        self.quiet = True
        raise BrokenPipeError("the reader of stdout went away")

    rich.console.Console.on_broken_pipe = reader_went_away


_broken_pipe_is_not_a_failure()

app = typer.Typer(
    name="gif",
    help=(
        "The 20 firing patterns of the Mihalaş–Niebur (2009) generalized integrate-and-fire "
        "neuron: simulate them exactly, check them, and draw them.\n\n"
        "Start with [bold]gif list[/bold], then [bold]gif run tonic_spiking[/bold] and open "
        "outputs/tonic_spiking.png, or [bold]gif run --all[/bold]."
    ),
    epilog=(
        "Exit codes: 0 success; 1 a pattern check failed (after writing every file); 2 bad "
        "usage or input; 3 an internal error (please report it); 130, 143, 129 after Ctrl-C, "
        "SIGTERM, SIGHUP (only complete files are left); 141 a reader closed the pipe."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gif {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", "-V", callback=_version, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """Only the --version option; the app's help text is in typer.Typer(help=...)."""


def command(name: str | None = None) -> Callable[[F], F]:
    """Register a command on :data:`app` with its docstring as the help text, each paragraph
    reflowed into one line, so that the terminal wraps it at its own width (a line break
    kept from the source would split a sentence mid-way). Indented lines (the examples)
    keep their breaks."""

    def register(function: F) -> F:
        return app.command(name, help=reflowed(function.__doc__ or ""))(function)

    return register


def reflowed(docstring: str) -> str:
    paragraphs = inspect.cleandoc(docstring).split("\n\n")
    return "\n\n".join(p if _has_indented_lines(p) else " ".join(p.split("\n"))
                       for p in paragraphs)


def _has_indented_lines(paragraph: str) -> bool:
    return any(line.startswith(" ") for line in paragraph.split("\n"))
