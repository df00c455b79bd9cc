"""Lever packages: the search's decision vectors, decoded to scenarios, and scenarios to per-run lever paths.

A decision vector holds, per lever, its level and, where the study searches them, its start year and ramp
(years from the baseline value at the start to the level). Decoding rounds a level to the decimal place of
a ten-thousandth of its range, and start and ramp to whole years, so the package that is evaluated is
exactly the one written as a scenario file: `nxmfg simulate` then runs the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from nxmfg import scenarios
from nxmfg.scenarios import Scenario

from .study import Study

WHOLE = 1 - 1e-9   # an integer variable k in [a, b] is searched as x in [a, b + WHOLE] and floored
LEVEL_STEP = 1e-4  # a level is rounded to the decimal place of a ten-thousandth of its range (0.5 stays 0.5)


@dataclass(frozen=True)
class Space:
    """The decision space of a study: one column per lever level, start year and ramp that are searched."""

    study: Study
    baseline: dict[str, float]

    @property
    def columns(self) -> list[tuple[str, str]]:
        """(lever, "level" | "start" | "ramp") per decision variable, in study order."""
        found = []
        for name, lever in self.study.levers.items():
            found.append((name, "level"))
            found += [(name, part) for part in ("start", "ramp") if getattr(lever, part) is not None]
        return found

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        low, high = [], []
        for name, part in self.columns:
            pair = getattr(self.study.levers[name], "range" if part == "level" else part)
            low.append(float(pair[0]))
            high.append(float(pair[1]) + (WHOLE if part != "level" else 0.0))
        return np.array(low), np.array(high)

    def decode(self, X: np.ndarray) -> np.ndarray:
        """Rounded decision vectors (rows of X): what is evaluated, written and reported."""
        X = np.atleast_2d(np.asarray(X, dtype=float)).copy()
        low, high = self.bounds
        for j, (name, part) in enumerate(self.columns):
            if part == "level":
                first, last = self.study.levers[name].range
                digits = -int(np.floor(np.log10((last - first) * LEVEL_STEP)))
                X[:, j] = np.clip([round(float(x), digits) for x in X[:, j]], first, last)
            else:
                X[:, j] = np.clip(np.floor(X[:, j]), low[j], np.floor(high[j]))
        return X

    def encode(self, levels: dict[str, float]) -> np.ndarray:
        """A vector with these levels (clipped to the ranges), starting at once and without a ramp."""
        x = []
        for name, part in self.columns:
            lever = self.study.levers[name]
            if part == "level":
                x.append(float(np.clip(levels.get(name, self.baseline[name]), *lever.range)))
            else:
                x.append(float(getattr(lever, part)[0]))
        return self.decode(np.array([x]))[0]

    def levers(self, x: np.ndarray) -> dict[str, dict]:
        """One decoded vector as scenario levers: {lever: {"from": year, "value": v} | {"from", "path"}}."""
        parts: dict[str, dict] = {name: {} for name in self.study.levers}
        for (name, part), value in zip(self.columns, x, strict=True):
            parts[name][part] = value
        levers = {}
        for name, got in parts.items():
            start = int(got.get("start", self.study.levers_from))
            ramp, level = int(got.get("ramp", 0)), float(got["level"])
            if ramp == 0:
                levers[name] = {"from": start, "value": level}
            else:
                levers[name] = {"from": start, "path": {start: float(self.baseline[name]), start + ramp: level}}
        return levers

    def scenario(self, x: np.ndarray, name: str, description: str, base: Scenario) -> Scenario:
        """The decoded vector `x` as a scenario (the base scenario's levers and paths kept)."""
        return scenarios.with_changes(base, name, description, levers=self.levers(x))

    def table(self, X: np.ndarray) -> pd.DataFrame:
        """Decoded vectors as a table: one column per lever level (named by the lever), start and ramp."""
        names = [name if part == "level" else f"{name}.{part}" for name, part in self.columns]
        return pd.DataFrame(X, columns=names)


def level_of(lever: scenarios.Lever) -> float:
    """The level a scenario lever reaches: its value, or its path's last point."""
    return float(lever.value if lever.path is None else lever.path[max(lever.path)])


def lever_paths(packages: list[Scenario], baseline: dict[str, float], repeat: int) -> dict[str, xr.DataArray]:
    """Per-run time paths of every lever any package sets: dims ("run", "year"), each package's path
    repeated `repeat` times in a row (its states). A package that leaves a lever alone keeps its baseline.

    Each path is sampled on the union of all packages' breakpoints; a path is linear between its own
    points, so sampling it at more points leaves it unchanged.
    """
    series = [p.params(baseline) for p in packages]
    names = list(dict.fromkeys(name for params in series for name in params if name in baseline))
    paths = {}
    for name in names:
        flat = pd.Series([float(baseline[name])], index=[float(scenarios.FIRST_LEVER_YEAR)])
        chosen = [params.get(name, flat) for params in series]
        grid = np.unique(np.concatenate([s.index.to_numpy(float) for s in chosen]))
        values = np.stack([np.interp(grid, s.index.to_numpy(float), s.to_numpy(float)) for s in chosen])
        values = np.repeat(values, repeat, axis=0)
        paths[name] = xr.DataArray(values, dims=("run", "year"),
                                   coords={"run": np.arange(len(values)), "year": grid})
    return paths
