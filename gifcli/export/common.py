"""What every export shares: the request and its checks, the input as runs of grid steps,
the header, and the writing of the files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from gifcli import __version__
from gifcli.core.atomic import write_files
from gifcli.core.errors import GifError
from gifcli.model.parameters import DEFAULT_MAX_STEPS, PARAMETER_NAMES
from gifcli.model.preset import Preset, check_run_size, effective_dt
from gifcli.simulation.grid import build_grid

#: Each target and the methods it can reproduce (the first is its default).
TARGETS: dict[str, tuple[str, ...]] = {
    "brian2": ("exact", "euler"),
    "nestml": ("exact",),
    "brainpy": ("exp-euler",),
}


class ExportError(GifError):
    """An export that cannot be made as asked (a target or method that does not fit)."""


@dataclass(frozen=True)
class Export:
    """What a target's writer needs: the preset, the method, dt, and the input as runs of
    (amplitude, number of steps) that cover the whole run on the grid of dt."""

    preset: Preset
    method: str
    dt: float
    runs: tuple[tuple[float, int], ...]
    notes: tuple[str, ...]
    command: str

    @property
    def n_steps(self) -> int:
        return sum(count for _, count in self.runs)

    @property
    def params(self) -> dict[str, float]:
        return {name: self.preset.params[name] for name in PARAMETER_NAMES}


#: The end of every exported script: its spikes in a file that gif fit --target reads.
WRITE_SPIKES = '''
def write_spikes(steps, file_name):
    """The spike steps as a t_ms column, in OUT_DIR (argv[1]) or beside this file. The spike
    of step k is found on the state at its end, (k + 1) * DT, as in gifcli."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    out.mkdir(parents=True, exist_ok=True)
    path = out / file_name
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["t_ms"])
        writer.writerows([repr(round(float(step + 1) * DT, 9))] for step in steps)
    print(f"{len(steps)} spikes -> {path}")
'''


def step_runs(preset: Preset, dt: float) -> tuple[tuple[tuple[float, int], ...], tuple[str, ...]]:
    """The schedule on the grid as fixed-step gifcli lays it (a boundary between grid points
    moves to the nearest one): runs of (amplitude, steps), and what the grid changed."""
    grid = build_grid(list(preset.segments), dt, exact=False)
    edges = [0, *(int(step) for step in grid.boundary_step), grid.n_steps]
    runs = [(float(amplitude), min(stop, grid.n_steps) - min(start, grid.n_steps))
            for amplitude, start, stop in zip(grid.amplitudes, edges[:-1], edges[1:], strict=True)]
    return tuple(run for run in runs if run[1] > 0), grid.notes


def prepare(preset: Preset, target: str, method: str | None, dt: float | None,
            command: str, max_steps: int | None = DEFAULT_MAX_STEPS) -> Export:
    """The export of ``preset`` to ``target``, checked: an unknown target, a method the target
    cannot reproduce, or a bad dt raise :class:`ExportError` (or PresetError) with one sentence."""
    if target not in TARGETS:
        raise ExportError(f"unknown export target {target!r}; choose from "
                          f"{', '.join(TARGETS)}")
    methods = TARGETS[target]
    method = method or methods[0]
    if method not in methods:
        raise ExportError(f"--to {target} reproduces the method{'s' * (len(methods) > 1)} "
                          f"{' and '.join(methods)}, not {method}")
    step = effective_dt(preset, dt)
    check_run_size(preset, step, max_steps)
    runs, notes = step_runs(preset, step)
    return Export(preset, method, step, runs, notes, command)


def header(export: Export, target: str, differences: tuple[str, ...], comment: str = "#") -> str:
    """The comment that opens every exported file: where it came from and how its
    integration differs from gifcli's."""
    preset = export.preset
    lines = [
        f"{preset.title} ({preset.name}), exported from gifcli {__version__} to {target}.",
        f"Preset: {preset.source}" + (f"; overrides: {preset.overrides}" if preset.overrides
                                      else ""),
        f"Command: {export.command}",
        f"Method: {export.method}, dt = {export.dt!r} ms, {export.n_steps} steps "
        f"({export.n_steps * export.dt:g} ms).",
        f"Writes {preset.name}_{target}_spikes.csv (a t_ms column, as gif fit --target reads).",
        "",
        "How this integration differs from gifcli's (docs/export.md has the table):",
        *(f"- {line}" for line in differences),
        *(f"- the grid: {note}" for note in export.notes),
    ]
    # the differences wrapped; the command line whole, so that it can be copied
    wrapped = [piece for line in lines
               for piece in (textwrap.wrap(line, 94, subsequent_indent="  ")
                             if line.startswith("- ") else [line])]
    return "".join(f"{comment} {line}".rstrip() + "\n" for line in wrapped)


def export(preset: Preset, target: str, out: Path | str, method: str | None = None,
           dt: float | None = None, command: str = "gifcli.export.export()",
           max_steps: int | None = DEFAULT_MAX_STEPS) -> list[Path]:
    """Write the export of ``preset`` to ``target`` into the folder ``out`` (created if need
    be) and return the paths written; nothing is written when the request is refused."""
    request = prepare(preset, target, method, dt, command, max_steps)
    writer: Callable[[Export], dict[str, str]] = import_module(f"gifcli.export.{target}").files
    contents = writer(request)
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(f"cannot create the folder {folder} ({error.strerror})") from None
    items = [(folder / name, text.encode()) for name, text in contents.items()]
    write_files(items)
    return [path for path, _ in items]
