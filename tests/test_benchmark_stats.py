"""The benchmark's statistics on constructed data whose answers are known."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from beyondadam.experiments.benchmark import BenchmarkData, TrialRecord
from beyondadam.experiments.stats import t_two_sided_p, welch_test
from beyondadam.reporting.benchmark_stats import (
    ALPHA,
    BenchmarkNumbers,
    analyse,
    expected_best_of,
    holm,
    performance_profile,
)
from beyondadam.reporting.results import jsonable


def _rec(task, opt, phase, i, test_loss, val_loss=1.0, acc=0.9, target=None, status="done"):
    return TrialRecord(
        task=task, optimizer=opt, phase=phase, index=i, hparams={"lr": 0.01}, seed=i,
        status=status, val_loss=val_loss, test_loss=test_loss, test_acc=acc,
        steps_to_target=target, steps=100, wall_time=0.1,
    )  # fmt: skip


def _data(losses: dict[tuple[str, str], list[float]], budget_vals=None) -> BenchmarkData:
    tasks = tuple(dict.fromkeys(t for t, _ in losses))
    opts = tuple(dict.fromkeys(o for _, o in losses))
    recs = [_rec(t, o, "seed", i, v) for (t, o), vs in losses.items() for i, v in enumerate(vs)]
    for (t, o), vs in (budget_vals or {}).items():
        recs += [_rec(t, o, "search", i, 0.0, val_loss=v) for i, v in enumerate(vs)]
    n = len(next(iter(losses.values())))
    return BenchmarkData(tasks, opts, budget=3, seeds=n, records=recs)


BASE = [1.00, 1.02, 0.98, 1.01, 0.99]


def test_clear_win_tie_and_loss():
    data = _data(
        {
            ("t", "adam"): BASE,
            ("t", "amsgrad"): [v - 0.5 for v in BASE],  # far lower, same small spread
            ("t", "yogi"): list(BASE),  # identical distribution
            ("t", "sgd"): [v + 0.5 for v in BASE],  # far higher
        }
    )
    n = analyse(data)
    assert n.outcomes("amsgrad") == {"t": "win"}
    assert n.outcomes("yogi") == {"t": "tie"}
    assert n.outcomes("sgd") == {"t": "loss"}
    c = {c.optimizer: c for c in n.comparisons}
    assert c["yogi"].p == pytest.approx(1.0)
    assert c["amsgrad"].diff == pytest.approx(-0.5)
    assert n.tally("amsgrad") == {"win": 1, "tie": 0, "loss": 0, "untested": 0}
    assert n.majority_winners() == ["amsgrad"]


def test_one_seed_is_untested_not_a_win():
    n = analyse(_data({("t", "adam"): [1.0], ("t", "amsgrad"): [0.1]}))
    assert n.outcomes("amsgrad") == {"t": "untested"}
    assert math.isnan(n.comparisons[0].p_holm)


def test_holm_changes_a_borderline_decision():
    # three comparisons: p = 0.02 alone would be a win at 0.05, but Holm multiplies the
    # smallest p by 3 (0.06 > 0.05)
    assert holm([0.02, 0.5, 0.9]) == pytest.approx([0.06, 1.0, 1.0])
    # the step-down: sorted p (0.01, 0.02, 0.04) -> (0.03, 0.04, 0.04), monotone
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert math.isnan(holm([math.nan, 0.01])[0])
    assert holm([math.nan, 0.01])[1] == 0.01

    # the same borderline difference is a win alone and a tie among three tests
    rng = np.random.default_rng(3)
    adam = list(rng.normal(1.0, 0.1, 5))
    for shift in np.linspace(0.05, 0.3, 200):
        other = [v - shift for v in adam[::-1]]
        other[0] += 0.05
        p = welch_test(np.array(other), np.array(adam))[2]
        if 0.02 < p < ALPHA / 1.5:
            break
    else:  # pragma: no cover
        pytest.fail("no borderline shift found")
    alone = analyse(_data({("t", "adam"): adam, ("t", "amsgrad"): other}))
    assert alone.outcomes("amsgrad") == {"t": "win"}
    many = analyse(
        _data({("t", "adam"): adam, ("t", "amsgrad"): other, ("t", "yogi"): adam, ("t", "x"): adam})
    )
    assert many.outcomes("amsgrad") == {"t": "tie"}


def test_welch_p_value_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = rng.normal(0, rng.uniform(0.1, 3), rng.integers(2, 12))
        b = rng.normal(rng.uniform(-2, 2), rng.uniform(0.1, 3), rng.integers(2, 12))
        t, _, p = welch_test(a, b)
        ref = stats.ttest_ind(a, b, equal_var=False)
        assert t == pytest.approx(ref.statistic, rel=1e-10)
        assert p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)
    for t, df in [(0.0, 3.0), (2.5, 0.7), (40.0, 30.0), (1e-4, 500.0)]:
        assert t_two_sided_p(t, df) == pytest.approx(2 * stats.t.sf(t, df), rel=1e-9)


def test_performance_profile_by_hand():
    # task a: best 1.0 (adam), amsgrad 2.0 -> ratio 2; task b: best amsgrad 0.5, adam 0.75
    # -> 1.5; task c (a loss that can be negative): best -2 (adam), amsgrad -1 -> 1 + 1/2 = 1.5
    prof = performance_profile(
        {"adam": {"a": 1.0, "b": 0.75, "c": -2.0}, "amsgrad": {"a": 2.0, "b": 0.5, "c": -1.0}},
        taus=[1.0, 1.4, 1.5, 2.0],
    )
    assert prof.ratios == {"adam": (1.0, 1.5, 1.0), "amsgrad": (2.0, 1.0, 1.5)}
    assert prof.rho["adam"] == pytest.approx((2 / 3, 2 / 3, 1.0, 1.0))
    assert prof.rho["amsgrad"] == pytest.approx((1 / 3, 1 / 3, 2 / 3, 1.0))
    missing = performance_profile({"adam": {"a": 1.0}, "x": {"a": math.nan}}, taus=[10.0])
    assert missing.ratios["x"] == (math.inf,)
    assert missing.rho["x"] == (0.0,)


@pytest.mark.parametrize("n", [1, 3, 5, 6])
def test_expected_best_of_matches_enumeration(n):
    rng = np.random.default_rng(n)
    vals = list(rng.normal(size=n))
    vals[-1] = vals[0]  # ties must count right too
    for b in range(1, n + 1):
        brute = np.mean([min(c) for c in itertools.combinations(vals, b)])
        assert expected_best_of(vals, b) == pytest.approx(brute, rel=1e-12, abs=1e-12)
    with pytest.raises(ValueError):
        expected_best_of(vals, n + 1)


def test_budget_curves_intervals_and_json_round_trip():
    search = {("t", "adam"): [0.5, 0.3, 2.0], ("t", "amsgrad"): [0.4, math.inf, 0.9]}
    data = _data({("t", "adam"): BASE, ("t", "amsgrad"): BASE}, search)
    data.records.append(_rec("t", "adam", "seed", 5, math.nan, status="diverged"))
    n = analyse(data, names={"adam": "Adam", "amsgrad": "AMSGrad"}, not_run=("cifarnet",))
    curve = n.budget_curves[0]
    assert curve.lo == 0.3
    assert curve.hi == pytest.approx(0.7)
    assert curve.curves["adam"][-1] == 0.0  # all three drawn: the best (the lowest) is certain
    assert curve.curves["amsgrad"][0] == pytest.approx((0.25 + 1 + 1) / 3)
    r = n.result("t", "adam")
    assert r.seeds == 6
    assert r.diverged == 1
    assert len(r.test_loss) == 5
    assert r.test_loss_low < r.test_loss_mean < r.test_loss_high
    assert r.test_acc_mean == pytest.approx(0.9)
    assert r.steps_to_target == math.inf
    assert r.reached == 0.0
    back = BenchmarkNumbers.from_json(json.loads(json.dumps(jsonable(n.to_json()))))
    assert jsonable(back.to_json()) == jsonable(n.to_json())
    assert back.not_run == ("cifarnet",)
    assert back.names["adam"] == "Adam"


def test_time_to_target_median_needs_half_the_seeds():
    recs = [
        _rec("t", "adam", "seed", i, 1.0, target=tgt) for i, tgt in enumerate([10, 20, None])
    ] + [_rec("t", "yogi", "seed", i, 1.0, target=tgt) for i, tgt in enumerate([10, None, None])]
    n = analyse(BenchmarkData(("t",), ("adam", "yogi"), 1, 3, recs))
    assert n.result("t", "adam").steps_to_target == 20.0
    assert n.result("t", "adam").reached == pytest.approx(2 / 3)
    assert n.result("t", "yogi").steps_to_target == math.inf


def test_loss_interval_never_below_zero():
    # Two seeds far apart: the plain t-band would reach below zero (mean 5, half-width ~57).
    n = analyse(_data({("t", "adam"): [1.0, 1.1], ("t", "sgd"): [1.0, 9.0]}))
    sgd = next(r for r in n.results if r.optimizer == "sgd")
    assert sgd.test_loss_low == 0.0
    assert sgd.test_loss_high > 9.0
