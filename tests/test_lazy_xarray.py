"""xarray asks about dask, distributed and pint only once they are loaded (model/lazy_xarray.py).

Each check runs in a fresh interpreter: in this one, other tests have long since loaded dask.
"""

import subprocess
import sys

import pytest

OPTIONAL = ("dask", "dask.array", "distributed", "pint")


def _python(code: str, cwd) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_run_and_its_files_load_neither_dask_nor_distributed_nor_pint(tmp_path):
    code = ("import sys, nxmfg; nxmfg.run('plan').write('out', lang='en'); "
            f"print(sorted(m for m in {OPTIONAL!r} if m in sys.modules))")
    assert _python(code, tmp_path) == "[]"
    assert (tmp_path / "out" / "results.nc").is_file()


def test_xarray_still_knows_dask_arrays_and_quantities_loaded_after_it(tmp_path):
    """A DataArray is made first (xarray's questions are asked, unanswered), then dask and pint are loaded."""
    pytest.importorskip("dask.array")
    code = """
import sys
import numpy as np
import xarray as xr
from nxmfg import model
from xarray.backends import locks
from xarray.namedarray import pycompat, utils

before = xr.DataArray(np.arange(3.0)).to_dataset(name="x")
before.to_netcdf("before.nc")
assert "dask" not in sys.modules and "pint" not in sys.modules and locks.get_dask_scheduler() == "threaded"

import dask.array as da
import pint

lazy = xr.DataArray(da.arange(6.0, chunks=2), dims="i")
assert lazy.chunks == ((2, 2, 2),) and utils.is_duck_dask_array(lazy.data)
assert pycompat.array_type("dask") == (da.Array,) and pycompat.mod_version("dask").major > 0
assert float((lazy * 2).sum().compute()) == 30.0
lazy.to_dataset(name="y").to_netcdf("lazy.nc")
assert xr.open_dataset("lazy.nc")["y"].values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
assert locks.get_dask_scheduler() == "threaded"

quantity = pint.UnitRegistry().Quantity(np.arange(3.0), "m")
wrapped = xr.DataArray(quantity)
assert isinstance(wrapped.data, pint.Quantity) and pycompat.to_numpy(wrapped.data).tolist() == [0.0, 1.0, 2.0]
print("ok")
"""
    assert _python(code, tmp_path) == "ok"
