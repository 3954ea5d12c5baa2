"""f–I curves: the steady-state rate of each preset's f–I probe against the input scale.

A point whose run a single run would refuse (it fired without end, or its state overflowed)
is a *runaway* point: it has no rate (NaN), and the curve says where it is.

A finer curve centred on the onset that the probe finds shows whether the rate rises from 0
continuously (class 1 excitability) or jumps (class 2). Both curves hold the two points that
bracket the onset (s* · (1 ∓ ONSET_TOLERANCE)), so the onset and its rate lie on them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from gifcli.analysis.spike_grid import coarse_rate, fastest_rate
from gifcli.core.arguments import choice, count, finite, flag, items, number
from gifcli.core.errors import GifError
from gifcli.explore.sweep.axes import sweep_values
from gifcli.explore.sweep.run import Progress, no_progress
from gifcli.model.parameters import METHODS
from gifcli.model.preset import (
    DEFAULT_MAX_STEPS,
    Preset,
    check_run_size,
    effective_dt,
    validate_preset,
)

FI_START, FI_STOP, FI_NUM = 0.0, 2.0, 201
FI_ZOOM_NUM = 121  # points of the finer curve centred on the onset
FI_ZOOM_SPAN = 0.02  # it covers s* × (1 ± this)


@dataclass(frozen=True, eq=False)
class FiCurve:
    """One preset's f–I curve: the probe's steady-state rate against the input scale, the
    onset the probe found (s*, NaN if none) and its rate (measured at
    ``onset_scale × (1 + ONSET_TOLERANCE)``, a point of both curves), and a finer curve
    around s*. A rate is NaN at a runaway point (see :attr:`runaway`)."""

    preset: Preset
    method: str
    dt: float
    scale: np.ndarray
    rate: np.ndarray
    onset_scale: float
    onset_rate: float
    zoom_scale: np.ndarray | None
    zoom_rate: np.ndarray | None
    label: str = ""  # what the figure calls it: its letter and title, or its file
    name: str = ""  # what the table calls it: its name, or its file when names repeat

    @property
    def runaway(self) -> np.ndarray:
        """Per point of the curve: it fired without end or its state overflowed, so it has
        no rate (a silent point's rate is 0, never NaN)."""
        return np.isnan(self.rate)

    @property
    def runaway_note(self) -> str | None:
        """What the user should read about the runaway points, if there are any."""
        count = int(self.runaway.sum())
        if not count:
            return None
        first = float(self.scale[self.runaway][0])
        return (f"{count} of {self.scale.size} points of the curve (the first at input_scale "
                f"{first:g}) fired without end or overflowed, as gif run refuses; their rate "
                "is left empty, with status runaway")

    def plot(self):
        """The figure ``gif fi`` draws, for this curve alone (a matplotlib Figure;
        ``gifcli.plots.sweep.fi_figure(curves)`` draws several together)."""
        from gifcli.plots.inline import inline  # climbs: see pyproject's importlinter
        from gifcli.plots.sweep import fi_figure

        return inline(fi_figure([self]))


def fi_curves(presets: Sequence[Preset], start: float = FI_START, stop: float = FI_STOP,
              num: int = FI_NUM, method: str = "exact", dt: float | None = None,
              max_steps: int = DEFAULT_MAX_STEPS, progress: Progress = no_progress,
              zoom: bool = True) -> list[FiCurve]:
    """The steady-state rate of each preset's f–I probe at ``num`` input scales from
    ``start`` to ``stop``; with ``zoom``, also FI_ZOOM_NUM scales centred on its onset, which
    show whether the rate rises from 0 continuously (class 1) or jumps (class 2).

    With ``exact`` and no ``dt``, the probe steps at the coarsest grid that fits it for the
    preset's fastest rate (its spikes do not depend on dt); ``FiCurve.dt`` is the grid
    stepped."""
    from gifcli.analysis import probe

    # Validate everything first: each argument's kind, then each preset's run.
    presets = [validate_preset(preset) for preset in items(presets, "presets", Preset)]
    scales = sweep_values(finite(start, "start"), finite(stop, "stop"), count(num, "num", 1))
    method, dt = choice(method, "method", METHODS), number(dt, "dt")
    max_steps, zoom = count(max_steps, "max_steps", 1), flag(zoom, "zoom")
    probes = []
    for preset in presets:
        single = probe.Probe(preset.params, preset.initial,
                             probe.probe_amplitude(preset.segments), 1, method,
                             effective_dt(preset, dt),
                             fastest_rate=coarse_rate(method, dt, fastest_rate(preset.params)))
        check_run_size(replace(preset, segments=((1.0, probe.PROBE_MS),)), single.steady_dt,
                       max_steps)
        _check_drive(preset, scales)
        probes.append(single)
    names = fi_names(presets)
    curves = []
    for k, (preset, single) in enumerate(zip(presets, probes, strict=True)):
        many = replace(single, size=scales.size)
        scale, rate = scales, _rates(many, scales)
        onset = probe.onsets(single)
        s_star = float(onset.scale[0])
        zoom_scale = zoom_rate = None
        if math.isfinite(s_star):
            bracket = s_star * np.array([1.0 - probe.ONSET_TOLERANCE, 1.0 + probe.ONSET_TOLERANCE])
            bracket_rate = _rates(replace(single, size=2), bracket)
            scale, rate = _merged(scale, rate, bracket, bracket_rate)
        if zoom and math.isfinite(s_star):
            zoom_scale = s_star * (1.0 + np.linspace(-FI_ZOOM_SPAN, FI_ZOOM_SPAN, FI_ZOOM_NUM))
            zoom_rate = _rates(replace(single, size=FI_ZOOM_NUM), zoom_scale)
            zoom_scale, zoom_rate = _merged(zoom_scale, zoom_rate, bracket, bracket_rate)
        onset_rate = float(onset.rate[0])
        curves.append(FiCurve(preset, method, single.steady_dt, scale, rate, s_star,
                              onset_rate if math.isfinite(onset_rate) else math.nan,
                              zoom_scale, zoom_rate, *names[k]))
        progress("simulate", k + 1, len(presets))
    return curves


def _rates(probe_points, scale: np.ndarray) -> np.ndarray:
    """The probe's rates, NaN at runaway points (the probe gives them an infinite rate)."""
    rate = probe_points.rates(scale)
    return np.where(np.isfinite(rate), rate, np.nan)


def _check_drive(preset: Preset, scales: np.ndarray) -> None:
    """Refuse input scales whose input, or the figure's I_e/C, a float cannot hold."""
    largest = np.abs(scales).max(initial=0.0)
    with np.errstate(over="ignore"):
        drive = fi_drive(preset, np.array([largest]))
    if not np.all(np.isfinite(drive)):
        raise GifError(f"{preset.name}: an input_scale of {largest:g} makes an "
                       "input beyond the range of a float (about 1.8e308); choose a smaller "
                       "--start or --stop")


def _merged(scale: np.ndarray, rate: np.ndarray, more_scale: np.ndarray,
            more_rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One curve of both sets of points, in order of scale."""
    scale, rate = np.concatenate([scale, more_scale]), np.concatenate([rate, more_rate])
    order = np.argsort(scale, kind="stable")
    return scale[order], rate[order]


def fi_names(presets: Sequence[Preset]) -> list[tuple[str, str]]:
    """(figure label, table name) of each preset: its letter and title and its name, or,
    for presets that share a name (two files ``n.yaml`` in two folders), their files."""
    names = [preset.name for preset in presets]
    out = []
    for preset in presets:
        if names.count(preset.name) > 1:
            path = "".join(c if c.isascii() and c.isprintable() and c not in ',"' else "_"
                           for c in preset.source)
            out.append((path, path))
        else:
            out.append((f"{preset.letter}  {preset.title}" if preset.letter else preset.title,
                        preset.name))
    return out


def fi_input(preset: Preset, scale: np.ndarray) -> np.ndarray:
    """The probe's input amplitude at each scale: s × A."""
    from gifcli.analysis.probe import probe_amplitude

    return scale * probe_amplitude(preset.segments)


def fi_drive(preset: Preset, scale: np.ndarray) -> np.ndarray:
    """The probe's input in absolute units, I_e/C in V/s: (R / tau) × s × A."""
    return fi_input(preset, scale) * (preset.params["R"] / preset.params["tau"])
