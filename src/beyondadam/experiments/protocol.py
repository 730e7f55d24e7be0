"""Sweeps and the paper's tuning protocol, as data (no files but the result store).

:func:`run_configs` runs any list of configurations through an executor into the result store,
skipping those already stored. :func:`compute_protocol` is the paper's protocol for one task: a
grid search over lr x beta2 (beta1 = 0.9) per optimizer with one seed, selection of the best
configuration by the final training loss (mean over the last ``select_last_frac`` of the
iterations), then that configuration rerun with ``seeds`` seeds; curves are summarised as mean
and 95% band (:func:`~beyondadam.experiments.stats.mean_ci95`). It returns a
:class:`ProtocolResult`; :func:`beyondadam.experiments.outputs.run_protocol` adds its files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from beyondadam.experiments.checkpoint import CHECKPOINT_DIR, checkpoint_path
from beyondadam.experiments.data import load_dataset
from beyondadam.experiments.device import check_device
from beyondadam.experiments.executors import Executor, check_executor, make_executor, split_units
from beyondadam.experiments.interrupt import handle_signals
from beyondadam.experiments.optimizers import hparam_grid
from beyondadam.experiments.runs import RunConfig, RunResult, validate_config
from beyondadam.experiments.stats import mean_ci95
from beyondadam.experiments.store import ResultStore, check_store
from beyondadam.experiments.tasks import get_task

__all__ = [
    "DEFAULT_OPTIMIZERS",
    "ProtocolResult",
    "compute_protocol",
    "mean_ci95",
    "run_configs",
]

DEFAULT_OPTIMIZERS = ("adam", "amsgrad")

#: the range of a loss, to which its confidence bands are clipped.
LOSS = (0.0, float("inf"))


def run_configs(
    cfgs: Sequence[RunConfig],
    out_dir: str | Path,
    *,
    data_dir: str | None = None,
    executor: Executor | None = None,
    quiet: bool = False,
    desc: str = "runs",
    last_frac: float = 0.1,
    device: str | None = None,
) -> dict[str, RunResult]:
    """Run ``cfgs`` (skipping those already in the store of ``out_dir``); return all by key.

    ``device``: where every run trains ("cpu", "cuda", "cuda:N"; ``None``: the CPU), checked
    before any work; it is not part of a run's key.

    A progress bar counts iterations (with the loss and an ETA for a single run). SIGTERM and
    SIGINT stop the workers and raise :class:`~beyondadam.experiments.interrupt.Interrupted`;
    every run finished before is in the store, the unfinished units' checkpoints in
    ``out_dir/checkpoints``, and calling again with the same arguments resumes.
    """
    for c in cfgs:
        validate_config(c)
    if device is not None:
        device = str(check_device(device))
    own = executor is None
    ex = executor if executor is not None else make_executor("local")
    try:
        with handle_signals(), ResultStore(out_dir) as store:
            done = store.finished_keys()
            unique = list({c.key: c for c in cfgs}.values())
            # Units are cut from all the configurations, then the stored ones dropped: a rerun
            # trains what is left in the groups it had, so its batched results are bit-identical
            # to an uninterrupted run's (a group's composition changes the last bits).
            units = [
                [c for c in unit if c.key not in done]
                for unit in split_units(unique, ex.workers, ex.max_batch)
            ]
            units = [unit for unit in units if unit]
            with _Bar(unique, done, desc, quiet) as bar:
                results_iter = ex.map_units(
                    units, data_dir, progress=bar.advance, checkpoint_dir=str(out_dir),
                    device=device,
                )  # fmt: skip
                try:
                    for results in results_iter:
                        store.put_many(results, last_frac)  # the whole unit or nothing
                        for r in results:
                            if r.status == "diverged" and not quiet:
                                bar.write(f"diverged at step {r.diverged_step}: {r.config.label()}")
                        unit = [r.config for r in results]
                        checkpoint_path(out_dir, unit).unlink(missing_ok=True)  # now stored
                        bar.runs_done(len(results))
                finally:
                    getattr(results_iter, "close", lambda: None)()  # stops the workers
            with contextlib.suppress(OSError):
                (Path(out_dir) / CHECKPOINT_DIR).rmdir()  # only if empty
            out = {}
            for c in unique:
                r = store.get(c.key)
                assert r is not None
                out[c.key] = r
            return out
    finally:
        if own:
            ex.close()


class _Bar:
    """The progress bar of :func:`run_configs`: iterations, runs done and a single run's loss."""

    def __init__(self, cfgs: list[RunConfig], stored: set[str], desc: str, quiet: bool) -> None:
        finished = [c for c in cfgs if c.key in stored]
        self.total_runs, self.done = len(cfgs), len(finished)
        self.single = len(cfgs) == 1
        self.bar = tqdm(
            total=sum(c.steps for c in cfgs), initial=sum(c.steps for c in finished), desc=desc,
            unit="it", disable=quiet, dynamic_ncols=True, smoothing=0.05,
        )  # fmt: skip
        self.last_postfix = 0.0
        self._postfix()

    def _postfix(self, loss: float | None = None) -> None:
        parts = {} if self.single else {"runs": f"{self.done}/{self.total_runs}"}
        if loss is not None:
            parts["loss"] = f"{loss:.4f}"
        self.bar.set_postfix(parts, refresh=False)

    def advance(self, n: int, loss: torch.Tensor | None = None) -> None:
        self.bar.update(n)
        now = time.monotonic()
        if loss is not None and now - self.last_postfix > 0.5:
            self.last_postfix = now
            self._postfix(float(loss))

    def runs_done(self, n: int) -> None:
        self.done += n
        self._postfix()

    def write(self, text: str) -> None:
        self.bar.write(text)

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()


@dataclass
class ProtocolResult:
    """The outcome of :func:`run_protocol` for one task.

    Attributes:
        task: task name.
        selected: the winning grid configuration (seed ``grid_seed``) per optimizer.
        grid: one row per grid configuration (optimizer, lr, beta2, status, criterion, selected).
        runs: per optimizer, the seed reruns of its selected configuration.
        summary: one row per optimizer: selected hyperparameters, final training loss mean and
            95% band over seeds, test loss and accuracy (mean and band), diverged count, test note.
        test_note: which test set was used (e.g. "test: first 1,000 official test images").
        wall_time: seconds for the whole protocol (including skipped, already stored runs).
        out_dir: where the result store (and the files of ``run_protocol``) live.
        select_last_frac: the selection criterion's window (fraction of the iterations).
        plots: the figures ``run_protocol`` wrote (empty until then).
        config: the protocol's inputs that decide its results (task, optimizers, grids, seeds,
            steps, evaluation cadence, batch size, selection window, grid seed); :attr:`tag`
            is its hash, in the names of the files ``run_protocol`` writes.

    """

    task: str
    selected: dict[str, RunConfig]
    grid: pd.DataFrame
    runs: dict[str, list[RunResult]]
    summary: pd.DataFrame
    test_note: str
    wall_time: float
    out_dir: Path
    select_last_frac: float = 0.1
    plots: list[Path] = field(default_factory=list)
    config: dict = field(default_factory=dict)

    @property
    def tag(self) -> str:
        """8 hex digits identifying :attr:`config` (equal configurations, equal tags)."""
        payload = json.dumps(self.config, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:8]

    @property
    def stem(self) -> str:
        """``<task>-<tag>``: the start of the output files' names, one set per configuration."""
        return f"{self.task}-{self.tag}"

    def train_curves(self, optimizer: str) -> np.ndarray:
        """Training-loss curves ``(seeds, steps)`` of ``optimizer``'s finished seed runs."""
        rows = [r.train_loss for r in self.runs[optimizer] if r.status == "done"]
        return np.stack(rows) if rows else np.empty((0, 0))

    def to_json(self) -> dict:
        """A JSON-able summary (for reports)."""
        return {
            "task": self.task,
            "test_note": self.test_note,
            "wall_time": self.wall_time,
            "select_last_frac": self.select_last_frac,
            "config": self.config,
            "tag": self.tag,
            "selected": {k: v.to_dict() for k, v in self.selected.items()},
            "summary": json.loads(self.summary.to_json(orient="records")),
        }


def _grid_row(r: RunResult, last_frac: float) -> dict:
    hp = r.config.hp
    betas = hp.get("betas")
    return {
        "optimizer": r.config.optimizer,
        "lr": hp.get("lr"),
        "beta2": betas[1] if betas else np.nan,
        "hparams": r.config.hparams,
        "status": r.status,
        "diverged_step": r.diverged_step,
        "criterion": r.final_train_loss(last_frac),
        "key": r.config.key,
    }


def compute_protocol(
    task: str,
    optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
    *,
    lrs: Sequence[float] | None = None,
    beta2s: Sequence[float] | None = None,
    beta1: float | None = None,
    seeds: int = 5,
    steps: int | None = None,
    eval_every: int | None = None,
    select_last_frac: float = 0.1,
    grid_seed: int = 0,
    out_dir: str | Path = "results",
    data_dir: str | None = None,
    executor: Executor | str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    max_batch: int = 10,
    threads: int | None = None,
    quiet: bool = False,
    device: str | None = None,
) -> ProtocolResult:
    """Run the paper's protocol for ``task`` (see the module docstring); resumable.

    Every input is checked (task, optimizers, grid values, seeds, data files, scheduler) before
    any training starts. ``select_last_frac`` in (0, 1] is the selection criterion's window.
    Runs go to (and are resumed from) ``out_dir/results.sqlite``; no other file is written.
    """
    t0 = time.perf_counter()
    spec = get_task(task)
    if not optimizers:
        raise ValueError("optimizers must name at least one optimizer")
    if not (isinstance(seeds, int) and seeds >= 1):
        raise ValueError(f"seeds must be an integer >= 1, got {seeds!r}")
    if not (0 < select_last_frac <= 1):
        raise ValueError(f"select_last_frac must be in (0, 1], got {select_last_frac}")
    lrs = tuple(spec.lr_grid if lrs is None else lrs)
    beta2s = tuple(spec.beta2_grid if beta2s is None else beta2s)
    beta1 = spec.beta1 if beta1 is None else beta1
    if not lrs or not beta2s:
        raise ValueError("the lr and beta2 grids must not be empty")
    grid_cfgs: list[RunConfig] = []
    for opt in optimizers:
        for hp in hparam_grid(opt, lrs, beta1, beta2s):
            grid_cfgs.append(
                RunConfig.make(task, opt, hp, seed=grid_seed, steps=steps, eval_every=eval_every)
            )
    for c in grid_cfgs:
        validate_config(c)
    if device is not None:
        check_device(device)
    if isinstance(executor, str):  # argument mistakes before any file is read
        check_executor(
            executor, scheduler=scheduler, workers=workers, max_batch=max_batch, threads=threads
        )
    check_store(out_dir)  # a foreign or corrupt store fails here, before training
    data = load_dataset(spec.dataset, data_dir)  # missing/corrupt files fail here, before training
    if isinstance(executor, str):
        ex = make_executor(
            executor, scheduler=scheduler, workers=workers, max_batch=max_batch, threads=threads
        )
    else:
        ex = executor
    try:
        grid_res = run_configs(
            grid_cfgs, out_dir, data_dir=data_dir, executor=ex, quiet=quiet,
            desc=f"{task} grid", last_frac=select_last_frac, device=device,
        )  # fmt: skip
        grid = pd.DataFrame([_grid_row(grid_res[c.key], select_last_frac) for c in grid_cfgs])
        selected: dict[str, RunConfig] = {}
        for opt in optimizers:
            rows = grid[(grid.optimizer == opt) & (grid.status == "done")]
            rows = rows[np.isfinite(rows.criterion)]
            if len(rows) == 0:
                continue
            best = rows.loc[rows.criterion.idxmin(), "key"]
            selected[opt] = grid_res[best].config
        grid["selected"] = grid.key.isin([c.key for c in selected.values()])
        seed_cfgs = {
            opt: [
                RunConfig(**{**c.to_dict(), "seed": s}) for s in range(grid_seed, grid_seed + seeds)
            ]
            for opt, c in selected.items()
        }
        all_seed = [c for cs in seed_cfgs.values() for c in cs]
        seed_res = run_configs(
            all_seed, out_dir, data_dir=data_dir, executor=ex, quiet=quiet,
            desc=f"{task} seeds", last_frac=select_last_frac, device=device,
        )  # fmt: skip
    finally:
        if isinstance(executor, str):
            ex.close()
    runs = {opt: [seed_res[c.key] for c in cs] for opt, cs in seed_cfgs.items()}
    summary = _summary(runs, selected, optimizers, select_last_frac, data.test_note)
    return ProtocolResult(
        task=task,
        selected=selected,
        grid=grid,
        runs=runs,
        summary=summary,
        test_note=data.test_note,
        wall_time=time.perf_counter() - t0,
        out_dir=Path(out_dir),
        select_last_frac=select_last_frac,
        config={
            "task": task,
            "optimizers": list(optimizers),
            "lrs": list(lrs),
            "beta2s": list(beta2s),
            "beta1": beta1,
            "seeds": seeds,
            "grid_seed": grid_seed,
            "steps": grid_cfgs[0].steps,
            "eval_every": grid_cfgs[0].eval_every,
            "batch_size": grid_cfgs[0].batch_size,
            "select_last_frac": select_last_frac,
        },
    )


def _summary(runs, selected, optimizers, last_frac, test_note) -> pd.DataFrame:
    rows = []
    for opt in optimizers:
        if opt not in selected:
            rows.append({"optimizer": opt, "status": "all grid runs diverged"})
            continue
        rs = runs[opt]
        ok = [r for r in rs if r.status == "done"]
        hp = selected[opt].hp
        row = {
            "optimizer": opt,
            "lr": hp.get("lr"),
            "beta2": hp["betas"][1] if "betas" in hp else np.nan,
            "hparams": selected[opt].hparams,
            "seeds": len(rs),
            "diverged": len(rs) - len(ok),
            "status": "ok",
        }
        for name, vals, bounds in (
            ("final_train_loss", [r.final_train_loss(last_frac) for r in ok], LOSS),
            ("test_loss", [r.test_loss[-1] for r in ok if len(r.test_loss)], LOSS),
            ("test_acc", [r.test_acc[-1] for r in ok if len(r.test_acc)], (0.0, 1.0)),
        ):
            if vals:
                m, lo, hi = mean_ci95(np.asarray(vals), bounds=bounds)
                row |= {f"{name}_mean": float(m), f"{name}_lo": float(lo), f"{name}_hi": float(hi)}
        row["test_note"] = test_note
        rows.append(row)
    return pd.DataFrame(rows)
