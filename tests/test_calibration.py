"""Calibration: the data rules, the fit statistics, and recovery of known parameters."""

import numpy as np
import pytest

from nxmfg.calibration.history import DataError, observations
from nxmfg.calibration.stats import fit_statistics, theil

HEADER = "indicator,year,value,unit,source_title,source_url,quote\n"


def write(tmp_path, body: str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


# --- the data -----------------------------------------------------------------------------------

def test_shipped_data_has_one_row_per_indicator_and_year():
    history = observations()
    assert list(history.columns) == ["indicator", "year", "value", "unit", "source"]
    assert not history.duplicated(["indicator", "year"]).any()
    assert history["year"].between(2010, 2023).all()
    assert not history["indicator"].str.startswith("national_").any()


def test_gdp_uses_the_revised_vintage_for_levels_and_growth():
    history = observations().set_index(["indicator", "year"])["value"]
    assert history[("gdp_100m_yuan", 2017)] == 3271.6          # not the communiqué's 3453.93
    assert history[("gdp_100m_yuan", 2015)] == 2644.7          # not the yearbook's 2911.77
    assert history[("gdp_real_growth_pct", 2017)] == pytest.approx(7.1)   # index 107.1, not 7.8 %
    # the revised series covers 2016-2020 only: the communiqué's 2010 growth is another vintage
    assert ("gdp_real_growth_pct", 2010) not in history.index


def test_quarterly_context_and_national_rows_are_excluded():
    history = observations()
    assert "tech_upgrade_investment_share_of_industrial_investment_pct" not in set(history["indicator"])
    assert history["year"].min() >= 2010


def test_approximate_values_say_so_in_their_unit():
    history = observations().set_index(["indicator", "year"])
    assert "approximate" in history.loc[("energy_consumption_10k_tce", 2012), "unit"]
    assert "approximate" not in history.loc[("energy_consumption_growth_pct", 2012), "unit"]


def test_until_drops_later_years():
    assert observations(until=2017)["year"].max() == 2017


def test_post_census_revision_beats_the_earlier_figure(tmp_path):
    path = write(tmp_path, "rd_expenditure_100m_yuan,2017,35.0,%,a,,\n"
                           "rd_expenditure_100m_yuan,2017,38.94,% (revised),b,,\n")
    assert observations(path)["value"].tolist() == [38.94]


def test_final_figure_beats_the_preliminary_one(tmp_path):
    path = write(tmp_path, "rd_expenditure_100m_yuan,2016,30.0,% (preliminary),a,,\n"
                           "rd_expenditure_100m_yuan,2016,31.0,%,b,,\n")
    assert observations(path)["value"].tolist() == [31.0]


def test_equal_duplicates_collapse(tmp_path):
    path = write(tmp_path, "rd_expenditure_100m_yuan,2016,31.0,%,a,,\nrd_expenditure_100m_yuan,2016,31.0,%,b,,\n")
    assert len(observations(path)) == 1


def test_user_data_extends_and_overrides(tmp_path):
    extra = write(tmp_path, "rd_intensity_pct,2019,1.5,%,mine,,\n"
                            "above_scale_firms_count,2015,1100,firms,mine,,\n")
    history = observations(extra=extra).set_index(["indicator", "year"])["value"]
    assert history[("rd_intensity_pct", 2019)] == 1.5
    assert history[("above_scale_firms_count", 2015)] == 1100
    assert history[("gdp_100m_yuan", 2017)] == 3271.6


@pytest.mark.parametrize(("body", "line", "field"), [
    ("gdp_100m_yaun,2015,2644.7,x,a,,\n", 2, "indicator"),
    ("gdp_100m_yaun,2005,900,x,a,,\n", 2, "indicator"),            # a context year is no excuse
    ("gdp_100m_yuan,2014,2516.4,x,a,,\ngdp_100m_yuan,2015,n/a,x,a,,\n", 3, "value"),
    ("gdp_100m_yuan,20l5,2644.7,x,a,,\n", 2, "year"),
    ("gdp_100m_yuan,2099,2644.7,x,a,,\n", 2, "year"),
    ("rd_expenditure_100m_yuan,2016,30.0,%,a,,\nrd_expenditure_100m_yuan,2016,31.0,%,b,,\n", 3, "value"),
])
def test_bad_data_gives_one_line_naming_file_line_and_field(tmp_path, body, line, field):
    path = write(tmp_path, body)
    with pytest.raises(DataError) as error:
        observations(path)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: field '{field}'")


def test_user_data_must_map_to_a_model_indicator(tmp_path):
    extra = write(tmp_path, "secondary_industry_va_100m_yuan,2015,1200,x,a,,\n")
    with pytest.raises(DataError, match=r"data.csv:2: field 'indicator'.*construction"):
        observations(extra=extra)


# --- statistics -----------------------------------------------------------------------------------

def test_theil_components_sum_to_one():
    rng = np.random.default_rng(4)
    actual = rng.normal(100, 10, 12)
    simulated = 0.8 * actual + rng.normal(5, 3, 12)
    parts = theil(simulated, actual)
    assert parts["u_m"] + parts["u_s"] + parts["u_c"] == pytest.approx(1)
    assert 0 < parts["theil_u"] < 1


def test_pure_bias_is_all_u_m():
    actual = np.array([1.0, 3.0, 2.0, 5.0])
    parts = theil(actual + 2, actual)
    assert (parts["u_m"], parts["u_s"], parts["u_c"]) == pytest.approx((1, 0, 0), abs=1e-12)


def test_scaled_series_is_all_u_s_when_means_agree():
    actual = np.array([-1.0, 1.0, -2.0, 2.0])
    parts = theil(2 * actual, actual)                      # same mean, perfectly correlated
    assert (parts["u_m"], parts["u_s"], parts["u_c"]) == pytest.approx((0, 1, 0), abs=1e-12)


def test_anticorrelated_series_of_equal_moments_is_all_u_c():
    actual = np.array([-1.0, 1.0, -2.0, 2.0])
    parts = theil(-actual, actual)
    assert (parts["u_m"], parts["u_s"], parts["u_c"]) == pytest.approx((0, 0, 1), abs=1e-12)


def test_fit_statistics_of_a_known_case():
    stats = fit_statistics(np.array([110.0, 190.0]), np.array([100.0, 200.0]))
    assert stats["n"] == 2
    assert stats["rmse"] == pytest.approx(10)
    assert stats["mape_pct"] == pytest.approx((10 + 5) / 2)
    assert stats["r2"] == pytest.approx(1 - 200 / 5000)


# --- the command line -------------------------------------------------------------------------------

def test_calibrate_names_the_bad_line_of_a_user_file(tmp_path):
    from click.testing import CliRunner

    from nxmfg import cli

    bad = write(tmp_path, "rd_intensity_pct,2019,1.5,%,mine,,\nrd_intensity_pct,2020,about 1.6,%,mine,,\n")
    result = CliRunner().invoke(cli.main, ["calibrate", "--data", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert f"{bad}:3: field 'value'" in result.output
    assert "Traceback" not in result.output


def test_every_mapped_indicator_is_a_model_indicator():
    from nxmfg.calibration.history import indicator_map
    from nxmfg.model.indicators import INDICATORS

    mapped = {entry["model"] for entry in indicator_map()["mapped"].values()}
    assert mapped <= set(INDICATORS), sorted(mapped - set(INDICATORS))
    assert not set(indicator_map()["unused"]) & set(indicator_map()["mapped"])


def test_fitted_yaml_is_a_flat_mapping_with_a_provenance_header(tmp_path):
    import yaml

    from nxmfg.calibration import runner

    path = tmp_path / "fitted.yaml"
    header = runner.fit_header("abc123", {"data": "d4t4", "data_files": ["ningxia_history.csv"], "priors": "pr10r5"},
                               None, 7)
    runner.write_fitted({"b_constant": np.float64(0.25), "a_constant": 3}, header, path)
    text = path.read_text(encoding="utf-8")
    assert yaml.safe_load(text) == {"a_constant": 3.0, "b_constant": 0.25}
    for field in ("model_version: abc123", "data_sha256: d4t4", "posterior_sha256: pr10r5", "date: ", "seed: 7"):
        assert f"# {field}" in text
    assert list(tmp_path.iterdir()) == [path]            # no temporary file left behind


def test_line_numbers_count_quoted_line_breaks(tmp_path):
    path = write(tmp_path, 'rd_intensity_pct,2014,0.87,%,a,,"two\nlines"\nrd_intensity_pct,2015,x,%,a,,\n')
    with pytest.raises(DataError, match=r"data.csv:4: field 'value'"):
        observations(path)


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes((HEADER + "rd_intensity_pct,2014,0.87,%,Montréal,,\n").encode("latin-1"))
    with pytest.raises(DataError, match=r"latin.csv: not UTF-8 text \(byte 0xe9 on line 2\)"):
        observations(path)
