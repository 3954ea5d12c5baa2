"""Run presets and gather what each run gives: the result, its features and its check.

The plain functions behind ``gif run``, ``gif run --all``, ``gif gallery`` and ``gif check``,
usable without the CLI. The order is always: validate everything (presets, overrides, dt,
step cap, output folder), then simulate everything, then write. So bad input, or a run that
cannot finish, writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gifcli import __version__, files
from gifcli.analysis.checks import Verdict
from gifcli.analysis.features import Features, spike_features
from gifcli.core.errors import GifError
from gifcli.model.preset import (
    DEFAULT_MAX_STEPS,
    Preset,
    check_run_size,
    effective_dt,
    resolve,
    shipped_presets,
    with_overrides,
    with_schedule,
)
from gifcli.simulation.result import Result
from gifcli.simulation.single import check_memory, simulate

DATA_FORMATS = ("csv", "json")
FIGURE_FORMATS = ("png", "svg", "pdf")
OUTPUT_FORMATS = FIGURE_FORMATS + DATA_FORMATS
GALLERY_NAME = "gallery"

Progress = Callable[[str], None]  # told the name of each item as it is done


def _nothing(_: str) -> None:
    pass


@dataclass(frozen=True, eq=False)
class Outcome:
    """One simulated preset: the result, its spike features and its check's verdict."""

    result: Result
    features: Features
    verdict: Verdict | None  # None: the preset names no check

    @property
    def failed(self) -> bool:
        return self.verdict is not None and not self.verdict.passed

    def summary(self) -> dict[str, Any]:
        """The ``NAME.json`` summary (see the README's Output files)."""
        check = None if self.verdict is None else self.verdict.as_json()
        return files.summary(self.result, self.features.as_json(), check, __version__)


def select_presets(refs: Sequence[str], every: bool = False,
                   overrides: Sequence[str] = (), schedule: str | None = None) -> list[Preset]:
    """The presets named by ``refs`` (names, letters or files), or all shipped ones.

    ``--set`` overrides apply to each. A preset named twice runs once; two different files
    with one name would write the same output files, which is an error.
    """
    # Sizes are checked later, against the run's own dt and --max-steps.
    presets = shipped_presets() if every else [resolve(ref, max_steps=None) for ref in refs]
    chosen: dict[str, Preset] = {}
    for preset in presets:
        earlier = chosen.get(preset.name)
        if earlier is not None and earlier.source != preset.source:
            raise GifError(
                f"{earlier.source} and {preset.source} are both named {preset.name!r}, so "
                "their output files would overwrite each other; rename one"
            )
        chosen.setdefault(preset.name, preset)
    presets = [with_schedule(p, schedule) if schedule else p for p in chosen.values()]
    return [with_overrides(p, list(overrides)) if overrides else p for p in presets]


def check_sizes(presets: Sequence[Preset], dts: Sequence[float | None],
                max_steps: int = DEFAULT_MAX_STEPS) -> None:
    """Every preset at every dt fits its segments and the step cap (else PresetError)."""
    for preset in presets:
        for dt in dts:
            check_run_size(preset, effective_dt(preset, dt), max_steps)
            check_memory(preset, effective_dt(preset, dt))


def outcome_of(result: Result) -> Outcome:
    """The features and the check's verdict of one result."""
    # result.verdict, cached: the figure shows it too, and a check may run controls
    return Outcome(result, spike_features(result.spike_times, result.duration), result.verdict)


def simulate_presets(presets: Sequence[Preset], method: str = "exact", dt: float | None = None,
                     max_steps: int = DEFAULT_MAX_STEPS,
                     progress: Progress = _nothing) -> list[Outcome]:
    """Simulate each preset (after validating them all) and evaluate its features and check."""
    check_sizes(presets, [dt], max_steps)
    outcomes = []
    for preset in presets:
        outcomes.append(outcome_of(simulate(preset, method, dt, max_steps)))
        progress(preset.name)
    return outcomes


def output_paths(presets: Sequence[Preset], out_dir: Path, formats: Sequence[str]
                 ) -> list[Path]:
    """The files that ``gif run`` writes for these presets, in the order of OUTPUT_FORMATS."""
    return [out_dir / f"{p.name}.{fmt}" for p in presets for fmt in OUTPUT_FORMATS
            if fmt in formats]


def render_outputs(outcome: Outcome, out_dir: Path, formats: Sequence[str],
                   dpi: float | None = None) -> list[tuple[Path, bytes]]:
    """One preset's files (``NAME.png``, ``.svg``, ``.pdf``, ``.csv``, ``.json``) as bytes,
    in the order of OUTPUT_FORMATS, ready to be written."""
    result = outcome.result
    figure_formats = [fmt for fmt in FIGURE_FORMATS if fmt in formats]
    rendered: dict[str, bytes] = {}
    if figure_formats:
        from gifcli import plots  # matplotlib: only when a figure is asked for

        figure = plots.pattern_figure(result)
        rendered |= {fmt: plots.figure_bytes(figure, fmt, dpi) for fmt in figure_formats}
    if "csv" in formats:
        rendered["csv"] = files.csv_bytes(result)
    if "json" in formats:
        rendered["json"] = files.json_bytes(outcome.summary())
    paths = output_paths([result.preset], out_dir, formats)
    return [(path, rendered[path.suffix[1:]]) for path in paths]


def write_all(outcomes: Sequence[Outcome], out_dir: Path, formats: Sequence[str],
              progress: Progress = _nothing, dpi: float | None = None) -> list[list[Path]]:
    """Render every preset's files in memory, then create ``out_dir`` if needed and write
    them all (:func:`gifcli.files.run.write_files`): a figure that cannot be drawn, or Ctrl-C,
    leaves none of them. Returns the paths per preset."""
    rendered = []
    for outcome in outcomes:
        rendered.append(render_outputs(outcome, out_dir, formats, dpi))
        progress(outcome.result.preset.name)
    files.make_out_dir(out_dir)
    files.write_files([item for per_preset in rendered for item in per_preset])
    return [[path for path, _ in per_preset] for per_preset in rendered]


def write_gallery(outcomes: Sequence[Outcome], out_dir: Path,
                  formats: Sequence[str] = ("png",), dpi: float | None = None) -> list[Path]:
    """Draw all outcomes in one lettered grid: ``gallery.png`` (and ``.svg``, ``.pdf``)."""
    from gifcli import plots

    figure = plots.gallery_figure([o.result for o in outcomes],
                                  [None if o.verdict is None else o.verdict.passed
                                   for o in outcomes])
    rendered = [(out_dir / f"{GALLERY_NAME}.{fmt}", plots.figure_bytes(figure, fmt, dpi))
                for fmt in FIGURE_FORMATS if fmt in formats]
    files.make_out_dir(out_dir)
    files.write_files(rendered)
    return [path for path, _ in rendered]


@dataclass(frozen=True, eq=False)
class CheckRow:
    """One cell of ``gif check``: a preset at one method and dt."""

    outcome: Outcome

    def as_json(self) -> dict[str, Any]:
        result, verdict = self.outcome.result, self.outcome.verdict
        return {
            "name": result.preset.name,
            "letter": result.preset.letter,
            "source": result.preset.source,
            "method": result.method,
            "dt": result.dt,
            "n_spikes": result.n_spikes,
            "passed": None if verdict is None else bool(verdict.passed),
            "reason": None if verdict is None else str(verdict.reason),
            **({"margin": None, "margin_condition": None} if verdict is None else
               {k: v for k, v in verdict.as_json().items() if k.startswith("margin")}),
        }


def check_presets(presets: Sequence[Preset], methods: Sequence[str],
                  dts: Sequence[float | None], max_steps: int = DEFAULT_MAX_STEPS,
                  progress: Progress = _nothing) -> list[CheckRow]:
    """Every preset × method × dt, simulated and checked; nothing drawn or written.

    ``None`` in ``dts`` means each preset's own dt. Everything is validated first.
    """
    check_sizes(presets, dts, max_steps)
    rows = []
    for preset in presets:
        for method in methods:
            for dt in dts:
                rows.append(CheckRow(outcome_of(simulate(preset, method, dt, max_steps))))
                progress(preset.name)
    return rows
