"""Bind the fit to the model: the ensemble evaluator, fitted.yaml and posterior.csv."""

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import yaml

from nxmfg.calibration.history import HERE
from nxmfg.calibration.posterior import Evaluate
from nxmfg.calibration.report import write_text

FITTED = HERE / "fitted.yaml"
POSTERIOR = HERE / "posterior.csv"
OUT_OF_SAMPLE = HERE / "out_of_sample"
PARALLEL_FROM = 20_000   # runs per call from which worker processes pay off (measured: in-process is
                         # faster up to a few thousand runs of 2010-2020)


def select(runs: xr.Dataset, names: list[str]) -> xr.Dataset:
    """A picklable `reduce` keeping model variables by name."""
    return runs[names]


def ensemble_evaluator(names: list[str], reduce: Callable[[xr.Dataset], xr.Dataset], final_year: int,
                       fixed: dict[str, np.ndarray] | None = None) -> Evaluate:
    """evaluate(X): one ensemble-engine call for all rows of X, reduced by `reduce` (picklable).

    `fixed` sets other constants per run (arrays as long as X) or for all runs (numbers).

    Runs start from the .mdl's own values, not from calibration/fitted.yaml (`run_translated` does not
    apply model.fitted()): a fit must not depend on the previous one, nor break on its stale names.
    """
    from nxmfg import model
    from nxmfg.model import ensemble

    py_file = model.translated()

    def evaluate(X: np.ndarray, per_run: dict[str, np.ndarray] | None = None) -> xr.Dataset:
        params = dict(fixed or {}) | dict(per_run or {}) | {name: X[:, j] for j, name in enumerate(names)}
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


def write_posterior(names: list[str], draws: np.ndarray, header: dict, path: Path = POSTERIOR) -> None:
    """The posterior's retained draws, one row each, in a random order (so that the first k rows are a random
    subset of k); atomic. Read by calibration.fits.Fit.posterior() and parameter_sets()."""
    comments = "".join(f"# {key}: {value}\n" for key, value in header.items())
    table = pd.DataFrame(draws, columns=names).to_csv(index=False, float_format="%.8g", lineterminator="\n")
    write_text("# Written by `nxmfg calibrate`: draws of the posterior of the fitted constants (MCMC).\n"
               + comments + table, path)


def fit_header(version: str, identity: dict, until: int | None, seed: int) -> dict:
    """The provenance every fit file carries: model, data and priors hashes, date, years fitted, seed."""
    return {"model_version": version, "data": ", ".join(identity["data_files"]), "data_sha256": identity["data"],
            "posterior_sha256": identity["priors"], "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "until": until if until is not None else "all years", "seed": seed}
