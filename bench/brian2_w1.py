"""W1 in Brian2 (``method='exact'``, Cython code generation): neuron-steps per second.

W1 (bench/sweep.py): N neurons, A1 = 10, A2 = -0.6, a over [-0.01, 0.01] /ms, a constant
input of 2.0 for 1000 ms at dt = 0.1 ms; gifcli's model with its defaults (R = 20 mV,
tau = 20 ms, k1 = 0.2, k2 = 0.02, b = 0.01 /ms, V_th_reset = -60 mV), spikes counted per
neuron (a SpikeMonitor that keeps counts, not times: what a sweep's statistics need). Run
it with a Python that has Brian2 and Cython; it prints one JSON line: the median wall and
CPU seconds of ``run()`` over --reps runs (each a fresh network; the first, not timed,
compiles and fills Cython's cache), neuron-steps/s, and the mean spikes per neuron.

    /path/to/brian2-venv/bin/python bench/brian2_w1.py [--n 1e5] [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
from brian2 import Hz, NeuronGroup, SpikeMonitor, ms, mV, prefs, start_scope

prefs.codegen.target = "cython"
DURATION_MS, DT_MS = 1000.0, 0.1
MODEL = """
dI1/dt = -0.2 / ms * I1 : 1
dI2/dt = -0.02 / ms * I2 : 1
dv/dt = (-(v + 70 * mV) + 20 * mV * (I1 + I2 + 2.0)) / (20 * ms) : volt
dv_th/dt = a * (v + 70 * mV) - 0.01 / ms * (v_th + 50 * mV) : volt
a : Hz (constant)
"""
RESET = "I1 = 10.0\nI2 = I2 - 0.6\nv = -70 * mV\nv_th = clip(v_th, -60 * mV, 1e9 * mV)"


def once(n: int) -> tuple[float, float, float]:
    """(wall s, CPU s, mean spikes per neuron) of one run of W1."""
    from brian2 import Network, defaultclock

    start_scope()
    defaultclock.dt = DT_MS * ms
    group = NeuronGroup(n, MODEL, threshold="v > v_th", reset=RESET, method="exact")
    group.v, group.v_th = -70 * mV, -50 * mV
    group.a = np.linspace(-0.01, 0.01, n) * 1000 * Hz
    spikes = SpikeMonitor(group, record=False)
    network = Network(group, spikes)
    network.run(0 * ms)  # code generation and compilation, outside the timing
    wall, cpu = time.perf_counter(), time.process_time()
    network.run(DURATION_MS * ms)
    return (time.perf_counter() - wall, time.process_time() - cpu,
            float(np.asarray(spikes.count).mean()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=float, default=1e5)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    n = int(args.n)
    once(min(n, 1000))  # fills Cython's cache
    runs = [once(n) for _ in range(args.reps)]
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    steps = n * round(DURATION_MS / DT_MS)
    print(json.dumps({"n": n, "wall_s": wall, "cpu_s": cpu, "neuron_steps_per_s": steps / wall,
                      "neuron_steps_per_cpu_s": steps / cpu,
                      "spikes_per_neuron": runs[0][2]}))


if __name__ == "__main__":
    main()
