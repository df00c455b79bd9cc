"""Scenario files: schema, loading, checks against the model's names and ranges, and lever time paths.

A lever is a model constant changed from a start year on; before it the model keeps its baseline
value, so history is untouched. A path replaces an outlook lookup (years >= FIRST_OUTLOOK_YEAR only).
Shape is checked by `load` (no model needed); names and ranges by `check` (needs model.constants()).
"""

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from nxmfg.scenarios.validation import ScenarioError, from_validation_error, read_yaml

FIRST_LEVER_YEAR = 2011   # the model starts in 2010; a lever acts from the first full year on
FIRST_OUTLOOK_YEAR = 2024  # first year after the calibration data (its Ningxia values end in 2023)
LAST_YEAR = 2035           # FINAL TIME of model/nxmfg.mdl
STEP = 1e-6                # [year] the baseline holds until start - STEP, so a lever is a step at start

# The policy levers of docs/design.md (named in error messages); any model constant may be set.
POLICY_LEVERS = (
    "tech_upgrade_subsidy_rate", "interest_subsidy_pp", "key_projects_per_year",
    "cultivation_upgrades_per_year", "backward_capacity_elimination_rate",
    "high_tech_certification_reward", "intelligent_retrofit_firms_per_year",
    "cloud_voucher_firms_per_year", "energy_saving_investment_share",
    "water_saving_investment_share", "solid_waste_demo_firms_per_year", "extra_sci_tech_budget_share",
)
# Outlook values the model is defined for (lookups carry no [min,max] in the .mdl), from its equations:
# - growth and inflation rates g enter as Factor*g: Euler keeps a factor positive while g > -1/TIME STEP;
#   beyond +-50 %/yr (+-30 %/yr for prices) is a typo, not a scenario.
# - the coal price c enters the heavy share's odds as (c/522)^-(heavy coal price elasticity): undefined at 0;
#   50-5000 yuan/t spans a tenth to seven times the 2022 price.
# - China's R&D intensity enters as a ratio to its 2012 value (1.98 %) raised to an elasticity <= 4.
# - the super-deduction d enters as 1 + elasticity*(d - 0.5) in R&D take-up and intensity; with the start
#   elasticity at its range end 3 that stays positive only for d > 0.5 - 1/3 = 0.17: hence 0.2. 2.0 is
#   twice the 100 % deduction of 2023.
# - the region's employment growth enters as Factor*g, as the national rates do.
# - the coal-conversion build-out and the non-fossil power share are shares, 0-1 (weights of a mix).
# - a quota q (allowed intensity relative to 2020) enters only as allowed/actual through XIDZ: 0 is no quota
#   left (the largest curtailment), 2 twice the 2020 intensity (never binding).
# tests/test_scenarios.py runs 512 random parameter sets at each end and finds every stock finite.
OUTLOOK_BOUNDS = {
    "national_industry_growth_outlook": (-0.5, 0.5),
    "national_nonindustry_growth_outlook": (-0.5, 0.5),
    "national_industry_inflation_outlook": (-0.3, 0.3),
    "national_nonindustry_inflation_outlook": (-0.3, 0.3),
    "coal_price_outlook": (50.0, 5000.0),
    "national_rd_intensity_outlook": (0.002, 0.08),
    "rd_super_deduction_outlook": (0.2, 2.0),
    "regional_employment_growth_outlook": (-0.5, 0.5),
    "coal_conversion_build_out_outlook": (0.0, 1.0),
    "non_fossil_power_share_outlook": (0.0, 1.0),
    "co2_intensity_quota_outlook": (0.0, 2.0),
    "energy_intensity_quota_outlook": (0.0, 2.0),
}
MAX_DESCRIPTION = 10_000   # characters; the description is copied into every output's metadata

Number = Annotated[float, Field(allow_inf_nan=False)]


class Lever(BaseModel):
    """A model constant set from `from` on, to a constant `value` or along a `path` {year: value}."""

    model_config = ConfigDict(extra="forbid", strict=True)
    start: int = Field(alias="from")
    value: Number | None = None
    path: dict[int, Number] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _value_or_path(self) -> "Lever":
        if (self.value is None) == (self.path is None):
            raise ValueError("give exactly one of `value` or `path`")
        return self

    def time_path(self, baseline: float) -> pd.Series:
        """{start - STEP: baseline, start: first value, ...path}: linear between points, flat beyond."""
        points = {self.start - STEP: baseline}
        if self.path is None:
            points[self.start] = self.value
        else:
            points[self.start] = self.path[min(self.path)]
            points.update(self.path)
        return pd.Series({float(year): float(v) for year, v in sorted(points.items())})


class Title(BaseModel):
    """A scenario's name for people, in both languages: chart legends and report columns show it."""

    model_config = ConfigDict(extra="forbid", strict=True)
    zh: str = Field(min_length=1, max_length=80)
    en: str = Field(min_length=1, max_length=80)


class Description(BaseModel):
    """What a scenario is and why, in both languages: the report's scenario list shows the reader's."""

    model_config = ConfigDict(extra="forbid", strict=True)
    zh: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    en: str = Field(min_length=1, max_length=MAX_DESCRIPTION)


class Scenario(BaseModel):
    """A scenario file: levers changed from a start year, and outlook paths for the future."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Title | None = None
    description: Description | Annotated[str, Field(min_length=1, max_length=MAX_DESCRIPTION)]
    final_year: int = Field(LAST_YEAR, ge=FIRST_LEVER_YEAR, le=LAST_YEAR)
    levers: dict[str, Lever] = {}
    paths: dict[str, dict[int, Number]] = {}
    _source: Path = PrivateAttr(default=Path("<scenario>"))

    @property
    def source(self) -> Path:
        return self._source

    @field_validator("description", mode="before")
    @classmethod
    def _text_or_both_languages(cls, value):
        """One plain message for a wrong description, instead of one per branch of the union."""
        if isinstance(value, str) or isinstance(value, Description):
            return value
        if isinstance(value, dict) and set(value) == {"zh", "en"} and all(isinstance(v, str) for v in value.values()):
            return value
        raise ValueError(f"expected a text, or {{zh: ..., en: ...}} with both texts; got {value!r}"[:200])

    def label(self, lang: str = "zh") -> str:
        """The title in `lang` where the file gives one, else the name."""
        return getattr(self.title, lang) if self.title is not None else self.name

    def describe(self, lang: str = "zh") -> str:
        """The description in `lang` where the file gives both languages, else the one text it gives."""
        return getattr(self.description, lang) if isinstance(self.description, Description) else self.description

    def params(self, baseline: dict[str, float]) -> dict[str, float | pd.Series]:
        """Model params: each lever a time path that keeps `baseline[name]` before its start year;
        each outlook path a Series {year: value} that replaces the whole outlook table."""
        params: dict[str, float | pd.Series] = {}
        for name, lever in self.levers.items():
            if name not in baseline:
                raise ScenarioError(self._source, f"levers.{name}", "no baseline value for this lever")
            params[name] = lever.time_path(float(baseline[name]))
        for name, points in self.paths.items():
            params[name] = pd.Series({float(year): float(v) for year, v in sorted(points.items())})
        return params


def load(path: Path | str) -> Scenario:
    """Read and validate a scenario file (shape, types, years); raise ScenarioError (one line)."""
    scenario = _validated(read_yaml(path), path)
    if scenario.name != Path(path).stem:
        raise ScenarioError(path, "name", f"{scenario.name!r} differs from the file name "
                            f"{Path(path).stem!r}; they must match")
    return scenario


def _validated(data, path: Path | str) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(path, "", "expected a mapping with keys "
                            + ", ".join(f.alias or n for n, f in Scenario.model_fields.items()))
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise from_validation_error(path, error, Scenario) from None
    scenario._source = Path(path)
    _check_years(scenario)
    _check_outlooks(scenario)
    return scenario


def with_changes(scenario: Scenario, name: str, description: str | dict | None = None, levers: dict | None = None,
                 paths: dict | None = None, title: dict | None = None) -> Scenario:
    """A new scenario: `scenario` with `levers` and `paths` added or replaced, checked as a file would be.

    levers: {constant: {"from": year, "value": v} or {"from": year, "path": {year: v}}};
    paths: {outlook: {year: v}}; title: {"zh": ..., "en": ...} (the original's title is not kept: it
    names another scenario); description: a text or {"zh": ..., "en": ...}. Errors name the new scenario
    (`<name>`) and the field.
    """
    data = scenario.model_dump(by_alias=True, exclude_none=True)
    data |= {"name": name, "description": description or _changed(scenario, name)}
    data.pop("title", None)
    if title is not None:
        data["title"] = dict(title)
    data["levers"] = data["levers"] | dict(levers or {})
    data["paths"] = data["paths"] | dict(paths or {})
    return from_mapping(data, f"<{name}>")


def _changed(scenario: Scenario, name: str) -> dict[str, str]:
    """The description of a scenario changed from `scenario`, in both languages."""
    return {"zh": f"{scenario.describe('zh')}（修改为：{name}）", "en": f"{scenario.describe('en')} (changed: {name})"}


def from_mapping(data, source: Path | str) -> Scenario:
    """A scenario from a mapping (a parsed file, or one built in Python), checked for shape and years as
    `load` checks a file; errors name `source` and the field."""
    return _validated(data, source)


def _check_outlooks(scenario: Scenario) -> None:
    """Outlook values within OUTLOOK_BOUNDS (names are checked against the model by `check`)."""
    for name, points in scenario.paths.items():
        low, high = OUTLOOK_BOUNDS.get(name, (np.nan, np.nan))
        for year, value in points.items():
            _check_bounds(scenario.source, f"paths.{name}.{year}", value, low, high, "")


def _check_years(scenario: Scenario) -> None:
    path = scenario.source
    for name, lever in scenario.levers.items():
        if not FIRST_LEVER_YEAR <= lever.start <= scenario.final_year:
            raise ScenarioError(path, f"levers.{name}.from", f"{lever.start} is outside "
                                f"{FIRST_LEVER_YEAR}..{scenario.final_year} (final_year)")
        for year in lever.path or {}:
            if not lever.start <= year <= LAST_YEAR:
                raise ScenarioError(path, f"levers.{name}.path.{year}",
                                    f"year outside {lever.start} (from)..{LAST_YEAR}")
    for name, points in scenario.paths.items():
        if not points:
            raise ScenarioError(path, f"paths.{name}", "empty path; give {year: value} points")
        for year in points:
            if not FIRST_OUTLOOK_YEAR <= year <= LAST_YEAR:
                raise ScenarioError(path, f"paths.{name}.{year}", f"year outside {FIRST_OUTLOOK_YEAR}.."
                                    f"{LAST_YEAR}: outlooks may only change the future, history is fixed")


def check(scenario: Scenario, constants: pd.DataFrame, lookups: Iterable[str]) -> None:
    """Check names and ranges against the model.

    Parameters
    ----------
    constants
        model.constants(): index py name; columns value, low, high, units (NaN bound = open).
    lookups
        names of the model's lookups; only those ending in `_outlook` may be set by `paths`.
    """
    path = scenario.source
    for name, lever in scenario.levers.items():
        if name not in constants.index:
            levers = [n for n in POLICY_LEVERS if n in constants.index] or list(POLICY_LEVERS)
            hint = difflib.get_close_matches(name, list(constants.index), n=1)
            hint_text = f" (did you mean {hint[0]}?)" if hint else ""
            raise ScenarioError(path, f"levers.{name}", f"not a model lever{hint_text}; allowed: "
                                f"{', '.join(levers)} (or any constant listed by model.constants())")
        row = constants.loc[name]
        if read_only_at_start(constants, name):
            raise ScenarioError(path, f"levers.{name}", initial_only_problem(name))
        points = ({"value": lever.value} if lever.path is None
                  else {f"path.{year}": value for year, value in lever.path.items()})
        for field, value in points.items():
            _check_bounds(path, f"levers.{name}.{field}", value, row["low"], row["high"],
                          row.get("units", ""))
    outlooks = sorted(n for n in lookups if n.endswith("_outlook"))
    for name in scenario.paths:
        if name not in outlooks:
            raise ScenarioError(path, f"paths.{name}",
                                f"not an outlook lookup; allowed: {', '.join(outlooks)}")
    _check_outlooks(scenario)


def read_only_at_start(constants: pd.DataFrame, name: str) -> bool:
    """Whether the model reads constant `name` only to set its state in 2010 (model.constants()'s
    `initial_only`, from the translated equations): a lever on it would change nothing."""
    return "initial_only" in constants.columns and bool(constants.at[name, "initial_only"])


def initial_only_problem(name: str) -> str:
    """Why a lever on a constant the model reads only at its start (2010) is refused."""
    return (f"{name} is read only to set the model's state in 2010, so a lever on it from a later year would "
            "change nothing; set it for the whole run with --params (params= in Python), or pick a lever")


def _check_bounds(path: Path, field: str, value: float, low: float, high: float, units: str) -> None:
    if (pd.notna(low) and value < low) or (pd.notna(high) and value > high):
        units_text = f" {units}" if isinstance(units, str) and units not in ("", "1", "Dmnl") else ""
        low_text = f"{low:g}" if pd.notna(low) else "-inf"
        high_text = f"{high:g}" if pd.notna(high) else "inf"
        raise ScenarioError(path, field,
                            f"{value:g} is outside the range [{low_text}, {high_text}]{units_text}")


def lever_path_array(baseline: float, start: int, values: np.ndarray,
                     years: Iterable[float]) -> xr.DataArray:
    """Per-run time paths of one lever for model.ensemble.run: dims ("run", "year").

    Run r keeps `baseline` before `start` and takes `values[r]` from `start` on. The year
    coordinate is `years` plus start - STEP and start, so that linear interpolation between
    points gives a step at `start` (history before it is untouched), as Scenario.params does.
    """
    values = np.asarray(values, dtype=float)
    grid = np.unique(np.concatenate([np.asarray(list(years), dtype=float), [start - STEP, float(start)]]))
    data = np.where(grid[np.newaxis, :] < start, baseline, values[:, np.newaxis])
    return xr.DataArray(data, dims=("run", "year"), coords={"run": np.arange(len(values)), "year": grid},
                        name="lever_path", attrs={"baseline": baseline, "start": start})
