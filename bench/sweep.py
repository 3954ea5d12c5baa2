"""W1 of shared/spec/performance.md: throughput of the batched kernel, in neuron-steps/s.

N neurons with A1 = 10, A2 = -0.6, a linear over [-0.01, 0.01], constant input 2.0, 1000 ms
at dt = 0.1 ms (10,000 steps); per-neuron statistics only (no spike buffer). For each N and
each method it prints the median of --reps warm runs, the ratio to an in-run NumPy baseline
(the whole population advanced per step with in-place arrays, exact propagator, crossings
tested and reset at step ends only: "exact-at-step-end"), and the peak RSS of the process that
ran that N (measured before the NumPy baseline runs) against the budget of 200 MB + 100 bytes
per neuron, and what a spike costs ``exact`` (its CPU time over euler's, per spike). Then the
first call: a fresh
process with an empty Numba cache (cold), a fresh process with the cache filled, and a warm call
in the same process.

Beside the kernel, in the same run, the end-to-end row: ``gif sweep`` as a user runs it, over
N values of ``a`` on the W1 preset, judged by a check (tonic_bursting) and written as CSV,
less the wall time of the same command over 1 value (start-up, imports, the cache); its peak
RSS against the budget of 200 MB + 150 bytes per point. And an afterpotentials sweep (the
check that reads V, from extrema the kernel keeps), the same way.

    python bench/sweep.py --n 1e4,1e5,1e6 [--json results.json] [--reps 3]
    python bench/sweep.py --w3 [--w3-side 100] [--reps 3]

W3 (``--w3``): a 3-D grid over (a, A1, A2) of the W1 preset (side³ points, by default 1e6),
written as zarr in chunks of 1e5 points, by ``gif sweep`` in one process, with
``--workers 2`` and on an external cluster (``dask scheduler`` and two single-threaded
``dask worker`` processes on 127.0.0.1, started here): neuron-steps/s over the chunks'
wall time (from the sweep's JSON summary; the start of a cluster is shown beside it) and as
a ratio to the in-process run of the same repetition, the stores compared bit for bit, the
bytes written per point and the peak memory of a worker.

Each N runs in its own subprocess, so that its peak RSS is its own. The machine is shared and
noisy: compare the ratios, and run it twice.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

METHODS = ("exact", "euler", "exp-euler")
DURATION_MS, DT = 1000.0, 0.1
STEPS = round(DURATION_MS / DT)
NUMPY_BUDGET = 2e9  # neuron-steps per NumPy repetition: long enough, not minutes


def w1_params(n: int):
    import numpy as np

    return {"A1": 10.0, "A2": -0.6, "a": np.linspace(-0.01, 0.01, n)}


def run_kernel(n: int, method: str):
    from gifcli.simulation.batch import run_batch

    return run_batch(w1_params(n), [(2.0, DURATION_MS)], method=method, dt=DT)


def numpy_baseline(n: int, steps: int) -> tuple[float, float]:
    """(seconds, mean spikes per neuron) of ``steps`` steps of the W1 population in NumPy."""
    import numpy as np

    from gifcli.model.parameters import DEFAULTS, PARAMETER_NAMES
    from gifcli.simulation import kernel

    base = np.array([DEFAULTS[name] for name in PARAMETER_NAMES])
    base[kernel.A1], base[kernel.A2] = 10.0, -0.6
    a = np.linspace(-0.01, 0.01, n)
    p0 = base.copy()
    P = kernel.propagator(p0, DT, kernel.EXACT)  # rows that do not depend on a
    # The threshold row is linear in a (P41, P42, P43 are a times a constant).
    p1 = base.copy()
    p1[kernel.A] = 1.0
    unit = kernel.propagator(p1, DT, kernel.EXACT)
    p41, p42, p43 = a * unit[kernel.P41], a * unit[kernel.P42], a * unit[kernel.P43]
    v_star = base[kernel.V_REST] + base[kernel.R] * 2.0
    th_star = base[kernel.V_TH_INF] + a * (v_star - base[kernel.V_REST]) / base[kernel.B]
    gap = v_star - th_star
    y1, y2 = np.zeros(n), np.zeros(n)
    yv = np.full(n, base[kernel.V_REST] - v_star)
    yt = base[kernel.V_TH_INF] - th_star
    reset_v = base[kernel.V_RESET] - v_star
    reset_t = base[kernel.V_TH_RESET] - th_star
    count = np.zeros(n, dtype=np.int64)
    new_v, new_t, tmp, test = (np.empty(n) for _ in range(4))
    fired = np.empty(n, dtype=bool)
    start = time.perf_counter()
    for _ in range(steps):
        np.multiply(P[kernel.P31], y1, out=new_v)
        np.multiply(P[kernel.P32], y2, out=tmp)
        new_v += tmp
        np.multiply(P[kernel.P33], yv, out=tmp)
        new_v += tmp
        np.multiply(p41, y1, out=new_t)
        np.multiply(p42, y2, out=tmp)
        new_t += tmp
        np.multiply(p43, yv, out=tmp)
        new_t += tmp
        np.multiply(P[kernel.P44], yt, out=tmp)
        new_t += tmp
        y1 *= P[kernel.P11]
        y2 *= P[kernel.P22]
        yv, new_v = new_v, yv
        yt, new_t = new_t, yt
        np.subtract(yv, yt, out=test)
        test += gap
        np.greater_equal(test, 0.0, out=fired)
        if fired.any():
            idx = np.flatnonzero(fired)
            y1[idx] = base[kernel.R1] * y1[idx] + base[kernel.A1]
            y2[idx] = base[kernel.R2] * y2[idx] + base[kernel.A2]
            yv[idx] = reset_v
            yt[idx] = np.maximum(reset_t[idx], yt[idx])
            count[idx] += 1
    return time.perf_counter() - start, float(count.mean())


W1_PRESET = """name: w1
title: W1 of the benchmarks
params: {A1: 10.0, A2: -0.6}
input:
  - {amplitude: 2.0, duration: 1000}
dt: 0.1
check: tonic_bursting
"""


def gif_sweep(preset: str, n: int, out: str) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one ``gif sweep`` process over n values of a."""
    gif = os.path.join(os.path.dirname(sys.executable), "gif")
    args = [gif, "sweep", preset, "--param", "a", "--start", "-0.01", "--stop", "0.01",
            "--num", str(n), "--format", "csv", "--quiet", "--out", out]
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {process.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024


def end_to_end(n: int, reps: int) -> dict:
    """``gif sweep`` over n points of W1 (and of afterpotentials), less a 1-point sweep."""
    out: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        w1 = os.path.join(folder, "w1.yaml")
        with open(w1, "w", encoding="utf-8") as stream:
            stream.write(W1_PRESET)
        for label, preset, steps in (("w1", w1, STEPS), ("afterpotentials", "Q", 2000)):
            gif_sweep(preset, 1, folder)  # fill the cache
            startup = statistics.median(gif_sweep(preset, 1, folder)[0] for _ in range(reps))
            runs = [gif_sweep(preset, n, folder) for _ in range(reps)]
            seconds = statistics.median(r[0] for r in runs) - startup
            out[label] = {
                "startup_s": startup, "seconds": [r[0] for r in runs], "net_s": seconds,
                "neuron_steps_per_s": n * steps / seconds,
                "peak_rss_mb": max(r[1] for r in runs), "rss_budget_mb": 200 + 150 * n / 1e6,
            }
    return out


def worker(n: int, reps: int, methods: list[str]) -> dict:
    """Everything measured for one N, in this process."""
    import numba

    run_kernel(64, methods[0])  # load or compile
    out: dict = {"n": n, "threads": numba.get_num_threads(), "methods": {}}
    for method in methods:
        run_kernel(64, method)
        times, cpu, spikes = [], [], 0.0
        for _ in range(reps):
            start, start_cpu = time.perf_counter(), time.process_time()
            result = run_kernel(n, method)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            spikes = float(result.n_spikes.mean())
            del result  # one run's arrays at a time: the peak RSS is that of one run
        out["methods"][method] = {
            "seconds": times,
            "cpu_seconds": cpu,
            "median_s": statistics.median(times),
            "neuron_steps_per_s": n * STEPS / statistics.median(times),
            "neuron_steps_per_cpu_s": n * STEPS / statistics.median(cpu),
            "mean_spikes": spikes,
        }
    # The kernel's peak, before the NumPy baseline allocates its own arrays.
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["rss_budget_mb"] = 200 + 100 * n / 1e6
    out["end_to_end"] = end_to_end(n, reps)
    steps = max(100, min(STEPS, int(NUMPY_BUDGET // n)))
    times, cpu = [], []
    for _ in range(reps):
        start_cpu = time.process_time()
        seconds, spikes = numpy_baseline(n, steps)
        times.append(seconds)
        cpu.append(time.process_time() - start_cpu)
    out["numpy"] = {
        "kind": "exact propagator, crossings tested and reset at step ends only",
        "steps": steps,
        "seconds": times,
        "cpu_seconds": cpu,
        "neuron_steps_per_s": n * steps / statistics.median(times),
        "neuron_steps_per_cpu_s": n * steps / statistics.median(cpu),
        "mean_spikes_in_those_steps": spikes,
    }
    return out


def first_call(cache_dir: str) -> dict:
    """A fresh process: import, then the first and a second call of the kernel (N = 1e4)."""
    code = (
        "import time; t0 = time.perf_counter(); import gifcli.simulation.batch as b;"
        "t1 = time.perf_counter();"
        "import numpy as np;"
        "p = {'A1': 10.0, 'A2': -0.6, 'a': np.linspace(-0.01, 0.01, 10000)};"
        "t2 = time.perf_counter(); b.run_batch(p, [(2.0, 1000.0)], dt=0.1);"
        "t3 = time.perf_counter(); b.run_batch(p, [(2.0, 1000.0)], dt=0.1);"
        "t4 = time.perf_counter();"
        "import json; print(json.dumps({'import_s': t1 - t0, 'first_call_s': t3 - t2,"
        " 'warm_call_s': t4 - t3}))"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}"


W3_AXES = ("a=-0.01:0.01:{n}", "A1=5:15:{n}", "A2=-1:-0.4:{n}")
W3_RUNS = (("in-process", []), ("--workers 2", ["--workers", "2"]),
           ("external, 2 workers", ["--scheduler", "{address}"]))


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmHWM"))
    return int(line.split()[1]) / 1024


def _external_cluster(folder: str):
    """A scheduler and two single-threaded workers on 127.0.0.1: (address, processes)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dask = os.path.join(os.path.dirname(sys.executable), "dask")
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": folder}
    processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port",
                                   str(port), "--no-dashboard"], **quiet)]
    processes += [subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-nanny",
                                    "--host", "127.0.0.1", "--no-dashboard", "--memory-limit",
                                    "0"], **quiet) for _ in range(2)]
    from distributed import Client

    with Client(address, timeout=30) as client:
        client.wait_for_workers(2, timeout=60)
    return address, processes


def w3(side: int, reps: int) -> dict:
    """The three ways to run the W3 grid, ``reps`` times each, alternating."""
    import shutil

    import xarray as xr

    gif = os.path.join(os.path.dirname(sys.executable), "gif")
    points = side**3
    out: dict = {"points": points, "steps": STEPS, "runs": {label: [] for label, _ in W3_RUNS}}
    with tempfile.TemporaryDirectory() as folder:
        preset = os.path.join(folder, "w1.yaml")
        with open(preset, "w", encoding="utf-8") as stream:
            stream.write(W1_PRESET)
        address, processes = _external_cluster(folder)
        try:
            axes = [a.format(n=side) for a in W3_AXES]
            reference = None
            for rep in range(reps + 1):  # the first round only warms up, at a small size
                for label, extra in W3_RUNS:
                    target = os.path.join(folder, f"run{rep}")
                    shutil.rmtree(target, ignore_errors=True)
                    grid = axes if rep else [a.format(n=8) for a in W3_AXES]
                    args = [gif, "sweep", preset, *sum((["-p", a] for a in grid), []),
                            "--format", "zarr,json", "--quiet", "--out", target,
                            *(e.format(address=address) for e in extra)]
                    start = time.perf_counter()
                    subprocess.run(args, check=True)
                    wall = time.perf_counter() - start
                    if not rep:
                        continue
                    with open(os.path.join(target, "w1_sweep_a_A1_A2.json")) as stream:
                        summary = json.load(stream)
                    store = os.path.join(target, "w1_sweep_a_A1_A2.zarr")
                    with xr.open_zarr(store) as ds:
                        grid_now = ds.drop_attrs().load()
                    if reference is None:
                        reference = grid_now
                        size = sum(os.path.getsize(os.path.join(d, f))
                                   for d, _, fs in os.walk(store) for f in fs)
                        out["bytes_per_point"] = size / points
                    out["runs"][label].append({
                        "chunks_wall_s": summary["seconds"]["chunks_wall"],
                        "cluster_start_s": summary["seconds"].get("cluster_start", 0.0),
                        "wall_s": wall, "equal": bool(grid_now.identical(reference))})
            out["worker_peak_rss_mb"] = max(_peak_rss_mb(p.pid) for p in processes[1:])
        finally:
            _stop(processes[1:])  # the workers, then their scheduler
            _stop(processes[:1])
    return out


def _stop(processes) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def print_w3(data: dict) -> None:
    points, steps = data["points"], data["steps"]
    base = statistics.median(points * steps / r["chunks_wall_s"]
                             for r in data["runs"]["in-process"])
    print(f"\nW3: {points:.0e} points (a × A1 × A2 of W1, {steps} steps each) as zarr, chunks "
          f"of 1e5; medians of {len(data['runs']['in-process'])}")
    header = (f"{'run':<22} {'neuron-steps/s':>15} {'× in-process':>13} {'start':>7} "
              f"{'end to end':>11} {'same bits':>9}")
    print(header)
    print("-" * len(header))
    for label, runs in data["runs"].items():
        rate = statistics.median(points * steps / r["chunks_wall_s"] for r in runs)
        print(f"{label:<22} {rate:>15.3e} {rate / base:>13.0%} "
              f"{statistics.median(r['cluster_start_s'] for r in runs):>6.1f}s "
              f"{statistics.median(r['wall_s'] for r in runs):>10.1f}s "
              f"{str(all(r['equal'] for r in runs)):>9}")
    print(f"store: {data['bytes_per_point']:.1f} bytes per point; a worker's peak memory "
          f"{data['worker_peak_rss_mb']:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", default="1e4,1e5,1e6", help="population sizes, comma-separated")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (median), >= 3")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    parser.add_argument("--skip-first-call", action="store_true")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--w3", action="store_true", help="the W3 rows instead of W1")
    parser.add_argument("--w3-side", type=int, default=100, help="values per axis of W3")
    args = parser.parse_args()
    if args.w3:
        data = w3(args.w3_side, args.reps)
        print_w3(data)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as stream:
                json.dump({"machine": machine(), "w3": data}, stream, indent=2)
        return
    methods = [m for m in args.methods.split(",") if m]
    if args.worker:
        print(json.dumps(worker(args.worker, args.reps, methods)))
        return
    sizes = [int(float(x)) for x in args.n.split(",") if x]
    print(f"W1 sweep throughput on {machine()}")
    print(f"{STEPS} steps of {DT} ms per neuron; medians of {args.reps}; NumPy baseline: exact "
          "propagator, whole population per step, in place, crossings at step ends only;")
    print("'per CPU-s' divides by the CPU time of all threads: on a busy machine, twice it is "
          "what 2 free cores would give\n")
    rows = []
    header = (f"{'N':>9}  {'method':<9} {'neuron-steps/s':>15} {'× NumPy':>8} "
              f"{'per CPU-s':>10} {'spikes/neuron':>13} {'peak RSS':>9} {'budget':>8}")
    print(header)
    print("-" * len(header))
    for n in sizes:
        done = subprocess.run([sys.executable, __file__, "--worker", str(n), "--reps",
                               str(args.reps), "--methods", ",".join(methods)],
                              capture_output=True, text=True, check=True)
        data = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(data)
        base = data["numpy"]["neuron_steps_per_s"]
        for method, m in data["methods"].items():
            print(f"{n:>9.0e}  {method:<9} {m['neuron_steps_per_s']:>15.3e} "
                  f"{m['neuron_steps_per_s'] / base:>8.1f} {m['neuron_steps_per_cpu_s']:>10.2e} "
                  f"{m['mean_spikes']:>13.1f} {data['peak_rss_mb']:>6.0f} MB "
                  f"{data['rss_budget_mb']:>5.0f} MB")
        numpy_cpu = data["numpy"]["neuron_steps_per_cpu_s"]
        print(f"{n:>9.0e}  {'numpy':<9} {base:>15.3e} {1.0:>8.1f} {numpy_cpu:>10.2e} "
              f"{'(' + str(data['numpy']['steps']) + ' steps)':>13}")
        kernel_rate = data["methods"].get("exact", {}).get("neuron_steps_per_s")
        for label, e in data["end_to_end"].items():
            share = f"{e['neuron_steps_per_s'] / kernel_rate:>7.0%} of the kernel" \
                if kernel_rate and label == "w1" else ""
            print(f"{n:>9.0e}  {'gif sweep':<9} {e['neuron_steps_per_s']:>15.3e} "
                  f"{e['neuron_steps_per_s'] / base:>8.1f} {'':>10} {label:>13} "
                  f"{e['peak_rss_mb']:>6.0f} MB {e['rss_budget_mb']:>5.0f} MB  {share}")
    report = {"machine": machine(), "steps": STEPS, "dt": DT, "reps": args.reps, "runs": rows}
    if not args.skip_first_call:
        with tempfile.TemporaryDirectory() as cache:
            cold = first_call(cache)
            warm = first_call(cache)
        report["first_call"] = {"cold_cache": cold, "filled_cache": warm}
        print("\nfirst call (fresh process, N = 1e4, exact):")
        for label, d in (("empty Numba cache", cold), ("filled Numba cache", warm)):
            print(f"  {label:<18}: import {d['import_s']:.2f} s, first call "
                  f"{d['first_call_s']:.2f} s, then a warm call {d['warm_call_s']:.2f} s "
                  f"(first - warm = {d['first_call_s'] - d['warm_call_s']:.2f} s)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(report, stream, indent=2)
            stream.write("\n")
        print(f"\nsaved {args.json}")


if __name__ == "__main__":
    main()
