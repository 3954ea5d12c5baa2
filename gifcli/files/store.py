"""A sweep as a labelled grid: an xarray Dataset, written as a zarr store or a NetCDF file.

The grid has one dimension per swept quantity, named after it, with its values as the
coordinate (and its unit); one variable per result column (``n_spikes``, ``rate_hz``,
``first_spike_ms``, ``isi_cv``, ``n_bursts`` and, with a check, ``check_passed`` and
``check_margin``); the preset, method, dt, overrides, command line and version as
attributes. The counts are 32-bit integers with -1 as their fill value (xarray reads them as
floats with NaN there): a point that fired without end, like an unfinished chunk, has none.

A zarr store is filled chunk by chunk (one zarr chunk per chunk of :class:`gifcli.explore.sweep.
Chunks`), by whichever process computed it, so the grid is never held in one place. After
a chunk's variables, that process writes the chunk's summary row and sets its mark in the
``gifcli_chunks`` group (which xarray does not read); only marked chunks count, so a store
cut short (Ctrl-C, a killed worker) is valid as far as it is marked, and ``--resume``
computes the rest. Zarr writes every chunk to a temporary file and renames it, so a chunk is
whole or absent. A store is only reused for the same sweep (preset, method, dt, grid, chunks
and version); anything else is refused, never overwritten.

Needs the ``cluster`` extra (xarray, zarr, dask; h5netcdf for NetCDF): :func:`require`
says so in one sentence when it is missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gifcli import __version__
from gifcli.core.errors import GifError
from gifcli.explore.sweep import (
    COUNTS,
    INITIAL_PARAMS,
    INPUT_SCALE,
    METRICS,
    STATS,
    ChunkProgress,
    ChunkResult,
    GridView,
    SweepPlan,
    SweepResult,
    grid_notes,
    grid_view,
    merge_stats,
    no_chunk_progress,
    sampled_points,
)
from gifcli.model.parameters import PARAMETERS

EXTRA = "cluster"
# gifcli is not on the package index: the extra comes from the project's own folder.
INSTALL_HINT = f"run `make demo`, or `pip install -e '.[{EXTRA}]'`, in gifcli's folder"
PROGRESS_GROUP = "gifcli_chunks"  # the chunks' marks and summaries, beside the Dataset
COUNT_FILL = -1
INPUT_UNIT = "V/s"  # the input's unit, I_e/C ("input" would read as the quantity's name)
UNITS = {p.name: INPUT_UNIT if p.unit == "input" else p.unit for p in PARAMETERS} | {
    INPUT_SCALE: "1", "initial.V": "mV", "initial.V_th": "mV", "initial.I1": INPUT_UNIT,
    "initial.I2": INPUT_UNIT}
VARIABLE_UNITS = {"rate_hz": "Hz", "first_spike_ms": "ms", "n_spikes": "1", "n_bursts": "1",
                  "isi_cv": "1", "check_margin": "1"}
LONG_NAMES = {"n_spikes": "spikes in the run", "rate_hz": "mean rate",
              "first_spike_ms": "time of the first spike", "isi_cv": "ISI coefficient of "
              "variation", "n_bursts": "bursts", "check_passed": "the check passes",
              "check_margin": "the check's relative margin"}


def require(what: str, netcdf: bool = False) -> None:
    """GifError unless the ``cluster`` extra is installed (``what`` names the feature)."""
    modules = ["xarray", "zarr", "dask", "distributed"] + (["h5netcdf", "h5py"] if netcdf
                                                           else [])
    import importlib.util

    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise GifError(f"{what} needs the {EXTRA} extra ({', '.join(missing)} not installed): "
                       f"{INSTALL_HINT}")


# --- what is stored ---------------------------------------------------------------------------


def variables(checked: bool) -> tuple[str, ...]:
    """The Dataset's variables, in order."""
    return (*("n_spikes", "rate_hz", "first_spike_ms", "isi_cv", "n_bursts"),
            *(("check_passed", "check_margin") if checked else ()))


def _dtype(name: str) -> np.dtype:
    if name in COUNTS:
        return np.dtype(np.int32)
    return np.dtype(bool) if name == "check_passed" else np.dtype(np.float64)


def _fill(name: str) -> Any:
    return COUNT_FILL if name in COUNTS else (False if name == "check_passed" else np.nan)


def encoded(chunk: ChunkResult, name: str) -> np.ndarray:
    """One variable of a chunk as stored: the counts as int32 with -1 where undefined."""
    if name == "check_passed":
        return chunk.passed
    if name == "check_margin":
        return chunk.margin
    values = chunk.columns[name]
    if name in COUNTS:
        return np.where(np.isfinite(values), values, COUNT_FILL).astype(np.int32)
    return values


def decoded(name: str, values: np.ndarray) -> np.ndarray:
    """Stored values as the sweep's columns hold them: counts as float, NaN where -1."""
    if name in COUNTS:
        return np.where(values == COUNT_FILL, np.nan, values.astype(np.float64))
    return values


def _encoding(name: str) -> dict[str, Any]:
    return {"_FillValue": COUNT_FILL} if name in COUNTS else {}


def _variable_attrs(name: str) -> dict[str, str]:
    attrs = {"long_name": LONG_NAMES[name]}
    if name in VARIABLE_UNITS:
        attrs["units"] = VARIABLE_UNITS[name]
    return attrs


def _coords(plan: SweepPlan) -> dict[str, Any]:
    return {axis.param: (axis.param, axis.values,
                         {"units": UNITS[axis.param], "long_name": _long_name(axis.param),
                          "preset_value": _own(plan, axis.param)})
            for axis in plan.axes}


def _long_name(param: str) -> str:
    if param == INPUT_SCALE:
        return "factor on every input amplitude"
    if param in INITIAL_PARAMS:
        return f"initial value of {param.removeprefix('initial.')}"
    return next(p.meaning for p in PARAMETERS if p.name == param)


def _own(plan: SweepPlan, param: str) -> float:
    from gifcli.explore.sweep import own_value

    return own_value(plan.preset, param)


def identity(plan: SweepPlan) -> dict[str, Any]:
    """What makes two stores the same sweep: the preset's numbers, the method and dt, the
    grid (names, sizes and a hash of the values), the chunks and the version."""
    preset = plan.preset
    return {
        "preset": preset.name,
        "params": dict(preset.params),
        "initial": dict(preset.initial_given),
        "input": [list(segment) for segment in preset.segments],
        "check": preset.check,
        "method": plan.method,
        "dt": plan.dt,
        "axes": [axis.param for axis in plan.axes],
        "shape": list(plan.shape),
        "values_sha256": [hashlib.sha256(np.ascontiguousarray(axis.values, "<f8").tobytes())
                          .hexdigest() for axis in plan.axes],
        "chunk_shape": list(plan.chunks.chunk_shape),
        "version": __version__,
    }


def attributes(plan: SweepPlan, command: str) -> dict[str, Any]:
    """The Dataset's attributes (strings and numbers only, as NetCDF allows)."""
    preset = plan.preset
    return {
        "title": f"gifcli sweep of {preset.name}: " + " × ".join(a.param for a in plan.axes),
        "preset": preset.name,
        "preset_title": preset.title,
        "source": preset.source,
        "check": preset.check or "",
        "method": plan.method,
        "dt_ms": plan.dt,
        "duration_ms": preset.duration,
        "overrides": json.dumps(preset.overrides),
        "command": command,
        "version": __version__,
        "gifcli_sweep": json.dumps(identity(plan)),
    }


def dataset(result: SweepResult, plan: SweepPlan, command: str):
    """The whole sweep as an in-memory xarray Dataset (grids of up to MAX_POINTS points)."""
    import xarray as xr

    chunk = ChunkResult(result.columns, result.status, result.passed, result.margin, {})
    dims = [axis.param for axis in plan.axes]
    data = {name: (dims, encoded(chunk, name).reshape(plan.shape), _variable_attrs(name))
            for name in variables(plan.checked)}
    ds = xr.Dataset(data, coords=_coords(plan), attrs=attributes(plan, command))
    for name in variables(plan.checked):
        ds[name].encoding.update(_encoding(name))
    return ds


def netcdf_bytes(result: SweepResult, plan: SweepPlan, command: str) -> bytes:
    """The sweep as a NetCDF-4 file, in memory (h5netcdf)."""
    return bytes(dataset(result, plan, command).to_netcdf(engine="h5netcdf"))


# --- the zarr store -------------------------------------------------------------------------


@dataclass(frozen=True)
class Store:
    """A sweep's zarr store at ``path`` (a folder that every worker reaches)."""

    path: Path

    @classmethod
    def prepare(cls, path: Path, plan: SweepPlan, command: str, resume: bool) -> Store:
        """The store for ``plan``: created, or the existing one of the same sweep (its
        marks kept with ``resume``, cleared without). Another sweep's store is refused."""
        store = cls(Path(path).absolute())
        if not store.path.exists():
            store._create(plan, command)
            return store
        found = store._identity()
        if found is None:
            raise GifError(f"{path} exists and is not a gifcli sweep store; it is not "
                           "overwritten: remove it or choose another --out")
        difference = _difference(found, identity(plan))
        if difference:
            raise GifError(f"{path} holds {difference}; it is not overwritten: remove it, "
                           "choose another --out, or run the same sweep")
        store._remove_partial_files()
        if not resume:
            store._set_attrs(command=command, complete=False)
            store._group()[f"{PROGRESS_GROUP}/done"][:] = 0
        return store

    def _create(self, plan: SweepPlan, command: str) -> None:
        import dask.array as da
        import xarray as xr
        import zarr

        dims = [axis.param for axis in plan.axes]
        shape, chunk_shape = plan.shape, plan.chunks.chunk_shape
        data = {name: (dims, da.full(shape, _fill(name), chunks=chunk_shape,
                                     dtype=_dtype(name)), _variable_attrs(name))
                for name in variables(plan.checked)}
        ds = xr.Dataset(data, coords=_coords(plan),
                        attrs=attributes(plan, command) | {"complete": False})
        encoding = {name: _encoding(name) for name in variables(plan.checked)}
        try:
            # compute=False: the metadata and coordinates now, no variable data at all.
            ds.to_zarr(self.path, mode="w-", compute=False, encoding=encoding, zarr_format=2,
                       consolidated=True)
        except OSError as error:
            raise GifError(f"cannot create {self.path} ({error.strerror or error})") from None
        progress = zarr.open_group(self.path, mode="r+").create_group(PROGRESS_GROUP)
        n = plan.chunks.count
        # One tiny file per chunk, uncompressed: a mark is written whole or not at all.
        progress.create_array("done", shape=(n,), chunks=(1,), dtype="uint8", fill_value=0,
                              compressors=None)
        progress.create_array("stats", shape=(n, len(STATS)), chunks=(1, len(STATS)),
                              dtype="float64", fill_value=np.nan, compressors=None)
        zarr.consolidate_metadata(self.path)

    def _group(self, mode: str = "r+"):
        import zarr

        return zarr.open_group(self.path, mode=mode)

    def _identity(self) -> dict[str, Any] | None:
        import zarr

        try:
            text = self._group("r").attrs.get("gifcli_sweep")
        except (zarr.errors.GroupNotFoundError, OSError, ValueError, KeyError, TypeError):
            return None  # a file, an empty folder, another kind of zarr store
        return json.loads(text) if isinstance(text, str) else None

    def _set_attrs(self, **values: Any) -> None:
        import zarr

        self._group().attrs.update(values)
        zarr.consolidate_metadata(self.path)

    def _remove_partial_files(self) -> None:
        """Temporary files of writes that a killed process left behind."""
        for partial in self.path.rglob("*.partial"):
            with contextlib.suppress(OSError):
                partial.unlink()

    def done(self) -> np.ndarray:
        """Per chunk, whether it is complete (marked)."""
        return self._group("r")[f"{PROGRESS_GROUP}/done"][:].astype(bool)

    def write(self, plan: SweepPlan, k: int, chunk: ChunkResult) -> None:
        """Chunk ``k``'s variables into its region, then its summary, then its mark."""
        group = self._group()
        region = plan.chunks.region(k)
        block = tuple(s.stop - s.start for s in region)
        for name in variables(plan.checked):
            group[name][region] = encoded(chunk, name).reshape(block)
        group[f"{PROGRESS_GROUP}/stats"][k, :] = chunk.stats()
        group[f"{PROGRESS_GROUP}/done"][k] = 1

    def finish(self) -> None:
        """Say that every chunk is complete (after the last one's mark)."""
        self._set_attrs(complete=True)

    def stats(self) -> dict[str, float | None]:
        """The grid's summary, from the chunks' summary rows."""
        return merge_stats(self._group("r")[f"{PROGRESS_GROUP}/stats"][:])

    def read(self, name: str, index: tuple[np.ndarray, ...]) -> np.ndarray:
        """``name`` at the grid points ``index`` (one array of indices per axis, as
        numpy.ix_ takes them), decoded; only the chunks that hold them are read."""
        array = self._group("r")[name]
        return decoded(name, array.get_orthogonal_selection(tuple(np.asarray(i) for i in index)))

    def load(self, plan: SweepPlan, seconds: dict[str, float], chunks: dict[str, Any]
             ) -> SweepResult:
        """The whole sweep back in memory (for grids of up to MAX_POINTS points)."""
        group = self._group("r")
        columns = {name: decoded(name, group[name][...]).ravel() for name in METRICS}
        failed = ~np.isfinite(columns["n_spikes"])
        from gifcli.simulation.batch import TOO_MANY_SPIKES

        status = np.where(failed, TOO_MANY_SPIKES, 0).astype(np.int8)
        passed = group["check_passed"][...].ravel() if plan.checked else None
        margin = group["check_margin"][...].ravel() if plan.checked else None
        wanted = sampled_points(plan.axes)
        return SweepResult(plan.preset, plan.method, plan.dt, plan.axes, columns, status,
                           passed, margin, samples=plan.trains(wanted) if wanted.size else {},
                           notes=grid_notes(plan, int(failed.sum())), seconds=seconds,
                           chunks=chunks, plan=plan)


def _difference(found: dict[str, Any], wanted: dict[str, Any]) -> str | None:
    """How the sweep in a store differs from this one, in words (None if it does not)."""
    if found.get("preset") != wanted["preset"]:
        return f"a sweep of another preset ({found.get('preset')}, not {wanted['preset']})"
    for key, what in (("params", "parameters"), ("initial", "initial values"),
                      ("input", "input"), ("check", "check")):
        if found.get(key) != wanted[key]:
            return f"a sweep of {wanted['preset']} with other {what}"
    if (found.get("method"), found.get("dt")) != (wanted["method"], wanted["dt"]):
        return (f"a sweep with method {found.get('method')}, dt = {found.get('dt')} ms (this "
                f"one: {wanted['method']}, dt = {wanted['dt']} ms)")
    for key in ("axes", "shape", "values_sha256"):
        if found.get(key) != wanted[key]:
            there = " × ".join(f"{n} {a}" for a, n in zip(found.get("axes", []),
                                                           found.get("shape", []),
                                                           strict=False))
            return f"a sweep of another grid ({there or 'unknown'})"
    if found.get("chunk_shape") != wanted["chunk_shape"]:
        points = math.prod(found.get("chunk_shape") or [0])
        return (f"a sweep in other chunks ({points:,} points each; give the same "
                "--chunk-points)")
    if found.get("version") != wanted["version"]:
        return f"a sweep made by gifcli {found.get('version')} (this is {wanted['version']})"
    return None


# --- a sweep too big to hold --------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class StoredSweep:
    """A finished sweep that stays in its store: its plan, its summary and how it ran."""

    plan: SweepPlan
    store: Store
    stats: dict[str, float | None]
    seconds: dict[str, float]
    chunks: dict[str, Any]

    @property
    def notes(self) -> tuple[str, ...]:
        return grid_notes(self.plan, int(self.stats["failed"] or 0))

    def view(self, metric: str) -> GridView:
        """What the sweep's figure draws, read from the store (only those points)."""
        plan = self.plan
        wanted = sampled_points(plan.axes)
        return grid_view(plan.preset, plan.method, plan.dt, plan.axes, self.store.read, metric,
                         plan.trains(wanted) if wanted.size else {}, plan.checked)


def chunk_to_store(plan: SweepPlan, k: int, store: Store) -> tuple[np.ndarray, dict]:
    """Compute chunk ``k`` and write it into ``store`` (what a worker runs): the chunk's
    STATS row, and the seconds of its stages."""
    chunk = plan.compute(k)
    started = time.perf_counter()
    store.write(plan, k, chunk)
    return chunk.stats(), chunk.seconds | {"write": time.perf_counter() - started}


def run_into_store(plan: SweepPlan, path: Path, command: str, resume: bool = False,
                   progress: ChunkProgress = no_chunk_progress, executor=None
                   ) -> StoredSweep:
    """Fill the zarr store at ``path`` with ``plan``'s chunks, in this process or on
    ``executor`` (a :class:`gifcli.explore.cluster.Cluster`), each chunk written as soon as it is
    done. With ``resume``, the chunks that the store marks as complete are kept."""
    store = Store.prepare(path, plan, command, resume)
    pending = np.flatnonzero(~store.done()).tolist()
    count = plan.chunks.count
    finished = count - len(pending)
    seconds: dict[str, float] = {"simulate": 0.0, "check": 0.0, "write": 0.0}

    def record(_k: int, outcome: tuple[np.ndarray, dict]) -> None:
        nonlocal finished
        for stage, value in outcome[1].items():
            seconds[stage] += value
        finished += 1
        progress(finished, count)

    progress(finished, count)
    started = time.perf_counter()
    if executor is None:
        for k in pending:
            record(k, chunk_to_store(plan, k, store))
    else:
        executor.run(chunk_to_store, plan, pending, (store,), record)
    seconds["chunks_wall"] = time.perf_counter() - started
    store.finish()
    chunks = {"count": count, "computed": len(pending), "reused": count - len(pending),
              "points": math.prod(plan.chunks.chunk_shape)}
    return StoredSweep(plan, store, store.stats(), seconds, chunks)
