"""Each regional lever's GDP per yuan of fiscal cost: the check that no lever is a free lunch.

Each lever alone is set to a value (by default the middle of its [min,max] range) from a start year, against
the calibrated baseline. Its return is the extra nominal GDP summed over the start year to the end year over
the extra regional fiscal cost summed over the same years (both at current prices, 亿元). Local fiscal
multipliers in China are 0.6-1.4 (Guo, Liu & Ma 2016; IMF WP 17/273), so a lever far above that needs an
evaluation behind it (docs/design.md, the lever table).

    python -m nxmfg.sensitivity.returns      # prints the table for every regional lever
"""

from functools import partial

import numpy as np
import pandas as pd

from nxmfg import model
from nxmfg.scenarios import schema

NAMES = ["gdp_100m_yuan", "fiscal_cost_100m_yuan"]
NO_SPENDING = 0.1   # 亿元 over the years summed: a lever moving the fiscal cost less than this spends nothing


def regional_levers() -> list[str]:
    """The regional levers (scenarios.schema.POLICY_LEVERS, the lever table of docs/design.md)."""
    return list(schema.POLICY_LEVERS)


def lever_returns(values: dict[str, float] | None = None, start: int = 2024, end: int = 2035) -> pd.DataFrame:
    """One ensemble run per lever (run 0 the baseline); index lever, columns baseline, value,
    extra_gdp and extra_cost [亿元, summed over start..end], gdp_per_yuan (NaN where nothing is spent).

    values: {lever: value from `start`}; default every regional lever at the middle of its range. A lever that
    moves the fiscal cost by less than NO_SPENDING (through prices, not a programme of its own) has no ratio.
    """
    from nxmfg.model import ensemble, indicators

    constants, baseline = model.constants(), model.baseline()
    if values is None:
        values = {name: (constants.at[name, "low"] + constants.at[name, "high"]) / 2 for name in regional_levers()}
    n = len(values) + 1
    years = np.arange(2010, end + 1)
    params = {}
    for i, (lever, value) in enumerate(values.items(), start=1):
        row = np.full(n, baseline[lever])
        row[i] = value
        params[lever] = schema.lever_path_array(baseline[lever], start, row, years)
    runs = ensemble.run(params, n, reduce=partial(indicators.compute, names=NAMES), final_year=end,
                        workers=1, progress=False)
    extra = (runs - runs.isel(run=0)).sel(year=slice(start, end)).sum("year")
    table = pd.DataFrame({
        "baseline": [baseline[lever] for lever in values],
        "value": list(values.values()),
        "extra_gdp": extra["gdp_100m_yuan"].to_numpy()[1:],
        "extra_cost": extra["fiscal_cost_100m_yuan"].to_numpy()[1:],
    }, index=pd.Index(list(values), name="lever"))
    spent = table["extra_cost"].abs() > NO_SPENDING
    table["gdp_per_yuan"] = np.where(spent, table["extra_gdp"] / table["extra_cost"].where(spent, 1.0), np.nan)
    return table


if __name__ == "__main__":
    pd.set_option("display.width", 160)
    print(f"model {model.version()}: each lever alone at the middle of its range from 2024, 2024-2035 sums, 亿元")
    print(lever_returns().round(3).to_string())
