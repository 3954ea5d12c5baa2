"""Ctrl-C: `gif` stops with exit 130 and one line, and leaves only complete files.

Each test starts the real command in a subprocess, waits until it is computing or writing,
sends SIGINT, and then opens every file in the output folder: PNGs decode, JSON parses, CSVs
have every row. No temporary file may remain.

How promptly it stops is measured in CPU time, not wall time: on a busy machine (two cores
shared with other jobs) a process that stops at once may still wait a second for a core, but
the CPU it spends after the signal stays small. A kernel that ignored the signal would spend
seconds of it. Wall-clock latency is measured in bench/interrupt.py.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gifcli.files.run import CSV_HEADER
from gifcli.model.preset import effective_dt, resolve
from gifcli.simulation.grid import n_steps_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gifcli", *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_until(process: subprocess.Popen, ready, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, f"finished before the signal: {process.communicate()}"
        assert time.monotonic() < deadline, "never got going"
        time.sleep(0.001)


def interrupt(process: subprocess.Popen, may_finish: bool = False) -> tuple[int, str, str]:
    try:
        assert may_finish or process.poll() is None, "finished before the signal"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, stdout, stderr


# What a stopped process may still spend: unwinding, removing temporary files, and
# Python's own shutdown with numba and matplotlib loaded (about 0.1 s on a quiet machine).
CPU_AFTER_SIGNAL = 1.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time that process ``pid`` has used so far, from /proc."""
    after_name = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1]
    fields = after_name.split()  # fields 3... of proc(5): utime is the 14th, stime the 15th
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def signal_and_wait(process: subprocess.Popen, signum: int,
                    hang: float = 60.0) -> tuple[int, str, str, float]:
    """Send ``signum``; wait for the end. The exit code, stdout, stderr, and the CPU seconds
    the process spent after the signal (0 if it had already ended)."""
    try:
        before = cpu_seconds(process.pid)
    except (FileNotFoundError, ProcessLookupError):  # pragma: no cover - not Linux
        pytest.skip("no /proc to read a process's CPU time from")
    process.send_signal(signum)
    with ThreadPoolExecutor(2) as readers:
        stdout, stderr = readers.submit(process.stdout.read), readers.submit(process.stderr.read)
        deadline = time.monotonic() + hang
        while True:  # os.wait4, not communicate(): the child's own CPU time comes with it
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"still running {hang:g} s after the signal")
            time.sleep(0.01)
        process.returncode = os.waitstatus_to_exitcode(status)
        return (process.returncode, stdout.result(), stderr.result(),
                max(0.0, usage.ru_utime + usage.ru_stime - before))


def assert_interrupted(code: int, stdout: str, stderr: str) -> None:
    assert code == 130, (code, stdout, stderr)
    assert stderr.strip() == "gif: error: interrupted; every file already written is complete"
    assert "Traceback" not in stdout + stderr
    assert "KeyboardInterrupt" not in stdout + stderr


def visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".")) \
        if folder.exists() else []


def assert_png(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        image.load()  # every byte of the image data is there
        assert image.size[0] > 100 and image.size[1] > 100


def assert_run_csv(path: Path) -> None:
    preset = resolve(path.stem)
    dt = effective_dt(preset, None)
    lines = path.read_text(encoding="ascii").split("\n")
    assert lines[0] == CSV_HEADER
    assert lines[-1] == "", "the file ends with a complete line"
    rows = lines[1:-1]
    assert len(rows) == n_steps_for(preset.duration, dt) + 1
    for row in (rows[0], rows[len(rows) // 2], rows[-1]):
        fields = row.split(",")
        assert len(fields) == 7
        assert all(math.isfinite(float(x)) for x in fields)


def assert_run_json(path: Path) -> None:
    summary = json.loads(path.read_text(encoding="utf-8"))
    assert summary["name"] == path.stem
    assert summary["n_spikes"] == len(summary["spike_times_ms"])
    assert {"params", "initial", "input", "features", "check", "version"} <= set(summary)


def assert_every_file_complete(folder: Path) -> list[Path]:
    """Check each file in ``folder``; return them. No temporary file may be left."""
    leftovers = [p.name for p in folder.iterdir()
                 if p.name.startswith(".") or p.name.endswith(".tmp")] if folder.exists() else []
    assert leftovers == [], leftovers
    found = visible(folder)
    for path in found:
        if path.suffix == ".png":
            assert_png(path)
        elif path.suffix == ".svg":
            text = path.read_text(encoding="utf-8")
            assert text.startswith("<?xml") and text.rstrip().endswith("</svg>")
        elif path.suffix == ".json":
            assert_run_json(path)
        elif path.suffix == ".csv" and "_sweep_" not in path.name:
            assert_run_csv(path)
        elif path.suffix == ".csv":
            lines = path.read_text(encoding="utf-8").split("\n")
            assert lines[-1] == "" and len(lines) > 2
            assert len({line.count(",") for line in lines[:-1]}) == 1
        else:
            raise AssertionError(f"unexpected file {path.name}")
    return found


@pytest.mark.parametrize("delay", [0.002])
def test_run_all_interrupted_while_writing(tmp_path, delay):
    """Every file is rendered first, then written to a temporary name, then renamed: a
    signal while they are written leaves none or, once the renames began, complete ones."""
    out = tmp_path / "out"
    process = start(["run", "--all", "--out", str(out), "--format", "png,svg,csv,json"],
                    tmp_path)
    deadline = time.monotonic() + 120
    while process.poll() is None and not (out.exists() and any(True for _ in out.iterdir())):
        assert time.monotonic() < deadline, "never began to write"
        time.sleep(0.0005)
    time.sleep(delay)
    code, stdout, stderr = interrupt(process, may_finish=True)
    found = assert_every_file_complete(out)
    if code == 0:
        assert len(found) == 80
    else:
        assert_interrupted(code, stdout, stderr)


def test_run_all_interrupted_in_the_middle_of_a_file(tmp_path):
    """Signal the moment a temporary file shows up: the write in flight must vanish."""
    out = tmp_path / "out"
    process = start(["run", "--all", "--out", str(out), "--format", "png,svg,csv,json"],
                    tmp_path)

    def writing() -> bool:
        try:
            names = os.listdir(out)
        except FileNotFoundError:
            return False
        return any(n.endswith(".tmp") for n in names) or len(names) >= 6

    wait_until(process, writing)
    code, stdout, stderr = interrupt(process)
    assert_interrupted(code, stdout, stderr)
    assert_every_file_complete(out)  # may be none: the first file can be the one in flight


@pytest.mark.parametrize("args", [
    ["sweep", "mixed_mode", "--param", "a", "--start", "0", "--stop", "0.01", "--num", "100000",
     "--dt", "0.01"],
    ["fi", "class_1_excitability", "class_2_excitability", "--num", "1000000"],
])
def test_long_sweep_interrupted_while_computing_leaves_nothing(tmp_path, args):
    out = tmp_path / "out"
    process = start([*args, "--out", str(out)], tmp_path)
    time.sleep(3.0)  # started and computing: the whole sweep takes well over 10 s
    code, stdout, stderr = interrupt(process)
    assert_interrupted(code, stdout, stderr)
    assert visible(out) == []
    assert assert_every_file_complete(out) == []


def test_sweep_interrupted_while_writing(tmp_path):
    out = tmp_path / "out"
    process = start(["sweep", "tonic_spiking", "--param", "a", "--start", "0", "--stop", "0.01",
                     "--num", "3000", "--out", str(out)], tmp_path)
    wait_until(process, lambda: out.exists() and any(True for _ in out.iterdir()))
    code, stdout, stderr = interrupt(process, may_finish=True)
    if code == 0:  # it finished writing first: then everything must be there
        assert {p.name for p in visible(out)} == {"tonic_spiking_sweep_a.csv",
                                                  "tonic_spiking_sweep_a.png"}
    else:
        assert_interrupted(code, stdout, stderr)
    assert_every_file_complete(out)


# --- a signal at a random moment, while the compiled kernels run ---------------------------------

LONG_RUN = "name: long_step\ninput:\n  - {amplitude: 1.5, duration: 200000}\n"
SIGNAL_CASES = {
    "one long run": ["run", "long_step.yaml", "--format", "json,png"],
    "run --all": ["run", "--all", "--dt", "0.001", "--format", "json"],
    "check": ["check", "--dt", "0.001,0.01"],
    "sweep": ["sweep", "mixed_mode", "--param", "a", "--start", "0", "--stop", "0.01", "--num",
              "20000", "--dt", "0.01"],
    "fi": ["fi", "B", "H", "--num", "20000"],
}
ENDINGS = {signal.SIGINT: (130, "interrupted"), signal.SIGTERM: (143, "terminated"),
           signal.SIGHUP: (129, "hung up")}


@pytest.mark.parametrize("signum", list(ENDINGS), ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("case", list(SIGNAL_CASES))
def test_a_signal_at_a_random_moment(tmp_path, case, signum):
    """From the imports to the last file: the exit code of the signal, one line, no
    traceback, under a second of CPU, and only complete files (or a run that finished first)."""
    (tmp_path / "long_step.yaml").write_text(LONG_RUN, encoding="utf-8")
    code_wanted, what = ENDINGS[signum]
    moment = random.Random(f"{case} {signum}").uniform(0.05, 2.5)  # each case its own
    out = tmp_path / "out"
    args = SIGNAL_CASES[case] + ([] if case == "check" else ["--out", str(out)])
    process = start(args, tmp_path)
    time.sleep(moment)
    code, _, stderr, cpu_after = signal_and_wait(process, signum)
    if code in (0, 1):  # it finished before the signal
        return
    assert code == code_wanted, (code, stderr)
    assert stderr == f"gif: error: {what}; every file already written is complete\n"
    assert cpu_after < CPU_AFTER_SIGNAL, f"{cpu_after:.2f} s of CPU after the signal"
    if case != "one long run":
        assert_every_file_complete(out)
    else:
        assert visible(out) == []  # its one JSON and PNG are written after the run


def test_a_compiled_run_stops_at_once_and_the_next_one_runs():
    """In-process: Ctrl-C during the single-run kernel raises KeyboardInterrupt promptly
    (not a SystemError from inside the dispatcher), and the stop flag is cleared after."""
    import threading

    from gifcli.model.preset import parse_preset
    from gifcli.simulation.single import simulate

    long_run = parse_preset(LONG_RUN, "<test>")
    simulate(long_run.replace(input_scale=1.0), dt=1.0)  # compiled, and quick
    main_cpu = time.pthread_getcpuclockid(threading.main_thread().ident)
    at_signal = []

    def send() -> None:
        at_signal.append(time.clock_gettime(main_cpu))
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(0.3, send)
    timer.start()
    try:
        simulate(long_run, dt=0.01, max_steps=30_000_000)
    except KeyboardInterrupt:
        pass
    else:  # seen once, in a fresh clone's suite beside two busy processes: say what held
        from gifcli.core import interrupts

        timer.join()
        pytest.fail(f"the run ended unstopped; signal sent at main-thread CPU {at_signal}, "
                    f"now {time.clock_gettime(main_cpu)}; SIGINT handler "
                    f"{signal.getsignal(signal.SIGINT)!r}; blocked here "
                    f"{signal.pthread_sigmask(signal.SIG_BLOCK, [])}; watcher alive "
                    f"{interrupts._State.watcher and interrupts._State.watcher.is_alive()}")
    # CPU, not wall time: the kernel's own thread, from the signal to the raise
    assert time.clock_gettime(main_cpu) - at_signal[0] < 0.2
    assert simulate(long_run, dt=1.0).n_spikes > 0


# --- a signal that a library swallowed, and one during Python's shutdown --------------------


def test_a_warning_that_a_swallowed_signal_caused_is_not_shown(monkeypatch, capsys):
    """SIGHUP during matplotlib's import once came back as its "Unable to import Axes3D"
    warning (the handler's exception turned into an ImportError and caught): a false alarm
    about the install. The warning hook stops for the signal instead."""
    import warnings

    import typer

    from gifcli.cli import terminal
    from gifcli.core import interrupts

    monkeypatch.setattr(interrupts._State, "unacknowledged", signal.SIGHUP)
    with pytest.raises(typer.Exit) as ended, terminal.reporting_errors():
        warnings.warn("Unable to import Axes3D. This may be due to ...", stacklevel=1)
    assert ended.value.exit_code == 129
    assert capsys.readouterr().err == ("gif: error: hung up; every file already written is "
                                       "complete\n")


def test_a_signal_that_a_library_turned_into_another_error_is_the_signal(monkeypatch, capsys):
    """SIGINT while matplotlib's import built a class came back as a RuntimeError ("Error
    calling __set_name__"), which gif called an internal error (exit 3) before its one line
    (test_a_signal_at_a_random_moment[one long run-SIGINT], once): it is the signal."""
    import typer

    from gifcli.cli import terminal
    from gifcli.core import interrupts

    monkeypatch.setattr(interrupts._State, "unacknowledged", signal.SIGINT)
    with pytest.raises(typer.Exit) as ended, terminal.reporting_errors():
        raise RuntimeError("Error calling __set_name__ on '_axis_method_wrapper' instance")
    assert ended.value.exit_code == 130
    assert capsys.readouterr().err == ("gif: error: interrupted; every file already written is "
                                       "complete\n")
    assert interrupts._State.unacknowledged is None  # said once


SHUTDOWN_PROBE = """
import signal, sys
from gifcli.__main__ import main
sys.argv = ["gif", "list"]
try:
    main()
except SystemExit as end:
    ignored = [signal.getsignal(s) == signal.SIG_IGN
               for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)]
    print(end.code, ignored, file=sys.stderr)
"""


def test_a_signal_ignored_when_gif_starts_stays_ignored(tmp_path):
    """nohup ignores SIGHUP so that a command outlives its terminal (and a shell ignores
    SIGINT for a command it starts in the background): gif keeps such a signal ignored, in
    its start-up and around its kernels, and still ends at one it handles. Before, its own
    handler replaced the ignored one, and a hang-up ended a nohup'ed run."""
    (tmp_path / "long_step.yaml").write_text(LONG_RUN, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "gifcli", "run", "long_step.yaml", "--format", "json",
         "--dt", "0.01", "--max-steps", "30000000"],  # about 6 s of kernel
        cwd=tmp_path, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))  # as nohup does
    try:
        time.sleep(2.0)  # into the run (its imports, or its kernel: both must ignore it)
        process.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert process.poll() is None, f"a hang-up ended it: {process.communicate()}"
        code, _, stderr, _ = signal_and_wait(process, signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert (code, stderr) == (143, "gif: error: terminated; every file already written is "
                                   "complete\n")


def test_once_the_command_is_over_a_signal_no_longer_kills_it():
    """Python's shutdown puts handled signals back to their default: a SIGHUP there killed a
    finished `gif run` (status -1, nothing on stderr) in a busy test suite. Once the exit code
    is decided, the three signals are ignored, so the command's own code stands."""
    done = subprocess.run([sys.executable, "-c", SHUTDOWN_PROBE], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.stderr.strip().splitlines()[-1] == "0 [True, True, True]", done.stderr


def test_a_signal_that_an_import_turns_into_another_error_is_still_one_line(tmp_path):
    """Python turns an exception raised while a class is built (``__set_name__``, as in
    pydantic's import) into a RuntimeError: a signal there, during gif's start-up, once gave
    a traceback and exit 1. It is the signal's one line and exit code."""
    script = tmp_path / "hostile_import.py"
    script.write_text(textwrap.dedent("""
        import signal, sys, types

        class Hostile:
            def __set_name__(self, owner, name):
                signal.raise_signal(signal.SIGTERM)

        def attribute(name):
            class Victim:  # built while gifcli.cli is imported
                field = Hostile()

        module = types.ModuleType("gifcli.cli")
        module.__getattr__ = attribute
        sys.modules["gifcli.cli"] = module
        from gifcli.__main__ import main
        main()
    """), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=tmp_path)
    assert (run.returncode, run.stderr) == (
        143, "gif: error: terminated; every file already written is complete\n"), run.stderr
