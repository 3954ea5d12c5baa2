"""Fitting: the parameters that reproduce a spike train, or that make a preset show a pattern.

Plain functions on numbers (the files and the figure are written by :mod:`gifcli.files.fit`
and :mod:`gifcli.plots.fit`, the command by :mod:`gifcli.cli.fit`):

- :func:`coincidence_factor` is Γ of Jolivet et al. (2008) for two spike trains, and
  :func:`coincidence_factors` the same for many model trains against one target at once;
- :func:`parse_free` reads ``P=LO:HI`` and :func:`check_free` validates the bounds;
- :func:`read_target` reads a target train (a CSV with a ``t_ms`` column, or a run's JSON);
- :func:`fit` runs CMA-ES (the ``cma`` package) over the free quantities and returns a
  :class:`FitResult`.

**The two targets.** A :class:`SpikeTarget` scores a candidate by ``1 − Γ`` against the
target train (0 for a perfect match, about 1 for an unrelated train). Many candidates near
the answer reproduce every spike within the window and tie at Γ = 1; among equal Γ the one
whose coincident spikes lie closer in time ranks first (a term below a thousandth of what
one more coincidence is worth), so the search goes on to the parameters themselves. A
:class:`PatternTarget` maximises the relative margin of a pattern's check
(:func:`gifcli.analysis.checks.judge`): a passing candidate scores ``−margin`` (≤ 0), a failing one
``1 + the number of conditions it did not reach + how far it misses the first of them``
(squashed into [0, 1)), so every failing candidate scores above every passing one and
passing more conditions scores better.

**The optimizer.** Each free quantity is searched on [LO, HI], scaled to [0, 1], so that
one step size suits them all; CMA-ES keeps its samples inside the box (pycma's
``BoundTransform``). The search starts at the preset's own values (clipped into the box),
with a step of :data:`SIGMA0` of each range. Every generation's whole population is
simulated in one batched kernel call (:func:`gifcli.simulation.batch.run_batch`). A run
stops when CMA-ES has converged, or at the budget of simulations; a run that converged
without reaching its goal (Γ = 1, or a passing check) restarts from the same start with
twice the population, up to ``restarts`` times. The random numbers come from a generator
seeded by ``seed``, so a seed gives the same result, to the bit.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from numba import njit

from gifcli.analysis import checks
from gifcli.analysis.features import SpikeTrains, as_spike_array
from gifcli.core.errors import GifError, PresetError
from gifcli.core.numbers import number_from_text
from gifcli.explore.sweep import INITIAL_PARAMS, Axis, Points, check_axis, resolve_param
from gifcli.explore.sweep.points import judge as judge_points
from gifcli.model.parameters import METHODS, parameter_problem
from gifcli.model.preset import (
    DEFAULT_MAX_STEPS,
    INPUT_SCALE,
    Preset,
    apply_overrides,
    check_run_size,
    effective_dt,
)
from gifcli.simulation.result import Result

WINDOW_MS = 2.0  # Jolivet et al. (2008) use ±2 ms for cortical neurons
DEFAULT_BUDGET = 100_000  # simulations; a fit usually stops well before
DEFAULT_RESTARTS = 5
DEFAULT_SEED = 1
MAX_BUDGET = 10_000_000
SIGMA0 = 0.3  # the first step, as a fraction of each free quantity's range
MIN_POPSIZE = 32  # a batched call costs about the same for 8 neurons as for 64
TOLX = 1e-9  # converged when the steps are this small in the scaled coordinates
STALL_GENERATIONS = 30  # or when the run's best has not improved for this many generations
STALL_TOLERANCE = 1e-12, 1e-4  # by more than this, or this fraction of it
FLAT_GENERATIONS = 10  # a flat generation (all scores equal) widens the search; this many stop it
#: Among equal Γ, closer coincidences rank first; this weight keeps that below a thousandth
#: of one coincidence (Γ moves by about 1 / N_target per coincidence).
TIE_WEIGHT = 1e-3
STRETCHES = 5  # the search scores Γ over the whole run and over its first 1/2 ... 1/16
MAX_SPIKES_PER_MS = 1.0  # pattern mode: a candidate that fires faster is stopped (see cap)


# --- the coincidence factor ---------------------------------------------------------------------


@njit(cache=True)
def _coincidences(times, offsets, target, window, horizons, counts, n_model, offset_sums):
    """For each model train and each horizon h: how many pairs of a target spike and a model
    spike, both before h, lie within ±window of each other (each spike in at most one pair),
    how many model spikes come before h, and the sum of |model − target| over the pairs.

    Both trains are sorted and every window has the same length, so pairing each target
    spike, in order, with the earliest unpaired model spike within its window gives the
    largest number of pairs.
    """
    for i in range(offsets.size - 1):
        lo, stop = offsets[i], offsets[i + 1]
        for h in range(horizons.size):
            horizon = horizons[h]
            j, count, total = lo, 0, 0.0
            for t in target:
                if t >= horizon:
                    break
                while j < stop and times[j] < t - window:
                    j += 1
                if j < stop and times[j] <= t + window and times[j] < horizon:
                    count += 1
                    total += abs(times[j] - t)
                    j += 1
            counts[i, h] = count
            offset_sums[i, h] = total
            n_model[i, h] = np.searchsorted(times[lo:stop], horizon, side="left")


def _gamma(n_coincident, n_model, n_target, duration, window: float):
    """Γ from the counts (arrays or scalars); NaN where 2 ν Δ ≥ 1 (see coincidence_factor)."""
    n_model = np.asarray(n_model, dtype=np.float64)
    chance = 2.0 * n_model / duration * window  # 2 ν Δ: a target spike's chance coincidence
    norm = 1.0 - chance
    with np.errstate(divide="ignore", invalid="ignore"):
        # N_coinc − 2νΔ N_target written so that a perfect match gives exactly 1.0
        gamma = ((n_coincident - n_target) + n_target * norm) / (
            0.5 * (n_target + n_model) * norm)
    gamma = np.where(norm > 0, gamma, np.nan)
    return np.where((n_model == 0) & (n_target == 0), 1.0, gamma)


@dataclass(frozen=True)
class Coincidences:
    """The counts behind Γ for N model trains against one target, over K stretches of the
    run [0, h): (N, K) arrays, and the target's own count in each stretch (K,)."""

    horizons: np.ndarray  # h (ms); inf for the whole run
    durations: np.ndarray  # the length of each stretch (the run's duration for inf)
    counts: np.ndarray  # N_coinc
    n_model: np.ndarray
    n_target: np.ndarray
    offset_sums: np.ndarray  # ms, over the coincident pairs
    window: float

    @classmethod
    def of(cls, trains: SpikeTrains, target: np.ndarray, duration: float,
           window: float = WINDOW_MS, horizons: Sequence[float] = (math.inf,)
           ) -> Coincidences:
        target = np.ascontiguousarray(target, dtype=np.float64)
        h = np.asarray(horizons, dtype=np.float64)
        shape = (len(trains), h.size)
        counts, n_model = np.empty(shape, np.int64), np.empty(shape, np.int64)
        offset_sums = np.empty(shape)
        _coincidences(trains.times, trains.offsets, target, float(window), h, counts,
                      n_model, offset_sums)
        n_target = np.searchsorted(target, h, side="left")
        return cls(h, np.where(np.isinf(h), duration, h), counts, n_model, n_target,
                   offset_sums, float(window))

    def gamma(self) -> np.ndarray:
        """(N, K): Γ of each train over each stretch."""
        return _gamma(self.counts, self.n_model, self.n_target, self.durations, self.window)

    def mean_offset(self) -> np.ndarray:
        """(N, K): the mean |model − target| of the coincident pairs (ms; NaN without any)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.counts > 0, self.offset_sums / self.counts, np.nan)


def coincidence_factor(model, target, duration: float, window: float = WINDOW_MS) -> float:
    """Γ of Jolivet et al. (2008): how well the spike train ``model`` reproduces ``target``.

    Both are spike times in ms, sorted, over a run of ``duration`` ms. With N_coinc the
    number of target spikes that have a model spike within ±``window`` ms (each spike of
    either train counted in at most one pair), N_model and N_target the two counts, and
    ν = N_model / duration the model's rate::

        Γ = (N_coinc − 2 ν Δ N_target) / (½ (N_target + N_model) (1 − 2 ν Δ))

    2 ν Δ N_target is the number of coincidences that a Poisson train of the model's rate
    would get by chance, and 1 − 2 ν Δ scales Γ so that it is 1 for identical trains (and
    for any two trains of equal counts whose spikes all pair up within the window), about 0
    for unrelated ones, and below 0 when there are fewer coincidences than chance gives.
    Two empty trains give 1; one empty train against spikes gives 0. Γ is undefined (NaN)
    when 2 ν Δ ≥ 1, a model that fires so fast that chance alone would match every spike.

    Jolivet R, Kobayashi R, Rauch A, Naud R, Shinomoto S, Gerstner W (2008). A benchmark
    test for a quantitative assessment of simple neuron models. J Neurosci Methods 169:417.
    """
    if not (math.isfinite(duration) and duration > 0):
        raise ValueError(f"duration must be a finite number of ms > 0, got {duration}")
    if not (math.isfinite(window) and window > 0):
        raise ValueError(f"window must be a finite number of ms > 0, got {window}")
    train = SpikeTrains.single(model, duration)
    return float(Coincidences.of(train, as_spike_array(target), duration, window).gamma()[0, 0])


def coincidence_factors(trains: SpikeTrains, target: np.ndarray, duration: float,
                        window: float = WINDOW_MS) -> np.ndarray:
    """Γ of each of ``trains`` against ``target``, as in :func:`coincidence_factor`."""
    return Coincidences.of(trains, target, duration, window).gamma()[:, 0]


# --- free quantities ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Free:
    """One quantity to fit, within [lo, hi]: a model parameter, ``input_scale`` or
    ``initial.X``."""

    name: str
    lo: float
    hi: float

    def value(self, x: np.ndarray) -> np.ndarray:
        """The value at the scaled coordinate ``x`` (0 at lo, 1 at hi)."""
        return self.lo + np.clip(x, 0.0, 1.0) * (self.hi - self.lo)

    def scaled(self, value: float) -> float:
        return (value - self.lo) / (self.hi - self.lo)

    def __str__(self) -> str:
        return f"{self.name} in [{self.lo:g}, {self.hi:g}]"


def parse_free(text: str) -> Free:
    """``P=LO:HI`` from ``--free``: a quantity that can be swept, and finite LO < HI."""
    name, sep, bounds = text.partition("=")
    name, bounds = name.strip(), bounds.strip()
    lo_text, colon, hi_text = bounds.partition(":")
    if not sep or not name or not colon:
        raise PresetError("--free", None, f"{text!r} must look like P=LO:HI, e.g. a=-0.05:0.05")
    resolve_param(name, "--free")
    values = []
    for part, what in ((lo_text, "LO"), (hi_text, "HI")):
        try:
            values.append(number_from_text(part))
        except ValueError as problem:
            raise PresetError("--free", name, f"{what} must be a finite number, got "
                                              f"{part.strip()!r}; {problem}") from None
    lo, hi = values
    if lo >= hi:
        raise PresetError("--free", name, f"LO ({lo:g}) must be less than HI ({hi:g})")
    return Free(name, lo, hi)


def check_free(preset: Preset, free: Sequence[Free]) -> None:
    """Every point of the box gives a valid model with the preset's other values."""
    if not free:
        raise PresetError("--free", None, "is missing: name at least one quantity to fit, "
                                          "e.g. --free a=-0.05:0.05")
    names = [f.name for f in free]
    repeated = next((name for name in names if names.count(name) > 1), None)
    if repeated:
        raise PresetError("--free", repeated, "is given twice; give each quantity once")
    for f in free:
        check_axis(preset, Axis(f.name, np.array([f.lo, f.hi])), "--free")
    bounds = {f.name: f for f in free}
    if "V_reset" in bounds and "V_th_reset" in bounds:  # the one rule between two parameters
        worst = preset.params | {"V_reset": bounds["V_reset"].hi,
                                 "V_th_reset": bounds["V_th_reset"].lo}
        problem = parameter_problem(worst)
        if problem:
            raise PresetError("--free", "V_reset", "must stay below V_th_reset over the whole "
                                                   "box: V_reset's HI must be < V_th_reset's LO")


def start_values(preset: Preset, free: Sequence[Free]) -> dict[str, float]:
    """The preset's own value of each free quantity (before clipping into the box)."""
    values = {}
    for f in free:
        if f.name == INPUT_SCALE:
            values[f.name] = preset.overrides.get(INPUT_SCALE, 1.0)
        elif f.name in INITIAL_PARAMS:
            values[f.name] = preset.initial[f.name.removeprefix("initial.")]
        else:
            values[f.name] = preset.params[f.name]
    return values


# --- targets --------------------------------------------------------------------------------------


def read_target(path: Path | str) -> np.ndarray:
    """The spike times (ms) in ``path``: a CSV with a ``t_ms`` column (one spike a row), or
    the JSON of a run (its ``spike_times_ms``). GifError unless there is at least one spike,
    all finite and in increasing order."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise GifError(f"--target {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise GifError(f"--target {path}: cannot be read ({reason})") from None
    times = _json_times(text, path) if path.suffix.lower() == ".json" else _csv_times(text, path)
    if not times:
        raise GifError(f"--target {path}: holds no spike times; the target needs at least one")
    try:
        return as_spike_array(times)
    except ValueError as error:
        raise GifError(f"--target {path}: {error}") from None


def _json_times(text: str, path: Path) -> list:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise GifError(f"--target {path}: is not valid JSON ({error.msg}, line "
                       f"{error.lineno})") from None
    if not isinstance(data, dict) or "spike_times_ms" not in data:
        raise GifError(f"--target {path}: has no spike_times_ms; give the JSON of a run "
                       "(gif run NAME) or a CSV with a t_ms column")
    times = data["spike_times_ms"]
    if not isinstance(times, list) or not all(
            isinstance(t, int | float) and not isinstance(t, bool) for t in times):
        raise GifError(f"--target {path}: spike_times_ms must be a list of numbers")
    return times


def _csv_times(text: str, path: Path) -> list:
    rows = list(csv.reader(io.StringIO(text)))
    header = [cell.strip() for cell in rows[0]] if rows else []
    if "t_ms" not in header:
        raise GifError(f"--target {path}: has no t_ms column; give one spike time (ms) per "
                       "row under a t_ms header, or the JSON of a run")
    if "V_mV" in header:
        raise GifError(f"--target {path}: is the trace of a run (a row per time step), not a "
                       "list of spikes; give that run's JSON, which holds its spike_times_ms")
    column = header.index("t_ms")
    times = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            times.append(float(row[column]))
        except (ValueError, IndexError):
            shown = row[column].strip() if column < len(row) else ""
            raise GifError(f"--target {path}: line {line}: t_ms must be a number, got "
                           f"{shown!r}") from None
    return times


def _too_fast(result, per_ms: float) -> np.ndarray:
    """How far each candidate fired beyond ``per_ms`` spikes per ms, squashed into [0, 1):
    its rate up to where the batch stopped it (or to the end), over ``per_ms``, as x/(1+x).
    It ranks the candidates that fire too fast to score, so that the search leaves them."""
    stopped = np.where(result.status == 0, result.duration_ms, result.last_spike_ms)
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = np.nan_to_num(result.n_spikes / stopped / per_ms, nan=0.0, posinf=1e300)
    return excess / (1.0 + excess)


@dataclass(frozen=True, eq=False)
class SpikeTarget:
    """Reproduce the spike train ``times`` (ms): score 1 − Γ within ±``window`` ms.

    A candidate that fires so fast that Γ is undefined (2 ν Δ ≥ 1), or whose Γ is below
    −1, scores 2 and more by how fast it fires; the batch stops such a candidate at the
    spike count where Γ becomes undefined (:meth:`cap`), so that it costs little.
    """

    times: np.ndarray
    window: float = WINDOW_MS
    source: str = ""

    def validate(self, preset: Preset) -> None:
        if not (math.isfinite(self.window) and self.window > 0):
            raise GifError(f"--window must be a finite number of ms > 0, got {self.window:g}")
        last = float(self.times[-1])
        if self.times[0] < 0 or last > preset.duration:
            bad = float(self.times[0]) if self.times[0] < 0 else last
            raise GifError(f"--target {self.source}: the spike at {bad:g} ms lies outside "
                           f"the run of {preset.source} (0 to {preset.duration:g} ms)")
        if self.times.size >= self.cap(preset.duration):
            rate = 1000.0 * self.times.size / preset.duration
            raise GifError(f"--window {self.window:g} ms is too wide for a target that fires "
                           f"at {rate:.0f} Hz: Γ needs a window below "
                           f"{preset.duration / (2 * self.times.size):.3g} ms")

    def cap(self, duration: float) -> int:
        """The spike count at which 2 ν Δ reaches 1 (Γ undefined from there on)."""
        return math.ceil(duration / (2.0 * self.window))

    def stretches(self, duration: float) -> np.ndarray:
        """The horizons h of the stretches [0, h) that the search scores: the whole run,
        then halves of it down to a sixteenth, leaving out a stretch in which the target
        alone fires too fast for Γ to mean much (2 ν Δ ≥ 1/2)."""
        halves = duration / 2.0 ** np.arange(1, STRETCHES)
        n_target = np.searchsorted(self.times, halves, side="left")
        useful = 2.0 * n_target / halves * self.window < 0.5
        return np.concatenate(([math.inf], halves[useful]))

    def scores(self, result, points: Points, preset: Preset, method: str,
               dt: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        found = Coincidences.of(result.trains(), self.times, result.duration_ms, self.window,
                                self.stretches(result.duration_ms))
        gamma = found.gamma()
        ok = result.status == 0
        # Each stretch scores 1 − Γ, at most 2 (beyond: too fast, or far below chance).
        per_stretch = np.where(gamma >= -1.0, 1.0 - np.where(gamma >= -1.0, gamma, 0.0), 2.0)
        offset = np.nan_to_num(found.mean_offset()[:, 0] / self.window)
        tie = TIE_WEIGHT / (self.times.size + 1) * offset
        fast = 3.0 + _too_fast(result, 1.0 / (2.0 * self.window))
        score = np.where(ok, per_stretch.mean(axis=1) + tie, fast)
        whole = np.where(ok, gamma[:, 0], np.nan)
        return score, {"loss": 1.0 - whole, "gamma": whole}

    def reached(self, best: dict[str, float]) -> bool:
        return best["loss"] <= 0.0


@dataclass(frozen=True, eq=False)
class PatternTarget:
    """Make the preset's schedule pass the check ``name`` with the largest margin.

    A candidate that fires more than :data:`MAX_SPIKES_PER_MS` spikes per ms on average
    (no pattern is made of that) is stopped there and scores below every failing one.
    """

    name: str

    def validate(self, preset: Preset) -> None:
        if self.name not in checks.CHECKS:
            try:
                checks.resolve_check(self.name)
            except ValueError as error:
                raise GifError(f"--pattern: {error}; the checks are named after the shipped "
                               "presets (gif list)") from None
        needed = checks.CHECKS[self.name].segments_needed
        if needed > len(preset.segments):
            raise GifError(f"--pattern {self.name} reads segment {needed} of the input, but "
                           f"{preset.source} has {len(preset.segments)}")

    def cap(self, duration: float) -> int:
        return math.ceil(duration * MAX_SPIKES_PER_MS)

    def scores(self, result, points: Points, preset: Preset, method: str,
               dt: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        judged = _judge(self.name, preset, points, result, method, dt)
        n_conditions = len(checks.CHECKS[self.name].conditions)
        miss = np.where(np.isnan(judged.margin), 1.0, -judged.margin / (1.0 - judged.margin))
        failing = 1.0 + (n_conditions - 1 - judged.failed_at) + np.clip(miss, 0.0, 1.0)
        passing = -np.nan_to_num(judged.margin)
        ok = result.status == 0
        score = np.where(judged.passed, passing, failing)
        score = np.where(ok, score, n_conditions + 1.0 + _too_fast(result, MAX_SPIKES_PER_MS))
        return score, {"margin": np.where(ok, judged.margin, np.nan),
                       "passed": (judged.passed & ok).astype(np.float64)}

    def reached(self, best: dict[str, float]) -> bool:
        return bool(best["passed"])


def _judge(name: str, preset: Preset, points: Points, result, method: str, dt: float):
    """Check ``name`` over the candidates of one batched call, as a sweep judges its points."""
    return judge_points(preset, points, result, result.trains(), method, dt, name)


Target = SpikeTarget | PatternTarget


# --- the search ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Generation:
    """One generation of CMA-ES: its size, the population's best and median score, the
    step size (scaled coordinates), and the best values found so far."""

    restart: int
    generation: int  # counted over all restarts, from 1
    evaluations: int  # simulations so far, all restarts
    popsize: int
    best_score: float
    median_score: float
    sigma: float
    best_so_far: float  # the lowest score so far, all restarts
    values: dict[str, float]  # the best so far
    measures: dict[str, float]  # its loss and Γ, or its margin and whether it passed


@dataclass(frozen=True, eq=False)
class FitResult:
    """A finished fit: the fitted preset and how the search went (see :func:`fit`)."""

    preset: Preset  # the starting preset
    fitted: Preset  # the preset with the best values (its overrides record them)
    target: Target
    free: tuple[Free, ...]
    start: dict[str, float]  # the preset's values of the free quantities
    values: dict[str, float]  # the best values
    score: float
    measures: dict[str, float]  # loss and gamma, or margin and passed, of the best's run
    run: Result  # the best values, simulated on their own (as `gif run` of the fitted preset)
    verdict: checks.Verdict | None  # of the fitted preset's check on that run
    start_run: Result | None  # the preset's own run (None if it fires without end)
    method: str
    dt: float
    evaluations: int
    history: tuple[Generation, ...]
    seed: int
    budget: int
    restarts: int  # how many restarts ran
    popsize: int  # of the first run
    stop: str  # why the search stopped
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def generations(self) -> int:
        return len(self.history)


def population(preset: Preset, free: Sequence[Free], x: np.ndarray) -> Points:
    """The candidates at the scaled coordinates ``x`` (one row each) as per-point inputs of
    one batched call; ``input_scale`` is relative to the file's amplitudes, as in --set."""
    params: dict = dict(preset.params)
    initial: dict = dict(preset.initial_given)
    scale: float | np.ndarray = 1.0
    for k, f in enumerate(free):
        values = np.ascontiguousarray(f.value(x[:, k]))
        if f.name == INPUT_SCALE:
            scale = values / preset.overrides.get(INPUT_SCALE, 1.0)
        elif f.name in INITIAL_PARAMS:
            initial[f.name.removeprefix("initial.")] = values
        else:
            params[f.name] = values
    return Points(params, initial, scale, int(x.shape[0]))


def reflect(x: np.ndarray) -> np.ndarray:
    """``x`` folded into [0, 1] as a mirror would (1.2 -> 0.8, -0.3 -> 0.3, 2.5 -> 0.5):
    CMA-ES samples freely and every sample lands in the box, the search distribution
    keeping its shape near the bounds."""
    folded = np.mod(x, 2.0)
    return np.where(folded > 1.0, 2.0 - folded, folded)


def warm_up() -> None:
    """Compile (or load from Numba's cache) what a fit runs, on a tiny problem, so that the
    command line can say so while it lasts (see gifcli.cli.terminal.compiled_kernels)."""
    from gifcli.simulation.batch import run_batch

    result = run_batch({"a": np.array([0.0, 0.01])}, [(1.5, 20.05), (0.0, 9.95)],
                       record=4, max_spikes=4)
    coincidence_factors(result.trains(), np.array([5.0]), result.duration_ms)


def default_popsize(n_free: int) -> int:
    """pycma's default population (4 + 3 ln n), and at least MIN_POPSIZE."""
    return max(MIN_POPSIZE, 4 + int(3 * math.log(n_free)))


def _restarted_search(search: _Search, evaluate: Callable[[np.ndarray], np.ndarray],
                      x0: list[float], rng: np.random.Generator, free: tuple[Free, ...],
                      target: Target, first_popsize: int, budget: int, restarts: int,
                      progress: Callable[[Generation], None] | None) -> tuple[int, bool]:
    """CMA-ES runs into ``search``, restarted with a doubled population while a run converges
    short of the goal; the last run's index, and whether the budget cut it short."""
    import cma

    dimension = len(x0)
    run = 0
    while True:
        size = first_popsize * 2 ** run
        options = {"popsize": size, "seed": math.nan,
                   "randn": lambda *shape: rng.standard_normal(shape), "tolx": TOLX,
                   "tolflatfitness": FLAT_GENERATIONS, "tolfun": 0.0, "tolfunhist": 0.0,
                   "maxfevals": budget - search.evaluations, "verbose": -9, "verb_log": 0,
                   "verb_disp": 0}
        # A restart starts afresh at a random point of the box, with a larger population.
        es = cma.CMAEvolutionStrategy(x0 if run == 0 else rng.random(dimension).tolist(),
                                      SIGMA0, options)
        run_best, improved_at = math.inf, 0
        while not es.stop() and search.evaluations + size <= budget:
            solutions = es.ask()
            scores = evaluate(reflect(np.array(solutions)[:, :len(free)]))
            es.tell(solutions, scores.tolist())
            es.mean = reflect(es.mean)  # keep the centre in the box, not in a mirror image
            generation = search.generation(run, size, scores, es.sigma, free)
            if progress is not None:
                progress(generation)
            if _improves(float(scores.min()), run_best):
                run_best, improved_at = float(scores.min()), generation.generation
            if generation.generation - improved_at >= STALL_GENERATIONS:
                break
        # Restart only a run that converged short of its goal, while the budget allows.
        again = first_popsize * 2 ** (run + 1)
        if (target.reached(search.best_measures) or run >= restarts
                or search.evaluations + again > budget):
            break
        run += 1
    return run, search.evaluations + size > budget and not es.stop()


def _check_options(preset: Preset, free: tuple[Free, ...], target: Target, method: str,
                   budget: int, restarts: int, seed: int) -> None:
    """GifError for a fit that cannot be run as asked, before anything is simulated."""
    if method not in METHODS:
        raise GifError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    check_free(preset, free)
    target.validate(preset)
    for name, value, low in (("--budget", budget, 1), ("--restarts", restarts, 0),
                             ("--seed", seed, 0)):
        if isinstance(value, bool) or int(value) != value or value < low:
            raise GifError(f"{name} must be a whole number ≥ {low}, got {value}")
    if budget > MAX_BUDGET:
        raise GifError(f"--budget must be ≤ {MAX_BUDGET:,}, got {budget:,}")


def fit(preset: Preset, free: Sequence[Free], target: Target, *, method: str = "exact",
        dt: float | None = None, budget: int = DEFAULT_BUDGET, seed: int = DEFAULT_SEED,
        restarts: int = DEFAULT_RESTARTS, popsize: int | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        progress: Callable[[Generation], None] | None = None) -> FitResult:
    """Search the ``free`` quantities of ``preset`` for ``target`` with CMA-ES.

    At most ``budget`` simulations, each generation in one batched call; ``seed`` fixes the
    random numbers; ``restarts`` bounds the restarts with a doubled population; ``popsize``
    defaults to :func:`default_popsize`. ``progress`` is told each :class:`Generation`.
    Everything is validated before anything is simulated (GifError).
    """
    from gifcli.simulation.batch import run_batch
    from gifcli.simulation.grid import build_grid

    free = tuple(free)
    _check_options(preset, free, target, method, budget, restarts, seed)
    dt = effective_dt(preset, dt)
    check_run_size(preset, dt, max_steps)
    grid = build_grid(list(preset.segments), dt, exact=method == "exact")
    v_after = (checks.CHECKS[target.name].v_after(preset.segments)
               if isinstance(target, PatternTarget) else None)
    cap = target.cap(preset.duration)
    start = start_values(preset, free)
    notes = [f"the start {f.name} = {start[f.name]:g} lies outside [{f.lo:g}, {f.hi:g}]; "
             f"the search starts at the nearest bound" for f in free
             if not f.lo <= start[f.name] <= f.hi]
    # pycma needs two coordinates or more: one free quantity gets a second that nothing reads
    x0 = [min(1.0, max(0.0, f.scaled(start[f.name]))) for f in free] + [0.5] * (len(free) < 2)
    first_popsize = popsize or default_popsize(len(free))
    if budget < first_popsize:
        raise GifError(f"--budget {budget} is smaller than one generation of "
                       f"{first_popsize} simulations")
    rng = np.random.default_rng(seed)
    search = _Search()

    def evaluate(x: np.ndarray) -> np.ndarray:
        points = population(preset, free, x)
        result = run_batch(points.params, grid, method=method, dt=dt, initial=points.initial,
                           input_scale=points.scale, record=cap, max_spikes=cap,
                           track_after=v_after)
        scores, measures = target.scores(result, points, preset, method, dt)
        search.keep(x, scores, measures)
        return scores

    run, out_of_budget = _restarted_search(search, evaluate, x0, rng, free, target,
                                           first_popsize, budget, restarts, progress)
    values = {f.name: float(f.value(x)) for f, x in zip(free, search.best_x, strict=True)}
    fitted = apply_overrides(preset, list(values.items()), "gif fit")
    if isinstance(target, PatternTarget):
        fitted = replace(fitted, check=target.name)
    run_of_best, measures, verdict = _final_run(fitted, target, method, dt, max_steps)
    return FitResult(preset=preset, fitted=fitted, target=target, free=free, start=start,
                     values=values, score=search.best_score, measures=measures,
                     run=run_of_best, verdict=verdict, start_run=_start_run(preset, method, dt),
                     method=method, dt=dt, evaluations=search.evaluations,
                     history=tuple(search.history), seed=int(seed), budget=int(budget),
                     restarts=run, popsize=first_popsize,
                     stop="budget" if out_of_budget else "converged", notes=tuple(notes))


def _improves(score: float, best: float) -> bool:
    """Whether ``score`` improves on ``best`` by more than STALL_TOLERANCE: a run that
    only polishes the timing of a wrong train (its Γ fixed) has stalled."""
    absolute, relative = STALL_TOLERANCE
    return best == math.inf or score < best - max(absolute, relative * abs(best))


def _final_run(fitted: Preset, target: Target, method: str, dt: float, max_steps: int):
    """The best candidate run on its own, as ``gif run`` of the fitted preset runs it, and
    what it scores: (Result, measures, the verdict of the fitted preset's check or None)."""
    from gifcli.simulation.single import simulate

    result = simulate(fitted, method, dt, max_steps)
    verdict = checks.evaluate(result)
    if isinstance(target, SpikeTarget):
        gamma = coincidence_factor(result.spike_times, target.times, result.duration,
                                   target.window)
        return result, {"loss": 1.0 - gamma, "gamma": gamma}, verdict
    margin = verdict.margin.relative if verdict.margin is not None else math.nan
    return result, {"margin": margin, "passed": float(verdict.passed)}, verdict


def _start_run(preset: Preset, method: str, dt: float):
    """The preset's own run, for the figure; None if it fires without end."""
    from gifcli.core.errors import SimulationError
    from gifcli.simulation.single import simulate

    try:
        return simulate(preset, method, dt)
    except SimulationError:
        return None


class _Search:
    """What the search has seen: the best candidate so far, the count and the history."""

    def __init__(self) -> None:
        self.evaluations = 0
        self.best_x: np.ndarray | None = None
        self.best_score = math.inf
        self.best_measures: dict[str, float] = {}
        self.history: list[Generation] = []

    def keep(self, x: np.ndarray, scores: np.ndarray, measures: dict[str, np.ndarray]) -> None:
        self.evaluations += x.shape[0]
        i = int(np.argmin(scores))
        if scores[i] < self.best_score:
            self.best_x, self.best_score = x[i].copy(), float(scores[i])
            self.best_measures = {k: float(v[i]) for k, v in measures.items()}

    def generation(self, run: int, size: int, scores: np.ndarray, sigma: float,
                   free: Sequence[Free]) -> Generation:
        values = {f.name: float(f.value(x)) for f, x in zip(free, self.best_x, strict=True)}
        record = Generation(run, len(self.history) + 1, self.evaluations, size,
                            float(scores.min()), float(np.median(scores)), float(sigma),
                            self.best_score, values, dict(self.best_measures))
        self.history.append(record)
        return record
