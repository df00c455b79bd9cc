"""Plain PySD, one parameter set per run: the yardstick the ensemble is tested and timed against."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pysd
import xarray as xr

from nxmfg.model.engine import runtime


def pysd_runs(py_file: str | Path, param_sets: list[dict], final_time: float, interp_lookups: bool = True,
              time_step: float | None = None, economy=None) -> xr.Dataset:
    """Run each parameter set with PySD's `Model.run`, yearly; dims ("run", "year").

    With `interp_lookups` the model's Vensim tables are evaluated with np.interp instead of
    PySD's xarray interpolation (the issue's "faster PySD loop"); nothing else changes. The
    model is loaded once: every set must give the same keys, so no run inherits another's.
    A run PySD cannot complete, or that turns complex (Python's `**` of a negative number to a
    fractional power, in a module not rewritten by `transform.numpy_power`), is all NaN and flagged
    False in the `valid` coordinate.
    `economy`, from `load(py_file, interp_lookups)`, saves loading the model again.
    """
    economy = economy or load(py_file, interp_lookups)
    if len({frozenset(params) for params in param_sets}) > 1:
        raise ValueError("every parameter set must give the same names (PySD params are sticky)")
    start = economy.time.initial_time()
    frames = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for params in param_sets:
            try:
                frame = economy.run(params=params, final_time=final_time, time_step=time_step,
                                    return_timestamps=np.arange(start, final_time + 0.5))
            except (ArithmeticError, ValueError, TypeError):
                frames.append(None)
                economy = load(py_file, interp_lookups)  # a crashed run leaves stale constant caches
                continue
            frame = frame.rename(columns=economy.namespace)
            frame = frame.loc[:, ~frame.columns.duplicated()]
            frames.append(None if any(np.iscomplexobj(frame[c].to_numpy()) for c in frame) else frame)
    return _stack(frames)


def load(py_file: str | Path, interp_lookups: bool):
    """The PySD model, its Vensim tables on np.interp if `interp_lookups`."""
    economy = pysd.load(py_file)
    if interp_lookups:
        for table in economy._lookup_elements:
            table.__class__ = runtime.HardcodedLookups
            table.initialize()
    return economy


def _stack(frames: list[pd.DataFrame | None]) -> xr.Dataset:
    done = [f for f in frames if f is not None]
    if not done:
        raise RuntimeError("PySD completed none of the runs")
    template = done[0]
    values = np.full((len(template.columns), len(frames), len(template)), np.nan)
    for i, frame in enumerate(frames):
        if frame is not None:
            values[:, i] = frame.to_numpy(float).T
    years = np.round(template.index.to_numpy()).astype(int)
    return xr.Dataset({name: (("run", "year"), values[k]) for k, name in enumerate(template.columns)},
                      coords={"run": np.arange(len(frames)), "year": years,
                              "valid": ("run", [f is not None for f in frames])})
