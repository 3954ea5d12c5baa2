"""What a neuron is: the parameters of the Mihalaş–Niebur model (with units and the paper's
symbols) and the presets that fix them with an initial state, an input schedule and a check.

The parameter table's names are re-exported here; presets are in :mod:`gifcli.model.preset`."""

from gifcli.model.parameters import (
    DEFAULT_DT,
    DEFAULT_MAX_STEPS,
    DEFAULTS,
    METHODS,
    PARAMETER_NAMES,
    PARAMETERS,
    PATTERNS,
    STATE_NAMES,
    Parameter,
    default_initial,
    parameter_problem,
)

__all__ = [
    "DEFAULTS",
    "DEFAULT_DT",
    "DEFAULT_MAX_STEPS",
    "METHODS",
    "PARAMETERS",
    "PARAMETER_NAMES",
    "PATTERNS",
    "Parameter",
    "STATE_NAMES",
    "default_initial",
    "parameter_problem",
]
