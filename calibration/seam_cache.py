"""The reconciled start at the seam, made once per content and then read from the private cache.

Reconciling a batch at the seam (calibration/seam.py: the 257 runs paused at the last data year, then up to
six probes) takes 0.35-0.5 s of every `simulate`, `compare` and explorer that starts afresh. The start is a
pure function of the batch's engine inputs (the fit's values, the overrides and the states of the world, all
in `params`), the number of runs, the time axis, the record the pins read, the .mdl, the code that pauses,
reconciles and runs it (model/, calibration/), the compiled model's build (its translation, generator,
compiler, flags and CPU) and the libraries' versions; the cache key hashes them all.

An entry is an .npz of plain arrays with a JSON header (never a pickle: np.load with allow_pickle=False) in
the private per-user folder (model.cache), written atomically; only a plain file of ours is read back, and
one that cannot be read, or does not hold what a start of `n` runs holds, is made again. The snapshot's
inputs are not stored (time paths are objects of ours): they are `params` again, as the engine checks them
(model.ensemble.with_inputs). Only the compiled path's snapshot is kept: the numpy path's holds the states
of PySD's objects, and its start is made every time, as before.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from functools import cache
from pathlib import Path

import numpy as np

from nxmfg.calibration import seam

KEPT = 4                            # entries kept (16 MB each: every variable before the seam, 257 runs)
CODE = ("model", "calibration")     # the packages whose code pauses, reconciles and runs a batch
UNREADABLE = (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError, zipfile.BadZipFile)


def reconciled(params: dict, n: int, control: dict, history=None) -> seam.Start:
    """`seam.reconciled(params, n, control, history)`: read back if kept, else made (and kept, on the
    compiled path)."""
    from nxmfg.model.cache import read_private

    path = _entry(params, n, control, history)
    data = read_private(path) if path else None
    found = _load(data, params, n) if data is not None else None
    if found is not None:
        _touch(path)                   # in use: pruned last
        return found
    start = seam.reconciled(params, n, control, history)
    if path:
        _keep(path, start)
    return start


def folder() -> Path:
    from nxmfg.model.cache import private_folder

    return private_folder("starts")


def _entry(params: dict, n: int, control: dict, history) -> Path | None:
    """The entry of these inputs, named by a hash of all a start depends on; None on the numpy path (not
    kept) or where the private folder cannot be used."""
    from nxmfg import model
    from nxmfg.model.cache import CacheError, digest
    from nxmfg.model.engine import compiled
    from nxmfg.model.engine.facts import facts

    engine = facts(model.translated())
    if not engine.compiled:
        return None
    build = compiled.library(engine.source).folder.name
    key = digest("seam start", model.version(), build, _code(), _versions(), seam.YEAR, params, n, control,
                 seam.recorded(history))[:32]
    try:
        return folder() / f"{key}.npz"
    except CacheError:
        return None


@cache
def _code() -> str:
    """Every Python file of CODE, seam.yaml and the C runtime (2 ms): an edited line misses."""
    from nxmfg.model.cache import digest

    root = Path(__file__).parents[1]
    paths = sorted([p for package in CODE for p in (root / package).rglob("*.py")]
                   + [root / "calibration/seam.yaml", *(root / "model/engine").glob("*.[ch]")])
    return digest(*[(path.relative_to(root).as_posix(), path.read_bytes()) for path in paths])


def _versions() -> dict[str, str]:
    """The libraries the probes compute with (numpy's ufuncs; pandas and xarray: the indicators)."""
    import pandas
    import xarray

    return {"numpy": np.__version__, "pandas": pandas.__version__, "xarray": xarray.__version__}


def _load(data: bytes, params: dict, n: int) -> seam.Start | None:
    """The start an entry holds, its snapshot's inputs `params`; None if it is not a start of `n` runs."""
    from nxmfg import model
    from nxmfg.model import ensemble

    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            about = json.loads(arrays["about"].tobytes().decode())
            times, saved, state = arrays["times"], arrays["saved"], arrays["state"]
            factors = {str(stock): arrays[f"f{i}"] for i, stock in enumerate(about["stocks"])}
        names = tuple(str(name) for name in about["names"])
        record = {str(name): float(value) for name, value in about["record"].items()}
        kept = ensemble.Snapshot(float(about["time"]), n, (), times, saved, {}, names, about["engine"], state)
    except UNREADABLE:
        return None
    if kept.engine != "compiled" or saved.ndim != 3:
        return None
    shapes = [(times, (saved.shape[1],)), (saved, (saved.shape[0], times.size, n)), (state, (n, len(names))),
              *[(factor, (n,)) for factor in factors.values()]]
    if any(a.dtype != float or a.shape != shape for a, shape in shapes):
        return None
    return seam.Start(ensemble.with_inputs(kept, model.translated(), params), factors, record)


def _keep(path: Path, start: seam.Start) -> None:
    """Write the start's arrays and header as one .npz; prune the oldest entries and killed writes' leftovers."""
    from nxmfg.model.cache import write_private
    from nxmfg.model.files import remove_stale

    snapshot = start.snapshot
    if snapshot.engine != "compiled" or snapshot.states or snapshot.state is None:
        return
    about = {"time": snapshot.time, "names": list(snapshot.names), "engine": snapshot.engine,
             "stocks": list(start.factors), "record": start.record}
    buffer = io.BytesIO()
    np.savez(buffer, about=np.frombuffer(json.dumps(about).encode(), dtype=np.uint8), times=snapshot.times,
             saved=snapshot.saved, state=snapshot.state,
             **{f"f{i}": np.asarray(factor, dtype=float) for i, factor in enumerate(start.factors.values())})
    try:
        write_private(path, buffer.getvalue())
        remove_stale(path.parent, depth=1)
        entries = sorted(path.parent.glob("*.npz"), key=lambda p: p.lstat().st_mtime, reverse=True)
        for old in entries[KEPT:]:
            old.unlink(missing_ok=True)
    except OSError:          # a full or read-only cache: the next run makes it again
        pass


def _touch(path: Path) -> None:
    try:
        os.utime(path, follow_symlinks=False)
    except OSError:
        pass
