"""Fuzzing the preset loader and the --set parser: anything loads or is a PresetError.

Random mutations of the shipped presets (keys deleted or renamed, values replaced by numbers
including NaN, infinities and huge ones, text, nested garbage, lists for mappings...), random
edits of their YAML text, random text and bytes, and random ``--set`` assignments. Whatever
loads obeys every rule of the spec; whatever does not raises PresetError with one line that
names the file. Nothing else may escape.
"""

from __future__ import annotations

import math
import string
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gifcli.analysis.checks import CHECKS
from gifcli.core.errors import PresetError, one_line
from gifcli.model.parameters import PARAMETER_NAMES, PARAMETERS, parameter_problem
from gifcli.model.preset import (
    DEFAULT_MAX_STEPS,
    INITIAL_KEYS,
    NAME_PATTERN,
    SEGMENT_KEYS,
    TOP_LEVEL_KEYS,
    Preset,
    load_preset,
    parse_assignment,
    parse_preset,
    shipped_dir,
    with_overrides,
)

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXTS = {f.name: f.read_text(encoding="utf-8") for f in shipped_dir().iterdir()
         if f.name.endswith(".yaml")}
DATA = {name: yaml.safe_load(text) for name, text in TEXTS.items()}
KEYS = TOP_LEVEL_KEYS + PARAMETER_NAMES + INITIAL_KEYS + SEGMENT_KEYS + ("tau_m", "Vth", "<<")
POSITIVE = {p.name for p in PARAMETERS if p.positive}

special_numbers = st.sampled_from([
    0, -0.0, 1, -1, 1e308, -1e308, 1.7976931348623157e308, 5e-324, -5e-324, 10**400, -(10**400),
    2**63, math.inf, -math.inf, math.nan, 1e-320, 0.1, 200, 1e9,
])
special_text = st.sampled_from([
    "", " ", "1e3", "1e400", ".inf", "-.inf", ".nan", "nan", "inf", "yes", "no", "on", "~",
    "null", "0x1F", "0o17", "010", "1_000", "1:30", "2001-01-01", "*a", "&a", "!!python/none",
    "tonic_spiking", "A", "Z", "my_neuron", "a" * 300, "é", "\t", "line\nbreak", "'", '"',
])
scalars = (st.none() | st.booleans() | st.integers() | special_numbers
           | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=20) | special_text)
garbage = st.recursive(
    scalars,
    lambda inner: (st.lists(inner, max_size=4)
                   | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner,
                                     max_size=4)),
    max_leaves=12,
)


def check_loaded(preset: Preset, max_steps: int | None = DEFAULT_MAX_STEPS) -> None:
    """Every rule of docs/cli.md and docs/model.md holds for a preset that loaded."""
    assert NAME_PATTERN.match(preset.name) and len(preset.name) <= 100
    assert isinstance(preset.title, str) and isinstance(preset.description, str)
    assert preset.letter is None or (len(preset.letter) == 1 and preset.letter.isupper())
    assert set(preset.params) == set(PARAMETER_NAMES)
    for name, value in preset.params.items():
        assert type(value) is float and math.isfinite(value), name
        if name in POSITIVE:
            assert value > 0, name
    assert preset.params["V_reset"] < preset.params["V_th_reset"]
    assert parameter_problem(preset.params) is None
    assert set(preset.initial_given) <= set(INITIAL_KEYS)
    assert all(type(v) is float and math.isfinite(v) for v in preset.initial_given.values())
    assert preset.segments
    for amplitude, duration in preset.segments:
        assert type(amplitude) is float and math.isfinite(amplitude)
        assert type(duration) is float and math.isfinite(duration) and duration > 0
    if preset.dt is not None:
        assert math.isfinite(preset.dt) and 0 < preset.dt <= min(d for _, d in preset.segments)
    if max_steps is not None:
        assert preset.duration / (preset.dt or 0.1) <= max_steps
    assert preset.check is None or preset.check in CHECKS


def check_error(error: PresetError, source: str) -> None:
    message = str(error)
    assert message.startswith(one_line(source))
    assert "\n" not in message and "\r" not in message
    assert error.reason and len(message) < 1000
    assert "Traceback" not in message


def load_or_reject(text: str, source: str = "fuzz.yaml") -> Preset | None:
    try:
        preset = parse_preset(text, source)
    except PresetError as error:
        check_error(error, source)
        return None
    check_loaded(preset)
    return preset


# --- structured mutations ----------------------------------------------------------------------


def containers(node: Any, path: tuple = ()) -> list[tuple]:
    """The paths of every list and mapping inside ``node``."""
    found = [path] if isinstance(node, dict | list) else []
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else []
    for key, value in items:
        found.extend(containers(value, (*path, key)))
    return found


def at(node: Any, path: tuple) -> Any:
    for key in path:
        node = node[key]
    return node


def mutate(data: Any, draw) -> Any:
    """One random change somewhere inside ``data`` (a fresh copy of a shipped preset)."""
    paths = containers(data)
    if not paths:
        return draw(garbage)
    path = draw(st.sampled_from(paths))
    parent = at(data, path)
    keys = list(parent.keys()) if isinstance(parent, dict) else list(range(len(parent)))
    op = draw(st.sampled_from(["delete", "replace", "rename", "add", "listify", "wrap",
                               "unwrap", "number", "empty"]))
    if not keys and op != "add":
        op = "add"
    key = draw(st.sampled_from(keys)) if keys else None
    if op == "delete":
        del parent[key]
    elif op == "replace":
        parent[key] = draw(garbage)
    elif op == "rename" and isinstance(parent, dict):
        parent[draw(st.sampled_from(KEYS) | st.text(max_size=6))] = parent.pop(key)
    elif op == "add":
        if isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS) | st.text(max_size=6))] = draw(garbage)
        else:
            parent.append(draw(garbage))
    elif op == "listify":  # a list where a mapping belongs, and so on
        value = parent[key]
        parent[key] = list(value.values()) if isinstance(value, dict) else [value]
    elif op == "wrap":
        parent[key] = {draw(st.sampled_from(KEYS)): parent[key]}
    elif op == "unwrap":
        value = parent[key]
        if isinstance(value, dict | list) and value:
            parent[key] = next(iter(value.values())) if isinstance(value, dict) else value[0]
    elif op == "number":
        parent[key] = draw(special_numbers | st.floats() | st.integers(-(10**30), 10**30))
    else:
        parent[key] = draw(st.sampled_from([None, [], {}, "", 0]))
    return data


@FUZZ
@given(st.sampled_from(sorted(DATA)), st.integers(1, 4), st.data())
def test_mutated_presets_load_or_raise_preset_error(name, n_mutations, data):
    tree = yaml.safe_load(TEXTS[name])  # a fresh copy
    for _ in range(n_mutations):
        tree = mutate(tree, data.draw)
    flow = data.draw(st.booleans())
    text = yaml.safe_dump(tree, default_flow_style=flow, allow_unicode=data.draw(st.booleans()))
    load_or_reject(text)


@FUZZ
@given(garbage)
def test_garbage_documents_load_or_raise_preset_error(tree):
    load_or_reject(yaml.safe_dump(tree))


@FUZZ
@given(st.dictionaries(st.sampled_from(TOP_LEVEL_KEYS), garbage, max_size=9))
def test_garbage_under_the_right_keys_loads_or_raises_preset_error(tree):
    load_or_reject(yaml.safe_dump(tree))


# --- the YAML text -------------------------------------------------------------------------------

YAML_CHARS = " :-[]{}&*!|>'\"#%@`,?\t\n\r\\" + string.ascii_letters + string.digits + "._~<=+é\x00"
YAML_TOKENS = st.sampled_from([
    "!!int ", "!!float ", "!!bool ", "!!str ", "!!null ", "!!timestamp ", "!!binary ", "!!set ",
    "!!omap ", "!!python/object/apply:os.system ", "!local ", "&a ", "*a", "*b", "<<: ", "? ",
    "--- ", "...\n", "%YAML 1.1\n---\n", "%TAG ! tag:x,2000:\n---\n", "9" * 5000, "1e400",
    ".nan", "- ", "{", "}", "[", "]", "'", '"', "\t", "\ufeff", "\x85", "\u2028",
])


@FUZZ
@given(st.sampled_from(sorted(TEXTS)), st.data())
def test_edited_yaml_text_loads_or_raises_preset_error(name, data):
    text = TEXTS[name]
    for _ in range(data.draw(st.integers(1, 5))):
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, min(len(text), start + 12)))
        insert = data.draw(st.text(alphabet=YAML_CHARS, max_size=6) | YAML_TOKENS
                           | st.just(text[start:end] * 2))
        text = text[:start] + insert + text[end:]
    load_or_reject(text)


@FUZZ
@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=200))
def test_any_text_loads_or_raises_preset_error(text):
    """Any unicode at all, lone surrogates and control characters included."""
    load_or_reject(text)


@FUZZ
@given(st.text(alphabet=YAML_CHARS, max_size=120))
def test_yaml_looking_text_loads_or_raises_preset_error(text):
    load_or_reject(text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.sampled_from(sorted(TEXTS)).map(lambda n: TEXTS[n].encode())
       .flatmap(lambda raw: st.integers(0, len(raw)).map(lambda i: raw[:i] + b"\xff" + raw[i:])))
def test_any_bytes_in_a_file_load_or_raise_preset_error(raw):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_bytes(raw)
        try:
            preset = load_preset(path)
        except PresetError as error:
            check_error(error, str(path))
        else:
            check_loaded(preset)


# --- --set ---------------------------------------------------------------------------------------

ASSIGNABLE = PARAMETER_NAMES + tuple(f"initial.{k}" for k in INITIAL_KEYS)
set_keys = st.sampled_from(ASSIGNABLE + ("tau_m", "params.tau", "V_th", "dt", "", " a ")) \
    | st.text(max_size=10)
set_values = (st.floats(allow_nan=True, allow_infinity=True).map(repr) | special_text
              | st.integers(-(10**400), 10**400).map(str) | st.text(max_size=10))


def set_or_reject(text: str) -> tuple[str, float] | None:
    try:
        key, value = parse_assignment(text)
    except PresetError as error:
        check_error(error, "--set")
        return None
    assert key in ASSIGNABLE
    assert type(value) is float and math.isfinite(value)
    return key, value


@FUZZ
@given(st.text(max_size=40))
def test_any_assignment_text_parses_or_raises_preset_error(text):
    set_or_reject(text)


@FUZZ
@given(set_keys, st.sampled_from(["=", " = ", "==", ":", ""]), set_values)
def test_key_value_assignments_parse_or_raise_preset_error(key, sep, value):
    parsed = set_or_reject(f"{key}{sep}{value}")
    if parsed is not None:
        assert parsed[0] == key.strip()


@FUZZ
@given(st.sampled_from(sorted(DATA)),
       st.lists(st.tuples(st.sampled_from(ASSIGNABLE), set_values), max_size=5))
def test_overrides_apply_or_raise_preset_error(name, assignments):
    preset = parse_preset(TEXTS[name], f"presets/{name}")
    texts = [f"{key}={value}" for key, value in assignments]
    try:
        changed = with_overrides(preset, texts)
    except PresetError as error:
        assert error.source in ("--set", f"presets/{name} with --set")
        check_error(error, error.source)
        return
    check_loaded(changed)
    for key in {key for key, _ in assignments}:  # the last assignment of each key wins
        last = [value for k, value in assignments if k == key][-1]
        got = changed.initial[key[8:]] if key.startswith("initial.") else changed.params[key]
        assert got == float(last)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(TEXTS)), st.integers(1, 3), st.data())
def test_the_cli_answers_a_mutated_file_with_exit_0_or_2(name, n_mutations, data):
    """`gif show` on a mutated preset: a clean exit 0 or one sentence and exit 2."""
    testing = pytest.importorskip("typer.testing")
    cli = pytest.importorskip("gifcli.cli")
    tree = yaml.safe_load(TEXTS[name])
    for _ in range(n_mutations):
        tree = mutate(tree, data.draw)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutant.yaml"
        path.write_text(yaml.safe_dump(tree), encoding="utf-8")
        result = testing.CliRunner().invoke(cli.app, ["show", str(path)])
    assert result.exit_code in (0, 2), (result.exit_code, result.stderr, result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 2:
        assert result.stderr.startswith(f"gif: error: {path}")
        assert len(result.stderr.strip().splitlines()) == 1


@FUZZ
@given(st.text(max_size=30) | st.sampled_from(["", ".", "..", "/", "~", "-", "A", "a", "T", "U",
                                               "presets", "tonic_spiking.yaml", "x.yml", "\\"]))
def test_any_preset_reference_resolves_or_raises_preset_error(ref):
    from gifcli.model.preset import resolve

    try:
        preset = resolve(ref)
    except PresetError as error:
        check_error(error, error.source)
        assert "\n" not in str(error)
    else:
        check_loaded(preset)
