"""The errors a user can fix. The CLI prints them as one sentence and exits 2."""

from __future__ import annotations


class GifError(Exception):
    """Bad input or usage: shown to the user without a traceback."""


class PresetError(GifError):
    """An invalid preset file or value: names the file, the key and the reason."""

    def __init__(self, source: str, key: str | None, reason: str):
        self.source, self.key, self.reason = source, key, reason
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {reason}")


class SimulationError(GifError):
    """A valid preset whose run could not finish within the tool's limits."""
