import math

import numpy as np
import pytest

from beyondadam.reporting.stats import compare_lower, mean_band, t_quantile, welch_interval


@pytest.mark.parametrize(
    ("df", "expected"),
    [(1, 12.7062), (2, 4.3027), (4, 2.7764), (10, 2.2281), (30, 2.0423), (100, 1.9840)],
)
def test_t_quantile_matches_printed_tables(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-4)


def test_t_quantile_matches_scipy_for_fractional_df():
    stats = pytest.importorskip("scipy.stats")
    for df in (1.3, 2.7, 5.5, 17.25):
        for p in (0.9, 0.975, 0.995):
            assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-6)


def test_t_quantile_rejects_bad_input():
    with pytest.raises(ValueError):
        t_quantile(0.3, 4)
    with pytest.raises(ValueError):
        t_quantile(0.975, 0)


def test_mean_band():
    band = mean_band([1.0, 2.0, 3.0])
    half = 4.302652729749462 * 1.0 / math.sqrt(3)
    assert band.mean == pytest.approx(2.0)
    assert (band.lo, band.hi) == pytest.approx((2.0 - half, 2.0 + half))
    one = mean_band([5.0])
    assert (one.lo, one.hi, one.n) == (5.0, 5.0, 1)
    assert "no band" in one.text()


def test_welch_interval_agrees_with_scipy_test():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for shift in (0.0, 0.3, 1.0, 3.0):
        a = rng.normal(shift, 1.0, size=5)
        b = rng.normal(0.0, 0.5, size=4)
        diff, lo, hi, _df = welch_interval(a, b)
        res = stats.ttest_ind(a, b, equal_var=False)
        assert diff == pytest.approx(a.mean() - b.mean())
        # the 95% interval excludes 0 exactly when the two-sided p-value is below 0.05
        assert (lo > 0 or hi < 0) == (res.pvalue < 0.05)
        ci = res.confidence_interval(0.95)
        assert (lo, hi) == pytest.approx((ci.low, ci.high), rel=1e-6)


def test_compare_lower_outcomes():
    assert compare_lower([0.10, 0.11, 0.12], [0.30, 0.31, 0.29]).outcome == "below"
    assert compare_lower([0.30, 0.31, 0.29], [0.10, 0.11, 0.12]).outcome == "above"
    assert compare_lower([0.20, 0.25, 0.30], [0.21, 0.26, 0.29]).outcome == "inside spread"
    assert compare_lower([0.1], [0.3, 0.31]).outcome == "one seed"
    cmp = compare_lower([0.10, 0.11, 0.12], [0.30, 0.31, 0.29])
    assert cmp.difference == pytest.approx(0.19)
    assert cmp.lo > 0
