"""What a sweep measures at each point, and the summary of a chunk of points.

Both the sweep in memory and a zarr store read the same columns and merge the same per-chunk
summaries, so a grid too large to hold still has its ranges and counts.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np

from gifcli.core.errors import PresetError
from gifcli.simulation.batch import OK, OVERFLOWED, TOO_MANY_SPIKES

METRICS: tuple[str, ...] = ("rate_hz", "n_spikes", "first_spike_ms", "isi_cv", "n_bursts")
METRIC_LABELS = {
    "rate_hz": "mean rate (Hz)",
    "n_spikes": "spikes",
    "first_spike_ms": "first spike (ms)",
    "isi_cv": "ISI CV",
    "n_bursts": "bursts",
}
COUNTS = ("n_spikes", "n_bursts")  # whole-number metrics
COLUMNS = (*METRICS[1:2], METRICS[0], *METRICS[2:])  # n_spikes, rate_hz, first_spike_ms, ...
#: A point's status, as the CSV and the store's flag_meanings spell it: a point that fired
#: without end or whose state overflowed to inf or NaN (both refused by a single run) has
#: no numbers and no verdict.
STATUS_NAMES = {OK: "ok", TOO_MANY_SPIKES: "fired_without_end", OVERFLOWED: "overflowed"}


def resolve_metric(name: str) -> str:
    if name in METRICS:
        return name
    close = difflib.get_close_matches(name, METRICS, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise PresetError("--metric", None, f"unknown metric {name!r}{hint} "
                                        f"(valid: {', '.join(METRICS)})")


@dataclass(frozen=True, eq=False)
class ChunkResult:
    """What a chunk's points gave: COLUMNS (NaN where undefined or fired without end), the
    kernel's status, the check's verdict and margin (None without a check)."""

    columns: dict[str, np.ndarray]
    status: np.ndarray
    passed: np.ndarray | None
    margin: np.ndarray | None
    seconds: dict[str, float]

    @property
    def size(self) -> int:
        return int(self.status.size)

    def stats(self) -> np.ndarray:
        """The chunk's summary as one row of STATS (see :func:`merge_stats`)."""
        row = [float(self.size), float(np.count_nonzero(self.status == TOO_MANY_SPIKES)),
               float(np.count_nonzero(self.status == OVERFLOWED)),
               float(-1 if self.passed is None else np.count_nonzero(self.passed))]
        for name in METRICS:
            finite = self.columns[name][np.isfinite(self.columns[name])]
            row += [float(finite.min()), float(finite.max())] if finite.size else [np.nan] * 2
        return np.array(row)


#: The columns of ChunkResult.stats: points, fired without end, overflowed, passed, then each
#: metric's finite minimum and maximum (NaN where it has none).
STATS = ("points", "failed", "overflowed", "passed",
         *(f"{name}_{end}" for name in METRICS for end in ("min", "max")))


def merge_stats(rows: np.ndarray) -> dict[str, float | None]:
    """Many chunks' STATS rows (a 2-D array) as one summary of the grid."""
    rows = np.atleast_2d(rows)
    out: dict[str, float | None] = {
        "points": int(rows[:, 0].sum()), "failed": int(rows[:, 1].sum()),
        "overflowed": int(rows[:, 2].sum()),
        "passed": None if rows.size and rows[0, 3] < 0 else int(rows[:, 3].sum())}
    for j, name in enumerate(STATS[4:], start=4):
        column = rows[:, j][np.isfinite(rows[:, j])]
        pick = np.min if name.endswith("_min") else np.max
        out[name] = float(pick(column)) if column.size else None
    return out
