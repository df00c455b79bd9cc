"""Behaviour tests of the model after Sterman (2000, ch. 21) and Barlas (1996).

Stock accounting, integration error, extreme conditions, direction of the levers, no leaks between
runs, and history untouched before a lever starts.
"""

import numpy as np
import pandas as pd
import pytest

import model
import scenarios
from model import indicators

TIERS = ["small_firms", "above_scale_firms", "large_firms", "leading_firms", "flagship_firms"]
ENTRIES = ["small_firm_births", "greenfield_entrants"]
EXITS = ["small_firm_exits", "above_scale_exits", "large_firm_exits"]


def test_firms_move_between_tiers_without_being_created(economy):
    """Euler step by step: the change of all firms equals entries minus exits; transfers net to zero."""
    step = economy.components.time_step()
    times = np.arange(2010, 2013 + step / 2, step)
    run = economy.run(return_timestamps=times, reload=True).rename(columns=economy.namespace)
    total = run[TIERS].sum(axis=1).to_numpy()
    net = (run[ENTRIES].sum(axis=1) - run[EXITS].sum(axis=1)).to_numpy()
    np.testing.assert_allclose(np.diff(total), step * net[:-1], rtol=1e-9, atol=1e-9)
    assert run["new_above_scale_firms"].min() > 0  # the test is not vacuous: firms do move


def _engine(params: dict | None = None, time_step: float | None = None):
    """One run on the ensemble engine (run dim dropped): same equations as PySD, far faster."""
    from model import ensemble

    return ensemble.run(params or {}, 1, workers=1, progress=False, time_step=time_step).isel(run=0)


def test_halving_the_time_step_moves_no_headline_by_more_than_1_percent(economy, baseline_indicators):
    half = economy.components.time_step() / 2
    fine = indicators.compute(_engine(time_step=half))
    levels = [n for n in indicators.HEADLINES if not n.endswith("_pct") or "share" in n or "penetration" in n
              or "utilization" in n] + ["manufacturing_va_100m_yuan"]
    moved = {}
    for name in levels:
        coarse, halved = baseline_indicators[name].to_numpy(), fine[name].to_numpy()
        moved[name] = np.nanmax(np.abs(halved / coarse - 1))
        assert moved[name] < 0.01, f"{name}: halving TIME STEP moved it by {moved[name]:.2%}"
    assert max(moved.values()) > 1e-6  # the step really changed


def _stocks_ok(run) -> None:
    stocks = [name for name in model.load().doc.query("Type == 'Stateful' and Subtype == 'Integ'")["Py Name"]]
    values = run[stocks].to_dataframe()[stocks]
    assert not values.isna().any().any(), f"NaN in {values.columns[values.isna().any()].tolist()}"
    negative = values.columns[(values < -1e-9).any()].tolist()
    assert not negative, f"negative stocks: {negative}"


def test_zero_investment_gives_no_negative_stock_and_no_nan():
    run = _engine({"max_investment_rate": 0.0, "key_projects_per_year": 0.0})
    assert float(run["manufacturing_investment_real"].max()) == 0.0
    assert (run["physical_capital"].diff("year") < 0).all()  # capital only wears out
    _stocks_ok(run)


def test_levers_at_ten_times_their_plan_value_give_no_negative_stock_and_no_nan():
    plan = scenarios.load("scenarios/plan.yaml")
    baseline = model.baseline()
    params = {name: 10 * lever.time_path(baseline[name]) for name, lever in plan.levers.items()}
    _stocks_ok(_engine(params))


# Each lever and an indicator it is meant to raise (+1) or lower (-1).
DIRECTIONS = [
    ("key_projects_per_year", "tech_upgrade_investment_100m_yuan", +1),
    ("tech_upgrade_subsidy_rate", "tech_upgrade_investment_share_of_industrial_investment_pct", +1),
    ("interest_subsidy_pp", "manufacturing_investment_100m_yuan", +1),
    ("cultivation_upgrades_per_year", "above_scale_firms_count", +1),
    ("backward_capacity_elimination_rate", "industry_energy_intensity_tce_per_10k_yuan", -1),
    ("high_tech_certification_reward", "high_tech_firms_count", +1),
    ("intelligent_retrofit_firms_per_year", "cnc_key_process_rate_pct", +1),
    ("cloud_voucher_firms_per_year", "cloud_firms_count", +1),
    ("energy_saving_investment_share", "industry_energy_intensity_tce_per_10k_yuan", -1),
    ("water_saving_investment_share", "water_per_industry_va_m3_per_10k_yuan", -1),
    ("solid_waste_demo_firms_per_year", "industrial_solid_waste_utilization_pct", +1),
]


@pytest.fixture(scope="module")
def pushed():
    """One ensemble run per lever, each lever alone at its maximum from 2021 (run 0 is the baseline)."""
    from functools import partial

    from model import ensemble

    constants, baseline = model.constants(), model.baseline()
    n = len(DIRECTIONS) + 1
    years = np.arange(2010, 2036)
    params = {}
    for i, (lever, _, _) in enumerate(DIRECTIONS, start=1):
        values = np.full(n, baseline[lever])
        values[i] = constants.loc[lever, "high"]
        params[lever] = scenarios.lever_path_array(baseline[lever], 2021, values, years)
    names = sorted({name for _, name, _ in DIRECTIONS})
    return ensemble.run(params, n, reduce=partial(indicators.compute, names=names), workers=1, progress=False)


@pytest.mark.parametrize(("lever", "name", "sign"), DIRECTIONS, ids=[d[0] for d in DIRECTIONS])
def test_a_stronger_lever_never_lowers_what_it_targets(lever, name, sign, pushed, baseline_indicators):
    i = 1 + [d[0] for d in DIRECTIONS].index(lever)
    base = pushed[name].isel(run=0)
    np.testing.assert_array_equal(base, baseline_indicators[name])  # the same model, to the bit (test_ensemble)
    gain = sign * (pushed[name].isel(run=i) - base).sel(year=slice(2021, None))
    assert float(gain.min()) >= -1e-9 * float(abs(base).max())
    assert float(gain.max()) > 0, f"{lever} at its maximum does not move {name} at all"


def test_super_deduction_outlook_raises_rd_intensity(baseline_indicators):
    pushed = indicators.compute(_engine({"rd_super_deduction_outlook": pd.Series({2021.0: 1.5, 2035.0: 1.5})}))
    gain = (pushed - baseline_indicators)["above_scale_industry_rd_intensity_pct"].sel(year=slice(2021, None))
    assert float(gain.min()) >= 0 and float(gain.max()) > 0


@pytest.fixture(scope="module")
def plan_run(economy, baseline_run):
    """The plan through PySD, on the same model object that ran the baseline."""
    plan = scenarios.load("scenarios/plan.yaml")
    return plan, model.simulate(plan.params(model.baseline()), economy=economy)


def test_a_scenario_run_does_not_leak_into_the_next(economy, baseline_run, plan_run):
    again = model.simulate(economy=economy)
    assert float(abs((again - baseline_run).to_array()).max()) == 0.0


def test_history_is_untouched_before_the_levers_start(baseline_run, plan_run):
    """Through PySD itself: a lever's time path keeps the baseline value before its start year."""
    plan, run = plan_run
    start = min(lever.start for lever in plan.levers.values())
    before = (run - baseline_run).sel(year=slice(None, start - 1)).to_array()
    after = (run - baseline_run).sel(year=slice(start + 1, None)).to_array()
    assert float(abs(before).max()) == 0.0
    assert float(abs(after).max()) > 0.0


HISTORY_CHECKS = ["gdp_100m_yuan", "industry_va_100m_yuan", "rd_expenditure_100m_yuan", "high_tech_firms_count"]


@pytest.mark.parametrize("name", HISTORY_CHECKS)
def test_baseline_tracks_the_recorded_history_within_25_percent(name, baseline_indicators):
    from calibration import observations

    history = observations().query("indicator == @name and year <= 2020")
    assert len(history) >= 2  # industry VA: 2019, 2020 in the chosen (revised) vintage
    simulated = baseline_indicators[name].sel(year=history["year"].to_numpy()).to_numpy()
    error = simulated / history["value"].to_numpy() - 1
    assert np.all(np.abs(error) <= 0.25), dict(zip(history["year"], np.round(error, 3), strict=True))


def test_random_parameter_sets_across_every_range_stay_finite_and_non_negative():
    """Latin corners of the whole parameter space: 512 draws of every constant within its [min,max]."""
    from model import ensemble

    constants = model.constants()
    constants = constants[constants["high"] > constants["low"]]
    rng = np.random.default_rng(2026)
    params = {name: rng.uniform(row["low"], row["high"], 512) for name, row in constants.iterrows()}
    runs = ensemble.run(params, 512, workers=1, progress=False)
    stocks = model.load().doc.query("Type == 'Stateful' and Subtype == 'Integ'")["Py Name"].tolist()
    values = np.stack([runs[name].to_numpy() for name in stocks])
    assert np.isfinite(values).all(), [s for s, v in zip(stocks, values, strict=True) if not np.isfinite(v).all()]
    assert (values >= -1e-9).all(), [s for s, v in zip(stocks, values, strict=True) if (v < -1e-9).any()]


@pytest.mark.parametrize("name", sorted(scenarios.schema.OUTLOOK_BOUNDS))
def test_outlooks_at_either_end_of_their_allowed_range_keep_every_stock_finite(name):
    """The schema's outlook bounds (scenarios/schema.py) are where the model is still defined: 512 draws of
    every constant within its [min,max], the outlook held at its lowest and at its highest allowed value."""
    from model import ensemble

    constants = model.constants()
    constants = constants[constants["high"] > constants["low"]]
    rng = np.random.default_rng(2027)
    params = {c: rng.uniform(row["low"], row["high"], 512) for c, row in constants.iterrows()}
    stocks = model.load().doc.query("Type == 'Stateful' and Subtype == 'Integ'")["Py Name"].tolist()
    for value in scenarios.schema.OUTLOOK_BOUNDS[name]:
        runs = ensemble.run(params | {name: pd.Series({2021.0: value, 2035.0: value})}, 512, workers=1,
                            progress=False)
        values = np.stack([runs[s].to_numpy() for s in stocks])
        assert np.isfinite(values).all(), f"{name} = {value}: a stock is not finite"
        assert (values >= -1e-9).all(), f"{name} = {value}: a stock turns negative"
