"""Priors of the model's uncertain constants (calibration/priors.yaml): read, check, sample, evaluate.

Every prior is its named distribution restricted to its `range` and renormalised, so that draws, densities
and quantiles agree and no draw leaves the range the model is defined on. `ppf` maps the unit cube onto the
priors (Sobol' and Latin-hypercube designs); `sample` draws through it; `logpdf` sums over the constants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import stats

from nxmfg.calibration import reality
from nxmfg.scenarios.validation import ScenarioError, from_validation_error, read_yaml

PRIORS = Path(__file__).with_name("priors.yaml")
UNTRUNCATED_MASS = 0.99   # `normal` and `lognormal` must keep this much of their mass inside their range
PARAMETERS = {"normal": {"mean", "sd"}, "truncated_normal": {"mean", "sd"}, "lognormal": {"median", "sigma"},
              "uniform": set(), "triangular": {"mode"}, "beta": {"a", "b"}}

Number = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class PriorError(ScenarioError):
    """A priors file the calibration cannot use; str() is one line naming the file and the field."""


class Prior(BaseModel):
    """One constant's prior: its role, distribution, range and where the numbers come from."""

    model_config = ConfigDict(extra="forbid", strict=True)
    role: Literal["fitted", "assumed"]
    distribution: Literal["normal", "lognormal", "uniform", "triangular", "beta", "truncated_normal"]
    range: Annotated[list[Number], Field(min_length=2, max_length=2)]
    mean: Number | None = None
    sd: Positive | None = None
    median: Positive | None = None
    sigma: Positive | None = None
    mode: Number | None = None
    a: Positive | None = None
    b: Positive | None = None
    source: Text | None = None
    judgement: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Prior:
        low, high = self.range
        if not low < high:
            raise ValueError(f"range: needs low < high, got [{low:g}, {high:g}]")
        if (self.source is None) == (self.judgement is None):
            raise ValueError("give exactly one of source (where the numbers come from) or judgement (why)")
        given = {name for name in ("mean", "sd", "median", "sigma", "mode", "a", "b")
                 if getattr(self, name) is not None}
        wanted = PARAMETERS[self.distribution]
        if given != wanted:
            raise ValueError(f"a {self.distribution} prior takes {', '.join(sorted(wanted)) or 'only its range'}"
                             f"; got {', '.join(sorted(given)) or 'none'}")
        if self.mode is not None and not low <= self.mode <= high:
            raise ValueError(f"mode {self.mode:g} lies outside the range [{low:g}, {high:g}]")
        if self.distribution == "lognormal" and low < 0:
            raise ValueError("a lognormal prior needs a range >= 0")
        mass = _mass(self.base(), low, high)
        if self.distribution in ("normal", "lognormal") and mass < UNTRUNCATED_MASS:
            raise ValueError(f"the range holds {mass:.1%} of this {self.distribution}'s mass, less than "
                             f"{UNTRUNCATED_MASS:.0%}: write truncated_normal, or widen the range")
        if mass <= 1e-12:
            raise ValueError("the range holds none of the distribution's mass")
        return self

    def base(self):
        """The scipy distribution before restriction to the range."""
        low, high = self.range
        if self.distribution in ("normal", "truncated_normal"):
            return stats.norm(self.mean, self.sd)
        if self.distribution == "lognormal":
            return stats.lognorm(self.sigma, scale=self.median)
        if self.distribution == "uniform":
            return stats.uniform(low, high - low)
        if self.distribution == "triangular":
            return stats.triang((self.mode - low) / (high - low), loc=low, scale=high - low)
        return stats.beta(self.a, self.b, loc=low, scale=high - low)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantiles of the restricted distribution at u in [0, 1]."""
        low, high = self.range
        base = self.base()
        below, above = base.cdf(low), base.cdf(high)
        return np.clip(base.ppf(below + np.asarray(u, float) * (above - below)), low, high)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log density of the restricted distribution; -inf outside the range."""
        low, high = self.range
        x = np.asarray(x, float)
        inside = (x >= low) & (x <= high)
        with np.errstate(divide="ignore"):
            density = self.base().logpdf(np.where(inside, x, 0.5 * (low + high)))
        density = density - math.log(_mass(self.base(), low, high))
        return np.where(inside, density, -np.inf)


def _mass(base, low: float, high: float) -> float:
    return float(base.cdf(high) - base.cdf(low))


class ScalePrior(BaseModel):
    """The prior mean of a series' error sd (relative for a level or share, pp for a rate), with its reason."""

    model_config = ConfigDict(extra="forbid", strict=True)
    scale: Positive
    source: Text | None = None
    judgement: Text | None = None

    @model_validator(mode="after")
    def _reason(self) -> ScalePrior:
        if (self.source is None) == (self.judgement is None):
            raise ValueError("give exactly one of source (where the scale comes from) or judgement (why)")
        return self


class ErrorPriors(BaseModel):
    """The likelihood's error model (calibration/likelihood.py): priors of each series' scale and rho."""

    model_config = ConfigDict(extra="forbid", strict=True)
    variance_shape: Annotated[float, Field(gt=1, allow_inf_nan=False)]
    rho: Annotated[list[Annotated[float, Field(gt=-1, lt=1)]], Field(min_length=2, max_length=2)]
    rho_points: Annotated[int, Field(ge=1, le=1000)]
    level: ScalePrior
    rate: ScalePrior
    series: dict[str, ScalePrior] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> ErrorPriors:
        if not self.rho[0] < self.rho[1]:
            raise ValueError(f"rho: needs low < high, got {self.rho}")
        return self


class RealityCheck(BaseModel):
    """A range the fitted model's baseline must keep over some years (calibration/reality.py), with its reason."""

    model_config = ConfigDict(extra="forbid", strict=True)
    quantity: Literal[tuple(reality.QUANTITIES)]
    years: Annotated[list[Annotated[int, Field(ge=2010, le=2035)]], Field(min_length=2, max_length=2)]
    range: Annotated[list[Number], Field(min_length=2, max_length=2)]
    reason: Text

    @model_validator(mode="after")
    def _ordered(self) -> RealityCheck:
        if not (self.years[0] <= self.years[1] and self.range[0] < self.range[1]):
            raise ValueError(f"needs first year <= last and low < high, got years {self.years}, range {self.range}")
        return self


class PriorsFile(BaseModel):
    """priors.yaml as a whole."""

    model_config = ConfigDict(extra="forbid", strict=True)
    seed: int
    search: dict[str, Annotated[int, Field(ge=1)]]
    sampler: dict[str, Number]
    errors: ErrorPriors
    parameters: dict[str, Prior]
    fixed: dict[str, Text] = Field(default_factory=dict)
    on_bound: dict[str, Text] = Field(default_factory=dict)
    reality_checks: dict[str, RealityCheck] = Field(default_factory=dict)


@dataclass(frozen=True)
class Priors:
    """The priors of one file, with its settings. Names are PySD's snake_case constant names."""

    entries: dict[str, Prior]
    seed: int
    search: dict[str, int]
    sampler: dict[str, float]
    errors: ErrorPriors
    fixed: dict[str, str]
    on_bound: dict[str, str]
    path: Path
    reality_checks: dict[str, RealityCheck] = field(default_factory=dict)

    @cached_property
    def fitted(self) -> list[str]:
        """Constants the calibration updates, in file order."""
        return [name for name, prior in self.entries.items() if prior.role == "fitted"]

    @cached_property
    def assumed(self) -> list[str]:
        """Constants every state of the world draws from their prior, in file order."""
        return [name for name, prior in self.entries.items() if prior.role == "assumed"]

    def bounds(self, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) of the priors' ranges."""
        ranges = np.array([self._get(n).range for n in names], float).reshape(-1, 2)
        return ranges[:, 0], ranges[:, 1]

    def ppf(self, names: list[str], U: np.ndarray) -> np.ndarray:
        """X[:, j] = quantile of prior names[j] at U[:, j]; U in the unit cube, shape (n, len(names))."""
        U = np.asarray(U, float)
        return np.column_stack([self._get(n).ppf(U[:, j]) for j, n in enumerate(names)]) if names else U[:, :0]

    def sample(self, names: list[str], n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """`n` independent draws of each prior: {name: values [n]}."""
        X = self.ppf(names, rng.random((n, len(names))))
        return {name: X[:, j] for j, name in enumerate(names)}

    def logpdf(self, names: list[str], X: np.ndarray) -> np.ndarray:
        """Joint log prior density of each row of X (shape (n, len(names))): the priors are independent."""
        X = np.atleast_2d(np.asarray(X, float))
        return sum((self._get(n).logpdf(X[:, j]) for j, n in enumerate(names)), np.zeros(len(X)))

    def table(self) -> pd.DataFrame:
        """One row per constant: role, distribution, parameters, range, source or judgement."""
        rows = [{"constant": name, **prior.model_dump(exclude_none=True)} for name, prior in self.entries.items()]
        return pd.DataFrame(rows).set_index("constant")

    def missing(self, constants: pd.DataFrame, levers: tuple[str, ...]) -> list[str]:
        """Uncertain constants of the model without a prior: not a lever, not of one value, not `fixed`."""
        held = set(self.entries) | set(self.fixed) | set(levers)
        return [n for n in constants.index if n not in held and constants.at[n, "low"] != constants.at[n, "high"]]

    def check(self, constants: pd.DataFrame, levers: tuple[str, ...] = ()) -> None:
        """Every prior names a model constant that is no lever, within the constant's [min,max]."""
        for name, prior in self.entries.items():
            if name not in constants.index:
                raise PriorError(self.path, f"parameters.{name}", "not a model constant; see model.constants()")
            if name in levers:
                raise PriorError(self.path, f"parameters.{name}", "a policy lever: scenarios set it, it has no prior")
            low, high = constants.at[name, "low"], constants.at[name, "high"]
            if prior.range[0] < low or prior.range[1] > high:
                raise PriorError(self.path, f"parameters.{name}.range", f"[{prior.range[0]:g}, {prior.range[1]:g}] "
                                 f"leaves the .mdl's [{low:g}, {high:g}]")
        for name in list(self.fixed) + list(self.on_bound):
            if name not in constants.index:
                raise PriorError(self.path, name, "not a model constant; see model.constants()")

    def _get(self, name: str) -> Prior:
        if name not in self.entries:
            raise KeyError(f"{name}: no prior in {self.path}")
        return self.entries[name]


def load(path: Path | str | None = None, constants: pd.DataFrame | None = None,
         levers: tuple[str, ...] = ()) -> Priors:
    """Read priors.yaml (default: the shipped one); with `constants` (model.constants()), check it against
    the model too. PriorError (a ValueError) names the file and the field."""
    path = Path(path) if path else PRIORS
    data = read_yaml(path, "study")
    try:
        spec = PriorsFile.model_validate(data if data is not None else {})
    except ValidationError as error:
        raise PriorError(*_where(path, from_validation_error(path, error, PriorsFile))) from None
    priors = Priors(dict(spec.parameters), spec.seed, dict(spec.search), dict(spec.sampler), spec.errors,
                    dict(spec.fixed), dict(spec.on_bound), path, dict(spec.reality_checks))
    if constants is not None:
        priors.check(constants, levers)
    return priors


def _where(path: Path, error: ScenarioError) -> tuple[Path, str, str]:
    return path, error.field, error.problem
