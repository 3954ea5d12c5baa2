"""`exact` against an independent reference, against the closed form, and across dt.

model.md: "``exact`` against the closed form, and against a tiny-step reference, on every
preset: spike times agree to 1e-6 ms", and "halving dt must not move any spike by more than
1e-6 ms". The reference (``reference.py``) samples on a 1 µs grid with ``scipy.linalg.expm``,
certifies that no crossing hides between samples, and bisects the closed form.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal, localcontext

import numpy as np
import pytest
from reference import Reference, expm, simulate_reference, system

from gifcli.simulation.single import simulate

LETTERS = "ABCDEFGHIJKLMNOPQRST"
SPIKE_TOLERANCE = 1e-6  # ms, from docs/model.md

# The continuous-time spike counts, from the end of docs/patterns.md.
CONTINUOUS_COUNTS = dict(
    A=9, B=1, C=10, D=5, E=3, F=1, G=1, H=7, I=1, J=14,
    K=3, L=13, M=24, N=7, O=7, P=19, Q=1, R=25, S=3, T=1,
)


def worst_difference(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, f"{a.size} spikes vs {b.size}"
    return float(np.max(np.abs(a - b))) if a.size else 0.0


@pytest.fixture(scope="module")
def references(shipped):
    return {letter: simulate_reference(preset) for letter, preset in shipped.items()}


def test_the_presets_are_the_twenty_of_the_paper(shipped):
    assert "".join(sorted(shipped)) == LETTERS
    assert set(CONTINUOUS_COUNTS) == set(LETTERS)


@pytest.mark.parametrize("letter", LETTERS)
def test_reference_counts_match_the_spec(letter, references):
    """The reference itself reproduces the continuous-time counts of docs/patterns.md."""
    assert len(references[letter].spike_times) == CONTINUOUS_COUNTS[letter]


@pytest.mark.parametrize("letter", LETTERS)
def test_exact_matches_the_reference(letter, shipped, references):
    result = simulate(shipped[letter], method="exact", dt=0.1)
    reference = references[letter]
    assert result.n_spikes == CONTINUOUS_COUNTS[letter]
    assert worst_difference(result.spike_times, reference.spike_times) <= SPIKE_TOLERANCE
    # the state at the end of the run, propagated in one piece from the last event
    final = np.array([result.I1[-1], result.I2[-1], result.V[-1], result.V_th[-1]])
    np.testing.assert_allclose(final, reference.final, rtol=0, atol=1e-6)


def closed_form_first_spike(params, amplitude) -> float:
    """With a = 0 and no currents, V_th stays at V_th_inf and V relaxes to V* = V_rest + R I:
    V reaches V_th at tau ln((V* - V0) / (V* - V_th)). Evaluated in 40 digits from the
    float64 parameters, so that the class 1 neuron (2e-5 mV above threshold) is resolved."""
    with localcontext() as context:
        context.prec = 40
        v_rest, r, tau = Decimal(params["V_rest"]), Decimal(params["R"]), Decimal(params["tau"])
        v_star = v_rest + r * Decimal(amplitude)
        ratio = (v_star - Decimal(params["V_reset"])) / (v_star - Decimal(params["V_th_inf"]))
        return float(tau * ratio.ln())


@pytest.mark.parametrize("letter", ["A", "B"])
def test_exact_matches_the_closed_form(letter, shipped):
    """A and B have a = 0 and no spike currents: every interval is the same closed form
    (V starts at V_rest = V_reset, and the reset keeps V_th = max(V_th_reset, V_th_inf))."""
    preset = shipped[letter]
    p = preset.params
    assert p["a"] == 0 and p["A1"] == p["A2"] == 0 and p["V_reset"] == p["V_rest"]
    assert p["V_th_reset"] <= p["V_th_inf"] == preset.initial["V_th"]
    (amplitude, duration), = preset.segments
    interval = closed_form_first_spike(p, amplitude)
    expected = interval * np.arange(1, int(duration / interval) + 1)
    result = simulate(preset, method="exact", dt=0.1)
    assert worst_difference(result.spike_times, expected) <= SPIKE_TOLERANCE


# --- coincident rates: the kernel's special formulas, against expm (which has none) ---------


@pytest.mark.parametrize("offset", [0.0, 1e-15, 1e-12, 1e-9, 1e-6, 0.1])
def test_reference_expm_is_right_at_nearly_coincident_rates(offset):
    """The reference's own propagator, where scipy's triangular shortcut fails: the V -> V_th
    entry of expm(M t) is a (e^{-mu t} - e^{-b t}) / (b - mu), here written without
    cancellation as a t e^{-mu t} (1 - e^{-d t}) / (d t) with d = b - mu."""
    mu, t, a = 0.5, 3.9, 0.0625
    params = dict(tau=1 / mu, b=mu * (1 + offset), a=a, k1=1.0, k2=0.2, R=1.0,
                  V_rest=-60.0, V_th_inf=-55.0)
    M, _ = system(params, 0.0)
    d = params["b"] - mu
    shape = 1.0 if d == 0 else -np.expm1(-d * t) / (d * t)
    expected = a * t * np.exp(-mu * t) * shape
    assert abs(expm(M * t)[3, 2] - expected) <= 1e-14 * expected

#: which rates to make equal, and the common rate (1/ms); 1/tau is set through tau
COINCIDENCES = {
    "k1=1/tau": (("k1", "tau"), 0.05),
    "k2=b": (("k2", "b"), 0.01),
    "k1=b": (("k1", "b"), 0.01),
    "1/tau=b": (("b", "tau"), 0.05),
    "k1=1/tau=b": (("k1", "tau", "b"), 0.05),
    "k1=k2=1/tau=b": (("k1", "k2", "tau", "b"), 0.05),
}


def with_rates(params, keys, rate, offset):
    """``params`` with the rates ``keys`` set to ``rate``, the i-th moved by i * offset."""
    params = dict(params)
    for i, key in enumerate(keys):
        value = rate * (1 + i * offset)
        params[key] = 1 / value if key == "tau" else value
    return params


@pytest.mark.parametrize("offset", [0.0, 1e-9, 1e-5, 1e-2], ids=lambda x: f"rel{x:g}")
@pytest.mark.parametrize("name", COINCIDENCES)
def test_coincident_rates_match_the_reference(name, offset, shipped):
    """Tonic bursting (M: a != 0, both spike currents) with rates set equal, or nearly so,
    so that both the t·e^{-λt} limits and the nearly-equal formulas of the kernel run."""
    base = shipped["M"]
    params = with_rates(base.params, *COINCIDENCES[name], offset)
    preset = dataclasses.replace(base, params=params, segments=((2.0, 300.0),))
    result = simulate(preset, method="exact", dt=0.1)
    reference = Reference(params).run(preset.segments, preset.initial)
    assert len(reference.spike_times) >= 3, "the variant must fire to test anything"
    assert worst_difference(result.spike_times, reference.spike_times) <= SPIKE_TOLERANCE


# --- dt independence --------------------------------------------------------------------------

DTS = [0.05, 0.025, 0.03]  # 0.03: many segment boundaries fall between grid points


@pytest.mark.parametrize("letter", LETTERS)
def test_halving_dt_does_not_move_exact_spikes(letter, shipped):
    preset = shipped[letter]
    base = simulate(preset, method="exact", dt=0.1).spike_times
    for dt in DTS:
        result = simulate(preset, method="exact", dt=dt)
        end = result.t[-1]  # 0.03 does not divide every run: the grid stops short of its end
        kept = base[base <= end - 1e-9]
        assert result.spike_times.size == kept.size, f"dt = {dt}"
        assert worst_difference(result.spike_times, kept) <= SPIKE_TOLERANCE, f"dt = {dt}"


def test_off_grid_dt_splits_real_boundaries(shipped):
    """0.03 really puts boundaries off the grid in the presets that test it above."""
    off = [
        letter for letter, preset in shipped.items()
        if any(abs(end / 0.03 - round(end / 0.03)) > 1e-6
               for end in np.cumsum([d for _, d in preset.segments])[:-1])
    ]
    assert len(off) >= 10, off


def test_short_exp_is_within_one_and_a_half_ulp():
    """The modal form's decays at a crossing come from kernel.short_exp, a polynomial, not
    libm: on [-TAYLOR_REACH, 0] it must stay within 1.5 ulp of e^x (computed in Decimal)."""
    from numba import njit

    from gifcli.simulation import kernel

    @njit
    def evaluate(xs):
        return np.array([kernel.short_exp(x) for x in xs])

    rng = np.random.default_rng(3)
    xs = np.concatenate([rng.uniform(-kernel.TAYLOR_REACH, 0.0, 4000),
                         -np.geomspace(1e-300, kernel.TAYLOR_REACH, 400), [0.0]])
    with localcontext() as context:
        context.prec = 40
        exact = [Decimal(float(x)).exp() for x in xs]
        errors = [abs(Decimal(float(got)) - want) / Decimal(float(np.spacing(float(want))))
                  for got, want in zip(evaluate(xs), exact, strict=True)]
    assert max(errors) <= 1.5
