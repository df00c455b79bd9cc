"""Targets whose window reaches into the record: observed years from the data, the rest from the model (issue 21)."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from nxmfg import scenarios
from nxmfg.calibration import observations
from nxmfg.scenarios.targets import Target

YEARS = np.arange(2010, 2036)


def target(**fields) -> Target:
    base = {"id": "D-test", "doc": "D", "clause": "测试", "target": "test", "year": 2027, "indicator": "x",
            "measure": "mean", "from_year": 2023, "threshold": 5.0, "direction": "at_least", "kind": "modelled"}
    return Target.model_validate(base | fields)


def runs(values: np.ndarray) -> xr.Dataset:
    """Two runs of an indicator x, one value per year each."""
    return xr.Dataset({"x": (("run", "year"), values)}, coords={"run": [0, 1], "year": YEARS})


RECORD = pd.DataFrame({"indicator": ["x", "x"], "year": [2022, 2023], "value": [20.0, 12.0]})


def test_a_later_target_reads_its_observed_years_from_the_record_and_the_rest_from_each_run():
    """Mean of 2023-2027: the record's 12 for 2023, each run's own 2024-2027 (4 and 2): 5.6 and 4.0."""
    values = np.stack([np.full(YEARS.size, 4.0), np.full(YEARS.size, 2.0)])
    judged = scenarios.attainment_by_run(runs(values), [target()], RECORD)
    np.testing.assert_allclose(judged["value"].sel(target="D-test"), [(12 + 4 * 4) / 5, (12 + 4 * 2) / 5])
    assert judged["record_years"].sel(target="D-test").item() == "2023"
    np.testing.assert_array_equal(judged["met"].sel(target="D-test"), [True, False])
    plain = scenarios.attainment_by_run(runs(values), [target()])
    np.testing.assert_allclose(plain["value"].sel(target="D-test"), [4.0, 2.0])     # without a record: the model


def test_a_growth_from_an_observed_base_year_takes_the_recorded_base():
    values = np.stack([np.full(YEARS.size, 40.0)] * 2)
    cagr = target(measure="cagr", base_year=2022, from_year=None)
    table = scenarios.attainment(runs(values).isel(run=0, drop=True), [cagr], RECORD).iloc[0]
    assert table["value"] == pytest.approx((2 ** (1 / 5) - 1) * 100)                # 20 recorded -> 40 in 2027
    assert table["record_years"] == "2022"


def test_a_past_target_keeps_the_models_own_values_beside_its_actual_outcome():
    values = np.stack([np.full(YEARS.size, 4.0)] * 2)
    past = target(id="C-test", doc="C", year=2023, from_year=2021)
    table = scenarios.attainment(runs(values).isel(run=0, drop=True), [past], RECORD).iloc[0]
    assert table["value"] == pytest.approx(4.0) and table["record_years"] == ""


def test_the_gap_between_industry_and_gdp_growth_in_2023_is_recorded_within_one_vintage():
    """12.4 % above-scale industry growth (a first print) against GDP's first print of 6.6 %, not the revised
    6.7 % the vintage rule picks for GDP alone: the data's README warns against mixing vintages."""
    record = observations(derived=True)
    gap = record.query("indicator == 'above_scale_industry_minus_gdp_growth_pp' and year == 2023")["value"]
    assert gap.item() == pytest.approx(12.4 - 6.6)
    alone = observations().query("indicator == 'gdp_real_growth_pct' and year == 2023")["value"].item()
    assert alone == pytest.approx(6.7)
    assert "above_scale_industry_minus_gdp_growth_pp" not in set(observations()["indicator"])   # never fitted
