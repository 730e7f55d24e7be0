"""Throughput of the beyondadam.sim engine against a plain Python loop and a torch.optim loop.

Usage: ``PYTHONPATH=src python benchmarks/simulation.py [--quick] [--out PATH]``.

Measures, in one run: (a) Figure 1 online (Adam and AMSGrad, 5,000,000 steps each), (b) an atlas
batch of 4,096 (beta1, beta2) configurations x 10^6 steps (Adam, then AMSGrad), the two baselines
on a shorter horizon (extrapolated linearly, stated as such), and a floor: the machine's measured
throughput for the one sqrt and one division every config-step needs.  Writes a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
from numba import get_num_threads, njit, prange

from beyondadam.sim import Config, beta_grid, paper_online, run_batch, spec, warmup
from beyondadam.sim.reference import python_loop, torch_loop

BETAS = (0.9, 0.99)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


@njit(parallel=True, cache=True, error_model="numpy")
def _floor_kernel(T, a, b, c, out):
    # The irreducible part of an Adam/AMSGrad config-step: one sqrt and one division per element,
    # on 128-element blocks held in L1, parallel over blocks like the engine.
    nb = a.shape[0] // 128
    for k in prange(nb):
        s = k * 128
        x = out[s : s + 128]
        aa = a[s : s + 128]
        bb = b[s : s + 128]
        for _t in range(T):
            for j in range(128):
                x[j] = x[j] * c + aa[j] / (np.sqrt(bb[j] + x[j] * x[j]) + 1e-8)


def floor_rate(n: int = 4096, T: int = 20_000) -> tuple[float, float]:
    """Elements per second of the sqrt + div floor kernel: (wall clock, per CPU-second)."""
    a = np.random.default_rng(0).random(n)
    b = a + 1.0
    out = np.zeros(n)
    _floor_kernel(10, a, b, 0.5, out)
    best, best_cpu = np.inf, np.inf
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        _floor_kernel(T, a, b, 0.5, out)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return n * T / best, n * T / best_cpu


def timed(configs, horizon, checkpoints=None):
    """run_batch, returning (result, CPU seconds of this process during the run)."""
    c0 = time.process_time()
    r = run_batch(configs, horizon, checkpoints)
    return r, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller atlas horizon (10^5)")
    ap.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    args = ap.parse_args()
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    warmup()
    compile_s = time.perf_counter() - t0
    rows: list[tuple[str, str, str, str]] = []

    # (a) Figure 1, online problem: 2 optimizers x 5M steps.
    fig_cfgs = [Config(spec(n, lr=0.5, betas=BETAS), paper_online()) for n in ("Adam", "AMSGrad")]
    T_fig = 5_000_000
    fig_runs = sorted((timed(fig_cfgs, T_fig) for _ in range(3)), key=lambda rc: rc[0].seconds)
    fig_r, fig_cpu = fig_runs[1]
    fig_rate = 2 * T_fig / fig_r.seconds
    rows.append(("Figure 1 online, engine", "2 x 5,000,000",
                 f"{fig_r.seconds:.3f} s wall (median of 3), {fig_cpu:.3f} CPU-s",
                 f"{fig_rate / 1e6:.1f} M"))  # fmt: skip

    # (b) Atlas batch: 64 x 64 (beta1, beta2) x 10^6 steps.
    T_at = 100_000 if args.quick else 1_000_000
    grid = beta_grid(64, "log")
    at_rates: dict[str, float] = {}
    at_cpu: dict[str, float] = {}
    for name in ("Adam", "AMSGrad"):
        cfgs = [
            Config(spec(name, lr=0.5, betas=(b1, b2)), paper_online()) for b1 in grid for b2 in grid
        ]
        r, cpu = timed(cfgs, T_at, [T_at])
        at_rates[name] = r.config_steps_per_second
        at_cpu[name] = 4096 * T_at / cpu
        rows.append((f"atlas batch, engine, {name}", f"4,096 x {T_at:,}",
                     f"{r.seconds:.1f} s wall, {cpu:.1f} CPU-s",
                     f"{at_rates[name] / 1e6:.0f} M wall; {2 * at_cpu[name] / 1e6:.0f} M "
                     "projected on 2 free cores"))  # fmt: skip

    # Baselines on a shorter horizon, extrapolated linearly.
    T_py = 200_000
    t0 = time.perf_counter()
    python_loop(fig_cfgs[0], T_py)
    py_rate = T_py / (time.perf_counter() - t0)
    T_torch = 5_000
    t0 = time.perf_counter()
    torch_loop(fig_cfgs[0], T_torch)
    torch_rate = T_torch / (time.perf_counter() - t0)
    for label, rate, meas in (
        ("plain Python loop (Adam)", py_rate, T_py),
        ("beyondadam.optim loop (Adam, torch)", torch_rate, T_torch),
    ):
        rows.append((f"{label}, measured", f"1 x {meas:,}", f"{meas / rate:.2f} s",
                     f"{rate / 1e6:.4f} M"))  # fmt: skip
        rows.append((f"{label}, extrapolated: Figure 1 online", "2 x 5,000,000",
                     f"{2 * T_fig / rate:,.0f} s", ""))  # fmt: skip
        rows.append((f"{label}, extrapolated: atlas", "4,096 x 1,000,000",
                     f"{4096e6 / rate / 3600:,.1f} h", ""))  # fmt: skip

    fl, fl_cpu = floor_rate()
    load1 = os.getloadavg()
    lines = [
        "# Simulation engine throughput (`benchmarks/simulation.py`)",
        "",
        f"Machine: {cpu_name()}, {os.cpu_count()} logical cores, numba threads "
        f"{get_num_threads()}, Python {platform.python_version()}. One-minute load average "
        f"{load0[0]:.1f} before and {load1[0]:.1f} after, on {os.cpu_count()} cores (the "
        "benchmark itself loads both cores; a much higher value means other jobs competed).",
        f"Compiling (or loading) every kernel before the first run: {compile_s:.1f} s (excluded).",
        "",
        "| run | configs x steps | time | config-steps/s |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        "Baselines were measured on the horizon shown and extrapolated linearly (their cost per "
        "step is constant).  'Projected on 2 free cores' = 2 x (config-steps per CPU-second of "
        "this process): what the two cores would deliver without any other job, assuming the "
        "(embarrassingly parallel) blocks scale perfectly; it is an estimate, not a measurement.",
        "",
        "## Floor",
        "",
        "Per config-step, Adam (after its bias corrections round to 1.0, which the engine detects "
        "and exploits bit-exactly) and AMSGrad need 1 sqrt, 1 division, ~12 multiply/add and 2 "
        "min/max on ~6 float64 of state and ~6 of parameters, all in L1 (blocks of 128 "
        "configurations, ~16 KB): about 100 bytes of L1 traffic, no DRAM traffic.  The bound is "
        "the throughput of the vectorized (AVX2 or AVX-512) square-root/divide unit.  A kernel "
        "doing only that (one sqrt, one division, one FMA per element, same blocking and "
        f"threads) runs at **{fl / 1e6:.0f} M elements/s** wall here ({2 * fl_cpu / 1e6:.0f} M "
        f"projected on 2 free cores), so the engine reaches {at_rates['Adam'] / fl:.0%} (Adam) "
        f"and {at_rates['AMSGrad'] / fl:.0%} (AMSGrad) of that floor on the atlas batch "
        f"({at_cpu['Adam'] / fl_cpu:.0%} and {at_cpu['AMSGrad'] / fl_cpu:.0%} per CPU-second).  "
        "The remaining gap is the rest of the step (about 11 loads, 5 stores, ~15 vector "
        "flops per vector of configurations, plus the per-step gradient, schedule and checkpoint "
        "logic of each block) and, for Adam, the blocks whose beta^t has not yet rounded away "
        "(2 sqrt + 3 div per step; blocks are sorted by max(beta1, beta2) so that they leave "
        "that phase together).  Figure 1 (two configurations, one per thread) cannot "
        "vectorize across configurations and runs scalar: about "
        f"{1e9 / (fig_rate / 2):.0f} ns per step per thread.",
    ]
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
