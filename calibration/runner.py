"""Bind the fit to the model: free-parameter spec, ensemble evaluator, fitted.yaml."""

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import yaml

from nxmfg.calibration.fit import Evaluate, Problem, target_table
from nxmfg.calibration.history import HERE, DataError, indicator_map
from nxmfg.calibration.report import write_text
from nxmfg.model.yaml_reader import read_shipped

FREE_PARAMETERS = HERE / "free_parameters.yaml"
FITTED = HERE / "fitted.yaml"
ENSEMBLE = HERE / "ensemble.csv"
SPEC_KEYS = {"low", "high", "prior", "note"}
SEARCH_KEYS = {"popsize", "maxiter", "polish_evaluations"}
PARALLEL_FROM = 20_000   # runs per call from which worker processes pay off (measured: in-process is
                         # faster up to a few thousand runs of 2010-2020)


def read_free_parameters(path: Path = FREE_PARAMETERS) -> dict:
    """free_parameters.yaml: {seed, search: {...}, parameters: {name: {low, high, prior, note}}}."""
    spec = read_shipped(path) or {}
    for key in ("seed", "parameters"):
        if key not in spec:
            raise DataError(f"{path}: field '{key}': missing")
    unknown = set(spec.get("search") or {}) - SEARCH_KEYS
    if unknown:
        raise DataError(f"{path}: field 'search.{sorted(unknown)[0]}': unknown; "
                        f"allowed: {', '.join(sorted(SEARCH_KEYS))}")
    for name, entry in spec["parameters"].items():
        unknown = set(entry or {}) - SPEC_KEYS
        if unknown:
            raise DataError(f"{path}: field 'parameters.{name}.{sorted(unknown)[0]}': unknown; "
                            f"allowed: {', '.join(sorted(SPEC_KEYS))}")
    return spec


def build_problem(spec: dict, constants: pd.DataFrame, history: pd.DataFrame, path: Path = FREE_PARAMETERS
                  ) -> Problem:
    """Bounds default to the .mdl [min,max] (model.constants()); priors are optional {mean, sd}."""
    names = list(spec["parameters"])
    unknown = [n for n in names if n not in constants.index]
    if unknown:
        raise DataError(f"{path}: field 'parameters.{unknown[0]}': not a model constant; "
                        f"allowed: {', '.join(constants.index)}")
    entries = [spec["parameters"][n] or {} for n in names]
    pairs = list(zip(names, entries, strict=True))
    low = np.array([e.get("low", constants.loc[n, "low"]) for n, e in pairs], float)
    high = np.array([e.get("high", constants.loc[n, "high"]) for n, e in pairs], float)
    bad = [n for n, lo, hi in zip(names, low, high, strict=True) if not lo < hi]
    if bad:
        raise DataError(f"{path}: field 'parameters.{bad[0]}': needs low < high (got the bounds "
                        f"{low[names.index(bad[0])]}, {high[names.index(bad[0])]})")
    prior_mean = np.array([(e.get("prior") or {}).get("mean", np.nan) for e in entries], float)
    prior_sd = np.array([(e.get("prior") or {}).get("sd", np.nan) for e in entries], float)
    mapping = indicator_map()
    weights = {entry["model"]: entry["weight"] for entry in mapping["mapped"].values() if "weight" in entry}
    tolerances = {entry["model"]: entry["tolerance"] for entry in mapping["mapped"].values() if "tolerance" in entry}
    targets = target_table(history, mapping["level_tolerance"], mapping["rate_tolerance_pp"], weights, tolerances)
    return Problem(names, low, high, targets, prior_mean, prior_sd, robust=mapping["loss"] == "soft_l1")


def select(runs: xr.Dataset, names: list[str]) -> xr.Dataset:
    """A picklable `reduce` keeping model variables by name."""
    return runs[names]


def ensemble_evaluator(names: list[str], reduce: Callable[[xr.Dataset], xr.Dataset], final_year: int
                       ) -> Evaluate:
    """evaluate(X): one ensemble-engine call for all rows of X, reduced by `reduce` (picklable).

    Runs start from the .mdl's own values, not from calibration/fitted.yaml (`run_translated` does not
    apply model.fitted()): a fit must not depend on the previous one, nor break on its stale names.
    """
    from nxmfg import model
    from nxmfg.model import ensemble

    py_file = model.translated()

    def evaluate(X: np.ndarray) -> xr.Dataset:
        params = {name: X[:, j] for j, name in enumerate(names)}
        workers = 1 if len(X) < PARALLEL_FROM else None      # a pool costs more than it saves on few runs
        return ensemble.run_translated(py_file, params, len(X), reduce=reduce,
                                       control={"final_time": final_year, "saveper": 1},
                                       workers=workers, progress=False)

    return evaluate


def data_hash(paths: list[Path]) -> str:
    """sha256[:12] over the data files, recorded with every fit."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:12]


def write_fitted(values: dict[str, float], header: dict, path: Path = FITTED) -> None:
    """Flat mapping name -> float with a comment header; atomic (temp file then os.replace)."""
    lines = ["# Written by `nxmfg calibrate`; do not edit by hand. Read by model.fitted().",
             *[f"# {key}: {value}" for key, value in header.items()],
             yaml.safe_dump({k: float(v) for k, v in values.items()}, sort_keys=True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text("\n".join(lines), path)


def write_ensemble(names: list[str], members: np.ndarray, header: dict, path: Path = ENSEMBLE) -> None:
    """Parameter sets inside the joint 95 % likelihood region (the estimate first), one row each.

    Read by model.parameter_ensemble(); the report runs them to draw the baseline's uncertainty band.
    """
    comments = "".join(f"# {key}: {value}\n" for key, value in header.items())
    table = pd.DataFrame(members, columns=names).to_csv(index=False, float_format="%.10g", lineterminator="\n")
    write_text("# Written by `nxmfg calibrate`: calibrated parameter sets within the joint 95 % region.\n"
               + comments + table, path)


def fit_header(version: str, paths: list[Path], cost: float, until: int | None, seed: int) -> dict:
    return {"model_version": version, "data": ", ".join(Path(p).name for p in paths),
            "data_sha256": data_hash(paths), "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "until": until if until is not None else "all years", "seed": seed, "cost": f"{cost:.6g}"}
