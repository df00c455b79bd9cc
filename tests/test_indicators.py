"""Indicators against the model's own stocks: the timing convention of model/indicators.py."""

import re

import numpy as np
import pytest
import xarray as xr

from nxmfg.model import MDL

YEARS = list(range(2011, 2035))


@pytest.mark.parametrize("name, stock, scale", [
    ("high_tech_firms_count", "high_tech_enterprises", 1.0),
    ("above_scale_industry_valid_invention_patents_10k", "above_scale_valid_patents", 1e-4),
])
def test_a_year_end_stock_reads_between_this_instant_and_the_next(baseline_run, baseline_indicators, name, stock,
                                                               scale):
    """`Time = Y` stands for the year as a whole, so a stock counted at the year's end reads strictly between
    the instants Y and Y + 1 (a net flow of the wrong sign, or the stock itself, reads outside). Years in which
    the stock moves by 2 % or more: at a turning point the year's flow says little. (How near the midpoint it
    reads depends on how fast the flows change within the year, which moves with the fit.)"""
    level = baseline_run[stock] * scale
    now, then = level.sel(year=YEARS).values, level.sel(year=[y + 1 for y in YEARS]).values
    reading = baseline_indicators[name].sel(year=YEARS).values
    moving = np.abs(then - now) >= 0.02 * now
    assert moving.sum() >= 15
    now, then, reading = now[moving], then[moving], reading[moving]
    assert np.all((reading > np.minimum(now, then)) & (reading < np.maximum(now, then))), np.c_[reading, now, then]


def _net_flow(run: xr.Dataset, stock: str) -> xr.DataArray:
    """The stock's net flow as its INTEG in the .mdl writes it (flows joined by + and -), from the run."""
    name = stock.replace("_", " ")
    text = MDL.read_text(encoding="utf-8")
    found = re.search(rf"^{re.escape(name)}\s*=\s*INTEG\s*\(\s*([^,]+),", text, re.IGNORECASE | re.MULTILINE)
    assert found, f"{name}: no INTEG in the .mdl"
    terms = re.findall(r"([+-]?)\s*([A-Za-z][A-Za-z ]*[A-Za-z])", found.group(1))
    assert len(terms) >= 2 and all(term.strip() for _, term in terms), found.group(1)
    return sum((-1 if sign == "-" else 1) * run[term.strip().lower().replace(" ", "_")] for sign, term in terms)


@pytest.mark.parametrize("name, stock, scale", [
    ("high_tech_firms_count", "high_tech_enterprises", 1.0),
    ("above_scale_industry_valid_invention_patents_10k", "above_scale_valid_patents", 1e-4),
])
def test_a_year_end_stock_adds_half_of_every_flow_its_integ_names(baseline_run, baseline_indicators, name, stock,
                                                                  scale):
    """The indicator's net flow is the one the .mdl integrates, so a flow added to the stock reaches it."""
    expected = (baseline_run[stock] + 0.5 * _net_flow(baseline_run, stock)) * scale
    np.testing.assert_allclose(baseline_indicators[name].values, expected.values, rtol=1e-12)
