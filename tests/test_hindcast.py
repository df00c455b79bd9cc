"""Issue 20, item 4: the ex-ante hindcast (calibration/hindcast.py). The fit to 2020 runs 2021-2023 on the
outlooks as they stood in 2020 and must beat a naive forecast (Ningxia's 2020 level grown at China's recorded
nominal growth) on GDP and industry value added; given the recorded drivers instead (a conditional
forecast), it must beat the naive forecast too. Like for like, it must beat the naive forecast a forecaster
could make in 2020 (China's 2015-2020 nominal pace)."""

import pytest

from nxmfg import model
from nxmfg.calibration import hindcast
from nxmfg.calibration.coverage import OUT_OF_SAMPLE
from nxmfg.calibration.fits import read_fit
from nxmfg.calibration.history import national_series


@pytest.fixture(scope="module")
def fit_values():
    return dict(read_fit(OUT_OF_SAMPLE, model.constants()).values)


@pytest.fixture(scope="module")
def table(fit_values):
    return hindcast.forecasts(fit_values)


def test_the_outlook_of_2020_holds_chinas_pace_of_2015_2020(fit_values):
    """From the data file, not the run: China's real index of secondary industry 2015-2020, its yearly mean."""
    index = national_series("national_secondary_industry_va_index_1978_100")
    recorded = model.engine_run(fit_values, 2020)
    tables = hindcast.outlooks_as_of(recorded)
    expected = (index[2020] / index[2015]) ** (1 / 5) - 1
    assert tables["national_industry_growth_outlook"].iloc[0] == pytest.approx(expected, rel=1e-3)
    assert tables["coal_price_outlook"].iloc[-1] == pytest.approx(float(recorded["coal_price"].sel(year=2020)))


def test_the_ex_ante_run_does_not_see_the_record_after_2020(fit_values):
    """Doubling the 2021-2023 coal price and China's index in the history tables changes nothing."""
    params = hindcast.ex_ante_params(fit_values)
    tables = {name: getattr(model.load().components, f"_hardcodedlookup_{name}").data.to_series()
              for name in ("coal_price_history", "national_industry_index_history")}
    doubled = {name: table.where(table.index <= 2020, 2 * table) for name, table in tables.items()}
    before = model.engine_run(params, 2023)["gdp_nominal"].sel(year=[2021, 2022, 2023])
    after = model.engine_run(params | doubled, 2023)["gdp_nominal"].sel(year=[2021, 2022, 2023])
    assert (before == after).all()
    assert not (model.engine_run(fit_values | doubled, 2023)["gdp_nominal"].sel(year=2023) == before.sel(year=2023))


def test_the_hindcast_scores_gdp_and_industry_in_every_year_after_2020(table):
    assert set(table["indicator"]) == set(hindcast.SCORED)
    assert sorted(set(table["year"])) == [2021, 2022, 2023]


@pytest.mark.xfail(strict=True, reason=(
    "MISS (model v3): the ex-ante run holds China's deflators at their 2015-2020 pace and the coal price at "
    "2020's, and cannot foresee the price boom of 2021-2022 (China's industrial deflator about +9.4 % in 2021; "
    "Ningxia's industry value added +33 % at current prices) that the naive forecast gets from the record of "
    "China's nominal growth; see `python -m nxmfg.calibration.hindcast`"))
@pytest.mark.parametrize("indicator", sorted(hindcast.SCORED))
def test_the_ex_ante_hindcast_beats_the_naive_forecast(table, indicator):
    scored = hindcast.scores(table).loc[indicator]
    assert scored["model"] < scored["naive"], scored.to_dict()


@pytest.mark.parametrize("indicator", [
    pytest.param("gdp_100m_yuan", marks=pytest.mark.xfail(strict=True, reason=(
        "MISS (December 2026, after the region's patent grants followed the national office's; industry value "
        "added wins, 23.04 % against 24.09 %): like for like, GDP loses, MAPE 7.33 % against 6.83 %: the ex-ante "
        "run 4 364, 4 683 and 5 040 亿元 against the naive 4 361, 4 713 and 5 092 and the recorded 4 667, 5 168 "
        "and 5 369; see `python -m nxmfg.calibration.hindcast`"))),
    "industry_va_100m_yuan"])
def test_the_ex_ante_hindcast_beats_the_naive_forecast_of_2020(table, indicator):
    """Like for like: the naive forecast on what a forecaster knew in 2020, China's 2015-2020 nominal pace (the
    pace the model's outlooks hold), not China's record of 2021-2023."""
    scored = hindcast.scores(table).loc[indicator]
    assert scored["model"] < scored["naive_ex_ante"], scored.to_dict()


def test_the_naive_forecast_of_2020_grows_at_chinas_2015_2020_pace(table):
    """From the data file: China's nominal GDP 2015 and 2020, the yearly mean, compounded from Ningxia's 2020."""
    china = national_series("national_gdp_nominal_100m_yuan")
    pace = (china[2020] / china[2015]) ** (1 / 5)
    rows = table[table["indicator"] == "gdp_100m_yuan"].set_index("year")["naive_ex_ante"]
    assert rows[2023] / rows[2021] == pytest.approx(pace ** 2, rel=1e-9)
    assert rows[2022] / rows[2021] == pytest.approx(pace, rel=1e-9)


@pytest.mark.parametrize("indicator", sorted(hindcast.SCORED))
def test_the_conditional_forecast_beats_the_naive_forecast(fit_values, table, indicator):
    """The same fit on the recorded drivers (the out-of-sample run): the structure, not the outlook, is tested."""
    from nxmfg.model import indicators

    run = indicators.compute(model.engine_run(fit_values, 2023), [indicator])
    rows = table[table["indicator"] == indicator]
    conditional = (100 * (run[indicator].sel(year=rows["year"].to_list()).to_numpy() / rows["observed"] - 1).abs()).mean()
    naive = hindcast.scores(table).loc[indicator, "naive"]
    assert conditional < naive, (conditional, naive)
