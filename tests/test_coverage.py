"""Issue 21, item 6: odds that are calibrated. With the fit to 2020 (calibration/out_of_sample/: fitted_until_2020.yaml
and its posterior.csv, `nxmfg calibrate --until 2020 --save`), the states' 90 % band covers between 75 % and 99 %
of the 2021-2023 observations over all series, and GDP's 2023 band lies within ±15 % of its median. The band is the
predictive one (the model in each state plus each series' AR(1) miss carried on from 2020: calibration/coverage.py),
since an observation is the model plus that miss; the model's band alone is reported beside it.
`python -m nxmfg.calibration.coverage` prints the table. The thresholds are the issue's."""

import numpy as np
import pandas as pd
import pytest

from nxmfg import model
from nxmfg.calibration import coverage


@pytest.fixture(scope="module")
def table():
    header = dict(line[2:].split(": ", 1) for line in
                  coverage.OUT_OF_SAMPLE.with_name("posterior.csv").read_text(encoding="utf-8").splitlines()
                  if line.startswith("# ") and ": " in line)
    assert header["model_version"] == model.version(), f"rerun `nxmfg calibrate --until {coverage.UNTIL} --save`"
    assert header["until"] == str(coverage.UNTIL)
    return coverage.table()


def test_the_table_scores_every_series_after_the_fit_years(table):
    """Not vacuous: the record's 2021-2023 levels and rates, GDP among them, each against its band."""
    assert len(table) >= 30 and table["year"].between(coverage.UNTIL + 1, coverage.LAST).all()
    assert {"gdp_100m_yuan", "industry_va_100m_yuan", "rd_expenditure_100m_yuan"} <= set(table["indicator"])
    for band in ("", "model_"):
        assert (table[f"{band}q05"] <= table[f"{band}q50"]).all() and (table[f"{band}q50"] <= table[f"{band}q95"]).all()
    assert (table["inside"] == ((table["q05"] <= table["observed"]) & (table["observed"] <= table["q95"]))).all()


def test_the_predictive_band_holds_the_models_and_the_misses_on_top():
    """A series' predictive band is its model band widened by the AR(1) miss: with no model spread and a miss
    of known sd, the band's half width is 1.645 sd (a rate, in pp), whatever the model's value."""
    from nxmfg.calibration.likelihood import error_model
    from nxmfg.calibration.priors import load

    errors = load().errors
    held = error_model(pd.DataFrame({"indicator": ["gdp_growth_pct"] * 3, "year": [2021, 2022, 2023],
                                     "value": [6.0, 4.0, 6.5]}), errors)
    rng = np.random.default_rng(1)
    misses = rng.normal(0, 2.0, (20_000, 3))
    found = coverage.bands(held, np.full((20_000, 3), 5.0), misses)
    assert np.allclose(found["model_q05"], 5.0) and np.allclose(found["model_q95"], 5.0)
    assert np.allclose(found["predictive_q95"] - found["predictive_q50"], 1.645 * 2.0, rtol=0.05)
    assert found["predictive_covers"].all() and not found["model_covers"].any()


def test_gdps_2023_band_is_sharp(table):
    low, high = coverage.sharpness(table)
    assert -coverage.SHARPNESS <= low < 0 < high <= coverage.SHARPNESS


def test_the_90_percent_band_covers_75_to_99_percent_of_what_the_fit_did_not_see(table):
    share = table["inside"].mean()
    low, high = coverage.COVERAGE_GOAL
    assert low <= share <= high, coverage.by_series(table).to_string()


def test_calibrate_until_reports_the_coverage_of_the_years_it_left_out(tmp_path, small_priors):
    """`nxmfg calibrate --until 2020` writes coverage.csv and its section of report.md (issue 21: "the fit
    report has the coverage table"), scored on the years after 2020 only; a small posterior stands in."""
    from click.testing import CliRunner

    from nxmfg.cli import main

    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["calibrate", "--until", "2020", "--out", str(out)])
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out / "coverage.csv")
    assert len(scored) >= 30 and (scored["year"] > 2020).all()
    assert (scored["inside"] == ((scored["q05"] <= scored["observed"]) & (scored["observed"] <= scored["q95"]))).all()
    series = pd.read_csv(out / "coverage_by_series.csv")
    assert series.iloc[-1]["indicator"] == "all series" and series.iloc[-1]["n"] == len(scored)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Coverage of the later record (coverage.csv, coverage_by_series.csv)" in report
    assert "(calibrated: 75-99 %)" in report and "states: fit posterior, assumptions, outlooks" in report
