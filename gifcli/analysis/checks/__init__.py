"""The 20 pattern checks, with their margins: one engine for one run and for a whole batch.

A check is data: a list of conditions (spikes in a window, no spike in a window, bursts, ISI
statistics, a voltage excursion, the f–I probe, a condition on a control run of the same
neurons under a changed schedule), all of which must hold, each measured for N points at
once, so ``gif run`` and a sweep point of the same parameters get the same verdict and the
same margin to the bit.

- :mod:`.context`: what the conditions read (:class:`Context`), margins, times and windows;
- :mod:`.conditions`: the conditions, each measured for N points at once;
- :mod:`.definitions`: the 20 checks, :data:`CHECKS`;
- :mod:`.engine`: judging them: :func:`judge` for N trains, :func:`check_spikes` for one train
  of spike times, :func:`evaluate` for one run.
"""

from gifcli.analysis.checks.context import (
    CheckError,
    Context,
    Extrema,
    Margin,
)
from gifcli.analysis.checks.definitions import CHECKS, Check
from gifcli.analysis.checks.engine import (
    Judgement,
    Verdict,
    check_spikes,
    evaluate,
    judge,
    resolve_check,
)

__all__ = [
    "CHECKS",
    "CheckError",
    "Check",
    "Context",
    "Extrema",
    "Judgement",
    "Margin",
    "Verdict",
    "check_spikes",
    "evaluate",
    "judge",
    "resolve_check",
]
