"""The explorer's fast paths (issue 23) give what the plain xarray and pandas paths give: the indicators on
bare arrays, the record read once, the targets' measures stacked, the band's edges in one quantile."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from nxmfg import scenarios
from nxmfg.model import indicators
from nxmfg.model.indicators import INDICATORS
from nxmfg.scenarios import record as record_
from nxmfg.scenarios.targets import Target

YEARS = np.arange(2010, 2036)


@pytest.fixture(scope="module")
def band(baseline_run) -> xr.Dataset:
    """Three runs of every model variable: the baseline and two perturbed copies (a NaN and a zero too)."""
    run = baseline_run if "run" in baseline_run.dims else baseline_run.expand_dims(run=[0])
    copies = [run.isel(run=[0])]
    for k, factor in enumerate((0.9, 1.2), start=1):
        copies.append((run.isel(run=[0]) * factor).assign_coords(run=[k]))
    runs = xr.concat(copies, dim="run")
    name = next(n for n in runs.data_vars if runs[n].dims == ("run", "year"))
    values = runs[name].values.copy()
    values[1, 3], values[2, 4] = np.nan, 0.0
    return runs.assign({name: (("run", "year"), values)})


def test_every_indicator_on_bare_arrays_equals_xarrays_arithmetic_on_the_run(band):
    """compute() against each indicator's function applied to the Dataset itself (xarray aligns and computes):
    the same values, NaN for NaN, the same coordinates, in a band and in one run."""
    for runs in (band, band.isel(run=0, drop=True)):
        fast = indicators.compute(runs)
        with np.errstate(all="ignore"):
            plain = xr.Dataset({name: INDICATORS[name].func(runs) for name in INDICATORS})
        xr.testing.assert_identical(fast.drop_attrs(), plain)
        assert fast[next(iter(INDICATORS))].attrs["units"] == INDICATORS[next(iter(INDICATORS))].unit


def test_a_run_whose_variables_differ_in_dims_is_computed_by_xarray_with_alignment(band):
    mixed = band.isel(run=0, drop=True).assign(gdp_nominal=band["gdp_nominal"])     # one variable has runs
    fast = indicators.compute(mixed, ["gdp_100m_yuan", "gdp_real_growth_pct"])
    assert fast["gdp_100m_yuan"].dims == ("run", "year")
    np.testing.assert_array_equal(fast["gdp_real_growth_pct"].values,
                                  indicators.growth_pct(mixed["gdp_real"]).values)


def target(**fields) -> Target:
    base = {"id": "D-test", "doc": "D", "clause": "测试", "target": "test", "year": 2027, "indicator": "x",
            "measure": "mean", "from_year": 2023, "threshold": 5.0, "direction": "at_least", "kind": "modelled"}
    return Target.model_validate(base | fields)


def test_a_band_is_judged_run_by_run_as_each_run_alone():
    """attainment_by_run (the measures of all targets stacked) against attainment of each run by itself."""
    rng = np.random.default_rng(23)
    runs = xr.Dataset({"x": (("run", "year"), rng.normal(5, 2, (4, YEARS.size))),
                       "y": (("run", "year"), rng.uniform(50, 150, (4, YEARS.size)))},
                      coords={"run": np.arange(4), "year": YEARS})
    targets = [target(), target(id="D-level", measure="level", indicator="y", threshold=100.0, from_year=None),
               target(id="D-growth", measure="cagr", indicator="y", base_year=2022, threshold=2.0, from_year=None),
               target(id="D-none", indicator="z")]
    record = pd.DataFrame({"indicator": ["x", "y"], "year": [2023, 2022], "value": [12.0, 90.0]})
    judged = scenarios.attainment_by_run(runs, targets, record)
    assert list(judged["record_years"].values) == ["2023", "", "2022", ""]
    for k in range(4):
        alone = scenarios.attainment(runs.isel(run=k, drop=True), targets, record).set_index("id")
        np.testing.assert_allclose(judged["value"].isel(run=k).values, alone["value"].to_numpy(), rtol=0, atol=0)
        np.testing.assert_array_equal(judged["met"].isel(run=k).values[:3], alone["met"].to_numpy()[:3].astype(bool))


def test_the_record_read_once_holds_each_indicators_years():
    history = pd.DataFrame({"indicator": ["x", "x", "y"], "year": [2022, 2023, 2023], "value": [1.0, 2.0, 3.0]})
    held = record_.held(history)
    assert held == {"x": {2022: 1.0, 2023: 2.0}, "y": {2023: 3.0}}
    assert record_.recorded_years(target(from_year=2022), held) == record_.recorded_years(target(from_year=2022),
                                                                                          history) == [2022, 2023]


def test_the_explorers_band_edges_are_each_indicators_5_and_95_percent_over_its_states():
    from nxmfg.explore.evaluation import Evaluation

    rng = np.random.default_rng(5)
    values = rng.normal(size=(257, YEARS.size))
    values[:, 0] = np.nan                                     # a growth rate has no first year
    data = xr.Dataset({"x": (("run", "year"), values), "y": (("run", "year"), 2 * values + 1)},
                      coords={"run": np.arange(257), "year": YEARS})
    evaluation = Evaluation(None, data, pd.DataFrame())
    edges = evaluation.edges(["x"]) | evaluation.edges(["y", "x", "absent"])      # the second reads "x" kept
    assert set(edges) == {"x", "y"}
    for name in ("x", "y"):
        low, high = edges[name]
        states = data[name].values[1:]
        assert np.isnan(low[0]) and np.isnan(high[0])
        np.testing.assert_array_equal(low[1:], np.quantile(states[:, 1:], 0.05, axis=0))
        np.testing.assert_array_equal(high[1:], np.quantile(states[:, 1:], 0.95, axis=0))


def test_libyamls_parser_reads_every_shipped_yaml_file_as_pyyamls_does():
    """parse() takes libyaml's parser where the limits hold: the same values, in the same order, as the
    pure-Python Loader (the YAML 1.2 resolvers and the duplicate-key check are the same objects)."""
    import math
    from pathlib import Path

    import yaml

    from nxmfg.model import yaml_reader

    assert (yaml_reader._FastLoader is not None) == bool(getattr(yaml, "__with_libyaml__", False))

    def same(a, b) -> bool:
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
            return math.isnan(b)
        if type(a) is not type(b):
            return False
        if isinstance(a, dict):
            return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
        return a == b

    root = Path(yaml_reader.__file__).resolve().parents[1]
    files = [p for p in root.rglob("*.yaml") if ".venv" not in p.parts]
    assert len(files) > 20
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert same(yaml_reader.parse(text), yaml.load(text, Loader=yaml_reader.Loader)), path   # noqa: S506
    assert yaml_reader.parse("a: 1:40\nb: 2e2\nc: 010\nd: yes\n") == {"a": "1:40", "b": 200.0, "c": 10, "d": "yes"}
