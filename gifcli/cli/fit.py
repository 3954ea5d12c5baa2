"""``gif fit``: the parameters that reproduce a spike train, or that make a preset show a
pattern, by CMA-ES over batched simulations."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gifcli.cli.app import command
from gifcli.cli.options import (
    DebugOption,
    DtOption,
    InputOption,
    JsonOption,
    MaxStepsOption,
    Method,
    MethodOption,
    OutOption,
    PresetArgument,
    QuietOption,
    SetOption,
    choices,
    number,
    split_list,
    whole,
)
from gifcli.cli.terminal import (
    EXIT_CHECK_FAILED,
    compiled_kernels,
    markup_safe,
    new_table,
    number_text,
    print_json,
    reporting_errors,
    stderr,
    stdout,
    warn,
)
from gifcli.model.parameters import DEFAULT_MAX_STEPS

if TYPE_CHECKING:
    from gifcli.explore.fit import FitResult, Generation

# As gifcli.explore.fit and gifcli.files.fit, which import numba and matplotlib.
FIT_FORMATS = ("yaml", "json", "png", "svg", "pdf")
DEFAULT_BUDGET, DEFAULT_RESTARTS, DEFAULT_SEED, WINDOW_MS = 100_000, 5, 1, 2.0


def _window(text: str | float) -> float:
    value = number(text)
    if not value > 0:
        raise typer.BadParameter(f"must be a number of ms > 0, got {value:g}")
    return value


FreeOption = Annotated[list[str], typer.Option(
    "--free", "-F", metavar="P=LO:HI", show_default=False,
    help="A quantity to fit and its bounds: any model parameter (a=-0.05:0.05, A1=0:20), "
         "input_scale or an initial value (initial.V_th=-60:-40); repeatable.")]
TargetOption = Annotated[list[Path] | None, typer.Option(
    "--target", "-t", metavar="FILE", show_default=False,
    help="The spike train to reproduce: a CSV with a t_ms column (one spike a row), or the "
         "JSON of a run (gif run NAME writes NAME.json); repeatable, the losses add up.")]
InputScaleOption = Annotated[list[float] | None, typer.Option(
    "--input-scale", metavar="X", parser=number, show_default=False,
    help="The input of each --target, as a factor on the preset's amplitudes: none, or one "
         "per --target, in order. [dim]Default: 1 each.[/dim]")]
PatternOption = Annotated[str | None, typer.Option(
    "--pattern", "-p", metavar="CHECK", show_default=False,
    help="Instead of a train: the pattern check to pass with the largest margin "
         "(tonic_bursting, phasic_spiking, ...; the names of gif list).")]
WindowOption = Annotated[float, typer.Option(
    "--window", metavar="MS", parser=_window,
    help="Coincidence window Δ of Γ, ± ms.")]
BudgetOption = Annotated[int, typer.Option(
    "--budget", metavar="N", parser=whole(1),
    help="The most simulations; the search usually converges well before.")]
SeedOption = Annotated[int, typer.Option(
    "--seed", metavar="N", parser=whole(0),
    help="Seed of the optimizer: the same seed, the same files.")]
RestartsOption = Annotated[int, typer.Option(
    "--restarts", metavar="N", parser=whole(0),
    help="Restarts (each with twice the population) of a search that converged short of "
         "its goal (Γ = 1, or a passing check).")]
PopsizeOption = Annotated[int | None, typer.Option(
    "--popsize", metavar="N", parser=whole(2), show_default=False,
    help="Candidates per generation, all simulated in one batched call. [dim]Default: 32, "
         "or more for many free quantities.[/dim]")]
FitFormatOption = Annotated[str, typer.Option(
    "--format", "-f", metavar="yaml,json,png,svg,pdf", callback=choices(FIT_FORMATS),
    help="Which files to write, comma-separated: the fitted preset (yaml), the summary "
         "(json), the figure (png, svg, pdf).")]


@command()
def fit(
    ctx: typer.Context,
    preset: PresetArgument,
    free: FreeOption,
    target: TargetOption = None,
    input_scale: InputScaleOption = None,
    pattern: PatternOption = None,
    window: WindowOption = WINDOW_MS,
    budget: BudgetOption = DEFAULT_BUDGET,
    seed: SeedOption = DEFAULT_SEED,
    restarts: RestartsOption = DEFAULT_RESTARTS,
    popsize: PopsizeOption = None,
    method: MethodOption = Method.exact,
    dt: DtOption = None,
    set_: SetOption = None,
    input_: InputOption = None,
    out: OutOption = Path("outputs"),
    format_: FitFormatOption = "yaml,json,png",
    quiet: QuietOption = False,
    json_: JsonOption = False,
    debug: DebugOption = False,
    max_steps: MaxStepsOption = DEFAULT_MAX_STEPS,
) -> None:
    """Find the parameters that reproduce a spike train, or that make a preset show a
    pattern.

    The preset gives the input, the initial state and every parameter that is not --free.
    Each --free P=LO:HI names a quantity to search within its bounds. Then either --target
    FILE, a spike train to reproduce (the loss is 1 − Γ, the coincidence factor of Jolivet
    et al. 2008 within ±--window ms; Γ = 1: every spike matched), or --pattern CHECK, a
    pattern's check to pass with the largest margin.

    --target is repeatable, each train with its own input (--input-scale, one per
    --target); the losses add up. The search is CMA-ES, each generation simulated in one
    batched call; a spike-train fit is then polished by least squares on the spike times,
    and the table gives each value's standard error and warns of combinations the trains
    do not determine. Writes
    DIR/NAME_fit.yaml (a preset with the fitted values, which gif run reproduces),
    NAME_fit.json (the values, the loss, Γ or the margin, the history) and NAME_fit.png (the
    trains over the input, and the loss per generation). Exits 1 if a --pattern fit does not
    pass (after writing its files).

    Examples:
      [bold]gif run tonic_bursting --format json[/bold]
      [bold]gif fit M -t outputs/tonic_bursting.json -F a=-0.05:0.05 -F A1=0:20 -F A2=-2:2[/bold]
      [bold]gif fit tonic_spiking --pattern tonic_bursting -F A1=0:20 -F A2=-2:0[/bold]
      [bold]gif fit my_neuron.yaml -t recorded.csv -F tau=5:50 -F b=0.001:0.1 --window 4[/bold]
      [bold]gif fit A -t a.json -t b.json --input-scale 1 --input-scale 1.5 -F tau=5:50[/bold]
    """
    with reporting_errors(debug, quiet):
        if (not target) == (pattern is None):
            raise typer.BadParameter("give either --target FILE or --pattern CHECK (one)",
                                     ctx=ctx, param_hint="--target / --pattern")
        scales = list(input_scale or [])
        if scales and len(scales) != len(target or []):
            raise typer.BadParameter(f"give one per --target ({len(target or [])}), in order; "
                                     f"got {len(scales)}", ctx=ctx, param_hint="--input-scale")
        from gifcli import files
        from gifcli.explore import fit as fitting
        from gifcli.files import fit as fit_files
        from gifcli.model.preset import resolve, with_overrides, with_schedule

        chosen = resolve(preset)
        if input_:
            chosen = with_schedule(chosen, input_)
        if set_:
            chosen = with_overrides(chosen, list(set_))
        quantities = [fitting.parse_free(text) for text in free]
        goals = ([fitting.SpikeTarget(fitting.read_target(path), window, str(path), scale)
                  for path, scale in zip(target, scales or [1.0] * len(target), strict=True)]
                 if target else [fitting.PatternTarget(pattern)])
        fitting.check_free(chosen, quantities)
        for goal in goals:
            goal.validate(chosen)
        files.check_out_dir(out)
        hidden = quiet or json_
        compiled_kernels(fitting.warm_up, hidden)
        started = time.perf_counter()
        with generation_line(budget, hidden) as progress:
            result = fitting.fit(chosen, quantities, goals, method=method.value, dt=dt,
                                 budget=budget, seed=seed, restarts=restarts, popsize=popsize,
                                 max_steps=max_steps, progress=progress)
        seconds = time.perf_counter() - started
        written = fit_files.write_fit(result, out, split_list(format_))
        if not quiet:
            for note in result.notes + tuple(n for run in result.runs for n in run.notes):
                warn(f"{chosen.name}: {note}")
        if json_:
            print_json(fit_files.fit_summary(result) | {"files": [str(p) for p in written]})
        elif not quiet:
            _final_table(result, seconds, written)
        if pattern is not None and not result.verdict.passed:
            raise typer.Exit(EXIT_CHECK_FAILED)


@contextmanager
def generation_line(budget: int, hidden: bool) -> Iterator[Callable[[Generation], None]]:
    """One line on stderr, redrawn after each generation: the run, the simulations against
    the budget, the best so far and the step size. Hidden with --quiet or --json, and when
    stderr is not a terminal."""
    console = None if hidden else stderr()
    if console is None or not console.is_terminal:
        yield lambda generation: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("fit"), BarColumn(bar_width=20), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("", total=budget)

        def update(g: Generation) -> None:
            best = (f"Γ {g.measures['gamma']:.4f}" if "gamma" in g.measures
                    else f"margin {g.measures['margin']:.3g}")
            bar.update(task, completed=g.evaluations,
                       description=f"generation {g.generation} (run {g.restart + 1}, "
                                   f"{g.popsize} each)  {g.evaluations:,} simulations  "
                                   f"best {best}  σ {g.sigma:.2g}")

        yield update


def _final_table(result: FitResult, seconds: float, written: Sequence[Path]) -> None:
    from gifcli.explore.fit import SpikeTarget

    console = stdout()
    searched = (f" (searched at {result.search_dt:.4g} ms)"
                if result.search_dt not in (None, result.dt) else "")
    table = new_table(f"{markup_safe(result.preset.name)}: {result.method}, dt = "
                      f"{result.dt:g} ms{searched}")
    headers = ("free", "from", "to", "start", "fitted") + (
        ("± s.e.",) if result.uncertainty is not None else ())
    for header in headers:
        table.add_column(header, justify="left" if header == "free" else "right",
                         no_wrap=True, style="cyan" if header == "free" else None)
    for f in result.free:
        row = [markup_safe(f.name), number_text(f.lo), number_text(f.hi),
               number_text(result.start[f.name]),
               f"[bold]{number_text(result.values[f.name])}[/bold]"]
        if result.uncertainty is not None:
            row.append(_stderr_text(result.uncertainty.stderr[f.name]))
        table.add_row(*row)
    console.print(table)
    if isinstance(result.target, SpikeTarget):
        for target, gamma, run in zip(result.targets, result.gammas, result.runs, strict=True):
            style = "green" if gamma >= 0.98 else "yellow"
            scale = f" (input × {target.input_scale:g})" if len(result.targets) > 1 else ""
            console.print(f"[{style}]Γ = {gamma:.4f}[/{style}] (loss {1.0 - gamma:.3g}) against "
                          f"{markup_safe(target.source)}{scale}: {run.n_spikes} spikes for its "
                          f"{target.times.size}, ±{target.window:g} ms")
    else:
        verdict = result.verdict
        mark = "[green]✓ pass[/green]" if verdict.passed else "[bold red]✗ FAIL[/bold red]"
        console.print(f"{mark} {markup_safe(result.target.name)}, margin "
                      f"{result.measures['margin']:.3g}: {markup_safe(verdict.reason)}")
    if result.uncertainty is not None:
        for sentence in result.uncertainty.undetermined:
            console.print(f"[yellow]warning: {markup_safe(sentence)}[/yellow]")
    for sentence in result.stops:
        console.print(f"[dim]{markup_safe(sentence)}[/dim]")
    console.print(f"[dim]{_search_line(result, seconds)}  ·  wrote "
                  f"{markup_safe(', '.join(str(p) for p in written) or 'no files')}[/dim]")


def _stderr_text(stderr: float) -> str:
    """A standard error, or 'undetermined' where the trains do not fix the quantity."""
    return "undetermined" if stderr == float("inf") else f"{stderr:.2g}"


def _search_line(result: Any, seconds: float) -> str:
    restarts = f", {result.restarts} restart{'' if result.restarts == 1 else 's'}"
    budget = " (the budget)" if result.stop == "budget" else ""
    return (f"{result.evaluations:,} simulations{budget} in {result.generations} generations"
            f"{restarts if result.restarts else ''}, {seconds:.1f} s, seed {result.seed}")

