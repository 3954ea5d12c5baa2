"""The generalized integrate-and-fire neuron of Mihalaş & Niebur (2009).

Mihalaş, Ş. and Niebur, E. (2009). A generalized linear integrate-and-fire neural model
produces diverse spiking behaviors. Neural Computation 21(3):704-718.

Equations (mV, ms)::

    dI1/dt   = -k1 * I1
    dI2/dt   = -k2 * I2
    dV/dt    = ( -(V - V_rest) + R * (I1 + I2 + I) ) / tau
    dV_th/dt = a * (V - V_rest) - b * (V_th - V_th_inf)

When V reaches V_th, at the same instant and in this order::

    I1 <- R1 * I1 + A1;  I2 <- R2 * I2 + A2;  V <- V_reset;  V_th <- max(V_th_reset, V_th)

The paper writes C dV/dt = I_e + sum I_j - G (V - E_L); here G/C = 1/tau and R/tau = 1/C, so
the names and numbers of BrainPy's ``GIF`` (the seed notebook) carry over unchanged.

This module holds only the parameter table and its rules; it imports nothing heavy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    name: str
    default: float
    unit: str
    symbol: str  # the paper's symbol
    meaning: str
    positive: bool = False  # must be > 0 (otherwise any finite value)


#: Every model parameter, in the order the kernels receive them.
PARAMETERS: tuple[Parameter, ...] = (
    Parameter("V_rest", -70.0, "mV", "E_L", "resting potential"),
    Parameter("V_reset", -70.0, "mV", "V_r", "reset potential (must be < V_th_reset)"),
    Parameter("V_th_inf", -50.0, "mV", "Θ_∞", "threshold at rest"),
    Parameter("V_th_reset", -60.0, "mV", "Θ_r", "lowest threshold after a spike"),
    Parameter("R", 20.0, "mV/input", "1/C", "input resistance", positive=True),
    Parameter("tau", 20.0, "ms", "C/G", "membrane time constant", positive=True),
    Parameter("a", 0.0, "1/ms", "a", "threshold's dependence on V"),
    Parameter("b", 0.01, "1/ms", "b", "threshold's rate of return to V_th_inf", positive=True),
    Parameter("k1", 0.2, "1/ms", "k_1", "decay rate of I1", positive=True),
    Parameter("k2", 0.02, "1/ms", "k_2", "decay rate of I2", positive=True),
    Parameter("R1", 0.0, "", "R_1", "fraction of I1 kept at a spike"),
    Parameter("R2", 1.0, "", "R_2", "fraction of I2 kept at a spike"),
    Parameter("A1", 0.0, "input", "A_1", "amount added to I1 at a spike"),
    Parameter("A2", 0.0, "input", "A_2", "amount added to I2 at a spike"),
)

PARAMETER_NAMES: tuple[str, ...] = tuple(p.name for p in PARAMETERS)
DEFAULTS: dict[str, float] = {p.name: p.default for p in PARAMETERS}

#: The state, in the order the kernels store it.
STATE_NAMES: tuple[str, ...] = ("I1", "I2", "V", "V_th")


def default_initial(params: dict[str, float]) -> dict[str, float]:
    """The paper's initial state: at rest, with the threshold at V_th_inf."""
    return {"I1": 0.0, "I2": 0.0, "V": params["V_rest"], "V_th": params["V_th_inf"]}


def parameter_problem(params: dict[str, float]) -> tuple[str, str] | None:
    """The first (key, reason) that makes ``params`` invalid, or None.

    ``params`` must hold all 14 names with float values.
    """
    for p in PARAMETERS:
        value = params[p.name]
        if not math.isfinite(value):
            return p.name, f"must be a finite number, got {value}"
        if p.positive and value <= 0:
            return p.name, f"must be > 0 ({p.meaning}, {p.unit}), got {value:g}"
    tau = params["tau"]
    if not (math.isfinite(1.0 / tau) and math.isfinite(params["R"] / tau)):
        return "tau", (f"must be large enough that the rates 1/tau and R/tau stay within a "
                       f"float's range (1.8e308), got {tau:g} ms")
    if params["V_reset"] >= params["V_th_reset"]:
        return "V_reset", (
            f"must be < V_th_reset ({params['V_th_reset']:g} mV), got {params['V_reset']:g}: "
            "a reset at or above the threshold would fire forever at one instant"
        )
    return None

#: The 20 patterns of the paper's Figure 1, A to T; each names a preset and its check.
PATTERNS: tuple[str, ...] = (
    "tonic_spiking", "class_1_excitability", "spike_frequency_adaptation", "phasic_spiking",
    "accommodation", "threshold_variability", "rebound_spiking", "class_2_excitability",
    "integrator", "input_bistability", "hyperpolarization_induced_spiking",
    "hyperpolarization_induced_bursting", "tonic_bursting", "phasic_bursting",
    "rebound_bursting", "mixed_mode", "afterpotentials", "basal_bistability",
    "preferred_frequency", "spike_latency",
)

#: The integrators; see ``gifcli.simulation.kernel``. ``exact`` is the default.
METHODS: tuple[str, ...] = ("exact", "euler", "exp-euler")
DEFAULT_DT = 0.1  # ms, when neither the preset nor the command line gives one
#: The cap on grid steps per run (--max-steps raises it): a single run's trace at the cap
#: takes about 400 MB (gifcli.simulation.single.BYTES_PER_STEP), and more is refused before
#: it starts if the memory is not free.
DEFAULT_MAX_STEPS = 2_000_000
