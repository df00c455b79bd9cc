"""The ex-ante hindcast (issue 20, Barlas 1996): the fit to 2020 run on the drivers as a forecaster saw them
in 2020, scored on the recorded 2021-2023 against a naive forecast.

The model's own run: the fit to 2020 (calibration/out_of_sample/), `last observed year` = 2020, so every
history table gives way to its outlook after 2020, and the outlooks as they stood in 2020:
- China's real growth and deflators, and the region's wage labour: their mean yearly change over the five
  years to 2020 (2015-2020), held;
- prices and national rules (coal price, R&D super-deduction, the coal-conversion build-out): held at 2020
  (no foresight of 2021's coal boom or its new deduction rule);
- trending shares (China's R&D intensity, the non-fossil power share): their 2015-2020 pace, continued;
- the energy and CO2 quotas: the model's defaults (they bind no baseline run);
- China's invention grants: its 2020 level growing with its real industry (the .mdl's outlook rule).
Two naive forecasts, Ningxia's 2020 level grown at China's nominal growth (data file
national_gdp_nominal_100m_yuan, national_industry_va_100m_yuan):
- `naive`, the issue's: China's recorded growth in 2021-2023, which knows the years the model does not (the
  price boom of 2021-2022 among them);
- `naive_ex_ante`, the like-for-like benchmark (a forecast and its benchmark share one information set):
  China's mean yearly nominal growth over 2015-2020, the pace the model's outlooks hold.

    python -m nxmfg.calibration.hindcast      # prints both forecasts' misses per year and their MAPE
"""

from __future__ import annotations

import pandas as pd

SEEN, LAST, PACE_FROM = 2020, 2023, 2015
SCORED = {"gdp_100m_yuan": "national_gdp_nominal_100m_yuan",
          "industry_va_100m_yuan": "national_industry_va_100m_yuan"}
GROWTH = {  # outlook table: the run's level whose 2015-2020 mean yearly growth it holds
    "national_industry_growth_outlook": "national_industry_index",
    "national_nonindustry_growth_outlook": "national_nonindustry_real",
    "national_industry_inflation_outlook": "national_industry_price_level",
    "national_nonindustry_inflation_outlook": "national_nonindustry_price_level",
    "regional_employment_growth_outlook": "regional_employment",
}
HELD = {"coal_price_outlook": "coal_price", "rd_super_deduction_outlook": "rd_super_deduction",
        "coal_conversion_build_out_outlook": "coal_conversion_build_out"}
PACED = {"national_rd_intensity_outlook": "national_rd_intensity",
         "non_fossil_power_share_outlook": "non_fossil_power_share"}


def outlooks_as_of(run, seen: int = SEEN, since: int = PACE_FROM, last: int = 2035) -> dict[str, pd.Series]:
    """The outlook tables of a forecaster at the end of `seen`, from a run on the record (dims `year`)."""
    at = lambda name, year: float(run[name].sel(year=year))  # noqa: E731
    span = seen - since
    years = pd.Index([float(seen), float(last)], name="year")
    tables = {table: pd.Series((at(level, seen) / at(level, since)) ** (1 / span) - 1, index=years)
              for table, level in GROWTH.items()}
    tables |= {table: pd.Series(at(level, seen), index=years) for table, level in HELD.items()}
    for table, level in PACED.items():
        pace = (at(level, seen) - at(level, since)) / span
        tables[table] = pd.Series([at(level, seen), at(level, seen) + pace * (last - seen)], index=years)
    return tables


def ex_ante_params(fit_values: dict[str, float], seen: int = SEEN) -> dict:
    """The fit's inputs as a forecaster at the end of `seen` had them: no record after it, its outlooks."""
    from nxmfg import model

    recorded = model.engine_run(fit_values, seen)
    return fit_values | {"last_observed_year": float(seen)} | outlooks_as_of(recorded, seen)


def forecasts(fit_values: dict[str, float], seen: int = SEEN, last: int = LAST,
              history: pd.DataFrame | None = None) -> pd.DataFrame:
    """indicator, year, observed, model (ex ante), naive, naive_ex_ante: for each scored indicator and year
    after `seen`."""
    from nxmfg import model
    from nxmfg.calibration.history import national_series, observations
    from nxmfg.model import indicators

    ex_ante = indicators.compute(model.engine_run(ex_ante_params(fit_values, seen), last), list(SCORED))
    seen_rows = observations(until=last) if history is None else history
    rows = []
    for indicator, national in SCORED.items():
        record = seen_rows[seen_rows["indicator"] == indicator].set_index("year")["value"]
        china = national_series(national)
        for year in range(seen + 1, last + 1):
            if year not in record.index:
                continue
            rows.append({"indicator": indicator, "year": year, "observed": float(record[year]),
                         "model": float(ex_ante[indicator].sel(year=year)),
                         "naive": float(record[seen] * china[year] / china[seen]),
                         "naive_ex_ante": float(record[seen] * (china[seen] / china[PACE_FROM])
                                                ** ((year - seen) / (seen - PACE_FROM)))})
    return pd.DataFrame(rows)


def scores(table: pd.DataFrame) -> pd.DataFrame:
    """MAPE (%) of the model's and the naive forecasts per indicator."""
    columns = ["model", "naive", "naive_ex_ante"]
    return (100 * (table[columns].div(table["observed"], axis=0) - 1).abs()).groupby(table["indicator"]).mean()


def main() -> None:
    from nxmfg.calibration.coverage import OUT_OF_SAMPLE
    from nxmfg import model
    from nxmfg.calibration.fits import read_fit

    fit = read_fit(OUT_OF_SAMPLE, model.constants())
    table = forecasts(dict(fit.values))
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    print("MAPE 2021-2023, %:")
    print(scores(table).to_string(float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
