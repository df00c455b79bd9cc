"""Fit the free constants to the record: scaled residuals, differential evolution, least-squares polish.

Everything here works on an `evaluate(X) -> xr.Dataset` callable that runs one model per row of
X (shape (runs, parameters)) and returns indicators with dims ("run", "year"); `engine.py` binds it
to the ensemble engine, tests bind it to small fakes.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from scipy.optimize import differential_evolution, least_squares
from tqdm import tqdm  # not tqdm.auto: in a notebook without ipywidgets it warns on import

from nxmfg.calibration.history import RATE_SUFFIXES

Evaluate = Callable[[np.ndarray], xr.Dataset]
BLOW_UP = 1e3     # scaled residual given to a NaN/inf model value, so the search steers away from it


@dataclass
class Problem:
    """The free parameters (bounds, optional Gaussian priors) and the scaled, weighted targets."""
    names: list[str]
    low: np.ndarray
    high: np.ndarray
    targets: pd.DataFrame      # indicator, year, value, scale, weight
    prior_mean: np.ndarray = field(default_factory=lambda: np.empty(0))
    prior_sd: np.ndarray = field(default_factory=lambda: np.empty(0))   # NaN where no prior
    robust: bool = False       # soft-L1 loss on the data residuals (priors stay quadratic)

    @property
    def indicators(self) -> list[str]:
        return sorted(self.targets["indicator"].unique())


def target_table(history: pd.DataFrame, level_tolerance: float, rate_tolerance_pp: float,
                 weights: dict[str, float], tolerances: dict[str, float] | None = None) -> pd.DataFrame:
    """Observations with the scale and weight of their residual.

    A residual is the miss in units of a tolerance: for levels `level_tolerance` times the mean
    |observation| of the indicator (a relative miss; the mean, not the std, which is NaN for a single
    observation), for rates [%/yr, pp] `rate_tolerance_pp`, since their mean can be near zero. Each
    indicator weighs 1/sqrt(its number of observations) times its stated weight, so that every series
    counts alike however many years it has: twelve years of patents do not drown one year of a share.
    `tolerances` overrides the tolerance of an indicator (relative for a level, pp for a rate) where its
    year-to-year noise is larger (one year's investment growth).
    """
    targets = history[["indicator", "year", "value"]].copy()
    mean_abs = targets.groupby("indicator")["value"].transform(lambda v: v.abs().mean())
    count = targets.groupby("indicator")["value"].transform("size")
    is_rate = targets["indicator"].str.endswith(RATE_SUFFIXES)
    own = targets["indicator"].map(tolerances or {})
    tolerance = own.fillna(pd.Series(np.where(is_rate, rate_tolerance_pp, level_tolerance), index=targets.index))
    targets["scale"] = np.where(is_rate, tolerance, tolerance * mean_abs.replace(0, 1.0))
    targets["weight"] = targets["indicator"].map(weights).fillna(1.0) / np.sqrt(count)
    return targets.reset_index(drop=True)


def residuals(problem: Problem, X: np.ndarray, runs: xr.Dataset) -> np.ndarray:
    """Scaled, weighted model-minus-data residuals, one row per run of X; prior terms appended."""
    t = problem.targets
    simulated = simulated_at_targets(problem, runs)
    R = (simulated - t["value"].to_numpy()) / t["scale"].to_numpy()
    R = np.where(np.isfinite(R), R, BLOW_UP)
    if problem.robust:   # soft-L1: 0.5 R'^2 = sqrt(1 + R^2) - 1, quadratic near 0, linear for outliers
        R = np.sign(R) * np.sqrt(2.0 * (np.sqrt(1.0 + R**2) - 1.0))
    R = R * t["weight"].to_numpy()
    if problem.prior_sd.size:
        has_prior = np.isfinite(problem.prior_sd)
        prior = (X[:, has_prior] - problem.prior_mean[has_prior]) / problem.prior_sd[has_prior]
        R = np.hstack([R, prior])
    return R


def simulated_at_targets(problem: Problem, runs: xr.Dataset) -> np.ndarray:
    """Model values at every (indicator, year) target: shape (runs, targets)."""
    t = problem.targets
    columns = [runs[name].sel(year=t.loc[t["indicator"] == name, "year"].to_numpy()).transpose("run", "year")
               .to_numpy() for name in problem.indicators]
    order = np.concatenate([np.flatnonzero(t["indicator"].to_numpy() == n) for n in problem.indicators])
    simulated = np.empty((runs.sizes["run"], len(t)))
    simulated[:, order] = np.hstack(columns)
    return simulated


@dataclass
class Fit:
    """The estimate and every (parameters, cost) the search evaluated, for profiles and bands."""
    x: np.ndarray
    cost: float                 # 0.5 * sum of squared scaled residuals at x
    residuals: np.ndarray
    evaluated_x: np.ndarray     # (evaluations, parameters)
    evaluated_cost: np.ndarray
    message: str
    jacobian: np.ndarray        # of the residuals at x (residuals x parameters)


class Recorder:
    """Cost of a population via one `evaluate` call; remembers every point for the profiles."""

    def __init__(self, problem: Problem, evaluate: Evaluate):
        self.problem, self.evaluate = problem, evaluate
        self.xs: list[np.ndarray] = []
        self.costs: list[np.ndarray] = []
        self._jacobians: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}

    def residuals(self, X: np.ndarray) -> np.ndarray:
        R = residuals(self.problem, X, self.evaluate(X))
        self.xs.append(X.copy())
        self.costs.append(0.5 * np.sum(R**2, axis=1))
        return R

    def population_cost(self, x_columns: np.ndarray) -> np.ndarray:
        """scipy's vectorized DE passes x with shape (parameters, population)."""
        X = np.atleast_2d(x_columns.T) if x_columns.ndim > 1 else x_columns[None, :]
        return 0.5 * np.sum(self.residuals(X) ** 2, axis=1)

    def residuals_and_jacobian(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residuals at x and their forward-difference Jacobian from one ensemble call (the call's fixed
        cost dwarfs the extra runs, so the polish asks for both at every point it tries)."""
        key = x.tobytes()
        if key not in self._jacobians:
            span = self.problem.high - self.problem.low
            step = np.maximum(1e-6 * np.abs(x), 1e-7 * span)
            step = np.where(x + step > self.problem.high, -step, step)        # stay inside the bounds
            R = self.residuals(np.vstack([x, x + np.diag(step)]))
            self._jacobians = {key: (R[0], ((R[1:] - R[0]) / step[:, None]).T)}
        return self._jacobians[key]


def calibrate(problem: Problem, evaluate: Evaluate, seed: int, search: dict | None = None,
              progress: bool = True) -> Fit:
    """Global search (seeded differential evolution, one ensemble call per generation), then least squares.

    search: popsize, maxiter (of the evolution), polish_evaluations (least-squares budget; reaching it is
    reported in `Fit.message`, not an error, since the evolution's point is already a valid estimate).
    """
    search = {"popsize": 8, "maxiter": 30, "polish_evaluations": 60} | (search or {})
    popsize, maxiter = search["popsize"], search["maxiter"]
    recorder = Recorder(problem, evaluate)
    bounds = list(zip(problem.low, problem.high, strict=True))
    with tqdm(total=maxiter, desc="differential evolution", unit="gen", disable=not progress) as bar:
        def step(intermediate_result):     # this parameter name selects scipy's OptimizeResult callback
            bar.update(1)
            bar.set_postfix(cost=f"{intermediate_result.fun:.4g}")
        found = differential_evolution(recorder.population_cost, bounds, seed=seed, popsize=popsize,
                                        maxiter=maxiter, vectorized=True, updating="deferred", polish=False,
                                        tol=1e-8, callback=step)
    with tqdm(total=search["polish_evaluations"], desc="least squares", unit="eval",
              disable=not progress) as bar:
        def polish_residuals(x):
            bar.update(1)
            return recorder.residuals_and_jacobian(x)[0]
        polish = least_squares(polish_residuals, found.x, jac=lambda x: recorder.residuals_and_jacobian(x)[1],
                               bounds=(problem.low, problem.high), x_scale="jac", xtol=1e-10, ftol=1e-10,
                               gtol=1e-10, max_nfev=search["polish_evaluations"])
    if polish.status < 0:
        raise RuntimeError(f"calibration did not converge: {polish.message}")
    return Fit(x=polish.x, cost=float(polish.cost), residuals=polish.fun,
               evaluated_x=np.vstack(recorder.xs), evaluated_cost=np.concatenate(recorder.costs),
               message=f"differential evolution: {found.message}; least squares: {polish.message}",
               jacobian=polish.jac)
