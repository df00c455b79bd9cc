"""Reality checks: what the fitted model's long run must look like, as prior knowledge (priors.yaml
`reality_checks`).

The record to 2023 cannot tell apart fitted sets that run the same history and part after it (the best point
of the 16 000-step chain put industry at 47.8 % of GDP by 2035; one 1.2 nats below it stayed under 45 %). What
the long run may look like is known outside the record, so it enters as a prior on the model's behaviour
(Bayesian melding, Poole and Raftery 2000, JASA 95: 1244-1255; Vensim's reality checks): a fitted set whose
baseline run leaves a check's range has prior density 0. The chain samples the record's posterior (its
checkpoint does not depend on the checks); the checks then keep the pooled draws that pass, which is
sampling-importance-resampling with weights 0 or 1 (Rubin 1988), and the mode is the highest posterior
density among the chain's points that pass, polished with the checks as constraints (calibration/pipeline.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

# What a check can bound: each from the run's own variables, so a changed constant (normal utilisation)
# moves its check with it.
QUANTITIES = {
    "industry_share_of_gdp_pct": lambda run: 100 * run["industry_va_nominal"] / run["gdp_nominal"],
    "utilisation_gap": lambda run: run["capacity_utilisation"] - run["normal_utilisation"],
    "delivery_effect": lambda run: run["delivery_effect"],
}


def quantities(runs: xr.Dataset) -> xr.Dataset:
    """Every checkable quantity of an ensemble (picklable, the evaluator's `reduce`)."""
    return xr.Dataset({name: make(runs) for name, make in QUANTITIES.items()})


def passed(checks: dict, values: xr.Dataset) -> pd.DataFrame:
    """One column per check, one row per run: True where the run stays in the check's range in every year
    of its span (a failed run, NaN, passes nothing)."""
    held = margins(checks, values) >= 0
    return pd.DataFrame({name: held[:, j] for j, name in enumerate(checks)},
                        index=pd.RangeIndex(values.sizes["run"], name="run"))


def margins(checks: dict, values: xr.Dataset) -> np.ndarray:
    """How far each run stays inside each check, as a share of the check's range, at its closest year: one
    column per check, >= 0 where the run passes (a failed run: -1). The constraints of the mode's polish."""
    columns = []
    for check in checks.values():
        low, high = check.range
        series = values[check.quantity].sel(year=slice(*check.years))
        closest = np.minimum(series - low, high - series).min("year", skipna=False) / (high - low)
        columns.append(np.nan_to_num(closest.to_numpy(), nan=-1.0))
    return np.column_stack(columns) if columns else np.zeros((values.sizes["run"], 0))


def last_year(checks: dict) -> int:
    return max(check.years[1] for check in checks.values())


def table(checks: dict, result: pd.DataFrame) -> pd.DataFrame:
    """Per check: what it bounds, over which years, and the share of the pooled draws that pass it."""
    return pd.DataFrame([{"check": name, "quantity": check.quantity, "years": f"{check.years[0]}-{check.years[1]}",
                          "low": check.range[0], "high": check.range[1],
                          "pass_pct": round(100 * float(result[name].mean()), 1), "reason": check.reason}
                         for name, check in checks.items()])


def keep(result: pd.DataFrame) -> np.ndarray:
    """Runs passing every check (all of them, without checks)."""
    return result.all(axis=1).to_numpy()
