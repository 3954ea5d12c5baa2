"""Sweeps on Dask and in zarr stores under faults: a late chunk, a silent scheduler, bad
addresses, too many workers or chunks, an interrupted creation, another writer's files.

Everything runs in this process or on 127.0.0.1; nothing waits for a real timeout longer than
the one the test sets.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from gifcli.core.errors import GifError
from gifcli.explore import cluster as cluster_module
from gifcli.explore.cluster import Cluster
from gifcli.explore.sweep import Axis, plan_sweep
from gifcli.files import store as sweep_store
from gifcli.model.preset import resolve

pytest.importorskip("zarr")


def plan(values=(0.0, 0.01, 0.02, 0.03), chunk_points=2, **kwargs):
    return plan_sweep(resolve("tonic_bursting"), [Axis("a", np.array(values))],
                      chunk_points=chunk_points, stored=True, **kwargs)


def marks(path) -> np.ndarray:
    return sweep_store.Store(path).done()


# --- a chunk that outlives its run -------------------------------------------------------------


def test_a_chunk_of_an_earlier_run_writes_nothing_into_a_later_run_of_the_same_sweep(tmp_path):
    path, sweep = tmp_path / "s.zarr", plan()
    earlier = sweep_store.Store.prepare(path, sweep, "first", resume=False)
    later = sweep_store.Store.prepare(path, sweep, "second", resume=False)
    assert earlier.token != later.token
    with pytest.raises(sweep_store.StoreChanged, match="belongs to another run"):
        sweep_store.chunk_to_store(sweep, 0, earlier)
    assert not marks(path).any()
    sweep_store.chunk_to_store(sweep, 0, later)
    assert marks(path).tolist() == [True, False]


def test_a_chunk_of_a_removed_store_writes_nothing_into_another_sweep_made_there(tmp_path):
    path = tmp_path / "s.zarr"
    first, other = plan(), plan(values=(0.0, 0.005, 0.01, 0.015))
    stale = sweep_store.Store.prepare(path, first, "first", resume=False)
    shutil.rmtree(path)
    with pytest.raises(sweep_store.StoreChanged, match="is gone"):
        sweep_store.chunk_to_store(first, 1, stale)
    assert not path.exists()  # nothing recreated by the stale writer
    finished = sweep_store.run_into_store(other, path, "other")
    before = {name: finished.store.read(name, (np.arange(4),)) for name in ("n_spikes",)}
    with pytest.raises(sweep_store.StoreChanged):
        sweep_store.chunk_to_store(first, 1, stale)
    after = {name: finished.store.read(name, (np.arange(4),)) for name in before}
    np.testing.assert_array_equal(before["n_spikes"], after["n_spikes"])
    assert marks(path).all()


# --- the store's creation --------------------------------------------------------------------


def test_an_interrupted_creation_leaves_no_store_and_no_temporary(tmp_path, monkeypatch):
    path, real = tmp_path / "s.zarr", sweep_store._write_empty

    def interrupted(folder, *args):
        real(folder, *args)
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep_store, "_write_empty", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sweep_store.Store.prepare(path, plan(), "cmd", resume=False)
    assert os.listdir(tmp_path) == []
    monkeypatch.setattr(sweep_store, "_write_empty", real)
    sweep_store.run_into_store(plan(), path, "cmd")  # and the same command then works
    assert marks(path).all()


def test_too_many_chunks_are_refused_before_anything_is_written(tmp_path):
    values = np.linspace(0.0, 0.02, sweep_store.MAX_CHUNKS + 1)
    with pytest.raises(GifError, match=r"100,001 chunks are more than a store holds"):
        sweep_store.Store.prepare(tmp_path / "s.zarr", plan(values, chunk_points=1), "cmd",
                                  resume=False)
    assert os.listdir(tmp_path) == []


def test_a_fresh_partial_file_of_a_live_writer_is_kept_an_old_one_removed(tmp_path):
    path, sweep = tmp_path / "s.zarr", plan()
    sweep_store.Store.prepare(path, sweep, "cmd", resume=False)
    fresh, old = path / "n_spikes" / "0.abc.partial", path / "n_spikes" / "1.def.partial"
    for partial in (fresh, old):
        partial.write_bytes(b"x")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    sweep_store.Store.prepare(path, sweep, "cmd", resume=True)
    assert fresh.exists() and not old.exists()


# --- reaching the cluster --------------------------------------------------------------------


@pytest.mark.parametrize("address, reason", [
    ("ucx://127.0.0.1:8786", "must be tcp://HOST:PORT"),
    ("tls://127.0.0.1:8786", "must be tcp://HOST:PORT"),
    ("127.0.0.1:8786", "must be tcp://HOST:PORT"),
    ("tcp://127.0.0.1:70000", "port from 1 to 65535"),
    ("tcp://127.0.0.1:0", "port from 1 to 65535"),
    ("tcp://127.0.0.1", "port from 1 to 65535"),
    ("tcp://:8786", "port from 1 to 65535"),
])
def test_a_scheduler_address_gif_cannot_use_is_refused_at_once(address, reason):
    with pytest.raises(GifError, match=reason):
        Cluster(scheduler=address)


def test_more_workers_than_the_machine_can_use_are_refused_before_starting_any():
    cores = os.cpu_count() or 1
    with pytest.raises(GifError, match=f"more than 4 per core of this machine \\({cores} cores"):
        Cluster(workers=1_000_000)
    Cluster(workers=cores)  # within the limit: accepted (not started until entered)


def assert_unreachable(monkeypatch, server: socket.socket, timeout_s: float) -> None:
    """A Cluster at ``server`` gives up after ``timeout_s`` in gif's one sentence."""
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT_S", timeout_s)
    with pytest.raises(GifError, match="cannot reach the Dask scheduler at tcp://"), \
            Cluster(scheduler=f"tcp://127.0.0.1:{server.getsockname()[1]}"):
        pass


def test_a_server_that_accepts_and_never_answers_is_one_sentence(monkeypatch):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    taker = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
    taker.start()
    try:
        assert_unreachable(monkeypatch, server, timeout_s=1)
    finally:
        for connection in accepted:
            connection.close()
        server.close()


# --- what an interrupted sweep says ----------------------------------------------------------


class _Running:
    still_running = 3


@pytest.mark.parametrize("state, said", [
    ("none", "no chunk was stored; the same command starts the sweep"),
    ("some", "1 of 2 chunks are in {path}, and the same command with --resume computes the "
             "rest; 3 chunks still running on the workers may yet be written there"),
    ("all", "all 2 chunks are in {path}, and the same command with --resume finishes it "
            "without computing any"),
])
def test_an_interrupted_sweep_says_what_is_kept_and_what_may_still_land(tmp_path, capsys,
                                                                         state, said):
    from gifcli.cli.sweep import _interrupted

    path, sweep = tmp_path / "s.zarr", plan()
    if state != "none":
        store = sweep_store.Store.prepare(path, sweep, "cmd", resume=False)
        for k in range(1 if state == "some" else 2):
            sweep_store.chunk_to_store(sweep, k, store)
    exit_ = _interrupted(KeyboardInterrupt(), path, sweep,
                         _Running() if state == "some" else None)
    assert exit_.exit_code == 130
    assert said.format(path=path) in capsys.readouterr().err


def test_the_clusters_own_logs_say_nothing_gif_says_what_went_wrong():
    """A worker killed on a run that then succeeds made the scheduler log "Couldn't gather
    keys" (3 of 8 tries), and a closing cluster made its worker log a 30-line traceback of
    a failed heartbeat: gif's one line (or its exit 0) is the whole story, so the cluster's
    loggers stay silent. In a process of its own: distributed binds its handler to the
    stderr of the moment it is imported."""
    import subprocess
    import sys

    code = textwrap.dedent("""
        import logging
        from gifcli.explore.cluster import Cluster
        with Cluster(workers=1) as cluster:
            assert cluster.client.submit(sum, [1, 2]).result() == 3
            logging.getLogger("distributed.scheduler").error("Couldn't gather keys: {}")
            logging.getLogger("asyncio").error("Task was destroyed but it is pending!")
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0 and run.stderr == "" and run.stdout == "", run.stderr


def test_a_local_cluster_that_fails_to_close_is_not_closed_again_at_exit():
    """Ctrl-C during a --workers sweep could leave a worker starting, which fails the close
    (an AssertionError in distributed); distributed's atexit hook then closed it again and
    printed a 29-line traceback after gif's one line (3 of 8 tries). Once is enough."""
    import subprocess
    import sys

    code = textwrap.dedent("""
        import types
        from gifcli.explore.cluster import Cluster

        async def failing_close(self, *args, **kwargs):  # as with a worker left starting
            raise AssertionError("Status.init")

        with Cluster(workers=1) as cluster:
            cluster._local._close = types.MethodType(failing_close, cluster._local)
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0 and run.stderr == "", run.stderr


def test_no_gc_callback_of_distributed_runs_in_gifs_process():
    """The scheduler of --workers runs in gif's process and hooks the garbage collector; a
    signal raised inside that hook left it asserting at the next collection (a 9-line
    "Exception ignored in GCDiagnosis._gc_callback", 1 of 8 Ctrl-Cs). gif removes it."""
    import gc

    with cluster_module.Cluster(workers=1) as cluster:
        assert cluster.client.submit(sum, [1, 2]).result() == 3
        hooks = [c for c in gc.callbacks if "distributed" in getattr(c, "__module__", "")]
        assert hooks == []


def test_a_server_that_is_not_a_dask_scheduler_is_one_sentence(monkeypatch):
    """Something else at the address (a web server, say): it answers, but not in Dask's
    protocol."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer_http() -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = server.accept()
                connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                connection.close()

    threading.Thread(target=answer_http, daemon=True).start()
    try:
        assert_unreachable(monkeypatch, server, timeout_s=2)
    finally:
        server.close()


def test_the_empty_store_is_built_without_a_task_per_chunk(tmp_path, monkeypatch):
    """--chunk-points 1 made one Dask task per chunk and variable to write the empty store
    (24 GB before the kernel killed it): the empty store is one task per variable."""
    import xarray as xr

    real, partitions = xr.Dataset.to_zarr, []

    def counting(ds, *args, **kwargs):
        partitions.extend(ds[name].data.npartitions for name in ds.data_vars)
        return real(ds, *args, **kwargs)

    monkeypatch.setattr(xr.Dataset, "to_zarr", counting)
    sweep = plan(values=np.linspace(0.0, 0.02, 50), chunk_points=1)
    sweep_store.Store.prepare(tmp_path / "s.zarr", sweep, "cmd", resume=False)
    assert sweep.chunks.count == 50 and partitions and set(partitions) == {1}


# --- a cluster that fails under the sweep (real processes on 127.0.0.1) --------------------------


def _sent_whole(function):
    """``function`` sent to the workers by value: they cannot import this test file.
    distributed pickles by reference what pickle can find, and hands what lives in
    ``__main__`` to cloudpickle, which sends it whole."""
    function.__module__ = "__main__"
    return function


@_sent_whole
def _kill_own_worker(_plan, _k):
    os._exit(1)  # as a worker killed for its memory: no exception, the process is gone


@_sent_whole
def _wait_long(_plan, _k):
    time.sleep(120)


def test_a_chunk_that_kills_its_worker_again_and_again_is_one_sentence():
    """distributed gives up on a task after its workers died under it 4 times (KilledWorker):
    one sentence that says what may be wrong, not a traceback."""
    with Cluster(workers=1) as cluster, pytest.raises(
            GifError, match="chunk 7 killed the Dask worker that ran it, again on retry"):
        cluster.run(_kill_own_worker, None, [7], (), lambda k, result: None)


def test_a_scheduler_killed_in_mid_run_is_one_sentence():
    import signal

    from test_cluster import dask_processes

    with dask_processes(1) as (address, _workers), Cluster(scheduler=address) as cluster:
        scheduler_pid = cluster.client.run_on_scheduler(os.getpid)
        killer = threading.Timer(2.0, os.kill, (scheduler_pid, signal.SIGKILL))
        killer.start()
        try:
            with pytest.raises(GifError, match=f"lost the Dask scheduler at {address}"):
                cluster.run(_wait_long, None, [0, 1], (), lambda k, result: None)
        finally:
            killer.cancel()


def test_a_local_worker_killed_in_mid_run_leaves_no_warning_on_a_finished_run(tmp_path):
    """A --workers sweep whose workers are killed (by the kernel, for their memory, say)
    finishes on the ones the nanny starts again and says nothing: no "leaked semaphore"
    from multiprocessing's resource tracker at exit."""
    import signal
    import subprocess
    import sys

    import psutil
    from test_cluster import SLOW_CHUNKS, SLOW_GRID, SLOW_PRESET, marked

    (tmp_path / "slow.yaml").write_text(SLOW_PRESET)
    gif = str(Path(sys.executable).with_name("gif"))
    client = subprocess.Popen([gif, "sweep", "slow.yaml", *SLOW_GRID, "-f", "zarr", "--out",
                               "out", "--workers", "2", "--quiet"], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    store = tmp_path / "out" / "slow_sweep_a_A1_A2.zarr"
    try:
        deadline = time.monotonic() + 240
        while len(marked(store)) < 1:
            assert client.poll() is None and time.monotonic() < deadline, client.communicate()
            time.sleep(0.05)
        workers = [p for p in psutil.Process(client.pid).children()
                   if "spawn_main" in " ".join(p.cmdline())]
        assert len(workers) == 2, [p.cmdline() for p in workers]
        for worker in workers:  # the nanny starts others, which finish the sweep
            os.kill(worker.pid, signal.SIGKILL)
        out, err = client.communicate(timeout=300)
    finally:
        if client.poll() is None:
            client.kill()
            client.communicate()
    assert client.returncode == 0 and err == "" and out == "", err
    assert marked(store) == set(range(SLOW_CHUNKS))
