"""``exact`` at dt = 0.1 against the coarsest grid that fits (issue 21), on W1.

W1 (bench/sweep.py): N neurons, A1 = 10, A2 = -0.6, a over [-0.01, 0.01], input 2.0 for
1000 ms. In one process, alternating, --reps warm runs of each: dt = 0.1 (10,000 steps) and
grid.coarsest_dt (the W1 rates allow 2.445 ms, 409 steps). It checks that both give the same
spike counts, then prints the median rates and their ratio, and splits the time into a cost
per neuron-step and per spike from the two runs (the same spikes, different step counts).

    python bench/exact_grid.py [--n 1e5] [--reps 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from gifcli.simulation.batch import run_batch
from gifcli.simulation.grid import coarsest_dt

SCHEDULE = [(2.0, 1000.0)]
FASTEST_RATE = 0.2  # k1 of the defaults, the W1 neuron's fastest rate (1/ms)


def w1(n: int):
    return {"A1": 10.0, "A2": -0.6, "a": np.linspace(-0.01, 0.01, n)}


def timed(n: int, dt: float):
    start = time.perf_counter()
    result = run_batch(w1(n), SCHEDULE, dt=dt, record=0)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=float, default=1e5)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    n, coarse = int(args.n), coarsest_dt(SCHEDULE, FASTEST_RATE)
    grids = {0.1: round(1000.0 / 0.1), coarse: round(1000.0 / coarse)}
    results = {dt: timed(n, dt)[1] for dt in grids}  # warm-up, and the results compared
    fine, rough = results[0.1], results[coarse]
    assert np.array_equal(fine.n_spikes, rough.n_spikes), "the coarse grid changed a count"
    assert np.array_equal(fine.status, rough.status)
    seconds = {dt: [] for dt in grids}
    for _ in range(args.reps):
        for dt in grids:
            seconds[dt].append(timed(n, dt)[0])
    median = {dt: statistics.median(s) for dt, s in seconds.items()}
    spikes = float(fine.n_spikes.sum())
    # t = steps * n * per_step + spikes * per_spike, for the two grids (same spikes)
    per_step = (median[0.1] - median[coarse]) / ((grids[0.1] - grids[coarse]) * n)
    per_spike = (median[coarse] - grids[coarse] * n * per_step) / spikes
    print(f"W1 exact, N = {n:.0e}, {spikes / n:.1f} spikes per neuron, median of {args.reps}")
    for dt, steps in grids.items():
        print(f"  dt = {dt:.4g} ms ({steps} steps): {median[dt]:.3f} s, "
              f"{n * grids[0.1] / median[dt]:.3g} neuron-steps/s of the 0.1 ms grid")
    print(f"  coarsest grid / dt 0.1: {median[0.1] / median[coarse]:.2f}x faster, same counts")
    print(f"  per neuron-step: {per_step * 1e9:.3g} ns; per spike: {per_spike * 1e9:.3g} ns")


if __name__ == "__main__":
    main()
