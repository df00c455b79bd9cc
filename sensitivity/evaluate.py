"""The model as a study's evaluator: sample rows -> model.ensemble.run -> outcomes, met flags, series."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from nxmfg import model, scenarios
from nxmfg.model import ensemble
from nxmfg.model import indicators as model_indicators

from .study import Study, check, check_levers_from, read


def _scenario_path(study_file: Path, scenario: str) -> Path:
    """A .yaml path (relative to the study file), or a shipped scenario's name."""
    if scenario.endswith((".yaml", ".yml")):
        return (study_file.parent / scenario).resolve()
    shipped = sorted(p.stem for p in Path(scenarios.__file__).parent.glob("*.yaml") if p.stem != "targets")
    if scenario not in shipped:
        raise ValueError(f"{study_file}: scenario: {scenario!r} is neither a shipped scenario nor a .yaml file; "
                         f"allowed: {', '.join(shipped)}, or a path ending in .yaml (relative to the study file)")
    return Path(scenarios.__file__).with_name(f"{scenario}.yaml")


def _check_outcomes(path: Path, study: Study, targets: dict[str, scenarios.Target]) -> None:
    """Outcome names must be model indicators, and target ids modelled targets of targets.yaml."""
    for index, outcome in enumerate(study.outcomes):
        if outcome.target is not None:
            target = targets.get(outcome.target)
            if target is None or target.kind != "modelled":
                modelled = sorted(t for t, v in targets.items() if v.kind == "modelled")
                why = "not in targets.yaml" if target is None else f"of kind {target.kind}, not modelled"
                raise ValueError(f"{path}: outcomes.{index}.target: {outcome.target!r} is {why}; "
                                 f"allowed: {', '.join(modelled)}")
        elif outcome.indicator not in model_indicators.INDICATORS:
            raise ValueError(f"{path}: outcomes.{index}.indicator: {outcome.indicator!r} is not in "
                             "model/indicators.py")
    years = [outcome.year or targets[outcome.target].year for outcome in study.outcomes]
    try:
        check_levers_from(study, years)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


SEAM_RUNS = 2048   # runs per reconciled batch (calibration/seam.py), one per worker: its saved values ~150 MB


class ModelEvaluator:
    """Runs rows of a study's sample through the ensemble engine in one call per chunk.

    Uncertain constants get their sampled value for the whole run; levers keep the base
    scenario's path before `levers_from` and take the sampled value from that year on; the states'
    coordinates become a state of the world each (calibration/states.py). A study whose levers act after
    the last data year looks ahead: its runs go on from the recorded state of that year
    (calibration/seam.py), and its targets read their observed years from the record.
    """

    def __init__(self, study: Study, base: dict, baseline: dict[str, float],
                 targets: list[scenarios.Target], scheduler: str | None = None) -> None:
        from nxmfg.api import inputs
        from nxmfg.calibration import seam

        self.study, self.base, self.baseline, self.scheduler = study, base, baseline, scheduler
        self.targets = targets
        self.ahead = study.levers_from > seam.YEAR
        self.history = inputs.history() if self.ahead else None
        names = {o.indicator for o in study.outcomes if o.indicator} | {t.indicator for t in targets}
        self.series_names = sorted(names)
        self.final_year = max([o.year for o in study.outcomes if o.year] + [t.year for t in targets])
        # from the year before the levers start: their ST there must be 0 (history is untouched)
        self.series_years = list(range(min(study.levers_from, self.final_year) - 1, self.final_year + 1))
        self.reduce = partial(model_indicators.compute, names=self.series_names)

    def params(self, X: np.ndarray) -> dict:
        """Ensemble inputs for the rows of X: base scenario, then sampled constants and lever paths, then
        the states of the world at the rows' coordinates."""
        params = dict(self.base)
        states = {name for names in self.study.state_columns.values() for name in names}
        for j, name in enumerate(self.study.parameters):
            if name not in states:
                params[name] = self._lever_paths(name, X[:, j]) if name in self.study.levers else X[:, j].copy()
        return params | self._states(X) if states else params

    def _drawn(self, X: np.ndarray):
        """The states of the world at the rows' coordinates (calibration/states.py `from_unit`)."""
        from nxmfg.calibration import states
        from nxmfg.calibration.fits import shipped_fit

        columns = list(self.study.parameters)
        unit = {group: X[:, [columns.index(name) for name in names]]
                for group, names in self.study.state_columns.items()}
        return states.from_unit(shipped_fit().parameter_sets(), unit, states.assumed_priors())

    def plausible(self, X: np.ndarray) -> np.ndarray:
        """True for each row whose state of the world passes the reality checks (its baseline, as the states
        are screened: calibration/plausible.py, from the record where the study looks ahead); a study with
        states only."""
        from nxmfg.calibration import plausible
        from nxmfg.calibration.fits import shipped_fit

        return np.concatenate([plausible.screen(shipped_fit(), self._drawn(X[first:first + SEAM_RUNS]), self.ahead)
                               for first in range(0, len(X), SEAM_RUNS)])

    def _states(self, X: np.ndarray) -> dict:
        from nxmfg.calibration import states
        from nxmfg.calibration.fits import shipped_fit

        fit = shipped_fit()
        drawn = self._drawn(X)
        tables = model.outlook_tables() | {k: v for k, v in self.base.items() if k.endswith("_outlook")}
        inputs = drawn.inputs(states.central_values(drawn, fit.values, self.baseline), tables)
        return {name: value[1:] if isinstance(value, np.ndarray) else
                value.isel(run=slice(1, None)).assign_coords(run=np.arange(len(X))) for name, value in inputs.items()}

    def _lever_paths(self, name: str, values: np.ndarray) -> xr.DataArray:
        start, before = self.study.levers_from, self.base.get(name)
        if not isinstance(before, pd.Series):
            return scenarios.lever_path_array(float(self.baseline[name]), start, values, [])
        # the base scenario moves this lever too: follow its path up to levers_from
        early = before.index[before.index < start - 1e-3]
        paths = scenarios.lever_path_array(float(self.baseline[name]), start, values, early)
        grid = paths["year"].to_numpy()
        paths[:, grid < start] = np.interp(grid[grid < start], before.index, before.to_numpy())
        return paths

    def runs(self, X: np.ndarray) -> xr.Dataset:
        """The rows' runs: from the start, or from the recorded state of the last data year (`ahead`)."""
        if not self.ahead:
            return ensemble.run(self.params(X), len(X), reduce=self.reduce, final_year=self.final_year,
                                scheduler=self.scheduler, progress=False)
        from nxmfg.calibration import seam

        control = {"final_time": self.final_year, "saveper": 1}
        firsts = range(0, len(X), SEAM_RUNS)
        tasks = [(model.fitted() | self.params(X[first:first + SEAM_RUNS]), len(X[first:first + SEAM_RUNS]),
                  self.reduce, control, self.history) for first in firsts]
        parts = [part.assign_coords(run=np.arange(first, first + part.sizes["run"])) for first, part in
                 zip(firsts, ensemble.map_calls(seam.run_batch, tasks, scheduler=self.scheduler), strict=True)]
        return xr.concat(parts, dim="run") if len(parts) > 1 else parts[0]

    def __call__(self, X: np.ndarray) -> dict[str, np.ndarray]:
        runs = self.runs(X)
        outcomes = np.empty((len(X), len(self.study.outcomes)))
        met = np.full_like(outcomes, np.nan)
        attained = scenarios.attainment_by_run(runs, self.targets, self.history) if self.targets else None
        for k, outcome in enumerate(self.study.outcomes):
            if outcome.target is not None:
                outcomes[:, k] = attained["margin"].sel(target=outcome.target).to_numpy()
                hit = attained["met"].sel(target=outcome.target).to_numpy()
                met[:, k] = np.where(np.isnan(outcomes[:, k]), np.nan, hit)
            else:
                outcomes[:, k] = _in_years(runs[outcome.indicator], [outcome.year])[:, 0]
        series = np.stack([_in_years(runs[n], self.series_years) for n in self.series_names], axis=1)
        # float32 halves the largest array; ST over time needs no more precision
        return {"outcomes": outcomes, "met": met, "series": series.astype(np.float32)}


def _in_years(values: xr.DataArray, years: list[int]) -> np.ndarray:
    """(run, len(years)) values in whole years (the year coordinate may be float)."""
    chosen = values.sel(year=np.asarray(years, dtype=values["year"].dtype), method="nearest", tolerance=1e-6)
    return chosen.transpose("run", "year").to_numpy().astype(float)


def for_model(path: Path, scheduler: str | None = None) -> tuple[Study, ModelEvaluator, dict]:
    """Load a study file against the model; return it, its evaluator, and the context to record."""
    path = Path(path)
    study = read(path)                       # shape first: a typo needs no model
    constants = model.constants()
    study = check(path, study, constants)
    scenario_file = _scenario_path(path, study.scenario)
    if not scenario_file.exists():
        raise ValueError(f"{path}: scenario: no scenario file {scenario_file}")
    scenario = scenarios.load(scenario_file)
    baseline = model.baseline()
    all_targets = {t.id: t for t in scenarios.load_targets()}
    _check_outcomes(path, study, all_targets)
    targets = [all_targets[o.target] for o in study.outcomes if o.target is not None]
    context = {"model_version": model.version(),
               "scenario": scenario.model_dump(mode="json", by_alias=True), "fitted": model.fitted(),
               "targets": [t.model_dump(mode="json") for t in targets], "states": _states_context(study)}
    evaluator = ModelEvaluator(study, scenario.params(baseline), baseline, targets, scheduler)
    return study, evaluator, context


def _states_context(study: Study) -> dict | None:
    """What a study's states of the world depend on: the states' settings, the fit's draws, the priors."""
    if not study.states:
        return None
    from nxmfg.calibration import states
    from nxmfg.calibration.fits import sha256, shipped_fit

    priors = states.assumed_priors()
    fit = shipped_fit()
    return {"settings": states.settings().model_dump(mode="json", by_alias=True),
            "draws": sha256(fit.ensemble) if fit.ensemble else None,
            "priors": sha256(priors.path) if priors is not None else None}
