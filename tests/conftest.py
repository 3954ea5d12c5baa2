"""Shared fixtures for the numerics tests (issue 2).

- ``shipped``: the 20 shipped presets by letter, parsed once per session.
- OPENBLAS_NUM_THREADS=1 unless already set: the reference integrator calls scipy's expm on
  4 x 4 matrices thousands of times, and multi-threaded OpenBLAS on a busy 2-core machine
  makes each call take ~15 ms instead of ~40 µs. It must be set before numpy is imported.
- the ``slow`` marker (tests that take seconds, e.g. building a wheel): deselect them with
  ``-m "not slow"``.
- every kernel compiled once at the start (``gifcli.cli.warmup``), so that on a fresh clone the
  many tests that start ``gif`` in a subprocess load Numba's cache instead of each compiling
  (and timing or measuring the compiler).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402

from gifcli.model.preset import shipped_presets  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes several seconds (deselect with -m 'not slow')")


def pytest_sessionstart(session):
    from gifcli.cli import warmup

    warmup.warm_everything()


@pytest.fixture(scope="session")
def shipped():
    """The shipped presets, by letter (A to T)."""
    return {preset.letter: preset for preset in shipped_presets()}
