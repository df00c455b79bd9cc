"""Run many parameter sets of the one .mdl in vectorised passes (issue 3).

PySD's translated module is checked and rewritten to be array-clean (`model.engine.transform`);
every model constant can then hold one value per run. Runs are split into chunks, which go to
worker processes or a Dask cluster, and each chunk's Dataset may be reduced before gathering,
so memory stays bounded whatever the number of runs.
"""

import atexit
import dataclasses
import math
import os
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from tqdm import tqdm  # not tqdm.auto: in a notebook without ipywidgets it warns on import

from nxmfg.model.engine.batch import CONTROL, Chunk, Snapshot, TimePath, pause, run_chunk
from nxmfg.model.engine.facts import Facts, facts
from nxmfg.model.engine.transform import UnsupportedFeature
from nxmfg.model.engine.workers import Pool

__all__ = ["run", "run_translated", "snapshot", "Snapshot", "UnsupportedFeature", "rescaled", "repeated",
           "sliced", "with_inputs", "map_calls"]
CHUNK_BYTES = 256 * 2**20  # one chunk's full Dataset before `reduce`
Reduce = Callable[[xr.Dataset], xr.Dataset]


def run(params: dict[str, Any], n: int, reduce: Reduce | None = None, final_year: float = 2035,
        chunk_size: int | None = None, workers: int | None = None, scheduler: Any = None,
        progress: bool = True, time_step: float | None = None) -> xr.Dataset:
    """Run `n` parameter sets of model/nxmfg.mdl from the calibrated baseline; dims ("run", "year").

    Parameters
    ----------
    params
        {py name: float | np.ndarray [n] | pd.Series (time path shared by all runs, indexed by
        year) | xr.DataArray ("run", "year") (one time path per run)}; lookups (Vensim tables)
        take a pd.Series or per-run DataArray as their new table. `model.fitted()` is applied first.
    reduce
        Picklable callable applied to each chunk's Dataset before gathering, e.g.
        ``functools.partial(model.indicators.compute, names=[...])``; default keeps every variable.
    chunk_size, workers, scheduler
        Runs per chunk (default: about 256 MB of results), worker processes (default: all
        cores, kept for the next call) or a Dask scheduler address ("tcp://...") /
        distributed.Client to send chunks to. Workers start by forkserver, so a script calling
        this needs the usual ``if __name__ == "__main__":`` guard.
    time_step
        TIME STEP override; results are saved yearly from INITIAL TIME to `final_year` whatever it is.

    Results are identical whatever the chunking and workers. Ctrl-C stops the workers at once.
    Raises UnsupportedFeature if the model uses a Vensim feature the engine cannot run per run,
    and ValueError naming the parameter for a bad name, shape or type.
    """
    from nxmfg import model  # the package imports this module's siblings; avoid a cycle at import time

    return run_translated(model.translated(), model.fitted() | dict(params), n, reduce=reduce,
                          control={"final_time": final_year, "time_step": time_step, "saveper": 1},
                          chunk_size=chunk_size, workers=workers, scheduler=scheduler, progress=progress)


def run_translated(py_file: str | Path, params: dict[str, Any], n: int, reduce: Reduce | None = None,
                   control: dict[str, float | None] | None = None, **schedule: Any) -> xr.Dataset:
    """`run` for any PySD-translated module; `control` may set final_time, time_step, saveper.

    `schedule` takes chunk_size, workers, scheduler and progress as in `run`; `resume`: a Snapshot
    (see `snapshot`) to go on from, in this process (in `threads` parts of its runs, default one) or with
    `scheduler` as one Dask task;
    its runs' inputs must equal these before its time (checked; outlook tables, read only after the last
    observed year, are not); and `engine`: "auto" (the compiled model wherever it loads: faster at every
    chunk size; else the numpy path), "compiled" or "numpy" (a resumed run takes its snapshot's path).
    The result's attrs say which path ran (`engine`) and, when the compiled path could not, why
    (`engine_note`).
    """
    resume = schedule.get("resume")
    model, inputs, control = _inputs(py_file, params, n, control)
    if resume is not None:
        _check_resume(resume, inputs, n, model)
        if schedule.get("scheduler") is not None:      # the batch as one Dask task
            chunk = Chunk(model.source, 0, n, inputs, control, reduce, resume)
            result = _execute([chunk], None, schedule["scheduler"], False)[0]
        else:
            result = _resumed_in_threads(model, inputs, n, control, reduce, resume, schedule.get("threads", 1))
        result.attrs.update(_engine_attrs([result], model))
        return result
    size = schedule.get("chunk_size") or _default_chunk(model, n, control, schedule.get("workers"))
    engine = model.engine(schedule.get("engine", "auto"))
    chunks = [Chunk(model.source, start, min(size, n - start), _rows(inputs, start, start + size), control,
                    reduce, engine=engine) for start in range(0, n, size)]
    done = _execute(chunks, schedule.get("workers"), schedule.get("scheduler"),
                    schedule.get("progress", True))
    result = xr.concat(done, dim="run") if len(done) > 1 else done[0]
    result.attrs.update(_engine_attrs(done, model))
    return result


def _resumed_in_threads(model: Facts, inputs: dict[str, Any], n: int, control: dict, reduce: Reduce | None,
                        resume: Snapshot, threads: int) -> xr.Dataset:
    """A resumed batch in `threads` parts of its runs, a thread each: the compiled model runs without
    Python's lock, so two cores share the explorer's band of 257 runs (the same numbers: runs are
    independent)."""
    parts = max(1, min(int(threads), n))
    if parts == 1:
        return run_chunk(Chunk(model.source, 0, n, inputs, control, reduce, resume))
    from concurrent.futures import ThreadPoolExecutor

    bounds = [int(b) for b in np.linspace(0, n, parts + 1)]
    chunks = [Chunk(model.source, a, b - a, _rows(inputs, a, b), control, reduce, sliced(resume, a, b))
              for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    with ThreadPoolExecutor(parts, thread_name_prefix="nxmfg-runs") as pool:
        done = list(pool.map(run_chunk, chunks))
    first = done[0].variables     # joined by hand: xr.concat aligns every variable (9 ms for the explorer's)
    data = {name: (first[name].dims, np.concatenate([d.variables[name].values for d in done],
                                                    axis=first[name].dims.index("run")))
            for name in done[0].data_vars}
    return xr.Dataset(data, coords={"run": np.concatenate([d["run"].values for d in done]),
                                    "year": done[0]["year"].values}, attrs=done[0].attrs)


def _engine_attrs(done: list[xr.Dataset], model: Facts) -> dict[str, str]:
    """Which path ran the chunks (compiled, numpy, or compiled+numpy) and why the compiled path did not."""
    engines = sorted({d.attrs.get("engine", "numpy") for d in done})
    notes = sorted({d.attrs["engine_note"] for d in done if "engine_note" in d.attrs} | {model.note} - {None})
    return {"engine": "+".join(engines)} | ({"engine_note": "; ".join(notes)} if notes else {})


def snapshot(py_file: str | Path, params: dict[str, Any], n: int, time: float,
             control: dict[str, float | None] | None = None, resume: Snapshot | None = None,
             engine: str = "auto") -> Snapshot:
    """`n` runs of `params` paused at `time` (a multiple of TIME STEP), in this process.

    `run_translated(..., resume=snapshot)` then runs only the years after `time`: the explorer redraws a
    scenario and its band from the last data year on, about half the steps, with the same numbers.
    `resume`: start from an earlier snapshot of these runs instead of INITIAL TIME (checked as in
    `run_translated`).
    """
    model, inputs, control = _inputs(py_file, params, n, control)
    if resume is not None:
        _check_resume(resume, inputs, n, model)
    return pause(Chunk(model.source, 0, n, inputs, control, resume=resume, engine=model.engine(engine)),
                 float(time))


def rescaled(kept: Snapshot, factors: dict[str, np.ndarray | float]) -> Snapshot:
    """The snapshot with stocks multiplied by `factors` ({stock py name: factor [runs] or one number}): a
    state update at its time, which the runs resumed from it go on from."""
    where = {name: i for i, name in enumerate(kept.names)}
    states, state = list(kept.states), None if kept.state is None else kept.state.copy()
    for stock, factor in factors.items():
        index = where.get(f"_integ_{stock}")
        if index is None:
            raise ValueError(f"factors: {stock!r} is not a stock (INTEG) of the model")
        if state is not None:     # compiled: [runs x state], the stock's column
            state[:, index] *= np.asarray(factor, dtype=float)
        else:
            states[index] = states[index] | {"state": states[index]["state"] * np.asarray(factor, dtype=float)}
    return dataclasses.replace(kept, states=tuple(states), state=state)


def with_inputs(kept: Snapshot, py_file: str | Path, params: dict[str, Any]) -> Snapshot:
    """`kept` with `params` as inputs, brought to the form `snapshot` keeps (what resumed runs are checked
    against): a snapshot stored without its inputs (time paths are objects of ours) gets them back."""
    _, inputs, _ = _inputs(py_file, params, kept.size, None)
    return dataclasses.replace(kept, params=inputs)


def repeated(kept: Snapshot, times: int) -> Snapshot:
    """The snapshot's runs `times` over (run = copy * size + run): resumed with inputs that are the same up
    to its time (candidates that differ only after it), one snapshot serves them all."""
    def tile(value):
        if isinstance(value, list):
            return [tile(item) for item in value]
        if isinstance(value, TimePath):
            return value if value.values.ndim == 1 else TimePath(value.times, np.tile(value.values, (times, 1)))
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[-1] == kept.size:
            return np.tile(value, (1,) * (value.ndim - 1) + (times,))    # runs are the last axis (SMOOTH: 1 x n)
        return value
    states = tuple({name: tile(value) for name, value in element.items()} for element in kept.states)
    params = {name: value if isinstance(value, TimePath) or not isinstance(value, np.ndarray) else np.tile(value, times)
              for name, value in kept.params.items()} | {name: tile(value) for name, value in kept.params.items()
                                                          if isinstance(value, TimePath)}
    state = None if kept.state is None else np.tile(kept.state, (times, 1))     # compiled: runs are rows
    return dataclasses.replace(kept, size=kept.size * times, states=states, saved=np.tile(kept.saved, (1, 1, times)),
                               params=params, state=state)


def sliced(kept: Snapshot, start: int, stop: int) -> Snapshot:
    """Runs start..stop of the snapshot (with their inputs), to resume as a batch of their own."""
    def rows(value):
        if isinstance(value, list):
            return [rows(item) for item in value]
        if isinstance(value, TimePath):
            return value.rows(start, stop)
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[-1] == kept.size:
            return value[..., start:stop]                   # runs are the last axis (SMOOTH: 1 x n)
        return value
    states = tuple({name: rows(value) for name, value in element.items()} for element in kept.states)
    params = _rows(kept.params, start, stop)          # a snapshot keeps its inputs as a chunk takes them
    state = None if kept.state is None else kept.state[start:stop]      # compiled: runs are rows
    return dataclasses.replace(kept, size=stop - start, states=states, saved=kept.saved[..., start:stop],
                               params=params, state=state)


def _inputs(py_file: str | Path, params: dict[str, Any], n: int, control: dict | None) -> tuple:
    """(the model's facts, checked inputs, control without Nones)."""
    if n < 1:
        raise ValueError(f"n: the number of runs must be at least 1, got {n}")
    model = facts(py_file)
    inputs = {name: _as_input(model.kinds, name, value, n) for name, value in params.items()}
    varying = sorted(k for k in model.time_axis & set(inputs) if not isinstance(inputs[k], float))
    if varying:
        raise ValueError(f"params: {', '.join(varying)} set the time axis (FINAL TIME, TIME STEP, "
                         "SAVEPER): give one number for all runs")
    return model, inputs, {key: value for key, value in (control or {}).items() if value is not None}


def _check_resume(resume: Snapshot, inputs: dict[str, Any], n: int, model: Facts) -> None:
    """The runs must be the snapshot's up to its time: same runs, same inputs before it."""
    if resume.size != n:
        raise ValueError(f"resume: the snapshot holds {resume.size} runs, not {n}")
    if set(inputs) != set(resume.params):
        raise ValueError(f"resume: the inputs differ from the snapshot's: "
                         f"{', '.join(sorted(set(inputs) ^ set(resume.params)))}")
    lookups = {name for name, kind in model.kinds.items() if kind == "Lookup"}
    initial, _, step, _ = model.clock
    before = np.arange(initial, resume.time - step / 2, step)
    for name in sorted(set(inputs) - lookups):
        ours, theirs = _values_at(inputs[name], before), _values_at(resume.params[name], before)
        if not bool(np.all(ours == theirs)):     # broadcast to [runs x times]; NaN differs, as in array_equal
            raise ValueError(f"resume: {name!r} differs from the snapshot's before {resume.time:g}")


def _values_at(value: Any, times: np.ndarray) -> np.ndarray:
    """An input's values at `times`, broadcastable to [runs x times]: a number [1 x 1], one per run
    [runs x 1], a time path [1 x times] or one per run [runs x times]."""
    if not isinstance(value, TimePath):
        return np.asarray(value, dtype=float).reshape(-1, 1)
    rows = np.atleast_2d(value.values)
    return np.array([np.interp(times, value.times, row) for row in rows])


def _as_input(kinds: dict[str, str], name: str, value: Any, n: int) -> float | np.ndarray | TimePath:
    """Check one parameter against the model and bring it to a chunkable form."""
    if name in CONTROL:
        raise ValueError(f"params: {name!r} is a control variable; set final_year / time_step instead")
    if kinds.get(name) not in ("Constant", "Lookup"):
        settable = sorted({k for k, kind in kinds.items() if kind in ("Constant", "Lookup")} - set(CONTROL))
        raise ValueError(f"params: {name!r} is not a model constant or lookup table "
                         f"(settable: {', '.join(settable)})")
    if isinstance(value, pd.Series):
        path = value.sort_index()
        return TimePath(path.index.to_numpy(float), path.to_numpy(float))
    if isinstance(value, xr.DataArray):
        if set(value.dims) != {"run", "year"} or value.sizes["run"] != n:
            raise ValueError(f"params: {name!r} DataArray must have dims ('run', 'year') with {n} runs, "
                             f"got {dict(value.sizes)}")
        path = value.transpose("run", "year")
        years = path["year"].to_numpy().astype(float)
        if not bool(np.all(np.diff(years) > 0)):       # sortby only where needed: it copies every table
            path = path.sortby("year")
            years = path["year"].to_numpy().astype(float)
        return TimePath(years, path.to_numpy().astype(float))
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return float(array)
    if array.shape != (n,):
        raise ValueError(f"params: {name!r} must be a number, an array of {n} values, a pd.Series or "
                         f"a ('run', 'year') DataArray, got shape {array.shape}")
    return array


def _rows(inputs: dict[str, Any], start: int, stop: int) -> dict[str, Any]:
    def part(value):
        if isinstance(value, TimePath):
            return value.rows(start, stop)
        return value[start:stop] if isinstance(value, np.ndarray) else value
    return {name: part(value) for name, value in inputs.items()}


def _default_chunk(model: Facts, n: int, control: dict, workers: int | None) -> int:
    """As many runs as fit CHUNK_BYTES of results, but enough chunks to keep every worker busy."""
    initial, final, _, saveper = model.clock
    span = control.get("final_time", final) - initial
    saves = span / control.get("saveper", saveper) + 1
    per_run = 8 * model.step_variables * saves  # run-constants: once
    fits = max(256, int(CHUNK_BYTES // max(per_run, 1)))
    return max(1, min(fits, math.ceil(n / (workers or os.cpu_count() or 1))))


def _execute(chunks: list[Chunk], workers: int | None, scheduler: Any, progress: bool) -> list[xr.Dataset]:
    """Run the chunks (in this process, in a pool, or on Dask); results in chunk order."""
    results: dict[int, xr.Dataset] = {}
    with tqdm(total=sum(c.size for c in chunks), unit="run", disable=not progress,
              desc="ensemble") as bar:
        for index, dataset in _completed(chunks, workers, scheduler):
            results[index] = dataset
            bar.update(chunks[index].size)
    return [results[i] for i in range(len(chunks))]


def _completed(chunks: list[Chunk], workers: int | None, scheduler: Any) -> Iterator[tuple[int, xr.Dataset]]:
    workers = min(workers or os.cpu_count() or 1, len(chunks))
    if scheduler is not None or workers > 1:
        _check_picklable(chunks[0].reduce)
    if scheduler is not None:
        yield from _on_dask(chunks, scheduler)
        return
    if workers == 1:
        for index, chunk in enumerate(chunks):
            yield index, run_chunk(chunk)
        return
    pool = _pool(workers)
    try:
        yield from pool.map_unordered(run_chunk, chunks)
    except BaseException:  # Ctrl-C or a failed chunk: stop the workers now, leave no orphans
        _POOLS.pop(workers, None)
        pool.close(now=True)
        raise


_POOLS: dict[int, Pool] = {}


def _pool(workers: int) -> Pool:
    """Worker processes kept between calls: each keeps its configured model for the next batch."""
    if workers not in _POOLS:
        _close_pools()
        _POOLS[workers] = Pool(workers)
    return _POOLS[workers]


@atexit.register
def _close_pools() -> None:
    """Stop the kept worker processes (also at exit)."""
    for pool in _POOLS.values():
        pool.close()
    _POOLS.clear()


def map_calls(function: Callable, items: list, workers: int | None = None, scheduler: Any = None) -> list:
    """[function(item) for item in items] on the kept worker processes (default: all cores), on a Dask
    scheduler, or in this process (one worker or one item): for batches that make their own engine calls,
    such as the reconciled batches of calibration/seam.py. `function` is a module-level function."""
    if scheduler is not None:
        found = dict(_on_dask(items, scheduler, function))
        return [found[i] for i in range(len(items))]
    workers = min(workers or os.cpu_count() or 1, len(items))
    if workers <= 1:
        return [function(item) for item in items]
    pool, found = _pool(workers), {}
    try:
        for index, value in pool.map_unordered(function, items):
            found[index] = value
    except BaseException:  # Ctrl-C or a failed call: stop the workers now, leave no orphans
        _POOLS.pop(workers, None)
        pool.close(now=True)
        raise
    return [found[i] for i in range(len(items))]


def _on_dask(chunks: list, scheduler: Any, function: Callable = run_chunk) -> Iterator[tuple[int, Any]]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise ValueError("scheduler: Dask is not installed; install it with pip install 'nxmfg[cluster]'") from None

    client = Client(scheduler) if isinstance(scheduler, str) else scheduler
    futures = client.map(function, chunks, pure=False)
    index = {future.key: i for i, future in enumerate(futures)}
    try:
        for future in dask_completed(futures):
            yield index[future.key], future.result()
    finally:
        client.cancel(futures)
        if isinstance(scheduler, str):
            client.close()


def _check_picklable(reduce: Reduce | None) -> None:
    try:
        pickle.dumps(reduce)
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        raise ValueError(f"reduce: {reduce!r} cannot be sent to worker processes ({error}); use a "
                         "module-level function or functools.partial of one") from error

