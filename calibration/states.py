"""The states of the world: what every P(met), band and Sobol' odds of the tool is taken over (issue 21).

A state is one draw of what the tool is unsure of, in three groups:
- fit: a row of the fit's parameter sets (`Fit.parameter_sets()`, the fit's posterior draws);
- assumptions: every assumed constant of calibration/priors.yaml, drawn from its prior;
- outlooks: China's growth, its industrial inflation and the coal price, each default (or scenario) table
  shifted or scaled from the end of its record on (calibration/states.yaml).
`draw` makes them from one seed; it maps a Latin hypercube through `from_unit`, which a Sobol' study calls
with SALib's matrices, so both sample one distribution, and keeps the states whose baseline passes the
reality checks, as the fit keeps its draws (calibration/plausible.py; a Sobol' study screens the rows its
odds read). The central run (run 0 wherever a band is drawn) is the fit's estimate with the .mdl's assumed
values and the undrawn outlooks: what a single run shows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nxmfg.scenarios.validation import ScenarioError, from_validation_error, read_yaml

SETTINGS = Path(__file__).with_name("states.yaml")
GROUPS = ("fit", "assumptions", "outlooks")
WORDS = {"en": {"fit": "fit posterior", "sets": "fit parameter sets", "assumptions": "assumptions",
                "outlooks": "outlooks", "over": "P(met) over {count} states: {parts}",
                "screened": "; those passing the reality checks ({share} of {drawn} drawn)"},
         "zh": {"fit": "拟合后验", "sets": "拟合参数集", "assumptions": "假设参数", "outlooks": "外部展望",
                "over": "达成概率基于 {count} 个世界状态：{parts}",
                "screened": "；仅保留通过现实性检验者（抽取 {drawn} 个，通过 {share}）"}}

Number = Annotated[float, Field(allow_inf_nan=False)]
_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True)


class Draw(BaseModel):
    """One number per state, drawn from a distribution truncated to `range`."""

    model_config = _STRICT
    distribution: Literal["uniform", "triangular", "normal"] = "uniform"
    range: Annotated[list[Number], Field(min_length=2, max_length=2)]
    mode: Number | None = None
    mean: Number | None = None
    sd: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Draw:
        low, high = self.range
        if not low < high:
            raise ValueError(f"range {self.range}: low must be below high")
        wanted = {"uniform": set(), "triangular": {"mode"}, "normal": {"mean", "sd"}}[self.distribution]
        given = {key for key in ("mode", "mean", "sd") if getattr(self, key) is not None}
        if given != wanted:
            need = ", ".join(sorted(wanted)) or "no mode, mean or sd"
            got = ", ".join(sorted(given)) or "none"
            raise ValueError(f"a {self.distribution} distribution takes {need}; got {got}")
        centre = self.mode if self.mode is not None else self.mean
        if centre is not None and not low <= centre <= high:
            which = "mode" if self.mode is not None else "mean"
            raise ValueError(f"{which} {centre:g} lies outside range {self.range}")
        return self

    def ppf(self, unit: np.ndarray) -> np.ndarray:
        """The draw's values at probabilities `unit` in [0, 1]."""
        from scipy import stats

        low, high = self.range
        if self.distribution == "uniform":
            return low + np.asarray(unit) * (high - low)
        if self.distribution == "triangular":
            return stats.triang.ppf(unit, (self.mode - low) / (high - low), loc=low, scale=high - low)
        a, b = (low - self.mean) / self.sd, (high - self.mean) / self.sd
        return stats.truncnorm.ppf(unit, a, b, loc=self.mean, scale=self.sd)


class OutlookDraw(BaseModel):
    """Outlook tables moved together: shifted (the draw added) or scaled (multiplied) from year `from` on."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)
    tables: Annotated[list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*_outlook$")]], Field(min_length=1)]
    start: Annotated[int, Field(alias="from", ge=2010, le=2035)]
    shift: Draw | None = None
    scale: Draw | None = None

    @model_validator(mode="after")
    def _one(self) -> OutlookDraw:
        if (self.shift is None) == (self.scale is None):
            raise ValueError("give exactly one of `shift` or `scale`")
        return self

    @property
    def draw(self) -> Draw:
        return self.shift if self.shift is not None else self.scale

    @property
    def neutral(self) -> float:
        return 0.0 if self.shift is not None else 1.0

    def applied(self, table: pd.Series, values: np.ndarray) -> np.ndarray:
        """`table` moved by each value from `start` on: [values x points]; the points before stay (a point
        just before `start` keeps the rate of the record's last year, the lever paths' convention)."""
        years = table.index.to_numpy(float)
        grid = np.union1d(years, [self.start - 1e-6, self.start])
        base = np.interp(grid, years, table.to_numpy(float))
        moved = grid >= self.start
        values = np.asarray(values, float)[:, None]
        out = np.where(moved, base + values if self.shift is not None else base * values, base)
        return out if years.min() < self.start else out[:, grid >= years.min()]

    def grid(self, table: pd.Series) -> np.ndarray:
        """The years of `applied`'s columns."""
        years = table.index.to_numpy(float)
        grid = np.union1d(years, [self.start - 1e-6, self.start])
        return grid if years.min() < self.start else grid[grid >= years.min()]


class Settings(BaseModel):
    """calibration/states.yaml."""

    model_config = _STRICT
    count: Annotated[int, Field(ge=1, le=4096)]
    seed: Annotated[int, Field(ge=0, lt=2**32)]
    outlooks: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], OutlookDraw] = Field(default_factory=dict)


@cache
def settings(path: Path = SETTINGS) -> Settings:
    """The states' settings (ScenarioError naming the file and field if the file is wrong)."""
    data = read_yaml(path)
    try:
        return Settings.model_validate(data)
    except ValidationError as error:
        raise from_validation_error(path, error, Settings) from None


@dataclass(frozen=True)
class States:
    """`count` states of the world.

    Attributes
    ----------
    constants
        {constant: values [count]}: the fit's draw (fitted constants) and the priors' (assumed ones).
    outlooks
        {draw name (states.yaml): values [count]}: each outlook draw's shift or scale.
    fit_rows
        Row of the fit's parameter sets behind each state [count].
    parts
        The groups that vary, in GROUPS order (a label names them).
    seed
        The seed they were drawn from (None: given points of the unit cube, as in a Sobol' study).
    fit_words
        "fit" (the fit's posterior draws) or "sets" (a fit's parameter sets of another kind).
    screened
        (passed, drawn): of `drawn` candidate states, `passed` passed the reality checks, and these are the
        first `count` of those (calibration/plausible.py); None where no check screened them.
    """

    constants: dict[str, np.ndarray]
    outlooks: dict[str, np.ndarray]
    fit_rows: np.ndarray
    parts: tuple[str, ...]
    settings: Settings
    seed: int | None = None
    fit_words: str = "fit"
    screened: tuple[int, int] | None = None

    @property
    def count(self) -> int:
        return len(self.fit_rows)

    def label(self, lang: str = "en") -> str:
        """What P(met) is over, e.g. "P(met) over 256 states: fit posterior, assumptions, outlooks; those passing
        the reality checks (41 % of 1024 drawn)"."""
        words = WORDS[lang]
        parts = [words[self.fit_words if part == "fit" else part] for part in self.parts]
        text = words["over"].format(count=self.count, parts=("、" if lang == "zh" else ", ").join(parts))
        if self.screened is None:
            return text
        passed, drawn = self.screened
        return text + words["screened"].format(share=f"{100 * passed / drawn:.0f} %", drawn=drawn)

    def record(self) -> dict:
        """What an output records about its states."""
        screened = None if self.screened is None else dict(zip(("passed", "drawn"), self.screened, strict=True))
        return {"count": self.count, "seed": self.seed, "composition": list(self.parts), "label": self.label("en"),
                "settings": str(SETTINGS), "screened_by_reality_checks": screened}

    def digest(self) -> str:
        """A hash of the states' values (two batches of as many states from no seed differ by it)."""
        import hashlib

        hashed = hashlib.sha256(np.ascontiguousarray(self.fit_rows, dtype=np.int64).tobytes())
        for group in (self.constants, self.outlooks):
            for name, values in group.items():
                hashed.update(name.encode() + np.ascontiguousarray(values, dtype=float).tobytes())
        return hashed.hexdigest()

    def take(self, rows: np.ndarray) -> States:
        """The states at `rows` (indices or a mask), in that order."""
        return replace(self, constants={name: values[rows] for name, values in self.constants.items()},
                       outlooks={name: values[rows] for name, values in self.outlooks.items()},
                       fit_rows=self.fit_rows[rows])

    def table(self) -> pd.DataFrame:
        """One row per state: the row of the fit's sets, every drawn constant and outlook draw."""
        frame = pd.DataFrame({"state": np.arange(1, self.count + 1), "fit_row": self.fit_rows})
        return pd.concat([frame, pd.DataFrame(self.constants), pd.DataFrame(
            {f"{name}.{'shift' if self.settings.outlooks[name].shift else 'scale'}": values
             for name, values in self.outlooks.items()})], axis=1)

    def inputs(self, central: dict[str, float], tables: dict[str, pd.Series], repeat: int = 1) -> dict:
        """Engine inputs of the central run and the states (run 0 central, 1..count the states), `repeat`
        times over (run = copy * (count + 1) + state).

        central: the central run's value of every drawn constant; tables: the outlook tables the draws move
        (a scenario's own, or the .mdl's defaults).
        """
        import xarray as xr

        params: dict = {name: np.tile(np.concatenate([[central[name]], values]), repeat)
                        for name, values in self.constants.items()}
        for name, spec in self.settings.outlooks.items():
            values = np.concatenate([[spec.neutral], self.outlooks[name]])
            for table in spec.tables:
                data = np.tile(spec.applied(tables[table], values), (repeat, 1))
                params[table] = xr.DataArray(data, dims=("run", "year"),
                                             coords={"run": np.arange(len(data)), "year": spec.grid(tables[table])})
        return params


def dimensions(assumed: list[str], chosen: Settings | None = None) -> dict[str, list[str]]:
    """The unit cube's coordinates per group: "fit" (one: the draw's index), the assumed constants, the
    outlook draws (a Sobol' study's variables)."""
    chosen = chosen or settings()
    return {"fit": ["fit_draw"], "assumptions": list(assumed), "outlooks": list(chosen.outlooks)}


def from_unit(sets: pd.DataFrame, unit: dict[str, np.ndarray], priors=None, chosen: Settings | None = None,
              seed: int | None = None) -> States:
    """States at points of the unit cube.

    Parameters
    ----------
    sets
        The fit's parameter sets (one row per draw; `Fit.parameter_sets()`).
    unit
        {"fit": [n] or [n, 1], "assumptions": [n, len(priors.assumed)], "outlooks": [n, outlook draws]}, in
        [0, 1); a group left out is not drawn (the central values hold).
    priors
        calibration.priors.Priors (None: no assumed constant is drawn).
    """
    chosen = chosen or settings()
    u_fit = np.asarray(unit["fit"], float).reshape(-1)
    rows = np.minimum((u_fit * len(sets)).astype(int), len(sets) - 1)
    constants = {name: sets[name].to_numpy(float)[rows] for name in sets.columns}
    parts = ["fit"]
    assumed = list(priors.assumed) if priors is not None else []
    if assumed and "assumptions" in unit:
        values = priors.ppf(assumed, np.asarray(unit["assumptions"], float))
        constants |= {name: values[:, j] for j, name in enumerate(assumed) if name not in constants}
        parts.append("assumptions")
    outlooks = {}
    if chosen.outlooks and "outlooks" in unit:
        U = np.asarray(unit["outlooks"], float)
        outlooks = {name: np.asarray(spec.draw.ppf(U[:, j]), float)
                    for j, (name, spec) in enumerate(chosen.outlooks.items())}
        parts.append("outlooks")
    else:
        outlooks = {name: np.full(len(rows), spec.neutral) for name, spec in chosen.outlooks.items()}
    return States(constants, outlooks, rows, tuple(parts), chosen, seed)


def draw(fit, count: int | None = None, seed: int | None = None, record: bool = True) -> States:
    """THE states of the world of `fit` (a calibration.fits.Fit): `count` of them (default: states.yaml's)
    from `seed` (default: states.yaml's), the same on every call; ScenarioError if the fit has no draws.
    `record`: screened on runs from the recorded state of the last data year (calibration/plausible.py), as
    every surface runs them; False for runs from the model's start that must not see the record."""
    chosen = settings()
    count, seed = chosen.count if count is None else count, chosen.seed if seed is None else seed
    key = (str(fit.path), fit.sha256, _draws_key(fit), count, seed, record)
    if key not in _DRAWN:
        from nxmfg.calibration import drawn_states

        def fresh() -> States:
            sets = fit.parameter_sets()
            if sets is None or sets.empty:
                raise ScenarioError(fit.path or "params", "", "the fit has no parameter sets (posterior draws) "
                                    "beside it, which the states of the world are drawn from")
            from nxmfg.calibration import plausible

            return plausible.states(fit, sets, assumed_priors(), count, seed, chosen, record)

        drawn = drawn_states.drawn(fit, count, seed, chosen, fresh, record)
        _DRAWN[key] = replace(drawn, fit_words=fit_words(fit))
    return _DRAWN[key]


_DRAWN: dict[tuple, States] = {}
POSTERIOR = "posterior.csv"   # the fit's posterior draws (issue 21); other files hold parameter sets


def _draws_key(fit):
    """What tells a fit's draws apart: their file's hash, or the content of draws given in memory (a fit
    `nxmfg calibrate` has just made)."""
    from nxmfg.calibration.fits import sha256

    if fit.ensemble is not None:
        return sha256(fit.ensemble)
    return None if fit.sets is None else int(pd.util.hash_pandas_object(fit.sets, index=False).sum())


def fit_words(fit) -> str:
    """How a label names the fit's draws: "fit" (its posterior: posterior.csv, or draws a calibration has just
    made) or "sets" (parameter sets of another kind)."""
    if fit.ensemble is None:
        return "fit" if fit.sets is not None else "sets"
    return "fit" if fit.ensemble.name == POSTERIOR else "sets"


def assumed_priors():
    """calibration/priors.py's priors, or None where there are none yet (no assumed constant is drawn)."""
    try:
        from nxmfg.calibration import priors
    except ImportError:
        return None
    return priors.load()


def latin_hypercube(sets: pd.DataFrame, priors, count: int, seed: int, chosen: Settings) -> States:
    """`count` states: a Latin hypercube over every group's coordinates from `seed`, mapped by `from_unit`."""
    from scipy.stats import qmc

    sizes = dimensions(list(priors.assumed) if priors is not None else [], chosen)
    cube = qmc.LatinHypercube(d=sum(len(v) for v in sizes.values()), seed=np.random.default_rng(seed)).random(count)
    unit, start = {}, 0
    for group, names in sizes.items():
        unit[group] = cube[:, start:start + len(names)]
        start += len(names)
    return from_unit(sets, unit, priors, chosen, seed)


def central_values(states: States, fit_values: dict[str, float], baseline: dict[str, float]) -> dict[str, float]:
    """The central run's value of each drawn constant: the fit's estimate, else the .mdl's (baseline) value."""
    return {name: float(fit_values.get(name, baseline[name])) for name in states.constants}


def none() -> States:
    """No states: the central run alone (a fit without draws); P(met) is then not known."""
    chosen = settings()
    return States({}, {name: np.empty(0) for name in chosen.outlooks}, np.empty(0, dtype=int), (), chosen)
