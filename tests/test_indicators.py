"""Indicators against the model's own stocks: the timing convention of model/indicators.py."""

import numpy as np
import pytest

YEARS = list(range(2011, 2035))


@pytest.mark.parametrize("name, stock, scale", [
    ("high_tech_firms_count", "high_tech_enterprises", 1.0),
    ("above_scale_industry_valid_invention_patents_10k", "above_scale_valid_patents", 1e-4),
])
def test_a_year_end_stock_reads_half_way_to_the_next_instant(baseline_run, baseline_indicators, name, stock,
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
