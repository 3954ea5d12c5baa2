"""``gif show``: a preset's YAML, what it demonstrates and its check."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from gifcli.cli.app import command
from gifcli.cli.options import DebugOption, JsonOption, PresetArgument
from gifcli.cli.terminal import markup_safe, print_json, reporting_errors, stdout

HIGHLIGHT_LIMIT = 200_000  # characters; a longer file is printed as it is, not highlighted


@command()
def show(
    preset: PresetArgument,
    yaml_only: Annotated[bool, typer.Option(
        "--yaml", help="Print the plain YAML alone (what `gif show NAME > mine.yaml` "
        "writes when stdout is not a terminal), to copy and edit.")] = False,
    json_: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Show a preset: what it demonstrates, the check it must pass, and its YAML.

    Examples:
      [bold]gif show tonic_spiking[/bold]
      [bold]gif show F > my_neuron.yaml[/bold]   (then edit it and: gif run my_neuron.yaml)
      [bold]gif show my_neuron.yaml --json[/bold]
    """
    with reporting_errors(debug):
        from gifcli.analysis.checks import CHECKS
        from gifcli.model.preset import resolve

        found = resolve(preset)
        text = found.yaml_text
        rule = str(CHECKS[found.check]) if found.check else None
        if json_:
            print_json({"name": found.name, "title": found.title, "letter": found.letter,
                        "source": found.source, "description": found.description,
                        "check": found.check, "check_rule": rule, "yaml": text})
            return
        console = stdout()
        if yaml_only or not console.is_terminal:
            sys.stdout.write(text)
            return
        heading = f"{found.letter}  {found.title}" if found.letter else found.title
        console.print(f"[bold]{markup_safe(heading)}[/bold]  [dim]{_where(found)}[/dim]")
        if found.description:
            console.print(markup_safe(found.description.strip()))
        if rule:
            console.print(f"[bold]Check[/bold] [cyan]{markup_safe(found.check)}[/cyan]: "
                          f"{markup_safe(rule)}")
        else:
            console.print("[dim]No check: this preset names none.[/dim]")
        console.rule(style="dim")
        _print_yaml(console, text)


def _where(found) -> str:
    """Where the preset comes from, in words the user can act on: a shipped one is inside
    the installed package, not in a folder of theirs."""
    from gifcli.cli.run import is_shipped

    if is_shipped(found):
        return (f"shipped with gifcli; to change a copy: gif show {found.letter or found.name}"
                " > my_neuron.yaml")
    return markup_safe(found.source)


def _print_yaml(console, text: str) -> None:
    """The YAML, highlighted, with long lines wrapped by the terminal (never cropped), so
    that what is copied from the screen is the file."""
    if len(text) > HIGHLIGHT_LIMIT:
        console.out(text.rstrip("\n"), highlight=False, soft_wrap=True)
        return
    from rich.syntax import Syntax

    console.print(Syntax(text.rstrip("\n"), "yaml", theme="ansi_dark",
                         background_color="default"), soft_wrap=True)
