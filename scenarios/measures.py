"""How a target reads an indicator: pure functions of an xr.DataArray with a "year" dim.

Each returns the indicator's measured value with "year" reduced away (a scalar, or dims ("run",)),
NaN where a needed year is missing. Rates in the indicators are already in % (see model/indicators.py).
"""

import numpy as np
import xarray as xr

BASE_MEASURES = ("change_vs", "pp_change_vs", "cagr", "increase_vs")       # need base_year
SPAN_MEASURES = ("mean", "every_year", "cumulative", "mean_growth")        # need from_year
COUNT_MEASURES = ("probability_at_least",)                                 # need count
MEASURES = ("level", *BASE_MEASURES, *SPAN_MEASURES, *COUNT_MEASURES)
DEFAULT_TOLERANCE = 0.10   # `about` is met within 10 % of the threshold (docs/design.md)


def _nan_like(series: xr.DataArray) -> xr.DataArray:
    return xr.full_like(series.isel(year=0, drop=True), np.nan, dtype=float)


def _whole_years(series: xr.DataArray) -> np.ndarray:
    years = np.asarray(series["year"].values, dtype=float)
    return np.isclose(years, np.round(years), atol=1e-6)


def at(series: xr.DataArray, year: int) -> xr.DataArray:
    """The value in `year` (NaN if the run does not cover it)."""
    hit = np.isclose(np.asarray(series["year"].values, dtype=float), year, atol=1e-6)
    if not hit.any():
        return _nan_like(series)
    return series.isel(year=int(np.argmax(hit)), drop=True).astype(float)


def span(series: xr.DataArray, first: int, last: int) -> xr.DataArray | None:
    """Whole years first..last, or None if any is missing."""
    years = np.asarray(series["year"].values, dtype=float)
    keep = _whole_years(series) & (years >= first - 1e-6) & (years <= last + 1e-6)
    if keep.sum() != last - first + 1:
        return None
    return series.isel(year=np.flatnonzero(keep)).astype(float)


def level(series: xr.DataArray, year: int) -> xr.DataArray:
    return at(series, year)


def change_vs(series: xr.DataArray, year: int, base_year: int) -> xr.DataArray:
    """% change of the level from base_year to year [%]."""
    return (at(series, year) / at(series, base_year) - 1.0) * 100.0


def pp_change_vs(series: xr.DataArray, year: int, base_year: int) -> xr.DataArray:
    """Percentage-point change of an indicator already in % [pp]."""
    return at(series, year) - at(series, base_year)


def increase_vs(series: xr.DataArray, year: int, base_year: int) -> xr.DataArray:
    """Absolute change of the level [indicator unit]."""
    return at(series, year) - at(series, base_year)


def cagr(series: xr.DataArray, year: int, base_year: int) -> xr.DataArray:
    """Average annual growth of the level from base_year to year [%/yr]."""
    ratio = at(series, year) / at(series, base_year)
    return (ratio ** (1.0 / (year - base_year)) - 1.0) * 100.0


def mean(series: xr.DataArray, year: int, from_year: int) -> xr.DataArray:
    window = span(series, from_year, year)
    return _nan_like(series) if window is None else window.mean("year")


def cumulative(series: xr.DataArray, year: int, from_year: int) -> xr.DataArray:
    window = span(series, from_year, year)
    return _nan_like(series) if window is None else window.sum("year")


def mean_growth(series: xr.DataArray, year: int, from_year: int) -> xr.DataArray:
    """Geometric mean of a %/yr indicator over from_year..year (年均增速) [%/yr]."""
    window = span(series, from_year, year)
    if window is None:
        return _nan_like(series)
    factors = 1.0 + window / 100.0
    return (np.exp(np.log(factors).mean("year")) - 1.0) * 100.0


def every_year(series: xr.DataArray, year: int, from_year: int, direction: str,
               threshold: float) -> xr.DataArray:
    """The worst year over from_year..year: lowest for at_least, highest for at_most,
    farthest from the threshold for about."""
    window = span(series, from_year, year)
    if window is None:
        return _nan_like(series)
    if direction == "at_least":
        return window.min("year")
    if direction == "at_most":
        return window.max("year")
    worst = abs(window - threshold).fillna(-np.inf).argmax("year")
    return window.isel(year=worst, drop=True)


def load_special_functions() -> None:
    """Import scipy.special (0.2 s) before the first count target needs it, e.g. while a run goes on."""
    import scipy.special  # noqa: F401


def probability_at_least(series: xr.DataArray, year: int, count: int) -> xr.DataArray:
    """P(N >= count) in `year` for a Poisson number N with the indicator's expected value [0-1].

    For rare firms (revenue >= 100 or 500 亿元): the model knows their expected number from the Pareto tail
    of firm sizes, not which firms they are; with independent firms the number is Poisson.
    """
    from scipy.special import gammainc   # P(N >= k) = P(k, m), the regularised lower incomplete gamma;
                                         # scipy.stats would add 0.8 s of import to every `simulate`
    expected = at(series, year).clip(min=0.0)
    if count <= 0:
        return xr.ones_like(expected)
    return xr.apply_ufunc(gammainc, count, expected)


def margin(value: xr.DataArray, threshold: float, direction: str,
           tolerance: float | None = None) -> xr.DataArray:
    """Signed margin in the threshold's unit: positive = beaten by that much.

    For `about`, the margin is the room left inside the band threshold +- tolerance x |threshold|.
    """
    if direction == "at_least":
        return value - threshold
    if direction == "at_most":
        return threshold - value
    band = (DEFAULT_TOLERANCE if tolerance is None else tolerance) * abs(threshold)
    return band - abs(value - threshold)
