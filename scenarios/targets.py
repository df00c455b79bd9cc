"""The plans' quantitative targets (targets.yaml) and whether a run attains them."""

import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nxmfg.scenarios import measures
from nxmfg.scenarios import record as record_
from nxmfg.scenarios.measures import BASE_MEASURES, COUNT_MEASURES, MEASURES, SPAN_MEASURES
from nxmfg.scenarios.validation import ScenarioError, from_validation_error, read_yaml

TARGETS = Path(__file__).with_name("targets.yaml")
TARGET_MODES = ("extend", "replace")   # how a user's own targets file combines with the shipped one
Year = Annotated[int, Field(ge=2010, le=2035)]
MET_SLACK = 1e-9   # relative: a threshold hit exactly, up to rounding, counts as met


class Target(BaseModel):
    """One quantitative target of a plan document, with the clause it comes from."""

    model_config = ConfigDict(extra="forbid", strict=True)
    id: str = Field(pattern=r"^[A-Z][A-Z0-9]*-[a-z0-9-]+$")   # its doc code, a hyphen, a slug
    doc: str = Field(pattern=r"^[A-Z][A-Z0-9]{0,7}$")          # A-D: the shipped plans; own files name theirs
    clause: str = Field(min_length=1)           # original wording, with section number
    target: str = Field(min_length=1)           # short English label for tables
    year: Year
    indicator: str | None = None                # model/indicators.py name (modelled targets)
    measure: Literal[MEASURES]                  # see scenarios/measures.py
    base_year: Year | None = None
    from_year: Year | None = None
    count: Annotated[int, Field(ge=1)] | None = None   # probability_at_least: P(at least `count`)
    threshold: Annotated[float, Field(allow_inf_nan=False)]
    direction: Literal["at_least", "at_most", "about"]
    tolerance: Annotated[float, Field(gt=0, lt=1)] | None = None   # relative, for `about` only
    kind: Literal["modelled", "lever", "out_of_scope"]
    lever: str | None = None                    # model constant a `lever` target sets
    reason: str | None = None
    conflicts_with: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Target":
        _require(self.id.startswith(f"{self.doc}-"), f"id: must start with its doc code, '{self.doc}-'")
        _require(self.measure not in BASE_MEASURES or self.base_year is not None,
                  f"base_year: required by measure {self.measure}")
        _require(self.measure not in SPAN_MEASURES or self.from_year is not None,
                  f"from_year: required by measure {self.measure}")
        _require(self.measure in BASE_MEASURES or self.base_year is None,
                  f"base_year: not used by measure {self.measure}; only by {', '.join(BASE_MEASURES)}")
        _require(self.measure in SPAN_MEASURES or self.from_year is None,
                  f"from_year: not used by measure {self.measure}; only by {', '.join(SPAN_MEASURES)}")
        _require(self.measure not in COUNT_MEASURES or self.count is not None,
                 f"count: required by measure {self.measure}")
        _require(self.measure in COUNT_MEASURES or self.count is None,
                 f"count: not used by measure {self.measure}; only by {', '.join(COUNT_MEASURES)}")
        _require(self.measure not in COUNT_MEASURES or 0 < self.threshold < 1,
                 "threshold: a probability strictly between 0 and 1 for measure probability_at_least")
        _require(self.base_year is None or self.base_year < self.year, "base_year: must be before year")
        _require(self.from_year is None or self.from_year <= self.year, "from_year: must not be after year")
        _require(self.tolerance is None or self.direction == "about", "tolerance: only for direction about")
        _require(self.kind != "modelled" or self.indicator is not None,
                 "indicator: required for kind modelled")
        _require(self.kind == "modelled" or self.indicator is None,
                 "indicator: only for kind modelled (say in note which indicator is closest)")
        _require(self.kind != "lever" or (self.lever is not None and self.reason is not None),
                 "lever: kind lever needs `lever` (the model constant) and `reason`")
        _require(self.kind == "lever" or self.lever is None, "lever: only for kind lever")
        _require(self.kind != "out_of_scope" or bool(self.reason), "reason: required for kind out_of_scope")
        return self

    def measured_values(self, values: np.ndarray, years: np.ndarray) -> np.ndarray:
        """This target's measure of its indicator's values [..., year] on the time axis `years` (NaN where a
        needed year is missing; scenarios/measures.py)."""
        return measures.measure(self.measure, values, years, self.year, base_year=self.base_year,
                                from_year=self.from_year, count=self.count, direction=self.direction,
                                threshold=self.threshold)

    def margin(self, value: xr.DataArray) -> xr.DataArray:
        return measures.margin(value, self.threshold, self.direction, self.tolerance)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def load_targets(path: Path | str = TARGETS, known: Iterable[str] = ()) -> list[Target]:
    """Read and validate a targets file: a list of rows, unique ids, conflicts_with naming a row
    of the file or one of the `known` ids."""
    rows = read_yaml(path, "targets")
    if not isinstance(rows, list) or not rows:
        raise ScenarioError(path, "", "expected a list of targets, one mapping each")
    targets: list[Target] = []
    for index, row in enumerate(rows):
        name = row.get("id") if isinstance(row, dict) and isinstance(row.get("id"), str) else f"[{index}]"
        if not isinstance(row, dict):
            raise ScenarioError(path, name, "each target must be a mapping")
        try:
            targets.append(Target.model_validate(row))
        except ValidationError as error:
            raise from_validation_error(path, error, Target, prefix=(name,)) from None
    ids = [t.id for t in targets]
    for target in targets:
        if ids.count(target.id) > 1:
            raise ScenarioError(path, f"{target.id}.id", "duplicate id")
        if target.conflicts_with == target.id:
            raise ScenarioError(path, f"{target.id}.conflicts_with", "names its own row; name the target it "
                                "conflicts with")
        if target.conflicts_with is not None and target.conflicts_with not in {*ids, *known}:
            raise ScenarioError(path, f"{target.id}.conflicts_with",
                                f"{target.conflicts_with!r} is not a target id")
    return targets


def load_own_targets(path: Path | str, mode: str = "extend", shipped: Path | str = TARGETS) -> list[Target]:
    """The targets to judge runs by when a user brings the targets file `path`.

    `extend`: the shipped targets plus those of `path`; a row of `path` with a shipped id replaces
    that row in place (to move a threshold, say), and `conflicts_with` may name a shipped id.
    `replace`: the rows of `path` alone.
    """
    if mode not in TARGET_MODES:
        raise ValueError(f"targets mode: {mode!r} is not allowed; allowed: {', '.join(TARGET_MODES)}")
    base = load_targets(shipped) if mode == "extend" else []
    own = {t.id: t for t in load_targets(path, known=[t.id for t in base])}
    kept = [own.pop(t.id, t) for t in base]
    return kept + list(own.values())


def check_targets(targets: Iterable[Target], indicators: Iterable[str], levers: Iterable[str],
                  path: Path | str = TARGETS) -> None:
    """Every modelled target names a model indicator and every lever target a model constant."""
    from nxmfg.model.indicators import POISSON_COUNTS, RATE_SUFFIXES

    indicators, levers = set(indicators), set(levers)
    for target in targets:
        if target.kind == "modelled" and target.indicator not in indicators:
            raise ScenarioError(path, f"{target.id}.indicator", f"{target.indicator!r} is not a model "
                                "indicator (see model.indicators.INDICATORS)")
        if target.measure in COUNT_MEASURES and target.indicator not in POISSON_COUNTS:
            raise ScenarioError(path, f"{target.id}.measure", f"probability_at_least reads an expected number "
                                f"of rare firms as a Poisson count; {target.indicator!r} is not one; allowed: "
                                f"{', '.join(POISSON_COUNTS)}")
        first = min(y for y in (target.year, target.base_year, target.from_year) if y is not None)
        if target.kind == "modelled" and str(target.indicator).endswith(RATE_SUFFIXES) and first < 2011:
            field = "from_year" if target.from_year == first else "base_year" if target.base_year == first else "year"
            raise ScenarioError(path, f"{target.id}.{field}", f"{target.indicator} is a yearly rate, with no "
                                f"value before 2011 (the model starts in 2010); {first} cannot be read")
        if target.kind == "lever" and target.lever not in levers:
            raise ScenarioError(path, f"{target.id}.lever", f"{target.lever!r} is not a model constant")


def attainment(indicators: xr.Dataset, targets: Sequence[Target], record: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per modelled target: id, doc, target, year, indicator, value, threshold, direction,
    met, margin (signed, in the threshold's unit; positive = beaten by that much), record_years.

    With a "run" dim, value and margin are medians over runs, met says whether the median run
    meets it, and a `probability` column gives the share of runs that meet it.
    record: the recorded history (indicator, year, value); a target after the last data year then reads
    the years of its window that the record holds from it (`record_years`; scenarios/record.py).
    """
    by_run = "run" in indicators.dims
    record = record_.held(record) if record is not None else None
    spliced = record_.spliced(indicators, targets, record) if record is not None else indicators
    grid = np.asarray(indicators["year"].values, dtype=float)
    rows = []
    for target in (t for t in targets if t.kind == "modelled"):
        years = record_.recorded_years(target, record)
        value = target.measured_values(_values(spliced if years else indicators, target.indicator), grid)
        margin = target.margin(value)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)      # no run with a value: NaN, as xarray gives
            row = {"id": target.id, "doc": target.doc, "target": target.target, "year": target.year,
                   "indicator": target.indicator, "value": float(np.nanmedian(value) if by_run else value),
                   "threshold": target.threshold, "direction": target.direction,
                   "margin": float(np.nanmedian(margin) if by_run else margin)}
            if by_run:
                shown = np.where(np.isnan(margin), np.nan, _met(margin, target.threshold))
                row["probability"] = float(np.nanmean(shown))
        row["met"] = pd.NA if np.isnan(row["margin"]) else bool(_met(row["margin"], target.threshold))
        row["record_years"] = record_.label(years)
        rows.append(row)
    columns = ["id", "doc", "target", "year", "indicator", "value", "threshold", "direction", "met", "margin",
               "record_years"]
    table = pd.DataFrame(rows, columns=columns + (["probability"] if by_run else []))
    return table.astype({"met": "boolean"})


def attainment_by_run(indicators: xr.Dataset, targets: Sequence[Target],
                      record: pd.DataFrame | None = None) -> xr.Dataset:
    """Per-run value, margin and met (dims "target", "run") of every modelled target, plus
    `probability` (dims "target"): the share of runs (with a value) that meet it, and `record_years`
    (dims "target"; see `attainment`). The measures run on the indicators' numpy arrays (Target.measured_values)."""
    modelled = [t for t in targets if t.kind == "modelled"]
    if "run" not in indicators.dims:
        indicators = indicators.expand_dims(run=[0])
    record = record_.held(record) if record is not None else None
    years = [record_.recorded_years(t, record) for t in modelled]
    spliced = record_.spliced(indicators, modelled, record) if any(years) else indicators
    grid, runs = np.asarray(indicators["year"].values, dtype=float), indicators.sizes["run"]
    values = np.array([t.measured_values(_by_run(spliced if y else indicators, t.indicator, runs), grid)
                       for t, y in zip(modelled, years, strict=True)]).reshape(len(modelled), runs)
    margins = np.array([t.margin(value) for t, value in zip(modelled, values, strict=True)]).reshape(values.shape)
    thresholds = np.array([t.threshold for t in modelled], dtype=float)
    met = _met(margins, thresholds[:, None])
    valid = ~np.isnan(margins)
    shown = np.where(valid, met, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # a target no run has a value for: NaN
        probability = np.nanmean(shown, axis=1)
    pair = ("target", "run")
    coords = {"run": indicators["run"]} if "run" in indicators.coords else {}
    result = xr.Dataset({"value": (pair, values), "margin": (pair, margins), "met": (pair, met),
                         "probability": ("target", probability)}, coords=coords)
    return result.assign_coords(target=[t.id for t in modelled],
                                indicator=("target", [t.indicator for t in modelled]),
                                year=("target", [t.year for t in modelled]),
                                threshold=("target", thresholds),
                                record_years=("target", [record_.label(y) for y in years]))


def _values(indicators: xr.Dataset, name: str | None) -> np.ndarray:
    """An indicator's values [(run,) year] (NaN for an indicator the dataset lacks)."""
    if name not in indicators:
        shape = tuple(size for dim, size in indicators.sizes.items() if dim == "run")
        return np.full((*shape, indicators.sizes["year"]), np.nan)
    variable = indicators.variables[name]          # a Variable: no DataArray made for it
    return np.moveaxis(np.asarray(variable.values, dtype=float), variable.dims.index("year"), -1)


def _by_run(indicators: xr.Dataset, name: str | None, runs: int) -> np.ndarray:
    """An indicator's values [runs x years] (a run-constant one broadcast; NaN for one the dataset lacks)."""
    values = _values(indicators, name)
    return values if values.ndim == 2 else np.broadcast_to(values, (runs, values.shape[-1]))


def _met(margin, threshold):
    return margin >= -MET_SLACK * np.maximum(1.0, np.abs(threshold))
