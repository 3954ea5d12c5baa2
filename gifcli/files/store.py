"""A sweep as a labelled grid: an xarray Dataset, written as a zarr store or a NetCDF file.

The grid has one dimension per swept quantity, named after it, with its values as the
coordinate (and its unit); one variable per result column (``n_spikes``, ``rate_hz``,
``first_spike_ms``, ``isi_cv``, ``n_bursts`` and, with a check, ``check_passed`` and
``check_margin``, then ``status``); the preset, method, dt, overrides, command line and
version as attributes. The counts are 32-bit integers with -1 as their fill value (xarray
reads them as floats with NaN there): a point that fired without end or overflowed, like an
unfinished chunk, has none.

A zarr store is filled chunk by chunk (one zarr chunk per chunk of :class:`gifcli.explore.sweep.
Chunks`), by whichever process computed it, so the grid is never held in one place. After
a chunk's variables, that process writes the chunk's summary row and sets its mark in the
``gifcli_chunks`` group (which xarray does not read); only marked chunks count, so a store
cut short (Ctrl-C, a killed worker) is valid as far as it is marked, and ``--resume``
computes the rest. Zarr writes every chunk to a temporary file and renames it, so a chunk is
whole or absent. A store is only reused for the same sweep (preset, method, dt, grid, chunks
and version); anything else is refused, never overwritten.

Needs the ``cluster`` extra (xarray, zarr, dask; h5netcdf for NetCDF): :func:`require`
says so in one sentence when it is missing. The Dataset itself, in memory, is built by
:mod:`gifcli.explore.sweep.dataset` (``SweepResult.to_xarray()`` returns the same one).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import math
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gifcli.core.errors import GifError
from gifcli.core.extras import require_extra
from gifcli.explore.sweep import (
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
    sample_trains,
)
from gifcli.explore.sweep.dataset import (
    attributes,
    coords,
    dataset,
    decoded,
    encoded,
    fill_value,
    identity,
    variable_attrs,
    variable_dtype,
    variable_encoding,
    variables,
)
from gifcli.simulation.batch import OVERFLOWED, TOO_MANY_SPIKES

EXTRA = "cluster"
# gifcli is not on the package index: the extra comes from the project's own folder.
PROGRESS_GROUP = "gifcli_chunks"  # the chunks' marks and summaries, beside the Dataset
STALE_PARTIAL_S = 60.0  # a zarr write's temporary file is renamed within milliseconds
MAX_CHUNKS = 100_000  # chunks of a store: each is a mark, a summary row and a file per variable


def require(what: str, netcdf: bool = False) -> None:
    """GifError unless the ``cluster`` extra is installed (``what`` names the feature)."""
    modules = ["xarray", "zarr", "dask", "distributed"] + (["h5netcdf", "h5py"] if netcdf
                                                           else [])
    require_extra(what, EXTRA, modules)


def netcdf_bytes(result: SweepResult, plan: SweepPlan, command: str) -> bytes:
    """The sweep as a NetCDF-4 file, in memory (h5netcdf)."""
    return bytes(dataset(result, plan, command).to_netcdf(engine="h5netcdf"))


# --- the zarr store -------------------------------------------------------------------------


class StoreChanged(GifError):
    """The store a chunk was planned for is no longer at its path (another run took it)."""


class StoreDamaged(GifError):
    """A store whose files cannot be read as the sweep they should hold."""


class StoreFull(GifError):
    """The disk filled while a chunk was written: the marked chunks are kept."""


NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)
# What zarr, numcodecs and json raise for a missing, truncated or malformed file.
DAMAGE = (OSError, KeyError, ValueError, RuntimeError)


def _guarded(method):
    """``method`` of a Store, with a store that cannot be read or written said in one sentence
    (a GifError) instead of zarr's exception."""

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except GifError:
            raise
        except DAMAGE as error:
            raise store_error(self.path, error) from None

    return guarded


def store_error(path: Path, error: BaseException) -> GifError:
    """The sentence for ``error`` raised while ``path`` was read or written."""
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return StoreFull(f"the disk of {path} is full")
    if isinstance(error, OSError) and error.errno in NOT_WRITABLE:
        return GifError(f"cannot write {path} ({error.strerror}); make it writable or "
                        "choose another --out")
    reason = ((error.strerror if isinstance(error, OSError) else None)
              or (str(error.args[0]) if error.args else "") or type(error).__name__)
    if isinstance(error, KeyError) and " " not in reason:
        reason = f"{reason} is missing"
    reason = reason.strip().splitlines()[0]
    return StoreDamaged(f"{path} is damaged ({reason}); remove it or choose another --out")


@dataclass(frozen=True)
class Store:
    """A sweep's zarr store at ``path`` (a folder that every worker reaches).

    ``token`` names the run that prepared it: each :meth:`prepare` writes a new one into
    the store, and a worker writes a chunk only while the store still carries its run's
    token. A chunk that outlives its run (Ctrl-C cannot stop one already running on a
    worker) then finds another token, or another sweep, and writes nothing.
    """

    path: Path
    token: str = ""

    @classmethod
    def prepare(cls, path: Path, plan: SweepPlan, command: str, resume: bool) -> Store:
        """The store for ``plan``: created, or the existing one of the same sweep (its
        marks kept with ``resume``, cleared without). Another sweep's store is refused."""
        return cls(Path(path).absolute(), uuid.uuid4().hex)._prepare(path, plan, command, resume)

    @_guarded
    def _prepare(self, path: Path, plan: SweepPlan, command: str, resume: bool) -> Store:
        if resume:
            check_resumable(path)
        if not self.path.exists():
            self._create(plan, command)
            return self
        found = self._identity()
        if found is None:
            raise GifError(f"{path} exists and is not a gifcli sweep store; it is not "
                           "overwritten: remove it or choose another --out")
        difference = _difference(found, identity(plan))
        if difference:
            raise GifError(f"{path} holds {difference}; it is not overwritten: remove it, "
                           "choose another --out, or run the same sweep")
        self._remove_partial_files()
        self._set_attrs(PROGRESS_GROUP, run=self.token)
        # `command` names the latest run that wrote the store, a resumed one too.
        self._set_attrs(command=command, **({} if resume else {"complete": False}))
        if not resume:
            self._group()[f"{PROGRESS_GROUP}/done"][:] = 0
        return self

    def _create(self, plan: SweepPlan, command: str) -> None:
        """The empty store, built in a temporary folder beside ``path`` and renamed into
        place: an interruption or a full disk leaves no half-made store behind."""
        if plan.chunks.count > MAX_CHUNKS:
            raise GifError(f"{plan.chunks.count:,} chunks are more than a store holds "
                           f"({MAX_CHUNKS:,}: a few files each); raise --chunk-points")
        building = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            _write_empty(building, plan, command, self.token)
            os.rename(building, self.path)
        except OSError as error:
            raise GifError(f"cannot create {self.path} ({error.strerror or error})") from None
        finally:
            shutil.rmtree(building, ignore_errors=True)  # gone already after the rename

    def _group(self, mode: str = "r+"):
        import zarr

        return zarr.open_group(self.path, mode=mode)

    def _identity(self) -> dict[str, Any] | None:
        import zarr

        try:
            text = self._group("r").attrs.get("gifcli_sweep")
        except (zarr.errors.GroupNotFoundError, OSError, ValueError, KeyError, TypeError):
            return None  # a file, an empty folder, another kind of zarr store
        if not isinstance(text, str):
            return None
        try:
            found = json.loads(text)
        except ValueError:
            found = None
        if not isinstance(found, dict):
            raise StoreDamaged(f"{self.path} is damaged (its gifcli_sweep attribute is not a "
                               "JSON mapping); remove it or choose another --out")
        return found

    def _set_attrs(self, group: str | None = None, **values: Any) -> None:
        """Attributes of the store (or of one of its groups), and the metadata reconsolidated."""
        import zarr

        root = self._group()
        (root[group] if group else root).attrs.update(values)
        zarr.consolidate_metadata(self.path)

    def _remove_partial_files(self) -> None:
        """Temporary files of writes that a killed process left behind. A live writer's
        are a few milliseconds old: only those older than STALE_PARTIAL_S go."""
        now = time.time()
        for partial in self.path.rglob("*.partial"):
            with contextlib.suppress(OSError):
                if now - partial.stat().st_mtime > STALE_PARTIAL_S:
                    partial.unlink()

    @_guarded
    def done(self) -> np.ndarray:
        """Per chunk, whether it is complete (marked)."""
        return self._group("r")[f"{PROGRESS_GROUP}/done"][:].astype(bool)

    @_guarded
    def complete_chunks(self, plan: SweepPlan) -> np.ndarray:
        """Per chunk, whether it is marked and its data is there. A mark alone is not
        trusted: a chunk file may have been deleted or cut short since it was set."""
        done = self.done()
        status = self._group("r")["status"]
        for k in np.flatnonzero(done):
            done[k] = self._chunk_present(plan, int(k), status)
        return done

    def _chunk_present(self, plan: SweepPlan, k: int, status: Any) -> bool:
        """Whether chunk ``k`` has a file in every variable and a status at every point
        (a computed point never has the fill value there)."""
        region = plan.chunks.region(k)
        key = ".".join(str(s.start // c) for s, c in zip(region, plan.chunks.chunk_shape,
                                                          strict=True))
        if not all((self.path / name / key).is_file() for name in variables(plan.checked)):
            return False
        try:
            return not np.any(status[region] == fill_value("status"))
        except DAMAGE:  # a file cut short
            return False

    @_guarded
    def write(self, plan: SweepPlan, k: int, chunk: ChunkResult) -> None:
        """Chunk ``k``'s variables into its region, then its summary, then its mark, each
        only while the store is still this run's (StoreChanged otherwise)."""
        region = plan.chunks.region(k)
        block = tuple(s.stop - s.start for s in region)
        for name in variables(plan.checked):
            # Every chunk a file, even one all at the fill value: --resume checks they are there.
            array = self._still_ours(plan, k)[name].with_config({"write_empty_chunks": True})
            array[region] = encoded(chunk, name).reshape(block)
        self._still_ours(plan, k)[f"{PROGRESS_GROUP}/stats"][k, :] = chunk.stats()
        self._still_ours(plan, k)[f"{PROGRESS_GROUP}/done"][k] = 1

    def _still_ours(self, plan: SweepPlan, k: int):
        """The store's group, if it still holds this sweep for this run."""
        import zarr

        try:
            group = zarr.open_group(self.path, mode="r+", use_consolidated=False)
            found = group[PROGRESS_GROUP].attrs.get("run"), group.attrs.get("gifcli_sweep")
        except (zarr.errors.GroupNotFoundError, OSError, ValueError, KeyError) as error:
            raise StoreChanged(f"chunk {k} not written: {self.path} is gone ({error})") from None
        if found[0] != self.token or found[1] != json.dumps(identity(plan)):
            raise StoreChanged(f"chunk {k} not written: {self.path} now belongs to another "
                               "run of gif sweep")
        return group

    @_guarded
    def finish(self) -> None:
        """Say that every chunk is complete (after the last one's mark)."""
        self._set_attrs(complete=True)

    @_guarded
    def stats(self) -> dict[str, float | None]:
        """The grid's summary, from the chunks' summary rows."""
        return merge_stats(self._group("r")[f"{PROGRESS_GROUP}/stats"][:])

    @_guarded
    def read(self, name: str, index: tuple[np.ndarray, ...]) -> np.ndarray:
        """``name`` at the grid points ``index`` (one array of indices per axis, as
        numpy.ix_ takes them), decoded; only the chunks that hold them are read."""
        array = self._group("r")[name]
        return decoded(name, array.get_orthogonal_selection(tuple(np.asarray(i) for i in index)))

    @_guarded
    def load(self, plan: SweepPlan, seconds: dict[str, float], chunks: dict[str, Any]
             ) -> SweepResult:
        """The whole sweep back in memory (for grids of up to MAX_POINTS points)."""
        group = self._group("r")
        columns = {name: decoded(name, group[name][...]).ravel() for name in METRICS}
        status = group["status"][...].ravel().astype(np.int8)
        passed = group["check_passed"][...].ravel() if plan.checked else None
        margin = group["check_margin"][...].ravel() if plan.checked else None
        return SweepResult(plan.preset, plan.method, plan.dt, plan.axes, columns, status,
                           passed, margin,
                           samples=sample_trains(plan, lambda points: status[points]),
                           notes=grid_notes(plan, int(np.count_nonzero(status == TOO_MANY_SPIKES)),
                                            int(np.count_nonzero(status == OVERFLOWED))),
                           seconds=seconds,
                           chunks=chunks, plan=plan)


def _write_empty(path: Path, plan: SweepPlan, command: str, token: str) -> None:
    """A complete store at ``path`` with every variable at its fill value (no data files)."""
    import dask.array as da
    import xarray as xr
    import zarr

    dims = [axis.param for axis in plan.axes]
    # One dask chunk per variable, whatever the store's chunks: the graph stays tiny, and
    # compute=False writes the metadata and coordinates only.
    data = {name: (dims, da.full(plan.shape, fill_value(name), chunks=plan.shape,
                                 dtype=variable_dtype(name)), variable_attrs(name))
            for name in variables(plan.checked)}
    ds = xr.Dataset(data, coords=coords(plan),
                    attrs=attributes(plan, command) | {"complete": False})
    encoding = {name: variable_encoding(name) | {"chunks": plan.chunks.chunk_shape}
                for name in variables(plan.checked)}
    ds.to_zarr(path, mode="w-", compute=False, encoding=encoding, zarr_format=2,
               consolidated=True, safe_chunks=False)
    progress = zarr.open_group(path, mode="r+").create_group(PROGRESS_GROUP)
    progress.attrs["run"] = token  # bookkeeping, like the marks: not the data's metadata
    n = plan.chunks.count
    # One tiny file per chunk, uncompressed: a mark is written whole or not at all.
    progress.create_array("done", shape=(n,), chunks=(1,), dtype="uint8", fill_value=0,
                          compressors=None)
    progress.create_array("stats", shape=(n, len(STATS)), chunks=(1, len(STATS)),
                          dtype="float64", fill_value=np.nan, compressors=None)
    zarr.consolidate_metadata(path)


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
        return grid_notes(self.plan, int(self.stats["failed"] or 0),
                          int(self.stats["overflowed"] or 0))

    def view(self, metric: str) -> GridView:
        """What the sweep's figure draws, read from the store (only those points)."""
        plan = self.plan
        samples = sample_trains(plan, lambda points: self.store.read("status", (points,)))
        return grid_view(plan.preset, plan.method, plan.dt, plan.axes, self.store.read, metric,
                         samples, plan.checked)


def chunk_to_store(plan: SweepPlan, k: int, store: Store) -> tuple[np.ndarray, dict]:
    """Compute chunk ``k`` and write it into ``store`` (what a worker runs): the chunk's
    STATS row, and the seconds of its stages."""
    chunk = plan.compute(k)
    started = time.perf_counter()
    store.write(plan, k, chunk)
    return chunk.stats(), chunk.seconds | {"write": time.perf_counter() - started}


def check_resumable(path: Path) -> None:
    """``--resume`` needs something to resume: a mistyped --out would otherwise start the
    whole sweep again, in a new place, silently."""
    if not Path(path).exists():
        raise GifError(f"--resume: there is no store at {path} to resume; run the same "
                       "command without --resume to start the sweep")


def run_into_store(plan: SweepPlan, path: Path, command: str, resume: bool = False,
                   progress: ChunkProgress = no_chunk_progress, executor=None
                   ) -> StoredSweep:
    """Fill the zarr store at ``path`` with ``plan``'s chunks, in this process or on
    ``executor`` (a :class:`gifcli.explore.cluster.Cluster`), each chunk written as soon as it is
    done. With ``resume``, the chunks that the store marks as complete are kept."""
    store = Store.prepare(path, plan, command, resume)
    pending = np.flatnonzero(~store.complete_chunks(plan)).tolist()
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
