"""The model's validation battery in Barlas's (1996) terms; every test states its threshold.

- Structure verification: dimensional consistency is tests/test_units.py; the feedback loops all bite.
- Parameter verification: no fitted constant sits on a bound without a stated reason.
- Behaviour reproduction: in sample (fit to 2023) and out of sample (fit to 2020, scored on 2021-2023).
- Behaviour anomaly: the baseline, the plan and every calibrated parameter set stay in plausible bands
  to 2035.
- Extreme conditions: plausible, not only finite, responses to collapses and absurd inputs.
- Policy sensitivity: each regional lever moves GDP and its own indicators with the stated sign and size.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nxmfg import model
from nxmfg import scenarios
from nxmfg.calibration import runner
from nxmfg.calibration.history import observations
from nxmfg.calibration.summaries import observed_pairs
from nxmfg.calibration.stats import fit_table
from nxmfg.model import indicators, loops

LEVEL_MAPE_PCT = 5.0        # levels observed in >= MIN_POINTS years
RATE_RMSE_PP = 2.0          # growth and change rates observed in >= MIN_POINTS years
EVENT_MAPE_PCT = 25.0       # yearly counts of events, see EVENTS
OUT_OF_SAMPLE_MAPE_PCT = 10.0
MIN_POINTS = 3
OUT_OF_SAMPLE_FIT = Path(runner.FITTED).parent / "out_of_sample" / "fitted_until_2020.yaml"

EVENTS = {  # flows of discrete events: the year they fall in is partly administrative
    "invention_patent_applications_count": "applications bunch with subsidy deadlines and campaigns",
    "invention_patents_granted_count": "grants follow the patent office's examination backlog (2019: -20 %)",
    "high_tech_certificates_issued_count": "each year's list follows the ministry's review rounds (one to "
                                           "three batches a year), and a firm whose round slips is listed the next year",
}
LEVEL_THRESHOLDS = {  # a level's own threshold where the issue sets one (issue 20: R&D-active firms <= 10 %)
    "firms_with_rd_activity_count": 10.0,
}
# Indicators that miss the issue's threshold, with the reason. Each is an expected failure at that threshold
# (strict: a series that comes to meet it fails the battery until it leaves this list), so the miss stays in
# every test report; no looser ceiling set by the current fit stands in for the threshold.
MISSES = {
    "above_scale_industry_rd_expenditure_100m_yuan": (
        "MAPE 5.03 % (5.12 before the region's patent grants followed the national office's, 4.78 before "
        "capital substituted for labour): the +27 % of 2018 (37.0 亿元, the mode 32.2) is steeper than the "
        "take-up of R&D explains, and 2023's 71.3 runs 7 % above the recorded 66.9"),
    "tech_upgrade_investment_growth_pct": (
        "RMSE 2.98 pp (2.93 before the region's patent grants followed the national office's, 1.14 before "
        "capital substituted for labour): three single years of nominal growth of one investment category, which "
        "swings by 10 pp a year (2017: the mode 19.7 % against 15.1 %; 2022: 15.7 against 14.9; 2023: 4.2 against "
        "6.4); "
        "the likelihood expects misses of 10 pp (priors.yaml errors)"),
    "invention_patent_applications_count": (
        "applications more than doubled in 2013 (846 -> 1792) and stood at 2 500-2 600 over 2015-2020, a step "
        "and a plateau that the model's R&D-driven flow smooths; the likelihood gives the series its own error "
        "sd (posterior 32 %, rho 0.7), so the posterior does not trade other series for it"),
    "above_scale_industry_valid_invention_patents_10k": (
        "the stock's yearly growth swings from +9 % (2021) to +32 % (2023) with grants that the model smooths"),
    "high_tech_industry_revenue_100m_yuan": (
        "the revenue triples in 2015 (37 to 112 亿元) and again in 2020-2022 (225 to 667) with the silicon-"
        "materials boom; the emerging block's growth advantage is assumed (fitted, it carries the boom on to "
        "72 % of industry by 2035), so only its level is fitted and the seam starts the outlook from 2023's "
        "record"),
    "above_scale_industry_va_growth_pct": (
        "2023's 12.4 %, new-energy and coal-chemical plants coming on stream, is beyond the model's "
        "demand-led 8.1 %"),
    "energy_consumption_growth_pct": (
        "three years (2012, 2018, 2020); 2018's +10.1 %, coal-chemical capacity coming on stream, against the "
        "model's 4.7 %: the likelihood expects misses of 4 pp in a yearly growth rate (priors.yaml errors)"),
    "energy_intensity_gdp_change_pct": (
        "five years that swing between -5 % and +4.6 %, two of them approximate or mislabelled (data README "
        "caveats 5, 6): no smooth model follows them"),
}


def _pairs(run, history) -> pd.DataFrame:
    return observed_pairs(indicators.compute(run), history)


@pytest.fixture(scope="module")
def history():
    return observations()


@pytest.fixture(scope="module")
def in_sample(baseline_run, history):
    pairs = _pairs(baseline_run, history)
    return pairs, fit_table(pairs).set_index("indicator")


def _rated(table: pd.DataFrame) -> list[str]:
    return [name for name, row in table.iterrows() if row["n"] >= MIN_POINTS]


def test_every_series_with_enough_years_is_scored(in_sample):
    """Not vacuous: the battery below covers the record's long series."""
    _, table = in_sample
    assert {"gdp_100m_yuan", "industry_va_100m_yuan", "rd_expenditure_100m_yuan",
            "above_scale_industry_rd_expenditure_100m_yuan", "high_tech_firms_count",
            "gdp_real_growth_pct", "above_scale_industry_va_growth_pct"} <= set(_rated(table))


def _kind(name: str) -> str:
    is_rate = name.endswith(("_growth_pct", "_change_pct", "_pp"))
    return "event" if name in EVENTS else "rate" if is_rate else "level"


def _missed(name: str, row: pd.Series) -> str | None:
    """How the series misses the issue's threshold for its kind, or None where it meets it."""
    kind = _kind(name)
    level = LEVEL_THRESHOLDS.get(name, LEVEL_MAPE_PCT)
    value, bound, measure = ((row["rmse"], RATE_RMSE_PP, "RMSE pp") if kind == "rate" else
                             (row["mape_pct"], EVENT_MAPE_PCT if kind == "event" else level, "MAPE %"))
    return f"{name}: {measure} {value:.3g} > {bound}" if value > bound else None


@pytest.mark.parametrize("kind", ["level", "rate", "event"])
def test_behaviour_reproduction_in_sample(in_sample, kind):
    """Levels MAPE <= 5 %, rates RMSE <= 2 pp, event counts MAPE <= 25 %, for series with >= 3 years (the
    known misses are scored on their own below)."""
    _, table = in_sample
    failures = [_missed(name, table.loc[name]) for name in _rated(table)
                if name not in MISSES and _kind(name) == kind]
    assert not any(failures), "; ".join(f for f in failures if f)


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reason))
                                  for name, reason in MISSES.items()])
def test_a_known_miss_against_the_issues_threshold(in_sample, name):
    """Each known miss, scored at the issue's threshold for its kind: an expected failure that stays in the
    report (pytest's xfail list) until the model meets it."""
    _, table = in_sample
    assert name in table.index and table.at[name, "n"] >= MIN_POINTS, f"{name}: no longer scored"
    missed = _missed(name, table.loc[name])
    assert missed is None, missed


def test_behaviour_reproduction_out_of_sample(history):
    """Fitted to 2010-2020 only (`nxmfg calibrate --until 2020`), scored on 2021-2023: GDP, industry VA and
    R&D expenditure within 10 % MAPE. The committed fit must belong to this version of the model."""
    text = OUT_OF_SAMPLE_FIT.read_text(encoding="utf-8")
    header = dict(line[2:].split(": ", 1) for line in text.splitlines() if line.startswith("# ") and ": " in line)
    assert header["model_version"] == model.version(), "rerun `nxmfg calibrate --until 2020` and commit its fit"
    assert header["until"] == "2020"
    params = {k: float(v) for k, v in yaml.safe_load(text).items()}
    pairs = _pairs(model.engine_run(params, final_year=2023), history)
    later = pairs[pairs["year"] > 2020]
    table = fit_table(later).set_index("indicator")
    for name in ("gdp_100m_yuan", "industry_va_100m_yuan", "rd_expenditure_100m_yuan"):
        assert table.loc[name, "n"] >= 2
        assert table.loc[name, "mape_pct"] <= OUT_OF_SAMPLE_MAPE_PCT, f"{name}: {table.loc[name, 'mape_pct']:.3g}"


# --- parameter verification ---------------------------------------------------------------------------

def _on_bound(shipped) -> list[str]:
    """Fitted constants whose shipped mode lies within 1 % of its range of an end (0.1 % let a share of
    0.998 of [0.05, 1] pass as interior)."""
    fitted = model.fitted()
    ranges = {name: shipped.entries[name].range for name in shipped.fitted}
    return [name for name, (low, high) in ranges.items()
            if min(fitted[name] - low, high - fitted[name]) <= 1e-2 * (high - low)]


def test_no_fitted_constant_sits_on_a_bound_without_a_stated_reason():
    """The shipped mode (fitted.yaml) of every fitted constant lies off its prior's range ends, or
    priors.yaml `on_bound` says why it may not; and names no constant that is not on a bound."""
    from nxmfg.calibration import priors

    shipped = priors.load()
    on_bound = _on_bound(shipped)
    unexplained = [name for name in on_bound if not str(shipped.on_bound.get(name, "")).strip()]
    assert not unexplained, f"on a bound with no reason in priors.yaml on_bound: {unexplained}"
    stale = sorted(set(shipped.on_bound) - set(on_bound))
    assert not stale, f"on_bound names parameters that are not on a bound: {stale}"


def test_at_most_two_fitted_constants_sit_on_a_bound():
    """Issue 20's threshold: at most two fitted constants on a bound (within 1 % of the range), whatever
    their reasons."""
    from nxmfg.calibration import priors

    on_bound = _on_bound(priors.load())
    assert len(on_bound) <= 2, on_bound


# --- structure: every loop bites -----------------------------------------------------------------------

DORMANT: dict[str, str] = {}  # loops that do not bite at the shipped mode, with the reason: each an expected
# failure below (B4 was, while the mode's delivery_elasticity sat on its bound of 0: git history)


@pytest.fixture(scope="module")
def loop_strengths():
    return loops.strengths().set_index("loop")


@pytest.mark.parametrize("name", [
    pytest.param(loop.name, marks=pytest.mark.xfail(strict=True, reason=DORMANT[loop.name])) if loop.name in DORMANT
    else loop.name for loop in loops.LOOPS])
def test_every_feedback_loop_moves_its_headline(loop_strengths, name):
    """Cutting a loop changes its headline in 2035 by more than 0.1 %: no loop is decoration."""
    change = float(loop_strengths.loc[name, "change_pct"])
    assert abs(change) >= 0.1, f"{name}: {change:.3g} %"


# --- behaviour anomaly: plausible bands to 2035 --------------------------------------------------------

SHARES = [name for name, ind in indicators.INDICATORS.items()
          if ind.unit == "%" and any(w in name for w in ("share", "penetration", "rate_pct", "utilization"))]


def _bands(run, label: str) -> list[str]:
    """Every broken band, as text."""
    ind = indicators.compute(run)
    later = ind.sel(year=slice(2024, 2035))
    problems = []

    def check(ok, text):
        if not bool(np.all(ok)):
            problems.append(f"{label}: {text}")

    industry_share = 100 * run["industry_va_nominal"] / run["gdp_nominal"]
    check(industry_share <= 45, f"industry above 45 % of GDP ({float(industry_share.max()):.1f})")
    for name in SHARES:
        check((ind[name] >= 0) & (ind[name] <= 100), f"{name} outside 0-100 %")
    check((later["gdp_real_growth_pct"] > -5) & (later["gdp_real_growth_pct"] < 12), "real GDP growth outside -5..12 %")
    check((later["manufacturing_va_growth_pct"] > -10) & (later["manufacturing_va_growth_pct"] < 20),
          "manufacturing growth outside -10..20 %")
    check((run["capacity_utilisation"] > 0.6) & (run["capacity_utilisation"] < 0.98), "utilisation outside 0.6-0.98")
    check((run["profit_margin"] >= 0.005) & (run["profit_margin"] <= 0.2), "profit margin outside 0.5-20 %")
    check(ind["manufacturing_share_of_above_scale_industry_pct"] < 90, "manufacturing above 90 % of industry")
    check(later["energy_intensity_gdp_change_pct"] < 5, "energy intensity rising faster than 5 %/yr")
    check(ind["above_scale_firms_count"].diff("year") / ind["above_scale_firms_count"] < 0.2,
          "above-scale firms growing more than 20 % a year")
    return problems


def test_baseline_stays_in_plausible_bands_to_2035(baseline_run, baseline_indicators):
    problems = _bands(baseline_run, "baseline")
    rd = baseline_indicators["rd_intensity_pct"].sel(year=slice(2024, 2035))
    if float(rd.max()) > 3.0:
        problems.append(f"baseline: R&D intensity {float(rd.max()):.2f} % of GDP without new policy (> 3 %)")
    assert not problems, "; ".join(problems)


def test_plan_stays_in_plausible_bands_to_2035():
    plan = scenarios.load("scenarios/plan.yaml")
    run = model.engine_run(plan.params(model.baseline()))
    assert not _bands(run, "plan")


def test_every_calibrated_parameter_set_stays_in_plausible_bands():
    """The band the reports draw: the estimate and posterior draws (calibration/posterior.csv), baseline to 2035."""
    from nxmfg.model import ensemble

    members = model.parameter_ensemble()
    assert members is not None and len(members) >= 10
    runs = ensemble.run({name: members[name].to_numpy() for name in members}, len(members), workers=1,
                        progress=False)
    problems = []
    for r in range(len(members)):
        problems += _bands(runs.isel(run=r), f"member {r}")
    assert not problems, "; ".join(problems[:10])


def test_every_state_of_the_world_passes_the_reality_checks():
    """The states every odds surface is over (calibration/states.py: the fit's draws, the assumed constants'
    priors, the outlooks), the baseline from the recorded 2023 on: inside priors.yaml's reality checks.
    Screened in batches of candidates (calibration/plausible.py), they must pass again in their own batch,
    which every surface resumes from (before the screening, 103 of 256 passed)."""
    from nxmfg.calibration import fits, priors, reality, states, worlds

    fit = fits.shipped_fit()
    drawn = states.draw(fit)
    runs, _ = worlds.run(scenarios.load("scenarios/baseline.yaml"), fit, drawn, {"final_time": 2035, "saveper": 1})
    passed = reality.passed(priors.load().reality_checks, reality.quantities(runs)).iloc[1:]
    assert passed.all(axis=1).all(), f"{int(passed.all(axis=1).sum())} of {len(passed)} pass; " + ", ".join(
        f"{name} {share:.0%}" for name, share in passed.mean().items())


# --- the supply side binds (issue 20) ------------------------------------------------------------------
# On main before issue 20: manufacturing employment rose 36 -> 56 -> 71 万 (2010, 2023, 2035), the heavy
# segment's energy intensity rose 14 % from 2023 to 2035 (a vintage effect fitted on the 2010-20 coal-
# conversion build-out carried forever), and utilisation drifted from 0.85 to 0.80 with a delivery
# advantage of 1.056 by 2035 (profitability multiplied replacement too: a standing capacity surplus).

def test_manufacturing_employment_in_2035_is_at_most_a_quarter_above_2023(baseline_indicators):
    """Issue 20's threshold: 2035 <= 1.25 x 2023 (no cited outlook says otherwise)."""
    jobs = baseline_indicators["manufacturing_employment_10k"]
    assert float(jobs.sel(year=2035)) <= 1.25 * float(jobs.sel(year=2023)), jobs.sel(year=[2023, 2035]).values


def test_heavy_industry_energy_intensity_in_2035_is_at_most_5_percent_above_2023(baseline_indicators):
    """Issue 20's threshold: 2035 <= 1.05 x 2023; the coal-conversion vintages stay in their episode."""
    heavy = baseline_indicators["heavy_industry_energy_intensity_tce_per_10k_yuan"]
    assert float(heavy.sel(year=2035)) <= 1.05 * float(heavy.sel(year=2023)), heavy.sel(year=[2023, 2035]).values


def test_the_climate_plans_co2_target_is_a_modelled_row_with_its_source():
    """Issue 20: a CO2 indicator and the 14th-FYP target (CO2 per GDP -16 % from 2020 to 2025) as a row."""
    target = {t.id: t for t in scenarios.load_targets()}["CP-co2-intensity"]
    assert target.kind == "modelled" and target.indicator in indicators.INDICATORS
    assert (target.measure, target.base_year, target.year, target.threshold, target.direction) == (
        "change_vs", 2020, 2025, -16, "at_most")
    assert "二氧化碳排放下降幅度达到16%" in target.clause


def test_capacity_carries_no_standing_surplus(baseline_run):
    """Utilisation returns to normal: in 2035 it is within 0.02 of normal (main before issue 20: 0.80 against
    0.85)."""
    normal = model.constants().loc["normal_utilisation", "value"]
    end = baseline_run.sel(year=2035)
    assert abs(float(end["capacity_utilisation"]) - normal) <= 0.02, float(end["capacity_utilisation"])


def test_spare_capacity_wins_no_lasting_orders(baseline_run):
    """The delivery effect within 2 % of 1 in 2035 (main before issue 20: 1.056, a growth source)."""
    end = baseline_run.sel(year=2035)
    assert abs(float(end["delivery_effect"]) - 1) <= 0.02, float(end["delivery_effect"])
