"""What a new user meets in the first hour: the check matrix at 80 columns, the grid's notes
said once per dt and kind, a changed run that would replace a shipped preset's files,
`gif show` naming where a shipped preset lives, what a command compiles, and the slow tests
`make test` leaves out."""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gifcli import cli

DTS = "0.15,0.2,0.25,0.3,0.4,0.5"


@pytest.fixture
def gif(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def call(*args: str, columns: int = 160):
        return CliRunner().invoke(cli.app, list(args), env={"COLUMNS": str(columns)})

    return call


def plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.fixture(scope="module")
def matrices(tmp_path_factory):
    """`gif check A M --method exact,euler,exp-euler --dt ...` (18 runs) at three widths."""
    runner = CliRunner()
    return {columns: runner.invoke(cli.app, ["check", "A", "M", "--method",
                                             "exact,euler,exp-euler", "--dt", DTS],
                                   env={"COLUMNS": str(columns)})
            for columns in (80, 140, 300)}


RUNS = [(method, dt) for method in ("exact", "euler", "exp-euler") for dt in DTS.split(",")]


@pytest.mark.parametrize("columns", [80, 140])
def test_a_matrix_too_wide_is_transposed_with_whole_headers(matrices, columns):
    """18 runs across took 200 columns: rich squeezed the headers to `e` over `0` and the
    preset column went. Transposed, a row per run keeps `exp-euler 0.15` whole, and the
    presets' letters head the columns."""
    result = matrices[columns]
    assert result.exit_code in (0, 1), result.output
    lines = plain(result.stdout).splitlines()
    assert all(len(line) <= columns for line in lines), "\n".join(lines)
    assert any(line.split() == ["method", "(ms)", "A", "M"] for line in lines), lines
    rows = [line.split() for line in lines if line.split()[:1] in (["exact"], ["euler"],
                                                                   ["exp-euler"])]
    assert [(row[0], row[1]) for row in rows] == [(m, f"{float(dt):g}") for m, dt in RUNS]
    assert all(len(row) == 4 and set(row[2:]) <= set("✓✗·") for row in rows)


def test_a_wide_terminal_gets_presets_down_and_runs_across(matrices):
    lines = plain(matrices[300].stdout).splitlines()
    assert all(len(line) <= 300 for line in lines)
    header = " ".join(lines[:4]).split()
    assert header.count("exp-euler") == 6 and header.count("0.15") == 3
    assert any(line.split()[:2] == ["M", "tonic_bursting"] for line in lines)


def test_the_grids_notes_come_once_per_dt_and_kind(matrices):
    """Two presets, 3 methods, 6 dt values: each note was said for every run (dozens of
    lines); now once per dt and kind, naming the other presets it holds for."""
    warnings = [line for line in matrices[80].stderr.splitlines()
                if line.startswith("gif: warning:")]
    kinds = {(re.search(r"of (\S+) ms|([\d.]+) ms grid", line).group(0),
              "boundaries" in line) for line in warnings}
    assert warnings and len(warnings) == len(kinds), "\n".join(warnings)
    assert len(warnings) <= 2 * 6
    assert any("; the same for 1 more: tonic_bursting" in line for line in warnings), warnings


def test_a_changed_run_that_would_replace_a_shipped_presets_files_says_so(gif, tmp_path):
    assert gif("run", "N", "--format", "json").exit_code == 0
    changed = gif("run", "N", "--set", "A2=-0.1", "--format", "json")
    assert changed.exit_code in (0, 1)
    assert ("gif: warning: replacing outputs/phasic_bursting.json of the shipped preset "
            "phasic_bursting with a run changed by --set; give --out DIR to keep both") \
        in " ".join(changed.stderr.split())
    assert "replacing" not in gif("run", "N", "--format", "json").stderr  # itself: no


def test_a_copy_of_a_shipped_preset_run_under_its_name_says_so(gif, tmp_path):
    (tmp_path / "mine.yaml").write_text(gif("show", "M", "--yaml").stdout, encoding="utf-8")
    first = gif("run", "mine.yaml", "--format", "json")
    assert first.exit_code == 0 and "replacing" not in first.stderr  # nothing there yet
    assert gif("run", "M", "--format", "json").exit_code == 0
    mine = gif("run", "mine.yaml", "--format", "json")
    assert "replacing outputs/tonic_bursting.json of the shipped preset tonic_bursting " \
           "with the run of mine.yaml" in " ".join(mine.stderr.split())
    assert "replacing" not in gif("run", "mine.yaml", "--format", "json",
                                  "--out", "mine").stderr


def test_show_names_no_path_the_user_does_not_have(monkeypatch):
    from gifcli.cli import show
    from gifcli.model.preset import resolve

    assert show._where(resolve("F")) == ("shipped with gifcli; to change a copy: gif show F "
                                         "> my_neuron.yaml")
    assert "presets/" not in show._where(resolve("F"))


def test_show_names_the_users_own_file(tmp_path, gif):
    from gifcli.cli import show
    from gifcli.model.preset import resolve

    (tmp_path / "mine.yaml").write_text(gif("show", "M", "--yaml").stdout, encoding="utf-8")
    assert show._where(resolve(str(tmp_path / "mine.yaml"))).endswith("mine.yaml")


def test_a_3_axis_sweep_is_summed_up_in_a_few_lines_rounded_to_its_grid(gif):
    result = gif("sweep", "M", "-p", "a=-0.01:0.02:13", "-p", "A1=0:20:100", "-p",
                 "A2=-1,-0.6,-0.2", "-f", "csv")
    assert result.exit_code == 0, result.output
    lines = plain(result.stdout).splitlines()
    assert len(lines) <= 6, "\n".join(lines)
    assert "more" not in result.stdout and "JSON" not in result.stdout
    boxes = [line.strip() for line in lines if line.strip().startswith("A2 = ")]
    assert boxes and len(boxes) <= 3
    assert boxes == sorted(boxes, key=lambda line: float(line.split()[2].rstrip(":")))
    assert "points of a × A1 × A2, within:" in " ".join(lines)
    for line in boxes:
        # A1's step is 20/99: two significant digits of it, so two decimals at most
        assert re.fullmatch(r"A2 = -?[\d.]+: [\d,]+ points?, a (from -?[\d.]+ to -?[\d.]+|= "
                            r"-?[\d.]+), A1 (from [\d.]+ to [\d.]+|= [\d.]+)", line), line
        assert all(len(x.split(".")[1]) <= 2 for x in re.findall(r"A1 .*", line)[0].split()
                   if "." in x)


def test_values_are_written_to_the_precision_of_their_grid():
    from gifcli.cli.sweep import _on_grid

    assert _on_grid(3.8383838384, 20 / 99) == "3.84"
    assert _on_grid(-0.0075000000001, 0.0025) == "-0.0075"
    assert _on_grid(250.0, 50.0) == "250"
    assert _on_grid(0.1, 0.0) == "0.1"


# --- what a cold start compiles, and what `make test` runs ------------------------------------

COMPILED_BY = """
import sys
from numba.core.registry import CPUDispatcher
from gifcli.cli import run
code = run(sys.argv[1:])
for module in list(sys.modules.values()):
    if getattr(module, "__name__", "").startswith("gifcli"):
        for name, value in vars(module).items():
            if isinstance(value, CPUDispatcher) and value.signatures:
                print(f"{module.__name__}.{name}")
sys.exit(code)
"""


def compiled_by(*args: str) -> set[str]:
    """The compiled functions a `gif` command calls from Python (loaded from Numba's cache,
    which the session's warm-up filled, or compiled), in a process of its own."""
    done = subprocess.run([sys.executable, "-c", COMPILED_BY, *args], capture_output=True,
                          text=True, check=True)
    return set(done.stdout.split())


def test_gif_run_compiles_no_batch_kernel(tmp_path):
    used = compiled_by("run", "A", "--format", "json", "--out", str(tmp_path), "--quiet")
    assert "gifcli.simulation.kernel.simulate_trace" in used
    assert not {name for name in used if name.startswith("gifcli.simulation.batch")}, used


def test_gif_sweep_compiles_the_batch_kernel(tmp_path):
    used = compiled_by("sweep", "M", "-p", "a=0:0.01:3", "-f", "csv", "--out", str(tmp_path),
                       "--quiet")
    assert "gifcli.simulation.batch.blocks._run_chunk" in used


def test_the_compile_notice_says_how_long_each_commands_warm_up_takes():
    from gifcli.cli import terminal, warmup
    from gifcli.explore import fit

    assert set(warmup.COMPILE_CPU_S) == {"warm_single_runs", "warm_batches"}
    assert "about 30 s, up to 75 s" in terminal.compiling_notice(warmup.warm_single_runs)
    assert "about 80 s, up to 3 min" in terminal.compiling_notice(warmup.warm_batches)
    assert "a minute or two" in terminal.compiling_notice(fit.warm_up)  # not measured


#: Kernels with two signatures on purpose, each a specialization that prunes the other's
#: branch (``modal`` is the literal True in the modal pass, False in the triangular one),
#: or where two call sites pass a state as an array and as a tuple (#21's kernels).
TWO_SIGNATURES = {"spike_pass._redo_steps", "kernel.propagator", "kernel.modal_crossing",
                  "kernel.modal_single_crossing", "kernel.modal_slope"}


@pytest.mark.slow  # compiles every kernel from nothing: minutes
def test_every_kernel_is_compiled_once_by_the_warm_up(tmp_path):
    subprocess.run([sys.executable, "-m", "gifcli.cli.warmup"], check=True,
                   env=dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path)))
    signatures = collections.Counter()
    for compiled in tmp_path.rglob("*.nbc"):  # e.g. blocks._run_block-59.py311.1.nbc
        signatures[compiled.name.split("-")[0]] += 1
    assert signatures["blocks._run_chunk"] == 1 and signatures["kernel.simulate_trace"] == 1
    twice = {name for name, count in signatures.items() if count > 1}
    assert twice <= TWO_SIGNATURES, signatures
    assert all(signatures[name] <= 2 for name in TWO_SIGNATURES), signatures


def test_each_slow_test_named_in_conftest_exists():
    from conftest import SLOW

    for file, names in SLOW.items():
        source = (Path(__file__).parent / file).read_text(encoding="utf-8")
        for name in names:
            assert re.search(rf"^def {name}\(", source, re.MULTILINE), f"{file}::{name}"
