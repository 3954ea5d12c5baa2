"""How soon `gif` ends after Ctrl-C, SIGTERM or SIGHUP while a long run computes: the wall time
from the signal to the exit.

The unit tests (tests/test_interrupt.py) hold the CPU time after the signal under a bound,
which a busy machine does not stretch; the wall time lives here, beside the wall time of
``python -c pass`` measured in the same run, so that a busy machine shows in the baseline too.

    python bench/interrupt.py               # 5 signals of each kind
    python bench/interrupt.py --repeat 10
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="signals of each kind (5)")
    args = parser.parse_args()
    gif = str(Path(sys.executable).parent / "gif")
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
