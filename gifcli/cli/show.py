"""``gif show``: a preset's YAML, what it demonstrates and its check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gifcli.cli.app import app
from gifcli.cli.options import DebugOption, JsonOption
from gifcli.cli.terminal import print_json, reporting_errors, stdout


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

        console = stdout()
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

