"""The batched kernel: many independent neurons under one input schedule, in one parallel call.

Every neuron may have its own parameters, initial state and input scale; the schedule (the
amplitudes, times ``input_scale``) and the grid are shared. The semantics are those of the
single-neuron path (:func:`gifcli.simulation.single.simulate`) exactly: the same grid, the same
off-grid boundary splitting for ``exact``, and the same spike times, because the batched path
calls the same Numba functions of :mod:`gifcli.simulation.kernel` (``modal_form``, ``step_map``,
``enter_state``, ``modal_spikes``, ``advance``, ``reset``) and its vector steps are the
arithmetic of ``kernel.modal_advance`` and ``kernel.linear_step`` in the same order (no
fastmath, so no FMA contraction and no reassociation). Spike times, ``exact`` ones included,
are identical to the bit, which the tests hold.

The modules, each importing only those above it:

- ``tracking``: V's first peak and the trough after it (``track_after``, fixed-step methods);
- ``vector_pass``: the branch-free steps over a block's neurons, which LLVM vectorises;
- ``spike_pass``: the scalar pass over the neurons a vector pass flagged, and the per-neuron
  statistics it records;
- ``blocks``: the neurons sorted and cut into blocks, one block's run, the parallel chunk;
- ``run``: :func:`run_batch` and :class:`BatchResult`, and the layout of the whole.
"""

from gifcli.simulation.batch.blocks import OVERFLOWED
from gifcli.simulation.batch.run import (
    BLOCK,
    CHUNK_SECONDS,
    BatchResult,
    ParamsLike,
    initial_states,
    run_batch,
    split_params,
)
from gifcli.simulation.batch.spike_pass import OK, TOO_MANY_SPIKES
from gifcli.simulation.batch.vector_pass import MODAL_STEPS

__all__ = [
    "BLOCK",
    "CHUNK_SECONDS",
    "MODAL_STEPS",
    "OK",
    "OVERFLOWED",
    "TOO_MANY_SPIKES",
    "BatchResult",
    "ParamsLike",
    "initial_states",
    "run_batch",
    "split_params",
]
