"""The Brian2 export: one script with the equations in units, the threshold, the reset, the
input as a TimedArray on the grid, and a SpikeMonitor written to CSV."""

from __future__ import annotations

from gifcli.export.common import WRITE_SPIKES, Export, header

DIFFERENCES = {
    "euler": (
        "euler: the same forward Euler step, the same input rule (the amplitude at t_k for "
        "the step from t_k), the same test V >= V_th on the new values and the same reset: "
        "gifcli's euler step for step",
        "Brian2 stamps a spike with the time the step starts (t_k); gifcli with the time it "
        "ends (t_k + dt), when the state that crossed exists. The CSV adds dt, so its times "
        "are gifcli's",
    ),
    "exact": (
        "exact: Brian2's closed-form step, but the threshold is tested and the reset made "
        "only at the end of a step (t_k + dt, the time the CSV gives), while gifcli solves "
        "the crossing inside the step, resets there and continues; each reset here comes up "
        "to one step late, and the delay carries into the spikes after it",
        "a segment boundary between grid points moves to the nearest one (gifcli's exact "
        "splits that step)",
    ),
}

TEMPLATE = '''\
"""{title}: the Mihalas-Niebur (2009) neuron in Brian2, exported from gifcli.

Run: python {script} [OUT_DIR]   (OUT_DIR: where the CSV goes; default: beside this file)
"""

import csv
import sys
from pathlib import Path

import numpy as np
from brian2 import Network, NeuronGroup, SpikeMonitor, TimedArray, ms, mV, prefs, second

prefs.codegen.target = "numpy"  # no compiler needed; "cython" runs faster on long runs
DT = {dt!r}  # ms
METHOD = {brian_method!r}
# The input as runs of (amplitude, number of steps) on the grid of DT, in input units.
INPUT_RUNS = {runs!r}
PARAMETERS = {{
{parameters}
}}
INITIAL = {{
{initial}
}}

EQUATIONS = """
dI1/dt = -k1 * I1 : 1
dI2/dt = -k2 * I2 : 1
dV/dt = (-(V - V_rest) + R * (I1 + I2 + I)) / tau : volt
dV_th/dt = a * (V - V_rest) - b * (V_th - V_th_inf) : volt
I : 1  # the input of this step, set at its start from the schedule
"""
THRESHOLD = "V >= V_th"
RESET = """
I1 = R1 * I1 + A1
I2 = R2 * I2 + A2
V = V_reset
V_th = clip(V_th, V_th_reset, inf * volt)
"""


def namespace(stimulus):
    """The parameters with their units, and the schedule, as the equations' names."""
    p = PARAMETERS
    return {{
        "V_rest": p["V_rest"] * mV, "V_reset": p["V_reset"] * mV,
        "V_th_inf": p["V_th_inf"] * mV, "V_th_reset": p["V_th_reset"] * mV,
        "R": p["R"] * mV, "tau": p["tau"] * ms, "a": p["a"] / ms, "b": p["b"] / ms,
        "k1": p["k1"] / ms, "k2": p["k2"] / ms, "R1": p["R1"], "R2": p["R2"],
        "A1": p["A1"], "A2": p["A2"], "stimulus": stimulus,
    }}


def build(n=1):
    """n such neurons (a NeuronGroup to connect in a network), their state set."""
    amplitudes = np.repeat([amp for amp, _ in INPUT_RUNS], [count for _, count in INPUT_RUNS])
    stimulus = TimedArray(amplitudes, dt=DT * ms)
    group = NeuronGroup(n, EQUATIONS, threshold=THRESHOLD, reset=RESET, method=METHOD,
                        namespace=namespace(stimulus), dt=DT * ms)
    group.run_regularly("I = stimulus(t)", when="start")
    group.V = INITIAL["V"] * mV
    group.V_th = INITIAL["V_th"] * mV
    group.I1 = INITIAL["I1"]
    group.I2 = INITIAL["I2"]
    return group


def main():
    group = build()
    spikes = SpikeMonitor(group)
    n_steps = sum(count for _, count in INPUT_RUNS)
    Network(group, spikes).run(n_steps * DT * ms)
    steps = np.rint(np.asarray(spikes.t / second) * 1000 / DT).astype(int)
    write_spikes(steps, "{name}_brian2_spikes.csv")

{write_spikes}

if __name__ == "__main__":
    main()
'''


def mapping(values: dict[str, float]) -> str:
    return "\n".join(f"    {name!r}: {value!r}," for name, value in values.items())


def files(export: Export) -> dict[str, str]:
    """``{file name: text}`` of the Brian2 export."""
    name = export.preset.name
    script = f"{name}_brian2.py"
    body = TEMPLATE.format(
        title=export.preset.title, script=script, dt=export.dt,
        brian_method=export.method, runs=export.runs, name=name,
        parameters=mapping(export.params), initial=mapping(export.preset.initial),
        write_spikes=WRITE_SPIKES,
    )
    return {script: header(export, "brian2", DIFFERENCES[export.method]) + "\n" + body}
