"""The Ningxia manufacturing economy: load the Vensim model and run it.

This is the only module that imports PySD, and only when a model is translated or loaded (0.2 s): the
process that draws a run's charts never needs it. The .mdl is the single source of the equations; its
translation to Python is cached by content hash outside the repository and never committed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from nxmfg.model import files, lazy_xarray
from nxmfg.model.cache import private_folder
from nxmfg.model.engine.transform import numpy_power
from nxmfg.model.yaml_reader import read_shipped

if TYPE_CHECKING:
    from pysd.py_backend.model import Model

lazy_xarray.install()   # before PySD makes its first DataArray

MDL = Path(__file__).with_name("nxmfg.mdl")
FITTED = Path(__file__).parents[1] / "calibration" / "fitted.yaml"
NAMES_LAYOUT = 2   # of names.json: bump when _names() records more (2: `initial_only`)


@functools.cache
def version() -> str:
    """Content hash of the .mdl: every output records it."""
    return hashlib.sha256(MDL.read_bytes()).hexdigest()[:12]


def translated() -> Path:
    """Path of the PySD translation of this version of the .mdl (translated on first use).

    Its powers go through numpy (`model.engine.transform.numpy_power`), so that plain runs and
    ensemble runs round alike on every CPU; the cache folder's name says so, apart from plain ones.
    """
    py_file = private_folder(f"{version()}-numpy-power") / "nxmfg.py"
    if not py_file.exists():
        import pysd

        work = Path(tempfile.mkdtemp(dir=private_folder()))   # same file system: os.replace is atomic
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


@functools.cache
def _names() -> dict:
    """Constants and lookups of this version of the .mdl, kept beside its translation.

    Reading them needs a loaded model (0.4 s); the cache lets a scenario be checked without one. An entry
    that cannot be read (cut short, edited) is made again.
    """
    path = private_folder(version()) / f"names-{NAMES_LAYOUT}.json"
    found = _read_json(path)
    if isinstance(found, dict) and set(found) == {"constants", "lookups"}:
        return found
    economy = load()
    doc = economy.doc.set_index("Py Name")
    start_only = read_only_at_start(economy)
    rows = {}
    for name, row in doc[(doc["Type"] == "Constant") & (doc["Subtype"] == "Normal")].iterrows():
        if name in ("initial_time", "final_time", "time_step", "saveper"):
            continue
        low, high = (row["Limits"] if isinstance(row["Limits"], tuple) else (None, None))[:2]
        rows[name] = {"value": float(getattr(economy.components, name)()), "low": low, "high": high,
                      "units": row["Units"], "comment": row["Comment"], "real_name": row["Real Name"],
                      "initial_only": name in start_only}
    names = {"constants": rows, "lookups": sorted(doc.index[doc["Type"] == "Lookup"])}
    files.write_text(path, json.dumps(names, ensure_ascii=False))
    return names


def _read_json(path: Path):
    """A cache entry's content, or None where it is missing or unreadable (it is then made again)."""
    from nxmfg.model.input_files import read_text

    try:
        return json.loads(read_text(path, "cache"))     # a regular file within its limit, UTF-8
    except (OSError, ValueError):
        return None


def read_only_at_start(economy: Model) -> set[str]:
    """Constants the run reads only to set initial values (an INTEG's or SMOOTHI's start, INITIAL()).

    A lever on one of them from a later year changes nothing, so scenarios and studies refuse it. What is
    read after the start: the step dependencies of every stock, smooth and delay, and whatever a variable
    evaluated at every step reads, followed through auxiliaries (not through initial values).
    """
    deps = economy._dependencies

    def reached(todo: list[str]) -> set[str]:
        found = set()
        while todo:
            name = todo.pop()
            if name not in found and not name.startswith("__"):
                found.add(name)
                needs = deps.get(name, {})
                todo += list(needs["step"] if "step" in needs else needs)
        return found

    stepped = [n for name, needs in deps.items() for n in (
        needs["step"] if "step" in needs else needs if economy.cache_type.get(name) == "step" else ())]
    initial = [n for needs in deps.values() if "initial" in needs for n in needs["initial"]]
    return {name for name in reached(initial) - reached(stepped) if deps.get(name) == {}}


@functools.cache
def outlook_tables() -> dict[str, pd.Series]:
    """Default table of every `*_outlook` lookup in the .mdl: {name: Series of values indexed by year}.

    Kept beside the translation, like the constants: an optimisation study draws its states of the world
    around these tables and should not load a model to read them.
    """
    path = private_folder(version()) / "outlooks.json"
    tables = _read_json(path)
    if not isinstance(tables, dict):
        economy = load()
        tables = {}
        for name in (n for n in lookups() if n.endswith("_outlook")):
            data = getattr(economy.components, f"_hardcodedlookup_{name}").data
            tables[name] = {"x": [float(x) for x in data["lookup_dim"].values], "y": [float(y) for y in data.values]}
        files.write_text(path, json.dumps(tables))
    return {name: pd.Series(t["y"], index=pd.Index(t["x"], name="year"), name=name) for name, t in tables.items()}


@functools.cache
def fitted() -> dict[str, float]:
    """Calibrated constants: the baseline every run starts from (empty when not calibrated yet)."""
    if not FITTED.exists():
        return {}
    return {k: float(v) for k, v in (read_shipped(FITTED) or {}).items()}


def parameter_ensemble() -> pd.DataFrame | None:
    """The shipped fit's band: its estimate (fitted.yaml), then the first 59 of its posterior draws
    (`Fit.parameter_sets()`: calibration/posterior.csv, checked, in a random order), or None."""
    from nxmfg.calibration.fits import shipped_fit

    fit = shipped_fit()
    sets = fit.parameter_sets()
    if sets is None:
        return None
    draws = sets.iloc[:59]
    estimate = pd.DataFrame([{n: fit.values.get(n, np.nan) for n in draws.columns}])
    return pd.concat([estimate, draws], ignore_index=True)


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


def engine_run(params: dict | None = None, final_year: int = 2035) -> xr.Dataset:
    """`simulate(params, final_year)` on the ensemble engine (the compiled path where it loads): PySD's
    numbers (tests/test_api.py, tests/test_compiled.py) in milliseconds; `simulate` stays PySD itself,
    the reference the engine is tested against."""
    from nxmfg.model import ensemble

    runs = ensemble.run_translated(translated(), fitted() | (params or {}), 1, workers=1, progress=False,
                                   control={"final_time": final_year, "saveper": 1})
    return runs.isel(run=0, drop=True)


def _check_names(economy: Model, params: dict) -> None:
    kinds = economy.doc.set_index("Py Name")["Type"]
    wrong = sorted(n for n in params if kinds.get(n) not in ("Constant", "Lookup"))
    if wrong:
        raise ValueError(f"not a settable input of {MDL.name}: {', '.join(wrong)}")
