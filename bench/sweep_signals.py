"""Signals at random moments of a zarr sweep, then the same command again: how many end in
gif's one line (or exit 0), and how many stores then equal an uninterrupted run's.

Each try starts ``gif sweep`` writing a zarr store, sends SIGINT, SIGTERM or SIGHUP (in turn)
at a random moment of its run (start-up, store creation, chunks, the last writes), and
checks what it said: exit 0, or the signal's code and one line. Then it runs the same
command with ``--resume`` when the line offers it, or without, and compares the store with
one an uninterrupted run made (every variable and attribute but ``command``).

    python bench/sweep_signals.py                  # 20 tries in this process's cores
    python bench/sweep_signals.py --workers 2 --tries 10

Run it from a terminal, not in the background: a shell ignores SIGINT for what it starts
with &, and gif keeps an ignored signal ignored.
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SWEEP = ["sweep", "M", "-p", "a=0:0.01:200", "-p", "A1=0:20:100", "-f", "zarr", "-q",
         "--chunk-points", "1000"]
STORE = "tonic_bursting_sweep_a_A1.zarr"
WHAT = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated", signal.SIGHUP: "hung up"}


def grid(store: Path):
    import xarray as xr

    with xr.open_zarr(store) as ds:
        loaded = ds.load()
    loaded.attrs.pop("command")
    return loaded


def one_try(gif: str, args: list[str], folder: Path, signum: int, moment: float, want
            ) -> tuple[bool, bool, str]:
    """(said cleanly, store equal after the rerun, what it said)."""
    shutil.rmtree(folder / "out", ignore_errors=True)
    process = subprocess.Popen([gif, *args, "--out", "out"], cwd=folder, text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(moment)
    process.send_signal(signum)
    _, err = process.communicate()
    lines = err.strip().splitlines()
    clean = process.returncode == 0 or (process.returncode == 128 + signum and len(lines) == 1
                                        and lines[0].startswith(f"gif: error: {WHAT[signum]}"))
    again = [*args, "--out", "out"] + (["--resume"] if "--resume" in err else [])
    rerun = subprocess.run([gif, *again], cwd=folder, capture_output=True, text=True)
    equal = rerun.returncode == 0 and grid(folder / "out" / STORE).identical(want)
    return clean, equal, (lines[-1] if lines else f"exit {process.returncode}")[:110]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--workers", type=int, help="run the sweeps on N local workers")
    args = parser.parse_args()
    gif = str(Path(sys.executable).parent / "gif")
    sweep = SWEEP + (["--workers", str(args.workers)] if args.workers else [])
    chooser = random.Random(23)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        started = time.perf_counter()
        subprocess.run([gif, *SWEEP, "--out", "reference"], cwd=folder, check=True)
        span = time.perf_counter() - started + (8.0 if args.workers else 0.0)
        want = grid(folder / "reference" / STORE)
        clean = equal = 0
        for k in range(args.tries):
            signum = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)[k % 3]
            moment = chooser.uniform(0.05, span)
            said, same, line = one_try(gif, sweep, folder, signum, moment, want)
            clean, equal = clean + said, equal + same
            if not (said and same):
                print(f"  {moment:5.2f} s {signal.Signals(signum).name:<7} clean={said} "
                      f"equal={same}: {line}")
    print(f"{args.tries} signals over 0-{span:.1f} s: {clean} said cleanly, {equal} stores "
          "equal to the uninterrupted one after the same command (with --resume if offered)")


if __name__ == "__main__":
    main()
