"""The posterior of the fitted constants, and its mode.

Everything here works on an `evaluate(X) -> xr.Dataset` callable that runs one model per row of X
(shape (runs, parameters)) and returns indicators with dims ("run", "year"): `runner.ensemble_evaluator`
binds it to the ensemble engine, tests bind it to small fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.optimize import Bounds, NonlinearConstraint, differential_evolution, minimize
from scipy.special import expit, log_expit
from tqdm import tqdm  # not tqdm.auto: in a notebook without ipywidgets it warns on import

from nxmfg.calibration.likelihood import ErrorModel
from nxmfg.calibration.priors import Priors

Evaluate = Callable[[np.ndarray], xr.Dataset]
WORST = 1e10     # what the mode search minimises where the posterior is 0 (a run that fails, a value outside)


@dataclass(frozen=True)
class Problem:
    """The fitted constants (their priors) and the record's likelihood."""
    names: list[str]
    priors: Priors
    errors: ErrorModel

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.priors.bounds(self.names)

    def simulated(self, runs: xr.Dataset) -> np.ndarray:
        """Model values at every observation of the likelihood: shape (runs, observations)."""
        return self.errors.simulated(runs)

    def log_posterior(self, X: np.ndarray, evaluate: Evaluate) -> tuple[np.ndarray, np.ndarray]:
        """(log posterior, log likelihood) of each row of X, up to a constant; the model runs only the rows
        inside the priors' ranges (one `evaluate` call), the others are -inf."""
        X = np.atleast_2d(X)
        prior = self.priors.logpdf(self.names, X)
        loglik = np.full(len(X), -np.inf)
        inside = np.isfinite(prior)
        if inside.any():
            loglik[inside] = self.errors.loglik(self.simulated(evaluate(X[inside])))
        return prior + loglik, loglik


@dataclass(frozen=True)
class Unbounded:
    """The sampler's space: each fitted constant's logit within its prior's range, z = log(u / (1 - u)) with
    u = (x - low) / (high - low). A walker never proposes outside a range there (a proposal past a bound
    would be rejected, which stalls the walkers near one), and the log density gains the transform's
    Jacobian, so that the draws mapped back follow the posterior of x."""
    low: np.ndarray
    high: np.ndarray

    def to_z(self, X: np.ndarray) -> np.ndarray:
        u = np.clip((np.asarray(X, float) - self.low) / (self.high - self.low), 1e-12, 1 - 1e-12)
        return np.log(u) - np.log1p(-u)

    def to_x(self, Z: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * expit(np.asarray(Z, float))

    def log_jacobian(self, Z: np.ndarray) -> np.ndarray:
        """log |dx/dz| summed over the constants, per row of Z."""
        Z = np.atleast_2d(np.asarray(Z, float))
        return np.sum(np.log(self.high - self.low) + log_expit(Z) + log_expit(-Z), axis=-1)

    def log_density(self, log_posterior: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
        """The log density of z given that of x."""
        return lambda Z: log_posterior(self.to_x(Z)) + self.log_jacobian(Z)


@dataclass(frozen=True)
class Mode:
    """The posterior mode found by the search, with what it cost."""
    x: np.ndarray
    log_posterior: float
    evaluations: int
    message: str


def find_mode(problem: Problem, evaluate: Evaluate, seed: int, search: dict, progress: bool = True) -> Mode:
    """Seeded differential evolution (one ensemble call per generation), then L-BFGS-B on the best point with
    forward-difference gradients (one ensemble call per step: the point and a step along each constant).

    search: popsize, maxiter (of the evolution), polish_iterations.
    """
    low, high = problem.bounds
    count = [0]

    def cost(X: np.ndarray) -> np.ndarray:
        count[0] += len(X)
        lp, _ = problem.log_posterior(X, evaluate)
        return np.where(np.isfinite(lp), -lp, WORST)

    with tqdm(total=search["maxiter"], desc="posterior mode: evolution", unit="gen", disable=not progress) as bar:
        def step(intermediate_result):     # this parameter name selects scipy's OptimizeResult callback
            bar.update(1)
            bar.set_postfix(log_posterior=f"{-intermediate_result.fun:.6g}")
        found = differential_evolution(lambda xt: cost(np.atleast_2d(xt.T)), list(zip(low, high, strict=True)),
                                       seed=seed, popsize=search["popsize"], maxiter=search["maxiter"],
                                       vectorized=True, updating="deferred", polish=False, tol=1e-8, callback=step)
    span = high - low

    def value_and_gradient(x: np.ndarray) -> tuple[float, np.ndarray]:
        step = 1e-6 * span
        step = np.where(x + step > high, -step, step)
        values = cost(np.vstack([x, x + np.diag(step)]))
        gradient = (values[1:] - values[0]) / step
        return float(values[0]), np.where(np.isfinite(gradient) & (np.abs(gradient) < WORST / 10), gradient, 0.0)

    polish = minimize(value_and_gradient, found.x, jac=True, method="L-BFGS-B",
                      bounds=list(zip(low, high, strict=True)), options={"maxiter": search["polish_iterations"]})
    best = polish if polish.fun <= found.fun else found
    return Mode(np.asarray(best.x, float), -float(best.fun), count[0],
                f"differential evolution: {found.message}; L-BFGS-B: {polish.message}")


def polish(problem: Problem, evaluate: Evaluate, start: np.ndarray, evaluations: int,
           margins: Callable[[np.ndarray], np.ndarray] | None = None, progress: bool = False
           ) -> tuple[np.ndarray, str]:
    """The posterior mode near `start`, within the priors' ranges and, given `margins` (X -> one column per
    constraint, >= 0 where it holds), inside those constraints: COBYQA, a derivative-free trust-region SQP
    (Ragonneau and Zhang 2024), first steps 5 % of each range, at most `evaluations` evaluations of the
    posterior (the checks' calls at points of their own add 10-25 % more runs). It models the
    constraints from the runs, so it moves along a constraint or a bound the start sits on, where SLSQP's
    forward differences (Dec 2026) ended no higher. (x, how it ended): the highest point it ran that passes,
    or `start` where none is higher.

    It works on u = (x - low) / (high - low) itself: SciPy 1.17's own scaling (option `scale`) evaluates the
    constraints' violation at the scaled point."""
    low, high = problem.bounds
    span = high - low
    memo: dict[bytes, tuple[float, np.ndarray]] = {}
    best = [np.inf, np.asarray(start, float)]

    def at(u: np.ndarray) -> tuple[float, np.ndarray]:
        key = u.tobytes()
        if key not in memo:
            X = (low + span * u)[None, :]
            lp, _ = problem.log_posterior(X, evaluate)
            held = margins(X)[0] if margins is not None else np.zeros(0)
            memo[key] = (float(-lp[0]) if np.isfinite(lp[0]) else WORST, held)
            if np.all(held >= 0) and memo[key][0] < best[0]:
                best[:] = [memo[key][0], X[0]]
                bar.set_postfix(log_posterior=f"{-best[0]:.6g}")
            bar.update(1)
        return memo[key]

    u0 = (np.asarray(start, float) - low) / span
    with tqdm(total=evaluations, desc="posterior mode: polish", unit="run", disable=not progress) as bar:
        first = at(u0)
        constraints = [NonlinearConstraint(lambda u: at(u)[1], 0, np.inf)] if margins is not None else []
        found = minimize(lambda u: at(u)[0], u0, method="COBYQA", bounds=Bounds(np.zeros_like(u0), np.ones_like(u0)),
                         constraints=constraints, options={"maxfev": evaluations, "initial_tr_radius": 0.05})
    ended = f"COBYQA, {len(memo)} runs: {found.message}"
    if not best[0] < first[0]:
        return np.asarray(start, float), f"{ended}; ended no higher"
    return best[1], f"{ended}; log posterior {-first[0]:.6g} -> {-best[0]:.6g}"


def walker_start(mode: Mode, problem: Problem, walkers: int, rng: np.random.Generator) -> np.ndarray:
    """Walkers in a small ball around the mode (1 % of each range), inside the ranges: they spread out to
    the posterior's width within the burn-in, which the autocorrelation time measures. None within 0.1 % of a
    range's end, where the sampler's logit (`Unbounded`) would start it far out."""
    low, high = problem.bounds
    ball = mode.x + 0.01 * (high - low) * rng.standard_normal((walkers, len(mode.x)))
    return np.clip(ball, low + 1e-3 * (high - low), high - 1e-3 * (high - low))
