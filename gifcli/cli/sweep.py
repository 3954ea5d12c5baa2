"""``gif sweep``: a preset run over a grid of one to three varied quantities, in this process
or on Dask workers, held in memory or written chunk by chunk to a zarr store."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Any

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
    bar_console,
    compiled_kernels,
    fail,
    interruption,
    markup_safe,
    new_table,
    number_text,
    print_json,
    reporting_errors,
    stdout,
    timed_progress,
    warn,
)
from gifcli.core.errors import GifError
from gifcli.model.parameters import DEFAULT_MAX_STEPS

GRID_FORMATS = ("csv", "png", "svg", "pdf", "json", "zarr", "nc")
MAX_RANGE_ROWS = 40  # rows of the pass-range table; the JSON summary has them all

SweepParamOption = Annotated[list[str], typer.Option(
    "--param", "-p", metavar="P[=X:Y:N|=V1,V2,...]",
    help="A quantity to vary: a model parameter (a, b, tau, A1, ...), input_scale (which "
         "multiplies every input amplitude) or an initial value (initial.V_th, ...). "
         "P=X:Y:N gives N values from X to Y, P=V1,V2,... lists them; repeat --param for "
         "a grid of up to three axes. A bare P takes its values from --start, --stop and "
         "--num, or --values.")]
StartOption = Annotated[float | None, typer.Option(
    "--start", metavar="X", parser=number,
    help="First value of a bare --param (with --stop and --num).",
    show_default=False)]
StopOption = Annotated[float | None, typer.Option(
    "--stop", metavar="X", parser=number, help="Last value, included.", show_default=False)]
NumOption = Annotated[int | None, typer.Option(
    "--num", metavar="N", parser=whole(1),
    help="How many values, evenly spaced from --start to --stop.",
    show_default=False)]
ValuesOption = Annotated[str | None, typer.Option(
    "--values", metavar="V1,V2,...", help="The values of a bare --param, listed.",
    show_default=False)]
MetricOption = Annotated[str, typer.Option(
    "--metric", metavar="M",
    help="What the figure shows: rate_hz, n_spikes, first_spike_ms, isi_cv or n_bursts.")]
GridFormatOption = Annotated[str, typer.Option(
    "--format", "-f", metavar="LIST", callback=choices(GRID_FORMATS),
    help="Which files to write, comma-separated: the table (csv), the figure (png, svg, "
         "pdf), the summary (json), and the labelled grid as a zarr store (zarr, filled "
         "chunk by chunk, needed above 1,000,000 points) or a NetCDF file (nc).")]
WorkersOption = Annotated[int | None, typer.Option(
    "--workers", parser=whole(1), metavar="N",
    help="Run the chunks on N local Dask worker processes.", show_default=False)]
SchedulerOption = Annotated[str | None, typer.Option(
    "--scheduler", metavar="tcp://HOST:PORT",
    help="Run the chunks on a running Dask cluster (dask scheduler / dask worker); with "
         "zarr, the workers write the store, so --out must be a folder they all reach.",
    show_default=False)]
ResumeOption = Annotated[bool, typer.Option(
    "--resume",
    help="Continue an interrupted zarr sweep: compute only the chunks that its store does "
         "not mark as complete.")]
ChunkOption = Annotated[int, typer.Option(
    "--chunk-points", parser=whole(1), metavar="N",
    help="Points per chunk: the unit of work of a worker and of the zarr store.")]


def sweep_axes(params: Sequence[str], start: float | None, stop: float | None,
               num: int | None, values: str | None) -> list[Any]:
    """The axes of ``--param`` options: ``P=X:Y:N``, ``P=V1,V2,...``, or one bare ``P``
    with ``--start/--stop/--num`` or ``--values``."""
    from gifcli.explore import sweep as sw

    bare = [p for p in params if "=" not in p]
    given = [f"--{name}" for name, value in
             (("start", start), ("stop", stop), ("num", num), ("values", values))
             if value is not None]
    if len(bare) > 1:
        raise GifError(f"--param {bare[1]} has no values: only one --param may take "
                       "--start/--stop/--num or --values; give the others as P=X:Y:N or "
                       "P=V1,V2,...")
    if given and not bare:
        raise GifError(f"{given[0]} goes with a bare --param P (the one-axis form); with "
                       "--param P=X:Y:N or P=V1,V2,..., the values are given there")
    axes = []
    for text in params:
        if "=" in text:
            axes.append(sw.parse_axis(text))
            continue
        name = sw.resolve_param(text)
        listed = sw.parse_values(values) if values is not None else None
        axes.append(sw.Axis(name, sw.sweep_values(start, stop, num, listed)))
    return axes


@command()
def sweep(
    preset: PresetArgument,
    param: SweepParamOption,
    start: StartOption = None,
    stop: StopOption = None,
    num: NumOption = None,
    values: ValuesOption = None,
    metric: MetricOption = "rate_hz",
    method: MethodOption = Method.exact,
    dt: DtOption = None,
    set_: SetOption = None,
    input_: InputOption = None,
    out: OutOption = Path("outputs"),
    format_: GridFormatOption = "csv,png",
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    resume: ResumeOption = False,
    chunk_points: ChunkOption = 100_000,
    quiet: QuietOption = False,
    json_: JsonOption = False,
    debug: DebugOption = False,
    max_steps: MaxStepsOption = DEFAULT_MAX_STEPS,
) -> None:
    """Run a preset many times with one to three quantities varied, in batched simulations.

    One axis writes DIR/NAME_sweep_P.csv, one row per value (the value, spikes, rate, first
    spike, ISI CV, bursts, and the check's verdict and margin), and NAME_sweep_P.png, a
    spike raster beside the --metric. Two axes write NAME_sweep_P_Q.* with heat maps of the
    metric and of the check; three, the same maps as small multiples along the third axis.

    The grid runs in chunks of about 100,000 points. --format zarr writes it as a labelled
    grid (an xarray Dataset), each chunk as soon as it is done, so that a grid of up to 1e9
    points never sits in memory, and --resume continues such a store after Ctrl-C. --workers
    and --scheduler run the chunks on Dask workers, with the same results to the bit.

    At the end, a table of the value ranges where the preset's check passes.

    Examples:
      [bold]gif sweep tonic_bursting --param a --start -0.01 --stop 0.02 --num 61[/bold]
      [bold]gif sweep B -p input_scale --values 0.99,1,1.01 --metric first_spike_ms[/bold]
      [bold]gif sweep M -p a=0:0.01:21 -p b=0.01,0.02 --metric n_bursts[/bold]
      [bold]gif sweep M -p a=-0.01:0.01:101 -p A1=0:20:41 -p A2=-1,-0.5,0[/bold]
      [bold]gif sweep M -p a=0:0.01:500 -p A1=0:20:500 -p A2=-1:0:40 -f zarr --workers 2[/bold]
      [bold]gif sweep K -p initial.V_th --start -60 --stop -40 --num 41 -f csv[/bold]
    """
    with reporting_errors(debug, quiet):
        from gifcli import files
        from gifcli.cli import warmup
        from gifcli.explore import sweep as sw
        from gifcli.model.preset import resolve, with_overrides, with_schedule

        chosen = resolve(preset)
        if input_:
            chosen = with_schedule(chosen, input_)
        if set_:
            chosen = with_overrides(chosen, list(set_))
        axes = sweep_axes(param, start, stop, num, values)
        metric = sw.resolve_metric(metric)
        formats = split_list(format_)
        _check_extras(formats, workers, scheduler, resume)
        # Only a zarr store takes a grid too large to hold: the table and NetCDF are whole.
        held = {"csv", "nc"} & set(formats)
        plan = sw.plan_sweep(chosen, axes, method.value, dt, max_steps, chunk_points,
                             stored="zarr" in formats and not held)
        files.check_out_dir(out)
        _check_and_say_the_cost(plan, formats, out, quiet)
        compiled_kernels(warmup.warm_batches, quiet or json_)
        run = _run(plan, out, formats, workers, scheduler, resume, quiet or json_)
        _report(run, plan, metric, formats, out, quiet, json_)


def _check_extras(formats: Sequence[str], workers: int | None, scheduler: str | None,
                  resume: bool) -> None:
    """What needs the cluster extra, and the options that go together."""
    from gifcli.files import store as sweep_store

    if workers is not None and scheduler is not None:
        raise GifError("give either --workers N (local processes) or --scheduler "
                       "tcp://HOST:PORT (a running cluster), not both")
    if resume and "zarr" not in formats:
        raise GifError("--resume continues a zarr store: add zarr to --format")
    if workers is not None:
        sweep_store.require("--workers")
    if scheduler is not None:
        sweep_store.require("--scheduler")
    if "zarr" in formats:
        sweep_store.require("--format zarr")
    if "nc" in formats:
        sweep_store.require("--format nc", netcdf=True)


ESTIMATE_ABOVE_S = 60.0  # a sweep expected to take longer says its cost before it starts


def _check_and_say_the_cost(plan: Any, formats: Sequence[str], out: Path, quiet: bool
                            ) -> None:
    """Refuse a zarr store that cannot fit on the disk, and say what a long sweep costs."""
    import shutil

    from gifcli.explore.sweep import plan as plans

    size, most = (plan.size * plans.STORED_BYTES_PER_POINT,
                  plan.size * plans.STORED_BYTES_PER_POINT_MOST)
    if "zarr" in formats:
        there = next(p for p in (out.absolute(), *out.absolute().parents) if p.exists())
        free = shutil.disk_usage(there).free
        if free < size:
            raise GifError(f"a store of {plan.size:,} points takes about {_bytes(size)} "
                           f"(up to {_bytes(most)}), and {there} has {_bytes(free)} free; "
                           "free some space or sweep fewer points")
    seconds = plan.seconds_estimate
    if not quiet and (seconds > ESTIMATE_ABOVE_S or plan.size > 1_000_000):
        disk = (f", and its store about {_bytes(size)} on disk (up to {_bytes(most)})"
                if "zarr" in formats else "")
        steps, dt = plan.estimate_grid
        stepped = f" (it steps at {plan.dt:.4g} ms, no slower)" if plan.coarse else ""
        warn(f"{plan.size:,} points × {steps:,} steps of {dt:g} ms{stepped}: about "
             f"{_duration(seconds)} at {plans.SWEEP_RATE:.0e} neuron-steps/s (a busy machine "
             f"or many spikes take longer){disk}")


def _bytes(count: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count:.0f} bytes"


def _duration(seconds: float) -> str:
    for unit, length in (("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= length:
            return f"{seconds / length:.3g} {unit}"
    return f"{seconds:.2g} s"


def _command_line() -> str:
    import shlex
    import sys

    return shlex.join(["gif", *sys.argv[1:]])


def _run(plan: Any, out: Path, formats: Sequence[str], workers: int | None,
         scheduler: str | None, resume: bool, hidden: bool) -> Any:
    """Run the chunks (here, or on the cluster); a SweepResult or a StoredSweep."""
    from gifcli import files
    from gifcli.explore import sweep as sw
    from gifcli.files import store as sweep_store
    from gifcli.files import sweep as sweep_files

    executor: Any = nullcontext()
    if workers is not None or scheduler is not None:
        from gifcli.explore.cluster import Cluster

        executor = Cluster(workers, scheduler)
    stem = sweep_files.sweep_stem(plan.preset, [axis.param for axis in plan.axes])
    store_path = out / f"{stem}.zarr"
    if resume:
        sweep_store.check_resumable(store_path)  # before a cluster starts or a folder is made
    with chunk_progress(plan.chunks.count, hidden) as progress, executor as cluster:
        if "zarr" not in formats:
            result = sw.run_plan(plan, progress, cluster)
            return _with_cluster_time(result, cluster)
        files.make_out_dir(out)
        try:
            stored = sweep_store.run_into_store(plan, store_path, _command_line(), resume,
                                                progress, cluster)
        except KeyboardInterrupt as stop:
            raise _interrupted(stop, store_path, plan, cluster) from None
        except sweep_store.StoreFull as full:
            raise _disk_full(full, store_path, plan) from None
    stored = _with_cluster_time(stored, cluster)
    if plan.size <= sw.MAX_POINTS:
        return stored.store.load(plan, stored.seconds, stored.chunks)
    return stored


@contextmanager
def chunk_progress(total: int, hidden: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr that counts chunks as they finish; yields ``update(done,
    total)``. Hidden with --quiet or --json, and when stderr is not a terminal."""
    console = bar_console(hidden)
    if console is None:
        yield lambda done, total: None
        return
    with timed_progress(console, "sweep", "chunks") as bar:
        task = bar.add_task("sweep", total=total)
        yield lambda done, _total: bar.update(task, completed=done)


def _with_cluster_time(run: Any, cluster: Any) -> Any:
    """Where the chunks ran, and how long the cluster took to start (or to reach)."""
    if cluster is None:
        run.chunks["executor"] = "this process"
    else:
        run.seconds["cluster_start"] = cluster.seconds
        run.chunks["executor"] = cluster.description
    return run


def _kept(store_path: Path, plan: Any) -> str | None:
    """What a store cut short holds, and how to go on (None: there is no store)."""
    from gifcli.files import store as sweep_store

    try:
        done = int(sweep_store.Store(store_path.absolute()).done().sum())
    except Exception:  # noqa: BLE001 - no store yet: nothing was kept
        return None
    count = plan.chunks.count
    if done == count:
        return (f"all {count:,} chunks are in {store_path}, and the same command with "
                "--resume finishes it without computing any")
    return (f"{done:,} of {count:,} chunks are in {store_path}, and the same command "
            "with --resume computes the rest")


def _disk_full(full: Exception, store_path: Path, plan: Any) -> typer.Exit:
    """A full disk mid-sweep: like an interruption, the marked chunks are kept."""
    kept = _kept(store_path, plan) or "no chunk was stored; the same command starts the sweep"
    return fail(f"{full}: {kept} once space is free")


def _interrupted(stop: KeyboardInterrupt, store_path: Path, plan: Any,
                 cluster: Any) -> typer.Exit:
    """Ctrl-C (or SIGTERM, SIGHUP) during a zarr sweep: what is kept, and how to go on."""

    message, code = interruption(stop)
    kept = _kept(store_path, plan)
    if kept is None:
        return fail(f"{message}: no chunk was stored; the same command starts the sweep", code)
    running = getattr(cluster, "still_running", 0)
    if running:
        kept += (f"; {running:,} chunk{'s' * (running != 1)} still running on the workers "
                 "may yet be written there, and only there")
    return fail(f"{message}: {kept}", code)


def _report(run: Any, plan: Any, metric: str, formats: Sequence[str], out: Path, quiet: bool,
            json_: bool) -> None:
    """Write the other files, then the table (or the JSON) and the notes."""
    from gifcli.explore.sweep import SweepResult
    from gifcli.files import sweep as sweep_files

    stem = sweep_files.sweep_stem(plan.preset, [axis.param for axis in plan.axes])
    if isinstance(run, SweepResult):
        written = sweep_files.write_sweep(run, out, metric, formats, command=_command_line())
        summary = sweep_files.sweep_summary(run, metric)
    else:
        written = sweep_files.write_stored(run, out, metric, formats)
        summary = sweep_files.stored_summary(run, metric)
    if "zarr" in formats:
        written.insert(0, out / f"{stem}.zarr")
    if not quiet:
        for note in run.notes:
            warn(f"{plan.preset.name}: {note}")
    if json_:
        print_json(summary | {"files": [str(p) for p in written]})
    elif not quiet:
        _pass_table(summary, written)


def _pass_table(summary: dict[str, Any], written: Sequence[Path]) -> None:
    from rich.markup import escape

    console = stdout()
    axes = [axis["param"] for axis in summary["axes"]]
    label = " × ".join(axes)
    name = escape(summary["name"])
    if summary["check"] is None:
        console.print(f"[dim]{name} names no check: no pass ranges.[/dim]")
    else:
        ranges = summary["pass_ranges"]
        count, points = summary["n_passed"], summary["points"]
        style = "green" if count else "bold red"
        console.print(f"[bold]{name}[/bold] ({summary['method']}, dt = {summary['dt']:g} ms): "
                      f"check {escape(summary['check'])} passes at [{style}]{count:,} of "
                      f"{points:,}[/{style}] points of {escape(label)}"
                      + ("" if not ranges else ", in these ranges:" if len(axes) == 1
                         else ", within:"))
        if ranges is None:
            console.print("[dim]pass ranges are listed for grids of up to 1,000,000 points; "
                          "the store holds check_passed at every point[/dim]")
        elif ranges and len(axes) > 1:
            for line in pass_boxes(ranges, summary["axes"]):
                console.print(f"  {escape(line)}")
        elif ranges:
            console.print(_range_table(ranges, axes))
            if len(ranges) > MAX_RANGE_ROWS:
                console.print(f"[dim]… and {len(ranges) - MAX_RANGE_ROWS:,} more ranges "
                              "(all of them in the JSON summary: --json, or -f json)[/dim]")
    low_high = summary["metric_range"]
    metric = summary["metric"]
    span = (f"{metric} from {low_high[0]:.4g} to {low_high[1]:.4g}" if low_high
            else f"{metric} undefined everywhere")
    files_text = ", ".join(str(p) for p in written) if written else "no files"
    console.print(f"[dim]{span}  ·  wrote {markup_safe(files_text)}[/dim]")


MAX_BOX_LINES = 8  # a third axis with more values gets one line for all of them


def pass_boxes(ranges: Sequence[dict[str, Any]], axes: Sequence[dict[str, Any]]) -> list[str]:
    """Where a 2- or 3-axis sweep passes, in a few lines: the smallest box around the passing
    points, per value of the third axis (up to MAX_BOX_LINES of them), values written to the
    precision of each axis's step (``a from -0.005 to 0.012``, not ``-0.00484848``)."""
    names = [axis["param"] for axis in axes]
    steps = [_step(axis["values"]) for axis in axes]
    by_third: dict[float | None, list[dict[str, Any]]] = {}
    for r in ranges:
        by_third.setdefault(r["fixed"][names[2]] if len(names) > 2 else None, []).append(r)
    if len(by_third) > MAX_BOX_LINES:
        by_third = {None: list(ranges)}
    lines = []
    for third, group in sorted(by_third.items(), key=lambda item: item[0] or 0.0):
        parts = []
        for k, (name, step) in enumerate(zip(names, steps, strict=True)):
            if k == 2 and third is not None:
                continue  # it heads the line
            lo = min(r["lo"] if k == 0 else r["fixed"][name] for r in group)
            hi = max(r["hi"] if k == 0 else r["fixed"][name] for r in group)
            parts.append(f"{name} {_span(lo, hi, step)}")
        count = sum(r["count"] for r in group)
        head = f"{names[2]} = {_on_grid(third, steps[2])}: " if third is not None else ""
        lines.append(f"{head}{count:,} point{'s' if count != 1 else ''}, {', '.join(parts)}")
    return lines


def _step(values: Sequence[float]) -> float:
    gaps = [abs(b - a) for a, b in zip(values, values[1:], strict=False) if b != a]
    return min(gaps) if gaps else 0.0


def _on_grid(value: float, step: float) -> str:
    """``value`` to the digits its axis's step resolves (two significant digits of it)."""
    if step <= 0 or not math.isfinite(step) or not math.isfinite(value):
        return number_text(value)
    decimals = max(0, 1 - math.floor(math.log10(step)))
    return number_text(round(value, decimals))


def _span(lo: float, hi: float, step: float) -> str:
    return f"= {_on_grid(lo, step)}" if lo == hi else \
        f"from {_on_grid(lo, step)} to {_on_grid(hi, step)}"


def _range_table(ranges: list[dict[str, Any]], axes: Sequence[str]) -> Any:
    from rich.markup import escape

    table = new_table(None)
    for axis in axes[1:]:
        table.add_column(escape(axis), justify="right", no_wrap=True)
    table.add_column(f"{escape(axes[0])} from", justify="right", no_wrap=True)
    table.add_column("to", justify="right", no_wrap=True)
    table.add_column("points", justify="right", no_wrap=True)
    for r in ranges[:MAX_RANGE_ROWS]:
        fixed = r.get("fixed", {})
        table.add_row(*(number_text(fixed[a]) for a in axes[1:]), number_text(r["lo"]),
                      number_text(r["hi"]), str(r["count"]))
    return table

