"""``gif export``: a preset as a runnable Brian2 script, a NESTML model with its PyNEST
script, or a BrainPy script, each writing the spike times it gets."""

from __future__ import annotations

import shlex
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gifcli.cli.app import command
from gifcli.cli.options import (
    DebugOption,
    DtOption,
    MaxStepsOption,
    OutOption,
    PresetArgument,
    QuietOption,
    SetOption,
)
from gifcli.cli.terminal import markup_safe, reporting_errors, stdout
from gifcli.model.parameters import DEFAULT_MAX_STEPS


class Target(StrEnum):
    """The simulators an export runs in (as gifcli.export.TARGETS)."""

    brian2 = "brian2"
    nestml = "nestml"
    brainpy = "brainpy"


class ExportMethod(StrEnum):
    exact = "exact"
    euler = "euler"
    exp_euler = "exp-euler"


ToOption = Annotated[Target, typer.Option(
    "--to", "-t", show_default=False, help="The simulator: brian2, nestml or brainpy.")]
ExportMethodOption = Annotated[ExportMethod | None, typer.Option(
    "--method", "-m", show_default=False,
    help="The integration to reproduce: brian2 takes exact (its default) or euler, nestml "
         "exact, brainpy exp-euler.")]


@command()
def export(
    preset: PresetArgument,
    to: ToOption,
    method: ExportMethodOption = None,
    dt: DtOption = None,
    set_: SetOption = None,
    out: OutOption = Path("outputs"),
    quiet: QuietOption = False,
    debug: DebugOption = False,
    max_steps: MaxStepsOption = DEFAULT_MAX_STEPS,
) -> None:
    """Write a preset as a self-contained file of another simulator, which runs the neuron
    (its parameters, initial state and input) there and writes NAME_<target>_spikes.csv, a
    t_ms column that gif fit --target reads. Its header says where it came from and how its
    integration differs from gifcli's (docs/export.md).

    Examples:
      [bold]gif export tonic_bursting --to brian2[/bold]
      [bold]python outputs/tonic_bursting_brian2.py[/bold]   (writes its spikes beside it)
      [bold]gif export M --to brian2 --method euler --dt 0.05[/bold]
      [bold]gif export my_neuron.yaml --to nestml --out models[/bold]
      [bold]gif export H --to brainpy[/bold]
    """
    with reporting_errors(debug, quiet):
        from gifcli.export import export as write_export
        from gifcli.model.preset import resolve, with_overrides

        found = resolve(preset, max_steps=max_steps, dt=dt)
        if set_:
            found = with_overrides(found, list(set_))
        written = write_export(found, to.value, out, method.value if method else None, dt,
                               shlex.join(["gif", *sys.argv[1:]]), max_steps)
        if not quiet:
            for path in written:
                stdout().print(f"wrote {markup_safe(str(path))}", highlight=False)
