"""``gif sweep`` end to end on W1 with a check, at its default grid, beside Brian2 (issue 21).

``gif sweep`` over N values of ``a`` of the W1 preset (bench/sweep.py), judged by the
tonic_bursting check and written as CSV, as a user types it: at its default grid (``exact``
with no --dt: the coarsest grid, 1000/409 ms) and with --dt 0.1; each less the same command
over 1 value (start-up, imports, the Numba cache). Beside it, in the same run and alternated
with it, W1 in Brian2 with ``method='exact'`` and Cython (bench/brian2_w1.py, N = 1e5 by
default, in the Python given by --brian2). Both are given in neuron-steps/s of W1's 10,000
steps of 0.1 ms (N × 10,000 / seconds), whatever grid was stepped, per wall second and per
CPU second (all threads: gifcli's kernels use every core, Brian2's Cython one), and the load
average before and after, as the machine is shared.

    python bench/sweep_beside_brian2.py [--n 1e6] [--brian2-n 1e5] [--reps 3]
        [--brian2 /path/to/brian2-venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sweep import W1_PRESET  # bench/sweep.py: run as python bench/sweep_beside_brian2.py

STEPS = 10_000  # W1: 1000 ms of 0.1 ms steps
HERE = Path(__file__).resolve().parent
BRIAN2 = str(HERE.parent / ".venv-brian2" / "bin" / "python")  # what make test builds


def gif_sweep(preset: str, n: int, out: str, *extra: str) -> tuple[float, float]:
    """(wall s, CPU s of the process and its threads) of one ``gif sweep`` over n a's."""
    gif = os.path.join(os.path.dirname(sys.executable), "gif")
    args = [gif, "sweep", preset, "--param", "a", "--start", "-0.01", "--stop", "0.01",
            "--num", str(n), "--format", "csv", "--quiet", "--out", out, *extra]
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {process.stderr.read().decode()}")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def brian2(python: str, n: int) -> dict:
    done = subprocess.run([python, str(HERE / "brian2_w1.py"), "--n", str(n), "--reps", "1"],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=float, default=1e6)
    parser.add_argument("--brian2-n", type=float, default=1e5)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--brian2", default=BRIAN2)
    args = parser.parse_args()
    n, brian2_n = int(args.n), int(args.brian2_n)
    print(f"load average before: {load()}")
    runs: dict[str, list] = {"default": [], "0.1": [], "start-up": [], "brian2": []}
    with tempfile.TemporaryDirectory() as folder:
        w1 = os.path.join(folder, "w1.yaml")
        Path(w1).write_text(W1_PRESET, encoding="utf-8")
        gif_sweep(w1, 1, folder)  # fill the cache
        brian2(args.brian2, 1000)  # fill Cython's
        for _ in range(args.reps):
            runs["start-up"].append(gif_sweep(w1, 1, folder))
            runs["default"].append(gif_sweep(w1, n, folder))
            runs["0.1"].append(gif_sweep(w1, n, folder, "--dt", "0.1"))
            found = brian2(args.brian2, brian2_n)
            runs["brian2"].append((found["wall_s"], found["cpu_s"]))
    median = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v))
              for k, v in runs.items()}
    up = median["start-up"]
    print(f"W1, medians of {args.reps}; neuron-steps/s of W1's {STEPS:,} steps of 0.1 ms")
    for label in ("default", "0.1"):
        wall, cpu = (median[label][k] - up[k] for k in (0, 1))
        print(f"  gif sweep, N = {n:.0e}, {label} grid: {wall:.2f} s net of start-up "
              f"({up[0]:.2f} s), CPU {cpu:.2f} s: {n * STEPS / wall:.3g} neuron-steps/s, "
              f"{n * STEPS / cpu:.3g} per CPU-second")
    wall, cpu = median["brian2"]
    print(f"  Brian2 exact (Cython), N = {brian2_n:.0e}: run() {wall:.2f} s, CPU {cpu:.2f} s: "
          f"{brian2_n * STEPS / wall:.3g} neuron-steps/s, {brian2_n * STEPS / cpu:.3g} per "
          f"CPU-second")
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
