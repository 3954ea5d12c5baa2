"""Shell completion (``gif --install-completion``): preset names, letters and YAML files."""

from __future__ import annotations

from pathlib import Path


def complete_preset(incomplete: str) -> list[tuple[str, str]]:
    """The shipped presets whose name or letter starts with ``incomplete``, with their
    titles, then the YAML files that match it as a path."""
    from gifcli.model.preset import shipped_presets

    matches = []
    for preset in shipped_presets():
        for word in (preset.name, preset.letter):
            if word and word.startswith(incomplete):
                matches.append((word, preset.title))
    folder, _, stem = incomplete.rpartition("/")
    try:
        files = sorted(Path(folder or ".").glob(f"{stem}*.y*ml"))
    except (OSError, ValueError):
        files = []
    matches += [(f"{folder}/{path.name}" if folder else path.name, "preset file")
                for path in files if path.suffix in (".yaml", ".yml")]
    return matches
