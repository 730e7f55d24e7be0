"""Training-speed benchmark: seconds per step (batch 128) and the MNIST protocol's wall time.

Compares, in one run and with the same optimizer class (``beyondadam.optim.AMSGrad``):

- ``plain``: what users usually write: a ``DataLoader`` over a ``TensorDataset`` (shuffled, batch
  128), ``zero_grad / forward / backward / step`` per minibatch;
- ``lean``: :func:`beyondadam.experiments.train` (in-memory tensors, seeded permutation, slices);
- ``batched``: :func:`beyondadam.experiments.train_many` training ``--configs`` configurations at
  once as one batched model (per-configuration cost reported).

Each time is the best of ``--repeat`` runs (a shared machine is noisy). ``--cifar-steps N``
times N CIFARNET training steps (no evaluation) and prints its flops per step and a floor: the
time of its convolution and matrix-product kernels alone, forward and backward, at the same
thread count (CPU seconds are printed too: on a busy machine they are the steadier number).
``--protocol`` also times
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
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

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


def _best(fn, repeat: int) -> tuple[float, float]:
    """Best wall and best CPU seconds of ``fn()`` over ``repeat`` calls (after one warm-up)."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


def _layer_floor(layer: nn.Module, inp: torch.Tensor, first: bool) -> tuple[float, float]:
    """Best wall and CPU seconds of ``layer``'s forward plus backward kernels on ``inp``."""
    inp = inp.requires_grad_(not first)  # the first layer's input needs no gradient
    out = layer(inp)
    grad = torch.randn_like(out)
    wants = [layer.weight, layer.bias] + ([] if first else [inp])
    fw, fc = _best(lambda: layer(inp), 3)
    bw, bc = _best(lambda: torch.autograd.grad(out, wants, grad, retain_graph=True), 3)
    return fw + bw, fc + bc


def cifar(data, steps: int) -> None:
    """Print CIFARNET's training step (batch 128, AMSGrad), its flops and its kernel floor."""
    task = get_task("cifarnet")
    torch.manual_seed(0)
    model = task.make_model()
    opt = AMSGrad(model.parameters(), lr=HP["cifarnet"], betas=(0.9, 0.999))
    x, y = task.preprocess(data.x_train[:128]), data.y_train[:128]

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        task.loss(model(x), y).backward()
        opt.step()

    wall, cpu = _best(step, steps)
    with FlopCounterMode(display=False) as counter:
        task.loss(model(x), y).backward()
    flops = counter.get_total_flops()
    # The floor: each conv / linear layer's kernels alone on its real input shape.
    inputs: list[tuple[nn.Module, torch.Tensor]] = []
    hooks = [
        m.register_forward_hook(lambda m, a, _: inputs.append((m, a[0].detach())))
        for m in model.modules()
        if isinstance(m, nn.Conv2d | nn.Linear)
    ]
    model(x)
    for h in hooks:
        h.remove()
    floor = [_layer_floor(m, inp, first=i == 0) for i, (m, inp) in enumerate(inputs)]
    floor_wall, floor_cpu = sum(w for w, _ in floor), sum(c for _, c in floor)
    print(f"\ncifarnet step (batch 128, AMSGrad, best of {steps}): {wall:.3f} s wall, "
          f"{cpu:.3f} CPU s; {flops / 1e9:.2f} GFLOP/step (convolutions and matrix products) "
          f"= {flops / wall / 1e9:.1f} GFLOP/s; floor (those kernels alone): "
          f"{floor_wall:.3f} s wall, {floor_cpu:.3f} CPU s")  # fmt: skip


def mnist(args: argparse.Namespace) -> None:
    """Print the MNIST table: the DataLoader loop, ``train`` and the batched engine."""
    data = load_dataset("mnist", args.data_dir)
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
    ap.add_argument("--skip-mnist", action="store_true", help="only the CIFARNET/protocol parts")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {os.cpu_count()} cores, "
          f"{args.steps} steps, batch 128, AMSGrad, best of {args.repeat}\n")  # fmt: skip
    if not args.skip_mnist:
        mnist(args)
    if args.cifar_steps:
        cifar(load_dataset("cifar10", args.data_dir), args.cifar_steps)
    if args.protocol:
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            for task in ("mnist-logreg", "mnist-mlp"):
                run_protocol(task, out_dir=out, data_dir=args.data_dir, quiet=True, plot=False)
            print(f"\nwhole MNIST protocol (both tasks, default horizon, local executor): "
                  f"{time.perf_counter() - t0:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
