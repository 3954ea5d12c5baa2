"""``gif check``: do presets show their patterns, for every method and time step asked."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer

from gifcli.cli.app import app
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
    WIDE_TABLE,
    markup_safe,
    new_table,
    print_json,
    print_notes,
    print_table,
    progress_bar,
    reporting_errors,
    stdout,
    verdict_cell,
)
from gifcli.preset import DEFAULT_MAX_STEPS


@app.command()
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

    Every combination of --method and --dt runs. Exits 1 if any check fails. The margin is
    the tightest condition's margin over its scale: how far the run is from failing (from
    passing, when negative).

    Examples:
      [bold]gif check[/bold]
      [bold]gif check --method exact,euler,exp-euler --dt 0.01,0.1[/bold]
      [bold]gif check tonic_bursting --set a=0.01 --json[/bold]
    """
    with reporting_errors(debug, quiet):
        from gifcli import runner

        methods, dts = split_list(method), parse_dts(dt)
        chosen = runner.select_presets(presets or [], not presets, set_ or [])
        runner.check_sizes(chosen, dts, max_steps)
        total = len(chosen) * len(methods) * len(dts)
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
    wide = stdout().width >= WIDE_TABLE
    table = new_table(None)
    table.add_column("", style="bold", no_wrap=True, min_width=1)
    table.add_column("preset", style="cyan", no_wrap=wide, overflow="fold")
    table.add_column("method", no_wrap=True)
    table.add_column("dt\n(ms)", justify="right", no_wrap=True)
    table.add_column("spikes", justify="right", no_wrap=True)
    table.add_column("margin", justify="right", no_wrap=True)
    table.add_column("check", ratio=1 if wide else None, no_wrap=not wide)
    for row in rows:
        r, verdict = row.outcome.result, row.outcome.verdict
        margin = "" if verdict is None or verdict.margin is None else \
            f"{verdict.margin.relative:.2g}"
        table.add_row(r.preset.letter or "", markup_safe(r.preset.name), r.method, f"{r.dt:g}",
                      str(r.n_spikes), margin, verdict_cell(row.outcome, wide))
    print_table(table, [row.outcome for row in rows], wide)
    console = stdout()
    checked = [row for row in rows if row.outcome.verdict is not None]
    failed = sum(row.outcome.failed for row in rows)
    if failed:
        console.print(f"[bold red]{failed} of {len(checked)} checks failed[/bold red]")
    else:
        console.print(f"[green]all {len(checked)} checks passed[/green]")

