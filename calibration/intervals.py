"""95 % intervals from a sampled profile likelihood, identification flags, and the runs for the band."""

import numpy as np
import pandas as pd
from scipy.stats import chi2

from nxmfg.calibration.fit import Evaluate, Fit, Problem, residuals

FLAT_SHARE = 0.9       # an interval spanning >= 90 % of the bounds: the data do not identify the parameter
BOUND_SHARE = 0.01     # within 1 % of the range of a bound counts as hitting it


def profile_paths(problem: Problem, fit: Fit, n_grid: int, n_scatter: int, seed: int) -> np.ndarray:
    """Points along each parameter's linearised profile path, with scatter around it.

    With the Gauss-Newton covariance C = (J'J)^-1 at the estimate, the others' best values given
    parameter i = v lie near x + C[:, i] / C[i, i] (v - x_i): the profile path of the local quadratic
    approximation. The scatter lets the sampled minimum follow the path where the model is not quadratic.
    """
    rng = np.random.default_rng(seed)
    span = problem.high - problem.low
    covariance = np.linalg.pinv(fit.jacobian.T @ fit.jacobian)
    points = []
    for i in range(len(fit.x)):
        grid = np.linspace(problem.low[i], problem.high[i], n_grid)
        direction = covariance[:, i] / covariance[i, i] if covariance[i, i] > 0 else np.eye(len(fit.x))[i]
        path = fit.x + (grid - fit.x[i])[:, None] * direction
        path[:, i] = grid
        scatter = np.repeat(path, n_scatter, axis=0) + rng.normal(scale=0.02 * span,
                                                                  size=(n_grid * n_scatter, len(fit.x)))
        scatter[:, i] = np.repeat(grid, n_scatter)
        points += [path, scatter]
    return np.clip(np.vstack(points), problem.low, problem.high)


def likelihood_ratio(cost: np.ndarray, best_cost: float, n_residuals: int) -> np.ndarray:
    """-2 log LR for Gaussian residuals of unknown variance: m log(SSR / SSR_min)."""
    floor = max(best_cost, 1e-300)
    return n_residuals * np.log(np.maximum(cost, floor) / floor)


def profile_intervals(problem: Problem, fit: Fit, level: float = 0.95) -> pd.DataFrame:
    """Estimate, interval and identification flag per parameter.

    The profile likelihood of parameter i at value v is the best cost over the others with i = v. Every
    evaluated point (the search, the polish and `profile_paths`) bounds it from above, so the points
    within the chi2(1) likelihood-ratio threshold span an inner approximation of the interval.
    """
    ratio = likelihood_ratio(fit.evaluated_cost, fit.cost, len(fit.residuals))
    inside = fit.evaluated_x[ratio <= chi2.ppf(level, 1)]
    inside = np.vstack([inside, fit.x])
    low, high = inside.min(axis=0), inside.max(axis=0)
    span = problem.high - problem.low
    rows = []
    for i, name in enumerate(problem.names):
        at_low = low[i] - problem.low[i] <= BOUND_SHARE * span[i]
        at_high = problem.high[i] - high[i] <= BOUND_SHARE * span[i]
        if (high[i] - low[i]) >= FLAT_SHARE * span[i]:
            flag = "not identified: flat profile"
        elif at_low or at_high:
            flag = "weak: interval reaches the " + ("lower" if at_low else "upper") + " bound"
        else:
            flag = "identified"
        rows.append({"parameter": name, "estimate": fit.x[i], "ci_low": low[i], "ci_high": high[i],
                     "low": problem.low[i], "high": problem.high[i], "identification": flag})
    return pd.DataFrame(rows)


def explore(problem: Problem, fit: Fit, evaluate: Evaluate, seed: int, n_grid: int = 41,
            n_scatter: int = 24) -> Fit:
    """Evaluate `profile_paths` in one ensemble call and add them to the fit's evaluated points."""
    X = profile_paths(problem, fit, n_grid, n_scatter, seed)
    R = residuals(problem, X, evaluate(X))
    cost = 0.5 * np.sum(R**2, axis=1)
    return Fit(fit.x, fit.cost, fit.residuals, np.vstack([fit.evaluated_x, X]),
               np.concatenate([fit.evaluated_cost, cost]), fit.message, fit.jacobian)


def band_members(problem: Problem, fit: Fit, seed: int, size: int = 60, level: float = 0.95) -> np.ndarray:
    """Up to `size` evaluated parameter sets inside the joint chi2(d) region; the estimate first."""
    ratio = likelihood_ratio(fit.evaluated_cost, fit.cost, len(fit.residuals))
    inside = fit.evaluated_x[ratio <= chi2.ppf(level, len(problem.names))]
    rng = np.random.default_rng(seed)
    if len(inside) > size - 1:
        inside = inside[rng.choice(len(inside), size - 1, replace=False)]
    return np.vstack([fit.x, inside])
