"""The issue #21 table: random points around every preset, spike counts at coarse dt against
dt = 0.01 with ``exact`` (run_batch), and the worst spike-time difference.

    python bench/dt_agreement.py [POINTS_PER_PRESET] [SEED]

Points: a in [-0.05, 0.05], A1 in [-10, 20], A2 in [-2, 2], input x0.5-2; points that fire
without end (status != OK at any dt: more than MAX_SPIKES, or the cap of spikes per step,
which trips first at a coarse dt) are left out. Coarse grids that do not fit a preset's
schedule are skipped for that preset. "coarsest" is the grid an ``exact`` sweep of the
preset steps by default (gifcli.analysis.spike_grid; 2-25 ms for the presets).
Every point also runs at dt = 0.005 and 0.02: where either of these fine grids disagrees
with dt = 0.01 (a count, or a time by more than 1e-6 ms), the train is ill-conditioned
(chaotic, or a spike drifting across the end of the run: rounding decides it at any dt),
and it is counted apart.
"""

from __future__ import annotations

import sys

import numpy as np

from gifcli.analysis.spike_grid import coarse_rate, fastest_rate, spike_dt
from gifcli.model.parameters import PARAMETER_NAMES, STATE_NAMES
from gifcli.model.preset import shipped_presets
from gifcli.simulation.batch import run_batch
from gifcli.simulation.grid import fits_schedule

FINE, COARSE, CHAOS_PROBES = 0.01, (0.1, 0.5, 1.0, "coarsest"), (0.005, 0.02)
RECORD = 400
# Firing faster than 40 kHz on average: without end, for this purpose (and it keeps the run short)
MAX_SPIKES = 20_000
PARTED = 1e-6  # ms: model.md's tolerance


def points(rng: np.random.Generator, preset, n: int):
    params = {name: np.full(n, preset.params[name]) for name in PARAMETER_NAMES}
    params["a"] = rng.uniform(-0.05, 0.05, n)
    params["A1"] = rng.uniform(-10, 20, n)
    params["A2"] = rng.uniform(-2, 2, n)
    return params, rng.uniform(0.5, 2.0, n)


def _parted(run, fine):
    """Per point: whether two fine grids disagree, in count or by > PARTED ms in a time."""
    parted = run.n_spikes != fine.n_spikes
    for i in np.flatnonzero(~parted & (fine.n_recorded > 0)):
        n = int(fine.n_recorded[i])
        parted[i] = np.max(np.abs(run.spikes(i)[:n] - fine.spikes(i))) > PARTED
    return parted


def grid_dt(preset, grid) -> float:
    """The dt of a column: a number, or "coarsest" (a default exact sweep's grid)."""
    if grid != "coarsest":
        return grid
    rate = coarse_rate("exact", None, fastest_rate(preset.params))
    return spike_dt(preset.segments, rate, 0.1)


def compare(preset, params, scale):
    initial = {name: preset.initial[name] for name in STATE_NAMES}
    grids = [g for g in (FINE, *CHAOS_PROBES, *COARSE)
             if fits_schedule(preset.segments, grid_dt(preset, g))]
    runs = {g: run_batch(params, list(preset.segments), dt=grid_dt(preset, g),
                         initial=initial, input_scale=scale, record=RECORD,
                         max_spikes=MAX_SPIKES)
            for g in grids}
    kept = np.logical_and.reduce([run.status == 0 for run in runs.values()])
    fine = runs[FINE]
    chaotic = kept & np.logical_or.reduce([_parted(runs[dt], fine)
                                           for dt in CHAOS_PROBES if dt in runs])
    rows = {}
    for dt in COARSE:
        if dt not in runs:
            continue
        differs = kept & (runs[dt].n_spikes != fine.n_spikes)
        worst = 0.0
        for i in np.flatnonzero(kept & ~differs & ~chaotic):
            n = int(fine.n_recorded[i])
            if n:
                worst = max(worst, float(np.max(np.abs(runs[dt].spikes(i)[:n] - fine.spikes(i)))))
        rows[dt] = (int(differs.sum()), int((differs & chaotic).sum()), int(kept.sum()), worst,
                    np.flatnonzero(differs & ~chaotic))
    return rows


def main(per_preset: int = 2000, seed: int = 21) -> None:
    rng = np.random.default_rng(seed)
    totals = {dt: [0, 0, 0, 0.0] for dt in COARSE}
    for preset in shipped_presets():
        params, scale = points(rng, preset, per_preset)
        for dt, (n_diff, n_chaotic, n_kept, worst, bad) in compare(preset, params,
                                                                   scale).items():
            row = totals[dt]
            row[0], row[1], row[2] = row[0] + n_diff, row[1] + n_chaotic, row[2] + n_kept
            row[3] = max(row[3], worst)
            for i in bad:
                print(f"  {preset.name} dt {dt}: differs, well-conditioned: a={params['a'][i]:.4f} "
                      f"A1={params['A1'][i]:.3f} A2={params['A2'][i]:.3f} x{scale[i]:.3f}")
        print(f"{preset.name}: done", flush=True)
    print("| dt | points whose spike count differs from dt 0.01 | of which ill-conditioned "
          "| worst time difference elsewhere (ms) |")
    print("|---|---|---|---|")
    for dt, (n_diff, n_chaotic, n_kept, worst) in totals.items():
        print(f"| {dt} | {n_diff} of {n_kept:,} ({100 * n_diff / max(n_kept, 1):.2f} %) "
              f"| {n_chaotic} | {worst:.2g} |")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
