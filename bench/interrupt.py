"""How soon `gif` ends after Ctrl-C, SIGTERM or SIGHUP while a long run computes: the wall time
from the signal to the exit.

The unit tests (tests/test_interrupt.py) hold the CPU time after the signal under a bound,
which a busy machine does not stretch; the wall time lives here, beside the wall time of
``python -c pass`` measured in the same run, so that a busy machine shows in the baseline too.

    python bench/interrupt.py               # 5 signals of each kind
    python bench/interrupt.py --repeat 10
    python bench/interrupt.py --startup 60  # 60 signals at random moments of start-up
    python bench/interrupt.py --startup 60 --span 3  # ... of the whole command, and its end

``--startup N`` counts clean outcomes instead: N signals (SIGINT, SIGTERM, SIGHUP in turn)
each at a random moment from 0 to ``--span`` s (0.3) after ``gif run A -f json`` is
started: the interpreter's start-up and gif's imports, or with a longer span the run, its
writes and Python's shutdown after them. Clean is exit 0 (the run finished
first) or the signal's code with gif's one line and nothing else; anything else (a
traceback, or a process killed by the signal with no message) is counted apart, with the
moment it was sent.

Run it from a terminal, not in the background: a shell ignores SIGINT for what it starts
with &, and gif keeps an ignored signal ignored.
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LONG_RUN = "name: long_step\ninput:\n  - {amplitude: 1.5, duration: 200000}\n"
COMPUTING_AFTER_S = 3.0  # started, imported, compiled (from the cache) and computing by then


def latency(gif: str, folder: Path, signum: int) -> tuple[float, int]:
    """Wall seconds from ``signum`` to the exit of a computing `gif run`, and its code."""
    process = subprocess.Popen([gif, "run", "long_step.yaml", "--format", "json", "--out",
                                "out"], cwd=folder, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    time.sleep(COMPUTING_AFTER_S)
    sent = time.perf_counter()
    process.send_signal(signum)
    code = process.wait()
    return time.perf_counter() - sent, code


STARTUP_SPAN_S = 0.3
ONE_LINE = "gif: error: {}; every file already written is complete\n"
WHAT = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated", signal.SIGHUP: "hung up"}


def startup_outcome(gif: str, folder: Path, signum: int, moment: float) -> str | None:
    """What ``signum`` at ``moment`` s after the start did to `gif run A`: "finished" (exit
    0), "one line" (gif's), or else what happened instead."""
    process = subprocess.Popen([gif, "run", "A", "-f", "json", "--out", "out"], cwd=folder,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(moment)
    process.send_signal(signum)
    _, stderr = process.communicate()
    if process.returncode == 0:
        return "finished"
    if process.returncode == 128 + signum and stderr == ONE_LINE.format(WHAT[signum]):
        return "one line"
    last = stderr.strip().splitlines()[-1] if stderr.strip() else "nothing on stderr"
    return f"exit {process.returncode}: {last[:70]}"


def startup(gif: str, tries: int, span: float) -> None:
    """Signals at random moments of start-up: tries, clean outcomes, and each unclean one."""
    chooser = random.Random(23)
    unclean, one_line = [], []
    with tempfile.TemporaryDirectory() as folder:
        for k in range(tries):
            signum = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)[k % 3]
            moment = chooser.uniform(0.0, span)
            outcome = startup_outcome(gif, Path(folder), signum, moment)
            if outcome == "one line":
                one_line.append(moment)
            elif outcome != "finished":
                unclean.append((moment, signal.Signals(signum).name, outcome))
    finished = tries - len(unclean) - len(one_line)
    print(f"{tries} signals at 0-{span} s: {tries - len(unclean)} clean ({finished} after "
          f"the run had finished: exit 0); the "
          f"earliest that gif answered in its one line came at {min(one_line) * 1000:.1f} ms")
    for moment, name, outcome in sorted(unclean):
        print(f"  {moment * 1000:6.1f} ms {name:<7} {outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="signals of each kind (5)")
    parser.add_argument("--startup", type=int, metavar="N",
                        help="instead: N signals at random moments of start-up")
    parser.add_argument("--span", type=float, default=STARTUP_SPAN_S,
                        help=f"with --startup: the moments' span in s ({STARTUP_SPAN_S})")
    args = parser.parse_args()
    gif = str(Path(sys.executable).parent / "gif")
    if args.startup:
        startup(gif, args.startup, args.span)
        return
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    baseline = time.perf_counter() - start
    print(f"baseline `python -c pass`: {baseline:.3f} s")
    print(f"{'signal':<8} {'median wall s':>14} {'÷ python':>9} {'exit':>5}")
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "long_step.yaml").write_text(LONG_RUN, encoding="utf-8")
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            runs = [latency(gif, Path(folder), signum) for _ in range(args.repeat)]
            wall = statistics.median(r[0] for r in runs)
            codes = sorted({r[1] for r in runs})
            print(f"{signal.Signals(signum).name:<8} {wall:>14.3f} {wall / baseline:>9.1f} "
                  f"{','.join(map(str, codes)):>5}")


if __name__ == "__main__":
    main()
