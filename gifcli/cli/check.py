"""``gif check``: do presets show their patterns, for every method and time step asked."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer

from gifcli.cli.app import command
from gifcli.cli.options import (
    DebugOption,
    DtListOption,
    JsonOption,
    MaxStepsOption,
    MethodListOption,
    PresetsArgument,
    QuietOption,
    SetOption,
    parse_dts,
    split_list,
)
from gifcli.cli.terminal import (
    EXIT_CHECK_FAILED,
    FEW_ROWS,
    Column,
    checks_summary,
    compiled_kernels,
    fitted_table,
    markup_safe,
    print_json,
    print_notes,
    print_reasons,
    progress_bar,
    reporting_errors,
    stdout,
    table_width,
    verdict_cell,
)
from gifcli.model.parameters import DEFAULT_MAX_STEPS


@command()
def check(
    presets: PresetsArgument = None,
    method: MethodListOption = "exact",
    dt: DtListOption = None,
    set_: SetOption = None,
    quiet: QuietOption = False,
    json_: JsonOption = False,
    debug: DebugOption = False,
    max_steps: MaxStepsOption = DEFAULT_MAX_STEPS,
) -> None:
    """Check that presets show their patterns; all 20 when none are named. Writes no files.

    Every combination of --method and --dt runs; over several, a preset × (method, dt)
    matrix shows ✓ and ✗, with the failures spelled out below it. Exits 1 if any check
    fails.

    The margin is the tightest condition's margin over its scale: how far the run is from
    failing (from passing, when negative).

    Examples:
      [bold]gif check[/bold]
      [bold]gif check --method exact,euler,exp-euler --dt 0.01,0.1[/bold]
      [bold]gif check tonic_bursting --set a=0.01 --json[/bold]
    """
    with reporting_errors(debug, quiet):
        from gifcli.cli import runner, warmup

        methods, dts = split_list(method), parse_dts(dt)
        chosen = runner.select_presets(presets or [], not presets, set_ or [])
        runner.check_sizes(chosen, dts, max_steps)
        total = len(chosen) * len(methods) * len(dts)
        compiled_kernels(warmup.warm_single_runs, quiet or json_)
        with progress_bar(total, quiet or json_) as phase:
            rows = runner.check_presets(chosen, methods, dts, max_steps, phase("check"))
        print_notes([row.outcome for row in rows], quiet)
        failed = [row for row in rows if row.outcome.failed]
        if json_:
            print_json([row.as_json() for row in rows])
        elif quiet:
            for row in failed:
                r = row.outcome.result
                sys.stderr.write(f"gif: FAIL {r.preset.name} ({r.method}, dt {r.dt:g} ms): "
                                 f"{row.outcome.verdict.reason}\n")
        else:
            _check_table(rows)
        if failed:
            raise typer.Exit(EXIT_CHECK_FAILED)


def _check_table(rows: Sequence[Any]) -> None:
    """One row per run; over several methods or time steps, a preset × (method, dt) matrix
    of ✓ and ✗ instead. The failures are spelled out under either."""
    outcomes = [row.outcome for row in rows]
    runs = list(dict.fromkeys((o.result.method, o.result.dt) for o in outcomes))
    console = stdout()
    if len(runs) == 1:
        table = fitted_table(None, [
            Column("", [o.result.preset.letter or "" for o in outcomes], style="bold"),
            Column("preset", [markup_safe(o.result.preset.name) for o in outcomes],
                   justify="left", style="cyan", fold=True),
            Column("method", [o.result.method for o in outcomes], justify="left", drop=2),
            Column("dt\n(ms)", [f"{o.result.dt:g}" for o in outcomes], drop=3),
            Column("spikes", [str(o.result.n_spikes) for o in outcomes], drop=1),
            Column("margin", [_margin(o) for o in outcomes]),
            Column("check", [verdict_cell(o) for o in outcomes], justify="left"),
        ], console.width)
    else:
        table = _matrix(outcomes, runs, console.width)
    console.print(table)
    print_reasons(outcomes, every=len(outcomes) <= FEW_ROWS)
    checked = sum(o.verdict is not None for o in outcomes)
    console.print(checks_summary(sum(o.failed for o in outcomes), checked))


LEGEND = "✓ passes, ✗ fails, · no check"


def _matrix(outcomes: Sequence[Any], runs: Sequence[tuple[str, float]], width: int) -> Any:
    """Presets down and (method, dt) across if that fits in ``width``; else transposed, one
    row per (method, dt) and a column per preset letter, which keeps every header whole (20
    presets × 18 runs fit 80 columns). The narrower of the two if neither fits."""
    by_run = {(o.result.preset.name, o.result.method, o.result.dt): o for o in outcomes}
    presets = list({o.result.preset.name: o.result.preset for o in outcomes}.values())
    marks = {None: "[dim]·[/dim]", True: "[green]✓[/green]", False: "[bold red]✗[/bold red]"}

    def mark(preset: Any, method: str, dt: float) -> str:
        verdict = by_run[(preset.name, method, dt)].verdict
        return marks[None if verdict is None else bool(verdict.passed)]

    across = fitted_table(LEGEND, [
        Column("", [p.letter or "" for p in presets], style="bold"),
        Column("preset", [markup_safe(p.name) for p in presets], justify="left",
               style="cyan", drop=1 if all(p.letter for p in presets) else 0),
        *(Column(f"{method}\n{dt:g}", [mark(p, method, dt) for p in presets], justify="center")
          for method, dt in runs),
    ], width)
    if table_width(across) <= width:
        return across
    down = fitted_table(LEGEND, [
        Column("method", [method for method, _ in runs], justify="left"),
        Column("dt\n(ms)", [f"{dt:g}" for _, dt in runs]),
        *(Column(markup_safe(p.letter or p.name), [mark(p, m, dt) for m, dt in runs],
                 justify="center", style="bold") for p in presets),
    ], width)
    return min((down, across), key=table_width)


def _margin(outcome: Any) -> str:
    verdict = outcome.verdict
    return "" if verdict is None or verdict.margin is None else f"{verdict.margin.relative:.2g}"
