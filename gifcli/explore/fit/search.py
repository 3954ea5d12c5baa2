"""The search of a fit: CMA-ES over the free quantities, each run followed (for spike
trains) by the least-squares polish of :mod:`gifcli.explore.fit.polish`, restarts with a
doubled population, and the :class:`FitResult` with what the trains determine."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from gifcli.analysis import checks
from gifcli.analysis.spike_grid import coarse_rate, fastest_rate, spike_dt
from gifcli.core.arguments import choice, count, items, number
from gifcli.core.errors import GifError, PresetError
from gifcli.explore.fit import polish
from gifcli.explore.fit.targets import (
    DEFAULT_BUDGET,
    DEFAULT_RESTARTS,
    DEFAULT_SEED,
    MAX_BUDGET,
    Free,
    PatternTarget,
    SpikeTarget,
    Target,
    check_free,
    coincidence_factor,
    coincidence_factors,
    fit_targets,
    start_values,
)
from gifcli.explore.sweep import INITIAL_PARAMS, Points
from gifcli.model.parameters import METHODS
from gifcli.model.preset import (
    DEFAULT_MAX_STEPS,
    INPUT_SCALE,
    Preset,
    apply_overrides,
    check_run_size,
    effective_dt,
    validate_preset,
)
from gifcli.simulation.result import Result

SIGMA0 = 0.3  # the first step, as a fraction of each free quantity's range
MIN_POPSIZE = 32  # a batched call costs about the same for 8 neurons as for 64
#: Memory per candidate of a generation, besides its spike buffer: the batch's per-neuron
#: results and work arrays, its parameters, CMA-ES's sample and the scores. Measured at about
#: 780 bytes (peak RSS of tonic_spiking fits with 20,000 and 100,000 a generation).
BYTES_PER_CANDIDATE = 1024
TOLX = 1e-9  # converged when the steps are this small in the scaled coordinates
STALL_GENERATIONS = 30  # or when the run's best has not improved for this many generations
STALL_TOLERANCE = 1e-12, 1e-4  # by more than this, or this fraction of it
FLAT_GENERATIONS = 10  # a flat generation (all scores equal) widens the search; this many stop it
#: Why a CMA-ES run stopped, by pycma's name of the rule, or ours.
STOP_REASONS = {
    "goal": "every spike matched (Γ = 1)",
    "tolx": f"its steps fell below {TOLX:g} of each range",
    "tolflatfitness": f"{FLAT_GENERATIONS} generations in a row scored all alike",
    "stalled": f"its best had not improved for {STALL_GENERATIONS} generations",
    "budget": "the budget of simulations ran out",
}


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
    targets: tuple[Target, ...]  # one PatternTarget, or one SpikeTarget per train
    free: tuple[Free, ...]
    start: dict[str, float]  # the preset's values of the free quantities
    values: dict[str, float]  # the best values
    score: float
    measures: dict[str, float]  # loss (summed) and gamma (the worst), or margin and passed
    gammas: tuple[float, ...]  # Γ of each spike-train target (empty for a pattern)
    runs: tuple[Result, ...]  # the best values under each target's input, on their own
    verdict: checks.Verdict | None  # of the fitted preset's check on the first run
    start_run: Result | None  # the preset's own run (None if it fires without end)
    method: str
    dt: float  # of the final runs (the figure's traces): the preset's grid, or --dt
    evaluations: int
    history: tuple[Generation, ...]
    seed: int
    budget: int
    restarts: int  # how many restarts ran
    popsize: int  # of the first run
    stop: str  # "converged" or "budget"
    stops: tuple[str, ...] = ()  # why each CMA-ES run stopped, and the polish after it
    uncertainty: polish.Uncertainty | None = None  # spike trains whose counts all match
    notes: tuple[str, ...] = field(default_factory=tuple)
    search_dt: float | None = None  # the grid the search stepped (None: dt)

    @property
    def target(self) -> Target:
        return self.targets[0]

    @property
    def run(self) -> Result:
        return self.runs[0]

    @property
    def generations(self) -> int:
        return len(self.history)

    def plot(self):
        """The figure ``gif fit`` draws: each train over its input, and the loss per
        generation (a matplotlib Figure)."""
        from gifcli.plots.fit import fit_figure  # climbs: see pyproject's importlinter
        from gifcli.plots.inline import inline

        return inline(fit_figure(self))


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


class _Problem:
    """One fit's simulations: each generation's candidates under every target's input, one
    batched call per target, scored (summed over the targets) into the search's record."""

    def __init__(self, preset: Preset, free: tuple[Free, ...], targets: tuple[Target, ...],
                 method: str, dt: float, fastest_rate: float | None = None):
        from gifcli.simulation.grid import build_grid

        self.preset, self.free, self.targets, self.method = preset, free, targets, method
        # with a fastest_rate (exact, no dt given) the search steps at the coarsest grid
        self.fastest_rate = fastest_rate
        self.dt = spike_dt(preset.segments, fastest_rate, dt)
        self.grid = build_grid(list(preset.segments), self.dt, exact=method == "exact")
        self.v_after = (checks.CHECKS[targets[0].name].v_after(preset.segments)
                        if isinstance(targets[0], PatternTarget) else None)
        self.cap = max(t.cap(preset.duration) for t in targets)
        self.search = _Search()

    def batches(self, x: np.ndarray) -> tuple[Points, list]:
        from gifcli.simulation.batch import run_batch

        points = population(self.preset, self.free, x)
        scale = np.asarray(points.scale, dtype=np.float64)
        return points, [run_batch(points.params, self.grid, method=self.method, dt=self.dt,
                                  initial=points.initial,
                                  input_scale=scale * getattr(t, "input_scale", 1.0),
                                  record=self.cap, max_spikes=self.cap,
                                  track_after=None if self.method == "exact" else self.v_after)
                for t in self.targets]

    def check_box(self) -> None:
        """Refuse, before the search, a box in which nothing runs to the end: its centre,
        the middle of each face and the two extreme corners all overflow or fire without
        end (gif run refuses those), so the search could only end on a refused run."""
        n = len(self.free)
        faces = np.full((2 * n, n), 0.5)
        faces[np.arange(n), np.arange(n)] = 0.0
        faces[n + np.arange(n), np.arange(n)] = 1.0
        x = np.vstack([np.full((1, n), 0.5), faces, np.zeros((1, n)), np.ones((1, n))])
        if not any(np.any(result.status == 0) for result in self.batches(x)[1]):
            raise PresetError("--free", None, "nothing in the box runs to the end (its centre, "
                              "the middle of each face and the two extreme corners all "
                              "overflow or fire without end, which gif run refuses); narrow "
                              "the bounds")

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        points, results = self.batches(x)
        scored = [t.scores(r, points, self.preset, self.method, self.dt, self.fastest_rate)
                  for t, r in zip(self.targets, results, strict=True)]
        scores = np.sum([score for score, _ in scored], axis=0)
        measures = scored[0][1]
        if len(scored) > 1:  # spike trains: the losses add up, Γ is the worst one's
            measures = {"loss": np.sum([m["loss"] for _, m in scored], axis=0),
                        "gamma": np.min([m["gamma"] for _, m in scored], axis=0)}
        self.search.keep(x, scores, measures)
        return scores

    def trains(self, x: np.ndarray) -> list:
        return [result.trains() for result in self.batches(x)[1]]

    def polish_best(self) -> str:
        """Least squares from the best so far; the polished point joins the search's record
        (and wins if it scores better). Why the polish stopped."""
        trains = [polish.Train(t.times, self.preset.duration) for t in self.targets]
        done = polish.polish(self.trains, trains, self.search.best_x, self.targets[0].window)
        self.search.evaluations += done.evaluations - 1
        self.evaluate(done.x[None, :])
        return done.stop

    def spike_counts_match(self) -> bool:
        found = self.trains(self.search.best_x[None, :])
        return all(int(np.diff(f.offsets)[0]) == t.times.size
                   for f, t in zip(found, self.targets, strict=True))

    def uncertainty(self) -> polish.Uncertainty:
        trains = [polish.Train(t.times, self.preset.duration) for t in self.targets]
        return polish.uncertainty(self.trains, trains, self.search.best_x,
                                  [f.name for f in self.free], [f.hi - f.lo for f in self.free])


def _cma_run(problem: _Problem, x0: list[float], size: int, rng: np.random.Generator,
             budget: int, run: int, progress: Callable[[Generation], None] | None) -> str:
    """One CMA-ES run of population ``size``; why it stopped (a key of STOP_REASONS, or
    pycma's name of another rule)."""
    import cma

    search, free = problem.search, problem.free
    options = {"popsize": size, "seed": math.nan,
               "randn": lambda *shape: rng.standard_normal(shape), "tolx": TOLX,
               "tolflatfitness": FLAT_GENERATIONS, "tolfun": 0.0, "tolfunhist": 0.0,
               "maxfevals": budget - search.evaluations, "verbose": -9, "verb_log": 0,
               "verb_disp": 0}
    es = cma.CMAEvolutionStrategy(x0, SIGMA0, options)
    spikes = isinstance(problem.targets[0], SpikeTarget)
    run_best, improved_at = math.inf, 0
    while not es.stop():
        if search.evaluations + size > budget:
            return "budget"
        solutions = es.ask()
        scores = problem.evaluate(reflect(np.array(solutions)[:, :len(free)]))
        es.tell(solutions, scores.tolist())
        es.mean = reflect(es.mean)  # keep the centre in the box, not in a mirror image
        generation = search.generation(run, size, scores, es.sigma, free)
        if progress is not None:
            progress(generation)
        if spikes and problem.targets[0].reached(search.best_measures):
            return "goal"  # the polish takes it from here, far faster than CMA-ES
        if _improves(float(scores.min()), run_best):
            run_best, improved_at = float(scores.min()), generation.generation
        if generation.generation - improved_at >= STALL_GENERATIONS:
            return "stalled"
    return "budget" if "maxfevals" in es.stop() else next(iter(es.stop()))


def _restarted_search(problem: _Problem, x0: list[float], rng: np.random.Generator,
                      first_popsize: int, budget: int, restarts: int,
                      progress: Callable[[Generation], None] | None
                      ) -> tuple[int, bool, list[str]]:
    """CMA-ES runs, each followed by the polish for spike trains, restarted with a doubled
    population while a run ends short of the goal; the last run's index, whether the budget
    cut it short, and a sentence per run on why it stopped."""
    target, search = problem.targets[0], problem.search
    run, stops = 0, []
    while True:
        size = first_popsize * 2 ** run
        # A restart starts afresh at a random point of the box, with a larger population.
        start = x0 if run == 0 else rng.random(len(x0)).tolist()
        why = _cma_run(problem, start, size, rng, budget, run, progress)
        sentence = (f"CMA-ES run {run + 1} ({size} a generation) stopped: "
                    f"{STOP_REASONS.get(why, f'pycma rule {why}')}")
        if isinstance(target, SpikeTarget) and search.best_x is not None:
            sentence += f"; then {problem.polish_best()}"
        stops.append(sentence)
        again = first_popsize * 2 ** (run + 1)
        if (target.reached(search.best_measures) or run >= restarts
                or search.evaluations + again > budget):
            break
        run += 1
    return run, why == "budget", stops


def _check_options(preset: Preset, free: tuple[Free, ...], targets: tuple[Target, ...],
                   method: str, budget: int, restarts: int, seed: int) -> None:
    """GifError for a fit that cannot be run as asked, before anything is simulated."""
    choice(method, "method", METHODS)
    check_free(preset, free)
    if not targets:
        raise GifError("give at least one target")
    if len(targets) > 1 and not all(isinstance(t, SpikeTarget) for t in targets):
        raise GifError("several targets must all be spike trains; a pattern is fitted alone")
    for target in targets:
        target.validate(preset)
    if len({getattr(t, "window", None) for t in targets}) > 1:
        raise GifError("every target train needs the same --window")
    for name, value, low in (("--budget", budget, 1), ("--restarts", restarts, 0),
                             ("--seed", seed, 0)):
        count(int(value) if isinstance(value, float) and value.is_integer() else value,
              name, low)
    if budget > MAX_BUDGET:
        raise GifError(f"--budget must be ≤ {MAX_BUDGET:,}, got {budget:,}")


def fit(preset: Preset, free: Sequence[Free], target: Target | Sequence[SpikeTarget], *,
        method: str = "exact", dt: float | None = None, budget: int = DEFAULT_BUDGET,
        seed: int = DEFAULT_SEED, restarts: int = DEFAULT_RESTARTS,
        popsize: int | None = None, max_steps: int = DEFAULT_MAX_STEPS,
        progress: Callable[[Generation], None] | None = None) -> FitResult:
    """Search the ``free`` quantities of ``preset`` for ``target`` with CMA-ES, and polish
    a spike-train fit by least squares on the spike times.

    ``target``: a PatternTarget, a SpikeTarget, or a list of SpikeTargets (each with its
    own ``input_scale``; their losses add up). At most ``budget`` simulations in the
    search (the polish adds its few), each generation in one batched call per target;
    ``seed`` fixes the random numbers; ``restarts`` bounds the restarts with a doubled
    population; ``popsize`` defaults to :func:`default_popsize`. ``progress`` is told each
    :class:`Generation`. Everything is validated before anything is simulated (GifError).
    """
    preset, free = validate_preset(preset), items(free, "free", Free)
    targets = fit_targets(target)
    _check_options(preset, free, targets, method, budget, restarts, seed)
    budget, restarts, seed = int(budget), int(restarts), int(seed)  # 1e4 is taken as 10000
    given = number(dt, "dt")
    dt = effective_dt(preset, given)
    check_run_size(preset, dt, count(max_steps, "max_steps", 1))
    start = start_values(preset, free)
    notes = [f"the start {f.name} = {start[f.name]:g} lies outside [{f.lo:g}, {f.hi:g}]; "
             f"the search starts at the nearest bound" for f in free
             if not f.lo <= start[f.name] <= f.hi]
    # pycma needs two coordinates or more: one free quantity gets a second that nothing reads
    x0 = [min(1.0, max(0.0, f.scaled(start[f.name]))) for f in free] + [0.5] * (len(free) < 2)
    first_popsize = count(popsize, "popsize", 2) if popsize is not None else \
        default_popsize(len(free))
    if budget < first_popsize:
        raise GifError(f"--budget {budget} is smaller than one generation of "
                       f"{first_popsize} simulations")
    check_fit_memory(preset, targets, first_popsize, budget, restarts)
    problem = _Problem(preset, free, targets, method, dt, search_rate(preset, free, method, given))
    problem.check_box()
    run, out_of_budget, stops = _restarted_search(problem, x0, np.random.default_rng(seed),
                                                  first_popsize, budget, restarts, progress)
    search = problem.search
    values = {f.name: float(f.value(x)) for f, x in zip(free, search.best_x, strict=True)}
    fitted = apply_overrides(preset, list(values.items()), "gif fit")
    if isinstance(targets[0], PatternTarget):
        fitted = replace(fitted, check=targets[0].name)
    uncertainty = None
    if isinstance(targets[0], SpikeTarget):
        if problem.spike_counts_match():
            uncertainty = problem.uncertainty()
        else:
            notes.append("no standard errors: the fitted trains do not have the targets' "
                         "spike counts")
    runs, measures, gammas, verdict = _final_runs(fitted, targets, method, dt, max_steps)
    return FitResult(preset=preset, fitted=fitted, targets=targets, free=free, start=start,
                     values=values, score=search.best_score, measures=measures,
                     gammas=gammas, runs=runs, verdict=verdict,
                     start_run=_start_run(preset, method, dt), method=method, dt=dt,
                     evaluations=search.evaluations, history=tuple(search.history),
                     seed=int(seed), budget=int(budget), restarts=run,
                     popsize=first_popsize, stop="budget" if out_of_budget else "converged",
                     stops=tuple(stops), uncertainty=uncertainty, notes=tuple(notes),
                     search_dt=problem.dt)


def search_rate(preset: Preset, free: Sequence[Free], method: str,
                dt: float | None) -> float | None:
    """The fastest rate (k1, k2, b, 1/tau) in the box of ``free`` if the search steps at
    the coarsest grid for it (``exact``, no dt given), else None: the search steps at the
    run's dt."""
    params = dict(preset.params) | {f.name: np.array([f.lo, f.hi]) for f in free
                                    if f.name in preset.params}
    return coarse_rate(method, dt, fastest_rate(params))


def check_fit_memory(preset: Preset, targets: tuple[Target, ...], first_popsize: int,
                     budget: int, restarts: int) -> None:
    """Refuse, before anything is allocated, a fit whose largest generation would not fit
    in the memory that is free now: each candidate keeps up to a target's cap of spike
    times (twice: the buffer and its trains), under every target's input at once."""
    from gifcli.simulation.single import available_memory

    largest = first_popsize  # a restart doubles the population while the budget allows it
    for _ in range(int(restarts)):
        if largest * 2 > budget:
            break
        largest *= 2
    cap = max(t.cap(preset.duration) for t in targets)
    needed = largest * len(targets) * (BYTES_PER_CANDIDATE + 2 * 8 * cap)
    free = available_memory()
    if free is not None and needed > free:
        raise GifError(f"this fit needs about {needed / 1e9:.3g} GB of memory ({largest:,} "
                       f"candidates at once, each keeping up to {cap:,} spike times), and "
                       f"{free / 1e9:.1f} GB are free; use a wider --window, a smaller "
                       "--popsize or fewer --restarts")


def _improves(score: float, best: float) -> bool:
    """Whether ``score`` improves on ``best`` by more than STALL_TOLERANCE: a run that
    only polishes the timing of a wrong train (its Γ fixed) has stalled."""
    absolute, relative = STALL_TOLERANCE
    return best == math.inf or score < best - max(absolute, relative * abs(best))


def under_input(fitted: Preset, target: Target) -> Preset:
    """The fitted preset under ``target``'s input: its amplitudes times the target's
    input_scale, as ``gif run NAME_fit.yaml --set input_scale=X`` multiplies them (to the
    bit, so that the fitted file reproduces every target's train)."""
    scale = getattr(target, "input_scale", 1.0)
    if scale == 1.0:
        return fitted
    return replace(fitted, segments=tuple((a * scale, d) for a, d in fitted.segments))


def _final_runs(fitted: Preset, targets: tuple[Target, ...], method: str, dt: float,
                max_steps: int):
    """The best candidate run on its own under each target's input, as ``gif run`` of the
    fitted preset runs it, and what it scores: (runs, measures, Γ per target, the verdict
    of the fitted preset's check on the first run)."""
    from gifcli.simulation.single import simulate

    runs = tuple(simulate(under_input(fitted, t), method, dt, max_steps) for t in targets)
    verdict = checks.evaluate(runs[0])
    if isinstance(targets[0], SpikeTarget):
        gammas = tuple(coincidence_factor(r.spike_times, t.times, r.duration, t.window)
                       for r, t in zip(runs, targets, strict=True))
        loss = float(sum(1.0 - g for g in gammas))
        return runs, {"loss": loss, "gamma": min(gammas)}, gammas, verdict
    margin = verdict.margin.relative if verdict.margin is not None else math.nan
    return runs, {"margin": margin, "passed": float(verdict.passed)}, (), verdict


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
