"""Ctrl-C, SIGTERM and SIGHUP while compiled code runs: stop promptly, at a safe point.

Why this module exists. Python runs a signal's handler in the main thread, between two
bytecodes. While a Numba function runs, the main thread executes none, so the handler runs
when the function returns, inside the dispatcher's C code that turns the native results
into Python objects (which can run Python code, through the garbage collector). A
KeyboardInterrupt raised there is set on a call that succeeded: Python reports
"returned a result with an exception set", swallows the interrupt, or crashes.

So, while a compiled call is on the stack (:func:`compiled_call`, :func:`deferred`), the
handler only records the signal, and the caller raises :class:`Interrupted` itself once the
call has returned. Long kernels do not make the user wait: they poll :func:`stop_flag`, a
one-byte array that a watcher thread sets the moment a signal arrives (the kernels release
the GIL, so the thread can run), and return early. Outside compiled calls, SIGINT raises
KeyboardInterrupt as usual; :func:`install` makes SIGTERM and SIGHUP do the same, so every
``finally`` and every temporary file's clean-up runs for them too.

Only the main thread can receive signals; in any other thread (a Dask worker's, say) these
functions do nothing but run the call.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

TYPE_CHECKING = False  # typing costs 3.5 ms of a start-up that has no handlers yet
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name))
_NAMES = {signal.SIGINT: "interrupted"} | {
    getattr(signal, k): v for k, v in (("SIGTERM", "terminated"), ("SIGHUP", "hung up"))
    if hasattr(signal, k)}


class Interrupted(KeyboardInterrupt):
    """A signal stopped the work: Ctrl-C (SIGINT), SIGTERM or SIGHUP.

    A KeyboardInterrupt, so that code which cleans up after Ctrl-C cleans up after all three.
    ``exit_code`` is the shell's convention, 128 + the signal number (130, 143, 129).
    """

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum
        self.what = _NAMES.get(signum, f"stopped by signal {signum}")


class _State:
    depth = 0  # compiled calls on the main thread's stack
    received: int | None = None  # the signal recorded while a compiled call ran
    last = signal.SIGINT  # the last one recorded (for a kernel that stopped early)
    unacknowledged: int | None = None  # raised by install()'s handler, not yet reported
    flag: Any = None  # the numpy array the kernels poll (made on first use)
    wake_read = wake_write = -1
    watcher: threading.Thread | None = None
    saved: dict[int, Any] = {}
    saved_wakeup = -1


def stop_flag() -> Any:
    """The uint8[1] array that long kernels poll: non-zero asks them to return early."""
    if _State.flag is None:
        import numpy as np

        _State.flag = np.zeros(1, dtype=np.uint8)
    return _State.flag


def _raise_signal(signum: int, frame: object) -> None:
    # Remembered until acknowledged: a raise inside a callback that cannot propagate it
    # (Numba's cache loader calls back through ctypes) is swallowed, and check() repeats it.
    _State.last = _State.unacknowledged = signum
    raise Interrupted(signum)


def install() -> None:
    """Make SIGTERM and SIGHUP raise :class:`Interrupted` like Ctrl-C does (main thread only).

    The ``gif`` command calls this first, so that ``kill``, ``timeout`` and a closed terminal
    remove the temporary files and exit with 143 or 129. Library users keep their own handlers.
    A signal ignored when gif starts stays ignored, as deferred() keeps it: ``nohup`` ignores
    SIGHUP so that the command outlives its terminal, and a shell ignores SIGINT for a
    command it starts in the background.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in SIGNALS:
        if signal.getsignal(signum) != signal.SIG_IGN:
            signal.signal(signum, _raise_signal)
    sys.unraisablehook = _quiet_about_signals


def _quiet_about_signals(unraisable: Any) -> None:
    # "Exception ignored in ...": an Interrupted raised in a callback. Say nothing; check()
    # raises it again where it can propagate. Anything else is reported as Python would.
    if not isinstance(unraisable.exc_value, Interrupted):
        sys.__unraisablehook__(unraisable)


def _record(signum: int, frame: object) -> None:
    if _State.received is None:
        _State.received = _State.last = signum
    stop_flag()[0] = 1


def _watch(fd: int) -> None:
    # Woken by the byte that Python's C-level handler writes for every signal; runs while a
    # kernel holds no GIL, so the kernel sees the flag within its polling interval.
    while True:
        try:
            data = os.read(fd, 64)
        except OSError:
            return
        if not data:
            return
        if any(signum in _State.saved for signum in data):  # one of the signals we hold
            stop_flag()[0] = 1


def _start_watcher() -> None:
    if _State.watcher is None:
        _State.wake_read, _State.wake_write = os.pipe()
        os.set_blocking(_State.wake_write, False)
        _State.watcher = threading.Thread(target=_watch, args=(_State.wake_read,),
                                          name="gifcli-signal-watcher", daemon=True)
        _State.watcher.start()


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP while compiled code runs; raise after it returns.

    Inside, a signal sets :func:`stop_flag` (kernels return early) and is remembered; on
    leaving the outermost block, :class:`Interrupted` is raised. Nested blocks are cheap.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _State.depth == 0:
        _start_watcher()
        stop_flag()
        # An ignored signal stays ignored (``nohup`` sets SIGHUP so).
        _State.saved = {signum: signal.signal(signum, _record) for signum in SIGNALS
                        if signal.getsignal(signum) != signal.SIG_IGN}
        try:
            _State.saved_wakeup = signal.set_wakeup_fd(_State.wake_write,
                                                       warn_on_full_buffer=False)
        except ValueError:  # pragma: no cover - only the main thread gets here
            _State.saved_wakeup = -1
    _State.depth += 1
    try:
        yield
    finally:
        _State.depth -= 1
        if _State.depth == 0:
            signal.set_wakeup_fd(_State.saved_wakeup)
            for signum, handler in _State.saved.items():
                signal.signal(signum, handler)
            received, _State.received = _State.received, None
            stop_flag()[0] = 0
            if received is not None:
                _resend(received)


def _resend(signum: int) -> None:
    """Give the signal recorded during the compiled call to the handler it was meant for."""
    handler = signal.getsignal(signum)
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)  # what the signal would have done: end the process


def compiled_call(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` for a compiled function, with signals held as :func:`deferred`
    while it runs (not while Numba compiles it or loads it from its cache: that is Python
    code, and Ctrl-C must not wait for it)."""
    prepare(function, *args)
    check()
    with deferred():
        return function(*args)


def prepare(function: Callable[..., Any], *args: Any) -> None:
    """Compile ``function`` for these arguments' types, or load it from Numba's cache, now.

    A no-op when it is ready (a dictionary look-up) and for a plain Python function
    (``NUMBA_DISABLE_JIT=1``).
    """
    compile_for = getattr(function, "compile", None)
    typeof = getattr(function, "typeof_pyval", None)
    if compile_for is None or typeof is None:
        return
    key = (function, tuple(_type_key(arg) for arg in args))
    if key not in _prepared:  # Numba's typeof costs microseconds an argument: once per types
        compile_for(tuple(typeof(arg) for arg in args))
        _prepared.add(key)


_prepared: set[tuple[Any, tuple]] = set()


def _type_key(arg: Any) -> Any:
    """What Numba's type of ``arg`` depends on, cheaply: an array's dtype, dimensions, layout
    and writability; a tuple's items; otherwise the Python type."""
    if isinstance(arg, tuple):
        return tuple(_type_key(item) for item in arg)
    flags = getattr(arg, "flags", None)
    if flags is not None and hasattr(arg, "dtype"):
        return (arg.dtype, arg.ndim, flags.c_contiguous, flags.f_contiguous, flags.writeable)
    return type(arg)


def raise_if_cut_short(cut_short: bool) -> None:
    """After a compiled call: if a kernel stopped early for a signal whose handler did not
    raise (a library user's own handler), raise rather than hand out a partial result."""
    if cut_short:
        raise Interrupted(_State.last)


def check() -> None:
    """Raise the signal that :func:`install`'s handler raised, if it has not been reported:
    it may have been swallowed by code that ignores exceptions in callbacks."""
    if _State.unacknowledged is not None:
        raise Interrupted(_State.unacknowledged)


def signal_behind(error: BaseException) -> Interrupted | None:
    """The signal that ``error`` stands for, if any: the signal itself, or whatever Python
    turned it into (an exception raised while a class is built becomes a RuntimeError) while
    :func:`install`'s handler had raised it and nothing had reported it yet."""
    if isinstance(error, Interrupted):
        return error
    if _State.unacknowledged is not None:
        return Interrupted(_State.unacknowledged)
    return last_signal() if isinstance(error, KeyboardInterrupt) else None


def acknowledge() -> None:
    """The interruption has been reported: :func:`check` raises it no more."""
    _State.unacknowledged = None


def last_signal() -> Interrupted:
    """The last signal that :func:`install`'s handlers raised or a compiled call recorded,
    for code that caught a plain KeyboardInterrupt (a library catches and re-raises it)."""
    return Interrupted(_State.last)


def stopped() -> bool:
    """Whether a signal asked the current compiled work to stop (for loops between calls)."""
    return _State.received is not None
