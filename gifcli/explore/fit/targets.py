"""What a fit aims at: Γ, the coincidence factor of Jolivet et al. (2008), for one or many
trains; the free quantities (``--free P=LO:HI``); the target trains read from files; and the
two kinds of target, a :class:`SpikeTarget` and a :class:`PatternTarget`, each of which
scores a batch of candidates."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from gifcli.analysis import checks
from gifcli.analysis.features import SpikeTrains, as_spike_array
from gifcli.core.arguments import positive, shown
from gifcli.core.errors import GifError, PresetError
from gifcli.core.numbers import number_from_text
from gifcli.explore.sweep import INITIAL_PARAMS, Axis, Points, check_axis, resolve_param
from gifcli.explore.sweep.points import judge as judge_points
from gifcli.model.parameters import parameter_problem
from gifcli.model.preset import (
    INPUT_SCALE,
    Preset,
)

WINDOW_MS = 2.0  # Jolivet et al. (2008) use ±2 ms for cortical neurons
DEFAULT_BUDGET = 100_000  # simulations; a fit usually stops well before
DEFAULT_RESTARTS = 5
DEFAULT_SEED = 1
MAX_BUDGET = 10_000_000
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
    duration, window = positive(duration, "duration", "ms"), positive(window, "window", "ms")
    train = SpikeTrains.single(as_spike_array(model, "model"), duration)
    return float(Coincidences.of(train, as_spike_array(target, "target"), duration, window
                                 ).gamma()[0, 0])


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

    def __post_init__(self) -> None:
        lo, hi = free_bounds(self.name, self.lo, self.hi, "Free")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

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
    return Free(name, *free_bounds(name, *values, "--free"))


def free_bounds(name: object, lo: object, hi: object, where: str) -> tuple[float, float]:
    """(lo, hi) as floats for a quantity that can be swept: finite, LO < HI."""
    if not isinstance(name, str):
        raise PresetError(where, None, f"the name must be text, got {shown(name)}")
    resolve_param(name, where)
    bounds = []
    for value, what in ((lo, "LO"), (hi, "HI")):
        if not isinstance(value, int | float | np.integer | np.floating) or isinstance(
                value, bool | np.bool_) or not math.isfinite(value):
            raise PresetError(where, name, f"{what} must be a finite number, got {shown(value)}")
        bounds.append(float(value))
    if bounds[0] >= bounds[1]:
        raise PresetError(where, name, f"LO ({bounds[0]:g}) must be less than HI "
                                       f"({bounds[1]:g})")
    if not math.isfinite(bounds[1] - bounds[0]):  # the search steps across the box's span
        raise PresetError(where, name, f"the span HI − LO of [{bounds[0]:g}, {bounds[1]:g}] is "
                                       "beyond the range of a float; give closer bounds")
    return bounds[0], bounds[1]


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
    except RecursionError:  # Python's parser recurses once per level of nesting
        raise GifError(f"--target {path}: is nested too deeply to be the JSON of a run; give "
                       "the JSON of a run (gif run NAME) or a CSV with a t_ms column") from None
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

    times: np.ndarray  # any sequence of spike times is taken, held as a float64 array
    window: float = WINDOW_MS
    source: str = ""
    input_scale: float = 1.0  # this train's input: the preset's amplitudes times this

    def __post_init__(self) -> None:
        where = f"--target {self.source}" if self.source else "SpikeTarget"
        try:
            times = as_spike_array(self.times)
        except (TypeError, ValueError) as error:
            raise GifError(f"{where}: {error}") from None
        if times.size == 0:
            raise GifError(f"{where}: holds no spike times; the target needs at least one")
        object.__setattr__(self, "times", times)

    def validate(self, preset: Preset) -> None:
        if not (math.isfinite(self.window) and self.window > 0):
            raise GifError(f"--window must be a finite number of ms > 0, got {self.window:g}")
        if not (math.isfinite(self.input_scale) and self.input_scale > 0):
            raise GifError(f"--input-scale of --target {self.source} must be a finite "
                           f"number > 0, got {self.input_scale:g}")
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

    def scores(self, result, points: Points, preset: Preset, method: str, dt: float,
               fastest_rate: float | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
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

    def scores(self, result, points: Points, preset: Preset, method: str, dt: float,
               fastest_rate: float | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        judged = _judge(self.name, preset, points, result, method, dt, fastest_rate)
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


def _judge(name: str, preset: Preset, points: Points, result, method: str, dt: float,
           fastest_rate: float | None):
    """Check ``name`` over the candidates of one batched call, as a sweep judges its points
    (its probe at the coarsest grid for ``fastest_rate``, if given)."""
    return judge_points(preset, points, result, result.trains(), method, dt, name,
                        fastest_rate)


Target = SpikeTarget | PatternTarget


def fit_targets(target: object) -> tuple:
    """fit()'s ``target`` as a tuple of targets: a SpikeTarget, a PatternTarget, or a list of
    SpikeTargets (bare spike times are refused, with how to wrap them)."""
    if isinstance(target, Target):
        return (target,)
    if isinstance(target, list | tuple) and all(isinstance(t, Target) for t in target):
        return tuple(target)
    raise GifError(f"target must be a SpikeTarget, a PatternTarget or a list of SpikeTargets, "
                   f"got {type(target).__name__} {shown(target)}; give spike times as "
                   "SpikeTarget(times)")
