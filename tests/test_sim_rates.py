"""The regret-rate fit and the convergence verdict, on sequences with known rates."""

from __future__ import annotations

import numpy as np
import pytest

from beyondadam.sim.rates import CONVERGES_AT_MOST, FAILS_AT_LEAST, Verdict, classify

T = np.unique(np.geomspace(1, 5_000_000, 200).astype(np.int64))


def _avg(regret: np.ndarray) -> np.ndarray:
    return regret / T


@pytest.mark.parametrize(
    ("regret", "exponent", "verdict"),
    [
        (3.0 * np.sqrt(T), 0.5, Verdict.CONVERGES),  # AMSGrad's O(sqrt T)
        (0.2 * T, 1.0, Verdict.FAILS),  # linear: Adam on the counterexamples
        (T * np.log(T), None, Verdict.FAILS),  # t log t
        (T**0.82, 0.82, Verdict.UNDECIDED),  # between the thresholds
        (np.log(T + 1.0) + 1.0, None, Verdict.CONVERGES),  # logarithmic
    ],
    ids=["sqrt", "linear", "tlogt", "t^0.82", "log"],
)
def test_known_rates(regret, exponent, verdict):
    (rate,) = classify(T, _avg(regret))
    if exponent is not None:
        assert rate.exponent == pytest.approx(exponent, abs=1e-9)
    assert rate.verdict is verdict
    assert rate.final_avg_regret == pytest.approx(regret[-1] / T[-1])


def test_t_log_t_exponent_exceeds_one():
    (rate,) = classify(T, _avg(T * np.log(T)))
    assert 1.0 < rate.exponent < 1.1


@pytest.mark.parametrize("p", [CONVERGES_AT_MOST - 1e-3, CONVERGES_AT_MOST + 1e-3])
def test_both_sides_of_the_convergence_threshold(p):
    (rate,) = classify(T, _avg(T**p))
    expected = Verdict.CONVERGES if p <= CONVERGES_AT_MOST else Verdict.UNDECIDED
    assert rate.verdict is expected


@pytest.mark.parametrize("p", [FAILS_AT_LEAST - 1e-3, FAILS_AT_LEAST + 1e-3])
def test_both_sides_of_the_failure_threshold(p):
    (rate,) = classify(T, _avg(T**p))
    expected = Verdict.FAILS if p >= FAILS_AT_LEAST else Verdict.UNDECIDED
    assert rate.verdict is expected


def test_slow_start_is_undecided_not_failed_and_settles_with_a_longer_horizon():
    # Linear regret until 3e5 steps, then sqrt growth: a late settler.
    regret = np.where(T < 300_000, 0.5 * T, 150_000 + 50 * (np.sqrt(T) - np.sqrt(300_000)))
    short = T <= 400_000
    (early,) = classify(T[short], regret[short] / T[short])
    assert early.verdict is not Verdict.CONVERGES
    (late,) = classify(T, _avg(regret), decades=0.5)
    assert late.verdict is Verdict.CONVERGES


def test_non_positive_regret_converges_and_batches_work():
    rows = np.stack([_avg(-np.sqrt(T)), _avg(0.1 * T), _avg(np.sqrt(T))])
    verdicts = [r.verdict for r in classify(T, rows)]
    assert verdicts == [Verdict.CONVERGES, Verdict.FAILS, Verdict.CONVERGES]
    assert np.isnan(classify(T, rows)[0].exponent)


def test_noise_does_not_flip_a_clear_rate():
    rng = np.random.default_rng(0)
    regret = 0.2 * T * np.exp(rng.normal(0, 0.05, size=T.size))
    assert classify(T, _avg(regret))[0].verdict is Verdict.FAILS


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="at least 3 increasing"):
        classify(np.array([1, 2]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match="last 1 decade"):
        classify(np.array([1, 10, 1000]), np.ones(3))
    with pytest.raises(ValueError, match="checkpoints, t has"):
        classify(T, np.ones(3))
    with pytest.raises(ValueError, match="decades must be > 0"):
        classify(T, _avg(np.sqrt(T)), decades=0)
