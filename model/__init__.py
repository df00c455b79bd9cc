"""The Ningxia manufacturing economy: load the Vensim model and run it.

This is the only module that imports PySD, and only when a model is translated or loaded (0.2 s): the
process that draws a run's charts never needs it. The .mdl is the single source of the equations; its
translation to Python is cached by content hash outside the repository and never committed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr
import yaml

from nxmfg.model import files, lazy_xarray
from nxmfg.model.engine.transform import numpy_power

if TYPE_CHECKING:
    from pysd.py_backend.model import Model

lazy_xarray.install()   # before PySD makes its first DataArray

MDL = Path(__file__).with_name("nxmfg.mdl")
FITTED = Path(__file__).parents[1] / "calibration" / "fitted.yaml"
# Not "nxmfg": a folder of that name in the working directory would shadow an editable install.
CACHE = Path(os.environ.get("NXMFG_CACHE", Path(tempfile.gettempdir()) / "nxmfg-cache"))


@cache
def version() -> str:
    """Content hash of the .mdl: every output records it."""
    return hashlib.sha256(MDL.read_bytes()).hexdigest()[:12]


def translated() -> Path:
    """Path of the PySD translation of this version of the .mdl (translated on first use).

    Its powers go through numpy (`model.engine.transform.numpy_power`), so that plain runs and
    ensemble runs round alike on every CPU; the cache folder's name says so, apart from plain ones.
    """
    py_file = CACHE / f"{version()}-numpy-power" / "nxmfg.py"
    if not py_file.exists():
        import pysd

        work = Path(tempfile.mkdtemp(dir=CACHE.parent if CACHE.parent.exists() else None))
        try:
            pysd.read_vensim(shutil.copy(MDL, work / "nxmfg.mdl"))  # writes nxmfg.py beside its input
            source = numpy_power((work / "nxmfg.py").read_text(encoding="utf-8"))
            (work / "nxmfg.py").write_text(source, encoding="utf-8")
            py_file.parent.mkdir(parents=True, exist_ok=True)
            os.replace(work / "nxmfg.py", py_file)  # atomic: a concurrent or crashed translation leaves no half file
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return py_file


def load() -> Model:
    """A fresh PySD model of the current .mdl."""
    import pysd

    return pysd.load(translated())


def constants() -> pd.DataFrame:
    """Settable constants: index py name; columns value (the .mdl's), low, high, units, comment."""
    return pd.DataFrame.from_dict(_names()["constants"], orient="index")  # a new frame: callers may edit theirs


def lookups() -> list[str]:
    """Names of the model's lookup tables (outlooks and histories)."""
    return list(_names()["lookups"])


@cache
def _names() -> dict:
    """Constants and lookups of this version of the .mdl, kept beside its translation.

    Reading them needs a loaded model (0.4 s); the cache lets a scenario be checked without one.
    """
    path = CACHE / version() / "names.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    economy = load()
    doc = economy.doc.set_index("Py Name")
    rows = {}
    for name, row in doc[(doc["Type"] == "Constant") & (doc["Subtype"] == "Normal")].iterrows():
        if name in ("initial_time", "final_time", "time_step", "saveper"):
            continue
        low, high = (row["Limits"] if isinstance(row["Limits"], tuple) else (None, None))[:2]
        rows[name] = {"value": float(getattr(economy.components, name)()), "low": low, "high": high,
                      "units": row["Units"], "comment": row["Comment"], "real_name": row["Real Name"]}
    names = {"constants": rows, "lookups": sorted(doc.index[doc["Type"] == "Lookup"])}
    path.parent.mkdir(parents=True, exist_ok=True)
    files.write_text(path, json.dumps(names, ensure_ascii=False))
    return names


@cache
def outlook_tables() -> dict[str, pd.Series]:
    """Default table of every `*_outlook` lookup in the .mdl: {name: Series of values indexed by year}.

    Kept beside the translation, like the constants: an optimisation study draws its states of the world
    around these tables and should not load a model to read them.
    """
    path = CACHE / version() / "outlooks.json"
    if not path.exists():
        economy = load()
        tables = {}
        for name in (n for n in lookups() if n.endswith("_outlook")):
            data = getattr(economy.components, f"_hardcodedlookup_{name}").data
            tables[name] = {"x": [float(x) for x in data["lookup_dim"].values], "y": [float(y) for y in data.values]}
        files.write_text(path, json.dumps(tables))
    tables = json.loads(path.read_text(encoding="utf-8"))
    return {name: pd.Series(t["y"], index=pd.Index(t["x"], name="year"), name=name) for name, t in tables.items()}


@cache
def fitted() -> dict[str, float]:
    """Calibrated constants: the baseline every run starts from (empty when not calibrated yet)."""
    if not FITTED.exists():
        return {}
    return {k: float(v) for k, v in (yaml.safe_load(FITTED.read_text(encoding="utf-8")) or {}).items()}


def parameter_ensemble() -> pd.DataFrame | None:
    """The shipped fit's band: its estimate (fitted.yaml), then 59 posterior draws (calibration/posterior.csv,
    in a random order), or None; as calibration.fits.Fit.parameter_sets()."""
    path = FITTED.with_name("posterior.csv")
    if not path.exists():
        return None
    draws = pd.read_csv(path, comment="#").iloc[:59]
    return pd.concat([pd.DataFrame([{n: fitted().get(n, np.nan) for n in draws.columns}]), draws], ignore_index=True)


def baseline() -> dict[str, float]:
    """Value of every settable constant in the calibrated baseline."""
    return constants()["value"].to_dict() | fitted()


def simulate(params: dict | None = None, final_year: int = 2035, time_step: float | None = None,
             economy: Model | None = None) -> xr.Dataset:
    """Run from the calibrated baseline with `params` overriding it; one row per year.

    params: {py name: float | pd.Series (a time path over years: linear between points, flat beyond)}.
    Returns an xr.Dataset with dimension `year` holding every model variable.
    """
    params = fitted() | (params or {})
    economy = economy or load()
    _check_names(economy, params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PySD warns on every time-path input; that is our design
        # time_step goes to run(), not params: a TIME STEP param would not change PySD's clock
        run = economy.run(params=params, final_time=final_year, time_step=time_step, reload=True,
                          return_timestamps=np.arange(2010, final_year + 1))
    run = run.rename(columns=economy.namespace)
    run = run.loc[:, ~run.columns.duplicated()]
    run.index = run.index.round().astype(int).rename("year")
    return xr.Dataset.from_dataframe(run)


def _check_names(economy: Model, params: dict) -> None:
    kinds = economy.doc.set_index("Py Name")["Type"]
    wrong = sorted(n for n in params if kinds.get(n) not in ("Constant", "Lookup"))
    if wrong:
        raise ValueError(f"not a settable input of {MDL.name}: {', '.join(wrong)}")
