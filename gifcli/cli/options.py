"""The option and argument types that the commands share, with their validation.

Each is an ``Annotated`` type with its help text, so a command's signature reads as its
``--help``. Validation errors are click's ``BadParameter``; the app prints them as one line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gifcli.cli.completion import complete_preset
from gifcli.core.numbers import number_from_text
from gifcli.model.parameters import DEFAULT_DT, METHODS

OUTPUT_FORMATS = ("png", "svg", "pdf", "csv", "json")  # as gifcli.cli.runner (which imports numba)
FIGURE_FORMATS = ("png", "svg", "pdf")
DEFAULT_FORMATS = "png,csv,json"


class Method(StrEnum):
    """The integrators (see gifcli.simulation.kernel)."""

    exact = "exact"
    euler = "euler"
    exp_euler = "exp-euler"


def _check_dt(value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise typer.BadParameter(f"must be a finite number of ms > 0, got {value:g}")
    return value


def number(text: str | float) -> float:
    """A number option's text by the rule of gifcli.core.numbers (``0_1`` is not 1.0 here)."""
    if isinstance(text, float):  # a default value
        return text
    try:
        return number_from_text(text)
    except ValueError as problem:
        raise typer.BadParameter(f"{text!r} is not a number; {problem}") from None


WHOLE = re.compile(r"[+-]?\d+")


def whole(minimum: int) -> Callable[[str | int], int]:
    """The parser of a count option: digits, as a person writes them, and at least
    ``minimum`` (``0_5``, which Python reads as 5, ``1.5`` and ``1e3`` are refused)."""
    def parse(text: str | int) -> int:
        if isinstance(text, int):  # a default value
            return text
        stripped = text.strip()
        if not WHOLE.fullmatch(stripped):
            plain = stripped.replace("_", "")
            hint = (f"write {int(plain)} without underscores" if WHOLE.fullmatch(plain)
                    else "write a whole number such as 5 or 100")
            raise typer.BadParameter(f"{text!r} is not a whole number; {hint}")
        if int(stripped) < minimum:
            raise typer.BadParameter(f"must be a whole number ≥ {minimum}, got {stripped}")
        return int(stripped)
    return parse


def _dt(text: str | float) -> float:
    return _check_dt(number(text))


def split_list(text: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``, without repeats, in order."""
    items = [item.strip() for item in text.split(",")]
    return list(dict.fromkeys(item for item in items if item))


def choices(allowed: Sequence[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        items = split_list(value)
        if not items:
            raise typer.BadParameter(f"give one or more of {', '.join(allowed)}")
        for item in items:
            if item not in allowed:
                raise typer.BadParameter(
                    f"unknown value {item!r}; choose from {', '.join(allowed)}")
        return value
    return check


def parse_dts(text: str | None) -> list[float | None]:
    """``--dt 0.01,0.1`` -> [0.01, 0.1]; no option -> [None] (each preset's own dt)."""
    if text is None:
        return [None]
    values: list[float | None] = []
    for item in split_list(text):
        try:
            value = number_from_text(item)
        except ValueError as problem:
            raise typer.BadParameter(f"{item!r} is not a number of ms; {problem}") from None
        values.append(_check_dt(value))
    if not values:
        raise typer.BadParameter("give one or more time steps in ms, e.g. 0.01,0.1")
    return list(dict.fromkeys(values))


def _check_dts(value: str | None) -> str | None:
    parse_dts(value)
    return value


MethodOption = Annotated[Method, typer.Option(
    "--method", "-m", help="Integrator: exact (precise spike times), euler or exp-euler.")]
DtOption = Annotated[float | None, typer.Option(
    "--dt", metavar="MS", parser=_dt,
    help=f"Time step in ms. [dim]Default: the preset's, else {DEFAULT_DT:g}.[/dim]")]
SetOption = Annotated[list[str] | None, typer.Option(
    "--set", "-s", metavar="KEY=VALUE",
    help="Override a model parameter (a=0.01) or an initial value (initial.V_th=-30); "
         "repeatable.")]
InputOption = Annotated[str | None, typer.Option(
    "--input", "-i", metavar="AMPxMS,...",
    help="Replace the preset's input by steps: amplitude x duration in ms, comma-separated "
         "(0x100,2x400).")]
OutOption = Annotated[Path, typer.Option(
    "--out", "-o", metavar="DIR", help="Folder for the output files; created if needed.")]
FormatOption = Annotated[str, typer.Option(
    "--format", "-f", metavar="png,svg,pdf,csv,json", callback=choices(OUTPUT_FORMATS),
    help="Which files to write, comma-separated.")]
FigureFormatOption = Annotated[str, typer.Option(
    "--format", "-f", metavar="png,svg,pdf", callback=choices(FIGURE_FORMATS),
    help="Which figure files to write, comma-separated.")]
def _dpi(text: str | float) -> float:
    value = number(text)
    if not DPI_LOW <= value <= DPI_HIGH:
        raise typer.BadParameter(f"must be between {DPI_LOW:g} and {DPI_HIGH:g} dpi, "
                                 f"got {value:g}")
    return value


DPI_LOW, DPI_HIGH = 30.0, 600.0  # as gifcli.plots.pattern.DPI_RANGE (which imports matplotlib)
DpiOption = Annotated[float | None, typer.Option(
    "--dpi", metavar="DPI", parser=_dpi,
    help="Resolution of PNG figures, 30 to 600. [dim]Default: 150 (a pattern), 110 (the "
         "gallery).[/dim]")]
QuietOption = Annotated[bool, typer.Option(
    "--quiet", "-q", help="Print nothing but errors: no table, no progress bar, no warnings.")]
JsonOption = Annotated[bool, typer.Option(
    "--json", help="Print machine-readable JSON on stdout instead of the table.")]
DebugOption = Annotated[bool, typer.Option(
    "--debug", help="Show the full Python traceback of an error.")]
MaxStepsOption = Annotated[int, typer.Option(
    "--max-steps", metavar="N", parser=whole(1),
    help="The cap on time steps per run (duration / dt), which guards memory.")]
MethodListOption = Annotated[str, typer.Option(
    "--method", "-m", metavar="exact,euler,exp-euler", callback=choices(METHODS),
    help="Integrators to check, comma-separated; every combination with --dt runs.")]
DtListOption = Annotated[str | None, typer.Option(
    "--dt", metavar="MS[,MS...]", callback=_check_dts,
    help="Time steps in ms, comma-separated (0.01,0.1). [dim]Default: each preset's.[/dim]")]



PresetsArgument = Annotated[list[str] | None, typer.Argument(
    metavar="NAME|LETTER|FILE...", show_default=False, autocompletion=complete_preset,
    help="Presets by name (tonic_spiking), letter (A) or YAML file.")]
PresetArgument = Annotated[str, typer.Argument(
    metavar="NAME|LETTER|FILE", autocompletion=complete_preset,
    help="A preset name, its letter (A–T) or a YAML file.")]

