"""``gif list``: the shipped presets in one table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gifcli.cli.app import command
from gifcli.cli.options import DebugOption, JsonOption
from gifcli.cli.terminal import (
    Column,
    fitted_table,
    number_text,
    print_json,
    reporting_errors,
    stdout,
)


def _short_schedule(segments: Sequence[tuple[float, float]]) -> str:
    """``1.5×200, 0×500``: amplitude × duration in ms; a segment never breaks across lines."""
    return ", ".join(f"{number_text(a)}×{number_text(d)}" for a, d in segments)


def preset_listing() -> list[dict[str, Any]]:
    """What ``gif list`` shows, one mapping per shipped preset."""
    from gifcli.model.preset import shipped_presets

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


@command("list")
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
        console = stdout()
        changes = [{**e["changed_params"], **{f"initial.{k}": v for k, v in e["initial"].items()}}
                   for e in listing]
        console.print(fitted_table("The 20 presets of Mihalaş & Niebur (2009), Figure 1", [
            Column("", [e["letter"] or "" for e in listing], style="bold"),
            Column("name", [e["name"] for e in listing], justify="left", style="cyan"),
            Column("title", [e["title"] for e in listing], justify="left", drop=3),
            Column("params ≠ default", [", ".join(f"{k}={number_text(v)}" for k, v in c.items())
                                       or "—" for c in changes], justify="left", fold=True,
                   drop=2),
            Column("input: amplitude×ms, …", [_short_schedule(
                [(s["amplitude"], s["duration"]) for s in e["input"]]) for e in listing],
                justify="left", fold=True, drop=1),
            Column("ms", [number_text(e["duration_ms"]) for e in listing]),
        ], console.width))
        console.print("[dim]Show one with [bold]gif show NAME[/bold]; run one with "
                      "[bold]gif run NAME[/bold] (a name or a letter).[/dim]")
