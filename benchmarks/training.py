"""Training-speed benchmark: seconds per step (batch 128) and the MNIST protocol's wall time.

Compares, in one run and with the same optimizer class (``beyondadam.optim.AMSGrad``):

- ``plain``: what users usually write: a ``DataLoader`` over a ``TensorDataset`` (shuffled, batch
  128), ``zero_grad / forward / backward / step`` per minibatch;
- ``lean``: :func:`beyondadam.experiments.train` (in-memory tensors, seeded permutation, slices);
- ``batched``: :func:`beyondadam.experiments.train_many` training ``--configs`` configurations at
  once as one batched model (per-configuration cost reported).

Each time is the best of ``--repeat`` runs (a shared machine is noisy). ``--protocol`` also times
the whole paper protocol for both MNIST tasks at the default horizon (2 optimizers x 2 beta2 x 5
lr, then 5 seeds each) with the default local executor.

Usage::

    BEYONDADAM_DATA=../shared/datasets python benchmarks/training.py [--steps 300] [--protocol]

Run it with ``PYTHONPATH`` pointing at another checkout's ``src`` to compare two trees.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

from beyondadam.experiments import (
    RunConfig,
    get_task,
    load_dataset,
    run_protocol,
    train,
    train_many,
)
from beyondadam.optim import AMSGrad

HP = {"mnist-logreg": 1e-2, "mnist-mlp": 1e-3, "cifarnet": 1e-3}


def plain_loop(task_name: str, steps: int, data) -> float:
    """Seconds per step of the usual DataLoader loop."""
    task = get_task(task_name)
    x = task.preprocess(data.x_train)
    loader = DataLoader(
        TensorDataset(x, data.y_train), batch_size=128, shuffle=True, drop_last=True
    )
    torch.manual_seed(0)
    model = task.make_model()
    opt = AMSGrad(model.parameters(), lr=HP[task_name], betas=(0.9, 0.999))
    n = 0
    t0 = time.perf_counter()
    while n < steps:
        for xb, yb in loader:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            n += 1
            if n == steps:
                break
    return (time.perf_counter() - t0) / steps


def _cfgs(task: str, steps: int, n: int) -> list[RunConfig]:
    lrs = [HP[task] * 10 ** (k / 4 - 1) for k in range(n)]
    return [
        RunConfig.make(
            task, "amsgrad", {"lr": lr, "betas": [0.9, 0.999]}, steps=steps, eval_every=steps
        )
        for lr in lrs
    ]


def lean_loop(task: str, steps: int, data) -> float:
    """Seconds per step of beyondadam.experiments.train (one final test evaluation included)."""
    cfg = _cfgs(task, steps, 1)[0]
    return train(cfg, data).wall_time / steps


def batched(task: str, steps: int, n: int, data_dir: str | None) -> float:
    """Seconds per step per configuration of the batched engine with ``n`` configurations."""
    t0 = time.perf_counter()
    res = train_many(_cfgs(task, steps, n), data_dir)
    assert all(r.engine.startswith("batched") for r in res)
    return (time.perf_counter() - t0) / steps / n


def main() -> None:
    """Run the benchmark and print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--configs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="best of N timings")
    ap.add_argument("--data-dir", default=os.environ.get("BEYONDADAM_DATA"))
    ap.add_argument("--protocol", action="store_true", help="also time the MNIST protocol")
    ap.add_argument("--cifar-steps", type=int, default=0, help="time N CIFARNET steps too")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = load_dataset("mnist", args.data_dir)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {os.cpu_count()} cores, "
          f"{args.steps} steps, batch 128, AMSGrad, best of {args.repeat}\n")  # fmt: skip
    print("| task | plain DataLoader loop (ms/step) | beyondadam train (ms/step) | speed-up "
          f"| batched x{args.configs} (ms/step/config) | speed-up |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for task in ("mnist-logreg", "mnist-mlp"):
        plain_loop(task, 20, data)  # warm-up
        p = min(plain_loop(task, args.steps, data) for _ in range(args.repeat))
        le = min(lean_loop(task, args.steps, data) for _ in range(args.repeat))
        b = min(batched(task, args.steps, args.configs, args.data_dir) for _ in range(args.repeat))
        print(f"| {task} | {p * 1e3:.2f} | {le * 1e3:.2f} | {p / le:.1f}x | {b * 1e3:.2f} "
              f"| {p / b:.1f}x |")  # fmt: skip
    if args.cifar_steps:
        cdata = load_dataset("cifar10", args.data_dir)
        cfg = RunConfig.make("cifarnet", "amsgrad", {"lr": 1e-3}, steps=args.cifar_steps,
                             eval_every=10**9)  # fmt: skip
        res = train(cfg, cdata)
        print(f"\ncifarnet: {res.wall_time / args.cifar_steps:.3f} s/step "
              f"(beyondadam train, {args.threads} thread(s), incl. one eval on "
              f"{len(cdata.y_test)} test images)")  # fmt: skip
    if args.protocol:
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            for task in ("mnist-logreg", "mnist-mlp"):
                run_protocol(task, out_dir=out, data_dir=args.data_dir, quiet=True, plot=False)
            print(f"\nwhole MNIST protocol (both tasks, default horizon, local executor): "
                  f"{time.perf_counter() - t0:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
