"""A scenario in every state of the world: its engine inputs, its runs from the reconciled seam, its odds.

One batch holds the central run (run 0: the fit's estimate, the .mdl's assumed values, the undrawn outlooks)
and the states (runs 1..count, calibration/states.py). Every policy lever and outlook is an input of every
batch, so that look-ahead scenarios share their past: one reconciled start at the seam (calibration/seam.py),
made once per fit, states and time axis and then read from the private cache (calibration/seam_cache.py),
serves them all. `simulate` and `compare` (api/), the explorer and the optimiser build their runs here; P(met)
is the share of the states (run 0 left out) meeting a target.
"""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pandas as pd
import xarray as xr

from nxmfg.calibration import seam, seam_cache
from nxmfg.calibration.states import States, central_values

_STARTS: dict[tuple, seam.Start] = {}
KEPT_STARTS = 8


def baseline_values(fit, overrides: dict[str, float]) -> dict[str, float]:
    """Every constant's value before any lever acts: the .mdl's, the fit's, then the overrides."""
    from nxmfg import model

    return model.constants()["value"].to_dict() | fit.values | dict(overrides)


def inputs(scenario, fit, states: States, overrides: dict[str, float] | None = None, repeat: int = 1) -> dict:
    """Engine inputs of the scenario's batch (run 0 central, 1..count the states), `repeat` times over.

    Overrides hold in every state (a constant a user fixes is not drawn); outlook draws move the scenario's
    own tables where it sets them.
    """
    from nxmfg import model
    from nxmfg.scenarios import POLICY_LEVERS

    overrides = dict(overrides or {})
    baseline = baseline_values(fit, overrides)
    own = scenario.params(baseline)
    tables = model.outlook_tables() | {name: value for name, value in own.items() if name.endswith("_outlook")}
    params: dict = dict(fit.values) | overrides | dict(tables)
    params |= {name: pd.Series({2010.0: float(baseline[name])}) for name in POLICY_LEVERS}
    params |= {name: value for name, value in own.items() if not name.endswith("_outlook")}
    drawn = states.inputs(central_values(states, fit.values, baseline), tables, repeat)
    params |= {name: value for name, value in drawn.items() if name not in overrides}
    return params


def start(fit, states: States, control: dict, overrides: dict[str, float] | None = None,
          history: pd.DataFrame | None = None) -> seam.Start:
    """The reconciled start of the look-ahead batches of `fit` and `states`: kept, a handful per process, in
    front of the private cache on disk (calibration/seam_cache.py), so that a new process reads it back."""
    from nxmfg import model
    from nxmfg.calibration.fits import sha256
    from nxmfg.scenarios import from_mapping

    key = (model.version(), str(fit.path), tuple(sorted(fit.values.items())),
           sha256(fit.ensemble) if fit.ensemble else None, tuple(sorted((overrides or {}).items())),
           states.digest(), tuple(sorted(control.items())))
    if key not in _STARTS:
        untouched = from_mapping({"name": "untouched", "description": "x"}, "<untouched>")
        _STARTS[key] = seam_cache.reconciled(inputs(untouched, fit, states, overrides), states.count + 1, control,
                                             history)
        while len(_STARTS) > KEPT_STARTS:
            _STARTS.pop(next(iter(_STARTS)))
    return _STARTS[key]


def run(scenario, fit, states: States, control: dict, overrides: dict[str, float] | None = None,
        names: list[str] | None = None, history: pd.DataFrame | None = None) -> tuple[xr.Dataset, dict | None]:
    """The scenario's batch: (dims run, year: every variable, or the indicators `names`; the seam's record,
    None for a counterfactual of the past, which starts from no record)."""
    from nxmfg import model
    from nxmfg.model import ensemble, indicators

    params = inputs(scenario, fit, states, overrides)
    reduce = partial(indicators.compute, names=names) if names is not None else None
    if not seam.applies(scenario):
        runs = ensemble.run_translated(model.translated(), params, states.count + 1, reduce=reduce,
                                       control=control, progress=False)
        return runs, None
    reconciled = start(fit, states, control, overrides, history)
    runs = ensemble.run_translated(model.translated(), params, states.count + 1, reduce=reduce, control=control,
                                   resume=reconciled.snapshot)
    return runs, reconciled.describe()


def p_met(judged: xr.Dataset) -> np.ndarray:
    """P(met) per target over the states (runs 1..) of `scenarios.attainment_by_run`'s result; NaN where no
    state has a value."""
    margin = judged["margin"].transpose("target", "run").values[:, 1:]
    met = np.where(np.isnan(margin), np.nan, judged["met"].transpose("target", "run").values[:, 1:])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # a target no state has a value for: NaN
        return np.nanmean(met, axis=1)


def run_repeated(task: tuple) -> xr.Dataset:
    """`count` copies of a batch, resumed from its reconciled start (candidates that differ only after the
    seam), in whatever process runs it (model.ensemble.map_calls): task = (params, count, start snapshot,
    reduce, control)."""
    from nxmfg import model
    from nxmfg.model import ensemble

    params, count, snapshot, reduce, control = task
    return ensemble.run_translated(model.translated(), params, count * snapshot.size, reduce=reduce,
                                   control=control, resume=ensemble.repeated(snapshot, count))
