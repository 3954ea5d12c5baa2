"""The Python API holds to its promise (docs/api.md, Errors): whatever a user passes, what
comes out is a result or a ``GifError`` whose message is one line, never a ValueError,
TypeError, IndexError or MemoryError from deep inside, and never a silent wrong answer.

Every public entry point is called with one argument at a time replaced by something wrong
(a type, a shape, a value), the others valid: first every value of a fixed list of known
offenders, then random values drawn by hypothesis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gifcli
from gifcli.analysis.checks import Context, check_spikes, evaluate, judge
from gifcli.analysis.features import SpikeTrains, bursts, segment_window, spike_features
from gifcli.core.errors import GifError
from gifcli.explore.cluster import Cluster
from gifcli.explore.fit import Free, SpikeTarget, fit
from gifcli.explore.fit.targets import coincidence_factor
from gifcli.explore.sweep import Axis, fi_curves, run_sweep
from gifcli.model.stimuli import Noise, Ramp, Samples, Sine
from gifcli.simulation.batch import run_batch

SHORT = gifcli.resolve("tonic_spiking").with_input((1.5, 30.0))  # every run here is short
SEGMENTS = [(1.5, 30.0)]


@dataclass(frozen=True)
class Call:
    """One entry point with valid arguments; ``slow`` names the arguments whose large valid
    values mean a long run (a fit's budget), which the random values leave alone."""

    name: str
    function: object
    kwargs: dict
    slow: tuple[str, ...] = field(default=())

    def __call__(self, **changes):
        return self.function(**(self.kwargs | changes))

    def __repr__(self) -> str:
        return self.name


def _fit(**kwargs):
    return fit(**kwargs)


def _replace(**kwargs):
    return SHORT.replace(**kwargs)


def _with_input(part, step):
    return SHORT.with_input((0.0, 5.0), part, step=step)


def _judge(name, segments, V_rest):
    return judge(name, Context(SpikeTrains(np.array([5.0, 15.0]), np.array([0, 2]), 30.0),
                               segments, V_rest))


CALLS = [
    Call("simulate", gifcli.simulate, {"preset": SHORT, "method": "exact", "dt": 0.1,
                                       "max_steps": 2_000_000, "initial": {"V": -65.0}}),
    Call("resolve", gifcli.resolve, {"ref": "A"}),
    Call("replace", _replace, {"a": 0.01, "input_scale": 1.2, "initial": {"V_th": -45.0}}),
    Call("with_input", _with_input, {"part": (1.5, 10.0), "step": None}),
    Call("Ramp", Ramp, {"start": 0.0, "stop": 2.0, "duration": 10.0}),
    Call("Sine", Sine, {"mean": 1.5, "amplitude": 0.5, "frequency": 50.0, "duration": 10.0}),
    Call("Noise", Noise, {"mean": 1.5, "sd": 0.3, "tau": 3.0, "duration": 10.0, "seed": 1}),
    Call("Samples", Samples, {"values": [1.0, 2.0], "step": 1.0}),
    Call("run_batch", run_batch, {"params": {"a": np.array([0.0, 0.01])},
                                  "segments": SEGMENTS, "method": "exact", "dt": 0.1,
                                  "initial": {"V": -65.0}, "input_scale": 1.0, "record": 8}),
    Call("Axis", Axis, {"param": "a", "values": [0.0, 0.01]}),
    Call("run_sweep", run_sweep, {"preset": SHORT, "axes": [Axis("a", [0.0, 0.01])],
                                  "method": "exact", "dt": 0.1}),
    Call("Free", Free, {"name": "a", "lo": -0.01, "hi": 0.01}),
    Call("SpikeTarget", SpikeTarget, {"times": [5.0, 15.0], "window": 2.0}),
    Call("fit", _fit, {"preset": SHORT, "free": [Free("input_scale", 0.8, 1.2)],
                       "target": SpikeTarget([5.0, 15.0]), "budget": 40, "seed": 1,
                       "restarts": 0, "popsize": 8}, slow=("budget", "restarts", "popsize")),
    Call("coincidence_factor", coincidence_factor, {"model": [5.0, 15.0], "target": [5.1],
                                                    "duration": 30.0, "window": 2.0}),
    Call("SpikeTrains", lambda **k: SpikeTrains(**k).features(),
         {"times": np.array([1.0, 2.0, 5.0]), "offsets": np.array([0, 2, 3]), "end": 10.0}),
    Call("spike_features", spike_features, {"spike_times": [1.0, 2.0], "duration_ms": 10.0}),
    Call("bursts", bursts, {"spike_times": [1.0, 2.0], "end_ms": 10.0}),
    Call("fi_curves", fi_curves, {"presets": [SHORT], "start": 0.5, "stop": 1.5, "num": 3,
                                  "method": "exact", "dt": 0.1, "max_steps": 2_000_000,
                                  "zoom": False}, slow=("num", "max_steps")),
    Call("check_spikes", check_spikes, {"name": "tonic_spiking", "spike_times": [5.0, 15.0],
                                        "segments": SEGMENTS, "end_ms": 30.0}),
    Call("judge", _judge, {"name": "tonic_spiking", "segments": SEGMENTS, "V_rest": -70.0}),
    Call("evaluate", evaluate, {"result": gifcli.simulate(SHORT, dt=0.1)}),
    Call("segment_window", segment_window, {"segments": SEGMENTS, "i": 1}),
    # Not entered: nothing starts, nothing is reached.
    Call("Cluster", Cluster, {"workers": 1, "scheduler": None}),
    Call("Cluster(scheduler)", Cluster, {"scheduler": "tcp://127.0.0.1:8786"}),
]
ARGUMENTS = [(call, name) for call in CALLS for name in call.kwargs]

# Known offenders: wrong types, empty and mis-shaped arrays, values out of range.
OFFENDERS = [
    None, "x", "", [], [[1.0, 2.0]], ["a", 1.0], {}, {"Vth": -30.0}, object(), 1 + 1j, b"x",
    True, math.nan, math.inf, -math.inf, -1, 0, -1e308, 10**12, -(10**12),
    np.zeros(0), np.zeros((0, 14)), np.zeros((2, 3)), np.array([math.nan, 1.0]),
    np.array([3.0, 1.0, 2.0]), np.array([0, 3, 2]), [2.0, 1.0], [1.0, math.nan],
]


def check_outcome(call: Call, name: str, value) -> None:
    """The call returns, or raises a GifError of one line; nothing else comes out."""
    try:
        call(**{name: value})
    except GifError as error:
        message = str(error)
        assert message and "\n" not in message, (call, name, value, message)
    except Exception as error:  # noqa: BLE001 - the point: anything else is a bug
        pytest.fail(f"{call}({name}={value!r:.60}) raised {type(error).__name__}: {error}")


@pytest.mark.parametrize("call, name", ARGUMENTS, ids=lambda x: getattr(x, "name", x))
def test_every_known_offender_is_a_gif_error_or_a_result(call, name):
    for value in OFFENDERS:
        if name in call.slow and isinstance(value, int) and value > 1000:
            continue  # a valid, enormous budget: a long fit, not an error
        check_outcome(call, name, value)


values = st.one_of(
    st.floats(), st.integers(-(10**15), 10**15), st.text(max_size=4), st.none(),
    st.lists(st.floats(), max_size=4), st.lists(st.integers(-5, 5), max_size=4),
    st.dictionaries(st.sampled_from(["V", "V_th", "Vth", "a", "zz"]), st.floats(), max_size=2),
    hnp.arrays(st.sampled_from([np.float64, np.int64]),
               hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=4)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argument=st.sampled_from(ARGUMENTS), value=values)
def test_random_wrong_arguments_are_gif_errors_or_results(argument, value):
    call, name = argument
    if name in call.slow and isinstance(value, int) and value > 1000:
        return  # a valid, enormous budget: a long fit, not an error
    check_outcome(call, name, value)


# --- the named holes, each with its sentence ------------------------------------------------


def test_run_batch_refuses_an_unknown_initial_name_and_lists_the_known_ones():
    with pytest.raises(GifError, match=r"unknown initial state 'Vth' \(did you mean V_th\?\); the "
                                         r"initial states are I1, I2, V, V_th"):
        run_batch({}, SEGMENTS, initial={"Vth": -30.0})


def test_run_batch_refuses_no_neurons_and_a_record_beyond_the_spike_cap():
    with pytest.raises(GifError, match="no neurons"):
        run_batch(np.zeros((0, 14)), SEGMENTS)
    with pytest.raises(GifError, match="no neurons"):
        run_batch({"a": []}, SEGMENTS)
    with pytest.raises(GifError, match="record"):
        run_batch({"a": np.zeros(3)}, SEGMENTS, record=10**12)


def test_axis_refuses_empty_repeated_and_unsorted_values_and_unknown_names():
    for values, phrase in ((np.array([]), "empty"), ([0.0, 0.0], "twice"),
                           ([1.0, 0.0], "increasing"), (np.array([0.0, 1.0, 0.5]), "increasing")):
        with pytest.raises(GifError, match=phrase):
            Axis("a", values)
    with pytest.raises(GifError, match="not a model parameter"):
        Axis("tau_m", [1.0])
    assert Axis("a", (0, 1)).values.dtype == np.float64


def test_free_refuses_reversed_or_infinite_bounds_and_unknown_names():
    for lo, hi in ((1.0, 0.0), (0.0, 0.0), (0.0, math.inf), (math.nan, 1.0)):
        with pytest.raises(GifError, match="Free"):
            Free("a", lo, hi)
    with pytest.raises(GifError, match="not a model parameter"):
        Free("tau_m", 0.0, 1.0)


def test_fit_refuses_bare_spike_times_as_a_target_and_says_how_to_wrap_them():
    with pytest.raises(GifError, match="SpikeTarget"):
        fit(SHORT, [Free("a", 0.0, 0.01)], [5.0, 15.0], budget=40)


def test_coincidence_factor_refuses_nan_and_unsorted_trains():
    with pytest.raises(GifError, match="finite"):
        coincidence_factor([math.nan], [1.0], 100.0)
    with pytest.raises(GifError, match="sorted"):
        coincidence_factor([1.0], [2.0, 1.0], 100.0)


def test_spike_trains_refuse_offsets_that_do_not_slice_the_times():
    times = np.array([1.0, 2.0, 3.0])
    for offsets in ([0, 2, 1], [1, 3], [0, 2], [0, 4], [[0, 3]]):
        with pytest.raises(GifError, match="offsets"):
            SpikeTrains(times, np.array(offsets), 10.0)
    with pytest.raises(GifError, match="sorted"):
        SpikeTrains(np.array([2.0, 1.0]), np.array([0, 2]), 10.0)
    # Sorted within each train is all that is asked: train 1 may start before train 0 ends.
    assert list(SpikeTrains(np.array([5.0, 1.0]), np.array([0, 1, 2]), 10.0).counts) == [1, 1]


def test_fi_curves_checks_every_argument_before_it_simulates_anything():
    simulated = []
    for wrong, phrase in (({"presets": SHORT}, "presets must be a list of Preset"),
                          ({"start": "0"}, "start must be a number"),
                          ({"stop": math.inf}, "stop must be a finite number"),
                          ({"num": 2.0}, "num must be a whole number >= 1"),
                          ({"method": "rk4"}, "method must be one of exact, euler, exp-euler"),
                          ({"max_steps": 0}, "max_steps must be a whole number >= 1"),
                          ({"zoom": "no"}, "zoom must be True or False")):
        with pytest.raises(GifError, match=phrase):
            fi_curves(**{"presets": [SHORT, SHORT], "num": 3, "dt": 0.1} | wrong,
                      progress=lambda *done: simulated.append(done))
    assert simulated == []  # the first preset's curve was never computed


def test_the_checks_refuse_an_unknown_name_a_bad_schedule_and_what_is_not_a_run():
    with pytest.raises(GifError, match=r"unknown check 'tonic_spikng'; did you mean tonic_spiking"):
        check_spikes("tonic_spikng", [5.0], SEGMENTS)
    with pytest.raises(GifError, match="unknown check None"):
        _judge(None, SEGMENTS, -70.0)
    for segments, phrase in (("x", "segments: must be .amplitude, duration ms. pairs"),
                             ([], "non-empty list of segments"),
                             ([(1.5, -30.0)], r"input\[1\].duration: must be > 0"),
                             ([(math.nan, 30.0)], r"input\[1\].amplitude")):
        with pytest.raises(GifError, match=r"check_spikes\(\): .*" + phrase):
            check_spikes("tonic_spiking", [5.0], segments)
        with pytest.raises(GifError, match=r"Context\(\): .*" + phrase):
            _judge("tonic_spiking", segments, -70.0)
    with pytest.raises(GifError, match="ctx must be a Context"):
        judge("tonic_spiking", SEGMENTS)
    with pytest.raises(GifError, match="trains must be a SpikeTrains"):
        Context([5.0, 15.0], SEGMENTS)
    with pytest.raises(GifError, match=r"result must be a Result \(what simulate\(\) returns\)"):
        evaluate(SHORT)
