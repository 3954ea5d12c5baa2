"""Preset files: load, validate, find by name or letter, and override.

A preset is one YAML file (its format is in the README). Every rule here
raises :class:`PresetError` with the file, the key and the reason, and nothing else escapes:
the CLI turns it into one sentence and exit code 2.

The file is size-limited and read in a strict YAML dialect (:mod:`gifcli.model.yaml_reader`).
"""

from __future__ import annotations

import codecs
import difflib
import functools
import math
import os
import re
import stat
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from gifcli.core.errors import PresetError
from gifcli.core.numbers import not_finite, number_from_text, number_problem
from gifcli.model import stimuli
from gifcli.model.parameters import (
    DEFAULT_DT,
    DEFAULT_MAX_STEPS,
    DEFAULTS,
    PARAMETER_NAMES,
    PATTERNS,
    default_initial,
    parameter_problem,
)
from gifcli.model.yaml_reader import read_yaml, short_repr

MAX_FILE_BYTES = 5_000_000  # a preset is a few hundred bytes; this is ~100,000 segments
MAX_NAME_LENGTH = 100  # the name becomes file names such as NAME_sweep_PARAM.csv
TOP_LEVEL_KEYS = ("name", "title", "letter", "description", "params", "initial", "input", "dt",
                  "check")
INITIAL_KEYS = ("V", "V_th", "I1", "I2")
SEGMENT_KEYS = ("amplitude", "duration")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*\Z")
#: Other names people use for a key, mapped to the key (the paper's symbols, BrainPy's names).
ALIASES = {
    "E_L": "V_rest", "EL": "V_rest", "V_r": "V_reset", "Vr": "V_reset",
    "Theta_inf": "V_th_inf", "theta_inf": "V_th_inf", "Theta_r": "V_th_reset",
    "theta_r": "V_th_reset", "tau_m": "tau", "taum": "tau",
    "Vth": "V_th", "theta": "V_th", "Theta": "V_th",
    "parameters": "params", "param": "params", "initial_state": "initial", "init": "initial",
    "state": "initial", "schedule": "input", "inputs": "input", "segments": "input",
    "stimulus": "input", "current": "input", "expect": "check", "pattern": "check",
    "amp": "amplitude", "I": "amplitude", "I_ext": "amplitude", "value": "amplitude",
    "dur": "duration", "length": "duration", "time": "duration", "t": "duration",
}


@dataclass(frozen=True)
class Preset:
    """A neuron and its input: one YAML file of ``presets/``, or your own.

    ``params`` holds all 14 model parameters (defaults filled in; ``changed_params`` the ones
    that differ), ``initial_given`` the initial values the file sets (``initial`` all four),
    ``segments`` the input schedule as (amplitude, duration ms) pairs, ``dt`` the preset's
    time step (None: 0.1 ms), ``check`` the pattern check it must pass (None: none).
    ``replace(a=0.01, input_scale=2, initial={"V": -60})`` gives a changed copy, validated,
    and ``overrides`` records what was changed.
    """

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
    #: What was changed after loading (``--set``, :meth:`replace`), in the order given:
    #: ``{"a": 0.01, "initial.V": -60.0, "input_scale": 2.0}``. Shown in figures and JSON.
    overrides: dict[str, float] = field(default_factory=dict)
    #: The YAML text it was read from ("" when built in code): what ``gif show`` prints.
    yaml_text: str = field(default="", repr=False, compare=False)

    def replace(self, initial: dict[str, float] | None = None, **values: float) -> Preset:
        """This preset with parameters, ``input_scale`` or initial values changed, validated.

        ``preset.replace(a=0.01, A2=-0.3)`` changes model parameters,
        ``preset.replace(input_scale=2)`` multiplies every input amplitude and
        ``preset.replace(initial={"V_th": -45})`` sets an initial value. Wrong names and values
        raise PresetError with the same sentence as ``--set`` on the command line.
        """
        if initial is not None and not isinstance(initial, Mapping):
            raise PresetError("replace()", "initial", "must be a mapping of initial values, "
                              f"such as {{'V': -65.0}}, got {_kind(initial)}")
        changes = dict(values) | {f"initial.{k}": v for k, v in (initial or {}).items()}
        return apply_overrides(self, [(str(k), _api_number(k, v)) for k, v in changes.items()],
                               "replace()")

    def with_input(self, *parts: Any, step: float | None = None) -> Preset:
        """This preset with another input: ``(amplitude, duration)`` pairs and stimuli
        (:class:`~gifcli.model.stimuli.Ramp`, ``Sine``, ``Noise``, ``Samples``), in order.
        A stimulus is held for its own ``step``, else ``step``, else the preset's dt (else
        0.1 ms) at a time; an ``input_scale`` override scales the new input too."""
        if not parts:
            raise PresetError("with_input()", None, "give one or more segments or stimuli")
        held = _positive(step, "with_input()", "step") if step is not None else None
        segments = stimuli.expand(parts, held or effective_dt(self, None))
        for number, segment in enumerate(segments, start=1):
            if isinstance(segment, str | bytes) or not _is_pair(segment):
                raise PresetError("with_input()", f"input[{number}]", "must be an (amplitude, "
                                  f"duration ms) pair or a stimulus, got {_kind(segment)}")
        scale = self.overrides.get(INPUT_SCALE, 1.0)
        pairs = [{"amplitude": a, "duration": d} for a, d in segments]
        scaled = tuple((a * scale, d) for a, d in _segments(pairs, "with_input()"))
        return validate_preset(replace(self, segments=scaled))

    @property
    def initial(self) -> dict[str, float]:
        """All four state variables; unset ones follow the (possibly overridden) params."""
        return default_initial(self.params) | self.initial_given

    @property
    def duration(self) -> float:
        """The input's total duration, ms."""
        return math.fsum(duration for _, duration in self.segments)  # 3000 × 0.1 is 300

    @property
    def changed_params(self) -> dict[str, float]:
        """The model parameters that differ from the defaults."""
        return {k: v for k, v in self.params.items() if v != DEFAULTS[k]}


# --- finding presets ------------------------------------------------------------------------


def shipped_dir():
    """The folder of the 20 shipped presets (package data: works from any install)."""
    return resources.files("gifcli.presets")


def shipped_presets() -> list[Preset]:
    """The shipped presets, A to T (read once per process: a command line may name
    thousands)."""
    return list(_shipped_presets())


@functools.cache
def _shipped_presets() -> tuple[Preset, ...]:
    files = [f for f in shipped_dir().iterdir() if f.name.endswith(".yaml")]
    presets = [parse_preset(f.read_text(encoding="utf-8"), f"presets/{f.name}") for f in files]
    return tuple(sorted(presets, key=lambda p: (p.letter or "~", p.name)))


def resolve(ref: str | os.PathLike, max_steps: int | None = None,
            dt: float | None = None) -> Preset:
    """A preset by name (``tonic_spiking``), letter (``A``) or path to a YAML file.

    ``max_steps`` and ``dt`` are as in :func:`parse_preset`, except that by default the step
    cap is left to the caller, who knows the ``--dt`` and ``--max-steps`` of the run
    (``simulate`` checks it); a too-small dt for the file's own segments is always an error.
    """
    if isinstance(ref, os.PathLike):
        return load_preset(Path(ref), max_steps=max_steps, dt=dt)
    if not isinstance(ref, str) or not ref.strip():
        raise PresetError(repr(ref), None, "is not a preset; give a name, a letter A-T or a file")
    looks_like_path = ref.endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref
    if looks_like_path:
        return load_preset(Path(ref), max_steps=max_steps, dt=dt)
    presets = shipped_presets()
    for preset in presets:
        if ref in (preset.name, preset.letter):
            if _is_file(ref):  # a name wins over a file of that name: say so
                warnings.warn(f"{ref!r} is the shipped preset {preset.name}; a file of that "
                              f"name is here too: give ./{ref} to run it", stacklevel=2)
            return _with_run_size(preset, max_steps, dt)
    if _is_file(ref):
        return load_preset(Path(ref), max_steps=max_steps, dt=dt)
    by_letter = {p.letter: p.name for p in presets if p.letter}
    if ref.upper() in by_letter:
        hint = f"; did you mean {ref.upper()} ({by_letter[ref.upper()]})?"
    else:
        names = [p.name for p in presets]
        wanted = ref.lower().replace("-", "_").replace(" ", "_")
        close = difflib.get_close_matches(wanted[:200], names, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `gif list` shows them all"
    shown = ref if len(ref) <= 80 else ref[:77] + "..."
    raise PresetError(shown, None, f"no preset of that name, letter or file{hint}")


def _exists(ref: str) -> bool:
    try:
        return os.path.lexists(ref)
    except (OSError, ValueError):  # a name too long for a path, or with a NUL byte
        return False


def _is_file(ref: str) -> bool:
    try:
        return os.path.isfile(ref)
    except (OSError, ValueError):
        return False


def load_preset(path: Path | str, max_steps: int | None = DEFAULT_MAX_STEPS,
                dt: float | None = None) -> Preset:
    """Read and validate one preset file (``max_steps`` and ``dt`` as in parse_preset)."""
    path = Path(path)
    source = str(path)
    if source.endswith((".yaml", ".yml")) and not _exists(source):
        stem = path.name.rsplit(".", 1)[0]
        shipped = stem in {f.name.rsplit(".", 1)[0] for f in shipped_dir().iterdir()}
        hint = f"; the shipped preset is named {stem}, without .yaml" if shipped else ""
        raise PresetError(source, None, f"no such file{hint}")
    return parse_preset(_read_text(path, source), source, max_steps=max_steps, dt=dt)


def _read_text(path: Path, source: str) -> str:
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise PresetError(source, None, "is a folder, not a preset file")
        if not stat.S_ISREG(info.st_mode):
            # A FIFO, a device such as /dev/zero or a socket: reading could wait or never end.
            raise PresetError(source, None, "is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise PresetError(source, None, f"is {info.st_size / 1e6:.1f} MB; a preset file is "
                                            f"at most {MAX_FILE_BYTES / 1e6:g} MB")
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise PresetError(source, None, "no such file") from None
    except OSError as error:
        reason = (error.strerror or type(error).__name__).lower()
        raise PresetError(source, None, f"cannot be read ({reason})") from None
    except ValueError:  # a NUL byte in the path
        raise PresetError(source, None, "is not a valid file name") from None
    if len(raw) > MAX_FILE_BYTES:
        raise PresetError(source, None, f"is larger than {MAX_FILE_BYTES / 1e6:g} MB")
    return _decode(raw, source)


def _decode(raw: bytes, source: str) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise PresetError(source, None, "is UTF-16 text; save it as UTF-8")
    if b"\0" in raw:
        raise PresetError(source, None, "is a binary file, not YAML text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise PresetError(source, None, f"is not UTF-8 text (byte 0x{raw[error.start]:02x} "
                                        f"on line {line})") from None


# --- validation -----------------------------------------------------------------------------


def parse_preset(text: str, source: str, max_steps: int | None = DEFAULT_MAX_STEPS,
                 dt: float | None = None) -> Preset:
    """Validate the YAML ``text`` of a preset; ``source`` names it in errors.

    The run it describes, at ``dt`` (default: the preset's, else 0.1 ms), must fit within
    ``max_steps`` steps (``--max-steps``); ``max_steps=None`` leaves that to the caller.
    """
    data, lines = read_yaml(text, source)
    try:
        preset = _validate(data, source)
        if max_steps is not None or preset.dt is not None:
            _with_run_size(preset, max_steps, dt)
    except PresetError as error:
        key = error.key or ""
        line = lines.get(key) if key else None
        if line is None and "." in key:
            line = lines.get(key.rsplit(".", 1)[0])  # a missing key: the line of its mapping
        if line is None or error.line is not None or error.source != source:
            raise
        raise PresetError(error.source, error.key, error.reason, line=line) from None
    return replace(preset, yaml_text=text)


def _validate(data: Any, source: str) -> Preset:
    if data is None:
        raise PresetError(source, None, "is empty; a preset needs at least `name` and `input`")
    if not isinstance(data, dict):
        raise PresetError(source, None, f"must be a mapping of keys such as `name:` and "
                                        f"`input:`, got {_kind(data)}")
    _reject_unknown(data, TOP_LEVEL_KEYS, source, "")
    if "name" not in data:
        raise PresetError(source, "name", "is missing; give the preset a snake_case name")
    if "input" not in data:
        raise PresetError(source, "input", "is missing; give a list of segments like "
                                           "- {amplitude: 1.5, duration: 200}")
    name = _string(data, "name", source)
    if not NAME_PATTERN.match(name):
        raise PresetError(source, "name", f"must be snake_case (a-z, 0-9, _, starting with a "
                                          f"letter), got {short_repr(name)}")
    if len(name) > MAX_NAME_LENGTH:
        raise PresetError(source, "name", f"must be at most {MAX_NAME_LENGTH} characters, got "
                                          f"{len(name)}")
    letter = data.get("letter")
    if letter is not None and not (isinstance(letter, str) and re.fullmatch(r"[A-Z]", letter)):
        raise PresetError(source, "letter", f"must be one capital letter A-Z, got "
                                            f"{short_repr(letter)}")
    params = DEFAULTS | _numbers(data.get("params"), PARAMETER_NAMES, source, "params")
    _check_params(params, source)
    dt = _positive(data["dt"], source, "dt") if data.get("dt") is not None else None
    return Preset(
        name=name,
        title=_string(data, "title", source) if "title" in data else name.replace("_", " "),
        letter=letter,
        description=_string(data, "description", source).strip() if "description" in data else "",
        params=params,
        initial_given=_numbers(data.get("initial"), INITIAL_KEYS, source, "initial"),
        segments=_segments(data["input"], source, dt or DEFAULT_DT),
        dt=dt,
        check=_check_name(data.get("check"), source),
        source=source,
    )


def validate_preset(preset: Preset) -> Preset:
    """Check a preset built in code (``Preset(...)``, ``dataclasses.replace``) by the rules of
    a file, with the same messages; return it with its numbers as Python floats."""
    if not isinstance(preset, Preset):
        raise PresetError(repr(preset)[:60], None, f"is {_kind(preset)}, not a Preset; "
                                                   "resolve() gives one from a name or file")
    data = {"name": preset.name, "title": preset.title, "letter": preset.letter,
            "description": preset.description, "params": dict(preset.params),
            "initial": dict(preset.initial_given), "dt": preset.dt, "check": preset.check,
            "input": [{"amplitude": a, "duration": d} for a, d in preset.segments]}
    checked = _validate(data, preset.source)
    return replace(checked, overrides=preset.overrides, yaml_text=preset.yaml_text)


def checked_schedule(segments: Any, dt: float | None, source: str
                     ) -> tuple[tuple[float, float], ...]:
    """(amplitude, duration ms) pairs given in code, checked as a file's ``input:`` is, and
    ``dt`` (if any: a check reads spike times, with no step) against them as
    :func:`check_run_size` does."""
    try:
        data = [{"amplitude": amplitude, "duration": duration} for amplitude, duration in segments]
    except (TypeError, ValueError):
        raise PresetError(source, "segments", "must be (amplitude, duration ms) pairs, such "
                                              "as [(1.5, 200.0)]") from None
    schedule = _segments(data, source)
    if dt is not None:
        check_run_size(Preset(name="schedule", title="", segments=schedule, params=dict(DEFAULTS),
                              source=source), dt, None, key="dt")
    return schedule


def _with_run_size(preset: Preset, max_steps: int | None, dt: float | None) -> Preset:
    if preset.dt is not None:  # the file's own dt must fit its own segments
        check_run_size(preset, preset.dt, None, key="dt")
    if max_steps is not None:
        check_run_size(preset, effective_dt(preset, dt), max_steps)
    return preset


def check_run_size(preset: Preset, dt: float, max_steps: int | None,
                   key: str | None = None) -> None:
    """Reject a dt longer than a segment, and a run longer than ``max_steps`` steps.

    ``key`` names the dt in the error; by default ``dt`` if it is the preset's (or the default
    0.1 ms the preset falls back on), else ``--dt``.
    """
    if key is None:
        key = "dt" if dt == effective_dt(preset, None) else "--dt"
    if not (isinstance(dt, int | float) and not isinstance(dt, bool) and math.isfinite(dt)
            and dt > 0):
        raise PresetError(preset.source, key, f"must be a number > 0 ms, got {short_repr(dt)}")
    shortest = min(duration for _, duration in preset.segments)
    if dt > shortest:
        raise PresetError(
            preset.source, key,
            f"dt = {dt:g} ms is longer than the shortest input segment ({shortest:g} ms)",
        )
    if max_steps is None:
        return
    steps = preset.duration / dt
    if steps > max_steps:
        default = " (the default)" if preset.dt is None and key == "dt" else ""
        raise PresetError(
            preset.source, key,
            f"{preset.duration:g} ms at dt = {dt:g} ms{default} is {steps:,.0f} steps, above "
            f"the cap of {max_steps:,}; raise it with --max-steps or use a larger dt",
        )


def _check_params(params: dict[str, float], source: str) -> None:
    problem = parameter_problem(params)
    if problem:
        raise PresetError(source, f"params.{problem[0]}", problem[1])


def _check_name(value: Any, source: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise PresetError(source, "check", f"must be the name of a check, got {short_repr(value)}")
    if value not in PATTERNS:  # each check is named after its pattern; see checks.CHECKS
        close = difflib.get_close_matches(value[:200], PATTERNS, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]}?" if close else "; the checks are named after the " \
                                                           "shipped presets (`gif list`)"
        raise PresetError(source, "check", f"unknown check {short_repr(value)}{hint}")
    return value


def _segments(value: Any, source: str, step: float = DEFAULT_DT
              ) -> tuple[tuple[float, float], ...]:
    """The ``input:`` list as segments: plain ones, and stimuli held for ``step`` ms (or
    their own ``step``) at a time (:mod:`gifcli.model.stimuli`)."""
    example = "{amplitude: 1.5, duration: 200}"
    if isinstance(value, dict):
        raise PresetError(source, "input", f"must be a list of segments, one per line like "
                                           f"`- {example}`, got a mapping")
    if not isinstance(value, list) or not value:
        got = "an empty list" if value == [] else _kind(value)
        raise PresetError(source, "input", f"must be a non-empty list of segments like "
                                           f"{example}, got {got}")
    segments = []
    for number, segment in enumerate(value, start=1):
        key = f"input[{number}]"
        if not isinstance(segment, dict):
            raise PresetError(source, key, f"must be a mapping like {example}, got "
                                           f"{_kind(segment)}")
        if len(segment) == 1 and next(iter(segment)) in stimuli.STIMULI:
            segments += _stimulus(segment, source, key, step)
            continue
        _reject_unknown(segment, SEGMENT_KEYS + tuple(stimuli.STIMULI), source, key + ".")
        for part in SEGMENT_KEYS:
            if part not in segment:
                raise PresetError(source, f"{key}.{part}", f"is missing; a segment is {example}")
        amplitude = _number(segment["amplitude"], source, f"{key}.amplitude")
        segments.append((amplitude, _positive(segment["duration"], source, f"{key}.duration")))
    return tuple(segments)


def _stimulus(entry: dict, source: str, key: str, step: float) -> list[tuple[float, float]]:
    """The segments of a ``- KIND: {...}`` entry of ``input:``; a samples file is found
    beside the preset's file."""
    kind, spec = next(iter(entry.items()))
    folder = Path(source).parent if Path(source).is_file() else Path(".")
    try:
        return stimuli.from_mapping(kind, spec, folder).segments(step)
    except PresetError as error:
        if error.source not in stimuli.STIMULI:  # a samples file's own error
            raise
        where = f"{key}.{kind}" + (f".{error.key}" if error.key else "")
        raise PresetError(source, where, error.reason) from None


def _is_pair(value: Any) -> bool:
    try:
        return len(value) == 2
    except TypeError:
        return False


def parse_schedule(text: str, option: str = "--input") -> tuple[tuple[float, float], ...]:
    """``"0x100,2x400"`` (AMPLITUDExDURATION_MS, comma-separated) -> ((0.0, 100.0), (2.0, 400.0)),
    each value checked as a file's ``input:`` is."""
    pieces = [piece.strip() for piece in text.split(",")]
    segments = []
    for number, piece in enumerate(pieces, start=1):
        amplitude, times, duration = piece.lower().rpartition("x")
        if not times or not amplitude.strip() or not duration.strip():
            raise PresetError(option, short_repr(piece), "must be AMPLITUDExDURATION (ms), "
                                                         "e.g. --input 0x100,2x400")
        values = []
        for part, what in ((amplitude, "amplitude"), (duration, "duration")):
            try:
                values.append(number_from_text(part.strip()))
            except ValueError as problem:
                raise PresetError(option, f"input[{number}].{what}",
                                  f"{part.strip()!r} is not a number; {problem}") from None
        segments.append({"amplitude": values[0], "duration": values[1]})
    return _segments(segments, option)


def with_schedule(preset: Preset, text: str) -> Preset:
    """The preset with the input of ``--input AMPxDUR,...`` instead of its own."""
    return preset.with_input(*parse_schedule(text))


def _numbers(value: Any, allowed: tuple[str, ...], source: str, section: str) -> dict[str, float]:
    if value is None:  # `params:` with nothing under it
        return {}
    if not isinstance(value, dict):
        example = "a: 0.01" if section == "params" else "V_th: -50"
        raise PresetError(source, section, f"must be a mapping of names to numbers such as "
                                           f"`{example}`, got {_kind(value)}")
    _reject_unknown(value, allowed, source, section + ".")
    return {key: _number(v, source, f"{section}.{key}") for key, v in value.items()}


def _reject_unknown(mapping: dict, allowed: tuple[str, ...], source: str, prefix: str) -> None:
    for key in mapping:
        if key in allowed:
            continue
        if not isinstance(key, str):  # `1:`, `~:` or `true:`; no name is close to those
            shown = "null" if key is None else short_repr(key)
            raise PresetError(source, f"{prefix}{shown}",
                              f"unknown key (valid: {', '.join(allowed)})")
        shown = key if key.isprintable() and len(key) <= 40 else short_repr(key)
        raise PresetError(source, f"{prefix}{shown}",
                          f"unknown key{_suggestion(key[:200], allowed, prefix)}")


def _suggestion(key: str, allowed: tuple[str, ...], prefix: str = "") -> str:
    """``; did you mean X?`` and the valid keys, or where the key belongs instead."""
    valid = f" (valid: {', '.join(allowed)})"
    alias = ALIASES.get(key)
    if alias in allowed:
        return f"; did you mean {alias}?"
    by_case = {k.lower(): k for k in allowed}
    if key.lower() in by_case:
        return f"; did you mean {by_case[key.lower()]}?"
    elsewhere = _belongs_elsewhere(ALIASES.get(key, key), prefix)
    if elsewhere:
        return elsewhere
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
    return f"; did you mean {close[0]}?{valid}" if close else valid


def _belongs_elsewhere(key: str, prefix: str) -> str:
    """A hint for a key that is valid, but in another section."""
    if key in PARAMETER_NAMES and prefix != "params.":
        return f"; {key} is a model parameter: put it under `params:`"
    if key in INITIAL_KEYS and prefix != "initial.":
        return f"; {key} is an initial value: put it under `initial:`"
    if key in SEGMENT_KEYS and not prefix.startswith("input["):
        return f"; {key} belongs in a segment of `input:`, like {{amplitude: 1.5, duration: 200}}"
    if key in ("dt", "check", "name", "title", "letter", "description") and prefix:
        return f"; {key} goes at the top level of the file, not under {prefix.rstrip('.')}"
    return ""


def _number(value: Any, source: str, key: str) -> float:
    if isinstance(value, np.integer | np.floating) and not isinstance(value, np.bool_):
        value = value.item()  # a NumPy scalar, from the Python API
    if isinstance(value, bool | np.bool_):
        raise PresetError(source, key, f"must be a number, got the boolean {str(value).lower()}")
    if isinstance(value, str):
        raise PresetError(source, key, f"must be a number, got the text {short_repr(value)}"
                                       f"{_text_hint(value)}")
    if not isinstance(value, int | float):
        raise PresetError(source, key, f"must be a number, got {_kind(value)}")
    if isinstance(value, int) and abs(value) >= 1e308:  # float() would raise OverflowError
        value = math.inf if value > 0 else -math.inf
    number = float(value)
    if not math.isfinite(number):
        raise PresetError(source, key, f"must be a finite number, got {number}")
    return number


def _text_hint(value: str) -> str:
    try:
        number_from_text(value)
    except ValueError:
        shown = value.strip()
        return f"; {number_problem(shown)}" if "_" in shown or not_finite(shown) else ""
    return "; write the number without quotes"


def _positive(value: Any, source: str, key: str) -> float:
    number = _number(value, source, key)
    if number <= 0:
        raise PresetError(source, key, f"must be > 0 ms, got {number:g}")
    return number


def _string(data: dict, key: str, source: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise PresetError(source, key, f"must be text, got {short_repr(value)}")
    return value


def _kind(value: Any) -> str:
    kinds = {list: "a list", dict: "a mapping", str: "text", bool: "a boolean",
             type(None): "nothing (null)", int: "a number", float: "a number"}
    return kinds.get(type(value), f"a {type(value).__name__}")


# --- overrides from the command line ----------------------------------------------------------


INPUT_SCALE = "input_scale"  # an override that multiplies every input amplitude
OVERRIDE_KEYS = PARAMETER_NAMES + (INPUT_SCALE,) + tuple(f"initial.{k}" for k in INITIAL_KEYS)


def parse_assignment(text: str) -> tuple[str, float]:
    """``KEY=VALUE`` from ``--set``: a model parameter, ``input_scale`` or ``initial.X``, and a
    finite number."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key or not raw:
        raise PresetError("--set", short_repr(text), "must look like KEY=VALUE, e.g. a=0.01")
    _check_override_key(key, "--set")
    try:
        value = number_from_text(raw)
    except ValueError as problem:
        if not_finite(raw):
            raise PresetError("--set", key, f"must be a finite number, got {short_repr(raw)}"
                              ) from None
        raise PresetError("--set", key, f"must be a number, got {short_repr(raw)}; {problem}"
                          ) from None
    return key, value


def _check_override_key(key: str, source: str) -> None:
    if key not in OVERRIDE_KEYS:
        shown = key if key.isprintable() and len(key) <= 40 else short_repr(key)
        raise PresetError(source, shown,
                          f"unknown key{_set_suggestion(key[:200], OVERRIDE_KEYS)}")


def _api_number(key: Any, value: Any) -> float:
    """A value given to :meth:`Preset.replace`: a real, finite number (NumPy's too)."""
    _check_override_key(str(key), "replace()")
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise PresetError("replace()", str(key), f"must be a number, got {_kind(value)}")
    if not math.isfinite(float(value)):
        raise PresetError("replace()", str(key), f"must be a finite number, got {value}")
    return float(value)


def _set_suggestion(key: str, allowed: tuple[str, ...]) -> str:
    bare = key.removeprefix("params.").removeprefix("initial.")
    bare = ALIASES.get(bare, bare)
    if bare in PARAMETER_NAMES:
        return f"; did you mean {bare}?"
    for name in INITIAL_KEYS:
        if bare.lower() == name.lower():
            return f"; did you mean initial.{name}?"
    if bare == "dt":
        return "; give the time step with --dt"
    if bare in TOP_LEVEL_KEYS or bare in SEGMENT_KEYS:
        return ("; overrides change only model parameters, input_scale and initial.V, V_th, "
                "I1, I2")
    return _suggestion(key, allowed, "--set")


def with_overrides(preset: Preset, assignments: list[str]) -> Preset:
    """The preset with ``--set KEY=VALUE`` overrides applied and re-validated."""
    return apply_overrides(preset, [parse_assignment(text) for text in assignments], "--set")


def apply_overrides(preset: Preset, changes: list[tuple[str, float]], how: str) -> Preset:
    """The preset with ``(key, value)`` changes applied in order, validated and recorded in
    ``preset.overrides``. ``input_scale`` multiplies the amplitudes of the file's schedule
    (twice given, the last one counts, as for every key)."""
    params, initial = dict(preset.params), dict(preset.initial_given)
    overrides = dict(preset.overrides)
    for key, value in changes:
        overrides[key] = value
        if key.startswith("initial."):
            initial[key.removeprefix("initial.")] = value
        elif key != INPUT_SCALE:
            params[key] = value
    problem = parameter_problem(params)
    if problem:
        raise PresetError(f"{preset.source} with {how}", problem[0], problem[1])
    scale = overrides.get(INPUT_SCALE, 1.0) / preset.overrides.get(INPUT_SCALE, 1.0)
    segments = preset.segments if scale == 1.0 else \
        tuple((amplitude * scale, duration) for amplitude, duration in preset.segments)
    if any(not math.isfinite(amplitude) for amplitude, _ in segments):
        raise PresetError(f"{preset.source} with {how}", INPUT_SCALE,
                          "makes an input amplitude too large to represent")
    return replace(preset, params=params, initial_given=initial, segments=segments,
                   overrides=overrides)


def effective_dt(preset: Preset, dt: float | None) -> float:
    return dt if dt is not None else (preset.dt or DEFAULT_DT)

