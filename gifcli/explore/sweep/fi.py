"""f–I curves: the steady-state rate of each preset's f–I probe against the input scale.

A finer curve centred on the onset that the probe finds shows whether the rate rises from 0
continuously (class 1 excitability) or jumps (class 2). Both curves hold the two points that
bracket the onset (s* · (1 ∓ ONSET_TOLERANCE)), so the onset and its rate lie on them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from gifcli.explore.sweep.axes import sweep_values
from gifcli.explore.sweep.run import Progress, no_progress
from gifcli.model.preset import DEFAULT_MAX_STEPS, Preset, check_run_size, effective_dt

FI_START, FI_STOP, FI_NUM = 0.0, 2.0, 201
FI_ZOOM_NUM = 121  # points of the finer curve centred on the onset
FI_ZOOM_SPAN = 0.02  # it covers s* × (1 ± this)


@dataclass(frozen=True, eq=False)
class FiCurve:
    """One preset's f–I curve: the probe's steady-state rate against the input scale, the
    onset the probe found (s*, NaN if none) and its rate (measured at
    ``onset_scale × (1 + ONSET_TOLERANCE)``, a point of both curves), and a finer curve
    around s*."""

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
    show whether the rate rises from 0 continuously (class 1) or jumps (class 2)."""
    from gifcli.analysis import probe

    scales = sweep_values(start, stop, num)
    chosen = []
    for preset in presets:  # validate everything first
        step = effective_dt(preset, dt)
        check_run_size(replace(preset, segments=((1.0, probe.PROBE_MS),)), step, max_steps)
        chosen.append(step)
    names = fi_names(presets)
    curves = []
    for k, (preset, step) in enumerate(zip(presets, chosen, strict=True)):
        single = probe.Probe(preset.params, preset.initial,
                             probe.probe_amplitude(preset.segments), 1, method, step)
        many = replace(single, size=scales.size)
        scale, rate = scales, many.rates(scales)
        onset = probe.onsets(single)
        s_star = float(onset.scale[0])
        zoom_scale = zoom_rate = None
        if math.isfinite(s_star):
            bracket = s_star * np.array([1.0 - probe.ONSET_TOLERANCE, 1.0 + probe.ONSET_TOLERANCE])
            bracket_rate = replace(single, size=2).rates(bracket)
            scale, rate = _merged(scale, rate, bracket, bracket_rate)
        if zoom and math.isfinite(s_star):
            zoom_scale = s_star * (1.0 + np.linspace(-FI_ZOOM_SPAN, FI_ZOOM_SPAN, FI_ZOOM_NUM))
            zoom_rate = replace(single, size=FI_ZOOM_NUM).rates(zoom_scale)
            zoom_scale, zoom_rate = _merged(zoom_scale, zoom_rate, bracket, bracket_rate)
        curves.append(FiCurve(preset, method, step, scale, rate, s_star,
                              float(onset.rate[0]), zoom_scale, zoom_rate, *names[k]))
        progress("simulate", k + 1, len(presets))
    return curves


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
