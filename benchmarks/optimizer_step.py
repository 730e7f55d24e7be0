"""Time one optimizer step on ~10M float32 parameters: beyondadam vs torch.optim, in one run.

Three tables, each timed round-robin (every row sees the same background load) and reported as
the best of ``--repeats`` steps, since the best is the least disturbed on a shared machine:

- ``adam``: the Adam family against ``torch.optim.Adam(fused=True)`` (``amsgrad`` where the
  state is the same size);
- ``constraints``: AMSGrad (paper flavor) projecting every step onto a ``Box``, an ``L2Ball``
  and an ``L1Ball`` (the norm weighted by its preconditioner) against the plain step;
- ``sgd``: SGD, Momentum, NAG and AdaGrad against torch's fused kernels
  (``torch.optim.SGD``/``Adagrad(fused=True)``).

For every row: the bytes a step must move (each parameter and state tensor read and written, the
gradient read; a projection must also read the parameter and the preconditioner's source once
more and write the parameter), the floor those bytes take at the machine's in-place update
bandwidth (``x.mul_(s)``, timed in the same rounds), and the ratio to the row's reference.
The script only uses the public optimizers, so it also times an older tree
(``PYTHONPATH=old/src``).

    python benchmarks/optimizer_step.py [--tensors 64] [--numel 160000] [--repeats 10]
        [--tables adam,constraints,sgd] [--threads 1]
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from beyondadam import optim as bo

Make = Callable[[list[torch.Tensor]], torch.optim.Optimizer]


@dataclass(frozen=True)
class Row:
    """One timed configuration: ``arrays`` = parameter-sized tensors a step reads and writes."""

    label: str
    make: Make
    arrays: int
    reference: str = ""
    #: parameter-sized tensors the projection must stream besides the update (0: none).
    projection: int = 0


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def build(make: Make, tensors: int, numel: int, device: torch.device) -> torch.optim.Optimizer:
    """A fresh optimizer on fresh parameters (gradients ~ 1e-2 N(0, 1)), after one step."""
    gen = torch.Generator(device=device).manual_seed(0)
    params = [torch.randn(numel, device=device, generator=gen) for _ in range(tensors)]
    for p in params:
        p.grad = torch.randn(numel, device=device, generator=gen) * 1e-2
    opt = make(params)
    opt.step()  # state allocation out of the timings
    return opt


def time_step(opt: torch.optim.Optimizer, device: torch.device) -> float:
    """Seconds of one step."""
    _sync(device)
    t0 = time.perf_counter()
    opt.step()
    _sync(device)
    return time.perf_counter() - t0


def adam_rows() -> list[Row]:
    """The Adam family against torch's fused Adam."""
    T = torch.optim
    fused, fused_ams = "torch Adam fused", "torch Adam(amsgrad) fused"
    rows = [
        Row(fused, lambda p: T.Adam(p, lr=1e-3, fused=True), 4),
        Row(fused_ams, lambda p: T.Adam(p, lr=1e-3, amsgrad=True, fused=True), 5),
        Row("beyondadam Adam", lambda p: bo.Adam(p, lr=1e-3), 4, fused),
        Row("beyondadam AdamNC", lambda p: bo.AdamNC(p, lr=1e-3), 4, fused),
    ]
    for flavor in bo.FLAVORS:
        rows.append(
            Row(
                f"beyondadam AMSGrad {flavor}",
                lambda p, f=flavor: bo.AMSGrad(p, lr=1e-3, flavor=f),
                5,
                fused_ams,
            )
        )
    return rows


def constraint_rows() -> list[Row]:
    """AMSGrad projecting onto each kind of set against the plain AMSGrad step."""
    plain = "AMSGrad (no constraint)"

    def amsgrad(constraint: bo.Constraint | None) -> Make:
        return lambda p: bo.AMSGrad([{"params": p, "constraint": constraint}], lr=1e-3)

    return [
        Row(plain, amsgrad(None), 5),
        # A clamp reads and writes the parameter once more; the balls also read the weights.
        Row("AMSGrad + Box(-0.5, 0.5)", amsgrad(bo.Box(-0.5, 0.5)), 5, plain, 2),
        Row("AMSGrad + L2Ball(50)", amsgrad(bo.L2Ball(50.0)), 5, plain, 3),
        Row("AMSGrad + L1Ball(500)", amsgrad(bo.L1Ball(500.0)), 5, plain, 3),
    ]


def sgd_rows() -> list[Row]:
    """SGD, Momentum, NAG and AdaGrad against torch.optim's fused kernels."""
    T = torch.optim
    return [
        Row("torch SGD fused", lambda p: T.SGD(p, lr=1e-3, fused=True), 2),
        Row("beyondadam SGD", lambda p: bo.SGD(p, lr=1e-3), 2, "torch SGD fused"),
        Row("torch SGD(momentum) fused", lambda p: T.SGD(p, lr=1e-3, momentum=0.9, fused=True), 3),
        Row(
            "beyondadam Momentum", lambda p: bo.Momentum(p, lr=1e-3), 3, "torch SGD(momentum) fused"
        ),
        Row(
            "torch SGD(nesterov) fused",
            lambda p: T.SGD(p, lr=1e-3, momentum=0.9, nesterov=True, fused=True),
            3,
        ),
        Row("beyondadam NAG", lambda p: bo.NAG(p, lr=1e-3), 3, "torch SGD(nesterov) fused"),
        Row("torch Adagrad fused", lambda p: T.Adagrad(p, lr=1e-2, fused=True), 3),
        Row("beyondadam AdaGrad", lambda p: bo.AdaGrad(p, lr=1e-2), 3, "torch Adagrad fused"),
    ]


def _peer(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def descendants_rows() -> list[Row]:
    """The nine descendants against torch's fused Adam, and the authors' packages against ours.

    ``arrays``: parameter, gradient and state tensors (2 for Adam's m and v; 3 with a maximum).
    A peer row's ratio is the peer's time over ours (above 1: ours is faster).
    """
    T = torch.optim
    fused, fused_ams = "torch Adam fused", "torch Adam(amsgrad) fused"
    rows = [
        Row(fused, lambda p: T.Adam(p, lr=1e-3, fused=True), 4),
        Row(fused_ams, lambda p: T.Adam(p, lr=1e-3, amsgrad=True, fused=True), 5),
    ]
    ours = [
        ("RAdam", 4, bo.RAdam),
        ("NosAdam", 4, bo.NosAdam),
        ("AdamX", 5, lambda p: bo.AdamX(p, beta1_decay=0.999)),
        ("Padam", 5, bo.Padam),
        ("ADOPT", 4, bo.ADOPT),
        ("AdaBelief", 4, bo.AdaBelief),
        ("AdaBound", 4, bo.AdaBound),
        ("AMSBound", 5, bo.AMSBound),
        ("Yogi", 4, bo.Yogi),
    ]
    for name, arrays, make in ours:
        rows.append(Row(f"beyondadam {name}", make, arrays, fused if arrays == 4 else fused_ams))
    rows.append(Row("torch.optim RAdam", lambda p: T.RAdam(p), 4, "beyondadam RAdam"))
    if _peer("adopt"):
        import adopt

        rows.append(Row("torch-adopt ADOPT", lambda p: adopt.ADOPT(p), 4, "beyondadam ADOPT"))
    if _peer("adabelief_pytorch"):
        from adabelief_pytorch import AdaBelief

        rows.append(
            Row(
                "adabelief-pytorch AdaBelief",
                lambda p: AdaBelief(p, print_change_log=False),
                4,
                "beyondadam AdaBelief",
            )
        )
    if _peer("adabound"):
        import adabound

        rows.append(Row("adabound AdaBound", adabound.AdaBound, 4, "beyondadam AdaBound"))
        rows.append(
            Row(
                "adabound AMSBound",
                lambda p: adabound.AdaBound(p, amsbound=True),
                5,
                "beyondadam AMSBound",
            )
        )
    return rows


TABLES = {
    "adam": adam_rows,
    "constraints": constraint_rows,
    "sgd": sgd_rows,
    "descendants": descendants_rows,
}


def run_table(
    rows: list[Row], tensors: int, numel: int, device: torch.device, repeats: int
) -> None:
    """Time ``rows`` round-robin with the bandwidth probe and print one markdown table.

    The probe is an in-place update of a parameter-sized tensor (``x.mul_(s)``: every byte read
    is written back, the access pattern of an optimizer step; a copy would also read its
    destination for ownership and move more than it counts).  It runs in every round, so it
    sees the same background load as the rows it is the floor of.
    """
    n = tensors * numel
    built = [build(row.make, tensors, numel, device) for row in rows]
    probe = torch.randn(n, device=device)
    best = [float("inf")] * len(rows)
    best_probe = float("inf")
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        probe.mul_(1.0000001)
        _sync(device)
        best_probe = min(best_probe, time.perf_counter() - t0)
        for i, opt in enumerate(built):
            best[i] = min(best[i], time_step(opt, device))
    bw = 2 * 4 * n / best_probe / 1e9
    print(f"in-place update bandwidth (the floor's yardstick): {bw:.1f} GB/s\n")
    by_label = {row.label: t for row, t in zip(rows, best, strict=True)}
    print("| step | best ms | Mparams/s | bytes/step MB | floor ms | x floor | vs reference |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row, t in zip(rows, best, strict=True):
        # parameter read + write, gradient read, each state tensor read + write; a projection
        # streams its own tensors once more.
        nbytes = (2 * row.arrays - 1 + row.projection) * 4 * n
        floor = nbytes / (bw * 1e9)
        ratio = f"{t / by_label[row.reference]:.2f}x vs {row.reference}" if row.reference else ""
        print(
            f"| {row.label} | {t * 1e3:.2f} | {n / t / 1e6:.0f} | {nbytes / 1e6:.0f} | "
            f"{floor * 1e3:.2f} | {t / floor:.1f} | {ratio} |"
        )
    print()


def main() -> None:
    """Run the benchmark and print markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tensors", type=int, default=64)
    parser.add_argument("--numel", type=int, default=160_000)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch intra-op threads (0: torch's default); 1 keeps a shared machine's other "
        "load from stalling every multi-threaded op for a scheduler time slice",
    )
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    # The authors' packages call torch APIs that now warn; keep the tables readable.
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    device = torch.device(args.device)
    n = args.tensors * args.numel
    tables = [t.strip() for t in args.tables.split(",") if t.strip()]
    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        parser.error(f"--tables: unknown table {unknown[0]!r}; choose from {', '.join(TABLES)}")

    print(f"machine: {_cpu_name()}, {torch.get_num_threads()} torch threads")
    print(f"device: {device}, torch {torch.__version__}, beyondadam from {bo.__file__}")
    print(f"params: {args.tensors} x {args.numel:,} float32 = {n / 1e6:.2f} M")
    print(f"best of {args.repeats} steps per row, rows timed round-robin\n")
    for name in tables:
        print(f"## {name}\n")
        run_table(TABLES[name](), args.tensors, args.numel, device, args.repeats)


if __name__ == "__main__":
    main()
