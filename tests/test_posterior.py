"""Bayesian calibration on small problems: the likelihood against brute force, the sampler, recovery of known
constants, checkpoints, and the calibration of the predictive band itself. Fake evaluators stand in for the
ensemble engine, so these run in seconds."""

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import integrate, stats
from scipy.optimize import minimize

from nxmfg.calibration import coverage, priors, sampler
from nxmfg.calibration import posterior as bayes
from nxmfg.calibration.likelihood import error_model
from nxmfg.calibration.priors import ErrorPriors, Prior, Priors

YEARS = np.arange(2010, 2021)
SHAPE = 3.0


def errors(scale_level=0.05, scale_rate=2.0, rho=(-0.9, 0.95), points=40) -> ErrorPriors:
    return ErrorPriors.model_validate({"variance_shape": SHAPE, "rho": list(rho), "rho_points": points,
                                       "level": {"scale": scale_level, "judgement": "test"},
                                       "rate": {"scale": scale_rate, "judgement": "test"}})


# --- the likelihood ------------------------------------------------------------------------------------

def brute_force(e: np.ndarray, years: np.ndarray, rho: float, scale: float) -> float:
    """log of the integral over s^2 of N(e; 0, s^2 R) IG(s^2; a, (a - 1) scale^2), R_ij = rho^|t_i - t_j|."""
    R = rho ** np.abs(years[:, None] - years[None, :]).astype(float)
    prior = stats.invgamma(SHAPE, scale=(SHAPE - 1) * scale**2)
    density = lambda v: stats.multivariate_normal(np.zeros(len(e)), v * R).pdf(e) * prior.pdf(v)  # noqa: E731
    value, _ = integrate.quad(density, 0, np.inf, limit=400)
    return float(np.log(value))


@pytest.mark.parametrize("rho", [-0.6, 0.0, 0.5, 0.9])
def test_the_ar1_likelihood_with_gaps_equals_the_integral_of_the_multivariate_normal(rho):
    years = np.array([2011, 2012, 2015, 2016, 2020])          # gaps of 1, 3, 1 and 4 years
    history = pd.DataFrame({"indicator": "gdp_real_growth_pct", "year": years, "value": [7.0, 6.0, 8.0, 5.0, 3.0]})
    model = error_model(history, errors())
    model = model.__class__(model.observations, model.series, model.shape, np.array([rho]))
    simulated = history["value"].to_numpy() + np.array([1.0, -0.5, 2.0, 0.3, -1.0])
    ours = model.series_loglik(model.series[0], model.misses(simulated[None, :]))[0, 0]
    assert ours == pytest.approx(brute_force(simulated - history["value"].to_numpy(), years, rho, 2.0), abs=1e-6)


def test_one_observation_misses_as_a_student_t():
    """An anchor (one point): the variance integrates out to a Student-t with 2a degrees of freedom."""
    history = pd.DataFrame({"indicator": ["gdp_100m_yuan"], "year": [2015], "value": [2600.0]})
    model = error_model(history, errors())
    miss = np.log(2700.0 / 2600.0)
    scale = np.sqrt((SHAPE - 1) * 0.05**2 / SHAPE)
    expected = stats.t(2 * SHAPE, scale=scale).logpdf(miss)
    assert model.loglik(np.array([[2700.0]]))[0] == pytest.approx(expected, abs=1e-9)


def test_a_failed_run_or_a_negative_level_has_zero_likelihood():
    history = pd.DataFrame({"indicator": ["gdp_100m_yuan"] * 2, "year": [2015, 2016], "value": [2600.0, 2800.0]})
    model = error_model(history, errors())
    assert model.loglik(np.array([[np.nan, 2800.0], [-1.0, 2800.0], [2600.0, 2800.0]]))[:2].tolist() == \
        [-np.inf, -np.inf]


# --- a small economy: logistic GDP -----------------------------------------------------------------------

def logistic_economy(X: np.ndarray) -> xr.Dataset:
    """A stand-in for the ensemble engine: logistic GDP per run of X = (capacity, rate, initial)."""
    capacity, rate, initial = (X[:, i, None] for i in range(3))
    level = capacity / (1 + (capacity / initial - 1) * np.exp(-rate * (YEARS - YEARS[0])))
    growth = np.full_like(level, np.nan)
    growth[:, 1:] = 100 * (level[:, 1:] / level[:, :-1] - 1)
    return xr.Dataset({"gdp_100m_yuan": (("run", "year"), level),
                       "gdp_real_growth_pct": (("run", "year"), growth)}, coords={"year": YEARS})


def small_priors(settings: dict | None = None) -> Priors:
    entries = {name: Prior.model_validate({"role": "fitted", "distribution": "uniform", "range": bounds,
                                           "judgement": "test"})
               for name, bounds in (("capacity", [3000, 20000]), ("rate", [0.05, 0.5]), ("initial", [1000, 2500]))}
    sampling = {"walkers": 24, "max_steps": 1500, "check_every": 100, "converged_taus": 50, "tau_tolerance": 0.1,
                "retained": 2000} | (settings or {})
    return Priors(entries, 1, {"popsize": 8, "maxiter": 40, "polish_iterations": 20}, sampling, errors(), {}, {},
                  priors.PRIORS)


def synthetic_problem(truth: np.ndarray, noise: float, seed: int) -> bayes.Problem:
    """GDP levels at known constants with independent 2 % errors; growth from the noisy levels."""
    rng = np.random.default_rng(seed)
    level = logistic_economy(truth[None, :])["gdp_100m_yuan"].to_numpy()[0]
    level = level * np.exp(noise * rng.standard_normal(len(YEARS)))
    history = pd.DataFrame({"indicator": "gdp_100m_yuan", "year": YEARS, "value": level})
    file = small_priors()
    return bayes.Problem(file.fitted, file, error_model(history, file.errors))


def test_the_posterior_covers_the_constants_that_made_the_data():
    """Synthetic record at known constants: the mode lies near them and each 90 % interval covers them."""
    truth = np.array([8000.0, 0.17, 1600.0])
    problem = synthetic_problem(truth, noise=0.02, seed=5)
    mode = bayes.find_mode(problem, logistic_economy, seed=1, search=problem.priors.search, progress=False)
    start = bayes.walker_start(mode, problem, 24, np.random.default_rng(1))
    chain = sampler.run(lambda X: problem.log_posterior(X, logistic_economy)[0], start, problem.priors.sampler,
                        seed=1, progress=False)
    draws = sampler.draws(chain, 2000, np.random.default_rng(1))
    low, high = np.quantile(draws, [0.05, 0.95], axis=0)
    assert ((low <= truth) & (truth <= high)).all(), (low, truth, high)
    np.testing.assert_allclose(mode.x[1:], truth[1:], rtol=0.15)
    table = sampler.diagnostics(chain, problem.names)
    assert chain.converged and (table["r_hat"] < 1.05).all(), table


def test_the_polish_reaches_the_constrained_mode_from_a_start_on_the_constraint():
    """Capacity held below the truth by a constraint: the mode under it lies on it, so the polish started there
    (on the constraint, the other constants off) must end on it at the best the free constants allow, which an
    unconstrained search over those two with capacity fixed gives."""
    truth = np.array([8000.0, 0.17, 1600.0])
    problem = synthetic_problem(truth, noise=0.02, seed=5)
    cap = 7000.0
    margins = lambda X: ((cap - X[:, 0]) / 17000)[:, None]  # noqa: E731
    lp = lambda X: problem.log_posterior(np.atleast_2d(X), logistic_economy)[0]  # noqa: E731
    start = np.array([cap, 0.3, 1200.0])
    x, message = bayes.polish(problem, logistic_economy, start, 3000, margins)
    profile = minimize(lambda z: -lp(np.r_[cap, z])[0], start[1:], method="Nelder-Mead",
                       options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
    assert margins(x[None])[0, 0] >= 0, message
    assert x[0] == pytest.approx(cap, rel=1e-3), message
    assert lp(x)[0] >= -profile.fun - 0.01 > lp(start)[0] + 1, message


def test_the_polish_keeps_its_start_where_nothing_else_passes():
    """A constraint only the start meets (it is far from the mode): the polish returns the start, and says so."""
    problem = synthetic_problem(np.array([8000.0, 0.17, 1600.0]), noise=0.02, seed=5)
    start = np.array([7000.0, 0.3, 1200.0])
    x, message = bayes.polish(problem, logistic_economy, start, 300,
                              lambda X: -np.abs(X - start).max(axis=1, keepdims=True))
    assert np.array_equal(x, start) and "ended no higher" in message


def test_the_sampler_recovers_a_correlated_gaussian():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(4, 4))
    covariance = A @ A.T + np.eye(4)
    precision = np.linalg.inv(covariance)
    settings = {"walkers": 32, "max_steps": 4000, "check_every": 200, "converged_taus": 50, "tau_tolerance": 0.05,
                "retained": 4000}
    chain = sampler.run(lambda X: -0.5 * np.einsum("ij,jk,ik->i", X, precision, X), 0.01 * rng.normal(size=(32, 4)),
                        settings, seed=3, progress=False)
    draws = sampler.draws(chain, 4000, np.random.default_rng(0))
    assert chain.converged
    np.testing.assert_allclose(np.cov(draws.T), covariance, atol=0.15 * np.abs(covariance).max())


def gaussian(X):
    return -0.5 * np.sum(X**2, axis=1)


def test_an_interrupted_run_resumes_to_the_same_chain(tmp_path):
    """Ctrl-C mid-step leaves a checkpoint of the last whole step; --resume ends where an uninterrupted run
    does, to the bit."""
    settings = {"walkers": 8, "max_steps": 60, "check_every": 20, "converged_taus": 1000, "tau_tolerance": 0.0,
                "retained": 100}
    start = 0.01 * np.random.default_rng(4).normal(size=(8, 3))
    whole = sampler.run(gaussian, start, settings, seed=9, checkpoint=tmp_path / "a", progress=False)
    calls = [0]

    def interrupted(X):
        calls[0] += 1
        if calls[0] == 70:    # mid-step: emcee calls once per split (two or four a step)
            raise KeyboardInterrupt
        return gaussian(X)

    with pytest.raises(KeyboardInterrupt):
        sampler.run(interrupted, start, settings, seed=9, checkpoint=tmp_path / "b", progress=False)
    state = json.loads((tmp_path / "b" / sampler.STATE).read_text(encoding="utf-8"))
    assert 0 < state["steps"] < 60
    with np.load(tmp_path / "b" / sampler.CHAIN, allow_pickle=False) as arrays:   # arrays only: no pickle
        assert arrays["positions"].shape == (state["steps"], 8, 3)
    resumed = sampler.run(gaussian, start, settings, seed=9, checkpoint=tmp_path / "b", progress=False)
    np.testing.assert_array_equal(resumed.positions, whole.positions)
    np.testing.assert_array_equal(resumed.accepted, whole.accepted)


def test_a_checkpoint_of_another_problem_is_not_resumed(tmp_path):
    settings = {"walkers": 8, "max_steps": 20, "check_every": 10, "converged_taus": 1000, "tau_tolerance": 0.0,
                "retained": 100}
    start = 0.01 * np.random.default_rng(4).normal(size=(8, 3))
    sampler.run(gaussian, start, settings, seed=9, checkpoint=tmp_path, fingerprint={"data": "a"}, progress=False)
    other = sampler.run(gaussian, start, settings, seed=9, checkpoint=tmp_path, fingerprint={"data": "b"},
                        progress=False)
    fresh = sampler.run(gaussian, start, settings, seed=9, progress=False)
    np.testing.assert_array_equal(other.positions, fresh.positions)     # started afresh, not from the other


# --- the predictive band ----------------------------------------------------------------------------------

def test_the_predictive_band_of_a_true_model_covers_ninety_percent():
    """Records made by a perfect model plus AR(1) misses (rho 0.7, sd 3 %): the band carried on from the last
    fitted year covers about 90 % of the three later years (Monte Carlo error of 8 series x 40 records)."""
    rng = np.random.default_rng(7)
    years = np.arange(2011, 2024)
    covered = []
    for _ in range(40):
        misses = np.zeros(len(years))
        misses[0] = 0.03 * rng.standard_normal()
        for j in range(1, len(years)):
            misses[j] = 0.7 * misses[j - 1] + 0.03 * np.sqrt(1 - 0.49) * rng.standard_normal()
        truth = 1000 * 1.05 ** (years - 2011)
        history = pd.DataFrame({"indicator": "gdp_100m_yuan", "year": years, "value": truth * np.exp(misses)})
        fitted = error_model(history[history["year"] <= 2020], errors(scale_level=0.03))
        held = error_model(history[history["year"] > 2020], errors(scale_level=0.03))
        states = 400
        sim_in = np.tile(truth[years <= 2020], (states, 1))
        draws = coverage.predictive_misses(fitted, sim_in, held, rng)
        table = coverage.bands(held, np.tile(truth[years > 2020], (states, 1)), draws)
        covered += table["predictive_covers"].tolist()
    assert 0.84 <= np.mean(covered) <= 0.96, np.mean(covered)


def test_coverage_by_series_and_sharpness_read_the_bands():
    observations = pd.DataFrame({
        "indicator": ["gdp_100m_yuan"] * 2 + ["rd_expenditure_100m_yuan"], "year": [2022, 2023, 2023],
        "observed": [100.0, 110.0, 5.0], "model_inside": [True, False, False], "inside": [True, True, False],
        "q05": [90.0, 95.0, 4.0], "q50": [100.0, 105.0, 5.5], "q95": [110.0, 125.0, 6.0]})
    table = coverage.by_series(observations).set_index("indicator")
    assert table.loc["all series", "predictive"] == pytest.approx(2 / 3)
    assert table.loc["gdp_100m_yuan", "model"] == pytest.approx(0.5)
    low, high = coverage.sharpness(observations, year=2023)
    assert low == pytest.approx(100 * (95 / 105 - 1)) and high == pytest.approx(100 * (125 / 105 - 1))
    assert "66.7% of 3 observations" in coverage.summary(observations)


def test_parameter_table_flags_what_the_record_cannot_see():
    """A constant whose posterior is its prior is flagged; one the data pin down is identified."""
    from nxmfg.calibration import summaries

    file = small_priors()
    problem = SimpleNamespace(names=file.fitted, priors=file, bounds=file.bounds(file.fitted))
    rng = np.random.default_rng(0)
    draws = np.column_stack([rng.uniform(3000, 20000, 4000), rng.normal(0.2, 0.01, 4000),
                             rng.normal(1600, 30, 4000)])
    diagnostics = pd.DataFrame({"parameter": file.fitted, "tau": 1.0, "r_hat": 1.0, "ess_bulk": 1e3, "ess_tail": 1e3})
    constants = pd.DataFrame({"value": [8000.0, 0.2, 1600.0]}, index=file.fitted)
    table = summaries.parameter_table(problem, draws[0], draws, diagnostics, constants).set_index("parameter")
    assert table.loc["capacity", "identification"].startswith("not identified")
    assert table.loc["rate", "identification"] == "identified"


def test_the_screen_finds_the_assumed_constant_the_record_sees():
    """An assumed constant that scales GDP is seen by the record; one the economy ignores is not."""
    from nxmfg.calibration import summaries

    file = small_priors()
    entries = dict(file.entries) | {
        "scale": Prior.model_validate({"role": "assumed", "distribution": "triangular", "mode": 1.0,
                                       "range": [0.7, 1.3], "judgement": "test"}),
        "ignored": Prior.model_validate({"role": "assumed", "distribution": "uniform", "range": [0, 1],
                                         "judgement": "test"})}
    file = Priors(entries, 1, file.search, file.sampler, file.errors, {}, {}, file.path)
    truth = np.array([8000.0, 0.17, 1600.0])
    problem = synthetic_problem(truth, noise=0.02, seed=5)
    problem = bayes.Problem(file.fitted, file, problem.errors)

    def evaluate(X, per_run):
        runs = logistic_economy(X)
        return runs.assign(gdp_100m_yuan=runs["gdp_100m_yuan"] * xr.DataArray(per_run["scale"], dims="run"))

    constants = pd.DataFrame({"value": [8000.0, 0.17, 1600.0, 1.0, 0.5]}, index=[*file.fitted, "scale", "ignored"])
    table = summaries.assumed_screen(problem, truth, evaluate, constants).set_index("constant")
    assert table.loc["scale", "seen_by_record"] and not table.loc["ignored", "seen_by_record"]
    assert table.loc["ignored", ["drop_at_q05", "drop_at_q95"]].abs().max() < 1e-9
