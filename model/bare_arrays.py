"""A run's variables as bare numpy arrays for the indicators' arithmetic (model/indicators.py).

The indicators are sums, products, ratios and year-on-year shifts of a run's variables, all of one shape
([runs x years] or [years]). On xarray each operation aligns indexes and wraps its result (about 1 ms),
and `run[name]` scans the Dataset's ~500 variables: ~100 ms for the explorer's band of 257 runs. Here the
same numpy operations run element for element (tests/test_fast_paths.py compares them with xarray's);
a run whose variables differ in dims raises Mixed, and indicators.compute lets xarray align them.
"""

from __future__ import annotations

import numpy as np
import xarray as xr


def run_dims(run: xr.Dataset) -> tuple[str, ...]:
    """The dims every variable of `run` has on the bare path."""
    return ("run", "year") if "run" in run.dims else ("year",)


class Mixed(Exception):
    """A variable whose dims are not the run's ("run", "year") or ("year",)."""


class Series:
    """One variable of a run as a bare numpy array [runs x years] (or [years]): the indicators' arithmetic
    and `shift(year=1)`, element for element as xarray does it on aligned arrays, without xarray's
    per-operation alignment and wrapping (about 1 ms an operation, ~100 ms for a band of 257 runs)."""

    __slots__ = ("a",)
    __array_ufunc__ = None     # numpy scalars defer to the reflected operators below

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    def shift(self, year: int) -> Series:
        out = np.full(self.a.shape, np.nan)
        if year > 0:
            out[..., year:] = self.a[..., :-year]
        elif year < 0:
            out[..., :year] = self.a[..., -year:]
        else:
            out[...] = self.a
        return Series(out)


def _operator(function, reflected: bool = False):
    def apply(self, other):
        other = other.a if isinstance(other, Series) else other
        return Series(function(other, self.a) if reflected else function(self.a, other))
    return apply


for _name, _function in (("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("truediv", np.true_divide),
                         ("pow", np.power)):
    setattr(Series, f"__{_name}__", _operator(_function))
    setattr(Series, f"__r{_name}__", _operator(_function, reflected=True))
Series.__neg__ = lambda self: Series(-self.a)


class Bare:
    """A run's variables as `Series` (`run[name]` on the Dataset itself scans its ~500 variables)."""

    def __init__(self, run: xr.Dataset) -> None:
        self._variables, self._dims = run.variables, run_dims(run)

    def __getitem__(self, name: str) -> Series:
        variable = self._variables[name]
        if variable.dims != self._dims:
            raise Mixed(name)
        return Series(np.asarray(variable.data, dtype=float))


def as_array(value, run: xr.Dataset) -> np.ndarray:
    """An indicator's result as a [runs x years] array (a constant indicator spread out)."""
    value = value.a if isinstance(value, Series) else value
    return np.array(np.broadcast_to(value, tuple(run.sizes[d] for d in run_dims(run))), dtype=float)
