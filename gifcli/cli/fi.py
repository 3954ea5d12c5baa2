"""``gif fi``: f–I curves from the probe, with the onset of firing found by bisection."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from gifcli.cli.app import command
from gifcli.cli.completion import complete_preset
from gifcli.cli.options import (
    DebugOption,
    DtOption,
    JsonOption,
    MaxStepsOption,
    Method,
    MethodOption,
    OutOption,
    QuietOption,
    SetOption,
    choices,
    number,
    split_list,
    whole,
)
from gifcli.cli.terminal import (
    compiled_kernels,
    markup_safe,
    new_table,
    points_progress,
    print_json,
    reporting_errors,
    stdout,
    warn,
)
from gifcli.model.parameters import DEFAULT_MAX_STEPS

FI_FORMATS = ("csv", "png", "svg", "pdf", "json")
FiFormatOption = Annotated[str, typer.Option(
    "--format", "-f", metavar="LIST", callback=choices(FI_FORMATS),
    help="Which files to write, comma-separated: the table (csv), the figure (png, svg, "
         "pdf) and the summary (json).")]
# One line per paragraph: the terminal wraps them at its width (a hard break would not).
@command()
def fi(
    presets: Annotated[list[str], typer.Argument(
        metavar="NAME|LETTER|FILE...", autocompletion=complete_preset,
        help="One or more presets, drawn on one plot.")],
    start: Annotated[float, typer.Option("--start", metavar="X", parser=number,
                                         help="First input_scale.")] = 0.0,
    stop: Annotated[float, typer.Option("--stop", metavar="X", parser=number,
                                        help="Last input_scale, included.")] = 2.0,
    num: Annotated[int, typer.Option("--num", metavar="N", parser=whole(1),
                                     help="How many input scales.")] = 201,
    method: MethodOption = Method.exact,
    dt: DtOption = None,
    set_: SetOption = None,
    out: OutOption = Path("outputs"),
    format_: FiFormatOption = "csv,png",
    quiet: QuietOption = False,
    json_: JsonOption = False,
    debug: DebugOption = False,
    max_steps: MaxStepsOption = DEFAULT_MAX_STEPS,
) -> None:
    """f–I curves: each preset's steady-state rate against its input scaled by input_scale.

    The input is one constant 2 s step of input_scale × the preset's largest amplitude; the
    rate is the number of spikes in its last second (bursts and transients average out). The
    onset of firing is found by bisection, and a finer curve is drawn around it: the rate
    rises from zero continuously (class 1) or jumps (class 2). The figure's input is
    I_e/C in V/s.

    Writes DIR/fi_NAME1_NAME2.png and .csv, and prints where each preset starts to fire. Two
    files with the same preset name (one/n.yaml, two/n.yaml) are both kept, each called by
    its path.

    Examples:
      [bold]gif fi class_1_excitability class_2_excitability[/bold]
      [bold]gif fi B H --start 0.8 --stop 1.5 --num 141[/bold]
    """
    with reporting_errors(debug, quiet):
        from gifcli import files
        from gifcli.cli import warmup
        from gifcli.explore import sweep as sw
        from gifcli.files import sweep as sweep_files
        from gifcli.model.preset import resolve, with_overrides

        # The same file twice counts once; two files that share a name are both kept.
        chosen = list({os.path.abspath(p.source): p
                       for p in (resolve(ref) for ref in presets)}.values())
        if set_:
            chosen = [with_overrides(p, list(set_)) for p in chosen]
        formats = split_list(format_)
        sw.sweep_values(start, stop, num)  # validate the range before anything runs
        files.check_out_dir(out)
        compiled_kernels(warmup.warm_batches, quiet or json_)
        with points_progress("fi", quiet or json_) as progress:
            curves = sw.fi_curves(chosen, start, stop, num, method.value, dt, max_steps,
                                  progress)
        written = sweep_files.write_fi(curves, out, formats)
        for curve in curves if not quiet else ():
            if curve.runaway_note:
                warn(f"{curve.name or curve.preset.name}: {curve.runaway_note}")
        if json_:
            print_json(sweep_files.fi_document(curves) | {"files": [str(p) for p in written]})
            return
        if quiet:
            return
        _onset_table(curves, method.value, written)


def _onset_table(curves: Sequence[Any], method: str, written: Sequence[Path]) -> None:
    from rich.markup import escape

    from gifcli.files import sweep as sweep_files

    table = new_table(f"onset of sustained firing ({method})")
    table.add_column("", style="bold", no_wrap=True, min_width=1)
    table.add_column("preset", style="cyan", no_wrap=True)
    table.add_column("onset\ninput", justify="right", no_wrap=True)
    table.add_column("× the\ninput", justify="right", no_wrap=True)
    table.add_column("onset rate\n(Hz)", justify="right", no_wrap=True)
    table.add_column("max rate\n(Hz)", justify="right", no_wrap=True)
    for curve in curves:
        summary = sweep_files.fi_summary(curve)
        onset = summary["onset"]
        top = summary["max_rate_hz"]
        table.add_row(curve.preset.letter or "", escape(curve.name or curve.preset.name),
                      *(("—", "—", "—") if onset is None else
                        (f"{onset['input']:.6g}", f"{onset['input_scale']:.6g}",
                         f"{onset['rate_hz']:.3g}")),
                      "—" if top is None else f"{top:.3g}")
    console = stdout()
    console.print(table)
    files_text = ", ".join(str(p) for p in written) if written else "no files"
    console.print(f"[dim]wrote {markup_safe(files_text)}[/dim]")

