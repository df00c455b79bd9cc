"""The baseline drawn beside a scenario on its charts: run once for given inputs, then read from a cache.

`nxmfg simulate plan` draws the baseline of the same fit and overrides beside the plan. That run's
indicators follow from what the engine is given (every parameter value and the final year), the .mdl,
our code that translates, runs and reduces it, and the libraries that compute; the cache key is a hash
of all of these, so a change to any of them misses. Entries are small JSON files in the model's cache
folder (model.cache.private_folder), written atomically: concurrent runs write the same bytes, and a reader sees a
whole file or none. An entry that cannot be read counts as missing and is written again.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import xarray as xr

    from nxmfg.api.result import Result
    from nxmfg.calibration.fits import Fit

KEPT = 32                              # entries kept; older ones are removed when one is added
CODE = ("api", "model", "calibration")   # packages whose code makes a run's indicators from its inputs
# what else does: the states' settings (the batch the run is made in) and the record at the seam
SETTINGS = ("calibration/states.yaml", "calibration/seam.yaml", "calibration/data/ningxia_history.csv",
            "calibration/indicator_map.yaml")


def indicators(fit: Fit, overrides: dict[str, float]) -> xr.Dataset:
    """Indicators of the shipped baseline scenario run on `fit` with `overrides`: cached, or run and kept."""
    from nxmfg.api import inputs
    from nxmfg.api.simulation import engine_inputs, engine_run, plain

    scenario = inputs.scenario("baseline")
    params = engine_inputs(scenario, fit, overrides)
    path = _entry({name: plain(value) for name, value in params.items()}, scenario.final_year)
    found = _read(path)
    if found is not None:
        return found
    return engine_run(scenario, fit, overrides).indicators    # which keeps a run of the baseline


def keep(result: Result) -> None:
    """Keep a run's indicators under its inputs: a run that changes nothing is a later scenario's baseline."""
    _write(_entry(result.metadata["parameters"], result.scenario.final_year), result.indicators)


def _entry(parameters: dict, final_year: int) -> Path:
    """The entry of a run of `parameters` (as Result.metadata records them) to `final_year`."""
    from nxmfg import model

    inputs = {"parameters": parameters, "final_year": final_year,
              "model": model.version(), "code": _code_version(), "libraries": _library_versions()}
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:24]
    return folder() / f"{key}.json"


def folder() -> Path:
    """Where the entries are: beside the translation of this version of the .mdl, in the private folder."""
    from nxmfg import model
    from nxmfg.model.cache import private_folder

    return private_folder(model.version(), "baselines")


def _read(path: Path) -> xr.Dataset | None:
    import xarray as xr

    from nxmfg.model.input_files import read_text

    try:
        return xr.Dataset.from_dict(json.loads(read_text(path, "cache")))
    except (OSError, ValueError, KeyError, TypeError):   # missing, removed meanwhile, or not ours
        return None


def _write(path: Path, indicators: xr.Dataset) -> None:
    from nxmfg.model.files import write_text

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, json.dumps(indicators.to_dict(data="list"), ensure_ascii=False))
        _prune(path.parent)
    except OSError:          # a read-only or full cache: the next run computes it again
        pass


def _prune(folder: Path) -> None:
    entries = sorted((e for e in os.scandir(folder) if e.name.endswith(".json")),
                     key=lambda e: e.stat().st_mtime, reverse=True)
    for entry in entries[KEPT:]:
        Path(entry.path).unlink(missing_ok=True)


@cache
def _code_version() -> str:
    """Hash of the Python files of `CODE` and of `SETTINGS` (1 ms): an edited engine, indicator, seam or
    record misses the cache."""
    root = Path(__file__).parents[1]
    digest = hashlib.sha256()
    paths = [p for package in CODE for p in (root / package).rglob("*.py")] + [root / name for name in SETTINGS]
    for path in sorted(paths):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _library_versions() -> dict[str, str]:
    from importlib.metadata import version

    import numpy
    import pandas
    import xarray

    # PySD's version from its metadata: the process that draws the charts has not imported it (0.2 s)
    return {"python": sys.version, "machine": platform.machine(), "numpy": numpy.__version__,
            "pandas": pandas.__version__, "xarray": xarray.__version__, "pysd": version("pysd")}
