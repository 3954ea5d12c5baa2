"""``gif gallery``: all 20 patterns in one lettered figure."""

from __future__ import annotations

from pathlib import Path

from gifcli.cli.app import command
from gifcli.cli.options import (
    DebugOption,
    DpiOption,
    DtOption,
    FigureFormatOption,
    JsonOption,
    MaxStepsOption,
    Method,
    MethodOption,
    OutOption,
    QuietOption,
    SetOption,
    split_list,
)
from gifcli.cli.run import simulate_and_report
from gifcli.cli.terminal import reporting_errors
from gifcli.model.parameters import DEFAULT_MAX_STEPS


@command()
def gallery(
    method: MethodOption = Method.exact,
    dt: DtOption = None,
    set_: SetOption = None,
    out: OutOption = Path("outputs"),
    format_: FigureFormatOption = "png",
    quiet: QuietOption = False,
    json_: JsonOption = False,
    debug: DebugOption = False,
    max_steps: MaxStepsOption = DEFAULT_MAX_STEPS,
    dpi: DpiOption = None,
) -> None:
    """Draw all 20 patterns in one 5 × 4 figure lettered A–T, as in the paper's Figure 1.

    Writes DIR/gallery.png; exits 1 if a pattern check fails (the figure marks it).

    Examples:
      [bold]gif gallery[/bold]
      [bold]gif gallery --method euler --dt 0.05 --format png,svg[/bold]
    """
    with reporting_errors(debug, quiet):
        simulate_and_report([], True, method=method.value, dt=dt, overrides=set_ or [],
                            out=out, formats=split_list(format_), quiet=quiet, as_json=json_,
                            max_steps=max_steps, gallery=True, dpi=dpi)

