"""Lever packages: the search's decision vectors, decoded to scenarios, and scenarios to per-run lever paths.

A decision vector holds, per lever, its level and, where the study searches them, its start year and ramp
(years from the baseline value at the start to the level). Decoding rounds a level to its lever's `step`
(what a programme can set: whole firms, 0.1 pp of a share) or, without one, to the decimal place of a
ten-thousandth of its range, and start and ramp to whole years, so the package that is evaluated is
exactly the one written as a scenario file: `nxmfg simulate` then runs the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from nxmfg import scenarios
from nxmfg.scenarios import Scenario

from .study import LeverRange, Study

WHOLE = 1 - 1e-9   # an integer variable k in [a, b] is searched as x in [a, b + WHOLE] and floored
LEVEL_STEP = 1e-4  # without a step, a level is rounded to the decimal place of a ten-thousandth of its range
BOUND_SHARE = 0.02  # a level within 2 % of its range's width of an end sits at a search bound


@dataclass(frozen=True)
class Space:
    """The decision space of a study: one column per lever level, start year and ramp that are searched."""

    study: Study
    baseline: dict[str, float]
    steps: dict[str, float] = field(default_factory=dict)   # lever -> step; default: `step_of` without units

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
            lever = self.study.levers[name]
            pair = searched(lever) if part == "level" else getattr(lever, part)
            low.append(float(pair[0]))
            high.append(float(pair[1]) + (WHOLE if part != "level" else 0.0))
        return np.array(low), np.array(high)

    def decode(self, X: np.ndarray) -> np.ndarray:
        """Rounded decision vectors (rows of X): what is evaluated, written and reported."""
        X = np.atleast_2d(np.asarray(X, dtype=float)).copy()
        low, high = self.bounds
        for j, (name, part) in enumerate(self.columns):
            if part == "level":
                lever = self.study.levers[name]
                step = self.steps.get(name) or step_of(lever)
                X[:, j] = [round_level(searched(lever), step, float(x)) for x in X[:, j]]
            else:
                X[:, j] = np.clip(np.floor(X[:, j]), low[j], np.floor(high[j]))
        return X

    def encode(self, levels: dict[str, float]) -> np.ndarray:
        """A vector with these levels (clipped to the ranges), starting at once and without a ramp."""
        x = []
        for name, part in self.columns:
            lever = self.study.levers[name]
            if part == "level":
                x.append(float(np.clip(levels.get(name, self.baseline[name]), *searched(lever))))
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


def searched(lever: LeverRange) -> list[float]:
    """[low, high] of the levels searched: from the lever's floor (an existing programme) where it states one."""
    return [lever.low, float(lever.range[1])]


def step_of(lever: LeverRange, plan_step: float | None = None) -> float:
    """A lever's rounding step: the study's `step`; else what a programme can set (`plan_step`, from the
    lever's plan unit: scenarios/plan_units.py) where the range spans at least ten such steps; else the
    decimal place of a ten-thousandth of the range."""
    first, last = lever.range
    if lever.step is not None:
        return lever.step
    if plan_step and (last - first) >= 10 * plan_step:
        return plan_step
    return float(10.0 ** np.floor(np.log10((last - first) * LEVEL_STEP)))


def round_level(bounds: list[float], step: float, x: float) -> float:
    """A level rounded to the nearest multiple of `step`, kept within `bounds`."""
    digits = max(0, -int(np.floor(np.log10(step))))
    level = round(np.floor(x / step + 0.5) * step, digits)
    return float(min(max(level, bounds[0]), bounds[1]))


def at_bounds(study: Study, levels: pd.Series, share: float = BOUND_SHARE) -> list[str]:
    """'lever:high', 'lever:low' or 'lever:floor' for each lever whose level lies within `share` of its searched
    range's width of that end: at the high end the search may have wanted more than the study allows; at the
    low end the package drops the programme (or most of it); at a floor it keeps the existing programme and
    no more (the search may not cut it)."""
    found = []
    for name, lever in study.levers.items():
        first, last = searched(lever)
        margin = share * (last - first)
        if levels[name] >= last - margin:
            found.append(f"{name}:high")
        elif levels[name] <= first + margin:
            found.append(f"{name}:floor" if lever.floor is not None else f"{name}:low")
    return found


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
