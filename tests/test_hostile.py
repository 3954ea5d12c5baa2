"""Hostile input and a hostile environment: one sentence, the right exit code, nothing broken.

Each test is one way the tool once crashed, hung or misled (a closed stdout, an escape
sequence in a title, a file name that is not UTF-8, ``1_000``, a file that shadows a preset,
a read-only install...). The real console script runs in a subprocess where the way the
process starts matters (streams, signals, environment); the rest runs in-process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from gifcli import cli
from gifcli.core.errors import GifError, PresetError

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[31m"
SMALL = "name: small\ninput:\n  - {amplitude: 1.5, duration: 50}\n"


def gif(*args: str, cwd: Path | None = None, env: dict | None = None, **kwargs):
    """The console script, as a shell runs it."""
    return subprocess.run([sys.executable, "-m", "gifcli", *args], cwd=cwd,
                          env=None if env is None else os.environ | env, capture_output=True,
                          **kwargs)


def one_error(stderr: bytes | str) -> str:
    text = stderr.decode() if isinstance(stderr, bytes) else stderr
    lines = text.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gif: error: "), text
    return lines[0]


# --- the command line's own errors -----------------------------------------------------------


@pytest.mark.parametrize("args, phrase", [
    (["run", "A", "--dt", "inf"], "'--dt'"),
    (["run", "A", "--max-steps", "0"], "--max-steps"),
    (["run", "A", "--method", "EXACT"], "'EXACT' is not one of"),
    (["run", "A", "--bogus"], "no such option: --bogus"),
    (["run", "A", "--dt", "0_1"], "without underscores"),
])
def test_an_option_type_error_is_one_sentence_not_a_box(capsys, args, phrase):
    code = cli.run(args)
    err = capsys.readouterr().err
    assert code == 2
    assert phrase in one_error(err)
    assert "╭" not in err and "Traceback" not in err


def test_a_closed_or_broken_stdout_is_not_a_failed_check(tmp_path):
    listing = subprocess.run(f"{sys.executable} -m gifcli list | head -1", shell=True,
                             capture_output=True, cwd=tmp_path)
    assert listing.returncode == 0 and listing.stderr == b""
    closed = subprocess.run(f"{sys.executable} -m gifcli list --json >&-", shell=True,
                            capture_output=True, cwd=tmp_path)
    assert closed.returncode == 0, closed.stderr
    broken = subprocess.Popen([sys.executable, "-m", "gifcli", "list", "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    broken.stdout.close()  # the reader goes away before the first byte
    assert broken.wait(timeout=60) in (0, 141)
    assert b"Traceback" not in broken.stderr.read()


def test_a_full_stdout_is_one_sentence_and_a_closed_stderr_keeps_the_code(tmp_path):
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "gifcli", "list"], stdout=full,
                                stderr=subprocess.PIPE, cwd=tmp_path)
    assert result.returncode == 2
    assert "cannot write to standard out" in one_error(result.stderr)
    silent = subprocess.run(f"{sys.executable} -m gifcli run no_such_preset 2>&-", shell=True,
                            cwd=tmp_path)
    assert silent.returncode == 2


def test_columns_zero_still_prints_the_table(tmp_path):
    result = gif("check", "A", cwd=tmp_path, env={"COLUMNS": "0"})
    assert result.returncode == 0
    assert b"tonic_spiking" in result.stdout and b"passed" in result.stdout


# --- text from files never reaches the terminal raw -------------------------------------------


def test_escape_sequences_in_a_title_are_shown_escaped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.yaml").write_text(
        'name: evil\ntitle: "\\e]0;pwned\\a\\e[2Jred"\ndescription: "x\\e[31m y"\n'
        "input:\n  - {amplitude: 1.5, duration: 50}\n", encoding="utf-8")
    runner = CliRunner()
    for args in (["show", "evil.yaml"], ["run", "evil.yaml", "--format", "json"],
                 ["check", "evil.yaml"]):
        result = runner.invoke(cli.app, args, env={"COLUMNS": "120"})
        assert "\x1b" not in result.output, args
        assert "\x07" not in result.output, args
    piped = runner.invoke(cli.app, ["show", "evil.yaml"]).output
    assert piped == (tmp_path / "evil.yaml").read_text(encoding="utf-8")  # the file, as text
    on_terminal = runner.invoke(cli.app, ["show", "evil.yaml"], env={"FORCE_COLOR": "1"})
    assert "\x1b]0;" not in on_terminal.output and "\x1b[2J" not in on_terminal.output
    assert "\x07" not in on_terminal.output and "\\x1b]0;pwned" in on_terminal.output
    from gifcli.cli.terminal import markup_safe

    assert "\x1b" not in markup_safe(ESCAPES) and "\\x1b[2J" in markup_safe(ESCAPES)


# --- names and streams that are not UTF-8 ------------------------------------------------------


def test_a_file_name_that_is_not_utf8_works(tmp_path):
    name = os.fsdecode(b"\xff\xfe.yaml")
    (tmp_path / name).write_text(SMALL, encoding="utf-8")
    out = os.fsdecode(b"out\xff")
    result = gif("run", name, "--out", out, "--format", "json,csv", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path / out)) == ["small.csv", "small.json"]
    assert b"\\udcff" in result.stdout  # valid JSON: the undecodable byte as an escape


@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "ascii"},
                                 {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}])
def test_a_stdout_that_cannot_take_unicode_still_gets_the_table(tmp_path, env):
    for args in (["list"], ["run", "A", "--format", "json"], ["show", "A"], ["list", "--json"]):
        result = gif(*args, cwd=tmp_path, env=env)
        assert result.returncode == 0, (args, result.stderr)
        assert b"tonic_spiking" in result.stdout
    listing = gif("list", "--json", cwd=tmp_path, env=env)
    import json

    assert json.loads(listing.stdout)[0]["name"] == "tonic_spiking"


# --- numbers: one rule on the command line and in files ---------------------------------------


def test_underscores_and_infinities_are_refused_everywhere(tmp_path, capsys):
    from gifcli.model.preset import parse_assignment, parse_preset

    with pytest.raises(PresetError, match="write 1000 without underscores"):
        parse_preset("name: u\nparams: {A1: 1_000}\ninput:\n  - {amplitude: 1, duration: 9}\n",
                     "u.yaml")
    with pytest.raises(PresetError, match="write 1000 without underscores"):
        parse_assignment("A1=1_000")
    with pytest.raises(PresetError, match="finite"):
        parse_assignment("a=inf")
    assert parse_assignment("a=1e-2") == ("a", 0.01)
    assert cli.run(["run", "A", "--dt", "0_1"]) == 2  # not silently 1.0 ms
    capsys.readouterr()


def test_two_merge_keys_in_one_mapping_are_refused():
    from gifcli.model.preset import parse_preset

    text = ("name: m\nx: &b {a: 0.01}\nparams:\n  <<: *b\n  <<: *b\n"
            "input:\n  - {amplitude: 1.5, duration: 50}\n")
    with pytest.raises(PresetError, match="appears twice"):
        parse_preset(text, "m.yaml")


# --- files: what is read is never overwritten, and names say which file --------------------------


def test_an_output_that_is_the_input_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small.json").write_text(SMALL, encoding="utf-8")  # a preset named .json
    result = CliRunner().invoke(cli.app, ["run", "small.json", "--out", "."])
    assert result.exit_code == 2
    assert "would overwrite the input file" in result.output
    assert (tmp_path / "small.json").read_text(encoding="utf-8") == SMALL


def test_a_file_named_like_a_preset_is_named_in_a_warning(tmp_path):
    (tmp_path / "A").write_text(SMALL, encoding="utf-8")
    result = gif("run", "A", "--format", "json", "--out", "o", cwd=tmp_path)
    assert result.returncode == 0
    assert b"'A' is the shipped preset tonic_spiking" in result.stderr
    assert (tmp_path / "o" / "tonic_spiking.json").exists()
    assert gif("run", "./A", "--format", "json", "--out", "o", cwd=tmp_path).returncode == 0
    assert (tmp_path / "o" / "small.json").exists()
    quiet = gif("run", "A", "--format", "json", "--out", "o", "-q", cwd=tmp_path)
    assert quiet.stderr == b""


def test_a_folder_name_too_long_is_one_sentence(tmp_path):
    result = CliRunner().invoke(cli.app, ["run", "A", "--out", str(tmp_path / ("x" * 300))])
    assert result.exit_code == 2
    assert "File name too long" in result.output or "too long" in result.output


def test_a_run_too_big_for_memory_says_so_before_allocating(monkeypatch):
    from gifcli.model.preset import resolve
    from gifcli.simulation import single

    monkeypatch.setattr(single, "available_memory", lambda: 10_000_000)
    with pytest.raises(GifError, match=r"needs about 0\.\d GB of memory"):
        single.simulate(resolve("A"), dt=0.0001, max_steps=10**9)


# --- the Python API: validated at its edge ------------------------------------------------------


def test_simulate_validates_a_preset_built_in_code():
    from gifcli import resolve, simulate

    preset = resolve("A")
    for change, phrase in (({"tau": -1.0}, "tau: must be > 0"), ({"tau": 0.0}, "must be > 0"),
                           ({"a": float("nan")}, "finite")):
        with pytest.raises(PresetError, match=phrase):
            simulate(replace(preset, params=preset.params | change))
    assert simulate(preset, dt=np.float32(0.05)).n_spikes > 0
    with pytest.raises(GifError, match="method must be one of"):
        simulate(preset, "EXACT")
    with pytest.raises(GifError, match="dt must be a number"):
        simulate(preset, dt="0.1")
    assert simulate("A", a=0.0, input_scale=1.0).preset.overrides == {"a": 0.0,
                                                                      "input_scale": 1.0}
    with pytest.raises(PresetError, match="unknown key"):
        simulate("A", alpha=1.0)


@pytest.mark.parametrize("kwargs, phrase", [
    ({"segments": [(1.5, -10.0)]}, "duration: must be > 0"),
    ({"segments": [(1.5, 0.05)]}, "longer than the shortest input segment"),
    ({"record": -1}, "record must be a whole number"),
    ({"block": 0}, "block must be a whole number"),
    ({"max_spikes": -3}, "max_spikes must be a whole number"),
    ({"segments": [1.5, 100.0]}, "pairs"),
])
def test_run_batch_validates_its_arguments(kwargs, phrase):
    from gifcli.simulation.batch import run_batch

    args = {"segments": [(1.5, 100.0)], "dt": 0.1} | kwargs
    with pytest.raises(GifError, match=phrase):
        run_batch({"a": [0.0, 0.01]}, args.pop("segments"), **args)


def test_resolve_takes_a_path(tmp_path):
    from gifcli import resolve

    (tmp_path / "small.yaml").write_text(SMALL, encoding="utf-8")
    assert resolve(tmp_path / "small.yaml").name == "small"


# --- the environment ---------------------------------------------------------------------------


def test_numba_cache_falls_back_to_a_temporary_folder(monkeypatch):
    from gifcli.core import numba_cache

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(numba_cache, "writable", lambda folder: False)
    numba_cache.choose_cache_dir()
    assert os.environ["NUMBA_CACHE_DIR"] == str(numba_cache.fallback_cache())
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/mine")
    numba_cache.choose_cache_dir()
    assert os.environ["NUMBA_CACHE_DIR"] == "/mine"  # the user's choice stands


def test_an_unwritable_home_still_runs(tmp_path):
    env = {"HOME": "/proc/x", "XDG_CACHE_HOME": "/proc/x", "NUMBA_CACHE_DIR": ""}
    result = gif("run", "A", "--format", "json", "--out", str(tmp_path), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr


def test_the_batch_gives_the_same_numbers_without_jit(tmp_path):
    """NUMBA_DISABLE_JIT=1 runs the kernels as Python (uint8 arithmetic once overflowed)."""
    code = ("from gifcli.simulation.batch import run_batch; r = run_batch({'a': [0.0, 0.01]}, "
            "[(1.5, 60.0)], dt=0.1, record=8); print(r.n_spikes.tolist(), "
            "r.spike_times[:, :3].tolist())")
    plain = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=os.environ | {"NUMBA_DISABLE_JIT": "1"}, timeout=600)
    compiled = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == compiled.stdout


@pytest.mark.parametrize("command", [
    ["sweep", "A", "-p", "a=0,0.01", "-f", "csv"],
    ["fi", "A", "--start", "0.5", "--stop", "1.5", "--num", "2", "-f", "csv"],
])
def test_control_characters_of_out_are_printed_escaped(capsys, tmp_path, command):
    """``wrote PATH`` shows the folder as typed, its control characters escaped: an escape
    sequence in --out must not retitle or clear the terminal."""
    out = tmp_path / f"o{ESCAPES}"
    code = cli.run([*command, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "\x1b" not in captured.out + captured.err and "\\x1b[2J" in captured.out


def test_resume_with_no_store_is_refused_and_writes_nothing(capsys, tmp_path):
    """A mistyped --out with --resume would start the whole sweep again, silently."""
    pytest.importorskip("zarr")
    out = tmp_path / "typo"
    code = cli.run(["sweep", "A", "-p", "a=0,0.01", "-f", "zarr", "--resume", "--out", str(out)])
    line = one_error(capsys.readouterr().err)
    assert code == 2 and "no store" in line and "without --resume" in line
    assert not out.exists()
