"""Inputs beyond steps: ramps, sines, Ornstein–Uhlenbeck noise and sampled currents.

Each stimulus is held piecewise constant: it becomes ordinary ``(amplitude, duration)``
segments of ``step`` ms each (by default the preset's dt, else 0.1 ms) before any kernel
sees it, so every integrator takes it, ``exact`` included, and a run at any dt that divides
``step`` applies exactly the input that the figure draws. A preset's ``input:`` list mixes
them with plain segments::

    input:
      - {amplitude: 0, duration: 50}
      - ramp: {start: 0, stop: 3, duration: 200}
      - sine: {mean: 1.5, amplitude: 0.5, frequency: 20, duration: 200}
      - noise: {mean: 1.5, sd: 0.5, tau: 5, duration: 200, seed: 1}
      - samples: {file: current.csv, step: 0.1}     # or values: [0, 1.5, 3]

and Python builds the same from :class:`Ramp`, :class:`Sine`, :class:`Noise`,
:class:`Samples` and ``(amplitude, duration)`` pairs (:func:`expand`). Every value is
validated as a preset's are, with the same one-sentence :class:`PresetError`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from gifcli.core.errors import PresetError
from gifcli.core.numbers import number_from_text

MAX_HOLDS = 2_000_000  # segments one stimulus may become: the default cap on steps of a run
ON_STEP = 1e-9  # a duration this close (relative) to a whole number of steps is one


@dataclass(frozen=True)
class Stimulus:
    """What every stimulus shares: validation on creation, and its segments."""

    KIND: ClassVar[str] = ""
    RULES: ClassVar[dict[str, str]] = {}  # field -> "number", "positive", "nonnegative", "seed"

    def __post_init__(self) -> None:
        for name, rule in self.RULES.items():
            value = getattr(self, name)
            if value is not None or name != "step":
                object.__setattr__(self, name, _checked(value, rule, self.KIND, name))

    def levels(self, n: int, step: float) -> np.ndarray:
        """The value held over each of the ``n`` holds of ``step`` ms."""
        raise NotImplementedError

    def segments(self, default_step: float) -> list[tuple[float, float]]:
        """The stimulus as ``(amplitude, duration)`` segments of ``step`` ms each."""
        step = self.step if self.step is not None else default_step
        ratio = self.duration / step
        n = round(ratio)
        if n < 1 or abs(ratio - n) > ON_STEP * ratio:
            raise PresetError(self.KIND, "duration", f"must be a whole number of {step:g} ms "
                                                     f"steps (its hold), got {self.duration:g}")
        if n > MAX_HOLDS:
            raise PresetError(self.KIND, "step", f"makes {n:,} segments, above the cap of "
                                                 f"{MAX_HOLDS:,}; use a longer step")
        levels = self.levels(n, step)
        if not np.all(np.isfinite(levels)):
            raise PresetError(self.KIND, None, "gives an input too large to represent")
        return [(level, step) for level in levels.tolist()]


@dataclass(frozen=True)
class Ramp(Stimulus):
    """From ``start`` to ``stop`` linearly over ``duration`` ms; each hold takes the ramp's
    value at its middle."""

    start: float
    stop: float
    duration: float
    step: float | None = None
    KIND: ClassVar[str] = "ramp"
    RULES: ClassVar[dict[str, str]] = {"start": "number", "stop": "number",
                                       "duration": "positive", "step": "positive"}

    def levels(self, n: int, step: float) -> np.ndarray:
        return self.start + (self.stop - self.start) * (np.arange(n) + 0.5) / n


@dataclass(frozen=True)
class Sine(Stimulus):
    """``mean + amplitude · sin(2π · frequency · t + phase)``, ``frequency`` in Hz, ``t`` from
    the start of the stimulus, ``phase`` in degrees; each hold takes the value at its
    middle."""

    mean: float
    amplitude: float
    frequency: float
    duration: float
    phase: float = 0.0
    step: float | None = None
    KIND: ClassVar[str] = "sine"
    RULES: ClassVar[dict[str, str]] = {"mean": "number", "amplitude": "number",
                                       "frequency": "nonnegative", "duration": "positive",
                                       "phase": "number", "step": "positive"}

    def levels(self, n: int, step: float) -> np.ndarray:
        middle_s = (np.arange(n) + 0.5) * step / 1000.0
        return self.mean + self.amplitude * np.sin(2 * np.pi * self.frequency * middle_s
                                                   + np.radians(self.phase))


@dataclass(frozen=True)
class Noise(Stimulus):
    """Ornstein–Uhlenbeck noise around ``mean`` with standard deviation ``sd`` and
    correlation time ``tau`` ms, drawn from ``seed``: the same seed gives the same input.
    It starts in its stationary distribution and is sampled exactly at the start of each
    hold (no discretisation error in its statistics)."""

    mean: float
    sd: float
    tau: float
    duration: float
    seed: int
    step: float | None = None
    KIND: ClassVar[str] = "noise"
    RULES: ClassVar[dict[str, str]] = {"mean": "number", "sd": "nonnegative",
                                       "tau": "positive", "duration": "positive",
                                       "seed": "seed", "step": "positive"}

    def levels(self, n: int, step: float) -> np.ndarray:
        normal = np.random.default_rng(self.seed).standard_normal(n)
        keep = math.exp(-step / self.tau)
        kick = math.sqrt(-math.expm1(-2.0 * step / self.tau))
        x = np.empty(n)
        x[0] = normal[0]
        for k in range(1, n):  # a recurrence; n is at most MAX_HOLDS
            x[k] = keep * x[k - 1] + kick * normal[k]
        return self.mean + self.sd * x


@dataclass(frozen=True)
class Samples(Stimulus):
    """A sampled current, as Brian2's ``TimedArray``: ``values[k]`` held from ``k·step``
    to ``(k+1)·step`` ms. ``Samples.from_csv(path, step)`` reads one value per line."""

    values: Any  # a sequence of numbers; held as a float64 array
    step: float
    KIND: ClassVar[str] = "samples"
    RULES: ClassVar[dict[str, str]] = {"step": "positive"}

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "values", _sample_values(self.values))

    @property
    def duration(self) -> float:
        return self.values.size * self.step

    def levels(self, n: int, step: float) -> np.ndarray:
        return self.values

    @classmethod
    def from_csv(cls, path: str | Path, step: float) -> Samples:
        """One value per line; blank lines, ``#`` comments and a header line are skipped."""
        return cls(read_samples(Path(path)), step)


STIMULI: dict[str, type[Stimulus]] = {kind.KIND: kind for kind in (Ramp, Sine, Noise, Samples)}


def _checked(value: Any, rule: str, kind: str, name: str) -> float | int:
    if isinstance(value, np.integer | np.floating) and not isinstance(value, np.bool_):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        shown = f"the text {value!r}" if isinstance(value, str) else type(value).__name__
        raise PresetError(kind, name, f"must be a number, got {shown}")
    if rule == "seed":
        if not isinstance(value, int) or not 0 <= value < 2**63:
            raise PresetError(kind, name, f"must be a whole number ≥ 0, got {value}")
        return value
    number = float(value) if abs(value) < 1e308 else math.inf
    if not math.isfinite(number):
        raise PresetError(kind, name, f"must be a finite number, got {number}")
    if rule == "positive" and number <= 0:
        raise PresetError(kind, name, f"must be > 0, got {number:g}")
    if rule == "nonnegative" and number < 0:
        raise PresetError(kind, name, f"must be ≥ 0, got {number:g}")
    return number


def _sample_values(values: Any) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise PresetError("samples", "values", "must be a sequence of numbers") from None
    if array.ndim != 1 or array.size == 0:
        raise PresetError("samples", "values", "must be a flat, non-empty sequence of numbers")
    if not np.all(np.isfinite(array)):
        where = int(np.flatnonzero(~np.isfinite(array))[0])
        raise PresetError("samples", "values", f"must be finite numbers; value {where + 1} is "
                                               f"{array[where]}")
    if array.size > MAX_HOLDS:
        raise PresetError("samples", "values", f"has {array.size:,} values, above the cap of "
                                               f"{MAX_HOLDS:,}")
    return array


def read_samples(path: Path) -> np.ndarray:
    """The values of a samples file: one number per line (a header line is skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise PresetError(str(path), None, f"cannot be read ({error})") from None
    numbers: list[float] = []
    first = True
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip().rstrip(",")
        if not text:
            continue
        try:
            numbers.append(number_from_text(text))
        except ValueError:
            if not first:
                raise PresetError(str(path), f"line {number}", f"{text[:40]!r} is not a "
                                  "number; give one value per line") from None
        first = False
    if not numbers:
        raise PresetError(str(path), None, "holds no values; give one number per line")
    return np.array(numbers, dtype=np.float64)


def from_mapping(kind: str, spec: Any, folder: Path) -> Stimulus:
    """The stimulus that a preset's ``- KIND: {...}`` entry describes (a samples ``file`` is
    found relative to ``folder``); errors name the key within the entry."""
    cls = STIMULI[kind]
    if not isinstance(spec, Mapping):
        raise PresetError(kind, None, f"must be a mapping of its values, such as "
                                      f"{EXAMPLES[kind]}")
    allowed = [f.name for f in fields(cls)] + (["file"] if cls is Samples else [])
    for key in spec:
        if key not in allowed:
            raise PresetError(kind, str(key), f"unknown key; {kind} takes "
                                              f"{', '.join(allowed)}")
    values = dict(spec)
    if cls is Samples:
        if ("file" in values) == ("values" in values):
            raise PresetError(kind, None, "give either values: [...] or file: NAME.csv")
        if "file" in values:
            if not isinstance(values["file"], str):
                raise PresetError(kind, "file", "must be the path of a CSV file")
            values["values"] = read_samples(folder / values.pop("file"))
    missing = [f.name for f in fields(cls) if f.name not in values and f.default is MISSING]
    if missing:
        raise PresetError(kind, missing[0], f"is missing; a {kind} is {EXAMPLES[kind]}")
    return cls(**values)


EXAMPLES = {
    "ramp": "{start: 0, stop: 3, duration: 200}",
    "sine": "{mean: 1.5, amplitude: 0.5, frequency: 20, duration: 200}",
    "noise": "{mean: 1.5, sd: 0.5, tau: 5, duration: 200, seed: 1}",
    "samples": "{values: [0, 1.5, 3], step: 0.1} or {file: current.csv, step: 0.1}",
}


def expand(parts: Iterable[Any], default_step: float) -> tuple[tuple[float, float], ...]:
    """``(amplitude, duration)`` segments from stimuli and plain pairs, in order; each
    stimulus held for its ``step`` (else ``default_step``) ms at a time."""
    segments: list[tuple[float, float]] = []
    for part in parts:
        if isinstance(part, Stimulus):
            segments += part.segments(default_step)
        else:
            segments.append(part)
    return tuple(segments)
