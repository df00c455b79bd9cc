"""Are the odds calibrated (issue 21, item 6)? The fit to 2020 (calibration/out_of_sample/), its states of the
world drawn as every surface draws them (calibration/states.py), run from 2010 without the record (no seam):
the share of the 2021-2023 observations, over every series the model computes, inside the states' 90 % band
(issue 21 asks 75-99 %), and how sharp GDP's 2023 band is (within ±15 % of its median).

    python -m nxmfg.calibration.coverage        # prints the table and the two figures
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

OUT_OF_SAMPLE = Path(__file__).with_name("out_of_sample") / "fitted_until_2020.yaml"
UNTIL, LAST = 2020, 2023


def table(fit_path: Path = OUT_OF_SAMPLE, until: int = UNTIL, last: int = LAST,
          history: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per observation after `until` up to `last` (of `history`, default the shipped record):
    indicator, year, observed, the states' q05, q50, q95, and whether the band holds it."""
    from nxmfg import model, scenarios
    from nxmfg.calibration import states, worlds
    from nxmfg.calibration.fits import read_fit
    from nxmfg.calibration.history import observations
    from nxmfg.model import ensemble, indicators

    fit = read_fit(fit_path, model.constants())
    chosen = states.draw(fit)
    baseline = scenarios.from_mapping({"name": "baseline", "description": "no lever moved"}, "<coverage>")
    params = worlds.inputs(baseline, fit, chosen)
    runs = ensemble.run_translated(model.translated(), params, chosen.count + 1, progress=False,
                                   control={"final_time": last, "saveper": 1},
                                   reduce=partial(indicators.compute))
    band = runs.isel(run=slice(1, None))          # run 0 is the central run, not a state
    seen = observations(until=last) if history is None else history[history["year"] <= last]
    seen = seen[(seen["year"] > until) & seen["indicator"].isin(list(band.data_vars))]
    rows = []
    for row in seen.itertuples():
        values = band[row.indicator].sel(year=row.year).to_numpy().astype(float)
        values = values[np.isfinite(values)]
        if not values.size:
            continue
        q05, q50, q95 = np.quantile(values, [0.05, 0.5, 0.95])
        rows.append({"indicator": row.indicator, "year": int(row.year), "observed": float(row.value),
                     "q05": q05, "q50": q50, "q95": q95, "inside": bool(q05 <= row.value <= q95)})
    return pd.DataFrame(rows)


def sharpness(coverage: pd.DataFrame, indicator: str = "gdp_100m_yuan", year: int = LAST) -> tuple[float, float]:
    """The band's ends relative to its median, in per cent: (q05 / q50 - 1, q95 / q50 - 1)."""
    row = coverage[(coverage["indicator"] == indicator) & (coverage["year"] == year)].iloc[0]
    return 100 * (row["q05"] / row["q50"] - 1), 100 * (row["q95"] / row["q50"] - 1)


def summary(coverage: pd.DataFrame) -> str:
    """One sentence: the share inside the band, against the issue's 75-99 %, and GDP's band where scored."""
    text = (f"{coverage['inside'].mean():.1%} of {len(coverage)} observations after the fit years lie inside the "
            "states' 90 % band (calibrated: 75-99 %)")
    if ((coverage["indicator"] == "gdp_100m_yuan") & (coverage["year"] == coverage["year"].max())).any():
        low, high = sharpness(coverage, year=int(coverage["year"].max()))
        text += f"; GDP's {int(coverage['year'].max())} band spans {low:+.1f} % / {high:+.1f} % of its median (±15 %)"
    return text + "."


if __name__ == "__main__":
    found = table()
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(found.to_string(index=False, float_format="{:.4g}".format))
    print(summary(found))
