"""Tables of a fit: which observations the model can produce, model-data pairs, and the parameter table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

CONTRACTION = 0.9    # a posterior sd above 90 % of the prior's: the record says little about the constant
BOUND_SHARE = 0.01   # a 90 % interval within 1 % of the range of a bound reaches it


def observed_pairs(run: xr.Dataset, history: pd.DataFrame, fitted: pd.DataFrame | None = None) -> pd.DataFrame:
    """(indicator, year, simulated, observed[, in_sample]) where the model computes the indicator that year."""
    rows = []
    for row in history.itertuples(index=False):
        if row.indicator in run and row.year in run["year"]:
            value = float(run[row.indicator].sel(year=row.year))
            if np.isfinite(value):
                rows.append((row.indicator, row.year, value, row.value))
    pairs = pd.DataFrame(rows, columns=["indicator", "year", "simulated", "observed"])
    if fitted is not None:
        pairs["in_sample"] = pairs.merge(fitted[["indicator", "year"]], how="left", on=["indicator", "year"],
                                         indicator=True)["_merge"].eq("both").to_numpy()
    return pairs


def usable(history: pd.DataFrame, probe: xr.Dataset, notes: list[str]) -> pd.DataFrame:
    """Drop observations the model cannot produce (no such indicator, or undefined that year); note them."""
    pairs = observed_pairs(probe, history)
    keep = history.merge(pairs[["indicator", "year"]], on=["indicator", "year"])
    dropped = history.merge(keep[["indicator", "year"]], how="left", on=["indicator", "year"], indicator=True)
    for row in dropped[dropped["_merge"] == "left_only"].itertuples():
        why = "no such model indicator" if row.indicator not in probe else "model value undefined that year"
        notes.append(f"not fitted: {row.indicator} {row.year} ({why})")
    return keep


def parameter_table(problem, best: np.ndarray, draws: np.ndarray, diagnostics: pd.DataFrame,
                    constants: pd.DataFrame) -> pd.DataFrame:
    """Per fitted constant: prior, .mdl value, mode, posterior median and 90 % interval, how much the record
    narrowed the prior (posterior sd over prior sd), whether the interval reaches a bound, and diagnostics."""
    low, high = problem.bounds
    prior_draws = problem.priors.ppf(problem.names, (np.arange(4000)[:, None] + 0.5) / 4000 * np.ones(len(low)))
    q05, q50, q95 = np.quantile(draws, [0.05, 0.5, 0.95], axis=0)
    ratio = draws.std(axis=0) / prior_draws.std(axis=0)
    span = high - low
    rows = []
    for i, name in enumerate(problem.names):
        prior = problem.priors.entries[name]
        at_low, at_high = q05[i] - low[i] <= BOUND_SHARE * span[i], high[i] - q95[i] <= BOUND_SHARE * span[i]
        if ratio[i] > CONTRACTION:
            flag = "not identified: posterior about the prior"
        elif at_low or at_high:
            flag = "reaches the " + ("lower" if at_low else "upper") + " bound"
        else:
            flag = "identified"
        rows.append({"parameter": name, "prior": _describe(prior), "mdl_value": constants.at[name, "value"],
                     "mode": best[i], "median": q50[i], "q05": q05[i], "q95": q95[i], "low": low[i], "high": high[i],
                     "sd_ratio": ratio[i], "identification": flag})
    return pd.DataFrame(rows).merge(diagnostics, on="parameter")


def _describe(prior) -> str:
    """'truncated_normal(mean=380, sd=80)' and the like."""
    shown = {k: v for k, v in prior.model_dump(exclude_none=True).items()
             if k not in ("role", "distribution", "range", "source", "judgement")}
    return f"{prior.distribution}(" + ", ".join(f"{k}={v:g}" for k, v in shown.items()) + ")"
