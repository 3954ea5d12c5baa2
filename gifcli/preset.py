"""Preset files: load, validate, find by name or letter, and override.

A preset is one YAML file (format in the README and ``shared/spec/cli.md``). Every rule here
raises :class:`PresetError` with the file, the key and the reason, and nothing else escapes:
the CLI turns it into one sentence and exit code 2.
"""

from __future__ import annotations

import difflib
import math
import re
import reprlib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from gifcli.errors import PresetError
from gifcli.model import DEFAULT_DT, DEFAULTS, PARAMETER_NAMES, default_initial, parameter_problem

DEFAULT_MAX_STEPS = 2_000_000  # keeps a full trace under ~100 MB; --max-steps raises it
TOP_LEVEL_KEYS = ("name", "title", "letter", "description", "params", "initial", "input", "dt",
                  "check")
INITIAL_KEYS = ("V", "V_th", "I1", "I2")
SEGMENT_KEYS = ("amplitude", "duration")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*\Z")
_repr = reprlib.Repr()
_repr.maxstring, _repr.maxother, _repr.maxlist, _repr.maxdict, _repr.maxlevel = 40, 40, 4, 4, 2
_short = _repr.repr  # never print a huge value (an alias bomb) in an error
YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # a safe loader only, never yaml.Loader


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    segments: tuple[tuple[float, float], ...]  # (amplitude, duration ms)
    params: dict[str, float]  # all 14, defaults filled in
    initial_given: dict[str, float] = field(default_factory=dict)  # what the file sets
    letter: str | None = None
    description: str = ""
    dt: float | None = None
    check: str | None = None
    source: str = "<memory>"

    @property
    def initial(self) -> dict[str, float]:
        """All four state variables; unset ones follow the (possibly overridden) params."""
        return default_initial(self.params) | self.initial_given

    @property
    def duration(self) -> float:
        return sum(duration for _, duration in self.segments)

    @property
    def changed_params(self) -> dict[str, float]:
        return {k: v for k, v in self.params.items() if v != DEFAULTS[k]}


# --- finding presets ------------------------------------------------------------------------


def shipped_dir():
    """The folder of the 20 shipped presets (package data: works from any install)."""
    return resources.files("gifcli.presets")


def shipped_presets() -> list[Preset]:
    """The shipped presets, A to T."""
    files = [f for f in shipped_dir().iterdir() if f.name.endswith(".yaml")]
    presets = [parse_preset(f.read_text(encoding="utf-8"), f"presets/{f.name}") for f in files]
    return sorted(presets, key=lambda p: (p.letter or "~", p.name))


def resolve(ref: str) -> Preset:
    """A preset by name (``tonic_spiking``), letter (``A``) or path to a YAML file."""
    looks_like_path = ref.endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref
    if looks_like_path or Path(ref).is_file():
        return load_preset(Path(ref))
    presets = shipped_presets()
    for preset in presets:
        if ref in (preset.name, preset.letter):
            return preset
    names = [p.name for p in presets]
    close = difflib.get_close_matches(ref.lower(), names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `gif list` shows them all"
    raise PresetError(ref, None, f"no preset of that name, letter or file{hint}")


def load_preset(path: Path) -> Preset:
    """Read and validate one preset file."""
    source = str(path)
    if path.is_dir():
        raise PresetError(source, None, "is a folder, not a preset file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PresetError(source, None, "no such file") from None
    except OSError as error:
        raise PresetError(source, None, f"cannot be read ({error.strerror})") from None
    if b"\0" in raw:
        raise PresetError(source, None, "is a binary file, not YAML text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PresetError(source, None, "is not UTF-8 text") from None
    return parse_preset(text, source)


# --- validation -----------------------------------------------------------------------------


def parse_preset(text: str, source: str) -> Preset:
    """Validate the YAML ``text`` of a preset; ``source`` names it in errors."""
    try:
        data = yaml.load(text, Loader=YamlLoader)  # noqa: S506 - a safe loader, see above
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        raise PresetError(source, None, f"invalid YAML at {where}: {error.problem}") from None
    except yaml.YAMLError as error:
        raise PresetError(source, None, f"invalid YAML: {_short(str(error))}") from None
    if data is None:
        raise PresetError(source, None, "is empty; a preset needs at least `name` and `input`")
    if not isinstance(data, dict):
        raise PresetError(source, None, f"must be a mapping of keys, got a {_kind(data)}")
    _reject_unknown(data, TOP_LEVEL_KEYS, source, "")
    for key in ("name", "input"):
        if key not in data:
            raise PresetError(source, key, "is missing")
    name = _string(data, "name", source)
    if not NAME_PATTERN.match(name):
        raise PresetError(source, "name", f"must be snake_case (a-z, 0-9, _), got {name!r}")
    letter = data.get("letter")
    if letter is not None and not (isinstance(letter, str) and re.fullmatch(r"[A-Z]", letter)):
        raise PresetError(source, "letter", f"must be one capital letter, got {_short(letter)}")
    params = DEFAULTS | _numbers(data.get("params") or {}, PARAMETER_NAMES, source, "params")
    _check_params(params, source)
    preset = Preset(
        name=name,
        title=_string(data, "title", source) if "title" in data else name.replace("_", " "),
        letter=letter,
        description=_string(data, "description", source).strip() if "description" in data else "",
        params=params,
        initial_given=_numbers(data.get("initial") or {}, INITIAL_KEYS, source, "initial"),
        segments=_segments(data["input"], source),
        dt=_positive(data["dt"], source, "dt") if data.get("dt") is not None else None,
        check=_check_name(data.get("check"), source),
        source=source,
    )
    if preset.dt is not None:
        check_run_size(preset, preset.dt, DEFAULT_MAX_STEPS, key="dt")
    return preset


def check_run_size(preset: Preset, dt: float, max_steps: int, key: str = "--dt") -> None:
    """Reject a dt longer than a segment, and a run longer than ``max_steps`` steps."""
    shortest = min(duration for _, duration in preset.segments)
    if dt > shortest:
        raise PresetError(
            preset.source, key,
            f"dt = {dt:g} ms is longer than the shortest input segment ({shortest:g} ms)",
        )
    steps = preset.duration / dt
    if steps > max_steps:
        raise PresetError(
            preset.source, key,
            f"{preset.duration:g} ms at dt = {dt:g} ms is {steps:,.0f} steps, above the cap of "
            f"{max_steps:,}; raise it with --max-steps",
        )


def _check_params(params: dict[str, float], source: str) -> None:
    problem = parameter_problem(params)
    if problem:
        raise PresetError(source, f"params.{problem[0]}", problem[1])


def _check_name(value: Any, source: str) -> str | None:
    if value is None:
        return None
    from gifcli.checks import CHECKS  # plain Python, cheap; imported late to avoid a cycle

    if not isinstance(value, str) or value not in CHECKS:
        close = difflib.get_close_matches(str(value), list(CHECKS), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise PresetError(source, "check", f"unknown check {_short(value)}{hint}")
    return value


def _segments(value: Any, source: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(value, list) or not value:
        raise PresetError(
            source, "input",
            "must be a non-empty list of segments like {amplitude: 1.5, duration: 200}",
        )
    segments = []
    for number, segment in enumerate(value, start=1):
        key = f"input[{number}]"
        if not isinstance(segment, dict):
            raise PresetError(
                source, key,
                f"must be a mapping like {{amplitude: 1.5, duration: 200}}, got a {_kind(segment)}",
            )
        _reject_unknown(segment, SEGMENT_KEYS, source, key + ".")
        for part in SEGMENT_KEYS:
            if part not in segment:
                raise PresetError(source, f"{key}.{part}", "is missing")
        amplitude = _number(segment["amplitude"], source, f"{key}.amplitude")
        segments.append((amplitude, _positive(segment["duration"], source, f"{key}.duration")))
    return tuple(segments)


def _numbers(value: Any, allowed: tuple[str, ...], source: str, section: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise PresetError(source, section, f"must be a mapping of names to numbers, got a "
                                           f"{_kind(value)}")
    _reject_unknown(value, allowed, source, section + ".")
    return {key: _number(v, source, f"{section}.{key}") for key, v in value.items()}


def _reject_unknown(mapping: dict, allowed: tuple[str, ...], source: str, prefix: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise PresetError(source, f"{prefix}{_short(key)}",
                              f"unknown key{_suggestion(str(key), allowed)}")


def _suggestion(key: str, allowed: tuple[str, ...]) -> str:
    by_case = {k.lower(): k for k in allowed}
    if key.lower() in by_case:
        return f"; did you mean {by_case[key.lower()]}?"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
    valid = f" (valid: {', '.join(allowed)})"
    return f"; did you mean {close[0]}?{valid}" if close else valid


def _number(value: Any, source: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PresetError(source, key, f"must be a number, got {_short(value)}")
    number = float(value) if abs(value) < 1e308 else math.inf
    if not math.isfinite(number):
        raise PresetError(source, key, f"must be a finite number, got {_short(value)}")
    return number


def _positive(value: Any, source: str, key: str) -> float:
    number = _number(value, source, key)
    if number <= 0:
        raise PresetError(source, key, f"must be > 0 ms, got {number:g}")
    return number


def _string(data: dict, key: str, source: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise PresetError(source, key, f"must be text, got {_short(value)}")
    return value


def _kind(value: Any) -> str:
    return {list: "list", dict: "mapping", str: "string"}.get(type(value), type(value).__name__)


# --- overrides from the command line ----------------------------------------------------------


def parse_assignment(text: str) -> tuple[str, float]:
    """``KEY=VALUE`` from ``--set``: a model parameter or ``initial.X``, and a finite number."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key or not raw:
        raise PresetError("--set", _short(text), "must look like KEY=VALUE, e.g. a=0.01")
    allowed = PARAMETER_NAMES + tuple(f"initial.{k}" for k in INITIAL_KEYS)
    if key not in allowed:
        raise PresetError("--set", key, f"unknown key{_suggestion(key, allowed)}")
    try:
        value = float(raw)
    except ValueError:
        raise PresetError("--set", key, f"must be a number, got {_short(raw)}") from None
    if not math.isfinite(value):
        raise PresetError("--set", key, f"must be a finite number, got {_short(raw)}")
    return key, value


def with_overrides(preset: Preset, assignments: list[str]) -> Preset:
    """The preset with ``--set KEY=VALUE`` overrides applied and re-validated."""
    params, initial = dict(preset.params), dict(preset.initial_given)
    for key, value in map(parse_assignment, assignments):
        if key.startswith("initial."):
            initial[key.removeprefix("initial.")] = value
        else:
            params[key] = value
    problem = parameter_problem(params)
    if problem:
        raise PresetError(f"{preset.source} with --set", problem[0], problem[1])
    return replace(preset, params=params, initial_given=initial)


def effective_dt(preset: Preset, dt: float | None) -> float:
    return dt if dt is not None else (preset.dt or DEFAULT_DT)
