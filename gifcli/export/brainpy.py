"""The BrainPy export: a script with BrainPy's ``GIF`` (the class of the seed notebook) set to
the preset's values, driven step by step by the schedule, in float64."""

from __future__ import annotations

from gifcli.export.brian2 import mapping
from gifcli.export.common import WRITE_SPIKES, Export, header

DIFFERENCES = (
    "exp-euler: BrainPy's GIF integrates each variable by exponential Euler and tests the new "
    "V against the threshold from before the step: gifcli's exp-euler step for step",
    "BrainPy labels a spike with the time its step starts (t_k); gifcli with the time it ends "
    "(t_k + dt). The CSV adds dt, so its times are gifcli's",
    "float64 is switched on (bm.enable_x64): in BrainPy's default float32 the class 1 neuron "
    "never fires",
)

TEMPLATE = '''\
"""{title}: the Mihalas-Niebur (2009) neuron as BrainPy's GIF, exported from gifcli.

Run: python {script} [OUT_DIR]   (OUT_DIR: where the CSV goes; default: beside this file)
"""

import csv
import sys
from pathlib import Path

import brainpy as bp
import brainpy.math as bm
import numpy as np

bm.enable_x64()  # float64: in float32, -50 + 2e-5 mV is -50 mV
DT = {dt!r}  # ms
bm.set_dt(DT)
# The input as runs of (amplitude, number of steps) on the grid of DT, in input units.
INPUT_RUNS = {runs!r}
PARAMETERS = {{
{parameters}
}}
INITIAL = {{
{initial}
}}


def build(n=1):
    """n such neurons (BrainPy's GIF, to connect in a network), their state set."""
    neurons = bp.neurons.GIF(n, **PARAMETERS)
    for name, value in INITIAL.items():
        getattr(neurons, name)[:] = value
    return neurons


def main():
    neurons = build()
    amplitudes = np.repeat([amp for amp, _ in INPUT_RUNS], [count for _, count in INPUT_RUNS])
    runner = bp.DSRunner(neurons, inputs=("input", bm.asarray(amplitudes), "iter"),
                         monitors=["spike"], progress_bar=False)
    runner.run(len(amplitudes) * DT)
    fired = np.asarray(runner.mon.spike)[:, 0]
    if len(fired) != len(amplitudes):
        raise SystemExit(f"BrainPy ran {{len(fired)}} steps, not {{len(amplitudes)}}")
    steps = np.flatnonzero(fired)
    write_spikes(steps, "{name}_brainpy_spikes.csv")

{write_spikes}

if __name__ == "__main__":
    main()
'''


def files(export: Export) -> dict[str, str]:
    """``{file name: text}`` of the BrainPy export."""
    name = export.preset.name
    script = f"{name}_brainpy.py"
    body = TEMPLATE.format(
        title=export.preset.title, script=script, dt=export.dt, runs=export.runs, name=name,
        parameters=mapping(export.params), initial=mapping(export.preset.initial),
        write_spikes=WRITE_SPIKES,
    )
    return {script: header(export, "brainpy", DIFFERENCES) + "\n" + body}
