"""The errors a user can fix. The CLI prints them as one sentence and exits 2."""

from __future__ import annotations


def one_line(text: str) -> str:
    """``text`` with every control character (a newline in a file name...) shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def printable(text: str) -> str:
    """Text from a file for the terminal: line breaks kept, every other control character
    (an escape sequence that would retitle or clear the terminal) shown escaped."""
    return "\n".join(one_line(line) for line in text.split("\n"))


class GifError(Exception):
    """Bad input or usage: shown to the user without a traceback."""


class PresetError(GifError):
    """An invalid preset file or value: names the file, the key and the reason.

    ``line`` is the line of the key in the file, when known.
    """

    def __init__(self, source: str, key: str | None, reason: str, line: int | None = None):
        self.source, self.key, self.reason, self.line = source, key, reason, line
        where = f"{source}: {key}" if key else source
        at = f" (line {line})" if line is not None else ""
        super().__init__(one_line(f"{where}: {reason}{at}"))

    def __reduce__(self):  # picklable (a worker process may raise it)
        return type(self), (self.source, self.key, self.reason, self.line)


class SimulationError(GifError):
    """A valid preset whose run could not finish within the tool's limits."""


class OutputError(GifError):
    """The output folder cannot be created or written."""
