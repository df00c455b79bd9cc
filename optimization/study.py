"""Optimisation study files: levers and their ranges, targets and weights, how many states of the world, sizes.

Shape is checked by `read` (no model needed); names, ranges and years by `check` against the model's
constants and targets. Every mistake is a StudyError whose one
line names the file and the field, and nothing is coerced: "8" is not a number, NaN is not a value.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nxmfg.scenarios.schema import (FIRST_OUTLOOK_YEAR, LAST_YEAR, initial_only_problem,
                                    read_only_at_start)
from nxmfg.scenarios.validation import ScenarioError, from_validation_error, read_yaml

LAST_DATA_YEAR = FIRST_OUTLOOK_YEAR - 1     # a target up to here is decided by history, not by a package
MAX_FILE_BYTES = 1 << 20                    # a study is a page of YAML; refuse anything larger unread
MAX_RUNS_PER_GENERATION = 65536             # candidates x states in one ensemble call: ~1 GiB of inputs

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=100)]
Number = Annotated[float, Field(allow_inf_nan=False)]
Pair = Annotated[list[Number], Field(min_length=2, max_length=2)]
YearPair = Annotated[list[Annotated[int, Field(ge=FIRST_OUTLOOK_YEAR, le=LAST_YEAR)]],
                     Field(min_length=2, max_length=2)]
_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True)


class StudyError(ScenarioError):
    """A study file the optimiser cannot use; str() is one line: `file: field: problem`."""


class Floor(BaseModel):
    """An existing programme the search may not cut: its size, in the lever's model units, and where it is set."""

    model_config = _STRICT
    value: Number
    source: str = Field(min_length=1, max_length=400)
    """The document and clause that set the programme (or, for a size the documents do not give, the .mdl's
    assumption and the clause naming the programme)."""


class LeverRange(BaseModel):
    """What the search may choose for one lever: a level, and optionally its start year and a ramp."""

    model_config = _STRICT
    range: Pair
    """[low, high] of the level, inside the constant's [min,max] in the .mdl."""
    floor: Floor | None = None
    """An existing programme: the search's low end is its value (inside the range), so no package cuts it."""
    start: YearPair | None = None
    """[first, last] start year to search; default: the study's levers_from."""
    ramp: Annotated[list[Annotated[int, Field(ge=0, le=10)]], Field(min_length=2, max_length=2)] | None = None
    """[shortest, longest] ramp in years: from the baseline value at the start to the level."""
    step: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    """The smallest change a programme can make (model units: 1 firm, 0.001 of a share): levels are rounded to
    it. Default: the lever's plan-unit step (scenarios/plan_units.py) where the range spans ten of them."""

    @model_validator(mode="after")
    def _ordered(self) -> LeverRange:
        for field in ("range", "start", "ramp"):
            pair = getattr(self, field)
            if pair is not None and pair[0] > pair[1]:
                raise ValueError(f"{field} {pair}: the first value must not exceed the second")
        if self.range[0] == self.range[1]:
            raise ValueError(f"range {self.range}: low must be below high (leave a fixed lever out)")
        if self.step is not None and self.step > self.range[1] - self.range[0]:
            raise ValueError(f"step {self.step:g} is wider than the range {self.range}")
        if self.floor is not None and not self.range[0] <= self.floor.value < self.range[1]:
            raise ValueError(f"floor {self.floor.value:g} must lie in the range {self.range}, below its high end")
        return self

    @property
    def low(self) -> float:
        """The lowest level searched: the floor where one is stated, else the range's low end."""
        return float(self.floor.value if self.floor is not None else self.range[0])


class Quota(BaseModel):
    """A quota every package must keep (D 一: 单位地区生产总值二氧化碳排放降低、单位工业增加值能耗完成国家和自治区下达
    目标任务): a modelled indicator's measure against a threshold, as a target of scenarios/targets.yaml is written.

    A package is feasible when its expected margin over the states of the world is >= 0 or, where the baseline's
    expected margin is itself negative, no worse than the baseline's: no package buys targets by moving away
    from a quota the baseline already misses."""

    model_config = _STRICT
    indicator: Name
    measure: Literal["level", "change_vs", "mean_growth", "cagr"]
    year: Annotated[int, Field(ge=FIRST_OUTLOOK_YEAR, le=LAST_YEAR)]
    base_year: Annotated[int, Field(ge=2010, le=LAST_YEAR)] | None = None
    from_year: Annotated[int, Field(ge=2010, le=LAST_YEAR)] | None = None
    threshold: Number
    direction: Literal["at_least", "at_most"]
    source: str = Field(min_length=1, max_length=600)
    """Where the quota's figure comes from (document, clause), and how it is carried to `year`."""

    def target(self, name: str):
        """This quota as a modelled target (id `Q-<name>`), judged as every target is (scenarios.Target)."""
        from nxmfg.scenarios import Target

        fields = self.model_dump(exclude={"source"}, exclude_none=True)
        return Target(id=f"Q-{name.replace('_', '-')}", doc="Q", clause=self.source, target=f"quota {name}",
                      kind="modelled", **fields)


class States(BaseModel):
    """How many states of the world every candidate is evaluated in (calibration/states.py defines them)."""

    model_config = _STRICT
    count: Annotated[int, Field(ge=1, le=4096)]
    """States besides the central run (the fit's estimate, the default outlooks: what `nxmfg simulate` shows);
    default: calibration/states.yaml's count, the number every other surface uses."""


class Study(BaseModel):
    """An optimisation study: which lever packages reach which targets, at what cost, how robustly."""

    model_config = _STRICT
    name: Name
    description: str = Field("", max_length=4000)
    levers_from: Annotated[int, Field(ge=FIRST_OUTLOOK_YEAR, le=LAST_YEAR)]
    levers: dict[Name, LeverRange] = Field(min_length=1, max_length=60)
    targets: dict[Annotated[str, Field(max_length=100)], Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)]] \
        = Field(min_length=1, max_length=300)
    """Target id -> weight (> 0): the objective counts a target met `weight` times."""
    targets_file: str | None = None
    """Your own targets (schema of scenarios/targets.yaml), relative to the study file; they extend the shipped ones."""
    objective: Literal["targets_met", "weighted_margin"] = "targets_met"
    met_odds: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 0.8
    cost: Literal["incremental", "total"] = "incremental"
    budget_cap: Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)] | None = None
    """[亿元] upper bound on the expected cost (on the `cost` basis) over levers_from..the last target year."""
    quotas: dict[Name, Quota] = Field(default_factory=dict, max_length=20)
    """Constraints every package must keep (see Quota): name -> quota."""
    states: States | None = None
    seed: Annotated[int, Field(ge=0, lt=2**32)]
    population: Annotated[int, Field(ge=4, le=1024)]
    generations: Annotated[int, Field(ge=1, le=1000)]

    @model_validator(mode="after")
    def _sizes(self) -> Study:
        for name, quota in self.quotas.items():
            try:
                quota.target(name)
            except ValidationError as error:
                problem = error.errors()[0]
                raise ValueError(f"quotas.{name}: {problem['msg']}") from None
        runs = self.population * (self.state_count + 1)
        if runs > MAX_RUNS_PER_GENERATION:
            raise ValueError(f"population x (states.count + 1) = {runs} runs per generation; at most "
                             f"{MAX_RUNS_PER_GENERATION}")
        return self

    @property
    def state_count(self) -> int:
        """The states every candidate is evaluated in (states.count, else calibration/states.yaml's)."""
        from nxmfg.calibration.states import settings

        return self.states.count if self.states is not None else settings().count

    def fingerprint(self, **context: object) -> str:
        """sha256 of the study and what its results depend on (model version, fit, targets)."""
        text = json.dumps({"study": self.model_dump(mode="json"), **context}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def read(path: Path | str) -> Study:
    """Read a study file and check its shape; StudyError (one line) naming file and field."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise StudyError(path, "", f"cannot read file ({error.strerror})") from None
    if not path.is_file():
        raise StudyError(path, "", "not a regular file")
    if size > MAX_FILE_BYTES:
        raise StudyError(path, "", f"{size} bytes; a study file has at most {MAX_FILE_BYTES}")
    try:
        data = read_yaml(path)
    except ScenarioError as error:
        raise StudyError(path, error.field, error.problem) from None
    except UnicodeDecodeError as error:
        raise StudyError(path, "", f"not UTF-8 text (byte {error.start}); save the file as UTF-8") from None
    if not isinstance(data, dict):
        raise StudyError(path, "", "expected a mapping of study fields: " + ", ".join(Study.model_fields))
    try:
        return Study.model_validate(data)
    except ValidationError as error:
        found = from_validation_error(path, error, Study)
        raise StudyError(path, found.field, found.problem) from None


def check(path: Path | str, study: Study, constants: pd.DataFrame, targets: dict) -> None:
    """Names, ranges and years against the model.

    Parameters
    ----------
    constants
        model.constants(): index py name; columns low, high.
    targets
        id -> scenarios.Target (the shipped ones, extended by `targets_file`).
    """
    for name, lever in study.levers.items():
        _check_lever(path, study, name, lever, constants)
    for target_id in study.targets:
        _check_target(path, study, target_id, targets)
    for name, quota in study.quotas.items():
        _check_quota(path, name, quota)


def _check_quota(path, name: str, quota: Quota) -> None:
    from nxmfg.model.indicators import INDICATORS

    if quota.indicator not in INDICATORS:
        raise StudyError(path, f"quotas.{name}.indicator", f"{quota.indicator} is not an indicator"
                         + _did_you_mean(quota.indicator, INDICATORS) + " (model/indicators.py)")


def _did_you_mean(name: str, known) -> str:
    hint = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {hint[0]}?)" if hint else ""


def _check_lever(path, study: Study, name: str, lever: LeverRange, constants: pd.DataFrame) -> None:
    from nxmfg.scenarios import POLICY_LEVERS

    if name not in constants.index:
        raise StudyError(path, f"levers.{name}", "not a model constant" + _did_you_mean(name, constants.index)
                         + f"; the regional levers: {', '.join(POLICY_LEVERS)}")
    if read_only_at_start(constants, name):
        raise StudyError(path, f"levers.{name}", initial_only_problem(name))
    low, high = constants.at[name, "low"], constants.at[name, "high"]
    if (pd.notna(low) and lever.range[0] < low) or (pd.notna(high) and lever.range[1] > high):
        raise StudyError(path, f"levers.{name}.range", f"{lever.range} leaves the constant's range "
                         f"[{low:g}, {high:g}] in the .mdl")
    first, last = lever.start or (study.levers_from, study.levers_from)
    if first < study.levers_from:
        raise StudyError(path, f"levers.{name}.start", f"{first} is before levers_from ({study.levers_from})")
    if last + (lever.ramp[1] if lever.ramp else 0) > LAST_YEAR:
        raise StudyError(path, f"levers.{name}", f"start {last} plus ramp ends after {LAST_YEAR}, the model's end")


def _check_target(path, study: Study, target_id: str, targets: dict) -> None:
    target = targets.get(target_id)
    if target is None:
        raise StudyError(path, f"targets.{target_id}", "not a target id" + _did_you_mean(target_id, targets)
                         + " (see scenarios/targets.yaml)")
    if target.kind != "modelled":
        raise StudyError(path, f"targets.{target_id}", f"of kind {target.kind}, not modelled: no run can meet it")
    if target.year <= LAST_DATA_YEAR:
        raise StudyError(path, f"targets.{target_id}", f"year {target.year} is history (data to {LAST_DATA_YEAR}): "
                         "decided by what happened, not by a package")
    if target.year < study.levers_from:
        raise StudyError(path, f"targets.{target_id}", f"year {target.year} is before levers_from "
                         f"({study.levers_from}): no package acts in time")
