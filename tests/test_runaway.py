"""Valid but extreme parameters: every run ends in bounded time and memory.

A neuron that fires without end (a huge A1 re-exciting it at each spike) must stop at the
spike caps of ``simulation.simulate`` with a clear SimulationError, for every integrator;
extreme values that do not fire without end must finish with a finite state. Each run happens
in a subprocess with a timeout, so that a hang fails the test instead of stalling the suite;
"seconds" is the run's CPU time, which stays put on a busy machine where wall time does not.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

METHODS = ("exact", "euler", "exp-euler")
PROBE = r"""
import json, math, sys, time
import numpy as np
from gifcli.core.errors import SimulationError
from gifcli.model.preset import parse_preset
from gifcli.simulation.single import simulate

def peak_rss_mb():
    # VmHWM is this process's own peak; ru_maxrss keeps the parent's across fork and exec
    # (a 2 GB test suite made a 100 MB run look like 2 GB)
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024

warm = parse_preset("name: warm\ninput: [{amplitude: 1.5, duration: 1}]", "warm")
for method in ("exact", "euler", "exp-euler"):
    simulate(warm, method)  # compile (or load Numba's cache) outside the timed runs

out = []
for case in json.loads(sys.argv[1]):
    preset = parse_preset(case["yaml"], case["source"], max_steps=None)
    started = time.process_time()  # CPU time: a busy machine stretches wall time, not this
    try:
        result = simulate(preset, case["method"], case.get("dt"), max_steps=case["max_steps"])
    except SimulationError as error:
        entry = {"status": "error", "message": str(error)}
    else:
        state = (result.V, result.V_th, result.I1, result.I2)
        entry = {"status": "ok", "n_spikes": int(result.spike_times.size),
                 "finite": bool(all(np.isfinite(x).all() for x in state))
                           and bool(np.isfinite(result.spike_times).all())}
    entry["seconds"] = time.process_time() - started
    entry["rss_mb"] = peak_rss_mb()
    out.append(entry)
print(json.dumps(out))
"""


def preset_yaml(params: dict, amplitude: float = 1.5, duration: float = 200.0,
                dt: float | None = None, initial: dict | None = None) -> str:
    text = (f"name: extreme\ninput:\n  - {{amplitude: {amplitude!r}, duration: {duration!r}}}\n"
            f"params: {json.dumps(params)}\n")
    if initial:
        text += f"initial: {json.dumps(initial)}\n"
    return text + (f"dt: {dt!r}\n" if dt else "")


def run_cases(cases: list[dict], timeout: float) -> list[dict]:
    """Simulate each case in one fresh interpreter; fail if it takes longer than ``timeout``."""
    for case in cases:
        case.setdefault("source", "extreme.yaml")
        case.setdefault("max_steps", 2_000_000)
    try:
        done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(cases)],
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"no answer within {timeout:g} s (a hang) for {cases}")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def assert_clear_runaway_error(entry: dict, seconds: float = 5.0) -> None:
    assert entry["status"] == "error", entry
    message = entry["message"]
    assert message.startswith("extreme.yaml: the neuron fired more than 1,000,000 times, or "
                              "more than 1,000 times in one ")
    assert message.endswith("; the parameters make it fire without end")
    assert "\n" not in message
    assert entry["seconds"] < seconds, entry
    assert entry["rss_mb"] < 1500, entry


@pytest.mark.parametrize("method", METHODS)
def test_endless_firing_hits_the_spike_cap_for_every_method(method):
    """A1 = 1e6 re-excites the neuron at every spike; 2 million steps would give 2 million
    spikes (one per step even for the fixed-step methods), above the cap of 1 million."""
    (entry,) = run_cases([{"yaml": preset_yaml({"A1": 1e6}, duration=2000.0, dt=0.001),
                           "method": method}], timeout=60)
    assert_clear_runaway_error(entry)


@pytest.mark.parametrize("params, amplitude", [
    ({"A1": 1e6}, 1.5),
    ({"A1": 1e6, "R1": 1.0, "k1": 1e-9}, 1.5),
    ({"A1": 1e300, "R1": 1.0}, 1.5),
    ({"A2": 1e6, "R2": 1.0}, 1.5),
    ({}, 1e300),
    ({"a": -1e300}, 1.5),
    ({"R": 1e300}, 1.5),
])
def test_exact_stops_at_the_per_step_cap(params, amplitude):
    """With `exact`, such a neuron fires again at the instant of each reset: the per-step cap
    (1,000 spikes in one step) ends the run, at once."""
    (entry,) = run_cases([{"yaml": preset_yaml(params, amplitude), "method": "exact"}],
                         timeout=60)
    assert_clear_runaway_error(entry)


@pytest.mark.parametrize("method", METHODS)
def test_fixed_step_methods_fire_at_most_once_per_step(method):
    (entry,) = run_cases([{"yaml": preset_yaml({"A1": 1e6}), "method": method}], timeout=60)
    if method == "exact":
        assert_clear_runaway_error(entry)
    else:
        assert entry["status"] == "ok" and entry["finite"], entry
        assert 0 < entry["n_spikes"] <= 2000
        assert entry["seconds"] < 5


EXTREME_BUT_CALM = [
    ({"b": 1e300}, 1.5, None),
    ({"b": 1e-300}, 1.5, None),
    ({"k1": 1e-300, "k2": 1e-300}, 1.5, None),
    ({"a": 1e300}, 1.5, None),
    ({"tau": 1e6}, 1.5, None),
    ({"tau": 1e-300}, 1.5, None),  # 1 / tau = 1e300 (below, the rates overflow: refused)
    ({"R": 1e-300}, 1e300, None),
    ({"V_th_inf": 1e308, "V_rest": -1e308, "V_th_reset": 1e307, "V_reset": -1e308}, 1.5, None),
    ({"V_rest": 1e300}, 0.0, None),
    ({}, -1e300, None),
    ({}, 1.5, {"V": 1e308, "V_th": -1e308}),
    ({"R1": -1e3, "A1": 1.0}, 1.5, None),
    ({"R2": 1e3, "A2": -1.0}, 1.5, None),
]


@pytest.mark.parametrize("method", METHODS)
def test_extreme_values_finish_finite_or_with_a_clear_error(method):
    cases = [{"yaml": preset_yaml(params, amplitude, initial=initial), "method": method}
             for params, amplitude, initial in EXTREME_BUT_CALM]
    for case, entry in zip(cases, run_cases(cases, timeout=120), strict=True):
        assert entry["seconds"] < 10, (case, entry)
        if entry["status"] == "error":
            assert_clear_runaway_error(entry, seconds=10)
        else:
            assert entry["finite"], (case, entry)


def assert_overflow_error(entry: dict) -> None:
    assert entry["status"] == "error", entry
    assert "the state overflowed to inf or NaN at t = " in entry["message"], entry
    assert "forward Euler needs dt < 2 / rate" in entry["message"], entry


def test_euler_with_a_stiff_current_says_it_is_unstable():
    """Forward Euler is unstable for k1 * dt > 2 (here 1e299): an error, not a NaN trace."""
    (entry,) = run_cases([{"yaml": preset_yaml({"k1": 1e300, "A1": 5.0}), "method": "euler"}],
                         timeout=60)
    assert_overflow_error(entry)


@pytest.mark.parametrize("params", [{"tau": 1e-9}, {"R": 1e6}])
def test_exact_with_a_tiny_time_constant_finishes(params):
    """Stiff rates (rate * dt up to 1e8) leave the Taylor series for bisection on the exact
    propagator, so a spiking step stays cheap: a finite answer or the spike cap, in time."""
    (entry,) = run_cases([{"yaml": preset_yaml(params), "method": "exact"}], timeout=120)
    assert entry["seconds"] < 10
    if entry["status"] == "ok":
        assert entry["finite"], entry
    else:
        assert_clear_runaway_error(entry)


def test_an_overflowing_state_is_an_error_not_a_trace():
    cases = [{"yaml": preset_yaml({}, initial={"I1": 1e308, "I2": -1e308}), "method": method}
             for method in METHODS]
    for entry in run_cases(cases, timeout=60):
        assert_overflow_error(entry)
