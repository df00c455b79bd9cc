"""Barlas's (1996) behaviour-pattern checks of the shipped fit (issue 20): misses without a pattern, and a
model that turns with the record (calibration/patterns.py). Thresholds are the tests' own, not the fit's:
white misses at the 5 % level, and more than half the growth rate's yearly changes in the record's direction
(better than a coin)."""

import numpy as np
import pandas as pd
import pytest

from nxmfg.calibration import patterns

WHITE_AT = 0.05        # Ljung-Box p-value below it: the misses carry a pattern
BETTER_THAN_A_COIN = 0.5

# Series that miss a threshold, with the reason: each an expected failure at that threshold (strict), so the
# miss stays in every test report.
PATTERNED = {
    "gdp_100m_yuan": (
        "MISS (December 2026): the misses run as a slow wave, the record 2-4 % above the model in 2011-2013 and "
        "1-2 % below it in 2016-2019 (lag-1 autocorrelation 0.55, Ljung-Box p 0.02): nominal GDP grew about "
        "0.8 %/yr slower than the model's over 2011-2018, a slow wave the structure does not make (its years "
        "are the coal-price slump's, 2012-2015, which reaches the model's prices only through the coal "
        "pass-through; the cause is not established)"),
    "invention_patent_applications_count": (
        "MISS (December 2026): the record doubles in 2013 and stays on a plateau to 2020, so it runs 39-93 % "
        "above the model in 2013-2017 and 22-36 % below it from 2019 (lag-1 autocorrelation 0.75, Ljung-Box "
        "p 0.002; 0.013 before the grants followed the national office's and the fit gave the applications less "
        "weight against them); the likelihood gives the series its own AR(1) (rho about 0.7), and "
        "tests/test_validation.py lists its level miss"),
}
OFF_TURN = {
    "above_scale_industry_valid_invention_patents_10k": (
        "MISS (December 2026): the stock's growth swings with each year's grants (22 % in 2019, 13 % in 2020, "
        "9 % in 2021, 32 % in 2023) while the model's falls from 56 % to 20 % with a rise in 2020-2021, when the "
        "national office's grants jump: 2 of 10 yearly changes in the record's direction"),
    "invention_patent_applications_count": (
        "MISS (December 2026): applications bunch with subsidy deadlines and campaigns (+91 % and +112 % in "
        "2012-2013, -16 % in 2019, +19 % in 2021), an event flow the model's R&D-driven path smooths: 4 of 11 "
        "yearly changes in the record's direction"),
}  # invention grants left the list when they came to follow the national office's (9 of 12; git history)


@pytest.fixture(scope="module")
def pairs():
    return patterns.shipped_pairs()


@pytest.fixture(scope="module")
def autocorrelation(pairs):
    return patterns.residual_autocorrelation(pairs)


@pytest.fixture(scope="module")
def turns(pairs):
    return patterns.turning_points(pairs)


def _cases(names, misses):
    return [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=misses[name])) if name in misses else name
            for name in names]


LONG_SERIES = ["above_scale_industry_rd_expenditure_100m_yuan", "above_scale_industry_valid_invention_patents_10k",
               "gdp_100m_yuan", "gdp_real_growth_pct", "invention_patent_applications_count",
               "invention_patents_granted_count"]


def test_every_long_series_of_the_record_is_checked(autocorrelation, turns):
    """Not vacuous: the record's long series (>= 8 consecutive years) are each checked for both patterns."""
    assert set(autocorrelation.index) == set(LONG_SERIES)
    assert set(turns.index) == set(LONG_SERIES)


@pytest.mark.parametrize("name", _cases(LONG_SERIES, PATTERNED))
def test_the_misses_of_a_long_series_carry_no_pattern(autocorrelation, name):
    """Barlas's autocorrelation test of the errors: Ljung-Box over lags 1-2 does not reject white misses at
    the 5 % level."""
    row = autocorrelation.loc[name]
    assert row["p_value"] >= WHITE_AT, row.to_dict()


@pytest.mark.parametrize("name", _cases(LONG_SERIES, OFF_TURN))
def test_the_model_speeds_up_and_slows_down_with_the_record(turns, name):
    """Turning points: more than half the yearly changes of the series' growth rate go the record's way."""
    row = turns.loc[name]
    assert row["agreement"] > BETTER_THAN_A_COIN, row.to_dict()


# --- the checks themselves, on series whose answer is known ------------------------------------------------

def _pairs(name: str, years, simulated, observed) -> pd.DataFrame:
    return pd.DataFrame({"indicator": name, "year": list(years), "simulated": simulated, "observed": observed})


def test_white_misses_pass_and_a_persistent_miss_fails():
    """Misses drawn independently pass the 5 % test about 95 % of the time; a miss that flips sign once in
    twelve years (a step the model does not make) is a pattern."""
    rng = np.random.default_rng(1)
    years = range(2010, 2024)
    white = [patterns.residual_autocorrelation(_pairs("x_100m_yuan", years, np.full(14, 100.0),
                                                      100 * np.exp(0.05 * rng.standard_normal(14))))
             .loc["x_100m_yuan", "p_value"] for _ in range(400)]
    assert 0.90 <= np.mean(np.array(white) >= WHITE_AT) <= 0.99
    step = 100 * np.exp(np.where(np.arange(14) < 7, 0.05, -0.05))
    persistent = patterns.residual_autocorrelation(_pairs("x_100m_yuan", years, np.full(14, 100.0), step))
    assert persistent.loc["x_100m_yuan", "p_value"] < WHITE_AT


def test_a_gap_in_the_years_breaks_the_series_at_its_longest_run():
    years = [2010, 2011, 2013, 2014, 2015, 2016, 2017, 2018, 2019, 2020]
    observed = np.exp(0.05 * np.random.default_rng(2).standard_normal(10))
    table = patterns.residual_autocorrelation(_pairs("x_100m_yuan", years, np.full(10, 1.0), observed))
    assert int(table.loc["x_100m_yuan", "n"]) == 8


def test_a_model_that_turns_with_the_record_agrees_and_one_that_does_not_does_not():
    """A growth rate that zigzags: the same zigzag agrees every year and matches every turn; the mirror image
    agrees in none; a rising line matches no turn and agrees only in the record's rises."""
    years = range(2010, 2020)
    record = np.array([5.0, 8, 4, 9, 3, 7, 2, 6, 1, 5])
    same = patterns.turning_points(_pairs("x_growth_pct", years, record + 1, record)).loc["x_growth_pct"]
    assert same["agreement"] == 1.0 and same["matched"] == same["record_turns"] > 0
    mirror = patterns.turning_points(_pairs("x_growth_pct", years, -record, record)).loc["x_growth_pct"]
    assert mirror["agreement"] == 0.0
    line = patterns.turning_points(_pairs("x_growth_pct", years, np.arange(10.0), record)).loc["x_growth_pct"]
    assert line["matched"] == 0 and line["agreement"] == np.mean(np.diff(record) > 0)
