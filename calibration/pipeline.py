"""`nxmfg calibrate` end to end: data, problem, fit, intervals, report, fitted.yaml."""

import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from calibration import fit as fitting
from calibration import intervals, report, runner
from calibration.history import DATA, observations
from calibration.stats import fit_table
from model.files import check_writable, remove_stale, staged_output


@dataclass
class Outcome:
    in_sample: pd.DataFrame
    out_of_sample: pd.DataFrame | None
    params: pd.DataFrame
    seconds: float
    fitted_path: Path | None


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
    import model
    import model.indicators

    history = observations(extra=data)
    spec = runner.read_free_parameters()
    names = list(spec["parameters"])
    indicators = sorted(set(history["indicator"]) & set(model.indicators.INDICATORS))
    evaluate = runner.ensemble_evaluator(names, partial(model.indicators.compute, names=indicators),
                                         int(history["year"].max()))
    constants = model.constants()
    notes: list[str] = []
    probe = evaluate(constants.loc[names, "value"].to_numpy(float)[None, :]).isel(run=0)
    fitted_history = usable(history if until is None else history[history["year"] <= until], probe, notes)
    problem = runner.build_problem(spec, constants, fitted_history)
    for row in fitted_history[fitted_history["unit"].str.contains("approximate")].itertuples():
        notes.append(f"approximate value fitted as printed: {row.indicator} {row.year} = {row.value:g}")
    return Setup(history, fitted_history, problem, evaluate, spec, constants, notes)


def calibrate(until: int | None, data: Path | None, out: Path, progress: bool = True) -> Outcome:
    """Fit, write the report into `out`, and write calibration/fitted.yaml when all years are used."""
    import model

    start = time.perf_counter()
    check_writable(out)                   # before the fit, which takes a while
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
    values = dict(zip(problem.names, best.x, strict=True))
    with staged_output(out, "calibrate") as stage:
        runner.write_fitted(values, header, stage / "fitted.yaml")
        runner.write_ensemble(problem.names, members, header, stage / "ensemble.csv")
        details = {"start": ".mdl values (calibration/fitted.yaml is not applied while fitting)",
                   "free parameters": len(problem.names), "observations fitted": len(problem.targets),
                   "evaluations": len(best.evaluated_cost), "search": best.message,
                   "seconds": f"{time.perf_counter() - start:.0f}"}
        in_sample, out_of_sample = write_report(stage, header | details, params, setup, runs, until)
    fitted_path = None
    if until is None:          # an out-of-sample test must not replace the committed baseline
        fitted_path = runner.FITTED
        remove_stale(fitted_path.parent, depth=1)   # temporaries of a calibration killed while writing
        runner.write_fitted(values, header, fitted_path)
        runner.write_ensemble(problem.names, members, header)
    return Outcome(in_sample, out_of_sample, params, time.perf_counter() - start, fitted_path)


def write_report(out: Path, header: dict, params: pd.DataFrame, setup: Setup, runs: xr.Dataset,
                 until: int | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Write params.csv, fit.csv (+ fit_out_of_sample.csv), residuals.csv, fit.png, report.md."""
    best = runs.isel(run=0)
    pairs = observed_pairs(best, setup.history)
    pairs["in_sample"] = pairs.merge(setup.fitted_history, how="left", on=["indicator", "year"],
                                     indicator=True)["_merge"].eq("both").to_numpy()
    in_sample = fit_table(pairs[pairs["in_sample"]])
    out_of_sample = fit_table(pairs[pairs["year"] > until]) if until is not None else None
    report.write_csv(params, out / "params.csv")
    report.write_csv(in_sample, out / "fit.csv")
    report.write_csv(pairs, out / "residuals.csv")
    if out_of_sample is not None:
        report.write_csv(out_of_sample, out / "fit_out_of_sample.csv")
    report.draw_charts(best, runs, setup.history, until, out / "fit.png")
    text = report.report_markdown(header, params, in_sample, out_of_sample, setup.problem.targets,
                                  setup.notes)
    report.write_text(text, out / "report.md")
    return in_sample, out_of_sample
