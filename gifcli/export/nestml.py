"""The NESTML export: the neuron as a ``.nestml`` model (its equations, an ``onCondition``
reset, the preset's values as the defaults of its parameters and state) and a PyNEST script
that builds it with NESTML, drives it with a ``step_current_generator`` and records spikes.

Units: the input, I1, I2, A1 and A2 are in pA and R in GOhm (mV/pA), so the preset's
numbers carry over unchanged: R * I is in mV, as in gifcli.
"""

from __future__ import annotations

from gifcli.export.common import Export, header

DIFFERENCES = (
    "exact: NESTML's ODE-toolbox finds the system linear and integrates it by its exact "
    "propagator, but NEST tests V >= V_th and resets only at the end of a step (t_k + dt, the "
    "time NEST stamps and the CSV gives), while gifcli solves the crossing inside the step "
    "and resets there; each reset here comes up to one step late, and the delay carries on",
    "the input: a generator's current reaches the neuron after the connection's delay (one "
    "step, the least NEST allows), so the script sets each change one step early and the first "
    "step of the run (0 to dt) gets no input. This timing, and the spike times of a NEST run, "
    "were not measured when this export was written (docs/export.md says why)",
    "a segment boundary between grid points moves to the nearest one (gifcli's exact "
    "splits that step)",
)

UNITS = {"V_rest": "mV", "V_reset": "mV", "V_th_inf": "mV", "V_th_reset": "mV",
         "R": "GOhm", "tau": "ms", "a": "1/ms", "b": "1/ms", "k1": "1/ms", "k2": "1/ms",
         "R1": "real", "R2": "real", "A1": "pA", "A2": "pA",
         "V": "mV", "V_th": "mV", "I1": "pA", "I2": "pA"}

MODEL = '''\
model {model}:
    state:
{state}

    equations:
        I1' = -k1 * I1
        I2' = -k2 * I2
        V' = (-(V - V_rest) + R * (I1 + I2 + I_stim)) / tau
        V_th' = a * (V - V_rest) - b * (V_th - V_th_inf)

    parameters:
{parameters}

    input:
        I_stim pA <- continuous

    output:
        spike

    update:
        integrate_odes()

    onCondition(V >= V_th):
        I1 = R1 * I1 + A1
        I2 = R2 * I2 + A2
        V = V_reset
        V_th = max(V_th_reset, V_th)
        emit_spike()
'''

SCRIPT = '''\
"""{title}: the Mihalas-Niebur (2009) neuron in NEST, built from {model_file} by NESTML.

Run: python {script} [OUT_DIR]   (OUT_DIR: where the CSV goes; default: beside this file)
Needs: pip install nestml nest-simulator (and a C++ compiler and CMake for the build).
"""

import csv
import sys
from pathlib import Path

import nest
from pynestml.frontend.pynestml_frontend import generate_nest_target

HERE = Path(__file__).resolve().parent
MODEL = "{model}"
MODULE = "{model}_module"
DT = {dt!r}  # ms
# The input as runs of (amplitude in pA, number of steps) on the grid of DT.
INPUT_RUNS = {runs!r}


def install(build_dir=HERE / "{model}_build"):
    """Generate the model's C++ code with NESTML, build it and load it into NEST."""
    generate_nest_target(input_path=str(HERE / "{model_file}"), target_path=str(build_dir),
                         module_name=MODULE, logging_level="WARNING")
    nest.Install(MODULE)


def schedule():
    """The generator's change times and amplitudes: each change set one step early, since
    the current reaches the neuron one step (the connection's delay) after it is set."""
    times, amplitudes, step = [], [], 0
    for amplitude, count in INPUT_RUNS:
        if step > 0:  # a change due at DT cannot be set at 0 (NEST wants times > 0)
            times.append(round(max(step - 1, 1) * DT, 9))
            amplitudes.append(amplitude)
        step += count
    return times, amplitudes, step


def main():
    install()
    nest.ResetKernel()
    nest.resolution = DT
    neuron = nest.Create(MODEL)
    times, amplitudes, n_steps = schedule()
    generator = nest.Create("step_current_generator", params={{
        "amplitude_times": times, "amplitude_values": amplitudes}})
    recorder = nest.Create("spike_recorder")
    nest.Connect(generator, neuron, syn_spec={{"delay": DT}})
    nest.Connect(neuron, recorder)
    nest.Simulate(n_steps * DT)
    spike_times = sorted(recorder.get("events")["times"])
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    out.mkdir(parents=True, exist_ok=True)
    path = out / "{name}_nestml_spikes.csv"
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["t_ms"])
        writer.writerows([repr(round(float(t), 9))] for t in spike_times)
    print(f"{{len(spike_times)}} spikes -> {{path}}")


if __name__ == "__main__":
    main()
'''


def declarations(values: dict[str, float]) -> str:
    """``name unit = value unit`` lines, indented for a NESTML block."""
    lines = []
    for name, value in values.items():
        unit = UNITS[name]
        literal = repr(float(value)) if unit == "real" else f"{float(value)!r} {unit}"
        lines.append(f"        {name} {unit} = {literal}")
    return "\n".join(lines)


def files(export: Export) -> dict[str, str]:
    """``{file name: text}`` of the NESTML export: the model and its PyNEST script."""
    name = export.preset.name
    model = f"gif_{name}"
    model_file, script = f"{model}.nestml", f"{name}_nest.py"
    first_amplitude = export.runs[0][0]
    notes = DIFFERENCES + ((f"the first segment's amplitude ({first_amplitude!r} pA) reaches "
                            "the neuron only from t = dt on",) if first_amplitude else ())
    nestml = MODEL.format(model=model, state=declarations(export.preset.initial),
                          parameters=declarations(export.params))
    python = SCRIPT.format(title=export.preset.title, model_file=model_file, script=script,
                           model=model, dt=export.dt, runs=export.runs, name=name)
    return {model_file: header(export, "nestml", notes) + "\n" + nestml,
            script: header(export, "nestml", notes) + "\n" + python}
