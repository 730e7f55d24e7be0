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


def test_band_of_a_positive_quantity_stays_positive():
    # two seeds of a positive loss far apart: mean 0.2555, s = 0.3457, t(0.975, 1) = 12.71,
    # so the plain t-interval reaches down to 0.2555 - 12.71 * 0.3457 / sqrt(2) < 0
    values = [0.011, 0.5]
    plain = mean_band(values)
    assert plain.lo < 0
    band = mean_band(values, bounds=(0.0, None))
    assert band.lo == 0.0
    assert band.hi == pytest.approx(plain.hi)  # only the impossible part goes
    assert band.mean == pytest.approx(plain.mean)
    assert band.clipped == "at 0"
    assert "t-interval clipped at 0" in band.text()
    # an accuracy is clipped at both ends when the interval is wider than [0, 1]
    acc = mean_band([0.98, 0.2], bounds=(0.0, 1.0))
    assert (acc.lo, acc.hi) == (0.0, 1.0)
    assert acc.clipped == "at 0 and at 1"
    # a band inside the range is untouched and says nothing about clipping
    tight = mean_band([0.30, 0.31, 0.305], bounds=(0.0, None))
    assert tight == mean_band([0.30, 0.31, 0.305])
    assert "clipped" not in tight.text()


def test_clipping_keeps_the_coverage_of_a_positive_mean():
    # the clipped interval contains the true mean whenever the plain one does (the mean is
    # positive), so over many draws of two seeds both cover equally often
    rng = np.random.default_rng(1)
    true_mean = 0.05
    covered_plain = covered_clipped = 0
    for _ in range(2000):
        x = rng.exponential(true_mean, size=2)
        plain, clipped = mean_band(x), mean_band(x, bounds=(0.0, None))
        assert clipped.lo >= 0
        covered_plain += plain.lo <= true_mean <= plain.hi
        covered_clipped += clipped.lo <= true_mean <= clipped.hi
    assert covered_plain == covered_clipped


def test_experiments_band_is_clipped_to_the_range_of_the_quantity():
    from beyondadam.experiments.stats import mean_ci95

    losses = np.array([0.01, 0.5])  # two seeds: the raw t-band reaches far below zero
    mean, lo, hi = mean_ci95(losses)
    assert lo < 0
    mean_c, lo_c, hi_c = mean_ci95(losses, bounds=(0.0, np.inf))
    assert (mean_c, lo_c, hi_c) == (mean, 0.0, hi)
    _, lo_a, hi_a = mean_ci95(np.array([0.9, 0.999]), bounds=(0.0, 1.0))
    assert hi_a == 1.0
    assert 0.0 <= lo_a < 0.9
