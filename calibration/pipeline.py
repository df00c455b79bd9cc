"""`nxmfg calibrate` end to end: data, problem, fit, intervals, then on request the report and the fit.

`run` computes everything and writes nothing; `write` puts the fit and its report in a folder of the
user's choice; `save` (and only it) replaces the shipped calibration/fitted.yaml and ensemble.csv.
"""

import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from nxmfg.calibration import fit as fitting
from nxmfg.calibration import intervals, report, runner
from nxmfg.calibration.history import DATA, observations
from nxmfg.calibration.stats import fit_table


@dataclass
class Outcome:
    """A finished fit: the values, their intervals and band members, and the fit statistics."""
    values: dict[str, float]
    params: pd.DataFrame           # estimate, 95 % interval and identification per parameter
    members: np.ndarray            # parameter sets inside the joint 95 % region, the estimate first
    runs: xr.Dataset               # indicators of the members (dims run, year)
    header: dict                   # model version, data files and hash, date, until, seed, cost
    pairs: pd.DataFrame            # indicator, year, simulated, observed, in_sample
    in_sample: pd.DataFrame
    out_of_sample: pd.DataFrame | None
    setup: "Setup"
    until: int | None
    seconds: float


@dataclass
class Setup:
    """What a fit needs: all history, the part fitted, the problem and the evaluator."""
    history: pd.DataFrame
    fitted_history: pd.DataFrame
    problem: fitting.Problem
    evaluate: fitting.Evaluate
    spec: dict
    constants: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def observed_pairs(run: xr.Dataset, history: pd.DataFrame) -> pd.DataFrame:
    """(indicator, year, simulated, observed) where the model computes the indicator that year."""
    rows = []
    for row in history.itertuples(index=False):
        if row.indicator in run and row.year in run["year"]:
            value = float(run[row.indicator].sel(year=row.year))
            if np.isfinite(value):
                rows.append((row.indicator, row.year, value, row.value))
    return pd.DataFrame(rows, columns=["indicator", "year", "simulated", "observed"])


def usable(history: pd.DataFrame, probe: xr.Dataset, notes: list[str]) -> pd.DataFrame:
    """Drop observations the model cannot produce (no such indicator, or undefined that year); note them."""
    pairs = observed_pairs(probe, history)
    keep = history.merge(pairs[["indicator", "year"]], on=["indicator", "year"])
    dropped = history.merge(keep[["indicator", "year"]], how="left", on=["indicator", "year"], indicator=True)
    for row in dropped[dropped["_merge"] == "left_only"].itertuples():
        why = "no such model indicator" if row.indicator not in probe else "model value undefined that year"
        notes.append(f"not fitted: {row.indicator} {row.year} ({why})")
    return keep


def prepare(until: int | None, data: Path | None) -> Setup:
    """Read data and free parameters, bind the ensemble engine, and keep what the model can produce."""
    from nxmfg import model
    from nxmfg.model import indicators as model_indicators

    history = observations(extra=data)
    spec = runner.read_free_parameters()
    names = list(spec["parameters"])
    indicators = sorted(set(history["indicator"]) & set(model_indicators.INDICATORS))
    evaluate = runner.ensemble_evaluator(names, partial(model_indicators.compute, names=indicators),
                                         int(history["year"].max()))
    constants = model.constants()
    notes: list[str] = []
    probe = evaluate(constants.loc[names, "value"].to_numpy(float)[None, :]).isel(run=0)
    fitted_history = usable(history if until is None else history[history["year"] <= until], probe, notes)
    problem = runner.build_problem(spec, constants, fitted_history)
    for row in fitted_history[fitted_history["unit"].str.contains("approximate")].itertuples():
        notes.append(f"approximate value fitted as printed: {row.indicator} {row.year} = {row.value:g}")
    return Setup(history, fitted_history, problem, evaluate, spec, constants, notes)


def run(until: int | None, data: Path | None, progress: bool = True) -> Outcome:
    """Fit the free parameters to the record (years <= until, if given); write nothing."""
    from nxmfg import model

    start = time.perf_counter()
    setup = prepare(until, data)
    problem, seed = setup.problem, setup.spec["seed"]
    best = fitting.calibrate(problem, setup.evaluate, seed, setup.spec.get("search"), progress)
    best = intervals.explore(problem, best, setup.evaluate, seed)
    params = intervals.profile_intervals(problem, best)
    params.insert(2, "mdl_value", setup.constants.loc[problem.names, "value"].to_numpy(float))
    members = intervals.band_members(problem, best, seed)
    runs = setup.evaluate(members)
    paths = [DATA] + ([Path(data)] if data else [])
    header = runner.fit_header(model.version(), paths, best.cost, until, seed)
    pairs = observed_pairs(runs.isel(run=0), setup.history)
    pairs["in_sample"] = pairs.merge(setup.fitted_history, how="left", on=["indicator", "year"],
                                     indicator=True)["_merge"].eq("both").to_numpy()
    in_sample = fit_table(pairs[pairs["in_sample"]])
    out_of_sample = fit_table(pairs[pairs["year"] > until]) if until is not None else None
    header |= {"start": ".mdl values (calibration/fitted.yaml is not applied while fitting)",
               "free parameters": len(problem.names), "observations fitted": len(problem.targets),
               "evaluations": len(best.evaluated_cost), "search": best.message,
               "seconds": f"{time.perf_counter() - start:.0f}"}
    return Outcome(dict(zip(problem.names, map(float, best.x), strict=True)), params, members, runs, header,
                   pairs, in_sample, out_of_sample, setup, until, time.perf_counter() - start)


def write(outcome: Outcome, out: Path) -> list[Path]:
    """fitted.yaml, ensemble.csv, params.csv, fit.csv (+ fit_out_of_sample.csv and coverage.csv), residuals.csv,
    fit.png and report.md in `out`, staged and moved in together (model.files.staged_output); never the shipped fit."""
    from nxmfg.model.files import staged_output

    with staged_output(out, "calibrate") as stage:
        runner.write_fitted(outcome.values, outcome.header, stage / "fitted.yaml")
        runner.write_ensemble(list(outcome.values), outcome.members, outcome.header, stage / "ensemble.csv")
        report.write_csv(outcome.params, stage / "params.csv")
        report.write_csv(outcome.in_sample, stage / "fit.csv")
        report.write_csv(outcome.pairs, stage / "residuals.csv")
        if outcome.out_of_sample is not None:
            report.write_csv(outcome.out_of_sample, stage / "fit_out_of_sample.csv")
        report.draw_charts(outcome.runs.isel(run=0), outcome.runs, outcome.setup.history, outcome.until,
                           stage / "fit.png")
        text = report.report_markdown(outcome.header, outcome.params, outcome.in_sample, outcome.out_of_sample,
                                      outcome.setup.problem.targets, outcome.setup.notes)
        if outcome.until is not None:     # are the odds calibrated? this fit's states against the later years
            from nxmfg.calibration import coverage

            scored = coverage.table(stage / "fitted.yaml", outcome.until, int(outcome.setup.history["year"].max()),
                                    outcome.setup.history)
            report.write_csv(scored, stage / "coverage.csv")
            text += ("\n## Coverage of the later years (coverage.csv)\n\nThis fit's states of the world "
                     "(calibration/states.py) run from 2010 without the record: " + coverage.summary(scored)
                     + "\n\n" + report.markdown_table(scored) + "\n")
        report.write_text(text, stage / "report.md")
    return sorted(p for p in out.iterdir() if not p.name.startswith("."))


def save(outcome: Outcome) -> list[Path]:
    """Replace the shipped fit (calibration/fitted.yaml and ensemble.csv) with this one."""
    if outcome.until is not None:
        raise ValueError(f"save: a fit to years <= {outcome.until} is an out-of-sample test; it cannot "
                         "replace the shipped fit, which uses all years")
    from nxmfg.model.files import remove_stale

    remove_stale(runner.FITTED.parent, depth=1)   # temporaries of a calibration killed while writing
    runner.write_fitted(outcome.values, outcome.header, runner.FITTED)
    runner.write_ensemble(list(outcome.values), outcome.members, outcome.header, runner.ENSEMBLE)
    return [runner.FITTED, runner.ENSEMBLE]
