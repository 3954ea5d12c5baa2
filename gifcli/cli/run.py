"""``gif run``: simulate presets and write a figure, a CSV and a JSON summary for each.

:func:`simulate_and_report` also serves ``gif gallery``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gifcli.cli.app import command
from gifcli.cli.options import (
    DEFAULT_FORMATS,
    OUTPUT_FORMATS,
    DebugOption,
    DpiOption,
    DtOption,
    FormatOption,
    InputOption,
    JsonOption,
    MaxStepsOption,
    Method,
    MethodOption,
    OutOption,
    PresetsArgument,
    QuietOption,
    SetOption,
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
    number,
    print_json,
    print_notes,
    print_reasons,
    progress_bar,
    reporting_errors,
    stdout,
    verdict_cell,
    warn,
)
from gifcli.model.parameters import DEFAULT_MAX_STEPS

if TYPE_CHECKING:
    from gifcli.cli.runner import Outcome
    from gifcli.model.preset import Preset


def simulate_and_report(
    refs: Sequence[str], every: bool, *, method: str, dt: float | None,
    overrides: Sequence[str], out: Path, formats: Sequence[str], quiet: bool, as_json: bool,
    max_steps: int, gallery: bool = False, dpi: float | None = None, schedule: str | None = None,
) -> None:
    """Validate everything, simulate, write the files, report; exit 1 if a check failed.

    Serves ``gif run NAME ...``, ``gif run --all`` and ``gif gallery`` (``gallery=True``:
    one lettered figure instead of the per-preset files).
    """
    from gifcli import files
    from gifcli.cli import runner, warmup

    presets = runner.select_presets(refs, every, overrides, schedule)
    runner.check_sizes(presets, [dt], max_steps)
    files.check_out_dir(out)
    if not gallery:
        files.check_not_inputs(runner.output_paths(presets, out, formats),
                               [p.source for p in presets])
        if not quiet:
            _warn_if_replacing_shipped(presets, bool(overrides), out, formats)
    compiled_kernels(warmup.warm_single_runs, quiet or as_json)
    with progress_bar(len(presets), quiet or as_json) as phase:
        outcomes = runner.simulate_presets(presets, method, dt, max_steps, phase("simulate"))
        print_notes(outcomes, quiet)
        if gallery:
            phase("draw the gallery")
            written = runner.write_gallery(outcomes, out, formats, dpi)
        else:
            per_preset = runner.write_all(outcomes, out, formats, phase("draw and write"), dpi)
            written = [path for paths in per_preset for path in paths]
    if as_json:
        summaries = [outcome.summary() for outcome in outcomes]
        if gallery:
            print_json({"files": [str(p) for p in written], "presets": summaries})
        else:
            for summary, paths in zip(summaries, per_preset, strict=True):
                summary["files"] = [str(path) for path in paths]
            print_json(summaries)
    elif not quiet:
        _summary_table(outcomes, out, formats, gallery, written)
    if any(outcome.failed for outcome in outcomes):
        raise typer.Exit(EXIT_CHECK_FAILED)


def is_shipped(preset: Preset) -> bool:
    """Whether ``preset`` is one of the 20 shipped ones, unchanged (not a file of the user's
    that shares its name)."""
    from gifcli.model.preset import shipped_presets

    return any(preset.source == p.source and preset.yaml_text == p.yaml_text
               for p in shipped_presets())


def _warn_if_replacing_shipped(presets: Sequence[Preset], modified: bool, out: Path,
                               formats: Sequence[str]) -> None:
    """A changed preset (``--set``, or a file of the user's) that keeps a shipped preset's
    name writes over the files of that preset's own run: say so before they are lost."""
    from gifcli.cli import runner
    from gifcli.model.preset import shipped_presets

    names = {p.name for p in shipped_presets()}
    for preset in presets:
        if preset.name not in names or not (modified or not is_shipped(preset)):
            continue
        existing = [p for p in runner.output_paths([preset], out, formats) if p.exists()]
        if existing:
            suffixes = ",".join(p.suffix.lstrip(".") for p in existing)
            suffixes = suffixes if len(existing) == 1 else f"{{{suffixes}}}"
            changed = ("a run changed by --set" if modified else
                       f"the run of {preset.source} (its name: is the shipped one's)")
            warn(f"replacing {out / preset.name}.{suffixes} of the shipped preset "
                 f"{preset.name} with {changed}; give --out DIR"
                 + ("" if modified else " or another name:") + " to keep both")


def _summary_table(outcomes: Sequence[Outcome], out: Path, formats: Sequence[str],
                   gallery: bool, written: Sequence[Path]) -> None:
    method = ", ".join(sorted({o.result.method for o in outcomes}))
    dts = ", ".join(f"{dt:g}" for dt in sorted({o.result.dt for o in outcomes}))
    features = [outcome.features for outcome in outcomes]
    console = stdout()
    console.print(fitted_table(f"method {method}, dt = {dts} ms", [
        Column("", [o.result.preset.letter or "" for o in outcomes], style="bold"),
        Column("preset", [markup_safe(o.result.preset.name) for o in outcomes],
               justify="left", style="cyan", fold=True),
        Column("spikes", [str(o.result.n_spikes) for o in outcomes]),
        Column("first\nspike\n(ms)", [number(f.first_spike_ms, 2) for f in features], drop=3),
        Column("rate\n(Hz)", [number(f.rate_hz, 1) for f in features], drop=2),
        Column("ISI\nCV", [number(f.isi_cv, 3) for f in features], drop=5),
        Column("bursts", [str(f.n_bursts) for f in features], drop=4),
        Column("check", [verdict_cell(o) for o in outcomes], justify="left"),
    ], console.width))
    print_reasons(outcomes, every=len(outcomes) <= FEW_ROWS)
    if gallery:
        where = ", ".join(str(path) for path in written)
    else:
        chosen = [fmt for fmt in OUTPUT_FORMATS if fmt in formats]
        stem = outcomes[0].result.preset.name if len(outcomes) == 1 else "NAME"
        suffix = chosen[0] if len(chosen) == 1 else "{" + ",".join(chosen) + "}"
        count = len(written)
        where = f"{count} file{'' if count == 1 else 's'}, {out / stem}.{suffix}"
    failed = sum(outcome.failed for outcome in outcomes)
    checked = sum(outcome.verdict is not None for outcome in outcomes)
    console.print(f"{checks_summary(failed, checked)}  ·  wrote {markup_safe(where)}")


@command()
def run(
    ctx: typer.Context,
    presets: PresetsArgument = None,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Run all 20 presets.")] = False,
    method: MethodOption = Method.exact,
    dt: DtOption = None,
    set_: SetOption = None,
    input_: InputOption = None,
    out: OutOption = Path("outputs"),
    format_: FormatOption = DEFAULT_FORMATS,
    quiet: QuietOption = False,
    json_: JsonOption = False,
    debug: DebugOption = False,
    max_steps: MaxStepsOption = DEFAULT_MAX_STEPS,
    dpi: DpiOption = None,
) -> None:
    """Simulate presets and write NAME.png, NAME.csv and NAME.json for each (see --format).

    Prints one summary row per preset and exits 1 if a pattern check fails (after writing).

    Examples:
      [bold]gif run tonic_spiking[/bold]
      [bold]gif run A C M --method euler --dt 0.05[/bold]
      [bold]gif run --all --out figs --format png,svg[/bold]
      [bold]gif run my_neuron.yaml --set a=0.01 --set initial.V_th=-45[/bold]
      [bold]gif run M --input 0x100,2x400[/bold]
    """
    with reporting_errors(debug, quiet):
        if bool(presets) == all_:
            raise typer.BadParameter("name one or more presets, or give --all (not both)",
                                     ctx=ctx, param_hint="NAME|LETTER|FILE... / --all")
        simulate_and_report(presets or [], all_, method=method.value, dt=dt,
                            overrides=set_ or [], out=out, formats=split_list(format_),
                            quiet=quiet, as_json=json_, max_steps=max_steps, dpi=dpi,
                            schedule=input_)


