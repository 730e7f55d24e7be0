"""Tests of beyondadam.sim: problems, engine, Theorem 1, the paper's split, inputs, CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest

from beyondadam.sim import (
    Config,
    bernoulli,
    figure1,
    get_problem,
    log_checkpoints,
    paper_online,
    paper_stochastic,
    periodic,
    run_batch,
    spec,
    theorem1,
    theory,
)
from beyondadam.sim.problems import uniforms

LR_EXACT = 2.0**-20  # SGD steps lr * g are exact in float64 for these integer gradients


# ---------------------------------------------------------------- problems


def test_problem_gradients_follow_the_definitions():
    g = theorem1(3).gradients(9)
    assert g.tolist() == [3, -1, -1, 3, -1, -1, 3, -1, -1]
    g = paper_online().gradients(303)
    assert np.flatnonzero(g == 1010).tolist() == [0, 101, 202]
    assert set(g.tolist()) == {1010.0, -10.0}
    g = periodic(7, 2, 4, phase=2, scale=3).gradients(8)
    assert g.tolist() == [-6, 21, -6, -6, -6, 21, -6, -6]


def test_expected_gradient_and_optimum_are_computed():
    assert paper_stochastic().expected_gradient == pytest.approx(0.01 * 1010 - 0.99 * 10)
    assert paper_stochastic().optimum == -1.0
    assert theorem1(3).expected_gradient == pytest.approx(1 / 3)
    assert paper_online().expected_gradient == pytest.approx(10 / 101)
    assert periodic(1, 1, 3).optimum == 1.0  # mean gradient -1/3 < 0: optimum at +1
    assert bernoulli(1.0, 1.0, 0.2).optimum == 1.0


def test_stochastic_draws_are_seeded_iid_and_shared_with_the_engine():
    p = paper_stochastic()
    a, b, c = p.gradients(200_000, 1), p.gradients(200_000, 1), p.gradients(200_000, 2)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    freq = np.mean(a == 1010)
    assert abs(freq - 0.01) < 4 * math.sqrt(0.01 * 0.99 / 200_000)
    u = uniforms(5, np.arange(1, 100_001))
    assert 0 <= u.min()
    assert u.max() < 1
    assert abs(u.mean() - 0.5) < 0.005
    # The engine sees exactly these gradients: SGD with lr = 2^-20 moves by -lr g_t exactly.
    T = 3000
    for prob, seed in ((p, 7), (theorem1(5), 0), (paper_online(), 0)):
        cfg = Config(spec("SGD", lr=LR_EXACT), prob, "constant", seed, 0.0)
        r = run_batch([cfg], T, "all")
        steps = -np.diff(np.concatenate([[0.0], r.x[0]])) / LR_EXACT
        assert np.array_equal(steps, prob.gradients(T, seed))
        exp_reg = np.cumsum(prob.gradients(T, seed) * (np.concatenate([[0.0], r.x[0][:-1]]) + 1))
        np.testing.assert_allclose(r.avg_regret[0], exp_reg / np.arange(1, T + 1), rtol=1e-12)


# ---------------------------------------------------------------- engine


def _mixed_configs():
    return [
        Config(spec("Adam", lr=0.3, betas=(0.9, 0.99)), paper_online()),
        Config(spec("AMSGrad", lr=0.3, flavor="optax", beta1_decay=0.99), paper_stochastic(),
               seed=3),
        Config(spec("RMSProp", lr=0.01, momentum=0.5, centered=True), theorem1(3), x0=0.5),
        Config(spec("NAdam", lr=0.1), paper_stochastic(), seed=4, schedule="constant"),
        Config(spec("AdamNC", lr=0.2, beta1_decay="inverse"), theorem1(10), x0=-1.0),
        Config(spec("AdaDelta"), paper_online()),
        Config(spec("NAG", lr=0.001, weight_decay=0.1), paper_stochastic(), seed=1),
        # RAdam with beta2 = 0.9 leaves its rectification (bit for bit) after ~400 steps.
        Config(spec("RAdam", lr=0.3, betas=(0.9, 0.9)), paper_online(), x0=0.3),
        Config(spec("AdaBelief", lr=0.3, betas=(0.9, 0.9)), paper_stochastic(), seed=2),
        Config(spec("AdaBelief", lr=0.3, rectify=False, amsgrad=True), theorem1(3)),
        Config(spec("NosAdam", lr=0.2, gamma=0.3), paper_online()),
        Config(spec("AdamX", lr=0.2, beta1_decay=0.99), paper_stochastic(), seed=5),
        Config(spec("Padam", lr=0.1), theorem1(3)),
        Config(spec("ADOPT", lr=0.1), paper_stochastic(), seed=6, schedule="constant"),
        Config(spec("Yogi", lr=0.1, flavor="optax"), paper_online()),
        Config(spec("AMSBound", lr=0.1, gamma=0.1), theorem1(3), x0=0.7),
    ]  # fmt: skip


def test_checkpoints_segments_blocks_and_batch_composition_do_not_change_results():
    cfgs = _mixed_configs()
    T = 5000
    full = run_batch(cfgs, T, "all")
    ck = log_checkpoints(T, 30)
    assert ck[0] == 1
    assert ck[-1] == T
    assert np.all(np.diff(ck) > 0)
    part = run_batch(cfgs, T, ck, segment=333, block=2)
    np.testing.assert_array_equal(part.x, full.x[:, ck - 1])
    np.testing.assert_array_equal(part.avg_regret, full.avg_regret[:, ck - 1])
    for i in (0, 3, 6):  # alone, and inside a bigger batch of copies
        alone = run_batch([cfgs[i]], T, [T])
        assert alone.final_x[0] == full.x[i, -1]
        many = run_batch([cfgs[i]] * 70 + cfgs, T, [T])
        assert np.all(many.final_x[:70] == full.x[i, -1])
    assert full.steps.tolist() == list(range(1, T + 1))


def test_default_checkpoints_are_log_spaced_and_bounded():
    r = run_batch([Config(spec("SGD", lr=0.1), theorem1(3))], 10**6)
    assert r.steps[0] == 1
    assert r.steps[-1] == 10**6
    assert 100 < r.steps.size <= 200
    ratios = r.steps[1:] / r.steps[:-1]
    assert ratios[-50:].max() < 1.2
    assert r.x.shape == r.avg_regret.shape == (1, r.steps.size)


def test_seeds_matter_only_for_stochastic_problems():
    s = spec("Adam", lr=0.5, betas=(0.9, 0.99))
    r = run_batch(
        [Config(s, paper_stochastic(), seed=k) for k in (0, 0, 1)]
        + [Config(s, paper_online(), seed=k) for k in (0, 9)],
        20_000,
        [20_000],
    )
    fx = r.final_x
    assert fx[0] == fx[1]
    assert fx[0] != fx[2]
    assert fx[3] == fx[4]


def test_python_loop_agrees_with_engine():
    from beyondadam.sim.reference import python_loop

    for name in ("Adam", "AMSGrad"):
        cfg = Config(spec(name, lr=0.5, betas=(0.9, 0.99)), paper_stochastic(), seed=2)
        x, reg = python_loop(cfg, 20_000)
        r = run_batch([cfg], 20_000, [20_000])
        assert abs(x - r.final_x[0]) < 1e-10
        assert abs(reg - r.final_avg_regret[0]) < 1e-10


# ---------------------------------------------------------------- rules and the catalog


def test_every_catalog_entry_names_a_registered_rule():
    from beyondadam.optim import catalog
    from beyondadam.sim.rules import RULES, check_coverage

    check_coverage()
    for entry in catalog.ENTRIES:
        assert entry.sim in RULES, f"{entry.name}: no simulator rule {entry.sim!r}"


def test_coverage_check_fails_for_an_entry_without_its_rule(monkeypatch):
    import dataclasses

    from beyondadam.optim import catalog
    from beyondadam.sim.rules import check_coverage

    orphan = dataclasses.replace(catalog.CATALOG["adam"], sim="no_such_rule")
    monkeypatch.setattr(catalog, "ENTRIES", (*catalog.ENTRIES, orphan))
    with pytest.raises(ValueError, match=r"no simulator rule for Adam \('no_such_rule'\)"):
        check_coverage()
    monkeypatch.setitem(catalog.CATALOG, "adam", orphan)
    with pytest.raises(ValueError, match="no rule 'no_such_rule'"):
        spec("Adam", lr=0.1)


def test_packs_fill_exactly_their_kernel_rows_with_the_class_defaults():
    from beyondadam.optim import catalog
    from tests.test_sim_differential import VARIANTS

    for s in VARIANTS:
        params, flags = s.pack()  # Rule.parameters checks the row names
        kernel = s.rule.kernel
        assert set(params) == set(kernel.param_rows)
        for init in kernel.state.values():
            assert not isinstance(init, str) or init in kernel.param_rows
        assert isinstance(flags, int)
    # Defaults come from the class: AdaDelta's lr 1.0 and eps 1e-6, NAdam's lr 2e-3.
    assert spec("AdaDelta").options()["eps"] == catalog.get("adadelta").defaults()["eps"] == 1e-6
    assert spec("nadam").pack()[0]["lr"] == 2e-3
    assert spec("amsGRAD").name == "AMSGrad"


# ---------------------------------------------------------------- Theorem 1 and the paper


@pytest.mark.parametrize("C", [3, 5, 10])
def test_theorem1_adam_fails_and_amsgrad_converges_at_the_derived_horizon(C):
    lr = 0.5
    T = theory.theorem1_horizon(C, lr, tol=0.05)
    assert T % 3 == 0
    assert T < 10**5
    b = (0.0, 1.0 / (1.0 + C * C))
    cfgs = [
        Config(spec(n, lr=lr, betas=b), theorem1(C), x0=x0)
        for n in ("Adam", "AMSGrad")
        for x0 in (-1.0, 0.0, 1.0)
    ]
    T_long = 30 * T
    r = run_batch(cfgs, T_long, [T, 10 * T, T_long])
    adam, ams = r.x[:3], r.x[3:]
    # Adam: +1 exactly at period starts from T on, and R_t/t above the derived bound.
    assert np.all(np.abs(adam - 1.0) <= 0.05)
    for j, t in enumerate((T, 10 * T, T_long)):
        bound = theory.adam_regret_lower_bound(C, lr, t)
        assert bound > (2 * C - 4) / 6 - 1e-12
        assert np.all(r.avg_regret[:3, j] >= bound)
    # AMSGrad: within 0.05 of -1 from T on, and R_t/t shrinking under the derived bound.
    assert np.all(np.abs(ams + 1.0) <= 0.05)
    for i in range(3, 6):
        reg_T = r.avg_regret[i, 0] * T
        for j, t in ((1, 10 * T), (2, T_long)):
            ub = theory.amsgrad_regret_upper_bound(C, lr, t, reg_T, T)
            assert r.avg_regret[i, j] <= ub
        assert r.avg_regret[i, 2] < r.avg_regret[i, 1] < r.avg_regret[i, 0]
        assert r.avg_regret[i, 2] < 0.2 * r.avg_regret[3 + (i - 3), 0] + 1e-12 or (
            r.avg_regret[i, 2] < 0.05 * (2 * C - 4) / 3
        )


def test_paper_online_split():
    res = figure1(steps=202_000, seeds=(), lr=0.5)
    (adam_x, ams_x), (adam_r, ams_r) = res.online.final_x, res.online.final_avg_regret
    assert adam_x > 0.95
    assert ams_x < -0.95
    assert adam_r > 0.2
    assert ams_r < 0.1
    assert list(res.summary()["setting"]) == ["paper_online", "paper_online"]
    # R_t/t at whole periods (t a multiple of 101): AMSGrad's shrinks, Adam's stays up.
    cfgs = res.online.configs
    ck = 101 * np.array([100, 200, 500, 1000, 2000])
    r = run_batch(cfgs, int(ck[-1]), ck)
    assert np.all(np.diff(r.avg_regret[1]) < 0)
    assert np.all(r.avg_regret[0] > 0.2)


def test_paper_stochastic_split():
    cfgs = [
        Config(spec(n, lr=1.0, betas=(0.9, 0.99)), paper_stochastic(), seed=s)
        for n in ("Adam", "AMSGrad")
        for s in range(4)
    ]
    r = run_batch(cfgs, 2_000_000, [2_000_000])
    adam, ams = r.final_x[:4], r.final_x[4:]
    assert np.all(adam > 0.9)
    assert np.all(ams < -0.5)
    assert ams.mean() < -0.7
    assert r.final_avg_regret[:4].mean() > 2 * r.final_avg_regret[4:].mean()


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("T", [0, -5, 1.5, "10", None, True])
def test_bad_horizon(T):
    with pytest.raises(ValueError, match="horizon"):
        run_batch([Config(spec("SGD", lr=0.1), theorem1(3))], T)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: get_problem("nope"), "unknown problem"),
        (lambda: theorem1(2.0), "C must be > 2"),
        (lambda: theorem1(float("nan")), "C must be finite"),
        (lambda: bernoulli(1, 1, 1.5), "p must be in"),
        (lambda: spec("Adam", lr=float("nan")), "lr must be"),
        (lambda: spec("Adam", betas=(float("nan"), 0.9)), r"betas\[0\] \(beta1\)"),
        (lambda: spec("Adam", betas=(0.9, 1.0)), r"beta2.* in \[0, 1\)"),
        (lambda: spec("AMSGrad", eps=float("inf")), "eps"),
        (lambda: spec("AMSGrad", flavor="keras"), "flavor"),
        (lambda: spec("AMSGrad", beta1_decay=1.5), "beta1_decay"),
        (lambda: spec("AdamNC", beta1_decay="harmonic"), "beta1_decay"),
        (lambda: spec("RMSProp", alpha=float("nan")), "alpha"),
        (lambda: spec("SGD"), "explicit lr"),
        (lambda: spec("Adam", momentum=0.9), "takes no hyperparameter 'momentum'"),
        (lambda: spec("Momentum", lr=0.1, momentum=1.5), r"momentum .* in \[0, 1\)"),
        (lambda: spec("RMSProp", momentum=1.5), r"momentum .* in \[0, 1\)"),
        (lambda: spec("Adamax"), "unknown optimizer"),
        (lambda: Config(spec("SGD", lr=1), theorem1(3), schedule="cosine"), "schedule"),
        (lambda: Config(spec("SGD", lr=1), theorem1(3), x0=2.0), "x0"),
        (lambda: Config(spec("SGD", lr=1), theorem1(3), seed=-1), "seed"),
        (lambda: run_batch([], 10), "at least one"),
        (lambda: run_batch([Config(spec("SGD", lr=1), theorem1(3))], 10, [0, 5]), "checkpoint"),
        (lambda: run_batch([Config(spec("SGD", lr=1), theorem1(3))], 10**9, "all"), "exceeds"),
    ],
)
def test_bad_inputs_raise_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ---------------------------------------------------------------- CLI


def test_cli_commands(tmp_path):
    from click.testing import CliRunner

    from beyondadam.cli import main

    runner = CliRunner()
    out = tmp_path / "syn"
    syn = ["synthetic", "--steps", "3000", "--seeds", "2", "--out", str(out), "--quiet"]
    res = runner.invoke(main, [*syn, "--checkpoints", "20", "--formats", "png,svg"])
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} >= {"figure1.png", "figure1.svg", "figure1_curves.csv"}
    assert len(res.output.strip().splitlines()) == 4
    atl = ["atlas", "--grid", "3", "-T", "500", "--out", str(tmp_path / "a"), "--quiet"]
    more = ["--problem", "theorem1", "--C", "4", "--formats", "png", "--optimizers", "Adam,RMSProp"]
    res = runner.invoke(main, atl + more)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "a" / "atlas.png").exists()
    sw = ["theorem1-sweep", "--C-values", "3,5", "--beta2", "theorem,0.9", "-T", "300"]
    res = runner.invoke(main, [*sw, "--out", str(tmp_path / "s"), "--quiet", "--formats", "png"])
    assert res.exit_code == 0, res.output
    assert "Adam\tbeta2=1/(1+C^2)\tC with x_T > 0: [3, 5]" in res.output
    assert "AMSGrad\tbeta2=0.9\tC with x_T > 0: none" in res.output
    res = runner.invoke(main, ["synthetic", "--steps", "0", "--quiet", "--out", str(out)])
    assert res.exit_code != 0
    assert "Invalid value for '--steps'" in res.output
    res = runner.invoke(main, ["atlas", "--lr", "nan", "--quiet", "--out", str(out)])
    assert res.exit_code != 0
    assert "Invalid value for '--lr'" in res.output
