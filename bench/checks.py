"""What the afterpotentials check's controls cost a sweep, measured in one process.

The afterpotentials check (docs/patterns.md, Q) runs one control per point that reaches it
(exactly one spike): the pulse without the spike-triggered currents, stopping at the pulse's
end (15 of the run's 200 ms), in one batched call. This times, in one process and alternated
``--reps`` times, a sweep over N values of ``a`` on Q:

- ``with controls``: the check as it is;
- ``without``: the same sweep with the control replaced by a stand-in that runs nothing (V
  at the pulse's end unknown: the rise is read against rest alone), which is what the check
  cost before it had a control: the tracked run and a judgement in NumPy.

and the checked W1 sweep (tonic_bursting, no control), whose path the controls do not touch,
for reference. With ``--extrema`` it times instead what V's extrema cost N points of Q: the
run, and the continuous-time extrema (``gifcli.simulation.extrema``) from its spike trains.

It prints the medians and the ratio with / without, which should stay under 1.2: the
control adds 15 / 200 of the run's steps, and its spike (each point that reaches it fires
once during the pulse, which costs `exact` far more than a step).

    python bench/checks.py [--n 1e5] [--reps 3] [--extrema]
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import contextmanager
from unittest import mock

import numpy as np
from sweep import W1_PRESET  # bench/sweep.py: run as python bench/checks.py

from gifcli.analysis.probe import Probe
from gifcli.explore import sweep
from gifcli.model.preset import parse_preset, resolve


@contextmanager
def no_controls():
    """Probe.passive_end runs nothing: V at the pulse's end is unknown (NaN) everywhere."""
    def unknown(probe: Probe, segments):
        return np.full(probe.size, np.nan)

    with mock.patch.object(Probe, "passive_end", unknown):
        yield


def timed(preset, n: int) -> tuple[float, float]:
    """(seconds, fraction of points passing) of a sweep over n values of a."""
    axes = [sweep.Axis("a", np.linspace(-0.01, 0.01, n))]
    start = time.perf_counter()
    result = sweep.run_sweep(preset, axes)
    return time.perf_counter() - start, float(np.mean(result.passed))


def extrema_costs(preset, n: int, reps: int) -> None:
    """What the continuous extrema cost against the run itself, on n points of Q (exact,
    dt 0.1), medians of ``reps`` alternated runs."""
    from gifcli.simulation.batch import run_batch
    from gifcli.simulation.extrema import v_extrema

    params = dict(preset.params) | {"a": np.linspace(-0.01, 0.01, n)}
    after = preset.segments[0][1]

    def run():
        return run_batch(params, list(preset.segments), initial=preset.initial, record=128)

    def extrema(result):
        trains = result.trains()
        return v_extrema(params, preset.segments, trains.times, trains.offsets, after,
                         result.duration_ms, initial=preset.initial)

    extrema(run())  # compile
    rows: dict[str, list[float]] = {"the run": [], "continuous extrema": []}
    for _ in range(reps):
        start = time.perf_counter()
        result = run()
        rows["the run"].append(time.perf_counter() - start)
        start = time.perf_counter()
        extrema(result)
        rows["continuous extrema"].append(time.perf_counter() - start)
    print(f"V's extrema of {n:,} points of Q (exact, dt 0.1), medians of {reps}")
    for label, times in rows.items():
        print(f"  {label:20s} {statistics.median(times):7.3f} s  "
              f"({', '.join(f'{t:.3f}' for t in times)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=float, default=1e5)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--extrema", action="store_true",
                        help="time V's extrema in continuous time against the run")
    args = parser.parse_args()
    n = int(args.n)
    q, w1 = resolve("afterpotentials"), parse_preset(W1_PRESET, "w1.yaml")
    if args.extrema:
        extrema_costs(q, n, args.reps)
        return
    timed(q, 100)  # load or compile the kernels
    timed(w1, 100)
    rows: dict[str, list[float]] = {"with controls": [], "without": [], "W1 checked": []}
    passing = {}
    for _ in range(args.reps):
        seconds, passing["with controls"] = timed(q, n)
        rows["with controls"].append(seconds)
        with no_controls():
            seconds, passing["without"] = timed(q, n)
        rows["without"].append(seconds)
        rows["W1 checked"].append(timed(w1, n)[0])
    print(f"sweeps over {n:,} values of a (exact, dt 0.1), medians of {args.reps}")
    for label, times in rows.items():
        share = f", {passing[label]:.0%} pass" if label in passing else ""
        print(f"  {label:14s} {statistics.median(times):7.2f} s  "
              f"({', '.join(f'{t:.2f}' for t in times)}){share}")
    ratio = statistics.median(rows["with controls"]) / statistics.median(rows["without"])
    print(f"afterpotentials with / without its controls: {ratio:.3f}")


if __name__ == "__main__":
    main()
