"""The ``gif`` command line: every command and option, and every error path with its exit code
and message. Bad input must write nothing; a failed check still writes everything, then exits 1.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gifcli import __version__, cli
from gifcli.cli import options, runner

LETTERS = [chr(c) for c in range(ord("A"), ord("U"))]
APP = cli.app


@pytest.fixture
def gif(tmp_path, monkeypatch):
    """Run ``gif ARGS...`` in-process from an empty working folder; returns the Result."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "160")
    invoker = CliRunner()

    def call(*args: str, env: dict | None = None):
        return invoker.invoke(APP, list(args), env=env)

    return call


def write_yaml(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def one_error_line(result) -> str:
    """The error a user reads: exactly one line on stderr, starting ``gif: error:``."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gif: error: ")
    assert "Traceback" not in result.output
    return lines[0]


SILENT = """\
    name: silent
    title: A silent neuron
    input:
      - {amplitude: 0.0, duration: 50}
    check: tonic_spiking
"""
MINE = """\
    name: my_neuron
    params:
      a: 0.005
    input:
      - {amplitude: 1.5, duration: 30}
      - {amplitude: 0.0, duration: 20}
"""


# --- version and help -----------------------------------------------------------------------


def test_version(gif):
    result = gif("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"gif {__version__}"


def test_help_lists_every_command_and_each_has_an_example(gif):
    result = gif("--help")
    assert result.exit_code == 0
    for command in ("list", "show", "run", "gallery", "check"):
        assert command in result.stdout
        sub = gif(command, "--help")
        assert sub.exit_code == 0, sub.output
        assert "Example" in sub.stdout and f"gif {command}" in sub.stdout


def test_no_arguments_shows_help(gif):
    result = gif()
    assert "Usage" in result.output and "run" in result.output


def test_unknown_option_is_a_usage_error(gif):
    result = gif("list", "--colour")
    assert result.exit_code == 2
    assert "No such option" in result.stderr


# --- list and show ----------------------------------------------------------------------------


def test_list_table_shows_letters_names_changed_params_and_schedule(gif):
    result = gif("list")
    assert result.exit_code == 0
    out = result.stdout
    for name in ("tonic_spiking", "hyperpolarization_induced_bursting", "spike_latency"):
        assert name in out
    assert "1.000001×500" in out  # class 1's amplitude, not rounded to 1
    assert "A1=10, A2=-0.6" in out
    assert "initial.V_th=-30" in out  # class 2 starts with a raised threshold


def test_list_json(gif):
    result = gif("list", "--json")
    assert result.exit_code == 0
    listing = json.loads(result.stdout)
    assert [entry["letter"] for entry in listing] == LETTERS
    by_name = {entry["name"]: entry for entry in listing}
    assert by_name["tonic_bursting"]["changed_params"] == {"a": 0.005, "A1": 10.0, "A2": -0.6}
    assert by_name["tonic_spiking"]["input"] == [{"amplitude": 1.5, "duration": 200.0}]
    assert by_name["accommodation"]["duration_ms"] == 1000.0


@pytest.mark.parametrize("ref", ["threshold_variability", "F"])
def test_show_by_name_or_letter(gif, ref):
    result = gif("show", ref, env={"FORCE_COLOR": "1"})  # as on a terminal
    assert result.exit_code == 0
    out = strip_ansi(result.stdout)
    assert "Threshold variability" in out
    assert "inhibitory pulse" in out  # the description
    assert "no spike before segment 3" in out  # the check it must pass
    assert "amplitude: -1.5, duration: 25.0" in out  # the YAML itself


def test_show_user_file_without_check(gif, tmp_path):
    path = write_yaml(tmp_path, "mine.yaml", MINE)
    result = gif("show", str(path), env={"FORCE_COLOR": "1"})
    assert result.exit_code == 0
    out = strip_ansi(result.stdout)
    assert "No check" in out and "amplitude: 1.5, duration: 30" in out


def test_show_prints_the_plain_yaml_when_piped_or_asked(gif, tmp_path, monkeypatch):
    """`gif show M > mine.yaml && gif run mine.yaml` works; the YAML is never cropped."""
    monkeypatch.chdir(tmp_path)
    piped = gif("show", "M", env={"COLUMNS": "40"})
    asked = gif("show", "M", "--yaml", env={"FORCE_COLOR": "1"})
    from gifcli.model.preset import resolve

    assert piped.stdout == asked.stdout == resolve("M").yaml_text
    (tmp_path / "mine.yaml").write_text(piped.stdout, encoding="utf-8")
    assert gif("run", "mine.yaml", "--format", "json").exit_code == 0


def test_show_json(gif):
    result = gif("show", "A", "--json")
    data = json.loads(result.stdout)
    assert data["name"] == "tonic_spiking" and data["check"] == "tonic_spiking"
    assert data["check_rule"].startswith("≥ 5 spikes")
    assert "name: tonic_spiking" in data["yaml"]


def test_show_unknown_suggests_names(gif):
    result = gif("show", "tonic_spikin")
    assert result.exit_code == 2
    assert "did you mean tonic_spiking" in one_error_line(result)


# --- run --------------------------------------------------------------------------------------


def test_run_one_preset_writes_png_csv_json_and_prints_the_summary(gif, tmp_path):
    result = gif("run", "tonic_spiking")
    assert result.exit_code == 0, result.output
    assert files_in(tmp_path / "outputs") == ["tonic_spiking.csv", "tonic_spiking.json",
                                              "tonic_spiking.png"]
    out = result.stdout
    assert "tonic_spiking" in out and "✓ pass" in out and "9 spikes" in out
    assert "45.0" in out  # rate (Hz)
    assert "21.97" in out  # first spike (ms)
    assert "outputs/tonic_spiking.{png,csv,json}" in out  # where the files went
    assert result.stderr == ""
    png = (tmp_path / "outputs" / "tonic_spiking.png").read_bytes()
    assert png.startswith(b"\x89PNG")


def test_run_by_letter_with_options(gif, tmp_path):
    result = gif("run", "C", "--method", "euler", "--dt", "0.05", "--out", "figs",
                 "--format", "json,svg", "--set", "a=0.004", "--set", "initial.V=-65")
    assert result.exit_code == 0, result.output
    assert files_in(tmp_path / "figs") == ["spike_frequency_adaptation.json",
                                           "spike_frequency_adaptation.svg"]
    data = json.loads((tmp_path / "figs" / "spike_frequency_adaptation.json").read_text())
    assert (data["method"], data["dt"], data["params"]["a"]) == ("euler", 0.05, 0.004)
    assert data["initial"]["V"] == -65.0
    assert data["n_steps"] == 4000
    assert b"<svg" in (tmp_path / "figs" / "spike_frequency_adaptation.svg").read_bytes()


def test_run_exp_euler_method(gif, tmp_path):
    result = gif("run", "A", "--method", "exp-euler", "--format", "json", "--quiet")
    assert result.exit_code == 0
    assert json.loads((tmp_path / "outputs" / "tonic_spiking.json").read_text())[
        "method"] == "exp-euler"


def test_run_user_file_has_no_letter_and_no_check(gif, tmp_path):
    path = write_yaml(tmp_path, "mine.yaml", MINE)
    result = gif("run", str(path), "--format", "json", "--json")
    assert result.exit_code == 0, result.output
    [summary] = json.loads(result.stdout)
    assert summary["letter"] is None and summary["check"] is None
    assert summary["source"] == str(path)
    assert summary["files"] == [str(Path("outputs") / "my_neuron.json")]
    assert "no check" not in result.stdout  # --json replaces the table


def test_run_all(gif, tmp_path):
    result = gif("run", "--all", "--format", "csv", "--out", "all")
    assert result.exit_code == 0, result.output
    assert len(files_in(tmp_path / "all")) == 20
    assert "all 20 checks passed" in result.stdout
    for name in ("tonic_spiking", "spike_latency"):
        assert name in result.stdout


def test_run_json_prints_the_summaries_and_nothing_else(gif):
    result = gif("run", "A", "B", "--json", "--format", "csv")
    assert result.exit_code == 0
    summaries = json.loads(result.stdout)
    assert [s["name"] for s in summaries] == ["tonic_spiking", "class_1_excitability"]
    assert summaries[0]["check"]["passed"] is True
    assert summaries[0]["files"] == [str(Path("outputs") / "tonic_spiking.csv")]
    assert result.stderr == ""


def test_run_quiet_prints_nothing(gif, tmp_path):
    result = gif("run", "A", "--quiet", "--format", "csv")
    assert result.exit_code == 0
    assert result.output == ""
    assert files_in(tmp_path / "outputs") == ["tonic_spiking.csv"]


def test_run_same_preset_twice_runs_once(gif):
    result = gif("run", "A", "tonic_spiking", "--json", "--format", "json")
    assert [s["name"] for s in json.loads(result.stdout)] == ["tonic_spiking"]


def test_run_grid_notes_are_warnings_on_stderr(gif):
    result = gif("run", "F", "--method", "euler", "--dt", "0.3", "--format", "csv")
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("gif: warning:")]
    assert any("not on the 0.3 ms grid" in line for line in warnings), result.stderr
    assert all("threshold_variability" in line for line in warnings)
    quiet = gif("run", "F", "--method", "euler", "--dt", "0.3", "--format", "csv", "-q")
    assert quiet.stderr == ""


def test_run_max_steps_is_named_and_can_be_raised(gif, tmp_path):
    result = gif("run", "A", "--dt", "0.01", "--max-steps", "1000")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "20,000 steps" in line and "--max-steps" in line
    assert files_in(tmp_path / "outputs") == []
    raised = gif("run", "A", "--dt", "0.01", "--max-steps", "20000", "--format", "json")
    assert raised.exit_code == 0


def test_a_failed_check_writes_everything_then_exits_1(gif, tmp_path):
    path = write_yaml(tmp_path, "silent.yaml", SILENT)
    result = gif("run", str(path), "A")
    assert result.exit_code == 1
    assert files_in(tmp_path / "outputs") == [
        "silent.csv", "silent.json", "silent.png",
        "tonic_spiking.csv", "tonic_spiking.json", "tonic_spiking.png"]
    assert "✗ FAIL" in result.stdout and "0 spikes, expected ≥ 5" in result.stdout
    assert "1 of 2 checks failed" in result.stdout
    data = json.loads((tmp_path / "outputs" / "silent.json").read_text())
    assert data["check"] == {"passed": False, "reason": "0 spikes, expected ≥ 5", "margin": None,
                             "margin_condition": None}


# --- errors: exit 2, one sentence, nothing written ----------------------------------------------


BAD_INPUT = {
    "unknown preset": (["run", "A", "tonic_spikng"], "did you mean tonic_spiking"),
    "dt longer than a segment": (["run", "A", "--dt", "500"], "longer than the shortest"),
    "unknown --set key": (["run", "A", "--set", "tua=3"], "did you mean tau"),
    "--set without =": (["run", "A", "--set", "a"], "KEY=VALUE"),
    "--set not a number": (["run", "A", "--set", "a=fast"], "must be a number"),
    "--set out of range": (["run", "A", "--set", "tau=-1"], "tau: must be > 0"),
    "reset above threshold": (["run", "A", "--set", "V_reset=-40"], "V_reset: must be <"),
    "output folder is a file": (["run", "A", "--out", "afile"], "is a file, not a folder"),
    "output folder under a file": (["run", "A", "--out", "afile/sub"], "afile is a file"),
    "no preset file": (["run", "missing.yaml"], "missing.yaml"),
    "gallery dt too long": (["gallery", "--dt", "3"], "longer than the shortest"),
    "check unknown preset": (["check", "Z"], "no preset of that name"),
    "check dt too long": (["check", "A", "T", "--dt", "0.1,3"], "spike_latency.yaml"),
}


@pytest.mark.parametrize("args, message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_exits_2_with_one_sentence_and_writes_nothing(gif, tmp_path, args, message):
    (tmp_path / "afile").write_text("not a folder")
    result = gif(*args)
    assert result.exit_code == 2, result.output
    assert message in one_error_line(result)
    assert result.stdout == ""
    assert files_in(tmp_path) == ["afile"]


BAD_OPTIONS = {
    "unknown method": (["run", "A", "--method", "rk4"], "'rk4' is not one of"),
    "dt zero": (["run", "A", "--dt", "0"], "must be a finite number of ms > 0"),
    "dt negative": (["run", "A", "--dt", "-0.1"], "must be a finite number of ms > 0"),
    "dt nan": (["run", "A", "--dt", "nan"], "give a finite number"),
    "dt not a number": (["run", "A", "--dt", "fast"], "Invalid value for '--dt'"),
    "unknown format": (["run", "A", "--format", "png,gif"], "unknown value 'gif'"),
    "empty format": (["run", "A", "--format", ","], "give one or more of"),
    "csv is not a figure": (["gallery", "--format", "csv"], "unknown value 'csv'"),
    "max steps zero": (["run", "A", "--max-steps", "0"], "--max-steps"),
    "no preset and no --all": (["run"], "name one or more presets, or give --all"),
    "presets and --all": (["run", "A", "--all"], "name one or more presets, or give --all"),
    "check bad method list": (["check", "--method", "exact,rk4"], "unknown value 'rk4'"),
    "check bad dt list": (["check", "--dt", "0.1,abc"], "'abc' is not a number of ms"),
    "check negative dt": (["check", "--dt", "0.1,-1"], "must be a finite number of ms > 0"),
}


@pytest.mark.parametrize("args, message", BAD_OPTIONS.values(), ids=BAD_OPTIONS.keys())
def test_bad_options_are_usage_errors(gif, tmp_path, args, message):
    result = gif(*args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.replace("│", " ").split())
    assert "Traceback" not in result.output
    assert files_in(tmp_path) == []


def test_invalid_yaml_names_the_file_and_key(gif, tmp_path):
    path = write_yaml(tmp_path, "bad.yaml", MINE.replace("a: 0.005", "tau: -3"))
    result = gif("run", str(path), "A")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "bad.yaml" in line and "params.tau" in line and "> 0" in line
    assert files_in(tmp_path) == ["bad.yaml"]


def test_two_files_with_one_name_would_collide(gif, tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = write_yaml(tmp_path / "one", "n.yaml", MINE)
    second = write_yaml(tmp_path / "two", "n.yaml", MINE)
    result = gif("run", str(first), str(second))
    assert result.exit_code == 2
    assert "both named 'my_neuron'" in one_error_line(result)
    assert not (tmp_path / "outputs").exists()


def test_a_run_that_fires_without_end_is_an_error_and_writes_nothing(gif, tmp_path):
    wild = write_yaml(tmp_path, "wild.yaml", """\
        name: wild
        input:
          - {amplitude: 1.0e9, duration: 10}
    """)
    result = gif("run", "A", str(wild))
    assert result.exit_code == 2
    assert "fire without end" in one_error_line(result)
    assert not (tmp_path / "outputs").exists()  # not even A's files, simulated first


def test_debug_shows_the_traceback_and_keeps_the_exit_code(gif):
    result = gif("run", "A", "--dt", "500", "--debug")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "PresetError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("gif: error: ")


def test_ctrl_c_while_rendering_exits_130_and_writes_nothing(gif, tmp_path, monkeypatch):
    """Every file is rendered before the first is renamed into place."""
    calls = []
    real = runner.render_outputs

    def interrupted(outcome, *args):
        calls.append(outcome.result.preset.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(outcome, *args)

    monkeypatch.setattr(runner, "render_outputs", interrupted)
    result = gif("run", "A", "B", "C", "--format", "csv,json")
    assert result.exit_code == 130
    assert "interrupted" in one_error_line(result)
    assert not (tmp_path / "outputs").exists()


def test_a_bug_is_one_line_with_exit_3_unless_debug(gif, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(runner, "simulate_presets", broken)
    result = gif("run", "A")
    assert result.exit_code == 3
    assert "internal error (ZeroDivisionError" in one_error_line(result)
    debugged = gif("run", "A", "--debug")
    assert debugged.exit_code == 3  # not 1, which would read as a failed check
    assert "Traceback" in debugged.stderr and "ZeroDivisionError" in debugged.stderr


# --- gallery ----------------------------------------------------------------------------------


def test_gallery_writes_one_figure(gif, tmp_path):
    result = gif("gallery", "--out", "g", "--json")
    assert result.exit_code == 0, result.output
    assert files_in(tmp_path / "g") == ["gallery.png"]
    data = json.loads(result.stdout)
    assert data["files"] == [str(Path("g") / "gallery.png")]
    assert [s["letter"] for s in data["presets"]] == LETTERS
    assert (tmp_path / "g" / "gallery.png").read_bytes().startswith(b"\x89PNG")


# --- check ------------------------------------------------------------------------------------


def test_check_all_presets(gif, tmp_path):
    result = gif("check")
    assert result.exit_code == 0, result.output
    assert "all 20 checks passed" in result.stdout
    assert files_in(tmp_path) == []  # draws and writes nothing


def test_check_every_method_and_dt_combination_as_json(gif):
    result = gif("check", "A", "tonic_bursting", "--method", "exact,euler,exp-euler",
                 "--dt", "0.1,0.05", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 2 * 3 * 2
    assert {(r["name"], r["method"], r["dt"]) for r in rows} == {
        (name, method, dt) for name in ("tonic_spiking", "tonic_bursting")
        for method in ("exact", "euler", "exp-euler") for dt in (0.1, 0.05)}
    assert all(r["passed"] is True and r["reason"] for r in rows)


def test_check_over_several_runs_is_a_matrix_with_the_failures_below(gif):
    result = gif("check", "M", "A", "--method", "exact,euler", "--dt", "0.1,0.05",
                 env={"COLUMNS": "80"})
    assert result.exit_code == 0
    rows = [line for line in result.stdout.splitlines() if "tonic_bursting" in line]
    assert len(rows) == 1 and rows[0].count("✓") == 4
    assert "euler" in result.stdout and "0.05" in result.stdout
    assert "all 8 checks passed" in result.stdout
    failing = gif("check", "M", "--method", "exact,euler", "--set", "A1=0")
    assert failing.exit_code == 1
    assert failing.stdout.count("✗") >= 2
    assert "M tonic_bursting (euler, 0.1 ms):" in failing.stdout  # spelled out below


def test_check_failure_exits_1_with_the_reason(gif, tmp_path):
    path = write_yaml(tmp_path, "silent.yaml", SILENT)
    result = gif("check", str(path), "A")
    assert result.exit_code == 1
    assert "✗ FAIL" in result.stdout and "0 spikes, expected ≥ 5" in result.stdout
    assert "1 of 2 checks failed" in result.stdout
    quiet = gif("check", str(path), "A", "--quiet")
    assert quiet.exit_code == 1 and quiet.stdout == ""
    assert quiet.stderr.strip() == ("gif: FAIL silent (exact, dt 0.1 ms): 0 spikes, "
                                    "expected ≥ 5")
    assert files_in(tmp_path) == ["silent.yaml"]


def test_check_with_override_and_no_check(gif, tmp_path):
    path = write_yaml(tmp_path, "mine.yaml", MINE)
    result = gif("check", str(path), "--set", "a=0", "--json")
    assert result.exit_code == 0
    [row] = json.loads(result.stdout)
    assert row["passed"] is None and row["reason"] is None and row["letter"] is None


# --- the installed entry point, and what start-up imports ---------------------------------------


def _gif_executable() -> str:
    path = Path(sys.executable).parent / "gif"
    if not path.exists():
        pytest.skip("the gif console script is not installed next to this Python")
    return str(path)


def test_installed_entry_point(tmp_path):
    gif = _gif_executable()
    done = subprocess.run([gif, "run", "tonic_spiking", "--format", "csv,json", "--out",
                           str(tmp_path), "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["n_spikes"] == 9
    assert files_in(tmp_path) == ["tonic_spiking.csv", "tonic_spiking.json"]
    bad = subprocess.run([gif, "run", "nope"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.startswith("gif: error: nope:")
    module = subprocess.run([sys.executable, "-m", "gifcli", "--version"], capture_output=True,
                            text=True, timeout=60)
    assert module.stdout.strip() == f"gif {__version__}"


@pytest.mark.parametrize("args", [["--help"], ["list"], ["list", "--json"], ["show", "A"]])
def test_help_and_list_do_not_import_numba_or_matplotlib(args):
    code = textwrap.dedent(f"""
        import sys
        from gifcli.cli import app
        try:
            app({args!r}, prog_name="gif")
        except SystemExit as exit:
            assert exit.code in (0, None), exit.code
        heavy = sorted(m for m in ("numba", "matplotlib") if m in sys.modules)
        print("HEAVY", heavy, file=sys.stderr)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=os.environ | {"COLUMNS": "120"})
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stderr


def test_a_reader_that_closes_the_pipe_is_not_an_internal_error():
    gif = _gif_executable()
    process = subprocess.Popen([gif, "list", "--json"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.close()  # like `gif list --json | head -0`, before gif writes anything
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 141  # as a shell reports a reader that went away; not 1
    assert stderr == b""


def test_the_cli_lists_agree_with_the_modules_that_it_does_not_import_at_start_up():
    from gifcli.model.parameters import METHODS

    assert tuple(method.value for method in options.Method) == METHODS
    assert set(options.OUTPUT_FORMATS) == set(runner.OUTPUT_FORMATS)
    assert options.FIGURE_FORMATS == runner.FIGURE_FORMATS
    from gifcli import plots

    assert (options.DPI_LOW, options.DPI_HIGH) == plots.DPI_RANGE


def test_dpi_sets_the_png_size_and_is_checked(gif, tmp_path):
    from PIL import Image

    assert gif("run", "A", "--format", "png", "--dpi", "75").exit_code == 0
    with Image.open(tmp_path / "outputs" / "tonic_spiking.png") as image:
        assert image.size == (600, 330)  # 8 × 4.4 in at 75 dpi
    bad = gif("run", "A", "--dpi", "5000")
    assert bad.exit_code == 2 and not (tmp_path / "outputs" / "tonic_spiking.csv").exists()


def test_shell_completion_offers_preset_names_and_letters():
    from gifcli.cli.completion import complete_preset

    assert ("tonic_bursting", "Tonic bursting") in complete_preset("tonic_b")
    assert [word for word, _ in complete_preset("M")] == ["M"]  # names are lowercase
    done = subprocess.run([_gif_executable()], capture_output=True, text=True, timeout=60,
                          env=os.environ | {"_GIF_COMPLETE": "complete_bash",
                                            "COMP_WORDS": "gif run tonic_b", "COMP_CWORD": "2"})
    assert done.stdout.split() == ["tonic_bursting"]
