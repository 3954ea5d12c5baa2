"""Bad input, file by file and rule by rule: every rejection is one clear PresetError.

The corpus in ``tests/data/bad/`` holds malformed presets; ``expected.json`` maps each to a
phrase its error must contain. Each is rejected by the API and by the CLI (exit 2, the phrase
on stderr, no traceback, no file written). The rule tests below hit each rule of
docs/cli.md and docs/model.md through ``parse_preset``, ``load_preset``, ``resolve``,
``parse_assignment`` and ``with_overrides``, and assert the text of the message.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gifcli.core.errors import PresetError
from gifcli.model.parameters import PARAMETER_NAMES
from gifcli.model.preset import (
    DEFAULT_MAX_STEPS,
    check_run_size,
    load_preset,
    parse_assignment,
    parse_preset,
    resolve,
    with_overrides,
)

BAD = Path(__file__).parent / "data" / "bad"
EXPECTED: dict[str, str] = json.loads((BAD / "expected.json").read_text(encoding="utf-8"))
#: Files that are valid presets in themselves: only a run (with its --max-steps) refuses them.
RUN_ONLY = {"too_many_steps.yaml"}
VALID = "name: my_neuron\ninput:\n  - {amplitude: 1.5, duration: 200}\n"


def rejects(text: str, source: str = "my.yaml", **kwargs) -> PresetError:
    with pytest.raises(PresetError) as caught:
        parse_preset(text, source, **kwargs)
    return caught.value


def assert_one_sentence(message: str) -> None:
    assert message and "\n" not in message and "\r" not in message
    assert "Traceback" not in message
    assert len(message) < 600, message


# --- the corpus ---------------------------------------------------------------------------------


def test_corpus_is_complete():
    on_disk = {p.name for p in BAD.iterdir()} - {"expected.json"}
    assert on_disk == set(EXPECTED), "every corpus file needs an expected phrase, and back"
    assert len(EXPECTED) >= 25


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_is_rejected_by_the_api(name):
    path = BAD / name
    with pytest.raises(PresetError) as caught:
        load_preset(path)
    error = caught.value
    assert EXPECTED[name] in str(error)
    assert error.source == str(path)
    assert str(error).startswith(str(path))
    assert_one_sentence(str(error))
    with pytest.raises(PresetError) as again:
        resolve(str(path), max_steps=DEFAULT_MAX_STEPS)
    assert str(again.value) == str(error)


@pytest.fixture
def cli(monkeypatch, tmp_path):
    """Invoke ``gif ...`` in-process from a scratch folder; return (code, stdout, stderr)."""
    typer_testing = pytest.importorskip("typer.testing")
    cli_module = pytest.importorskip("gifcli.cli")
    monkeypatch.chdir(tmp_path)
    runner = typer_testing.CliRunner()

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli_module.app, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"gif {' '.join(args)} raised {result.exception!r}")
        return result.exit_code, result.stdout, result.stderr

    return invoke


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")) if folder.exists() else []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_is_rejected_by_gif_run(cli, tmp_path, name):
    out = tmp_path / "out"
    code, stdout, stderr = cli("run", str(BAD / name), "--out", str(out))
    assert code == 2, (stdout, stderr)
    assert EXPECTED[name] in stderr
    assert "Traceback" not in stderr + stdout
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert files_under(out) == []
    assert not (tmp_path / "gifcli_pwned_marker").exists()
    assert [p.name for p in tmp_path.iterdir()] == [], "nothing written beside --out either"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_is_rejected_by_gif_show(cli, tmp_path, name):
    code, stdout, stderr = cli("show", str(BAD / name))
    assert "Traceback" not in stderr + stdout
    if name in RUN_ONLY:  # `gif show` runs nothing: the step cap is the run's business
        assert code == 0, stderr
        return
    assert code == 2, (stdout, stderr)
    assert EXPECTED[name] in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert stdout == ""
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_is_rejected_by_gif_check(cli, tmp_path, name):
    code, stdout, stderr = cli("check", str(BAD / name))
    assert code == 2, (stdout, stderr)
    assert EXPECTED[name] in stderr
    assert "Traceback" not in stderr + stdout
    assert files_under(tmp_path) == []


def test_one_bad_file_among_good_ones_writes_nothing(cli, tmp_path):
    out = tmp_path / "out"
    code, _, stderr = cli("run", "A", str(BAD / "tau_zero.yaml"), "B", "--out", str(out))
    assert code == 2
    assert EXPECTED["tau_zero.yaml"] in stderr
    assert files_under(out) == []


def test_a_run_can_raise_the_step_cap(cli, tmp_path):
    name = str(BAD / "too_many_steps.yaml")
    code, _, stderr = cli("check", name, "--dt", "0.1", "--max-steps", "20000")
    assert "--max-steps" not in stderr
    assert code in (0, 1), stderr  # it runs (this file names no check, so it cannot fail one)
    code, _, stderr = cli("check", name, "--max-steps", "100000000")
    assert code in (0, 1), stderr  # 10 million steps, allowed by the raised cap


# --- code in YAML is never run -------------------------------------------------------------------


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system [\"touch {marker}\"]",
    "!!python/object/apply:subprocess.call [[touch, {marker}]]",
    "!!python/object/apply:builtins.open [{marker}, w]",
    "!!python/object/new:pathlib.PosixPath [{marker}]",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/tuple [1, 2]",
])
def test_python_tags_are_errors_and_never_run(tmp_path, tag):
    marker = tmp_path / "created_by_yaml"
    value = tag.format(marker=marker)
    for text in (f"{VALID}params:\n  a: {value}\n", f"name: {value}\ninput: []\n",
                 f"{VALID}title: {value}\n"):
        error = rejects(text)
        assert "is not allowed; a preset holds only plain values" in str(error)
        assert "!!python/" in str(error)
        assert not marker.exists()


def test_a_tag_anywhere_in_the_file_is_refused_before_anything_is_built(tmp_path):
    marker = tmp_path / "made"
    text = f"{VALID}params: {{}}\nx: !!python/object/apply:os.system ['touch {marker}']\n"
    assert "the tag !!python/object/apply:os.system is not allowed" in str(rejects(text))
    assert not marker.exists()


@pytest.mark.parametrize("text, phrase", [
    ("!!binary aGVsbG8=", "the tag !!binary is not allowed"),
    ("!!timestamp 2001-12-14", "the tag !!timestamp is not allowed"),
    ("!!set {a, b}", "the tag !!set is not allowed"),
    ("!!omap [a: 1]", "the tag !!omap is not allowed"),
    ("!local 5", "the tag !local is not allowed"),
    ("!!int abc", "'abc' is not an integer"),
    ("!!float abc", "'abc' is not a number"),
    ("!!bool maybe", "'maybe' is not true or false"),
])
def test_other_tags_are_clear_errors(text, phrase):
    error = rejects(f"{VALID}params:\n  a: {text}\n")
    assert phrase in str(error)
    assert "line 5" in str(error)


# --- the YAML itself ----------------------------------------------------------------------------


@pytest.mark.parametrize("text, phrase", [
    ("name: x\ninput: [\n", "invalid YAML at line 3, column 1"),
    ("name: x\n  input: 1\n", "invalid YAML at line 2, column 8"),
    ("name: 'x\n", "invalid YAML at line 2, column 1"),
    ("name: x\n\tinput: []\n", "(a tab: YAML indents with spaces only)"),
    ("a: 1\n---\nb: 2\n", "expected a single document in the stream but found another"),
    ("name: *nowhere\n", "invalid YAML at line 1, column 7: found undefined alias"),
    ("? [1, 2]\n: 3\n", "found unhashable key"),
    ("name: x\x1b[31m\n", "contains the control character U+001B at line 1, column 8"),
    ("name: \ud800\n", "contains the control character U+D800 at line 1, column 7"),
    ("a: {<<: 5}\n", "expected a mapping or list of mappings for merging"),
    ("a: " + "[" * 2000 + "]" * 2000, "exceeded maximum nesting depth"),
])
def test_yaml_syntax_errors_give_line_and_column(text, phrase):
    error = rejects(text)
    assert phrase in str(error)
    assert error.key is None
    assert_one_sentence(str(error))


@pytest.mark.parametrize("text, phrase", [
    ("", "is empty; a preset needs at least `name` and `input`"),
    ("   \n\n", "is empty"),
    ("# only a comment\n", "is empty"),
    ("---\n", "is empty"),
    ("~\n", "is empty"),
    ("[1, 2]\n", "must be a mapping of keys such as `name:` and `input:`, got a list"),
    ("hello\n", "must be a mapping of keys such as `name:` and `input:`, got text"),
    ("42\n", "got a number"),
    ("true\n", "got a boolean"),
])
def test_a_file_that_is_not_a_mapping(text, phrase):
    assert phrase in str(rejects(text))


def test_duplicate_keys_are_errors_with_both_lines():
    error = rejects(f"{VALID}params:\n  tau: 10\n  b: 0.1\n  tau: 20\n")
    assert str(error) == "my.yaml: params.tau: appears twice (lines 5 and 7); keep one"
    assert "name: appears twice (lines 1 and 4)" in str(rejects(VALID + "name: other\n"))


def test_merge_keys_still_work_and_may_override():
    text = "name: my_neuron\nbase: &base {a: 0.01, A1: 5.0}\n"
    assert "base: unknown key" in str(rejects(text))  # anchors need a home among the keys
    text = VALID + textwrap.dedent("""\
        params:
          <<: {a: 0.01, A1: 5.0}
          A1: 10.0
        """)
    preset = parse_preset(text, "my.yaml")
    assert preset.params["a"] == 0.01 and preset.params["A1"] == 10.0


@pytest.mark.parametrize("levels, width", [(9, 9), (30, 2), (4, 200)])
def test_alias_bombs_are_refused_fast(levels, width):
    lines = [VALID.rstrip(), "x0: &x0 [lol]"]
    lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    lines.append(f"check: *x{levels}")
    started = time.process_time()
    error = rejects("\n".join(lines) + "\n")
    assert time.process_time() - started < 1.0
    assert "its aliases expand to more than 1,000,000 values" in str(error)


def test_a_few_aliases_are_fine():
    text = "name: my_neuron\nstep: &step {amplitude: 1.5, duration: 100}\n"
    assert "step: unknown key" in str(rejects(text + "input: [*step, *step]\n"))
    preset = parse_preset("name: my_neuron\ninput:\n  - &s {amplitude: 1.5, duration: 100}\n"
                          "  - *s\n", "my.yaml")
    assert preset.segments == ((1.5, 100.0), (1.5, 100.0))


def test_recursive_aliases_are_refused():
    assert "an alias refers to the value that contains it" in str(
        rejects("name: my_neuron\ninput: &x [{amplitude: 1, duration: 1}, *x]\n"))
    assert "an alias refers to the value that contains it" in str(
        rejects(f"{VALID}params: &p {{a: *p}}\n"))


BOMB_PROBE = """
import resource, sys, time
from gifcli.core.errors import PresetError
from gifcli.model.preset import load_preset
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.process_time()
try:
    load_preset(sys.argv[1])
    print("loaded")
except PresetError as error:
    print(error)
elapsed = time.process_time() - started
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(f"{elapsed:.3f} {grown}")
"""


@pytest.mark.parametrize("target", ["check", "title", "name", "description", "letter"])
def test_alias_bomb_in_a_subprocess_is_bounded_in_time_and_memory(tmp_path, target):
    """A billion laughs aimed at each key: < 1 s of CPU and < 50 MB, under a 1 GB address
    cap. CPU time, not wall time, so that a busy machine does not fail it."""
    lines = [VALID.rstrip() if target != "name" else "input: []",
             "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    lines.append(f"{target}: *l9")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    done = subprocess.run([sys.executable, "-c", BOMB_PROBE, str(bomb)], capture_output=True,
                          text=True, timeout=20, preexec_fn=limit, check=False)
    assert done.returncode == 0, done.stderr
    message, numbers = done.stdout.strip().splitlines()
    elapsed, grown_kb = numbers.split()
    assert "aliases expand to more than" in message
    assert float(elapsed) < 1.0
    assert int(grown_kb) < 50_000


# --- files ---------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(PresetError, match="no such file$"):
        load_preset(tmp_path / "nope.yaml")
    with pytest.raises(PresetError, match="no such file; the shipped preset is named "
                                          "tonic_spiking, without .yaml"):
        resolve("tonic_spiking.yaml")
    with pytest.raises(PresetError, match=r"sub/nope\.yml: no such file"):
        resolve(str(tmp_path / "sub" / "nope.yml"))


def test_folder(tmp_path):
    with pytest.raises(PresetError, match="is a folder, not a preset file"):
        load_preset(tmp_path)
    with pytest.raises(PresetError, match="is a folder, not a preset file"):
        resolve(str(tmp_path) + "/")


def test_a_folder_named_like_a_preset_does_not_hide_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tonic_spiking").mkdir()
    (tmp_path / "A").mkdir()
    assert resolve("tonic_spiking").letter == "A"
    assert resolve("A").name == "tonic_spiking"


def test_special_files_are_not_read(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # reading it would wait forever
    with pytest.raises(PresetError, match="pipe.yaml: is not a regular file"):
        load_preset(fifo)
    with pytest.raises(PresetError, match="/dev/zero: is not a regular file"):
        resolve("/dev/zero")  # reading it would never end


def test_huge_file_is_refused_without_reading_it(tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as handle:
        handle.truncate(3_000_000_000)  # sparse: 3 GB of zeros on no disk
    started = time.process_time()
    with pytest.raises(PresetError, match=r"big.yaml: is 3000\.0 MB; a preset file is at most "
                                          r"5 MB"):
        load_preset(big)
    assert time.process_time() - started < 0.5


def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    locked = tmp_path / "locked.yaml"
    locked.write_text(VALID)
    locked.chmod(0)
    with pytest.raises(PresetError, match=r"locked.yaml: cannot be read \(permission denied\)"):
        load_preset(locked)


@pytest.mark.parametrize("raw, phrase", [
    (b"name: x\x00\n", "is a binary file, not YAML text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is a binary file, not YAML text"),
    (b"name: caf\xe9\ninput: []\n", "is not UTF-8 text (byte 0xe9 on line 1)"),
    (b"name: x\ninput: []\n\xff\xfe", "is not UTF-8 text (byte 0xff on line 3)"),
    (b"\xff\xfen\x00a\x00", "is UTF-16 text; save it as UTF-8"),
    (b"\xfe\xff\x00n\x00a", "is UTF-16 text; save it as UTF-8"),
])
def test_bytes_that_are_not_utf8_text(tmp_path, raw, phrase):
    path = tmp_path / "f.yaml"
    path.write_bytes(raw)
    with pytest.raises(PresetError) as caught:
        load_preset(path)
    assert phrase in str(caught.value)


def test_utf8_with_a_byte_order_mark_and_crlf_lines_is_fine(tmp_path):
    path = tmp_path / "windows.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.replace("\n", "\r\n").encode())
    assert load_preset(path).name == "my_neuron"


def test_odd_paths(tmp_path):
    with pytest.raises(PresetError, match="is not a valid file name"):
        load_preset("bad\0name")
    long_name = "a" * 5000
    with pytest.raises(PresetError, match="no preset of that name") as caught:
        resolve(long_name)
    assert_one_sentence(str(caught.value))
    with pytest.raises(PresetError, match="cannot be read|no such file"):
        resolve(long_name + ".yaml")
    newline = tmp_path / "two\nlines.yaml"
    newline.write_text("name: [\n")
    with pytest.raises(PresetError) as caught:
        load_preset(newline)
    assert "two\\nlines.yaml: invalid YAML" in str(caught.value)
    assert_one_sentence(str(caught.value))


@pytest.mark.parametrize("ref, phrase", [
    ("", "is not a preset; give a name, a letter A-T or a file"),
    ("  ", "is not a preset"),
    ("tonic_spikng", "did you mean tonic_spiking"),
    ("Tonic-Spiking", "did you mean tonic_spiking"),
    ("a", "did you mean A (tonic_spiking)?"),
    ("Z", "`gif list` shows them all"),
    ("zzzzzz", "`gif list` shows them all"),
])
def test_unknown_preset_names(ref, phrase):
    with pytest.raises(PresetError) as caught:
        resolve(ref)
    assert phrase in str(caught.value)


# --- the schema, rule by rule ------------------------------------------------------------------


@pytest.mark.parametrize("extra, key, phrase", [
    # unknown keys, with the closest valid key or the right section
    ("params: {tau_m: 10}", "params.tau_m", "unknown key; did you mean tau?"),
    ("params: {Tau: 10}", "params.Tau", "unknown key; did you mean tau?"),
    ("params: {E_L: -65}", "params.E_L", "unknown key; did you mean V_rest?"),
    ("params: {V_th_rest: -65}", "params.V_th_rest", "did you mean V_th_reset?"),
    ("params: {k_1: 0.1}", "params.k_1", "did you mean k1?"),
    ("params: {zzz: 1}", "params.zzz", "unknown key (valid: V_rest, V_reset, V_th_inf"),
    ("params: {V_th: -45}", "params.V_th", "V_th is an initial value: put it under `initial:`"),
    ("params: {dt: 0.1}", "params.dt", "dt goes at the top level of the file, not under params"),
    ("initial: {Vth: -45}", "initial.Vth", "unknown key; did you mean V_th?"),
    ("initial: {v_th: -45}", "initial.v_th", "unknown key; did you mean V_th?"),
    ("initial: {tau: 5}", "initial.tau", "tau is a model parameter: put it under `params:`"),
    ("initial: {threshold: 5}", "initial.threshold", "(valid: V, V_th, I1, I2)"),
    ("tau: 5", "tau", "tau is a model parameter: put it under `params:`"),
    ("V_th: -45", "V_th", "V_th is an initial value: put it under `initial:`"),
    ("duration: 5", "duration", "duration belongs in a segment of `input:`"),
    ("parameters: {}", "parameters", "unknown key; did you mean params?"),
    ("schedule: []", "schedule", "unknown key; did you mean input?"),
    ("Name: x", "Name", "unknown key; did you mean name?"),
    ("1: x", "1", "unknown key (valid: name, title"),
    ("~: x", "null", "unknown key (valid: name, title"),
    ("true: x", "True", "unknown key (valid: name, title"),
    # wrong types
    ("params: {a: true}", "params.a", "must be a number, got the boolean true"),
    ("params: {a: false}", "params.a", "must be a number, got the boolean false"),
    ("params: {a: yes}", "params.a", "must be a number, got the text 'yes'"),
    ("params: {a: '0.01'}", "params.a", "got the text '0.01'; write the number without quotes"),
    ("params: {a: 1_000}", "params.a", "got the text '1_000'"),
    ("params: {a: '1:30'}", "params.a", "got the text '1:30'"),
    ("params: {a: 1:30}", "params.a", "got the text '1:30'"),
    ("params: {a: 2001-01-01}", "params.a", "got the text '2001-01-01'"),
    ("params: {a: [0.01]}", "params.a", "must be a number, got a list"),
    ("params: {a: {value: 0.01}}", "params.a", "must be a number, got a mapping"),
    ("params: {a: }", "params.a", "must be a number, got nothing (null)"),
    ("params: [a, 0.01]", "params", "must be a mapping of names to numbers such as `a: 0.01`"),
    ("params: 0", "params", "such as `a: 0.01`, got a number"),
    ("params: ''", "params", "got text"),
    ("params: false", "params", "got a boolean"),
    ("initial: []", "initial", "must be a mapping of names to numbers such as `V_th: -50`"),
    ("title: 5", "title", "must be text, got 5"),
    ("title: ", "title", "must be text, got None"),
    ("description: [a]", "description", "must be text"),
    ("dt: fast", "dt", "must be a number, got the text 'fast'"),
    ("dt: true", "dt", "must be a number, got the boolean true"),
    # NaN and infinity, in every spelling
    ("params: {a: .nan}", "params.a", "must be a finite number, got nan"),
    ("params: {a: .NaN}", "params.a", "must be a finite number, got nan"),
    ("params: {a: .inf}", "params.a", "must be a finite number, got inf"),
    ("params: {a: -.inf}", "params.a", "must be a finite number, got -inf"),
    ("params: {a: +.inf}", "params.a", "must be a finite number, got inf"),
    ("params: {a: .Inf}", "params.a", "must be a finite number, got inf"),
    ("params: {a: 1e400}", "params.a", "must be a finite number, got inf"),
    ("params: {a: -1e400}", "params.a", "must be a finite number, got -inf"),
    ("params: {a: 1.0e400}", "params.a", "must be a finite number, got inf"),
    ("params: {a: 1.0e+400}", "params.a", "must be a finite number, got inf"),
    ("params: {a: 1E400}", "params.a", "must be a finite number, got inf"),
    ("params: {a: " + "9" * 400 + "}", "params.a", "must be a finite number, got inf"),
    ("params: {a: -" + "9" * 5000 + "}", "params.a", "must be a finite number, got -inf"),
    ("params: {a: inf}", "params.a", "got the text 'inf'; give a finite number"),
    ("params: {a: NaN}", "params.a", "got the text 'NaN'; give a finite number"),
    ("params: {a: '1e400'}", "params.a", "got the text '1e400'; give a finite number"),
    ("dt: .nan", "dt", "must be a finite number, got nan"),
    ("initial: {V_th: .inf}", "initial.V_th", "must be a finite number, got inf"),
    # dt
    ("dt: 0", "dt", "must be > 0 ms, got 0"),
    ("dt: -0.1", "dt", "must be > 0 ms, got -0.1"),
    ("dt: 1e-400", "dt", "must be > 0 ms, got 0"),
    ("dt: 201", "dt", "dt = 201 ms is longer than the shortest input segment (200 ms)"),
    ("dt: 0.00001", "dt", "raise it with --max-steps or use a larger dt"),
    # parameter ranges (docs/model.md)
    ("params: {tau: 0}", "params.tau", "must be > 0 (membrane time constant, ms), got 0"),
    ("params: {tau: -20}", "params.tau", "must be > 0 (membrane time constant, ms), got -20"),
    ("params: {tau: 1e-310}", "params.tau", "the rates 1/tau and R/tau stay within a float's"),
    ("params: {tau: 1e-300, R: 1e10}", "params.tau", "got 1e-300 ms"),
    ("params: {R: 0}", "params.R", "must be > 0 (input resistance, mV/input), got 0"),
    ("params: {b: 0}", "params.b", "must be > 0 (threshold's rate of return to V_th_inf"),
    ("params: {b: -1e-300}", "params.b", "must be > 0"),
    ("params: {k1: 0}", "params.k1", "must be > 0 (decay rate of I1, 1/ms), got 0"),
    ("params: {k2: -0.5}", "params.k2", "must be > 0 (decay rate of I2, 1/ms), got -0.5"),
    ("params: {V_reset: -60}", "params.V_reset", "must be < V_th_reset (-60 mV), got -60"),
    ("params: {V_reset: -50, V_th_reset: -55}", "params.V_reset",
     "must be < V_th_reset (-55 mV), got -50: a reset at or above the threshold would fire"),
    ("params: {V_th_reset: -75}", "params.V_reset", "must be < V_th_reset (-75 mV), got -70"),
    # name, letter, check
    ("letter: AB", "letter", "must be one capital letter A-Z, got 'AB'"),
    ("letter: a", "letter", "must be one capital letter A-Z, got 'a'"),
    ("letter: 1", "letter", "must be one capital letter A-Z, got 1"),
    ("check: tonic", "check", "unknown check 'tonic'; did you mean tonic_spiking?"),
    ("check: bursting_tonic", "check", "unknown check 'bursting_tonic'"),
    ("check: zzzz", "check", "the checks are named after the shipped presets (`gif list`)"),
    ("check: 5", "check", "must be the name of a check, got 5"),
    ("check: {name: x}", "check", "must be the name of a check, got {'name': 'x'}"),
])
def test_each_rule(extra, key, phrase):
    error = rejects(VALID + extra + "\n")
    assert error.key == key
    assert error.source == "my.yaml"
    assert phrase in error.reason, error.reason
    assert str(error).startswith(f"my.yaml: {key}: ")
    if key not in ("null", "True"):  # the line is found by the key's text
        assert str(error).endswith(" (line 4)")
    assert_one_sentence(str(error))


@pytest.mark.parametrize("text, key, phrase", [
    ("input: []\n", "name", "is missing; give the preset a snake_case name"),
    ("name: x\n", "input", "is missing; give a list of segments like - {amplitude: 1.5"),
    ("name: x\ninput: []\n", "input", "must be a non-empty list of segments like "
                                      "{amplitude: 1.5, duration: 200}, got an empty list"),
    ("name: x\ninput:\n", "input", "got nothing (null)"),
    ("name: x\ninput: 5\n", "input", "got a number"),
    ("name: x\ninput: {amplitude: 1, duration: 5}\n", "input",
     "must be a list of segments, one per line like `- {amplitude: 1.5, duration: 200}`"),
    ("name: x\ninput: [[1.5, 200]]\n", "input[1]", "must be a mapping like {amplitude: 1.5, "
                                                    "duration: 200}, got a list"),
    ("name: x\ninput: [1.5]\n", "input[1]", "got a number"),
    ("name: x\ninput: [{amplitude: 1, duration: 5}, 7]\n", "input[2]", "got a number"),
    ("name: x\ninput: [{amplitude: 1}]\n", "input[1].duration", "is missing; a segment is"),
    ("name: x\ninput: [{duration: 1}]\n", "input[1].amplitude", "is missing"),
    ("name: x\ninput: [{amp: 1, duration: 1}]\n", "input[1].amp", "did you mean amplitude?"),
    ("name: x\ninput: [{amplitude: 1, duration: 1, dt: 1}]\n", "input[1].dt",
     "dt goes at the top level of the file, not under input[1]"),
    ("name: x\ninput: [{amplitude: 1, duration: 0}]\n", "input[1].duration", "must be > 0 ms"),
    ("name: x\ninput: [{amplitude: 1, duration: -1}]\n", "input[1].duration", "got -1"),
    ("name: x\ninput: [{amplitude: 1, duration: .inf}]\n", "input[1].duration", "finite"),
    ("name: x\ninput: [{amplitude: 1, duration: '5'}]\n", "input[1].duration", "the text '5'"),
    ("name: x\ninput: [{amplitude: .nan, duration: 5}]\n", "input[1].amplitude", "got nan"),
    ("name: x\ninput: [{amplitude: on, duration: 5}]\n", "input[1].amplitude", "text 'on'"),
    ("name: x\ninput: [{amplitude: 1, duration: 5}, {amplitude: 0, duration: 0.05}]\ndt: 0.1\n",
     "dt", "dt = 0.1 ms is longer than the shortest input segment (0.05 ms)"),
    ("name: x\ninput: [{amplitude: 1, duration: 1e9}]\n", "dt",
     "1e+09 ms at dt = 0.1 ms (the default) is 10,000,000,000 steps, above the cap of "
     "2,000,000; raise it with --max-steps"),
    ("name: Tonic\ninput: [{amplitude: 1, duration: 5}]\n", "name", "must be snake_case"),
    ("name: tonic-spiking\ninput: [{amplitude: 1, duration: 5}]\n", "name", "snake_case"),
    ("name: 1st\ninput: [{amplitude: 1, duration: 5}]\n", "name", "starting with a letter"),
    ("name: ''\ninput: [{amplitude: 1, duration: 5}]\n", "name", "snake_case"),
    ("name: ../../etc/x\ninput: [{amplitude: 1, duration: 5}]\n", "name", "snake_case"),
    ("name: x" + "y" * 100 + "\ninput: [{amplitude: 1, duration: 5}]\n", "name",
     "must be at most 100 characters, got 101"),
    ("name: true\ninput: [{amplitude: 1, duration: 5}]\n", "name", "must be text, got True"),
])
def test_each_rule_of_name_and_input(text, key, phrase):
    error = rejects(text)
    assert error.key == key
    assert phrase in error.reason, error.reason
    assert_one_sentence(str(error))


def test_yaml_12_numbers():
    """``1e3`` is a number (YAML 1.1 reads it as text); ``010`` is ten, not eight; hex and
    octal are refused, as on the command line (one rule for numbers)."""
    preset = parse_preset(VALID + "params: {a: 1e-3, A1: 010, A2: -2E1, "
                                  "b: .5, k1: 5., k2: +1}\n", "my.yaml")
    assert preset.params["a"] == 0.001
    assert preset.params["A1"] == 10.0
    assert preset.params["A2"] == -20.0
    for text in ("R: 0x10", "tau: 0o17"):
        with pytest.raises(PresetError, match="must be a number, got the text"):
            parse_preset(VALID + f"params: {{{text}}}\n", "my.yaml")
    assert (preset.params["b"], preset.params["k1"], preset.params["k2"]) == (0.5, 5.0, 1.0)
    assert all(type(v) is float for v in preset.params.values())
    assert parse_preset("name: x\ntitle: no\ninput: [{amplitude: 1, duration: 5}]\n",
                        "x").title == "no"
    assert parse_preset("name: x\ntitle: 2001-01-01\ninput: [{amplitude: 1, duration: 5}]\n",
                        "x").title == "2001-01-01"
    assert parse_preset("name: 'on'\ninput: [{amplitude: 1, duration: 5}]\n", "x").name == "on"


def test_empty_sections_mean_defaults():
    preset = parse_preset(VALID + "params:\ninitial:\ndt:\ncheck:\nletter:\n", "my.yaml")
    assert preset.changed_params == {} and preset.initial_given == {}
    assert preset.dt is None and preset.check is None and preset.letter is None


def test_errors_name_the_line():
    text = "name: my_neuron\n\ninput:\n  - {amplitude: 1.5, duration: 200}\n" \
           "  - amplitude: 0\n    duration: -3\nparams:\n  a: 0.01\n  tau: 1\n"
    assert str(rejects(text)).endswith("input[2].duration: must be > 0 ms, got -3 (line 6)")
    text = text.replace("tau: 1", "tau: 0")
    assert str(rejects(text)).endswith("params.tau: must be > 0 (membrane time constant, ms), "
                                       "got 0 (line 9)")
    missing = "name: x\ninput:\n  - {amplitude: 1}\n"
    assert str(rejects(missing)).endswith("input[1].duration: is missing; a segment is "
                                          "{amplitude: 1.5, duration: 200} (line 3)")


def test_step_cap_follows_the_arguments():
    text = "name: x\ninput: [{amplitude: 1, duration: 1000}]\ndt: 0.0001\n"
    assert "10,000,000 steps, above the cap of 2,000,000" in str(rejects(text))
    assert "above the cap of 1,000" in str(rejects(VALID, max_steps=1000))
    assert parse_preset(text, "x", max_steps=10**7).dt == 0.0001
    assert parse_preset(text, "x", max_steps=None).dt == 0.0001
    assert parse_preset(VALID, "x", max_steps=2000).dt is None  # 200 ms / 0.1 ms = 2000 steps
    assert "above the cap of 1,999" in str(rejects(VALID, max_steps=1999))
    assert parse_preset(VALID, "x", max_steps=20, dt=10).segments
    assert "--max-steps" in str(rejects(VALID, max_steps=20, dt=1))
    # the file's own dt must fit its segments, whatever the cap
    assert "longer than the shortest" in str(rejects(VALID + "dt: 300\n", max_steps=None))


def test_check_run_size_names_the_dt_it_was_given():
    preset = parse_preset(VALID + "dt: 0.1\n", "my.yaml")
    with pytest.raises(PresetError) as caught:
        check_run_size(preset, 0.001, 1000)
    assert caught.value.key == "--dt"
    assert "200 ms at dt = 0.001 ms is 200,000 steps, above the cap of 1,000; raise it with " \
           "--max-steps" in str(caught.value)
    with pytest.raises(PresetError) as caught:
        check_run_size(preset, 0.1, 1000)
    assert caught.value.key == "dt"
    with pytest.raises(PresetError, match="--dt: dt = 500 ms is longer than the shortest"):
        check_run_size(preset, 500.0, DEFAULT_MAX_STEPS)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(PresetError, match="must be a number > 0 ms"):
            check_run_size(preset, bad, DEFAULT_MAX_STEPS)


def test_shipped_presets_still_load():
    from gifcli.model.preset import shipped_presets

    presets = shipped_presets()
    assert [p.letter for p in presets] == [chr(ord("A") + i) for i in range(20)]


# --- --set ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, key, phrase", [
    ("a", "'a'", "must look like KEY=VALUE, e.g. a=0.01"),
    ("=1", "'=1'", "must look like KEY=VALUE"),
    ("a=", "'a='", "must look like KEY=VALUE"),
    ("", "''", "must look like KEY=VALUE"),
    ("tau_m=5", "tau_m", "unknown key; did you mean tau?"),
    ("TAU=5", "TAU", "unknown key; did you mean tau?"),
    ("params.tau=5", "params.tau", "unknown key; did you mean tau?"),
    ("V_th=-30", "V_th", "unknown key; did you mean initial.V_th?"),
    ("initial.Vth=-30", "initial.Vth", "unknown key; did you mean initial.V_th?"),
    ("initial.tau=5", "initial.tau", "unknown key; did you mean tau?"),
    ("dt=0.01", "dt", "give the time step with --dt"),
    ("name=x", "name", "overrides change only model parameters, input_scale and initial.V"),
    ("zzz=1", "zzz", "unknown key (valid: V_rest"),
    ("tau=abc", "tau", "must be a number, got 'abc'"),
    ("tau=0x10", "tau", "must be a number, got '0x10'"),
    ("tau=true", "tau", "must be a number, got 'true'"),
    ("tau=1,5", "tau", "must be a number, got '1,5'"),
    ("tau=5=6", "tau", "must be a number, got '5=6'"),
    ("tau=nan", "tau", "must be a finite number, got 'nan'"),
    ("tau=inf", "tau", "must be a finite number, got 'inf'"),
    ("tau=-Infinity", "tau", "must be a finite number, got '-Infinity'"),
    ("tau=1e400", "tau", "must be a finite number, got '1e400'"),
    ("initial.V=-1e999", "initial.V", "must be a finite number"),
])
def test_parse_assignment_rejects(text, key, phrase):
    with pytest.raises(PresetError) as caught:
        parse_assignment(text)
    error = caught.value
    assert error.source == "--set"
    assert error.key == key
    assert phrase in error.reason, error.reason
    assert_one_sentence(str(error))


@pytest.mark.parametrize("text, expected", [
    ("a=0.01", ("a", 0.01)),
    (" tau = 5 ", ("tau", 5.0)),
    ("initial.V_th=-30", ("initial.V_th", -30.0)),
    ("A1=1e3", ("A1", 1000.0)),
    ("R2=-0", ("R2", 0.0)),
])
def test_parse_assignment_accepts(text, expected):
    assert parse_assignment(text) == expected


@pytest.mark.parametrize("assignments, key, phrase", [
    (["tau=0"], "tau", "must be > 0 (membrane time constant, ms), got 0"),
    (["R=-1"], "R", "must be > 0"),
    (["b=0"], "b", "must be > 0"),
    (["k1=0"], "k1", "must be > 0"),
    (["k2=-1e-9"], "k2", "must be > 0"),
    (["V_reset=-60"], "V_reset", "must be < V_th_reset (-60 mV), got -60"),
    (["V_th_reset=-80"], "V_reset", "must be < V_th_reset (-80 mV), got -70"),
    (["tau=1e-400"], "tau", "must be > 0"),
    (["a=0.01", "tau=oops"], "tau", "must be a number, got 'oops'"),
])
def test_with_overrides_rejects(assignments, key, phrase):
    preset = parse_preset(VALID, "my.yaml")
    with pytest.raises(PresetError) as caught:
        with_overrides(preset, assignments)
    assert caught.value.key == key
    assert phrase in caught.value.reason
    assert_one_sentence(str(caught.value))


def test_with_overrides_names_the_file_and_keeps_the_preset():
    preset = parse_preset(VALID, "my.yaml")
    with pytest.raises(PresetError, match=r"^my\.yaml with --set: tau: must be > 0"):
        with_overrides(preset, ["tau=-1"])
    changed = with_overrides(preset, ["tau=5", "initial.V_th=-40", "tau=6"])
    assert changed.params["tau"] == 6.0 and changed.initial["V_th"] == -40.0
    assert preset.params["tau"] == 20.0 and preset.initial_given == {}


def test_every_parameter_can_be_set():
    preset = parse_preset(VALID, "my.yaml")
    for name in PARAMETER_NAMES:
        value = 0.5 if name not in ("V_reset", "V_th_reset") else preset.params[name]
        assert with_overrides(preset, [f"{name}={value}"]).params[name] == value


def test_preset_error_pickles_with_its_parts():
    import pickle

    error = PresetError("my.yaml", "params.tau", "must be > 0", line=4)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.source, copy.key, copy.reason, copy.line) == ("my.yaml", "params.tau",
                                                               "must be > 0", 4)
    assert str(copy) == str(error) == "my.yaml: params.tau: must be > 0 (line 4)"


def test_the_biggest_allowed_file_loads_in_bounded_time(tmp_path):
    """Just under the 5 MB limit (125,000 segments) loads; just over it is refused at once."""
    from gifcli.model.preset import MAX_FILE_BYTES

    segment = "  - {amplitude: 1.5, duration: 0.5}\n"
    count = (MAX_FILE_BYTES - 100) // len(segment)
    path = tmp_path / "long.yaml"
    path.write_text("name: long_schedule\ninput:\n" + segment * count, encoding="utf-8")
    started = time.process_time()
    preset = load_preset(path, max_steps=None)
    assert len(preset.segments) == count
    assert time.process_time() - started < 20
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(segment * 3)
    started = time.process_time()
    with pytest.raises(PresetError, match="a preset file is at most 5 MB"):
        load_preset(path)
    assert time.process_time() - started < 0.5
