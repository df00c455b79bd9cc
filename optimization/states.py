"""States of the world: the calibrated parameter sets and outlook draws every candidate is evaluated in.

State 0 is the central state: the fit's estimate (the first row of ensemble.csv) and every outlook at its
default table, which is what `nxmfg simulate` runs. States 1.. cycle through the first
`parameter_sets` calibrated sets in a seeded order, and draw each outlook's shift or scale by Latin
hypercube sampling, so a few dozen states already span each distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats
from scipy.stats import qmc

from .study import Draw, Study


@dataclass(frozen=True)
class States:
    """Inputs per state (index 0..count-1).

    Attributes
    ----------
    parameters
        {constant: values [count]}: the calibrated parameter set of each state.
    outlooks
        {outlook: DataArray ("run", "year")}: each state's outlook table (dim "run" = state).
    table
        One row per state: its parameter set (row of ensemble.csv) and each outlook's draw.
    """

    parameters: dict[str, np.ndarray]
    outlooks: dict[str, xr.DataArray]
    table: pd.DataFrame

    @property
    def count(self) -> int:
        return len(self.table)

    def repeated(self, candidates: int) -> dict:
        """Ensemble params for candidates x states runs, candidate-major (run = candidate * count + state)."""
        params: dict = {name: np.tile(values, candidates) for name, values in self.parameters.items()}
        for name, paths in self.outlooks.items():
            data = np.tile(paths.to_numpy(), (candidates, 1))
            params[name] = xr.DataArray(data, dims=("run", "year"),
                                        coords={"run": np.arange(len(data)), "year": paths["year"].to_numpy()})
        return params


def sample(study: Study, parameter_sets: pd.DataFrame, tables: dict[str, pd.Series]) -> States:
    """The study's states of the world (deterministic in study.seed).

    parameter_sets: the fit's ensemble.csv (the estimate first); tables: model.outlook_tables().
    """
    count, rng = study.states.count, np.random.default_rng([study.seed, 1])  # stream apart from the search's
    chosen = parameter_sets.iloc[:study.states.parameter_sets].reset_index(drop=True)
    order = np.concatenate([[0], _cycle(len(chosen), count - 1, rng)]).astype(int)
    parameters = {name: chosen[name].to_numpy(float)[order] for name in chosen.columns}
    table = pd.DataFrame({"state": np.arange(count), "parameter_set": order})
    outlooks: dict[str, xr.DataArray] = {}
    names = list(study.states.outlooks)
    unit = qmc.LatinHypercube(d=len(names), seed=rng).random(count - 1) if names and count > 1 else None
    for j, name in enumerate(names):
        spec = study.states.outlooks[name]
        neutral = 0.0 if spec.shift is not None else 1.0
        draws = np.concatenate([[neutral], quantiles(spec.draw, unit[:, j]) if unit is not None else []])
        table[f"{name}.{'shift' if spec.shift is not None else 'scale'}"] = draws
        default = tables[name]
        values = (default.to_numpy()[None, :] + draws[:, None] if spec.shift is not None
                  else default.to_numpy()[None, :] * draws[:, None])
        outlooks[name] = xr.DataArray(values, dims=("run", "year"),
                                      coords={"run": np.arange(count), "year": default.index.to_numpy(float)})
    return States(parameters, outlooks, table)


def _cycle(sets: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` set indices: every set once per shuffled round, so the sets are used evenly."""
    rounds = -(-count // sets) if count else 0
    return np.concatenate([rng.permutation(sets) for _ in range(rounds)])[:count] if rounds else np.empty(0)


def quantiles(draw: Draw, unit: np.ndarray) -> np.ndarray:
    """The draw's values at probabilities `unit` (in [0, 1)), truncated to its range."""
    low, high = draw.range
    if draw.distribution == "uniform":
        return low + unit * (high - low)
    if draw.distribution == "triangular":
        return stats.triang.ppf(unit, (draw.mode - low) / (high - low), loc=low, scale=high - low)
    a, b = (low - draw.mean) / draw.sd, (high - draw.mean) / draw.sd
    return stats.truncnorm.ppf(unit, a, b, loc=draw.mean, scale=draw.sd)
