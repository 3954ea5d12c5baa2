"""The chunks of a sweep on Dask workers: local processes, or a running distributed cluster.

``Cluster(workers=N)`` starts N worker processes on this machine (a ``LocalCluster``, on
127.0.0.1); ``Cluster(scheduler="tcp://HOST:PORT")`` connects to a cluster started with
``dask scheduler`` and ``dask worker``. :meth:`Cluster.run` sends one task per chunk and
hands each result to the caller as it arrives, so the caller holds no more than one at a
time. A worker that dies takes its running chunk with it, and the scheduler gives that chunk
to another worker; a chunk's result depends only on its points, so where it runs changes no
bit.

On a worker, the kernels use as many threads as the Dask worker has (``--nthreads``), and
its tasks take turns, so that N single-threaded workers on N cores run N kernels at once
rather than N × N threads. Workers import gifcli themselves: every machine needs the same
gifcli, installed with the ``cluster`` extra.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import CancelledError
from typing import Any

from gifcli.core.arguments import count, shown
from gifcli.core.errors import GifError

CONNECT_TIMEOUT_S = 20  # to reach a scheduler, handshake included, and to see a worker
POLL_S = 2.0  # how often a waiting client looks at the cluster
WORKERS_PER_CORE = 4  # local workers beyond this many per core only cost memory
_KERNEL_TURN = threading.Lock()  # one kernel call at a time in a worker process


#: gif says in one line what went wrong (a killed worker, a lost scheduler, Ctrl-C), so the
#: cluster's own logs say nothing: not "Couldn't gather keys" from the scheduler after a
#: worker died on a run that then succeeds, nor asyncio's tasks cut short by Ctrl-C.
QUIET_LOGGERS = ("distributed", "tornado", "asyncio")
QUIET_LEVEL = logging.CRITICAL + 1


def _quiet_logs() -> None:
    """QUIET_LOGGERS and every logger under them silenced (distributed gives some of its own
    loggers a level of their own, which a parent's level does not override)."""
    names = [name for name in logging.root.manager.loggerDict
             if name.split(".")[0] in QUIET_LOGGERS]
    for name in {*QUIET_LOGGERS, *names}:
        logging.getLogger(name).setLevel(QUIET_LEVEL)


def _no_gc_diagnosis() -> None:
    """Remove the garbage collector callback that the scheduler started here installs: it
    only logs GC pauses (silenced above), and a signal raised inside it leaves it asserting,
    in a 9-line "Exception ignored" traceback, at the next collection."""
    from distributed.gc import disable_gc_diagnosis

    disable_gc_diagnosis(force=True)


def _quiet_resource_tracker() -> None:
    """multiprocessing's resource tracker, started with the null device as its stderr. A
    worker killed while it held a semaphore (by the kernel, for its memory, say) made it
    warn of "leaked semaphore objects" after a run that had finished well; it frees them
    all the same. It inherits descriptor 2 itself, hence the swap around its start."""
    import os
    import sys
    from multiprocessing import resource_tracker

    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        resource_tracker.ensure_running()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _on_worker(function: Callable[..., Any], plan: Any, k: int, *args: Any) -> Any:
    """Run ``function(plan, k, *args)`` on a Dask worker, with the worker's thread count."""
    import numba
    from distributed import get_worker

    threads = max(1, min(get_worker().state.nthreads, numba.config.NUMBA_NUM_THREADS))
    with _KERNEL_TURN:
        numba.set_num_threads(threads)
        return function(plan, k, *args)


def _same(value: Any) -> Any:
    return value


def _warm() -> None:
    """Load the kernels from Numba's cache on a worker before the first chunk needs them."""
    import numpy as np

    from gifcli.simulation.batch import run_batch

    run_batch({"a": np.zeros(2)}, [(1.0, 1.0)], dt=0.1, record=1)


def _check_workers(workers: Any) -> int:
    import os

    cores = os.cpu_count() or 1
    workers = count(workers, "--workers", 1)
    if workers > WORKERS_PER_CORE * cores:
        raise GifError(f"--workers {workers:,} is more than {WORKERS_PER_CORE} per core of this "
                       f"machine ({cores} cores): each worker is a process with its own "
                       f"memory; use at most {WORKERS_PER_CORE * cores}")
    return workers


def _check_address(address: str) -> None:
    """A scheduler address must be tcp://HOST:PORT (the protocol gif's workers speak)."""
    from urllib.parse import urlsplit

    if not isinstance(address, str):
        raise GifError(f"--scheduler must be tcp://HOST:PORT, got {shown(address)}")
    parts = urlsplit(address)
    if parts.scheme != "tcp":
        raise GifError(f"--scheduler must be tcp://HOST:PORT, got {address!r} "
                       "(the tls:// and ucx:// protocols are not supported)")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not parts.hostname or port is None or not 0 < port < 65536:
        raise GifError(f"--scheduler must be tcp://HOST:PORT with a port from 1 to 65535, "
                       f"got {address!r}")


def _connect(address: str) -> Any:
    """A Client of the scheduler at ``address``, or GifError within CONNECT_TIMEOUT_S (plus
    a few seconds): distributed's own timeout covers the connection, not the handshake,
    so a server that accepts and never answers would hold the client for ever."""
    from distributed import Client

    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            box["client"] = Client(address, timeout=CONNECT_TIMEOUT_S)
        except Exception as error:  # noqa: BLE001 - reported below, in one sentence
            box["error"] = error

    thread = threading.Thread(target=connect, name="gifcli-connect", daemon=True)
    thread.start()
    thread.join(CONNECT_TIMEOUT_S + 5)
    if "client" in box:
        return box["client"]
    reason = box.get("error") or (f"no answer within {CONNECT_TIMEOUT_S} s: is it a Dask "
                                  "scheduler?")
    raise GifError(f"cannot reach the Dask scheduler at {address} ({reason})")


def _result(future: Any, k: int, timeout: float) -> Any:
    """A chunk's result (TimeoutError after ``timeout`` s); a chunk that killed its workers
    is one sentence, not a traceback."""
    from distributed.scheduler import KilledWorker

    try:
        return future.result(timeout=timeout)
    except KilledWorker:
        raise GifError(f"chunk {k} killed the Dask worker that ran it, again on retry; the "
                       "workers may lack memory (--chunk-points smaller, or fewer workers "
                       "per machine)") from None
    except TimeoutError:  # an OSError too, but only the wait ending: the caller waits on
        raise
    except OSError as error:
        raise GifError(f"lost the Dask scheduler while chunk {k} ran ({error})") from None
    except CancelledError:  # gif cancels only after this wait: the scheduler went away
        raise GifError(f"lost the Dask scheduler while chunk {k} ran (the connection "
                       "closed, and the chunk was cancelled)") from None


class Cluster:
    """A Dask client over local worker processes or an existing cluster (a context manager).

    ``Cluster(workers=2)`` or ``Cluster(scheduler="tcp://127.0.0.1:8786")``; inside ``with``,
    :meth:`run` runs chunks and :attr:`description` says where.
    """

    def __init__(self, workers: int | None = None, scheduler: str | None = None):
        if (workers is None) == (scheduler is None):
            raise GifError("give either --workers N or --scheduler tcp://HOST:PORT")
        if workers is not None:
            workers = _check_workers(workers)
        if scheduler is not None:
            _check_address(scheduler)
        self.workers, self.scheduler = workers, scheduler
        self.client: Any = None
        self._local: Any = None
        self.seconds = 0.0  # to start or reach the cluster and warm its workers
        self.still_running = 0  # chunks that a cancel could not stop (they may still land)
        self.description = ""  # where the chunks run, once entered

    def __enter__(self) -> Cluster:
        try:
            return self._start()
        except BaseException:  # Ctrl-C while it starts: close what has started, once
            self.__exit__(None, None, None)
            raise

    def _start(self) -> Cluster:
        started = time.perf_counter()
        _quiet_logs()
        if self.workers is not None:
            from distributed import Client

            try:
                self._local = self._start_local(self.workers)
            except Exception as error:  # noqa: BLE001 - a worker killed as it started, ...
                raise GifError(f"the {self.workers} local Dask workers did not start "
                               f"({type(error).__name__}: {error}); run the sweep again, or "
                               "without --workers") from None
            self.client = Client(self._local)
            _no_gc_diagnosis()
        else:
            self.client = _connect(self.scheduler)
        _quiet_logs()  # again: importing distributed gives some of its loggers their levels
        if not self.client.scheduler_info().get("workers"):
            try:
                self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
            except TimeoutError:
                raise GifError(f"the Dask scheduler at {self.scheduler} has no workers "
                               f"(waited {CONNECT_TIMEOUT_S} s)") from None
        self._warm()
        self.seconds = time.perf_counter() - started
        count = len(self.client.scheduler_info().get("workers", {}))
        self.description = (f"{self.workers} local Dask workers" if self.workers is not None
                            else f"the Dask cluster at {self.scheduler} ({count} workers)")
        return self

    def _warm(self) -> None:
        """Compile the kernels on every worker now, so that the chunks' times are the
        simulations' own. A worker that dies meanwhile is restarted by its nanny and
        compiles at its first chunk: warming is no reason to fail the sweep."""
        with contextlib.suppress(OSError):  # distributed's CommClosedError among them
            self.client.run(_warm)

    @staticmethod
    def _start_local(workers: int) -> Any:
        import os

        from distributed import LocalCluster
        from distributed.deploy.spec import SpecCluster

        threads = max(1, (os.cpu_count() or 1) // workers)
        _quiet_resource_tracker()
        earlier = set(SpecCluster._instances)
        try:
            # No dashboard, and the scheduler's HTTP routes on a free port (not 8787, which
            # another cluster on this machine may hold).
            return LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True,
                                host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                scheduler_kwargs={"dashboard": False},
                                silence_logs=QUIET_LEVEL)
        except BaseException:
            # Ctrl-C while it was built: its workers are still starting, so distributed's
            # atexit close would fail and print a traceback. Its processes end with ours.
            for half_built in set(SpecCluster._instances) - earlier:
                half_built.shutdown_on_close = False
            raise

    def __exit__(self, *_exc: object) -> None:
        for closing in (self.client, self._local):
            if closing is not None:
                with contextlib.suppress(Exception):  # a cluster already gone is closed
                    closing.close()
        if self._local is not None:
            # Closed as far as it can be. Ctrl-C may leave a worker starting, which fails
            # the close; distributed's atexit would then try again and print a traceback.
            self._local.shutdown_on_close = False
        self.client = self._local = None

    def run(self, function: Callable[..., Any], plan: Any, chunks: Sequence[int],
            args: Iterable[Any], on_done: Callable[[int, Any], None]) -> None:
        """``function(plan, k, *args)`` for every chunk ``k``, on the workers; ``on_done(k,
        result)`` in this process as each one finishes (in any order)."""

        run_id = uuid.uuid4().hex[:8]
        # The plan travels once, as a task of its own that the scheduler can run again if
        # the worker that holds it dies.
        shared = self.client.submit(_same, plan, key=f"gifcli-plan-{run_id}", pure=False)
        args = tuple(args)
        futures = {self.client.submit(_on_worker, function, shared, k, *args,
                                      key=f"gifcli-chunk-{k}-{run_id}", pure=False): k
                   for k in chunks}
        try:
            for future in self._as_completed(futures):
                k = futures.pop(future)
                on_done(k, self._result_while_workers(future, k))
                future.release()
        finally:
            if futures:  # interrupted or failed: nothing more may run for this sweep
                self.still_running = self._running(futures)
                with contextlib.suppress(Exception):  # a scheduler already gone
                    self.client.cancel(list(futures), force=True)
            with contextlib.suppress(Exception):
                shared.release()

    def _as_completed(self, futures: dict[Any, int]) -> Iterator[Any]:
        """The futures as they finish; GifError once no worker has been seen for
        CONNECT_TIMEOUT_S, or when the scheduler is lost, rather than waiting for ever."""
        from distributed import wait

        pending, alone_since = set(futures), None
        while pending:
            try:
                done, pending = wait(pending, timeout=POLL_S, return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = set()
            except OSError as error:
                raise GifError(f"lost the Dask scheduler at {self.where} ({error})") from None
            except CancelledError:  # by distributed, once the scheduler is gone for good
                raise GifError(f"lost the Dask scheduler at {self.where} (the connection "
                               "closed, and the chunks it held were cancelled)") from None
            yield from done
            alone_since = None if done else self._alone_since(alone_since)

    def _result_while_workers(self, future: Any, k: int) -> Any:
        """The result of a finished chunk. Its worker may die before it is fetched, and the
        chunk is then run again, which needs a worker: GifError as in _as_completed."""
        alone_since = None
        while True:
            try:
                return _result(future, k, timeout=POLL_S)
            except TimeoutError:
                alone_since = self._alone_since(alone_since)

    def _alone_since(self, since: float | None) -> float | None:
        """When the cluster was last seen without a worker (None: it has one now); GifError
        once that is more than CONNECT_TIMEOUT_S ago."""
        if self._has_workers():
            return None
        if since is not None and time.monotonic() - since > CONNECT_TIMEOUT_S:
            raise GifError(f"the Dask cluster at {self.where} has had no worker for "
                           f"{CONNECT_TIMEOUT_S} s")
        return time.monotonic() if since is None else since

    def _has_workers(self) -> bool:
        try:
            return bool(self.client.scheduler_info().get("workers"))
        except OSError as error:
            raise GifError(f"lost the Dask scheduler at {self.where} ({error})") from None

    def _running(self, futures: dict[Any, int]) -> int:
        """How many of ``futures`` are running on a worker now: a cancel cannot stop them."""
        try:
            busy = {key for keys in self.client.processing().values() for key in keys}
        except Exception:  # noqa: BLE001 - no scheduler: count every unfinished chunk
            return len(futures)
        return sum(future.key in busy for future in futures)

    @property
    def where(self) -> str:
        return self.scheduler or "127.0.0.1"
