"""What the coarse grid saves each user-facing path of ``exact`` (issue 21): a sweep, ``gif fi``,
the checks' f–I probe and a fit's search, each at its default (no dt: the coarsest grid that
fits the schedule) against dt = 0.1, on W1 (bench/sweep.py: A1 = 10, A2 = -0.6, input 2.0
for 1000 ms, a over [-0.01, 0.01]).

In one process, alternating the two grids, --reps warm runs of each; it prints the median
wall and CPU seconds (all threads) of each and their ratios, and compares the results of the
two grids point by point (a sweep's counts and verdicts, the probe's onsets, the f–I rates):
a point where they differ is counted, and so are those of them where dt 0.05 or 1000/10001
differs from 0.1 too (float64 decides such trains at any grid; the probe's onset, a
bisection, may agree at two fine grids where the train under it does not). Beside W1, a sweep of
its input scale over [0, 1] (input 0 to 2.0, mostly below the onset): where spikes are rare
the steps are most of the time. A fit's time is given per simulation,
as the two searches (the same seed) may stop at different generations.

    python bench/coarse_paths.py [--n 2e4] [--reps 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import numpy as np
from sweep import W1_PRESET  # bench/sweep.py: run as python bench/coarse_paths.py

from gifcli.analysis import probe
from gifcli.explore import fit, sweep
from gifcli.model.preset import parse_preset


def timed(call, dt):
    """(wall s, CPU s, result) of ``call(dt)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call(dt)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def paths(w1, n: int) -> dict:
    """Per path: (a call at dt: None for the default, the result per point, or None)."""
    axes = [sweep.Axis("a", np.linspace(-0.01, 0.01, n))]
    quiet = [sweep.Axis("input_scale", np.linspace(0.0, 1.0, n))]
    a = np.linspace(-0.01, 0.01, n // 10)
    points = probe.Probe(w1.params | {"a": a}, w1.initial, 2.0, a.size, "exact", 0.1)
    free = [fit.Free("a", -0.01, 0.01), fit.Free("A1", 0.0, 20.0), fit.Free("A2", -2.0, 0.0)]

    def swept(r):
        return np.stack([r.columns["n_spikes"], r.passed])

    def onsets(dt):
        return probe.onsets(points if dt else replace(points, fastest_rate=0.2))

    def fitted(dt):
        return fit.fit(w1, free, fit.PatternTarget("tonic_bursting"), dt=dt, budget=1024,
                       restarts=0, seed=1)

    return {
        f"sweep ({n:,} points)": (lambda dt: sweep.run_sweep(w1, axes, dt=dt), swept),
        f"sweep of input_scale 0-1 ({n:,} points)": (
            lambda dt: sweep.run_sweep(w1, quiet, dt=dt), swept),
        "gif fi (201 scales and the onset)": (lambda dt: sweep.fi_curves([w1], dt=dt),
                                              lambda r: r[0].rate),
        f"the f–I probe ({a.size:,} points' onsets)": (onsets, lambda r: r.scale),
        "a fit (per simulation; budget 1,024)": (fitted, None),
    }


def differing(results, per_point) -> str:
    """How many points the coarse grid and dt 0.1 disagree at, and how many of them dt 0.05
    or 1000/10001 disagrees with 0.1 at too."""
    coarse, fine, *witnesses = (np.atleast_2d(per_point(r)) for r in results)

    def apart(x, y):
        return np.any((x != y) & ~(np.isnan(x) & np.isnan(y)), axis=0)

    differ = apart(coarse, fine)
    also = (differ & np.any([apart(w, fine) for w in witnesses], axis=0)).sum()
    return (f"{differ.sum()} of {differ.size} points differ; at {also} of them dt 0.05 or "
            "1000/10001 differs from 0.1 too")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=float, default=2e4)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    w1 = parse_preset(W1_PRESET, "w1.yaml")
    print(f"W1, exact: each path at its default grid (coarse) against dt 0.1; medians of "
          f"{args.reps} warm runs, wall and CPU seconds (all threads)")
    for name, (call, per_point) in paths(w1, int(args.n)).items():
        results = [call(dt) for dt in (None, 0.1, 0.05, 1000 / 10001)]  # and a warm-up
        agreement = "" if per_point is None else "; " + differing(results, per_point)
        times = {None: [], 0.1: []}
        for _ in range(args.reps):
            for dt in times:
                wall, cpu, result = timed(call, dt)
                per = result.evaluations if per_point is None else 1  # a fit: per simulation
                times[dt].append((wall / per, cpu / per))
        wall = {k: statistics.median(t[0] for t in v) for k, v in times.items()}
        cpu = {k: statistics.median(t[1] for t in v) for k, v in times.items()}
        print(f"  {name}: coarse {wall[None]:.3g} s (CPU {cpu[None]:.3g}), "
              f"dt 0.1 {wall[0.1]:.3g} s (CPU {cpu[0.1]:.3g}): "
              f"{wall[0.1] / wall[None]:.2f}x faster (CPU {cpu[0.1] / cpu[None]:.2f}x)"
              f"{agreement}")


if __name__ == "__main__":
    main()
