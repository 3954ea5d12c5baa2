"""``gif sweep``: a preset run over a grid of one or two varied quantities."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from gifcli.cli.app import app
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
    SweepFormatOption,
    split_list,
)
from gifcli.cli.terminal import (
    new_table,
    number_text,
    points_progress,
    print_json,
    reporting_errors,
    stdout,
    warn,
)
from gifcli.errors import GifError
from gifcli.preset import DEFAULT_MAX_STEPS

SweepParamOption = Annotated[str, typer.Option(
    "--param", "-p", metavar="P",
    help="The quantity to vary: any model parameter (a, b, tau, A1, ...), input_scale (which "
         "multiplies every input amplitude) or an initial value (initial.V, initial.V_th, ...).")]


StartOption = Annotated[float | None, typer.Option(
    "--start", metavar="X", help="First value (with --stop and --num).", show_default=False)]
StopOption = Annotated[float | None, typer.Option(
    "--stop", metavar="X", help="Last value, included.", show_default=False)]
NumOption = Annotated[int | None, typer.Option(
    "--num", metavar="N", help="How many values, evenly spaced from --start to --stop.",
    show_default=False)]
ValuesOption = Annotated[str | None, typer.Option(
    "--values", metavar="V1,V2,...", help="The values, listed (instead of a range).",
    show_default=False)]
Param2Option = Annotated[str | None, typer.Option(
    "--param2", metavar="Q", help="A second quantity to vary: a 2-D grid, drawn as heat maps.",
    show_default=False)]
Start2Option = Annotated[float | None, typer.Option(
    "--start2", metavar="X", help="First value of --param2.", show_default=False)]
Stop2Option = Annotated[float | None, typer.Option(
    "--stop2", metavar="X", help="Last value of --param2, included.", show_default=False)]
Num2Option = Annotated[int | None, typer.Option(
    "--num2", metavar="N", help="How many values of --param2.", show_default=False)]
Values2Option = Annotated[str | None, typer.Option(
    "--values2", metavar="V1,V2,...", help="The values of --param2, listed.",
    show_default=False)]
MetricOption = Annotated[str, typer.Option(
    "--metric", metavar="M",
    help="What the figure shows: rate_hz, n_spikes, first_spike_ms, isi_cv or n_bursts.")]



def _sweep_axis(param: str | None, start: float | None, stop: float | None, num: int | None,
                values: str | None, suffix: str) -> Any:
    from gifcli import sweep as sw

    option = f"--param{suffix}"
    if param is None:
        given = [f"--{name}{suffix}" for name, value in
                 (("start", start), ("stop", stop), ("num", num), ("values", values))
                 if value is not None]
        if given:
            raise GifError(f"{given[0]} needs {option}: name the quantity to vary")
        return None
    name = sw.resolve_param(param, option)
    listed = sw.parse_values(values, f"--values{suffix}") if values is not None else None
    return sw.Axis(name, sw.sweep_values(start, stop, num, listed, suffix))


def _pass_table(result: Any, metric: str, written: Sequence[Path]) -> None:
    from rich.markup import escape

    from gifcli import sweep as sw

    console = stdout()
    axes = result.axes
    label = " × ".join(axis.param for axis in axes)
    passed = result.passed
    if passed is None:
        console.print(f"[dim]{escape(result.preset.name)} names no check: no pass ranges.[/dim]")
    else:
        ranges = sw.pass_ranges(result)
        table = new_table(None)
        for axis in axes[1:]:
            table.add_column(escape(axis.param), justify="right", no_wrap=True)
        table.add_column(f"{escape(axes[0].param)} from", justify="right", no_wrap=True)
        table.add_column("to", justify="right", no_wrap=True)
        table.add_column("points", justify="right", no_wrap=True)
        for r in ranges:
            table.add_row(*(number_text(v) for v in r.fixed), number_text(r.lo),
                          number_text(r.hi), str(r.count))
        count = int(passed.sum())
        style = "green" if count else "bold red"
        console.print(f"[bold]{escape(result.preset.name)}[/bold] ({result.method}, dt = "
                      f"{result.dt:g} ms): check {escape(result.preset.check)} passes at "
                      f"[{style}]{count:,} of {result.size:,}[/{style}] points of "
                      f"{escape(label)}" + (", in these ranges:" if ranges else ""))
        if ranges:
            console.print(table)
    import numpy as np

    finite = result.metric(metric)
    finite = finite[np.isfinite(finite)]
    span = (f"{metric} from {finite.min():.4g} to {finite.max():.4g}" if finite.size
            else f"{metric} undefined everywhere")
    files_text = ", ".join(str(p) for p in written) if written else "no files"
    console.print(f"[dim]{span}  ·  wrote {escape(files_text)}[/dim]")


@app.command()
def sweep(
    preset: Annotated[str, typer.Argument(
        metavar="NAME|LETTER|FILE", help="A preset name, its letter (A–T) or a YAML file.")],
    param: SweepParamOption,
    start: StartOption = None,
    stop: StopOption = None,
    num: NumOption = None,
    values: ValuesOption = None,
    param2: Param2Option = None,
    start2: Start2Option = None,
    stop2: Stop2Option = None,
    num2: Num2Option = None,
    values2: Values2Option = None,
    metric: MetricOption = "rate_hz",
    method: MethodOption = Method.exact,
    dt: DtOption = None,
    set_: SetOption = None,
    out: OutOption = Path("outputs"),
    format_: SweepFormatOption = "csv,png",
    quiet: QuietOption = False,
    json_: JsonOption = False,
    debug: DebugOption = False,
    max_steps: MaxStepsOption = DEFAULT_MAX_STEPS,
) -> None:
    """Run a preset many times with one or two quantities varied, in batched simulations.

    Writes DIR/NAME_sweep_P.csv, one row per value (the value, spikes, rate, first spike,
    ISI CV, bursts, and the check's verdict and margin), and NAME_sweep_P.png, a spike raster
    beside the --metric. --format json adds a summary of the ranges where the check passes.

    With --param2 the grid is 2-D: NAME_sweep_P_Q.csv and .png with two heat maps.

    At the end, a table of the value ranges where the preset's check passes.

    Examples:
      [bold]gif sweep tonic_bursting --param a --start -0.01 --stop 0.02 --num 61[/bold]
      [bold]gif sweep B --param input_scale --values 0.99,1,1.01 --metric first_spike_ms[/bold]
      [bold]gif sweep M -p a --start 0 --stop 0.01 --num 21 --param2 b --values2 0.01,0.02[/bold]
      [bold]gif sweep K -p initial.V_th --start -60 --stop -40 --num 41 --format csv[/bold]
    """
    with reporting_errors(debug):
        from gifcli import files, sweep_files
        from gifcli import sweep as sw
        from gifcli.preset import check_run_size, effective_dt, resolve, with_overrides

        chosen = resolve(preset)
        if set_:
            chosen = with_overrides(chosen, list(set_))
        axes = [_sweep_axis(param, start, stop, num, values, "")]
        second = _sweep_axis(param2, start2, stop2, num2, values2, "2")
        if second is not None:
            axes.append(second)
        metric = sw.resolve_metric(metric)
        formats = split_list(format_)
        sw.check_sweep(chosen, axes)
        check_run_size(chosen, effective_dt(chosen, dt), max_steps)
        files.check_out_dir(out)
        with points_progress("sweep", quiet or json_) as progress:
            result = sw.run_sweep(chosen, axes, method.value, dt, max_steps, progress)
            written = sweep_files.write_sweep(result, out, metric, formats, progress)
        if not quiet:
            for note in result.notes:
                warn(f"{chosen.name}: {note}")
        if json_:
            print_json(sweep_files.sweep_summary(result, metric)
                       | {"files": [str(p) for p in written]})
        elif not quiet:
            _pass_table(result, metric, written)

