"""Study files: which constants vary, how they are distributed, and which outcomes are analysed."""

from __future__ import annotations

import difflib
import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
"""A model constant as PySD names it (snake_case)."""

_STRICT = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Distribution(BaseModel):
    """How one constant is sampled. `[low, high]` alone is short for a uniform range."""

    model_config = _STRICT

    distribution: Literal["uniform", "normal", "triangular"] = "uniform"
    range: tuple[float, float] | None = None
    """[low, high]; for uniform and triangular it defaults to the constant's range in the .mdl;
    for normal it truncates the distribution (optional)."""
    mode: float | None = None
    """Peak of a triangular distribution, in [low, high)."""
    mean: float | None = None
    """Mean of a normal distribution."""
    sd: float | None = Field(None, gt=0)
    """Standard deviation of a normal distribution."""

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return {"range": value}
        return {} if value is None else value

    @model_validator(mode="after")
    def _consistent(self) -> Distribution:
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range {list(self.range)} must have low < high")
        if self.distribution == "normal":
            if self.mean is None or self.sd is None:
                raise ValueError("a normal distribution needs `mean` and `sd`")
            if self.mode is not None:
                raise ValueError("`mode` is only for triangular distributions")
        elif self.mean is not None or self.sd is not None:
            raise ValueError("`mean` and `sd` are only for normal distributions")
        if self.distribution == "triangular" and self.mode is None:
            raise ValueError("a triangular distribution needs `mode`")
        if self.distribution == "uniform" and self.mode is not None:
            raise ValueError("`mode` is only for triangular distributions")
        low, high = self.range or (None, None)
        if self.mode is not None and low is not None and not low <= self.mode < high:
            raise ValueError(f"mode {self.mode} must lie in [low, high) of range {list(self.range)}")
        return self

    def salib(self) -> tuple[str, list[float]]:
        """SALib's `dists` code and `bounds` entry (see SALib.util._nonuniform_scale_samples)."""
        if self.distribution == "normal":
            if self.range is None:
                return "norm", [self.mean, self.sd]
            return "truncnorm", [*self.range, self.mean, self.sd]
        low, high = self.range
        if self.distribution == "triangular":
            return "triang", [low, high, (self.mode - low) / (high - low)]
        return "unif", [low, high]


class Outcome(BaseModel):
    """An indicator in one year, or the margin of one target of scenarios/targets.yaml."""

    model_config = _STRICT

    indicator: Name | None = None
    year: int | None = Field(None, ge=2010, le=2050)
    target: str | None = None
    """Target id in scenarios/targets.yaml; the outcome is its margin (> 0: met with room to spare)."""

    @model_validator(mode="after")
    def _one_kind(self) -> Outcome:
        if (self.target is None) == (self.indicator is None):
            raise ValueError("give either `indicator` and `year`, or `target`")
        if self.indicator is not None and self.year is None:
            raise ValueError(f"indicator {self.indicator!r} needs a `year`")
        if self.target is not None and self.year is not None:
            raise ValueError("a target outcome takes its year from targets.yaml; drop `year`")
        return self

    @property
    def label(self) -> str:
        return f"target:{self.target}" if self.target else f"{self.indicator}@{self.year}"


class Morris(BaseModel):
    """Settings for `--method morris` screening."""

    model_config = _STRICT

    trajectories: int = Field(32, ge=2)
    levels: int = Field(4, ge=2)


class Study(BaseModel):
    """A Sobol study: levers and uncertain constants with distributions, outcomes, sample size."""

    model_config = _STRICT

    name: Name
    description: str = ""
    scenario: str = "baseline"
    """Base scenario: a name in scenarios/, or a .yaml path relative to the study file."""
    levers_from: int = Field(2021, ge=2011, le=2050)
    """Year the sampled lever values start; before it levers keep the base scenario's values."""
    samples: int = Field(gt=0)
    """N, a power of 2. Runs = N x (D + 2), or N x (2D + 2) with second order."""
    seed: int = Field(ge=0)
    second_order: bool = False
    levers: dict[Name, Distribution] = {}
    """Plan levers: sampled value applies from `levers_from` on."""
    uncertainties: dict[Name, Distribution] = {}
    """Uncertain model constants: sampled value applies for the whole run."""
    outcomes: list[Outcome] = Field(min_length=1)
    morris: Morris = Morris()

    @field_validator("samples")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError(f"{value} is not a power of 2 (e.g. 1024, 2048, 4096)")
        return value

    @model_validator(mode="after")
    def _distinct(self) -> Study:
        both = sorted(set(self.levers) & set(self.uncertainties))
        if both:
            raise ValueError(f"{both[0]} is listed both as a lever and as an uncertainty")
        if not self.levers and not self.uncertainties:
            raise ValueError("vary at least one lever or uncertainty")
        labels = [o.label for o in self.outcomes]
        if len(set(labels)) < len(labels):
            raise ValueError(f"outcome {next(x for x in labels if labels.count(x) > 1)} is listed twice")
        return self

    @property
    def parameters(self) -> dict[str, Distribution]:
        return self.levers | self.uncertainties

    def problem(self) -> dict:
        """SALib problem dict, parameters in study order (levers first)."""
        codes, bounds = zip(*(d.salib() for d in self.parameters.values()), strict=True)
        return {"num_vars": len(bounds), "names": list(self.parameters), "bounds": list(bounds),
                "dists": list(codes)}

    def fingerprint(self, **context: object) -> str:
        """sha256 of the study and anything else the results depend on (model version, scenario)."""
        text = json.dumps({"study": self.model_dump(mode="json"), **context}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _message(error: ValidationError) -> str:
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return error.errors()[0]["msg"].removeprefix("Value error, ") + more


def _one_line(path: Path, error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"{path}: {field}: {_message(error)}"


def read(path: Path) -> Study:
    """Read a study file and check its shape (no model needed); one-line ValueError naming file and field."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of study fields at the top level")
    try:
        return Study.model_validate(raw)
    except ValidationError as error:
        raise ValueError(_one_line(path, error)) from None


def load(path: Path, constants: pd.DataFrame | None = None) -> Study:
    """Read a study file; with `constants` (model.constants()) also check names and fill missing ranges."""
    study = read(path)
    return check(path, study, constants) if constants is not None else _require_ranges(path, study)


def _require_ranges(path: Path, study: Study) -> Study:
    for group in ("levers", "uncertainties"):
        for name, dist in getattr(study, group).items():
            if dist.range is None and dist.distribution != "normal":
                raise ValueError(f"{path}: {group}.{name}.range: missing (no model to take it from)")
    return study


def check(path: Path, study: Study, constants: pd.DataFrame) -> Study:
    """Names must be settable model constants; missing ranges come from the .mdl's [min,max]."""
    filled = {}
    for group in ("levers", "uncertainties"):
        filled[group] = {}
        for name, dist in getattr(study, group).items():
            if name not in constants.index:
                close = difflib.get_close_matches(name, list(constants.index), n=1)
                hint = f"did you mean {close[0]}? " if close else ""
                raise ValueError(f"{path}: {group}.{name}: not a settable model constant ({hint}"
                                 f"allowed: the {len(constants)} names of model.constants())")
            low, high = float(constants.at[name, "low"]), float(constants.at[name, "high"])
            if dist.range is None and dist.distribution != "normal":
                try:
                    dist = Distribution.model_validate(dist.model_dump() | {"range": (low, high)})
                except ValidationError as error:
                    raise ValueError(f"{path}: {group}.{name}: {_message(error)}") from None
            if dist.range is not None and (dist.range[0] < low or dist.range[1] > high):
                raise ValueError(f"{path}: {group}.{name}.range: {list(dist.range)} leaves the model's "
                                 f"range [{low:g}, {high:g}]")
            filled[group][name] = dist
    return study.model_copy(update=filled)
