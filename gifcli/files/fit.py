"""The files of a fit: NAME_fit.yaml (the fitted preset), NAME_fit.json (the summary) and
the figure NAME_fit.png (drawn by :mod:`gifcli.plots.fit`).

Reads what :func:`gifcli.fit.fit` returned; never the other way round. Every file is rendered
in memory first, and only then written, all together through :func:`gifcli.files.write_files`:
a fit that cannot be written (a full disk) or is interrupted leaves none of its files.
The same fit gives the same bytes (no dates, no timings).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gifcli import __version__, files
from gifcli.analysis.checks import CHECKS
from gifcli.core.errors import GifError, one_line
from gifcli.explore.fit import FitResult, SpikeTarget
from gifcli.model.parameters import DEFAULTS, PARAMETER_NAMES
from gifcli.model.preset import INITIAL_KEYS, parse_preset

FIT_FORMATS = ("yaml", "json", "png", "svg", "pdf")
FIGURE_FORMATS = ("png", "svg", "pdf")
DEFAULT_FORMATS = ("yaml", "json", "png")


def fit_stem(result: FitResult) -> str:
    """``NAME_fit``: the stem of the fit's own files."""
    return f"{result.preset.name}_fit"


def fitted_name(result: FitResult) -> str:
    """``NAME_fitted``: the name inside NAME_fit.yaml, so that ``gif run`` of it writes
    NAME_fitted.* beside the fit's files instead of over them."""
    return f"{result.preset.name}_fitted"


def _number(value: float) -> str:
    """A float as YAML reads it back to the same bits (Python's shortest repr)."""
    return repr(float(value))


def _text(value: str) -> str:
    """A YAML double-quoted string (JSON's escapes are YAML's)."""
    return json.dumps(value, ensure_ascii=False)


def fit_aim(result: FitResult) -> str:
    """What the fit was fitted to, as a phrase."""
    target = result.target
    if isinstance(target, SpikeTarget):
        trains = " and ".join(
            f"{t.source} ({t.times.size} spikes{_scaled(t)})" for t in result.targets)
        return (f"the spike train{'s' if len(result.targets) > 1 else ''} of {trains}, "
                f"coincidences within ±{target.window:g} ms")
    return f"the pattern check {target.name} ({CHECKS[target.name]})"


def _scaled(target: SpikeTarget) -> str:
    return "" if target.input_scale == 1.0 else f", input × {target.input_scale:g}"


def how_it_was_made(result: FitResult) -> list[str]:
    """What the fit was, in a few lines: the target, the start, the box, the search and the
    score."""
    if isinstance(result.target, SpikeTarget):
        score = (f"Γ = {result.measures['gamma']:.6g} (loss 1 − Γ = "
                 f"{result.measures['loss']:.3g})")
    else:
        verdict = result.verdict
        score = (f"{'passes' if verdict.passed else 'fails'} with margin "
                 f"{result.measures['margin']:.3g}: {verdict.reason}")
    start = ", ".join(f"{name} = {value:g}" for name, value in result.start.items())
    fixed = {k: v for k, v in result.preset.overrides.items() if k not in result.start}
    also = (" (with " + ", ".join(f"{k} = {v:g}" for k, v in fixed.items()) + ")"
            if fixed else "")
    restarts = f"{result.restarts} restart{'' if result.restarts == 1 else 's'}"
    return [f"fitted to {fit_aim(result)}",
            f"free: {', '.join(str(f) for f in result.free)}; start: {start}{also}",
            f"CMA-ES, seed {result.seed}, {result.evaluations:,} simulations in "
            f"{result.generations} generations ({restarts}), method {result.method}, "
            f"dt = {result.dt:g} ms",
            score] + list(result.stops) + [
        f"warning: {sentence}" for sentence in
        (result.uncertainty.undetermined if result.uncertainty is not None else ())]


def fitted_preset_yaml(result: FitResult) -> str:
    """NAME_fit.yaml: the preset with the fitted values, which ``gif run`` reproduces.

    Every value is written so that it reads back to the same bits; the text is read back
    through the preset loader before it is returned (a GifError would be a bug here).
    """
    fitted = result.fitted
    lines = [f"# {fitted_name(result)}: made by gif fit (gifcli {__version__}) from "
             f"{fitted.source}"]
    lines += [f"# {one_line(line)}" for line in how_it_was_made(result)]
    method = "" if result.method == "exact" else f" --method {result.method}"
    lines.append(f"# `gif run {fit_stem(result)}.yaml{method}` simulates the fitted values.")
    for target in result.targets:
        if getattr(target, "input_scale", 1.0) != 1.0:
            lines.append(f"# Under the input of {one_line(target.source)}: add --set "
                         f"input_scale={target.input_scale!r}.")
    check = fitted.check
    if check is not None and result.verdict is not None and not result.verdict.passed:
        lines.append(f"# The check {check} of {result.preset.name} is left out: the fitted "
                     f"run does not pass it ({one_line(result.verdict.reason)}).")
        check = None
    description = " ".join(part for part in (
        fitted.description, f"Fitted by gif fit to {fit_aim(result)}.") if part)
    lines += [f"name: {fitted_name(result)}", f"title: {_text(fitted.title + ' (fitted)')}",
              f"description: {_text(description)}"]
    changed = [name for name in PARAMETER_NAMES if fitted.params[name] != DEFAULTS[name]]
    lines.append("params:" if changed else "params: {}")
    lines += [f"  {name}: {_number(fitted.params[name])}" for name in changed]
    if fitted.initial_given:
        lines.append("initial:")
        lines += [f"  {name}: {_number(fitted.initial_given[name])}" for name in INITIAL_KEYS
                  if name in fitted.initial_given]
    lines.append("input:")
    lines += [f"  - {{amplitude: {_number(a)}, duration: {_number(d)}}}"
              for a, d in fitted.segments]
    lines.append(f"dt: {_number(result.dt)}")
    if check is not None:
        lines.append(f"check: {check}")
    text = "\n".join(lines) + "\n"
    try:
        parse_preset(text, f"{fit_stem(result)}.yaml", max_steps=None)
    except GifError as error:  # a fitted preset must load; anything else is a bug
        raise RuntimeError(f"the fitted preset does not load back: {error}") from None
    return text


def fit_summary(result: FitResult) -> dict[str, Any]:
    """NAME_fit.json: the best values, the score, the search and its history."""
    target = result.target
    measures = result.measures
    if isinstance(target, SpikeTarget):
        aim: dict[str, Any] = {"kind": "spikes", "file": target.source,
                               "n_spikes": int(target.times.size), "window_ms": target.window,
                               "input_scale": target.input_scale}
    else:
        aim = {"kind": "pattern", "check": target.name, "rule": str(CHECKS[target.name])}
    verdict = result.verdict
    return {
        "name": result.preset.name,
        "source": result.preset.source,
        "fitted_preset": f"{fit_stem(result)}.yaml",
        "target": aim,
        "method": result.method,
        "dt": result.dt,
        "search_dt": result.search_dt,  # the grid the search stepped
        "duration_ms": result.preset.duration,
        "overrides": dict(result.preset.overrides),
        "free": [{"name": f.name, "lo": f.lo, "hi": f.hi, "start": result.start[f.name]}
                 for f in result.free],
        "best": dict(result.values),
        "loss": measures.get("loss", result.score),  # pattern: the search score, −margin
        "gamma": measures.get("gamma"),
        "margin": measures.get("margin"),
        "check": None if verdict is None else verdict.as_json(),
        "spike_times_ms": result.run.spike_times.tolist(),
        "n_spikes": result.run.n_spikes,
        "evaluations": result.evaluations,
        "generations": result.generations,
        "restarts": result.restarts,
        "popsize": result.popsize,
        "budget": result.budget,
        "seed": result.seed,
        "stop": result.stop,
        "stops": list(result.stops),
        "uncertainty": _uncertainty_json(result),
        "targets": [{"file": t.source, "input_scale": t.input_scale,
                     "n_spikes": int(t.times.size), "gamma": gamma, "loss": 1.0 - gamma,
                     "n_model": run.n_spikes, "spike_times_ms": run.spike_times.tolist()}
                    for t, gamma, run in zip(result.targets, result.gammas, result.runs,
                                             strict=True)] if result.gammas else [],
        "history": [{"restart": g.restart, "generation": g.generation,
                     "evaluations": g.evaluations, "popsize": g.popsize,
                     "best_score": g.best_score, "median_score": g.median_score,
                     "sigma": g.sigma, "best_so_far": g.best_so_far, "values": g.values,
                     **g.measures} for g in result.history],
        "notes": list(result.notes) + [n for run in result.runs for n in run.notes],
        "version": __version__,
    }


def _uncertainty_json(result: FitResult) -> dict[str, Any] | None:
    """Per free quantity its standard error and the range of ±2 of them within the box
    (null and the whole box where the trains do not determine it)."""
    found = result.uncertainty
    if found is None:
        return None
    per_quantity = {}
    for f in result.free:
        stderr = found.stderr[f.name]
        lo, hi = found.range(f.name, result.values[f.name], f.lo, f.hi)
        per_quantity[f.name] = {"stderr": stderr if math.isfinite(stderr) else None,
                                "range": [lo, hi]}
    return {"timing_ms": found.timing_ms, "free": per_quantity,
            "undetermined": list(found.undetermined)}


def render_fit(result: FitResult, formats: Sequence[str]) -> dict[str, bytes]:
    """Every file of the fit, by file name, rendered in memory (nothing is written)."""
    unknown = [fmt for fmt in formats if fmt not in FIT_FORMATS]
    if unknown:
        raise GifError(f"--format: unknown format {unknown[0]!r}; choose from "
                       f"{', '.join(FIT_FORMATS)}")
    stem = fit_stem(result)
    rendered: dict[str, bytes] = {}
    if "yaml" in formats:
        rendered[f"{stem}.yaml"] = fitted_preset_yaml(result).encode("utf-8")
    if "json" in formats:
        rendered[f"{stem}.json"] = files.json_bytes(fit_summary(result))
    figures = [fmt for fmt in FIGURE_FORMATS if fmt in formats]
    if figures:
        from gifcli import plots
        from gifcli.plots import fit as fit_plots

        figure = fit_plots.fit_figure(result)
        for fmt in figures:
            rendered[f"{stem}.{fmt}"] = plots.figure_bytes(figure, fmt)
    return rendered


def write_fit(result: FitResult, out: Path, formats: Sequence[str]) -> list[Path]:
    """Render the fit's files, then write them to ``out``, all or (after an error such as a
    full disk) none; the paths written."""
    rendered = render_fit(result, formats)
    files.make_out_dir(out)
    written = [out / name for name in rendered]
    files.write_files(list(zip(written, rendered.values(), strict=True)))
    return written

