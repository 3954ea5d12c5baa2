"""The issue #21 table: random points around every preset, spike counts at coarse dt against
dt = 0.01 with ``exact`` (run_batch), and the worst spike-time difference.

    python bench/dt_agreement.py [POINTS_PER_PRESET] [SEED]

Points: a in [-0.05, 0.05], A1 in [-10, 20], A2 in [-2, 2], input x0.5-2; points that fire
without end (status != OK at dt = 0.01) are left out. Coarse grids that do not fit a preset's
schedule are skipped for that preset, and said so.
"""

from __future__ import annotations

import sys

import numpy as np

from gifcli.model.parameters import PARAMETER_NAMES, STATE_NAMES
from gifcli.model.preset import shipped_presets
from gifcli.simulation.batch import run_batch
from gifcli.simulation.grid import fits_schedule

FINE, COARSE = 0.01, (0.1, 0.5, 1.0)
RECORD = 400


def points(rng: np.random.Generator, preset, n: int):
    params = {name: np.full(n, preset.params[name]) for name in PARAMETER_NAMES}
    params["a"] = rng.uniform(-0.05, 0.05, n)
    params["A1"] = rng.uniform(-10, 20, n)
    params["A2"] = rng.uniform(-2, 2, n)
    return params, rng.uniform(0.5, 2.0, n)


def compare(preset, params, scale):
    initial = {name: preset.initial[name] for name in STATE_NAMES}
    runs = {dt: run_batch(params, list(preset.segments), dt=dt, initial=initial,
                          input_scale=scale, record=RECORD)
            for dt in (FINE, *COARSE) if dt == FINE or fits_schedule(preset.segments, dt)}
    fine = runs.pop(FINE)
    kept = fine.status == 0
    rows = {}
    for dt, coarse in runs.items():
        differs = kept & ((coarse.n_spikes != fine.n_spikes) | (coarse.status != fine.status))
        same = kept & ~differs
        worst = 0.0
        for i in np.flatnonzero(same):
            n = int(fine.n_recorded[i])
            if n:
                worst = max(worst, float(np.max(np.abs(coarse.spikes(i)[:n] - fine.spikes(i)))))
        rows[dt] = (int(differs.sum()), int(kept.sum()), worst, np.flatnonzero(differs))
    return rows


def main(per_preset: int = 2000, seed: int = 21) -> None:
    rng = np.random.default_rng(seed)
    totals = {dt: [0, 0, 0.0] for dt in COARSE}
    for preset in shipped_presets():
        params, scale = points(rng, preset, per_preset)
        for dt, (n_diff, n_kept, worst, bad) in compare(preset, params, scale).items():
            totals[dt][0] += n_diff
            totals[dt][1] += n_kept
            totals[dt][2] = max(totals[dt][2], worst)
            if n_diff:
                i = int(bad[0])
                print(f"  {preset.name} dt {dt}: {n_diff} differ, e.g. a={params['a'][i]:.4f} "
                      f"A1={params['A1'][i]:.3f} A2={params['A2'][i]:.3f} x{scale[i]:.3f}")
        print(f"{preset.name}: done", flush=True)
    print("| dt | points whose spike count differs | worst time difference (ms) |")
    print("|---|---|---|")
    for dt, (n_diff, n_kept, worst) in totals.items():
        print(f"| {dt:g} | {n_diff} of {n_kept:,} ({100 * n_diff / max(n_kept, 1):.2f} %) "
              f"| {worst:.2g} |")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
