"""A damaged, read-only or full store: one sentence and exit 2, never an internal error; and
--resume trusts a chunk's data, not only its mark (docs/sweeps.md, "Faults and --resume")."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

xr = pytest.importorskip("xarray")
zarr = pytest.importorskip("zarr")

STORE = "tonic_spiking_sweep_a.zarr"
SWEEP = ["sweep", "A", "-p", "a=0:0.01:40", "--chunk-points", "10", "-f", "zarr", "-q"]


def gif(*args: str) -> int:
    """``gif ARGS...`` in this process, as the console script runs it; its exit code."""
    from gifcli import cli

    return cli.run(list(args))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """A sweep's store computed in one uninterrupted run (4 chunks of 10 points)."""
    out = tmp_path_factory.mktemp("reference")
    assert gif(*SWEEP, "--out", str(out)) == 0
    return out / STORE


@pytest.fixture()
def copy(reference: Path, tmp_path: Path) -> Path:
    """A copy of the reference run's --out folder, to damage."""
    shutil.copytree(reference.parent, tmp_path / "out")
    return tmp_path / "out"


def grid(store: Path):
    ds = xr.open_zarr(store).load()
    ds.attrs.pop("command")
    return ds


def refused(capsys, code: int, store: Path, *said: str) -> str:
    """The one line of a refusal (exit 2) that names ``store``."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("gif: error: "), lines
    assert str(store) in lines[0] and all(part in lines[0] for part in said), lines[0]
    return lines[0]


def set_identity(store: Path, text: str) -> None:
    group = zarr.open_group(store, mode="r+")
    group.attrs["gifcli_sweep"] = text
    zarr.consolidate_metadata(store)


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:5])


DAMAGES = {
    "a truncated chunk of a variable": lambda s: truncate(s / "n_spikes" / "1"),
    "no progress group": lambda s: shutil.rmtree(s / "gifcli_chunks"),
    "an identity that is not JSON": lambda s: set_identity(s, "{not json"),
    "an identity that is not a mapping": lambda s: set_identity(s, "[1, 2]"),
    "a deleted variable": lambda s: shutil.rmtree(s / "n_spikes"),
    "no .zattrs": lambda s: (s / ".zattrs").unlink(),
}
# What a fresh run (without --resume) can do with the store: compute it again, or refuse it.
FRESH_RECOMPUTES = {"a truncated chunk of a variable"}


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("resume", [True, False], ids=["resume", "fresh"])
def test_a_damaged_store_is_one_sentence_and_exit_2(copy, reference, capsys, damage, resume):
    store = copy / STORE
    DAMAGES[damage](store)
    code = gif(*SWEEP, "--out", str(copy), *(["--resume"] if resume else []))
    if not resume and damage in FRESH_RECOMPUTES:
        assert code == 0
        assert grid(store).identical(grid(reference))
        return
    refused(capsys, code, store, "remove it or choose another --out")


@pytest.mark.parametrize("damage", [
    lambda s: (s / "rate_hz" / "2").unlink(),      # a chunk file deleted
    lambda s: truncate(s / "status" / "1"),         # a chunk's status cut short
    lambda s: (s / "check_margin" / "0").unlink(),  # a variable that may be all fill
], ids=["deleted", "truncated status", "deleted margin"])
def test_resume_recomputes_a_marked_chunk_whose_data_is_gone(copy, reference, monkeypatch,
                                                             damage):
    store = copy / STORE
    damage(store)
    resuming = [*SWEEP, "--out", str(copy), "--resume"]
    monkeypatch.setattr("sys.argv", ["gif", *resuming])  # what the command attribute records
    assert gif(*resuming) == 0
    assert grid(store).identical(grid(reference))
    assert zarr.open_group(store, mode="r").attrs["command"].endswith(" --resume")


def test_every_chunk_of_every_variable_is_a_file(reference):
    """Even a chunk all at the fill value: that is how --resume sees one deleted."""
    for name in ("n_spikes", "check_margin", "check_passed", "status", "isi_cv"):
        assert sorted(p.name for p in (reference / name).iterdir()
                      if not p.name.startswith(".")) == ["0", "1", "2", "3"], name


def failing_writes(monkeypatch, error: int, where=lambda path: True) -> None:
    """Every file that zarr writes where ``where(path)`` fails with OSError ``error``."""
    from zarr.storage import _local

    put = _local._put

    def failing(path: Path, *args, **kwargs):
        if where(Path(path)):
            raise OSError(error, __import__("os").strerror(error), str(path))
        return put(path, *args, **kwargs)

    monkeypatch.setattr(_local, "_put", failing)


@pytest.mark.parametrize("error", [errno.EACCES, errno.EROFS])
def test_a_store_that_cannot_be_written_is_one_sentence(copy, capsys, monkeypatch, error):
    # chmod cannot stop root (the tests may run as root): the file system's error, simulated.
    store = copy / STORE
    zarr.open_group(store, mode="r+")["gifcli_chunks/done"][2] = 0
    failing_writes(monkeypatch, error)
    code = gif(*SWEEP, "--out", str(copy), "--resume")
    refused(capsys, code, store, "cannot write", "make it writable or choose another --out")


@pytest.mark.parametrize("resume", [True, False], ids=["resume", "fresh"])
def test_a_full_disk_mid_sweep_keeps_the_marked_chunks(copy, reference, capsys, monkeypatch,
                                                       resume):
    store = copy / STORE
    if resume:
        zarr.open_group(store, mode="r+")["gifcli_chunks/done"][2:] = 0
    failing_writes(monkeypatch, errno.ENOSPC, lambda path: path.parts[-2:] == ("rate_hz", "3"))
    code = gif(*SWEEP, "--out", str(copy), *(["--resume"] if resume else []))
    refused(capsys, code, store, "the disk of", "is full: 3 of 4 chunks are in",
            "--resume computes the rest once space is free")
    monkeypatch.undo()
    assert gif(*SWEEP, "--out", str(copy), "--resume") == 0
    assert grid(store).identical(grid(reference))


def test_a_full_disk_while_the_store_is_created_leaves_nothing(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    failing_writes(monkeypatch, errno.ENOSPC, lambda path: path.name == ".zarray")
    code = gif(*SWEEP, "--out", str(out))
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1, lines
    assert f"cannot create {out / STORE} (No space left on device)" in lines[0]
    assert [p.name for p in out.iterdir()] == []  # no half-made store, no temporary folder


def make_older(store: Path) -> None:
    """``store`` as gifcli wrote it before the status variable: no format attribute."""
    progress = zarr.open_group(store, mode="r+")["gifcli_chunks"]
    if "format" in progress.attrs:
        del progress.attrs["format"]
    shutil.rmtree(store / "status")
    zarr.consolidate_metadata(store)


def test_an_older_store_is_not_resumed_and_a_fresh_run_computes_it_again(copy, reference,
                                                                         capsys):
    from gifcli.files.store import STORE_FORMAT

    store = copy / STORE
    make_older(store)
    code = gif(*SWEEP, "--out", str(copy), "--resume")
    refused(capsys, code, store, "was written by an earlier gifcli (store format 1, now "
            f"{STORE_FORMAT}) and cannot be resumed",
            "run the same command without --resume to compute it again")
    assert not (store / "status").exists()  # left as it was
    assert gif(*SWEEP, "--out", str(copy)) == 0
    assert grid(store).identical(grid(reference))
    assert zarr.open_group(store, mode="r")["gifcli_chunks"].attrs["format"] == STORE_FORMAT
    assert sorted(p.name for p in copy.iterdir()) == sorted(p.name for p in reference.parent
                                                            .iterdir())  # nothing left aside


# --- a bug is not a damaged store ------------------------------------------------------------


def broken(*_args, **_kwargs):
    raise KeyError("a bug in gif's own code")


@pytest.mark.parametrize("function, call", [
    ("merge_stats", lambda store, plan: store.stats()),
    ("decoded", lambda store, plan: store.read("rate_hz", ([0, 1],))),
    ("decoded", lambda store, plan: store.load(plan, {}, {})),
    ("encoded", lambda store, plan: store.write(plan, 0, plan.compute(0))),
    ("_difference", lambda store, plan: type(store).prepare(store.path, plan, "cmd", True)),
])
def test_a_programming_error_inside_the_store_is_not_reported_as_damage(
        tmp_path, monkeypatch, function, call):
    """Only zarr's reads and writes of the store's files are said as "damaged": a KeyError
    or ValueError of gif's own code around them is a bug, and stays one (exit 3)."""
    import numpy as np

    from gifcli.explore.sweep import Axis, plan_sweep
    from gifcli.files import store as sweep_store
    from gifcli.model.preset import resolve

    plan = plan_sweep(resolve("tonic_bursting"), [Axis("a", np.array([0.0, 0.01]))],
                      chunk_points=2, stored=True)
    store = sweep_store.run_into_store(plan, tmp_path / "s.zarr", "cmd").store
    monkeypatch.setattr(sweep_store, function, broken)
    with pytest.raises(KeyError, match="a bug in gif's own code"):
        call(store, plan)


# --- chunks too big for memory ---------------------------------------------------------------


def test_a_chunk_too_big_for_the_free_memory_is_refused_before_anything_is_written(
        tmp_path, capsys, monkeypatch):
    from gifcli.files import store as sweep_store
    from gifcli.simulation import single

    monkeypatch.setattr(single, "available_memory", lambda: 10**9)
    big = ["sweep", "A", "-p", "a=0:0.01:2000", "-p", "b=0.01:1:1000", "-f", "zarr", "-q",
           "--chunk-points", "2000000", "--out", str(tmp_path / "out")]
    code = gif(*big)
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1, lines
    points_gb = 2_000_000 * sweep_store.CHUNK_BYTES_PER_POINT / 1e9
    assert (f"a chunk of 2,000,000 points needs about {points_gb:.1f} GB of memory, and 1.0 "
            "GB is free; lower --chunk-points") in lines[0]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_chunk_that_runs_out_of_memory_is_one_sentence(copy, capsys, monkeypatch):
    from gifcli.explore.sweep import SweepPlan

    compute = SweepPlan.compute

    def out_of_memory(self, k):  # chunk 3 of the sweep; the warm-up's own plan runs as ever
        if k == 3:
            raise MemoryError("Unable to allocate 95.4 MiB for an array")
        return compute(self, k)

    monkeypatch.setattr(SweepPlan, "compute", out_of_memory)
    store = copy / STORE
    zarr.open_group(store, mode="r+")["gifcli_chunks/done"][3] = 0
    code = gif(*SWEEP, "--out", str(copy), "--resume")
    refused(capsys, code, store, "a chunk of 10 points ran out of memory; lower --chunk-points, "
            "with another --out or after removing")


@pytest.mark.parametrize("resume", [True, False], ids=["resume", "fresh"])
def test_a_store_of_a_later_format_is_refused_not_overwritten(copy, capsys, resume):
    from gifcli.files.store import STORE_FORMAT

    store = copy / STORE
    progress = zarr.open_group(store, mode="r+")["gifcli_chunks"]
    progress.attrs["format"] = STORE_FORMAT + 1
    zarr.consolidate_metadata(store)
    code = gif(*SWEEP, "--out", str(copy), *(["--resume"] if resume else []))
    refused(capsys, code, store, f"was written by a later gifcli (store format "
            f"{STORE_FORMAT + 1}, this one writes {STORE_FORMAT}); it is not overwritten")
    assert (store / "n_spikes" / "0").is_file()
