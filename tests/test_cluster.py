"""Sweeps as zarr stores, on Dask workers, interrupted and resumed (loopback only).

The external cluster is a ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1,
started here and stopped by their process ids. Every store is compared with the one an
uninterrupted run in one process writes: every variable, every coordinate, every attribute
(the command line aside, where the runs differ).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from gifcli.explore import sweep
from gifcli.files import store as sweep_store

GIF = str(Path(sys.executable).with_name("gif"))
DASK = str(Path(sys.executable).with_name("dask"))
STEM = "tonic_bursting_sweep_a_A1_A2"
GRID = ["tonic_bursting", "-p", "a=-0.01:0.02:16", "-p", "A1=0:20:6", "-p", "A2=-1,-0.5,0",
        "--chunk-points", "40"]  # 288 points in 8 chunks of 2 × 6 × 3
# A second grid whose chunks take a while, for the tests that stop something in mid-run:
# 8 chunks of 25,000 points, each 2.5e8 neuron-steps (0.1 s on two free cores), unchecked.
SLOW_PRESET = """name: slow
title: One second of bursting
params: {a: 0.005, A1: 10.0, A2: -0.6}
input:
  - {amplitude: 2.0, duration: 1000}
dt: 0.1
"""
SLOW_GRID = ["-p", "a=-0.01:0.01:8", "-p", "A1=5:15:50", "-p", "A2=-1:-0.4:500",
             "--chunk-points", "25000"]
SLOW_CHUNKS = 8


def gif(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([GIF, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def grid(path: Path) -> xr.Dataset:
    with xr.open_zarr(path) as ds:
        return ds.load()


def assert_same_grid(got: xr.Dataset, want: xr.Dataset, command_too: bool = False) -> None:
    """Every variable and coordinate to the bit (NaN where NaN), and the attributes."""
    if not command_too:
        got, want = (d.copy() for d in (got, want))
        for d in (got, want):
            d.attrs.pop("command")
    xr.testing.assert_identical(got, want)
    for name in want.variables:
        np.testing.assert_array_equal(got[name].values, want[name].values)
        assert got[name].dtype == want[name].dtype


def marked(store: Path) -> set[int]:
    """The chunks whose completion mark is on disk."""
    folder = store / sweep_store.PROGRESS_GROUP / "done"
    return {int(p.name) for p in folder.iterdir() if p.name.isdigit()} if folder.exists() \
        else set()


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> xr.Dataset:
    """The 3-D grid from one uninterrupted run in one process."""
    folder = tmp_path_factory.mktemp("reference")
    gif("sweep", *GRID, "--format", "zarr", "--out", "out", "--quiet", cwd=folder)
    return grid(folder / "out" / f"{STEM}.zarr")


@pytest.fixture(scope="module")
def slow(tmp_path_factory) -> tuple[Path, xr.Dataset]:
    """The slow preset's file and its grid from one process."""
    folder = tmp_path_factory.mktemp("slow")
    (folder / "slow.yaml").write_text(SLOW_PRESET)
    gif("sweep", "slow.yaml", *SLOW_GRID, "--format", "zarr", "--out", "out", "--quiet",
        cwd=folder)
    return folder / "slow.yaml", grid(folder / "out" / "slow_sweep_a_A1_A2.zarr")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def dask_processes(n_workers: int):
    """``dask scheduler`` and ``n_workers`` single-threaded ``dask worker`` processes on
    127.0.0.1, stopped by their process ids: (address, the workers' processes)."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port",
                                  str(port), "--no-dashboard"], **quiet)
    workers = [subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--no-nanny",
                                 "--host", "127.0.0.1", "--no-dashboard", "--memory-limit",
                                 "0", "--name", f"worker-{i}"], **quiet)
               for i in range(n_workers)]
    processes = [scheduler, *workers]
    try:
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(n_workers, timeout=60)
        yield address, workers
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="module")
def cluster():
    """A scheduler and two workers for the module's tests."""
    with dask_processes(2) as started:
        yield started


# --- the store --------------------------------------------------------------------------------


def test_the_store_is_a_labelled_grid(reference, tmp_path):
    assert list(reference.dims) == ["a", "A1", "A2"]
    assert reference.sizes == {"a": 16, "A1": 6, "A2": 3}
    assert set(reference.data_vars) == {"n_spikes", "rate_hz", "first_spike_ms", "isi_cv",
                                        "n_bursts", "check_passed", "check_margin", "status"}
    np.testing.assert_array_equal(reference["A2"].values, [-1.0, -0.5, 0.0])
    assert reference["a"].attrs["units"] == "1/ms"
    for key in ("preset", "method", "dt_ms", "overrides", "command", "version"):
        assert key in reference.attrs
    assert reference.attrs["preset"] == "tonic_bursting" and reference.attrs["complete"]
    # the same numbers as the sweep held in memory, point by point
    from gifcli.model.preset import resolve

    axes = [sweep.Axis(name, reference[name].values) for name in ("a", "A1", "A2")]
    result = sweep.run_sweep(resolve("M"), axes)
    for name in sweep.COLUMNS:
        np.testing.assert_array_equal(reference[name].values.ravel(), result.columns[name])
    np.testing.assert_array_equal(reference["check_passed"].values.ravel(), result.passed)
    np.testing.assert_array_equal(reference["check_margin"].values.ravel(), result.margin)


def test_csv_png_json_and_netcdf_beside_the_store(reference, tmp_path):
    done = gif("sweep", *GRID, "--format", "zarr,csv,png,json,nc", "--out", "out", "--json",
               cwd=tmp_path)
    summary = json.loads(done.stdout)
    assert summary["chunks"]["count"] == 8 and summary["chunks"]["computed"] == 8
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{STEM}.{ext}" for ext in ("zarr", "csv", "png", "json", "nc"))
    want = reference.copy()
    del want.attrs["complete"]  # a NetCDF file is whole by construction
    with xr.open_dataset(out / f"{STEM}.nc", engine="h5netcdf") as nc:
        assert_same_grid(nc.load(), want)
    lines = (out / f"{STEM}.csv").read_text().splitlines()
    assert lines[0].startswith("a,A1,A2,n_spikes,") and len(lines) == 289


def test_a_store_of_another_sweep_is_refused_not_overwritten(tmp_path):
    gif("sweep", *GRID, "--format", "zarr", "--out", "out", "--quiet", cwd=tmp_path)
    store = tmp_path / "out" / f"{STEM}.zarr"
    before = {p: p.stat().st_mtime_ns for p in store.rglob("*") if p.is_file()}
    for change, words in ((["--method", "euler"], "with method exact"),
                          (["--set", "b=0.02"], "with other parameters"),
                          (["--chunk-points", "30"], "in other chunks"),
                          (["-p", "a=-0.01:0.02:15"], "another grid")):
        args = [*GRID, *change]
        if change[0] == "-p":  # the first axis replaced
            args = [GRID[0], *change, *GRID[3:]]
        done = gif("sweep", *args, "--format", "zarr", "--out", "out", cwd=tmp_path,
                   check=False)
        assert done.returncode == 2 and words in done.stderr, done.stderr
        assert "not overwritten" in done.stderr and len(done.stderr.splitlines()) == 1
    assert {p: p.stat().st_mtime_ns for p in store.rglob("*") if p.is_file()} == before
    (tmp_path / "out" / "tonic_bursting_sweep_a.zarr").mkdir()  # not a sweep's store
    done = gif("sweep", "M", "-p", "a=0,1", "--format", "zarr", "--out", "out", cwd=tmp_path,
               check=False)
    assert done.returncode == 2 and "is not a gifcli sweep store" in done.stderr


def test_without_the_extra_each_feature_names_it(tmp_path, monkeypatch):
    import importlib.util

    from typer.testing import CliRunner

    from gifcli.cli import app

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("xarray", "h5netcdf") else
                        real(name, *a))
    for option in (["--workers", "2"], ["--scheduler", "tcp://127.0.0.1:9"],
                   ["--format", "zarr"], ["--format", "csv,nc"]):
        run = CliRunner().invoke(app, ["sweep", "M", "-p", "a=0,1", *option, "--out",
                                       str(tmp_path / "x")])
        assert run.exit_code == 2, run.output
        assert "needs the cluster extra" in run.output
        assert "run `make demo`, or `pip install -e '.[cluster]'`, in gifcli's folder" \
            in " ".join(run.output.split())  # a command that works: gifcli is on no index
        assert option[-1].split(",")[-1] in run.output or option[0] in run.output
    assert not (tmp_path / "x").exists()


def test_above_a_million_points_zarr_is_required(tmp_path):
    done = gif("sweep", "M", "-p", "a=0:0.01:2000", "-p", "A1=0:20:1000", "--format",
               "csv,zarr", "--out", "out", cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert "2,000,000 points; above 1,000,000 a sweep is written only as zarr" in done.stderr
    assert not (tmp_path / "out").exists()


# --- on Dask workers ----------------------------------------------------------------------------


def test_local_workers_give_the_in_process_grid(reference, tmp_path):
    done = gif("sweep", *GRID, "--format", "zarr,json", "--out", "out", "--workers", "2",
               "--quiet", cwd=tmp_path)
    assert_same_grid(grid(tmp_path / "out" / f"{STEM}.zarr"), reference)
    summary = json.loads((tmp_path / "out" / f"{STEM}.json").read_text())
    assert summary["chunks"]["executor"] == "2 local Dask workers", done.stderr


def test_an_external_cluster_gives_the_in_process_grid(reference, cluster, tmp_path):
    address, _workers = cluster
    done = gif("sweep", *GRID, "--format", "zarr", "--out", "out", "--scheduler", address,
               "--json", cwd=tmp_path)
    assert_same_grid(grid(tmp_path / "out" / f"{STEM}.zarr"), reference)
    assert json.loads(done.stdout)["chunks"]["executor"].endswith("(2 workers)")
    # the same grid in memory, gathered from the workers, with no store
    done = gif("sweep", *GRID, "--format", "csv", "--out", "mem", "--scheduler", address,
               "--quiet", cwd=tmp_path)
    rows = (tmp_path / "mem" / f"{STEM}.csv").read_text().splitlines()[1:]
    rates = np.array([float(r.split(",")[4]) for r in rows])
    np.testing.assert_array_equal(rates, reference["rate_hz"].values.ravel())


def slow_sweep_under_way(preset: Path, address: str, folder: Path, chunks: int
                         ) -> tuple[subprocess.Popen, Path]:
    """The slow sweep on the cluster at ``address`` (from the reference's very source), once
    ``chunks`` of its chunks are marked done and the rest are not: (the client, its store)."""
    (folder / "slow.yaml").write_text(preset.read_text())
    client = subprocess.Popen([GIF, "sweep", "slow.yaml", *SLOW_GRID, "--format", "zarr",
                               "--out", "out", "--scheduler", address, "--quiet"],
                              cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    store = folder / "out" / "slow_sweep_a_A1_A2.zarr"
    wait_until(lambda: len(marked(store)) >= chunks or client.poll() is not None, 120,
               f"{chunks} chunks")
    assert client.poll() is None and len(marked(store)) < SLOW_CHUNKS  # still running
    return client, store


def test_a_worker_killed_in_mid_run_loses_nothing(slow, cluster, tmp_path):
    preset, want = slow
    address, workers = cluster
    client, store = slow_sweep_under_way(preset, address, tmp_path, chunks=2)
    os.kill(workers[0].pid, signal.SIGKILL)
    workers[0].wait(timeout=10)
    _out, err = client.communicate(timeout=240)
    assert client.returncode == 0, err
    assert marked(store) == set(range(SLOW_CHUNKS))
    assert_same_grid(grid(store), want)


def test_all_workers_killed_in_mid_run_is_one_sentence_not_a_wait(slow, tmp_path):
    """With its last worker gone, the client says so in one line once no worker has been
    seen for CONNECT_TIMEOUT_S, and the chunks done stay for --resume. It used to wait for
    ever when the worker died holding a finished chunk's result, which the scheduler then
    runs again, and to print distributed's "Couldn't gather keys" first."""
    from gifcli.explore.cluster import CONNECT_TIMEOUT_S

    preset, _ = slow
    with dask_processes(1) as (address, (worker,)):
        client, store = slow_sweep_under_way(preset, address, tmp_path, chunks=1)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        _out, err = client.communicate(timeout=CONNECT_TIMEOUT_S + 120)
    lines = err.strip().splitlines()
    assert client.returncode != 0 and client.returncode != 3, err
    assert len(lines) == 1 and f"has had no worker for {CONNECT_TIMEOUT_S} s" in lines[0], err
    assert 1 <= len(marked(store)) < SLOW_CHUNKS


# --- Ctrl-C and --resume ------------------------------------------------------------------------


def test_ctrl_c_then_resume_gives_the_same_store_computing_only_the_rest(slow, tmp_path):
    preset, _ = slow
    args = ["sweep", str(preset), *SLOW_GRID, "--format", "zarr", "--out", "out"]
    whole = tmp_path / "whole"
    whole.mkdir()
    gif(*args, "--quiet", cwd=whole)  # the same command line, uninterrupted
    cut = tmp_path / "cut"
    cut.mkdir()
    store = cut / "out" / "slow_sweep_a_A1_A2.zarr"
    client = subprocess.Popen([GIF, *args, "--quiet"], cwd=cut, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    wait_until(lambda: len(marked(store)) >= 3 or client.poll() is not None, 120,
               "three chunks")
    os.kill(client.pid, signal.SIGINT)
    _out, err = client.communicate(timeout=60)
    assert client.returncode == 130, err
    assert len(err.splitlines()) == 1 and "--resume" in err and "Traceback" not in err
    kept = marked(store)
    assert 3 <= len(kept) < SLOW_CHUNKS, kept
    assert not grid(store).attrs["complete"]
    # the chunks kept are not written again
    files = [store / "rate_hz" / f"{k}.0.0" for k in sorted(kept)]
    stamps = [f.stat().st_mtime_ns for f in files]
    done = gif(*args, "--resume", "--json", cwd=cut)
    chunks = json.loads(done.stdout)["chunks"]
    assert chunks["computed"] == SLOW_CHUNKS - len(kept) and chunks["reused"] == len(kept)
    assert [f.stat().st_mtime_ns for f in files] == stamps
    assert_same_grid(grid(store), grid(whole / "out" / "slow_sweep_a_A1_A2.zarr"))
    assert grid(store).attrs["command"].endswith(" --resume --json")  # the latest run


# --- a grid larger than memory ------------------------------------------------------------------


SHORT_PRESET = """name: short
title: Ten milliseconds of tonic input
params: {A1: 10.0, A2: -0.6}
input:
  - {amplitude: 2.0, duration: 10}
dt: 0.1
"""


# Linux carries a process's peak RSS across fork and exec: a child of this (by then large)
# pytest process reports pytest's peak. A small launcher in between reports gif's own.
PEAK_RSS_OF = ("import os, subprocess, sys; child = subprocess.Popen(sys.argv[1:]); "
               "_, status, usage = os.wait4(child.pid, 0); print(usage.ru_maxrss); "
               "sys.exit(os.waitstatus_to_exitcode(status))")


@pytest.mark.slow
def test_ten_million_points_keep_the_client_under_a_gigabyte(tmp_path):
    """The sweep's own memory (measured through a launcher, see PEAK_RSS_OF), with its
    kernels compiled already: a small sweep of the same shape runs first."""
    (tmp_path / "short.yaml").write_text(SHORT_PRESET)
    subprocess.run([GIF, "sweep", "short.yaml", "-p", "a=-0.01:0.01:10", "-p", "A1=0:20:10",
                    "-p", "A2=-1:0:10", "--format", "zarr,png,json", "--out", "small",
                    "--quiet"], cwd=tmp_path, check=True, timeout=900)
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_OF, GIF, "sweep", "short.yaml", "-p",
         "a=-0.01:0.01:1000", "-p", "A1=0:20:100", "-p", "A2=-1:0:100", "--format",
         "zarr,png,json", "--out", "out", "--quiet"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    peak_mb = int(done.stdout.split()[-1]) / 1024
    assert peak_mb < 1024, peak_mb
    summary = json.loads((tmp_path / "out" / "short_sweep_a_A1_A2.json").read_text())
    assert summary["points"] == 10_000_000 and summary["chunks"]["count"] == 100
    assert summary["pass_ranges"] is None  # not listed for a grid this large
    with xr.open_zarr(tmp_path / "out" / "short_sweep_a_A1_A2.zarr") as ds:
        assert ds.sizes == {"a": 1000, "A1": 100, "A2": 100}
        assert int(ds["n_spikes"][999, 99, 99]) >= 0  # the last chunk is there
