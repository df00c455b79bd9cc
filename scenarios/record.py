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


def recorded_years(target, record: pd.DataFrame | None) -> list[int]:
    """The years a look-ahead target reads from the record: those of its window the data hold (<= the last
    data year); none for a past target or without a record."""
    if record is None or target.kind != "modelled" or target.year <= LAST_DATA_YEAR:
        return []
    held = set(record.loc[record["indicator"] == target.indicator, "year"].astype(int))
    return [year for year in years_read(target) if year <= LAST_DATA_YEAR and year in held]


def spliced(indicators: xr.Dataset, targets: Sequence, record: pd.DataFrame) -> xr.Dataset:
    """`indicators` with each look-ahead target's recorded years replaced by the record (in every run)."""
    out = indicators.copy()
    for target in targets:
        years = recorded_years(target, record)
        if not years or target.indicator not in out:
            continue
        rows = record[record["indicator"] == target.indicator].set_index("year")["value"]
        series = out[target.indicator].copy()
        grid = np.asarray(series["year"].values, dtype=float)
        for year in years:
            series[{"year": np.isclose(grid, year)}] = float(rows[year])
        out[target.indicator] = series
    return out


def label(years: list[int]) -> str:
    """The record's years as a table shows them ("2023", "2022"; "" for none)."""
    return ", ".join(str(year) for year in years)
