"""An independent reference integrator for the tests (never imported by gifcli).

It shares no code with ``gifcli.simulation.kernel``: it builds the 4 x 4 system matrix M of
docs/model.md itself, propagates with ``scipy.linalg.expm`` (which has no special case for
coinciding rates), and finds each crossing by plain bisection on the closed form
x(t0 + s) = x* + expm(M s) (x(t0) - x*).

(``expm`` below works around a pitfall of scipy's for triangular matrices.)

Between spikes and segment boundaries it samples V - V_th on a fine grid (``h``, 1 µs by
default), laid out from the last event (start, spike or boundary), not from the tool's grid.
The state at the j-th fine point of a chunk is expm(M j h) y0, a batch of matrix exponentials
computed once per parameter set, so that a chunk of N points costs one matrix product and no
error piles up from point to point inside it.

Missed crossings: a crossing that enters and leaves between two fine points would be missed.
The sampler rules that out on every fine step it passes: with g = V - V_th, g'' = c·M² y, and
on a step of length h with g < 0 at both ends, max g <= max(g_ends) + h² max|g''| / 8. It
bounds |g''| on a chunk by twice its largest sampled value (the state moves by far less than
that over one chunk of a stable linear system) and raises ``CannotCertify`` if a step could
hide a crossing. So when it returns, no crossing was missed, up to that bound.

Coordinates: the state is kept as the deviation y = x - x* from the segment's fixed point x*
(from ``numpy.linalg.solve``, not from the kernel's formula). Deviations shrink as the neuron
settles, which keeps rounding small where it matters: the class 1 preset sits 2e-5 mV above
threshold, and there an error of 1e-14 mV in V moves the spike by 1e-8 ms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import expm as scipy_expm

FINE_STEP = 1e-3  # ms (1 µs)
CHUNK = 4096  # fine points per matrix product
BISECTION_WIDTH = 1e-13  # ms: the bracket width at which bisection stops

I1, I2, V, VTH = range(4)
GAP = np.array([0.0, 0.0, 1.0, -1.0])  # c with c·x = V - V_th


# scipy.linalg.expm treats a triangular matrix specially: while squaring, it overwrites the
# first off-diagonal with (e^x - e^y) / (x - y) of neighbouring diagonal entries, evaluated
# as written (scipy.linalg._matfuncs._exp_sinch). For entries equal up to ~1e-12 that
# cancels catastrophically: with 1/tau = 0.5 and b = 0.5 (1 + 1e-15), scipy 1.17 returns
# 0.03656 for the V -> V_th entry of expm(3.9 M) instead of 0.0346793 (and is off by ~1e-6
# at a 1e-12 separation). M is lower triangular, so it is reordered before the call to
# (I1, V, I2, V_th): V <- I1 then lies below the diagonal and V <- I2 above it (both R/tau
# > 0), so the matrix is never triangular and scipy takes its generic Padé path, which has
# no special case at all. The reordering is a permutation: it changes no number.
ORDER = np.array([I1, V, I2, VTH])
INVERSE = np.argsort(ORDER)


def expm(A: np.ndarray) -> np.ndarray:
    """exp(A) for one 4 x 4 system matrix (times a time) or a stack of them."""
    permuted = A[..., ORDER, :][..., :, ORDER]
    return scipy_expm(permuted)[..., INVERSE, :][..., :, INVERSE]


class CannotCertify(AssertionError):
    """A fine step on which a crossing could enter and leave unseen."""


def system(params: dict[str, float], amplitude: float) -> tuple[np.ndarray, np.ndarray]:
    """M and the fixed point x* of dx/dt = M x + c(amplitude), straight from docs/model.md."""
    p = params
    tau, r = p["tau"], p["R"]
    M = np.array([
        [-p["k1"], 0.0, 0.0, 0.0],
        [0.0, -p["k2"], 0.0, 0.0],
        [r / tau, r / tau, -1.0 / tau, 0.0],
        [0.0, 0.0, p["a"], -p["b"]],
    ])
    c = np.array([
        0.0,
        0.0,
        (p["V_rest"] + r * amplitude) / tau,
        -p["a"] * p["V_rest"] + p["b"] * p["V_th_inf"],
    ])
    return M, np.linalg.solve(M, -c)


@dataclass
class Trajectory:
    spike_times: list[float] = field(default_factory=list)
    #: the full state (I1, I2, V, V_th) just before and just after each spike
    before: list[np.ndarray] = field(default_factory=list)
    after: list[np.ndarray] = field(default_factory=list)
    final: np.ndarray | None = None
    #: the fewest ms by which a sampled gap stayed below the certified bound (diagnostic)
    smallest_margin: float = np.inf


class Reference:
    """Simulate one parameter set; ``run`` takes the schedule and the initial state."""

    def __init__(self, params: dict[str, float], h: float = FINE_STEP, chunk: int = CHUNK):
        self.params = dict(params)
        self.h = h
        self.M, _ = system(params, 0.0)
        self.M2_gap = GAP @ self.M @ self.M  # g'' = M2_gap · y
        steps = np.arange(1, chunk + 1, dtype=np.float64) * h
        self.powers = expm(self.M[None, :, :] * steps[:, None, None])  # expm(M j h), j = 1..N
        self.smallest_margin = np.inf  # mV: how far the certified bound stayed below 0

    def propagate(self, y: np.ndarray, s: float) -> np.ndarray:
        return expm(self.M * s) @ y

    def reset(self, x: np.ndarray) -> np.ndarray:
        p = self.params
        return np.array([
            p["R1"] * x[I1] + p["A1"],
            p["R2"] * x[I2] + p["A2"],
            p["V_reset"],
            max(p["V_th_reset"], x[VTH]),
        ])

    def run(self, segments, initial: dict[str, float]) -> Trajectory:
        """``segments``: (amplitude, duration ms) pairs; ``initial``: I1, I2, V, V_th."""
        out = Trajectory()
        x = np.array([initial["I1"], initial["I2"], initial["V"], initial["V_th"]], dtype=float)
        t_start = 0.0
        for amplitude, duration in segments:
            _, x_star = system(self.params, amplitude)
            t_end = t_start + duration
            y, t = x - x_star, t_start
            while True:
                event = self._next_crossing(y, x_star, t_end - t)
                if event is None:
                    y = self.propagate(y, t_end - t)  # the closed form, in one piece
                    break
                s, y_cross = event
                t += s
                x_cross = y_cross + x_star
                out.spike_times.append(t)
                out.before.append(x_cross)
                x_after = self.reset(x_cross)
                out.after.append(x_after)
                y = x_after - x_star
            x, t_start = y + x_star, t_end
        out.final = x
        out.smallest_margin = self.smallest_margin
        return out

    def _next_crossing(self, y0, x_star, span):
        """The first crossing within ``span`` ms of y0: (time from y0, deviation there) or None."""
        h, n_max = self.h, self.powers.shape[0]
        gap_star = x_star[V] - x_star[VTH]
        done = 0.0
        while span - done > 0.0:
            # each chunk starts from the closed form, so no rounding carries from chunk to chunk
            y = y0 if done == 0.0 else self.propagate(y0, done)
            n = min(n_max, int((span - done) / h))
            ys = self.powers[:n] @ y
            offsets = np.arange(1, n + 1) * h
            last_chunk = n < n_max or span - done - n * h <= 0.0
            if n < n_max and span - done - n * h > 0.0:  # the partial step to the span's end
                ys = np.vstack([ys, self.propagate(y, span - done)])
                offsets = np.append(offsets, span - done)
            gaps = ys @ GAP + gap_star
            above = np.flatnonzero(gaps >= 0.0)
            stop = above[0] if above.size else len(gaps)
            self._certify(y, ys[:stop], GAP @ y + gap_star, gaps[:stop], offsets[:stop])
            if above.size:
                j = above[0]
                a = 0.0 if j == 0 else offsets[j - 1]
                y_a = y if j == 0 else ys[j - 1]
                s = self._bisect(y_a, gap_star, offsets[j] - a)
                return done + a + s, self.propagate(y_a, s)
            if last_chunk:
                return None
            done += offsets[-1]
        return None

    def _certify(self, y, ys, g_start, gaps, offsets):
        """None of these fine steps (all with g < 0 at both ends) can hide a crossing."""
        if len(gaps) == 0:
            return
        all_y = np.vstack([y, ys])
        curvature = 2.0 * np.max(np.abs(all_y @ self.M2_gap))
        g = np.concatenate([[g_start], gaps])
        widths = np.diff(np.concatenate([[0.0], offsets]))
        worst = np.maximum(g[:-1], g[1:]) + widths**2 * curvature / 8
        k = int(np.argmax(worst))
        self.smallest_margin = min(self.smallest_margin, -worst[k])
        if worst[k] >= 0.0:
            raise CannotCertify(
                f"a fine step of {widths[k]:g} ms ending at gap {g[k + 1]:.3e} mV could hide a "
                f"crossing (curvature bound {curvature:.3e} mV/ms²)"
            )

    def _bisect(self, y_a, gap_star, width):
        """The crossing time in (0, width]: g < 0 at 0, g >= 0 at width; returns the upper end."""
        lo, hi = 0.0, width
        while hi - lo > BISECTION_WIDTH:
            mid = 0.5 * (lo + hi)
            if mid in (lo, hi):
                break
            if GAP @ self.propagate(y_a, mid) + gap_star >= 0.0:
                hi = mid
            else:
                lo = mid
        return hi


def simulate_reference(preset, h: float = FINE_STEP) -> Trajectory:
    """The reference run of a gifcli ``Preset`` (reads only its params, schedule, initial)."""
    return Reference(preset.params, h).run(preset.segments, preset.initial)
