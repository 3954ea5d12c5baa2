"""The ``gif`` command line: list, show, run, gallery and check.

Thin on purpose: each command parses its options and calls plain functions in
``gifcli.runner``, ``gifcli.files`` and ``gifcli.plots``. Those heavy modules (numba,
matplotlib) are imported inside the commands that need them, so ``gif --help`` and
``gif list`` start fast.

For new commands: the option types below (``MethodOption``, ``DtOption``, ``SetOption``,
``OutOption``, ``FormatOption``, ``QuietOption``, ``JsonOption``, ``DebugOption``,
``MaxStepsOption``) and the :func:`reporting_errors` context manager are the shared parts.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gifcli import __version__
from gifcli.errors import GifError
from gifcli.model import DEFAULT_DT, METHODS
from gifcli.preset import DEFAULT_MAX_STEPS

if TYPE_CHECKING:
    from rich.console import Console

    from gifcli.runner import Outcome

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
OUTPUT_FORMATS = ("png", "svg", "pdf", "csv", "json")  # as gifcli.runner (which imports numba)
FIGURE_FORMATS = ("png", "svg", "pdf")
SWEEP_FORMATS = ("csv", "png", "svg", "pdf", "json")  # what gifcli.sweep_files writes
DEFAULT_FORMATS = "png,csv,json"

app = typer.Typer(
    name="gif",
    help=(
        "The 20 firing patterns of the Mihalaş–Niebur (2009) generalized integrate-and-fire "
        "neuron: simulate them exactly, check them, and draw them.\n\n"
        "Start with [bold]gif list[/bold], then [bold]gif run tonic_spiking[/bold] and open "
        "outputs/tonic_spiking.png, or [bold]gif run --all[/bold]."
    ),
    epilog=(
        "Exit codes: 0 success; 1 a pattern check failed; 2 bad usage or input; "
        "3 an internal error (please report it); 130 interrupted."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


# --- shared option types ----------------------------------------------------------------------


class Method(StrEnum):
    """The integrators (see gifcli.kernel)."""

    exact = "exact"
    euler = "euler"
    exp_euler = "exp-euler"


def _check_dt(value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise typer.BadParameter(f"must be a finite number of ms > 0, got {value:g}")
    return value


def split_list(text: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``, without repeats, in order."""
    items = [item.strip() for item in text.split(",")]
    return list(dict.fromkeys(item for item in items if item))


def _choices(allowed: Sequence[str]) -> Callable[[str], str]:
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
            value = float(item)
        except ValueError:
            raise typer.BadParameter(f"{item!r} is not a number of ms") from None
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
    "--dt", metavar="MS", callback=_check_dt,
    help=f"Time step in ms. [dim]Default: the preset's, else {DEFAULT_DT:g}.[/dim]")]
SetOption = Annotated[list[str] | None, typer.Option(
    "--set", "-s", metavar="KEY=VALUE",
    help="Override a model parameter (a=0.01) or an initial value (initial.V_th=-30); "
         "repeatable.")]
OutOption = Annotated[Path, typer.Option(
    "--out", "-o", metavar="DIR", help="Folder for the output files; created if needed.")]
FormatOption = Annotated[str, typer.Option(
    "--format", "-f", metavar="png,svg,pdf,csv,json", callback=_choices(OUTPUT_FORMATS),
    help="Which files to write, comma-separated.")]
FigureFormatOption = Annotated[str, typer.Option(
    "--format", "-f", metavar="png,svg,pdf", callback=_choices(FIGURE_FORMATS),
    help="Which figure files to write, comma-separated.")]
SweepFormatOption = Annotated[str, typer.Option(
    "--format", "-f", metavar="csv,png,svg,pdf,json", callback=_choices(SWEEP_FORMATS),
    help="Which files to write, comma-separated: the table (csv), the figure (png, svg, "
         "pdf) and the summary (json).")]
QuietOption = Annotated[bool, typer.Option(
    "--quiet", "-q", help="Print nothing but errors: no table, no progress bar, no warnings.")]
JsonOption = Annotated[bool, typer.Option(
    "--json", help="Print machine-readable JSON on stdout instead of the table.")]
DebugOption = Annotated[bool, typer.Option(
    "--debug", help="Show the full Python traceback of an error.")]
MaxStepsOption = Annotated[int, typer.Option(
    "--max-steps", min=1, metavar="N",
    help="The cap on time steps per run (duration / dt), which guards memory.")]
MethodListOption = Annotated[str, typer.Option(
    "--method", "-m", metavar="exact,euler,exp-euler", callback=_choices(METHODS),
    help="Integrators to check, comma-separated; every combination with --dt runs.")]
DtListOption = Annotated[str | None, typer.Option(
    "--dt", metavar="MS[,MS...]", callback=_check_dts,
    help="Time steps in ms, comma-separated (0.01,0.1). [dim]Default: each preset's.[/dim]")]


# --- errors, warnings and progress --------------------------------------------------------------


# Usage errors (click's ClickException), from click itself or from the copy newer typer vendors.
_CLICK_ERRORS = tuple(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print ``gif: error: MESSAGE`` on stderr and return the Exit to raise."""
    sys.stderr.write(f"gif: error: {message}\n")
    sys.stderr.flush()
    return typer.Exit(code)


@contextmanager
def reporting_errors(debug: bool = False) -> Iterator[None]:
    """Turn what can go wrong into one sentence on stderr and an exit code.

    GifError (bad preset, bad value, unwritable folder, a run that cannot finish) -> exit 2;
    Ctrl-C -> exit 130 (files are written atomically, so none is left half-written);
    anything else is a bug -> exit 3. ``--debug`` re-raises, for the traceback.
    """
    try:
        yield
    except GifError as error:
        if debug:
            raise
        raise fail(str(error)) from None
    except KeyboardInterrupt:
        if debug:
            raise
        raise fail("interrupted; every file already written is complete",
                   EXIT_INTERRUPTED) from None
    except (typer.Exit, typer.Abort, *_CLICK_ERRORS, BrokenPipeError):
        raise  # typer's own handling: usage errors, and a reader that closed the pipe
    except Exception as error:
        if debug:
            raise
        raise fail(f"internal error ({type(error).__name__}: {error}); run again with --debug "
                   "for the traceback, and please report it", EXIT_INTERNAL) from None


def _stdout() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def warn(message: str) -> None:
    sys.stderr.write(f"gif: warning: {message}\n")


@contextmanager
def progress_bar(total: int, label: str, hidden: bool) -> Iterator[Callable[[str], None]]:
    """A rich progress bar on stderr; yields ``advance(name)``.

    Hidden when ``hidden`` (--quiet, --json) and when stderr is not a terminal.
    """
    console = None if hidden else _stderr()
    if console is None or not console.is_terminal:  # no bar in a log file or a pipe
        yield lambda _: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("[dim]{task.fields[item]}"), console=console,
                  transient=True) as bar:
        task = bar.add_task(label, total=total, item="")

        def advance(name: str) -> None:
            bar.update(task, advance=1, item=name)

        yield advance


def print_json(data: Any) -> None:
    from gifcli.files import json_bytes

    sys.stdout.write(json_bytes(data).decode("utf-8"))


def _table(title: str | None) -> Any:
    from rich import box
    from rich.table import Table

    return Table(title=title, title_justify="left", title_style="bold", header_style="bold",
                 box=box.SIMPLE_HEAD, pad_edge=False)


def _number(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


WIDE_TABLE = 110  # below this console width, a check's reason goes under the table


def _verdict_cell(outcome: Outcome, with_reason: bool = True) -> str:
    from rich.markup import escape

    verdict = outcome.verdict
    if verdict is None:
        return "[dim]no check[/dim]"
    reason = f" {escape(str(verdict.reason))}" if with_reason else ""
    if verdict.passed:
        return f"[green]✓ pass[/green][dim]{reason}[/dim]"
    return f"[bold red]✗ FAIL[/bold red]{reason}"


def _print_table(table: Any, outcomes: Sequence[Outcome], wide: bool) -> None:
    """The table, then (on a narrow terminal) each check's reason on a line of its own."""
    from rich.markup import escape

    console = _stdout()
    console.print(table)
    if wide:
        return
    for outcome in outcomes:
        r, verdict = outcome.result, outcome.verdict
        if verdict is not None:
            style = "dim" if verdict.passed else "red"
            console.print(f"[{style}]{r.preset.letter or '-'} {escape(r.preset.name)} "
                          f"({r.method}, {r.dt:g} ms): {escape(str(verdict.reason))}[/{style}]")


def _notes(outcomes: Sequence[Outcome], quiet: bool) -> None:
    if quiet:
        return
    seen: set[str] = set()
    for outcome in outcomes:
        for note in outcome.result.notes:
            line = f"{outcome.result.preset.name}: {note}"
            if line not in seen:
                seen.add(line)
                warn(line)


# --- the version ------------------------------------------------------------------------------


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


# --- list and show ----------------------------------------------------------------------------


def number_text(value: float) -> str:
    """A number as a person writes it, without float noise or lost digits: 1.000001, 200."""
    return format(value, ".15g")


def _short_schedule(segments: Sequence[tuple[float, float]]) -> str:
    return ", ".join(f"{number_text(a)} ({number_text(d)})" for a, d in segments)


def preset_listing() -> list[dict[str, Any]]:
    """What ``gif list`` shows, one mapping per shipped preset."""
    from gifcli.preset import shipped_presets

    return [
        {
            "letter": p.letter,
            "name": p.name,
            "title": p.title,
            "changed_params": p.changed_params,
            "initial": p.initial_given,
            "input": [{"amplitude": a, "duration": d} for a, d in p.segments],
            "duration_ms": p.duration,
            "dt": p.dt,
            "check": p.check,
            "source": p.source,
        }
        for p in shipped_presets()
    ]


@app.command("list")
def list_presets(json_: JsonOption = False, debug: DebugOption = False) -> None:
    """List the 20 presets: letter, name, what differs from the default model, the input.

    Examples:
      [bold]gif list[/bold]
      [bold]gif list --json[/bold]
    """
    with reporting_errors(debug):
        listing = preset_listing()
        if json_:
            print_json(listing)
            return
        console = _stdout()
        wide = console.width >= WIDE_TABLE  # narrow: the name says what the title says
        table = _table("The 20 presets of Mihalaş & Niebur (2009), Figure 1")
        table.add_column("", style="bold", no_wrap=True, min_width=1)
        table.add_column("name", style="cyan", no_wrap=True)
        if wide:
            table.add_column("title")
        table.add_column("params ≠ default")
        table.add_column("input: amplitude (ms), …")
        table.add_column("duration\n(ms)", justify="right")
        for entry in listing:
            changes = {**entry["changed_params"],
                       **{f"initial.{k}": v for k, v in entry["initial"].items()}}
            title = [entry["title"]] if wide else []
            table.add_row(entry["letter"] or "", entry["name"], *title,
                          ", ".join(f"{k}={number_text(v)}" for k, v in changes.items())
                          or "—",
                          _short_schedule([(s["amplitude"], s["duration"])
                                           for s in entry["input"]]),
                          number_text(entry["duration_ms"]))
        console.print(table)
        console.print("[dim]Show one with [bold]gif show NAME[/bold]; run one with "
                      "[bold]gif run NAME[/bold] (a name or a letter).[/dim]")


def _is_file_ref(ref: str) -> bool:
    # The same rule as gifcli.preset.resolve.
    return ref.endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref or Path(ref).is_file()


def preset_yaml(ref: str, name: str) -> str:
    """The YAML text of the preset that ``ref`` resolved to (a user file or a shipped one)."""
    from gifcli.preset import shipped_dir

    if _is_file_ref(ref):
        return Path(ref).read_text(encoding="utf-8")
    return shipped_dir().joinpath(f"{name}.yaml").read_text(encoding="utf-8")


@app.command()
def show(
    preset: Annotated[str, typer.Argument(
        metavar="NAME|LETTER|FILE", help="A preset name, its letter (A–T) or a YAML file.")],
    json_: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Show a preset: its YAML, what it demonstrates, and the check it must pass.

    Examples:
      [bold]gif show tonic_spiking[/bold]
      [bold]gif show F[/bold]
      [bold]gif show my_neuron.yaml[/bold]
    """
    with reporting_errors(debug):
        from gifcli.checks import CHECKS
        from gifcli.preset import resolve

        found = resolve(preset)
        text = preset_yaml(preset, found.name)
        rule = str(CHECKS[found.check]) if found.check else None
        if json_:
            print_json({"name": found.name, "title": found.title, "letter": found.letter,
                        "source": found.source, "description": found.description,
                        "check": found.check, "check_rule": rule, "yaml": text})
            return
        from rich.markup import escape
        from rich.panel import Panel
        from rich.syntax import Syntax

        console = _stdout()
        heading = f"{found.letter}  {found.title}" if found.letter else found.title
        console.print(f"[bold]{escape(heading)}[/bold]  [dim]{escape(found.source)}[/dim]")
        if found.description:
            console.print(escape(found.description))
        if rule:
            console.print(f"[bold]Check[/bold] [cyan]{escape(found.check)}[/cyan]: "
                          f"{escape(rule)}")
        else:
            console.print("[dim]No check: this preset names none.[/dim]")
        console.print(Panel(Syntax(text.rstrip("\n"), "yaml", theme="ansi_dark",
                                   background_color="default"),
                            title=escape(found.source), title_align="left", expand=False))


# --- run and gallery: one shared path -----------------------------------------------------------


def simulate_and_report(
    refs: Sequence[str], every: bool, *, method: str, dt: float | None,
    overrides: Sequence[str], out: Path, formats: Sequence[str], quiet: bool, as_json: bool,
    max_steps: int, gallery: bool = False,
) -> None:
    """Validate everything, simulate, write the files, report; exit 1 if a check failed.

    Serves ``gif run NAME ...``, ``gif run --all`` and ``gif gallery`` (``gallery=True``:
    one lettered figure instead of the per-preset files).
    """
    from gifcli import files, runner

    presets = runner.select_presets(refs, every, overrides)
    runner.check_sizes(presets, [dt], max_steps)
    files.check_out_dir(out)
    steps = len(presets) + (1 if gallery else len(presets))
    with progress_bar(steps, "gallery" if gallery else "run", quiet or as_json) as advance:
        outcomes = runner.simulate_presets(presets, method, dt, max_steps, advance)
        _notes(outcomes, quiet)
        if gallery:
            written = runner.write_gallery(outcomes, out, formats)
            advance("gallery")
        else:
            per_preset = runner.write_all(outcomes, out, formats, advance)
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


def _summary_table(outcomes: Sequence[Outcome], out: Path, formats: Sequence[str],
                   gallery: bool, written: Sequence[Path]) -> None:
    from rich.markup import escape

    method = ", ".join(sorted({o.result.method for o in outcomes}))
    dts = ", ".join(f"{dt:g}" for dt in sorted({o.result.dt for o in outcomes}))
    wide = _stdout().width >= WIDE_TABLE
    table = _table(f"method {method}, dt = {dts} ms")
    table.add_column("", style="bold", no_wrap=True, min_width=1)
    table.add_column("preset", style="cyan", no_wrap=wide, overflow="fold")
    for header in ("spikes", "first\nspike\n(ms)", "rate\n(Hz)", "ISI\nCV", "bursts"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("check", ratio=1 if wide else None, no_wrap=not wide)
    for outcome in outcomes:
        preset, f = outcome.result.preset, outcome.features
        table.add_row(preset.letter or "", escape(preset.name), str(outcome.result.n_spikes),
                      _number(f.first_spike_ms, 2), _number(f.rate_hz, 1),
                      _number(f.isi_cv, 3), str(f.n_bursts), _verdict_cell(outcome, wide))
    _print_table(table, outcomes, wide)
    console = _stdout()
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
    verdict = (f"[bold red]{failed} of {checked} checks failed[/bold red]" if failed
               else f"[green]{checked} of {checked} checks passed[/green]")
    console.print(f"{verdict}  ·  wrote {escape(where)}")


PresetsArgument = Annotated[list[str] | None, typer.Argument(
    metavar="NAME|LETTER|FILE...", show_default=False,
    help="Presets by name (tonic_spiking), letter (A) or YAML file.")]


@app.command()
def run(
    ctx: typer.Context,
    presets: PresetsArgument = None,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Run all 20 presets.")] = False,
    method: MethodOption = Method.exact,
    dt: DtOption = None,
    set_: SetOption = None,
    out: OutOption = Path("outputs"),
    format_: FormatOption = DEFAULT_FORMATS,
    quiet: QuietOption = False,
    json_: JsonOption = False,
    debug: DebugOption = False,
    max_steps: MaxStepsOption = DEFAULT_MAX_STEPS,
) -> None:
    """Simulate presets and write NAME.png, NAME.csv and NAME.json for each (see --format).

    Prints one summary row per preset and exits 1 if a pattern check fails (after writing).

    Examples:
      [bold]gif run tonic_spiking[/bold]
      [bold]gif run A C M --method euler --dt 0.05[/bold]
      [bold]gif run --all --out figs --format png,svg[/bold]
      [bold]gif run my_neuron.yaml --set a=0.01 --set initial.V_th=-45[/bold]
    """
    with reporting_errors(debug):
        if bool(presets) == all_:
            raise typer.BadParameter("name one or more presets, or give --all (not both)",
                                     ctx=ctx, param_hint="NAME|LETTER|FILE... / --all")
        simulate_and_report(presets or [], all_, method=method.value, dt=dt,
                            overrides=set_ or [], out=out, formats=split_list(format_),
                            quiet=quiet, as_json=json_, max_steps=max_steps)


@app.command()
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
) -> None:
    """Draw all 20 patterns in one 5 × 4 figure lettered A–T, as in the paper's Figure 1.

    Writes DIR/gallery.png; exits 1 if a pattern check fails (the figure marks it).

    Examples:
      [bold]gif gallery[/bold]
      [bold]gif gallery --method euler --dt 0.05 --format png,svg[/bold]
    """
    with reporting_errors(debug):
        simulate_and_report([], True, method=method.value, dt=dt, overrides=set_ or [],
                            out=out, formats=split_list(format_), quiet=quiet, as_json=json_,
                            max_steps=max_steps, gallery=True)


# --- check ------------------------------------------------------------------------------------


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
    with reporting_errors(debug):
        from gifcli import runner

        methods, dts = split_list(method), parse_dts(dt)
        chosen = runner.select_presets(presets or [], not presets, set_ or [])
        runner.check_sizes(chosen, dts, max_steps)
        total = len(chosen) * len(methods) * len(dts)
        with progress_bar(total, "check", quiet or json_) as advance:
            rows = runner.check_presets(chosen, methods, dts, max_steps, advance)
        _notes([row.outcome for row in rows], quiet)
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
    from rich.markup import escape

    wide = _stdout().width >= WIDE_TABLE
    table = _table(None)
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
        table.add_row(r.preset.letter or "", escape(r.preset.name), r.method, f"{r.dt:g}",
                      str(r.n_spikes), margin, _verdict_cell(row.outcome, wide))
    _print_table(table, [row.outcome for row in rows], wide)
    console = _stdout()
    checked = [row for row in rows if row.outcome.verdict is not None]
    failed = sum(row.outcome.failed for row in rows)
    if failed:
        console.print(f"[bold red]{failed} of {len(checked)} checks failed[/bold red]")
    else:
        console.print(f"[green]all {len(checked)} checks passed[/green]")


# --- sweep and fi -------------------------------------------------------------------------------


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


@contextmanager
def _points_progress(label: str, hidden: bool) -> Iterator[Callable[[str, int, int], None]]:
    """One rich progress bar over the grid points, through simulate, check and write."""
    console = None if hidden else _stderr()
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

    console = _stdout()
    axes = result.axes
    label = " × ".join(axis.param for axis in axes)
    passed = result.passed
    if passed is None:
        console.print(f"[dim]{escape(result.preset.name)} names no check: no pass ranges.[/dim]")
    else:
        ranges = sw.pass_ranges(result)
        table = _table(None)
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
        with _points_progress("sweep", quiet or json_) as progress:
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


@app.command()
def fi(
    presets: Annotated[list[str], typer.Argument(
        metavar="NAME|LETTER|FILE...", help="One or more presets, drawn on one plot.")],
    start: Annotated[float, typer.Option("--start", metavar="X",
                                         help="First input_scale.")] = 0.0,
    stop: Annotated[float, typer.Option("--stop", metavar="X",
                                        help="Last input_scale, included.")] = 2.0,
    num: Annotated[int, typer.Option("--num", metavar="N",
                                     help="How many input scales.")] = 201,
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
    """f–I curves: each preset's steady-state rate against its input scaled by input_scale.

    The input is one constant 2 s step of input_scale × the preset's largest amplitude; the
    rate is 1000 / its last interval (0 with fewer than 3 spikes). The onset of firing is
    found by bisection, and a finer curve is drawn around it: the rate rises from zero
    continuously (class 1) or jumps (class 2).

    Writes DIR/fi_NAME1_NAME2.png and .csv, and prints where each preset starts to fire.

    Examples:
      [bold]gif fi class_1_excitability class_2_excitability[/bold]
      [bold]gif fi B H --start 0.8 --stop 1.5 --num 141[/bold]
    """
    with reporting_errors(debug):
        from gifcli import files, sweep_files
        from gifcli import sweep as sw
        from gifcli.preset import resolve, with_overrides

        chosen = list({p.name: p for p in (resolve(ref) for ref in presets)}.values())
        if set_:
            chosen = [with_overrides(p, list(set_)) for p in chosen]
        formats = split_list(format_)
        sw.sweep_values(start, stop, num)  # validate the range before anything runs
        files.check_out_dir(out)
        with _points_progress("fi", quiet or json_) as progress:
            curves = sw.fi_curves(chosen, start, stop, num, method.value, dt, max_steps,
                                  progress)
        written = sweep_files.write_fi(curves, out, formats)
        if json_:
            print_json({"curves": [sweep_files.fi_summary(curve) for curve in curves],
                        "files": [str(p) for p in written]})
            return
        if quiet:
            return
        _onset_table(curves, method.value, written)


def _onset_table(curves: Sequence[Any], method: str, written: Sequence[Path]) -> None:
    from rich.markup import escape

    from gifcli import sweep_files

    table = _table(f"onset of sustained firing ({method})")
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
        table.add_row(curve.preset.letter or "", escape(curve.preset.name),
                      *(("—", "—", "—") if onset is None else
                        (f"{onset['input']:.6g}", f"{onset['input_scale']:.6g}",
                         f"{onset['rate_hz']:.3g}")),
                      "—" if top is None else f"{top:.3g}")
    console = _stdout()
    console.print(table)
    files_text = ", ".join(str(p) for p in written) if written else "no files"
    console.print(f"[dim]wrote {escape(files_text)}[/dim]")


def main() -> None:
    """The ``gif`` console script."""
    app(prog_name="gif")


if __name__ == "__main__":
    main()
