"""The region's budget, from the data, as the yardstick of a package's yearly cost.

The rows come from calibration/data/ningxia_history.csv (each with its source): general public budget
expenditure (一般公共预算支出, 本级) and the S&T budget (地方财政科学技术支出), both 亿元 at current prices.
The latest year the data hold is the yardstick: a package's cost per year set against it reads "x % of the
region's spending", not a number without scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[1] / "calibration" / "data" / "ningxia_history.csv"
SERIES = {"general": "general_public_budget_expenditure_100m_yuan", "science": "fiscal_sci_tech_expenditure_100m_yuan"}


@dataclass(frozen=True)
class Yardstick:
    """One budget figure: what it is, its year, its value [亿元] and where it comes from."""

    key: str
    indicator: str
    year: int
    value: float
    source: str
    url: str


@cache
def yardsticks(path: Path = DATA) -> tuple[Yardstick, ...]:
    """The latest recorded year of each budget series in SERIES (a series the data lack is left out)."""
    rows = pd.read_csv(path, usecols=["indicator", "year", "value", "source_title", "source_url"])
    found = []
    for key, indicator in SERIES.items():
        series = rows[rows["indicator"] == indicator].sort_values("year")
        if series.empty:
            continue
        last = series.iloc[-1]
        found.append(Yardstick(key, indicator, int(last["year"]), float(last["value"]), str(last["source_title"]),
                               str(last["source_url"])))
    return tuple(found)


def per_year(cost: float, years: int) -> float:
    """A cost over `years` years [亿元] as a yearly cost [亿元/年]."""
    return cost / years


def shares(yearly: float, sticks: tuple[Yardstick, ...]) -> dict[str, float]:
    """A yearly cost [亿元/年] as a share of each yardstick (0.05 = 5 %)."""
    return {stick.key: yearly / stick.value for stick in sticks}
