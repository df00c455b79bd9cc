"""Behaviour-pattern checks of the fit in Barlas's (1996) terms (issue 20): are the misses free of a pattern,
and does the model turn when the record turns?

Both read the model-data pairs of a run (calibration/summaries.py `observed_pairs`), each series over its
longest run of consecutive years (a gap breaks the lags):
- residual autocorrelation (Barlas's autocorrelation test of the errors): the miss as the likelihood measures
  it (relative, log(observed/model), for levels and shares; in pp for rates), less its mean (the bias is the
  MAPE's and Theil's U_M's business), its autocorrelation at lags 1 and 2 and the Ljung-Box statistic over
  both (Ljung and Box 1978): a miss that persists from year to year is a pattern the structure does not
  produce. Series with at least LONG consecutive years;
- turning points: the direction of each yearly change of the growth rate (a level's year-on-year growth, a
  rate itself), and the share of years in which the model's moves the same way as the record's: a model that
  accelerates and slows with the record calls more than half of them right, a coin half. Series with at
  least CHANGES such changes. The record's turns (a change of direction) and those the model matches within
  a year are reported beside it.

    python -m nxmfg.calibration.patterns      # both tables for the shipped fit
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from nxmfg.calibration.likelihood import is_rate

LONG = 8          # consecutive years for the autocorrelation test (two lags need a few more points than lags)
LAGS = (1, 2)
CHANGES = 7       # yearly changes of the growth rate for the turning-point test (real GDP growth has 7)


def _consecutive(pairs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per indicator, its pairs over the longest run of consecutive years, indexed by year."""
    runs = {}
    for name, rows in pairs.groupby("indicator", sort=True):
        rows = rows.drop_duplicates("year").sort_values("year").set_index("year")
        breaks = np.flatnonzero(np.diff(rows.index.to_numpy()) != 1) + 1
        pieces = np.split(np.arange(len(rows)), breaks)
        runs[name] = rows.iloc[max(pieces, key=len)]
    return runs


def misses(name: str, rows: pd.DataFrame) -> pd.Series:
    """The miss as the likelihood measures it: in pp for a rate, relative (log) for a level or share."""
    if is_rate(name):
        return rows["observed"] - rows["simulated"]
    return np.log(rows["observed"] / rows["simulated"])


def residual_autocorrelation(pairs: pd.DataFrame, long: int = LONG) -> pd.DataFrame:
    """Per series with >= `long` consecutive years: n, the misses' autocorrelation at each lag (r1, r2), the
    Ljung-Box statistic over the lags and its p-value under white misses (chi-squared, one degree per lag)."""
    rows = []
    for name, run in _consecutive(pairs).items():
        if len(run) < long:
            continue
        e = misses(name, run).to_numpy()
        e = e - e.mean()
        n, total = len(e), float(e @ e)
        r = [float(e[k:] @ e[:-k]) / total for k in LAGS]
        q = n * (n + 2) * sum(rk ** 2 / (n - k) for k, rk in zip(LAGS, r, strict=True))
        rows.append({"indicator": name, "n": n, **{f"r{k}": rk for k, rk in zip(LAGS, r, strict=True)},
                     "ljung_box": q, "p_value": float(stats.chi2.sf(q, len(LAGS)))})
    return pd.DataFrame(rows).set_index("indicator")


def _growth(name: str, series: pd.Series) -> pd.Series:
    return series if is_rate(name) else (100 * series.pct_change()).dropna()


def _turns(direction: pd.Series) -> list[int]:
    """Years whose change goes the other way than the year before (the year the path turns)."""
    signs = direction.to_numpy()
    return [int(year) for year, before, now in zip(direction.index[1:], signs[:-1], signs[1:], strict=True)
            if before * now < 0]


def turning_points(pairs: pd.DataFrame, changes: int = CHANGES) -> pd.DataFrame:
    """Per series with >= `changes` yearly changes of its growth rate: their number, the share the model calls
    in the record's direction (`agreement`), the record's turns and how many the model matches within a year."""
    rows = []
    for name, run in _consecutive(pairs).items():
        record = np.sign(_growth(name, run["observed"]).diff().dropna())
        model = np.sign(_growth(name, run["simulated"]).diff().dropna())
        if len(record) < changes:
            continue
        turns, model_turns = _turns(record), _turns(model)
        rows.append({"indicator": name, "changes": len(record), "agreement": float((record == model).mean()),
                     "record_turns": len(turns),
                     "matched": sum(any(abs(t - s) <= 1 for s in model_turns) for t in turns)})
    return pd.DataFrame(rows).set_index("indicator")


def shipped_pairs() -> pd.DataFrame:
    """The shipped fit's baseline against the record (every year of it)."""
    from nxmfg.calibration.history import observations
    from nxmfg.calibration.summaries import observed_pairs
    from nxmfg.model import ensemble, indicators

    run = ensemble.run({}, 1, workers=1, progress=False).isel(run=0)
    return observed_pairs(indicators.compute(run), observations())


if __name__ == "__main__":
    found = shipped_pairs()
    with pd.option_context("display.width", 200):
        print(residual_autocorrelation(found).to_string(float_format="{:.3f}".format))
        print(turning_points(found).to_string(float_format="{:.2f}".format))
