"""`nxmfg calibrate` end to end: data, problem, fit, intervals, report, fitted.yaml."""

import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from calibration import fit as fitting
from calibration import intervals, report, runner
from calibration.history import DATA, observations
from calibration.stats import fit_table


@dataclass
class Outcome:
    in_sample: pd.DataFrame
    out_of_sample: pd.DataFrame | None
    params: pd.DataFrame
    seconds: float
    fitted_path: Path | None


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


def calibrate(until: int | None, data: Path | None, out: Path, progress: bool = True) -> Outcome:
    """Fit, write the report into `out`, and write calibration/fitted.yaml when all years are used."""
    import model
    import model.indicators

    start, notes = time.perf_counter(), []
    history = observations(extra=data)
    spec = runner.read_free_parameters()
    names = list(spec["parameters"])
    indicators = sorted(set(history["indicator"]) & set(model.indicators.INDICATORS))
    evaluate = runner.ensemble_evaluator(names, partial(model.indicators.compute, names=indicators),
                                         int(history["year"].max()), runner.neutral_fitted(names))
    constants = model.constants()
    probe = evaluate(constants.loc[names, "value"].to_numpy(float)[None, :]).isel(run=0)
    fit_history = usable(history if until is None else history[history["year"] <= until], probe, notes)
    problem = runner.build_problem(spec, constants, fit_history)
    best = fitting.calibrate(problem, evaluate, spec["seed"], spec.get("search"), progress)
    best = intervals.explore(problem, best, evaluate, spec["seed"])
    params = intervals.profile_intervals(problem, best)
    params.insert(2, "mdl_value", constants.loc[names, "value"].to_numpy(float))
    runs = evaluate(intervals.band_members(problem, best, spec["seed"]))
    fitted_run = runs.isel(run=0)
    in_sample = fit_table(observed_pairs(fitted_run, fit_history))
    out_of_sample = None
    if until is not None:
        out_of_sample = fit_table(observed_pairs(fitted_run, history[history["year"] > until]))
    paths = [DATA] + ([Path(data)] if data else [])
    header = runner.fit_header(model.version(), paths, best.cost, until, spec["seed"])
    values = dict(zip(names, best.x, strict=True))
    out.mkdir(parents=True, exist_ok=True)
    runner.write_fitted(values, header, out / "fitted.yaml")
    fitted_path = None
    if until is None:          # an out-of-sample test must not replace the committed baseline
        fitted_path = runner.FITTED
        runner.write_fitted(values, header, fitted_path)
    seconds = time.perf_counter() - start
    header |= {"evaluations": len(best.evaluated_cost), "seconds": f"{seconds:.0f}", "search": best.message,
               "free parameters": len(names), "observations fitted": len(problem.targets)}
    _write(out, header, params, in_sample, out_of_sample, problem, notes, fitted_run, runs, history, until)
    return Outcome(in_sample, out_of_sample, params, seconds, fitted_path)


def _write(out, header, params, in_sample, out_of_sample, problem, notes, fitted_run, runs, history, until):
    report.write_csv(params, out / "params.csv")
    report.write_csv(in_sample, out / "fit.csv")
    if out_of_sample is not None:
        report.write_csv(out_of_sample, out / "fit_out_of_sample.csv")
    report.draw_charts(fitted_run, runs, history, until, out / "fit.png")
    text = report.report_markdown(header, params, in_sample, out_of_sample, problem.targets, notes)
    report.write_text(text, out / "report.md")
