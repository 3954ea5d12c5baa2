"""Parameter sweeps and f–I curves: many runs of one preset, in batched kernel calls.

Plain functions on numbers, usable without the CLI; the files, figures and zarr stores are
drawn and written by :mod:`gifcli.files` and :mod:`gifcli.plots`, and
:mod:`gifcli.explore.cluster` runs the chunks on Dask workers. One concern per module:

- :mod:`.axes`: the values of an axis, ``P=X:Y:N`` and ``P=v1,v2,...``, and the checks of a grid;
- :mod:`.columns`: the metrics measured at each point, and a chunk's summary;
- :mod:`.points`: the inputs of some points, and the batched calls that simulate and judge them;
- :mod:`.plan`: a validated sweep cut into chunks, each computed on its own;
- :mod:`.result`: a finished sweep in memory, and what its figure draws;
- :mod:`.run`: every chunk of a plan run, here or on a cluster, into one table;
- :mod:`.ranges`: the runs of values where the check passes;
- :mod:`.fi`: f–I curves, and a finer curve around each onset.

Everything is validated before anything is simulated. The names that other modules use are
re-exported here.
"""

from gifcli.explore.sweep.axes import (
    INITIAL_PARAMS,
    INPUT_SCALE,
    MAX_POINTS,
    Axis,
    check_axis,
    check_sweep,
    own_value,
    parse_axis,
    parse_values,
    resolve_param,
    sweep_values,
)
from gifcli.explore.sweep.columns import (
    COLUMNS,
    COUNTS,
    METRIC_LABELS,
    METRICS,
    STATS,
    STATUS_NAMES,
    ChunkResult,
    merge_stats,
    resolve_metric,
)
from gifcli.explore.sweep.fi import FiCurve, fi_curves, fi_input
from gifcli.explore.sweep.plan import Chunks, SweepPlan, plan_sweep
from gifcli.explore.sweep.points import Points, point_preset
from gifcli.explore.sweep.ranges import PassRange, pass_ranges
from gifcli.explore.sweep.result import (
    MAX_RASTER_ROWS,
    GridView,
    SweepResult,
    grid_notes,
    grid_view,
    sample_trains,
    sampled_points,
)
from gifcli.explore.sweep.run import (
    ChunkProgress,
    Progress,
    no_chunk_progress,
    no_progress,
    run_plan,
    run_sweep,
)

__all__ = [
    "COLUMNS",
    "COUNTS",
    "INITIAL_PARAMS",
    "INPUT_SCALE",
    "MAX_POINTS",
    "MAX_RASTER_ROWS",
    "METRICS",
    "METRIC_LABELS",
    "STATS",
    "STATUS_NAMES",
    "Axis",
    "ChunkProgress",
    "ChunkResult",
    "Chunks",
    "FiCurve",
    "GridView",
    "PassRange",
    "Points",
    "Progress",
    "SweepPlan",
    "SweepResult",
    "check_axis",
    "check_sweep",
    "fi_curves",
    "fi_input",
    "grid_notes",
    "grid_view",
    "merge_stats",
    "no_chunk_progress",
    "no_progress",
    "own_value",
    "parse_axis",
    "parse_values",
    "pass_ranges",
    "plan_sweep",
    "point_preset",
    "resolve_metric",
    "resolve_param",
    "run_plan",
    "run_sweep",
    "sample_trains",
    "sampled_points",
    "sweep_values",
]
