"""W2 of docs/performance.md: whole-process wall time of the `gif` commands a person types.

Each command runs once to warm up (filling Numba's on-disk cache and the OS file cache), then
``--repeat`` times (default 5); the table gives the median, the target, and the ratio to
``python -c pass`` measured in the same run, so that a busy machine shows up in the baseline too.
The CPU time (user + system) of each run is printed beside it: on a shared machine whose other
tenants steal cycles, wall time grows but CPU time stays close to what a quiet machine shows.

    python bench/startup.py                 # the table
    python bench/startup.py --json w2.json  # and the figures as JSON
    python bench/startup.py --cold          # cold starts: each command with an empty cache

``--cold`` runs each command of COLD_COMMANDS once with Numba's cache pointed at an empty
folder (NUMBA_CACHE_DIR), as the first command after an install does: what it compiles.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# (label, arguments after `gif`, target in seconds); OUT is replaced by a temporary folder.
COMMANDS = [
    ("gif --help", ["--help"], 0.3),
    ("gif list", ["list"], 0.3),
    ("gif run tonic_spiking --format csv,json", ["run", "tonic_spiking", "--format", "csv,json",
                                                 "--out", "OUT"], 0.6),
    ("gif run tonic_spiking", ["run", "tonic_spiking", "--out", "OUT"], 1.2),
    ("gif check", ["check"], 1.5),
    ("gif run --all", ["run", "--all", "--out", "OUT"], 6.0),
]

# The first command of each kind after an install (OUT as above).
COLD_COMMANDS = [
    ("gif run A --format json", ["run", "A", "--format", "json", "--out", "OUT"]),
    ("gif check A --method euler", ["check", "A", "--method", "euler"]),
    ("gif fi B --num 5 -f csv", ["fi", "B", "--num", "5", "-f", "csv", "--out", "OUT"]),
    ("gif sweep M -p a=0:0.01:5 -f csv", ["sweep", "M", "-p", "a=0:0.01:5", "-f", "csv",
                                          "--out", "OUT"]),
]


def find_gif() -> str:
    beside = Path(sys.executable).parent / "gif"
    found = str(beside) if beside.exists() else shutil.which("gif")
    if not found:
        sys.exit("no `gif` command found: install gifcli (pip install -e .) first")
    return found


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one whole run of ``command``, in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def median_time(command: list[str], repeat: int) -> tuple[float, float]:
    """Medians of wall and CPU time over ``repeat`` warm runs (after one warm-up run)."""
    timed(command)
    runs = [timed(command) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def cold_starts(gif: str, with_warmup: bool) -> list[dict]:
    """Each of COLD_COMMANDS (and `make demo`'s warm-up) once with an empty Numba cache."""
    rows = []
    print(f"{'cold start (empty Numba cache)':<42} {'wall s':>9} {'CPU s':>7}")
    warmup = [("make demo's warm-up (every kernel)", [sys.executable, "-m", "gifcli.cli.warmup"])]
    with tempfile.TemporaryDirectory() as out:
        for label, command in [*((label, [gif] + [out if a == "OUT" else a for a in args])
                                 for label, args in COLD_COMMANDS),
                               *(warmup if with_warmup else [])]:
            with tempfile.TemporaryDirectory() as cache:
                env = dict(os.environ, NUMBA_CACHE_DIR=cache)
                seconds, cpu = timed(command, env)
            rows.append({"command": label, "wall_s": seconds, "cpu_s": cpu})
            print(f"{label:<42} {seconds:>9.1f} {cpu:>7.1f}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command (5)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also save the figures here")
    parser.add_argument("--cold", action="store_true",
                        help="cold starts instead: each command with an empty Numba cache")
    parser.add_argument("--with-warmup", action="store_true",
                        help="with --cold, also make demo's warm-up of every kernel")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    gif = find_gif()
    if args.cold:
        rows = cold_starts(gif, args.with_warmup)
        if args.json:
            args.json.write_text(json.dumps({"workload": "cold starts", "results": rows},
                                            indent=2) + "\n", encoding="utf-8")
        return
    python = sys.executable
    rows = []
    with tempfile.TemporaryDirectory() as out:
        baseline, _ = median_time([python, "-c", "pass"], args.repeat)
        print(f"baseline `python -c pass`: {baseline:.3f} s (median of {args.repeat})")
        print(f"{'command':<42} {'median s':>9} {'target s':>9} {'÷ python':>9} "
              f"{'CPU s':>7}  ok")
        for label, arguments, target in COMMANDS:
            command = [gif] + [out if a == "OUT" else a for a in arguments]
            seconds, cpu = median_time(command, args.repeat)
            ok = seconds <= target
            rows.append({"command": label, "median_s": seconds, "target_s": target,
                         "ratio_to_python": seconds / baseline, "median_cpu_s": cpu,
                         "within_target": ok})
            print(f"{label:<42} {seconds:>9.3f} {target:>9.1f} {seconds / baseline:>9.1f} "
                  f"{cpu:>7.3f}  {'yes' if ok else 'NO'}")
    if args.json:
        report = {
            "workload": "W2 start-up (docs/performance.md)",
            "repeat": args.repeat,
            "statistic": "median of warm runs, whole process",
            "baseline_python_c_pass_s": baseline,
            "machine": {"platform": platform.platform(), "processor": platform.processor(),
                        "python": platform.python_version()},
            "results": rows,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"saved {args.json}")


if __name__ == "__main__":
    main()
