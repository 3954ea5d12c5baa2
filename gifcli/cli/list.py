"""``gif list``: the shipped presets in one table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gifcli.cli.app import app
from gifcli.cli.options import DebugOption, JsonOption
from gifcli.cli.terminal import (
    WIDE_TABLE,
    new_table,
    number_text,
    print_json,
    reporting_errors,
    stdout,
)


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
        console = stdout()
        wide = console.width >= WIDE_TABLE  # narrow: the name says what the title says
        table = new_table("The 20 presets of Mihalaş & Niebur (2009), Figure 1")
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

