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
# A chunk's peak memory per point while it is computed and checked: 190-590 bytes measured
# (tracemalloc, presets A and M, chunks of 2e4-8e4 points); rounded up for spike buffers.
CHUNK_BYTES_PER_POINT = 1000


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
# 1: before the status variable and the run token (no "format" attribute); 2: with them.
STORE_FORMAT = 2


@contextlib.contextmanager
def _files(path: Path):
    """Zarr reading or writing the store's files: a store that cannot be read or written is
    said in one sentence (a GifError). Only around zarr's own calls, so that a bug in gif's
    code is not reported as a damaged store."""
    try:
        yield
    except GifError:
        raise
    except DAMAGE as error:
        raise store_error(path, error) from None


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
        store = cls(Path(path).absolute(), uuid.uuid4().hex)
        if resume:
            check_resumable(path)
        if not store.path.exists():
            store._create(plan, command)
            return store
        with _files(store.path):
            found = store._identity()
        if found is None:
            raise GifError(f"{path} exists and is not a gifcli sweep store; it is not "
                           "overwritten: remove it or choose another --out")
        difference = _difference(found, identity(plan))
        if difference:
            raise GifError(f"{path} holds {difference}; it is not overwritten: remove it, "
                           "choose another --out, or run the same sweep")
        if store._format() != STORE_FORMAT:
            store._replace_older(path, plan, command, resume)
            return store
        store._reuse(command, resume)
        return store

    def _reuse(self, command: str, resume: bool) -> None:
        """This run's token and command in a store of the same sweep; marks cleared unless
        resumed."""
        self._remove_partial_files()
        with _files(self.path):
            self._set_attrs(PROGRESS_GROUP, run=self.token)
            # `command` names the latest run that wrote the store, a resumed one too.
            self._set_attrs(command=command, **({} if resume else {"complete": False}))
            if not resume:
                self._group()[f"{PROGRESS_GROUP}/done"][:] = 0

    def _format(self) -> int:
        """The store's format (STORE_FORMAT when this gifcli made it)."""
        with _files(self.path):
            return self._group("r")[PROGRESS_GROUP].attrs.get("format", 1)

    def _replace_older(self, path: Path, plan: SweepPlan, command: str, resume: bool) -> None:
        """The same sweep in an earlier format: its chunks lack what this gifcli writes (the
        status), so they cannot be resumed; a fresh run computes the store again. A later
        format is refused: this gifcli cannot know what it holds."""
        found = self._format()
        if not isinstance(found, int) or found > STORE_FORMAT:
            raise GifError(f"{path} was written by a later gifcli (store format {found}, this "
                           f"one writes {STORE_FORMAT}); it is not overwritten: remove it or "
                           "choose another --out")
        if resume:
            raise GifError(f"--resume: {path} was written by an earlier gifcli (store format "
                           f"{found}, now {STORE_FORMAT}) and cannot be resumed; "
                           "run the same command without --resume to compute it again")
        self._create(plan, command, replacing=True)

    def _create(self, plan: SweepPlan, command: str, replacing: bool = False) -> None:
        """The empty store, built in a temporary folder beside ``path`` and renamed into
        place: an interruption or a full disk leaves no half-made store behind. With
        ``replacing``, the store at ``path`` is moved aside first and removed after."""
        if plan.chunks.count > MAX_CHUNKS:
            raise GifError(f"{plan.chunks.count:,} chunks are more than a store holds "
                           f"({MAX_CHUNKS:,}: a few files each); raise --chunk-points")
        building = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        older = self.path.with_name(f".{self.path.name}.{os.getpid()}.older")
        try:
            _write_empty(building, plan, command, self.token)
            if replacing:
                os.rename(self.path, older)
            os.rename(building, self.path)
        except OSError as error:
            raise GifError(f"cannot create {self.path} ({error.strerror or error})") from None
        finally:
            shutil.rmtree(building, ignore_errors=True)  # gone already after the rename
            shutil.rmtree(older, ignore_errors=True)

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

    def done(self) -> np.ndarray:
        """Per chunk, whether it is complete (marked)."""
        with _files(self.path):
            return self._group("r")[f"{PROGRESS_GROUP}/done"][:].astype(bool)

    def complete_chunks(self, plan: SweepPlan) -> np.ndarray:
        """Per chunk, whether it is marked and its data is there. A mark alone is not
        trusted: a chunk file may have been deleted or cut short since it was set."""
        done = self.done()
        with _files(self.path):
            group = self._group("r")
            arrays = {name: group[name] for name in variables(plan.checked)}
        for k in np.flatnonzero(done):
            done[k] = self._chunk_present(plan, int(k), arrays)
        return done

    def _chunk_present(self, plan: SweepPlan, k: int, arrays: dict[str, Any]) -> bool:
        """Whether chunk ``k`` has a file in every variable and a status at every point
        (a computed point never has the fill value there)."""
        region = plan.chunks.region(k)
        grid_index = tuple(s.start // c for s, c in zip(region, plan.chunks.chunk_shape,
                                                        strict=True))
        # The file name is zarr's to choose (its chunk key encoding), not ours to guess.
        if not all((self.path / name / array.metadata.encode_chunk_key(grid_index)).is_file()
                   for name, array in arrays.items()):
            return False
        try:
            status = arrays["status"][region]
        except DAMAGE:  # a file cut short
            return False
        return not np.any(status == fill_value("status"))

    def write(self, plan: SweepPlan, k: int, chunk: ChunkResult) -> None:
        """Chunk ``k``'s variables into its region, then its summary, then its mark, each
        only while the store is still this run's (StoreChanged otherwise)."""
        region = plan.chunks.region(k)
        block = tuple(s.stop - s.start for s in region)
        for name in variables(plan.checked):
            values = encoded(chunk, name).reshape(block)
            with _files(self.path):
                # Every chunk a file, even one all at the fill value: --resume checks each.
                array = self._still_ours(plan, k)[name].with_config({"write_empty_chunks": True})
                array[region] = values
        stats = chunk.stats()
        with _files(self.path):
            self._still_ours(plan, k)[f"{PROGRESS_GROUP}/stats"][k, :] = stats
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

    def finish(self) -> None:
        """Say that every chunk is complete (after the last one's mark)."""
        with _files(self.path):
            self._set_attrs(complete=True)

    def stats(self) -> dict[str, float | None]:
        """The grid's summary, from the chunks' summary rows."""
        with _files(self.path):
            rows = self._group("r")[f"{PROGRESS_GROUP}/stats"][:]
        return merge_stats(rows)

    def read(self, name: str, index: tuple[np.ndarray, ...]) -> np.ndarray:
        """``name`` at the grid points ``index`` (one array of indices per axis, as
        numpy.ix_ takes them), decoded; only the chunks that hold them are read."""
        selection = tuple(np.asarray(i) for i in index)
        with _files(self.path):
            values = self._group("r")[name].get_orthogonal_selection(selection)
        return decoded(name, values)

    def load(self, plan: SweepPlan, seconds: dict[str, float], chunks: dict[str, Any]
             ) -> SweepResult:
        """The whole sweep back in memory (for grids of up to MAX_POINTS points)."""
        with _files(self.path):
            group = self._group("r")
            raw = {name: group[name][...].ravel() for name in variables(plan.checked)}
        columns = {name: decoded(name, raw[name]) for name in METRICS}
        status = raw["status"].astype(np.int8)
        passed = raw["check_passed"] if plan.checked else None
        margin = raw["check_margin"] if plan.checked else None
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
    # Bookkeeping, like the marks: not the data's metadata.
    progress.attrs.update(run=token, format=STORE_FORMAT)
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


def check_chunk_memory(plan: SweepPlan, processes: int) -> None:
    """Refuse, before anything is written, chunks that ``processes`` processes of this
    machine cannot compute at once: a chunk's arrays are allocated whole, and an allocation
    beyond the memory free ends in MemoryError or in the kernel killing the process."""
    from gifcli.simulation.single import available_memory

    points = math.prod(plan.chunks.chunk_shape)
    needed, free = processes * points * CHUNK_BYTES_PER_POINT, available_memory()
    if free is not None and needed > free:
        each = f" each, {processes} at once" if processes > 1 else ""
        raise GifError(f"a chunk of {points:,} points needs about {needed / 1e9:.1f} GB of "
                       f"memory{each}, and {free / 1e9:.1f} GB is free; lower --chunk-points")


def _out_of_memory(plan: SweepPlan, path: Path) -> GifError:
    # Other chunks make another sweep, which the store refuses: hence another --out.
    points = math.prod(plan.chunks.chunk_shape)
    return GifError(f"a chunk of {points:,} points ran out of memory; lower --chunk-points, "
                    f"with another --out or after removing {path}")


def run_into_store(plan: SweepPlan, path: Path, command: str, resume: bool = False,
                   progress: ChunkProgress = no_chunk_progress, executor=None
                   ) -> StoredSweep:
    """Fill the zarr store at ``path`` with ``plan``'s chunks, in this process or on
    ``executor`` (a :class:`gifcli.explore.cluster.Cluster`), each chunk written as soon as it is
    done. With ``resume``, the chunks that the store marks as complete are kept."""
    # Workers of an external cluster have memory of their own, which this machine cannot see.
    local = 1 if executor is None else getattr(executor, "workers", None)
    if local:
        check_chunk_memory(plan, local)
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
    try:
        if executor is None:
            for k in pending:
                record(k, chunk_to_store(plan, k, store))
        else:
            executor.run(chunk_to_store, plan, pending, (store,), record)
    except MemoryError:
        raise _out_of_memory(plan, store.path) from None
    seconds["chunks_wall"] = time.perf_counter() - started
    store.finish()
    chunks = {"count": count, "computed": len(pending), "reused": count - len(pending),
              "points": math.prod(plan.chunks.chunk_shape)}
    return StoredSweep(plan, store, store.stats(), seconds, chunks)
