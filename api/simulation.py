"""`nxmfg.run`: one scenario through the ensemble engine, judged on the targets."""

from __future__ import annotations

from dataclasses import replace
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING

from nxmfg.api import inputs
from nxmfg.api.result import Result

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from nxmfg.calibration.fits import Fit
    from nxmfg.scenarios import Scenario


def run(scenario_or_path: Scenario | str | Path, params: inputs.Params = None, targets: inputs.Targets = None,
        *, targets_mode: str = "extend") -> Result:
    """Run one scenario from the calibrated baseline and judge it on the plans' targets.

    Parameters
    ----------
    scenario_or_path
        A scenario file (``"scenarios/plan.yaml"``), the name of a shipped scenario (``"plan"``), or a
        `nxmfg.scenarios.Scenario` (e.g. from `nxmfg.scenarios.with_changes`).
    params
        None: the shipped fit (calibration/fitted.yaml). A path: a fit file written by
        ``nxmfg calibrate --out DIR`` (DIR/fitted.yaml), used instead of the shipped fit. A mapping
        ``{constant: value}``: constants set for the whole run on top of the shipped fit (levers of the
        scenario still act from their start year).
    targets
        None: the shipped targets (documents A-D). A targets file in the same schema, which extends the
        shipped targets or, with ``targets_mode="replace"``, replaces them. Or a list of
        `nxmfg.scenarios.Target` rows, used as they are.
    targets_mode
        ``"extend"`` (a row with a shipped id replaces that row) or ``"replace"``.

    Returns
    -------
    Result
        Indicators and variables by year, target attainment, and metadata recording the model
        version, scenario, every parameter value, the fit and the targets used.

    Raises
    ------
    ValueError
        A bad scenario, fit, parameter or targets file; the one-line message names file and field.
    """
    chosen = inputs.scenario(scenario_or_path)
    fit, overrides = inputs.fit_and_overrides(params)
    return simulate(chosen, fit, overrides, inputs.targets(targets, targets_mode))


def simulate(scenario: Scenario, fit: Fit, overrides: dict[str, float], targets: inputs.TargetSet,
             actuals: pd.DataFrame | None = None) -> Result:
    """Run resolved inputs (see `run`): check the scenario, run the engine once, judge on `targets` (see
    `judge` for `actuals`)."""
    return judge(engine_run(scenario, fit, overrides), targets, actuals)


def engine_run(scenario: Scenario, fit: Fit, overrides: dict[str, float]) -> Result:
    """The run of resolved inputs, not judged yet (no targets, an empty attainment): see `judge`.

    One engine batch: the central run (run 0) and the states of the world of `fit` (calibration/states.py),
    from the recorded state of the last data year (calibration/seam.py) unless the scenario changes the past.
    """
    import pandas as pd

    from nxmfg.api import baseline
    from nxmfg.calibration import worlds
    from nxmfg.model import indicators

    chosen = states_of(fit)
    runs, seam = worlds.run(scenario, fit, chosen, {"final_time": scenario.final_year, "saveper": 1}, overrides,
                            history=inputs.history())
    computed = indicators.compute(runs)
    variables = runs.isel(run=0, drop=True)
    variables.attrs = {}
    band = computed.isel(run=slice(1, None)) if chosen.count else None
    meta = metadata(scenario, fit, overrides, None, engine_inputs(scenario, fit, overrides))
    # engine: which path ran (compiled or numpy), with its note
    meta |= {"states": chosen.record(), "seam": seam} | {k: v for k, v in runs.attrs.items() if k.startswith("engine")}
    result = Result(scenario, computed.isel(run=0, drop=True), variables, pd.DataFrame(), meta, [], fit, band,
                    chosen)
    if scenario.name == "baseline" or not (scenario.levers or scenario.paths):
        baseline.keep(result)     # drawn beside later scenarios on their charts (api/baseline.py)
    return result


def states_of(fit: Fit):
    """The states of the world of `fit` (calibration.states.draw), none where the fit has no draws."""
    from nxmfg.calibration import states

    return states.draw(fit) if fit.ensemble is not None else states.none()


def judge(result: Result, targets: inputs.TargetSet, actuals: pd.DataFrame | None = None) -> Result:
    """`result` judged on `targets`: its attainment (with P(met) over its states, the years read from the
    record, the verdicts decided by assumptions), its targets, and their record in its metadata.

    actuals: what the record says of `targets` (outcomes.actual_outcomes; made here if not given), the same
    for every scenario judged on them.
    """
    from nxmfg import scenarios
    from nxmfg.calibration import seam, states
    from nxmfg.calibration.verdict_shares import decided_by_assumptions
    from nxmfg.scenarios import outcomes

    record = inputs.history() if seam.applies(result.scenario) else None
    table = scenarios.attainment(result.indicators, targets.rows, record)
    if result.band is not None:
        table["p_met"] = scenarios.attainment_by_run(result.band, targets.rows, record)["probability"].to_numpy()
    else:
        table["p_met"] = float("nan")
    chosen = result.states if result.states is not None else states.none()
    table["p_met_over"] = chosen.label("en")
    table["decided_by_assumptions"] = table["id"].map(decided_by_assumptions()).astype("boolean")
    judged = outcomes.with_actuals(table, targets.rows, inputs.history(), actual=actuals)
    return replace(result, attainment=judged, targets=list(targets.rows),
                   metadata=result.metadata | {"targets": targets.record()})


def engine_inputs(scenario: Scenario, fit: Fit, overrides: dict[str, float]) -> dict[str, float | pd.Series]:
    """What the engine is given for `scenario` on `fit` with `overrides` (checked against the model)."""
    from nxmfg import model, scenarios

    constants = model.constants()
    scenarios.check(scenario, constants, model.lookups())
    baseline = constants["value"].to_dict() | fit.values | overrides
    return fit.values | overrides | scenario.params(baseline)


def metadata(scenario: Scenario, fit: Fit, overrides: dict[str, float], targets: inputs.TargetSet | None,
             params: dict[str, float | pd.Series | xr.DataArray]) -> dict:
    """What made a result: model and package version, scenario, fit, overrides, targets (None: not judged
    yet), every parameter."""
    import yaml

    from nxmfg import model

    source = Path(scenario.source)
    text = (source.read_text(encoding="utf-8") if source.is_file() else
            yaml.safe_dump(scenario.model_dump(mode="json", by_alias=True, exclude_none=True),
                           allow_unicode=True, sort_keys=False))
    return {"model_version": model.version(), "model_file": model.MDL.name, "nxmfg_version": _nxmfg_version(),
            "scenario": scenario.name, "scenario_file": str(source), "scenario_yaml": text,
            "fit": fit.record(), "overrides": dict(overrides),
            "targets": None if targets is None else targets.record(),
            "parameters": {name: plain(value) for name, value in params.items()}}


def plain(value) -> float | dict[float, float]:
    """A parameter as YAML/JSON can hold it: a number, or a time path {year: value}."""
    if hasattr(value, "to_dict"):
        return {float(year): float(v) for year, v in value.to_dict().items()}
    return float(value)


def _nxmfg_version() -> str:
    try:
        return package_version("nxmfg")
    except PackageNotFoundError:   # run from a source tree that is not installed
        return "unknown"
