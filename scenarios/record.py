"""Targets whose window reaches back into the record: judged on the record for the observed years and on the
model for the rest (issue 21).

D's targets run 2023-2027, and 2023 is observed: a mean of yearly growth rates over 2023-2027 takes 2023's
recorded rate, and a growth from a 2022 base takes the recorded 2022 level. Targets at or before the last data
year keep the model's own values: their record is the actual outcome beside the model's verdict (outcomes.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from nxmfg.scenarios.measures import BASE_MEASURES, SPAN_MEASURES
from nxmfg.scenarios.schema import FIRST_OUTLOOK_YEAR

LAST_DATA_YEAR = FIRST_OUTLOOK_YEAR - 1


def years_read(target) -> list[int]:
    """The years a target's measure reads."""
    if target.measure in SPAN_MEASURES:
        return list(range(target.from_year, target.year + 1))
    if target.measure in BASE_MEASURES:
        return [target.base_year, target.year]
    return [target.year]


def recorded_years(target, record: pd.DataFrame | dict | None) -> list[int]:
    """The years a look-ahead target reads from the record: those of its window the data hold (<= the last
    data year); none for a past target or without a record. record: the history, or `held(history)`."""
    if record is None or target.kind != "modelled" or target.year <= LAST_DATA_YEAR:
        return []
    rows = (record if isinstance(record, dict) else held(record)).get(target.indicator, {})
    return [year for year in years_read(target) if year <= LAST_DATA_YEAR and year in rows]


def held(record: pd.DataFrame) -> dict[str, dict[int, float]]:
    """The record's values by indicator and year, read once for all targets (a filter of the record per
    target and year took most of a verdict table's time in the explorer)."""
    out: dict[str, dict[int, float]] = {}
    for indicator, year, value in zip(record["indicator"], record["year"].astype(int), record["value"], strict=True):
        out.setdefault(indicator, {})[int(year)] = float(value)
    return out


def spliced(indicators: xr.Dataset, targets: Sequence, record: pd.DataFrame | dict) -> xr.Dataset:
    """`indicators` with each look-ahead target's recorded years replaced by the record (in every run)."""
    rows = record if isinstance(record, dict) else held(record)
    out = indicators.copy()      # new variables over the same arrays; a spliced one gets its own array
    for target in targets:
        years = recorded_years(target, rows)
        if not years or target.indicator not in out:
            continue
        variable = out.variables[target.indicator]
        grid = np.asarray(out["year"].values, dtype=float)
        values = np.array(variable.values, dtype=float)
        axis = variable.dims.index("year")
        for year in years:
            index = [slice(None)] * values.ndim
            index[axis] = np.isclose(grid, year)
            values[tuple(index)] = rows[target.indicator][year]
        variable.values = values
    return out


def label(years: list[int]) -> str:
    """The record's years as a table shows them ("2023", "2022"; "" for none)."""
    return ", ".join(str(year) for year in years)
