"""How a target reads an indicator: pure functions of an xr.DataArray with a "year" dim.

Each returns the indicator's measured value with "year" reduced away (a scalar, or dims ("run",)),
NaN where a needed year is missing. Rates in the indicators are already in % (see model/indicators.py).

The work is done on numpy arrays with the years last (`measure`, which `attainment_by_run` calls for all
targets of a band at once: xarray's per-call overhead was most of a verdict table's time); the xarray
functions below wrap it, with the same numpy reductions xarray's skip-NaN ones make.
"""

import warnings

import numpy as np
import xarray as xr

BASE_MEASURES = ("change_vs", "pp_change_vs", "cagr", "increase_vs")       # need base_year
SPAN_MEASURES = ("mean", "every_year", "cumulative", "mean_growth")        # need from_year
COUNT_MEASURES = ("probability_at_least",)                                 # need count
MEASURES = ("level", *BASE_MEASURES, *SPAN_MEASURES, *COUNT_MEASURES)
DEFAULT_TOLERANCE = 0.10   # `about` is met within 10 % of the threshold (docs/design.md)


def measure(name: str, values: np.ndarray, years: np.ndarray, year: int, base_year: int | None = None,
            from_year: int | None = None, count: int | None = None, direction: str = "at_least",
            threshold: float = 0.0) -> np.ndarray:
    """Measure `name` of `values` [..., year] on the time axis `years` (floats): an array of values.shape[:-1]."""
    values = np.asarray(values, dtype=float)
    years = np.asarray(years, dtype=float)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # an all-NaN window stays NaN, as in xarray
        if name in BASE_MEASURES:
            now, base = _at(values, years, year), _at(values, years, base_year)
            if name == "change_vs":
                return (now / base - 1.0) * 100.0
            if name == "cagr":
                return ((now / base) ** (1.0 / (year - base_year)) - 1.0) * 100.0
            return now - base                                         # pp_change_vs, increase_vs
        if name in SPAN_MEASURES:
            window = _span(values, years, from_year, year)
            if window is None:
                return np.full(values.shape[:-1], np.nan)
            if name == "mean":
                return np.nanmean(window, axis=-1)
            if name == "cumulative":
                return np.nansum(window, axis=-1)
            if name == "mean_growth":
                return (np.exp(np.nanmean(np.log(1.0 + window / 100.0), axis=-1)) - 1.0) * 100.0
            return _worst(window, direction, threshold)               # every_year
        if name in COUNT_MEASURES:
            return _poisson_at_least(_at(values, years, year), count)
        return _at(values, years, year)                               # level


def _at(values: np.ndarray, years: np.ndarray, year: int) -> np.ndarray:
    """The value in `year` (NaN if the run does not cover it)."""
    hit = np.isclose(years, year, atol=1e-6)
    if not hit.any():
        return np.full(values.shape[:-1], np.nan)
    return values[..., int(np.argmax(hit))]


def _span(values: np.ndarray, years: np.ndarray, first: int, last: int) -> np.ndarray | None:
    """Whole years first..last, or None if any is missing."""
    whole = np.isclose(years, np.round(years), atol=1e-6)
    keep = whole & (years >= first - 1e-6) & (years <= last + 1e-6)
    if keep.sum() != last - first + 1:
        return None
    return values[..., np.flatnonzero(keep)]


def _worst(window: np.ndarray, direction: str, threshold: float) -> np.ndarray:
    """every_year's worst year: lowest for at_least, highest for at_most, farthest from the threshold for about."""
    if direction == "at_least":
        return np.nanmin(window, axis=-1)
    if direction == "at_most":
        return np.nanmax(window, axis=-1)
    distance = np.abs(window - threshold)
    worst = np.argmax(np.where(np.isnan(distance), -np.inf, distance), axis=-1)
    return np.take_along_axis(window, worst[..., None], axis=-1)[..., 0]


def load_special_functions() -> None:
    """Import scipy.special (0.2 s) before the first count target needs it, e.g. while a run goes on."""
    import scipy.special  # noqa: F401


def _poisson_at_least(expected: np.ndarray, count: int) -> np.ndarray:
    """P(N >= count) for a Poisson number N of mean `expected` [0-1].

    For rare firms (revenue >= 100 or 500 亿元): the model knows their expected number from the Pareto tail
    of firm sizes, not which firms they are; with independent firms the number is Poisson.
    """
    from scipy.special import gammainc   # P(N >= k) = P(k, m), the regularised lower incomplete gamma;
                                         # scipy.stats would add 0.8 s of import to every `simulate`
    if count <= 0:
        return np.ones_like(expected)
    return gammainc(count, np.clip(expected, 0.0, None))


def _on(series: xr.DataArray, name: str, year: int, **given) -> xr.DataArray:
    """`measure` of a DataArray, its year dim reduced away (the other dims and their coordinates kept)."""
    ordered = series.transpose(..., "year")
    value = measure(name, ordered.values, ordered["year"].values, year, **given)
    kept = {key: coord for key, coord in ordered.coords.items() if "year" not in coord.dims and key != "year"}
    return xr.DataArray(value, dims=ordered.dims[:-1], coords=kept)


def at(series: xr.DataArray, year: int) -> xr.DataArray:
    """The value in `year` (NaN if the run does not cover it)."""
    return _on(series, "level", year)


def level(series: xr.DataArray, year: int) -> xr.DataArray:
    return _on(series, "level", year)


def change_vs(series: xr.DataArray, year: int, base_year: int) -> xr.DataArray:
    """% change of the level from base_year to year [%]."""
    return _on(series, "change_vs", year, base_year=base_year)


def pp_change_vs(series: xr.DataArray, year: int, base_year: int) -> xr.DataArray:
    """Percentage-point change of an indicator already in % [pp]."""
    return _on(series, "pp_change_vs", year, base_year=base_year)


def increase_vs(series: xr.DataArray, year: int, base_year: int) -> xr.DataArray:
    """Absolute change of the level [indicator unit]."""
    return _on(series, "increase_vs", year, base_year=base_year)


def cagr(series: xr.DataArray, year: int, base_year: int) -> xr.DataArray:
    """Average annual growth of the level from base_year to year [%/yr]."""
    return _on(series, "cagr", year, base_year=base_year)


def mean(series: xr.DataArray, year: int, from_year: int) -> xr.DataArray:
    return _on(series, "mean", year, from_year=from_year)


def cumulative(series: xr.DataArray, year: int, from_year: int) -> xr.DataArray:
    return _on(series, "cumulative", year, from_year=from_year)


def mean_growth(series: xr.DataArray, year: int, from_year: int) -> xr.DataArray:
    """Geometric mean of a %/yr indicator over from_year..year (年均增速) [%/yr]."""
    return _on(series, "mean_growth", year, from_year=from_year)


def every_year(series: xr.DataArray, year: int, from_year: int, direction: str,
               threshold: float) -> xr.DataArray:
    """The worst year over from_year..year: lowest for at_least, highest for at_most,
    farthest from the threshold for about."""
    return _on(series, "every_year", year, from_year=from_year, direction=direction, threshold=threshold)


def probability_at_least(series: xr.DataArray, year: int, count: int) -> xr.DataArray:
    """P(N >= count) in `year` for a Poisson number N with the indicator's expected value [0-1]
    (`_poisson_at_least`)."""
    return _on(series, "probability_at_least", year, count=count)


def margin(value, threshold: float, direction: str, tolerance: float | None = None):
    """Signed margin in the threshold's unit: positive = beaten by that much (of a DataArray or an array).

    For `about`, the margin is the room left inside the band threshold +- tolerance x |threshold|.
    """
    if direction == "at_least":
        return value - threshold
    if direction == "at_most":
        return threshold - value
    band = (DEFAULT_TOLERANCE if tolerance is None else tolerance) * abs(threshold)
    return band - abs(value - threshold)
