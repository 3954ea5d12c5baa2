"""An ipywidgets explorer of one preset: sliders for some parameters, and V, V_th and the
input redrawn with the check's verdict and margin whenever a slider is released.

``gifcli.explorer("M")`` in a notebook cell shows it. It is a function of the top-level
package, not ``gifcli.explore(...)``: ``gifcli.explore`` is the subpackage of sweeps and fits.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from gifcli.core.errors import GifError
from gifcli.core.extras import require_extra
from gifcli.model.parameters import PARAMETERS
from gifcli.model.preset import INPUT_SCALE, OVERRIDE_KEYS, Preset, resolve
from gifcli.plots.inline import inline
from gifcli.plots.pattern import pattern_figure
from gifcli.simulation.result import Result
from gifcli.simulation.single import simulate

DEFAULT_SLIDERS = ("a", "A1", "A2", "b", INPUT_SCALE)
#: The range a slider spans for the quantities that the paper's patterns vary.
RANGES = {"a": (-0.05, 0.05), "A1": (-20.0, 40.0), "A2": (-2.0, 2.0), "b": (0.001, 0.05),
          INPUT_SCALE: (0.0, 3.0)}
POSITIVE = {p.name for p in PARAMETERS if p.positive}
STEPS = 200  # positions per slider


def slider_range(name: str, value: float) -> tuple[float, float]:
    """Where the slider of ``name`` goes: its RANGES entry, or twice its own value either
    way; always including ``value``, and above 0 for a positive quantity."""
    low, high = RANGES.get(name, (value - max(abs(value), 1.0), value + max(abs(value), 1.0)))
    low, high = min(low, value), max(high, value)
    if name in POSITIVE:
        low = max(low, min(value, high) / 100.0)
    return low, high


class Explorer:
    """Sliders over ``params`` of ``preset`` and the pattern figure of the current values.

    ``values()`` are the sliders' values, ``result``, ``verdict`` and ``figure`` the latest
    run's, and ``widget`` the ipywidgets box that a notebook shows."""

    def __init__(self, preset: str | Preset, params: Sequence[str] = DEFAULT_SLIDERS,
                 method: str = "exact", dt: float | None = None):
        require_extra("gifcli.explorer()", "notebook", ["ipywidgets", "IPython"])
        import ipywidgets as widgets

        self.preset = preset if isinstance(preset, Preset) else resolve(preset)
        self.method, self.dt = method, dt
        unknown = [name for name in params if name not in OVERRIDE_KEYS]
        if unknown:
            self.preset.replace(**{unknown[0]: 0.0})  # raises the --set sentence
        self.sliders = {name: self._slider(widgets, name) for name in params}
        self.status = widgets.HTML()
        self.output = widgets.Output()
        for slider in self.sliders.values():
            slider.observe(lambda _change: self.redraw(), names="value")
        self.widget = widgets.VBox([widgets.HBox(list(self.sliders.values()),
                                                 layout=widgets.Layout(flex_flow="row wrap")),
                                    self.status, self.output])
        self.result: Result | None = None
        self.verdict = None
        self.figure = None  # the latest figure, a matplotlib Figure
        self.redraw()

    def _slider(self, widgets, name: str):
        value = self._own(name)
        low, high = slider_range(name, value)
        return widgets.FloatSlider(value=value, min=low, max=high, step=(high - low) / STEPS,
                                   description=name, continuous_update=False,
                                   readout_format=".4g")

    def _own(self, name: str) -> float:
        if name == INPUT_SCALE:
            return float(self.preset.overrides.get(INPUT_SCALE, 1.0))
        if name.startswith("initial."):
            return float(self.preset.initial[name.removeprefix("initial.")])
        return float(self.preset.params[name])

    def values(self) -> dict[str, float]:
        """The sliders' values, by name."""
        return {name: float(slider.value) for name, slider in self.sliders.items()}

    def redraw(self) -> None:
        """Simulate the sliders' values, judge the run, and draw it (a bad combination of
        values shows its one-sentence error instead)."""
        from IPython import get_ipython
        from IPython.display import display

        changed = {k: v for k, v in self.values().items() if not np.isclose(v, self._own(k))}
        initial = {k.removeprefix("initial."): changed.pop(k) for k in list(changed)
                   if k.startswith("initial.")}
        try:
            self.result = simulate(self.preset.replace(initial=initial, **changed),
                                   self.method, self.dt)
            self.verdict = self.result.verdict  # cached: the figure shows it too
        except GifError as error:
            self.result = self.verdict = self.figure = None
            self.status.value = f"<b style='color:#b00'>{html.escape(str(error))}</b>"
            return
        self.status.value = self.summary()
        self.figure = pattern_figure(self.result)
        if get_ipython() is not None:  # outside a notebook there is nowhere to draw
            with self.output:
                self.output.clear_output(wait=True)
                display(inline(self.figure))

    def summary(self) -> str:
        """The latest run in one line of HTML: spikes, verdict, margin."""
        result, verdict = self.result, self.verdict
        text = f"{result.n_spikes} spikes"
        if verdict is None:
            return html.escape(f"{text} · {result.preset.name} names no check")
        margin = "—" if verdict.margin is None else f"{verdict.margin.relative:.3g}"
        colour = "#070" if verdict.passed else "#b00"
        return (f"<b style='color:{colour}'>{result.preset.check}: "
                f"{'pass' if verdict.passed else 'fail'}</b> · margin {margin} · "
                f"{html.escape(text)} · {html.escape(verdict.reason)}")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def explorer(preset: str | Preset, params: Sequence[str] = DEFAULT_SLIDERS,
             method: str = "exact", dt: float | None = None) -> Explorer:
    """An :class:`Explorer` of ``preset`` (a name, letter, file or Preset), with sliders for
    ``params`` (parameters, ``input_scale`` or ``initial.X``); a notebook cell shows it."""
    return Explorer(preset, params, method, dt)
