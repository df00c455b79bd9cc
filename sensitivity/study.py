"""Study files: which constants vary, how they are distributed, and which outcomes are analysed."""

from __future__ import annotations

import difflib
import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nxmfg.scenarios.schema import FIRST_LEVER_YEAR, LAST_YEAR, initial_only_problem, read_only_at_start
from nxmfg.scenarios.validation import describe, read_yaml

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
"""A model constant as PySD names it (snake_case)."""
Number = Annotated[float, Field(allow_inf_nan=False)]

# strict: "8" is not 8, and `true` is not 1 (a quoted number in YAML is a typo, not a number)
_STRICT = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True, strict=True)
MIN_SAMPLES = 4
MAX_SAMPLES = 2**20
# Every run's outcomes and time series are gathered in memory and saved in samples.npz: about 3 KB a
# run for plan_levers.yaml (147 456 runs, 0.5 GB), so 2^21 runs is some 6 GB.
MAX_RUNS = 2**21


class Distribution(BaseModel):
    """How one constant is sampled. `[low, high]` alone is short for a uniform range."""

    model_config = _STRICT

    distribution: Literal["uniform", "normal", "triangular"] = "uniform"
    range: tuple[Number, Number] | None = Field(None, strict=False)  # a YAML list is a tuple here
    """[low, high]; for uniform and triangular it defaults to the constant's range in the .mdl;
    for normal it truncates the distribution (optional)."""
    mode: Number | None = None
    """Peak of a triangular distribution, in [low, high)."""
    mean: Number | None = None
    """Mean of a normal distribution."""
    sd: Number | None = Field(None, gt=0)
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
        if self.mean is not None and low is not None and not low <= self.mean <= high:
            raise ValueError(f"mean {self.mean} must lie in the range {list(self.range)} that truncates it")
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
    year: int | None = Field(None, ge=2010, le=LAST_YEAR)
    """Year of the indicator, within the model's horizon (2010..FINAL TIME)."""
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

    trajectories: int = Field(32, ge=2, le=4096)
    levels: int = Field(4, ge=2, le=100)


class Study(BaseModel):
    """A Sobol study: levers and uncertain constants with distributions, outcomes, sample size."""

    model_config = _STRICT

    name: Name
    description: str = Field("", max_length=10_000)
    scenario: str = "baseline"
    """Base scenario: a name in scenarios/, or a .yaml path relative to the study file."""
    levers_from: int = Field(2021, ge=FIRST_LEVER_YEAR, le=LAST_YEAR)
    """Year the sampled lever values start; before it levers keep the base scenario's values."""
    samples: int = Field(gt=0)
    """N, a power of 2. Runs = N x (D + 2), or N x (2D + 2) with second order."""
    seed: int = Field(ge=0)
    second_order: bool = False
    levers: dict[Name, Distribution] = {}
    """Plan levers: sampled value applies from `levers_from` on."""
    uncertainties: dict[Name, Distribution] = {}
    """Uncertain model constants: sampled value applies for the whole run."""
    states: bool = False
    """Also vary the states of the world (calibration/states.py) as three groups of SALib's grouped Sobol'
    design: fit (the draw of the fit's posterior), assumptions (the priors of the assumed constants),
    outlooks; each a coordinate of the unit cube mapped as every other surface maps its states."""
    group_levers: bool = False
    """Analyse the levers as one group, `levers` (default: each lever its own factor)."""
    outcomes: list[Outcome] = Field(min_length=1)
    morris: Morris = Morris()

    @field_validator("samples")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError(f"{value} is not a power of 2 (e.g. 1024, 2048, 4096)")
        if value < MIN_SAMPLES:
            raise ValueError(f"{value} is fewer than {MIN_SAMPLES}: the convergence check estimates the indices "
                             "again from the first half of the sample, which needs at least 2 rows")
        if value > MAX_SAMPLES:
            raise ValueError(f"{value} is more than {MAX_SAMPLES} (2^20): the sample and every run's outputs "
                             "are held in memory; N = 4096 already settles indices to about 0.01")
        return value

    @model_validator(mode="after")
    def _distinct(self) -> Study:
        both = sorted(set(self.levers) & set(self.uncertainties))
        if both:
            raise ValueError(f"{both[0]} is listed both as a lever and as an uncertainty")
        if not self.levers and not self.uncertainties and not self.states:
            raise ValueError("vary at least one lever or uncertainty, or the states")
        labels = [o.label for o in self.outcomes]
        if len(set(labels)) < len(labels):
            raise ValueError(f"outcome {next(x for x in labels if labels.count(x) > 1)} is listed twice")
        runs = self.samples * (2 * len(self.factors) + 2 if self.second_order else len(self.factors) + 2)
        if runs > MAX_RUNS:
            raise ValueError(f"samples: {runs:,} runs (samples x parameters) is more than {MAX_RUNS:,}: every "
                             "run's outcomes and series are held in memory (about 3 KB a run); use fewer samples")
        check_levers_from(self, [o.year for o in self.outcomes if o.target is None])
        return self

    @property
    def parameters(self) -> dict[str, Distribution]:
        """Every column of the sample: levers, uncertainties, then the states' unit coordinates (uniform)."""
        unit = Distribution(range=(0.0, 1.0))
        return self.levers | self.uncertainties | {name: unit for names in self.state_columns.values()
                                                   for name in names}

    @property
    def state_columns(self) -> dict[str, list[str]]:
        """{group: its coordinates} of the states of the world (fit, assumptions, outlooks), if varied."""
        if not self.states:
            return {}
        from nxmfg.calibration import states

        priors = states.assumed_priors()
        columns = states.dimensions(list(priors.assumed) if priors is not None else [])
        return {group: [f"{group}:{name}" for name in names] for group, names in columns.items() if names}

    @property
    def groups(self) -> list[str]:
        """The factor of each column: its own name, `levers` (group_levers) or its states group."""
        of = {name: group for group, names in self.state_columns.items() for name in names}
        return [of.get(name, "levers" if self.group_levers and name in self.levers else name)
                for name in self.parameters]

    @property
    def factors(self) -> list[str]:
        """What the indices are of: the distinct groups, in column order (the parameters, ungrouped)."""
        return list(dict.fromkeys(self.groups))

    def problem(self) -> dict:
        """SALib problem dict, parameters in study order (levers first), with `groups` where grouped."""
        codes, bounds = zip(*(d.salib() for d in self.parameters.values()), strict=True)
        problem = {"num_vars": len(bounds), "names": list(self.parameters), "bounds": list(bounds),
                   "dists": list(codes)}
        return problem | ({"groups": self.groups} if self.factors != list(self.parameters) else {})

    def fingerprint(self, **context: object) -> str:
        """sha256 of the study and anything else the results depend on (model version, scenario)."""
        text = json.dumps({"study": self.model_dump(mode="json"), **context}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_levers_from(study: Study, years: list[int]) -> None:
    """Refuse levers that start after every outcome year: all their indices would be 0, silently."""
    if study.levers and years and len(years) == len(study.outcomes) and study.levers_from > max(years):
        raise ValueError(f"levers_from: {study.levers_from} is after every outcome year (the last is "
                         f"{max(years)}): the levers could not move any outcome")


def _message(error: ValidationError, model: type[BaseModel] = Distribution) -> str:
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return describe(error.errors()[0], model) + more


def _one_line(path: Path, error: ValidationError) -> str:
    field = ".".join(str(part) for part in error.errors()[0]["loc"])
    return f"{path}: {field + ': ' if field else ''}{_message(error, Study)}"


def read(path: Path) -> Study:
    """Read a study file and check its shape (no model needed); one-line ValueError naming file and field."""
    path = Path(path)
    raw = read_yaml(path, "study")   # refuses duplicate keys, aliases, oversize and non-UTF-8 files
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
            if group == "levers" and read_only_at_start(constants, name):
                raise ValueError(f"{path}: levers.{name}: {initial_only_problem(name)}")
            low, high = (_bound(constants.at[name, key], default) for key, default in
                         (("low", -np.inf), ("high", np.inf)))
            if dist.range is None and dist.distribution == "normal" and np.isfinite([low, high]).any():
                raise ValueError(f"{path}: {group}.{name}.range: missing: a normal distribution reaches "
                                 f"beyond the model's range [{low:g}, {high:g}]; give a range within it "
                                 "to truncate it")
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


def _bound(value: object, default: float) -> float:
    """A constant's low or high from model.constants(); None or NaN (no bound) -> default."""
    return default if value is None or pd.isna(value) else float(value)
