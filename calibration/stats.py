"""Goodness-of-fit statistics of a simulated series against observations."""

import numpy as np
import pandas as pd

FIT_COLUMNS = ["indicator", "n", "rmse", "mape_pct", "r2", "theil_u", "u_m", "u_s", "u_c"]


def theil(simulated: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """Theil's inequality statistic U and the decomposition of the MSE (Sterman 1984).

    MSE = (mean S - mean A)^2 + (s_S - s_A)^2 + 2 (s_S s_A - cov(S, A)), with population moments, so
    U^M (bias) + U^S (unequal variation) + U^C (unequal covariation) = 1. U^C is written with the
    covariance rather than 2 (1 - r) s_S s_A so that it stays defined when a series is constant.
    All NaN when the fit is exact (MSE = 0), where the shares are undefined.
    """
    s, a = np.asarray(simulated, float), np.asarray(actual, float)
    mse = np.mean((s - a) ** 2)
    u = np.sqrt(mse) / (np.sqrt(np.mean(s**2)) + np.sqrt(np.mean(a**2)))
    if mse == 0:
        return {"theil_u": 0.0, "u_m": np.nan, "u_s": np.nan, "u_c": np.nan}
    sd_s, sd_a = s.std(), a.std()
    covariance = np.mean((s - s.mean()) * (a - a.mean()))
    shares = {"u_m": (s.mean() - a.mean()) ** 2 / mse, "u_s": (sd_s - sd_a) ** 2 / mse,
              "u_c": 2 * (sd_s * sd_a - covariance) / mse}
    # round-off can leave e.g. -3e-15 where a share is exactly zero (n = 2: U^C = 0)
    return {"theil_u": float(u)} | {k: 0.0 if abs(v) < 1e-12 else float(v) for k, v in shares.items()}


def fit_statistics(simulated: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """n, RMSE, MAPE [%], R^2 (1 - SSres/SStot; NaN for n < 2 or constant data) and Theil's statistics."""
    s, a = np.asarray(simulated, float), np.asarray(actual, float)
    error = s - a
    total = np.sum((a - a.mean()) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        mape = 100 * np.mean(np.abs(error) / np.abs(a)) if np.all(a != 0) else np.nan
        r2 = 1 - np.sum(error**2) / total if len(a) > 1 and total > 0 else np.nan
    return {"n": len(a), "rmse": float(np.sqrt(np.mean(error**2))), "mape_pct": float(mape),
            "r2": float(r2), **theil(s, a)}


def fit_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator from long (indicator, year, simulated, observed) pairs; columns FIT_COLUMNS."""
    rows = [{"indicator": name, **fit_statistics(group["simulated"], group["observed"])}
            for name, group in pairs.groupby("indicator", sort=True)]
    return pd.DataFrame(rows, columns=FIT_COLUMNS)
