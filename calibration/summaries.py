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


SEEN = 3.0   # log-likelihood drop beyond which the record tells a value from the .mdl's: strong evidence on
             # Kass and Raftery's (1995) scale (2 x log Bayes factor > 6)


def assumed_screen(problem, best: np.ndarray, evaluate_assumed, constants: pd.DataFrame) -> pd.DataFrame:
    """Which assumed constants the record would inform: each moved alone to its prior's 5 % and 95 %
    quantiles, the fitted ones at `best`, the others at their .mdl values (as in the fit); the drop of the log
    likelihood. A constant the record sees (drop > SEEN) is a candidate for `role: fitted`: held at its .mdl
    value while fitting, and drawn from its prior in the states, it widens the bands beyond what the record
    allows. `evaluate_assumed(X, fixed)` runs the fitted rows X with the assumed constants `fixed` per run."""
    names = problem.priors.assumed
    ends = problem.priors.ppf(names, np.array([[0.05] * len(names), [0.95] * len(names)]))
    central = constants.loc[names, "value"].to_numpy(float)
    runs = 1 + 2 * len(names)
    values = np.tile(central, (runs, 1))
    for j in range(len(names)):
        values[1 + 2 * j, j], values[2 + 2 * j, j] = ends[0, j], ends[1, j]
    fixed = {name: values[:, j] for j, name in enumerate(names)}
    loglik = problem.errors.loglik(problem.simulated(evaluate_assumed(np.tile(best, (runs, 1)), fixed)))
    drop = loglik[0] - loglik[1:].reshape(-1, 2)
    table = pd.DataFrame({"constant": names, "q05": ends[0], "q95": ends[1], "drop_at_q05": drop[:, 0],
                          "drop_at_q95": drop[:, 1]})
    table["seen_by_record"] = table[["drop_at_q05", "drop_at_q95"]].max(axis=1) > SEEN
    return table.sort_values("drop_at_q95", key=lambda d: -np.maximum(d, table["drop_at_q05"]), ignore_index=True)
