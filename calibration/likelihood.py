"""The likelihood of the record: each series' misses follow an AR(1) process of unknown scale.

A series is one indicator's observations at its years t_1 < ... < t_n (gaps allowed). Its miss e_j is
log(model / data) for a level or share (a relative miss) and model - data for a rate [pp]. Given the
series' error variance s^2 and autocorrelation rho, the misses are a stationary AR(1) observed at those years:

    e_1 ~ N(0, s^2),   e_j | e_{j-1} ~ N(rho^D e_{j-1}, s^2 (1 - rho^(2 D))),   D = t_j - t_{j-1},

so a gap of D years weakens the link as rho^D. The variance has a conjugate inverse-gamma prior
IG(shape, (shape - 1) scale^2) (prior mean scale^2; `scale` per series in priors.yaml, with its reason),
which integrates out in closed form (Gelman et al. 2013, BDA3, sec. 3.3):

    log p(e | rho) = -n/2 log(2 pi) - 1/2 log|R| + a log b - log G(a) + log G(a + n/2) - (a + n/2) log(b + Q/2),

with Q = e' R^-1 e and log|R| = sum log(1 - rho^(2 D)) from the recursion above. rho has a uniform prior on
its range and is integrated out on a midpoint grid. Each series thus costs no sampler dimension, its misses
are heavy-tailed (Student-t with 2a degrees of freedom for one point), and a single observation (an anchor)
weighs as one point of a series of unknown scale, not as a series of its own.
Series are independent of each other: a level and its growth rate are treated as two records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import gammaln, logsumexp

from nxmfg.calibration.history import RATE_SUFFIXES


@dataclass(frozen=True)
class Series:
    """One indicator's observations, in the order of the likelihood's columns."""
    indicator: str
    columns: np.ndarray    # positions in the flat observation vector
    years: np.ndarray
    relative: bool         # miss = log(model/data); else model - data
    scale: float           # prior mean of the error sd (relative, or pp)


@dataclass(frozen=True)
class ErrorModel:
    """Every series of a record, with the priors of their error scales and autocorrelations."""
    observations: pd.DataFrame     # indicator, year, value: one row per likelihood column
    series: tuple[Series, ...]
    shape: float                   # inverse-gamma shape a of each variance
    rho: np.ndarray                # grid of the AR(1) coefficient (midpoints of equal cells)

    def simulated(self, runs) -> np.ndarray:
        """Model values at every observation (runs: indicators with dims run, year): shape (runs, observations)."""
        simulated = np.full((runs.sizes["run"], len(self.observations)), np.nan)
        for series in self.series:
            simulated[:, series.columns] = runs[series.indicator].sel(year=series.years).transpose(
                "run", "year").to_numpy()
        return simulated

    def misses(self, simulated: np.ndarray) -> np.ndarray:
        """Model-minus-data misses, relative (log ratio) or in pp: shape (runs, observations); NaN where the
        model's value is not finite (or not positive, for a level)."""
        simulated = np.atleast_2d(np.asarray(simulated, float))
        observed = self.observations["value"].to_numpy(float)
        relative = self.relative_columns()
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(simulated > 0, np.log(np.where(simulated > 0, simulated, 1.0) / observed), np.nan)
        miss = np.where(relative, ratio, simulated - observed)
        return np.where(np.isfinite(miss), miss, np.nan)

    def loglik(self, simulated: np.ndarray) -> np.ndarray:
        """Log likelihood of the record for each run (row of `simulated`); -inf where a value is missing."""
        E = self.misses(simulated)
        total = np.zeros(len(E))
        for series in self.series:
            total += logsumexp(self.series_loglik(series, E[:, series.columns]), axis=1) - np.log(len(self.rho))
        return np.where(np.isnan(E).any(axis=1), -np.inf, total)

    def series_loglik(self, series: Series, E: np.ndarray) -> np.ndarray:
        """log p(e | rho) of one series: shape (runs, rho grid)."""
        Q, logdet = self.quadratic(series, E)
        n = len(series.columns)
        a, b = self.shape, (self.shape - 1) * series.scale**2
        return (-0.5 * n * np.log(2 * np.pi) - 0.5 * logdet + a * np.log(b) - gammaln(a) + gammaln(a + n / 2)
                - (a + n / 2) * np.log(b + Q / 2))

    def quadratic(self, series: Series, E: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Q = e' R^-1 e (runs, rho grid) and log|R| (rho grid) by the AR(1) recursion over the gaps."""
        lag = np.diff(series.years).astype(float)                        # (n - 1,)
        link = self.rho[:, None] ** lag                                  # (rho, n - 1)
        keep = 1.0 - link**2
        innovations = E[:, None, 1:] - link[None] * E[:, None, :-1]      # (runs, rho, n - 1)
        Q = E[:, None, 0] ** 2 + np.sum(innovations**2 / keep[None], axis=2)
        return Q, np.sum(np.log(keep), axis=1)

    def noise_posterior(self, series: Series, E: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per run: the posterior weights of the rho grid (runs, rho), and the inverse-gamma shape and scales
        (runs, rho) of the variance given each rho. E: the series' misses, shape (runs, n)."""
        weights = self.series_loglik(series, E)
        weights = np.exp(weights - logsumexp(weights, axis=1, keepdims=True))
        Q, _ = self.quadratic(series, E)
        n = len(series.columns)
        return weights, np.full(Q.shape, self.shape + n / 2), (self.shape - 1) * series.scale**2 + Q / 2

    def summary(self, simulated: np.ndarray) -> pd.DataFrame:
        """Per series: observations, years, kind, prior scale, posterior median error sd and rho over runs."""
        E = self.misses(simulated)
        rows = []
        for series in self.series:
            weights, shape, scale = self.noise_posterior(series, E[:, series.columns])
            sd = np.sqrt(np.sum(weights * scale / (shape - 1), axis=1))          # E[s^2] given the misses
            rows.append({"indicator": series.indicator, "n": len(series.columns),
                         "years": f"{series.years.min()}-{series.years.max()}", "miss": "relative" if series.relative
                         else "pp", "prior_scale": series.scale, "posterior_sd": float(np.median(sd)),
                         "posterior_rho": float(np.median(weights @ self.rho)), "anchor": len(series.columns) == 1})
        return pd.DataFrame(rows)

    def relative_columns(self) -> np.ndarray:
        """Per observation: True where the miss is relative (a level or share)."""
        relative = np.zeros(len(self.observations), bool)
        for series in self.series:
            relative[series.columns] = series.relative
        return relative


def is_rate(indicator: str) -> bool:
    """Rates [%/yr, pp] may be negative and miss in pp; levels and shares miss relatively."""
    return indicator.endswith(RATE_SUFFIXES)


def error_model(history: pd.DataFrame, errors) -> ErrorModel:
    """The error model of `history` (indicator, year, value) under priors.yaml's `errors` section."""
    observations = history[["indicator", "year", "value"]].sort_values(["indicator", "year"], ignore_index=True)
    series = []
    for name, rows in observations.groupby("indicator", sort=True):
        relative = not is_rate(name)
        if relative and (rows["value"] <= 0).any():
            raise ValueError(f"{name}: a level or share must be positive to miss relatively; got "
                             f"{rows['value'].min():g}")
        own = errors.series.get(name)
        scale = own.scale if own else (errors.level.scale if relative else errors.rate.scale)
        series.append(Series(name, rows.index.to_numpy(), rows["year"].to_numpy(int), relative, scale))
    low, high = errors.rho
    cells = np.linspace(low, high, errors.rho_points + 1)
    return ErrorModel(observations, tuple(series), errors.variance_shape, 0.5 * (cells[1:] + cells[:-1]))
