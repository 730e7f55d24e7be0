"""Time one optimizer step on ~10M float32 parameters: beyondadam vs torch.optim, in one run.

For each optimizer: the median wall time of a step over repeated steps, Mparams/s, the effective
bandwidth (the bytes the step must read and write divided by the time), the ratio to
``torch.optim.Adam(fused=True)`` (with ``amsgrad`` where the state is the same size), and the
first-step latency (state allocation and any compilation included). The floor is the bytes a step
must move divided by the machine's in-place update bandwidth (``x.mul_(s)``); the plain copy
bandwidth (``dst.copy_(src)``) is printed beside it.

    python benchmarks/optimizer_step.py [--tensors 64] [--numel 160000] [--repeats 30]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import torch

from beyondadam import optim as bo


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def bandwidths(numel: int, device: torch.device, repeats: int) -> tuple[float, float]:
    """GB/s of a large copy and of a large in-place update, counting 8 bytes an element.

    A copy writes to memory it did not read, which CPUs first read for ownership, so it moves
    more bytes than it counts; an in-place update (``x.mul_(s)``) does not, and is the pattern
    of an optimizer step (every written buffer is also read). Its rate is the floor's yardstick.
    """
    src = torch.randn(numel, device=device)
    dst = torch.empty_like(src)
    rates = []
    for op in (lambda: dst.copy_(src), lambda: src.mul_(1.0000001)):
        times = []
        for _ in range(repeats):
            _sync(device)
            t0 = time.perf_counter()
            op()
            _sync(device)
            times.append(time.perf_counter() - t0)
        rates.append(2 * src.element_size() * numel / statistics.median(times) / 1e9)
    return rates[0], rates[1]


def make_case(
    make: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
    tensors: int,
    numel: int,
    device: torch.device,
) -> tuple[torch.optim.Optimizer, float]:
    """A fresh optimizer on fresh parameters, and its first-step seconds (allocation included)."""
    gen = torch.Generator(device=device).manual_seed(0)
    params = [torch.randn(numel, device=device, generator=gen) for _ in range(tensors)]
    for p in params:
        p.grad = torch.randn(numel, device=device, generator=gen) * 1e-2
    opt = make(params)
    _sync(device)
    t0 = time.perf_counter()
    opt.step()
    _sync(device)
    return opt, time.perf_counter() - t0


def time_step(opt: torch.optim.Optimizer, device: torch.device) -> float:
    """Seconds of one step."""
    _sync(device)
    t0 = time.perf_counter()
    opt.step()
    _sync(device)
    return time.perf_counter() - t0


def candidates(device: torch.device) -> list[tuple[str, int, Callable, str]]:
    """(label, state tensors per parameter, factory, torch reference label)."""
    T = torch.optim
    rows = [
        ("torch Adam fused", 2, lambda p: T.Adam(p, lr=1e-3, fused=True), ""),
        ("torch Adam foreach", 2, lambda p: T.Adam(p, lr=1e-3, foreach=True), ""),
        (
            "torch Adam(amsgrad) fused",
            3,
            lambda p: T.Adam(p, lr=1e-3, amsgrad=True, fused=True),
            "",
        ),
        (
            "torch Adam(amsgrad) foreach",
            3,
            lambda p: T.Adam(p, lr=1e-3, amsgrad=True, foreach=True),
            "",
        ),
        ("beyondadam Adam", 2, lambda p: bo.Adam(p, lr=1e-3), "torch Adam fused"),
        ("beyondadam AdamNC", 2, lambda p: bo.AdamNC(p, lr=1e-3), "torch Adam fused"),
    ]
    for flavor in bo.FLAVORS:
        rows.append(
            (
                f"beyondadam AMSGrad {flavor}",
                3,
                lambda p, f=flavor: bo.AMSGrad(p, lr=1e-3, flavor=f),
                "torch Adam(amsgrad) fused",
            )
        )
    rows.append(
        (
            "beyondadam AMSGrad paper foreach",
            3,
            lambda p: bo.AMSGrad(p, lr=1e-3, foreach=True),
            "torch Adam(amsgrad) fused",
        )
    )
    return rows


def main() -> None:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tensors", type=int, default=64)
    parser.add_argument("--numel", type=int, default=160_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    n = args.tensors * args.numel

    copy_bw, bw = bandwidths(n, device, args.repeats)
    print(
        f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    )
    print(f"device: {device}, torch {torch.__version__}")
    print(f"params: {args.tensors} x {args.numel:,} float32 = {n / 1e6:.2f} M")
    print(
        f"copy bandwidth: {copy_bw:.1f} GB/s; "
        f"in-place update bandwidth (the floor): {bw:.1f} GB/s\n"
    )
    print(
        "| optimizer | first step ms | step ms (median) | Mparams/s | effective GB/s "
        "| floor ms | vs torch fused |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    cases = candidates(device)
    built = [make_case(make, args.tensors, args.numel, device) for _, _, make, _ in cases]
    # Round-robin: every candidate sees the same background load, so the ratios stay fair on a
    # shared machine even when the absolute times drift.
    samples: list[list[float]] = [[] for _ in cases]
    for _ in range(args.repeats):
        for i, (opt, _) in enumerate(built):
            samples[i].append(time_step(opt, device))
    medians = {label: statistics.median(samples[i]) for i, (label, *_) in enumerate(cases)}
    for (label, states, _, ref), (_, first) in zip(cases, built, strict=True):
        med = medians[label]
        # param read+write, grad read, each state tensor read+write
        nbytes = (3 + 2 * states) * 4 * n
        floor = nbytes / (bw * 1e9)
        ratio = f"{med / medians[ref]:.2f}x" if ref else ""
        print(
            f"| {label} | {first * 1e3:.1f} | {med * 1e3:.2f} | {n / med / 1e6:.0f} | "
            f"{nbytes / med / 1e9:.1f} | {floor * 1e3:.2f} | {ratio} |"
        )


if __name__ == "__main__":
    main()
