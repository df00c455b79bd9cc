"""Run one chunk of parameter sets through PySD's own Model, with array-valued inputs.

PySD does the loading, cache assignment, initialisation order and time keeping exactly as in a
plain run (`Model._config_simulation`); only the Euler step is ours, because PySD packs the
states in an object array, which would turn arrays of runs into Python floats.
"""

import hashlib
import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from nxmfg.model.cache import private_folder

CONTROL = ("initial_time", "final_time", "time_step", "saveper")


@dataclass(frozen=True)
class TimePath:
    """Values over time, linear between points, flat beyond the ends; [points] or [runs x points]."""

    times: np.ndarray
    values: np.ndarray

    def rows(self, start: int, stop: int) -> "TimePath":
        return self if self.values.ndim == 1 else TimePath(self.times, self.values[start:stop])

    def at(self, time: float):
        if self.values.ndim == 2:
            from nxmfg.model.engine.runtime import interp_rows   # imports PySD: the numpy path only

            return interp_rows(time, self.times, self.values)
        return float(np.interp(time, self.times, self.values))  # as PySD's Series inputs


@dataclass(frozen=True)
class Chunk:
    """Runs start..start+size of a batch; `params` values are scalars, [size] arrays or TimePaths."""

    source: str
    start: int
    size: int
    params: dict[str, Any]
    control: dict[str, float | None] = field(default_factory=dict)
    reduce: Callable[[xr.Dataset], xr.Dataset] | None = None
    resume: "Snapshot | None" = None
    engine: str = "numpy"                # "compiled": the compiled model (model/engine/compiled.py)


@dataclass(frozen=True)
class Snapshot:
    """A batch paused at `time`, before that time's step: every stock's state, and what was saved before.

    Runs whose inputs equal the snapshot's before `time` go on from it to the same numbers as from the
    start (the same operations on the same values), in the time left: `model.ensemble.snapshot`.
    """

    time: float
    size: int
    states: tuple[dict[str, Any], ...]   # per dynamic stateful element: state (and a delay's pipe, pointer)
    times: np.ndarray                    # save times before `time`
    saved: np.ndarray                    # [variables x saves x runs], as `_integrate` keeps them (compiled: all)
    params: dict[str, Any]               # the inputs it was made with (checked on resume)
    names: tuple[str, ...] = ()          # each stateful element's py name (`_integ_physical_capital`);
                                         # compiled: each state column's object ("" for time and delays)
    engine: str = "numpy"                # the path that made it, and resumes it
    state: np.ndarray | None = None      # compiled: [runs x state]


def run_chunk(chunk: Chunk) -> xr.Dataset:
    """Simulate the chunk's runs; dims ("run", "year"), then apply its `reduce`.

    The result's attrs say which path ran: `engine` ("compiled" or "numpy") and, where the compiled
    path was asked for and could not run, `engine_note` (why).
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # PySD's per-run chatter would repeat once per chunk
        lib, note = _compiled(chunk)
        if lib is not None:
            from nxmfg.model.engine import compiled

            runs = compiled.run_chunk(chunk, lib)
        else:
            runs = _numpy_chunk(chunk)
    result = chunk.reduce(runs) if chunk.reduce else runs
    arrays = [result.variables[name].values for name in result.data_vars]  # Variables: no DataArray built
    reused = _cached("buffer", []) if lib is None or chunk.reduce else []   # the save buffer (`reusable`)
    if any(not a.flags.writeable or any(np.shares_memory(a, b) for b in reused) for a in arrays):
        result = result.copy(deep=True)  # the buffer is reused by the next chunk
    result.attrs["engine"] = "compiled" if lib is not None else "numpy"
    if note:
        result.attrs["engine_note"] = note
    return result


def _compiled(chunk: Chunk):
    """(the compiled library, None) when the chunk asks for it and it loads; else (None, why not)."""
    wanted = chunk.resume.engine if chunk.resume is not None else chunk.engine
    if wanted != "compiled":
        return None, None
    from nxmfg.model.engine import compiled, native
    from nxmfg.model.engine.equations import NotCompilable

    try:
        return compiled.library(chunk.source), None
    except (NotCompilable, native.Unavailable) as error:
        if chunk.resume is not None:
            raise
        return None, str(error)


def _numpy_chunk(chunk: Chunk) -> xr.Dataset:
    """The numpy path: PySD's own Model with arrays of runs."""
    try:
        economy = _prepared(chunk)
        years, saved, constants = _integrate(economy, chunk.size, resume=chunk.resume)
    except BaseException:  # an interrupted or failed chunk may leave the model half set up
        _cached("prepared", {}).clear()
        raise
    if np.all(years == np.round(years)):
        years = years.astype(int)
    shape = (chunk.size, len(years))
    data = {name: saved[i].T for i, name in enumerate(economy.capture_elements["step"])}
    data |= {name: np.broadcast_to(constants[i][:, None], shape)  # as PySD: run-constant, stored once
             for i, name in enumerate(economy.capture_elements["run"])}
    return dataset(data, chunk.start, years)


def dataset(data: dict[str, np.ndarray], start: int, years: np.ndarray) -> xr.Dataset:
    """Variables [runs x years], sorted by name, with coords run (from `start`) and year.

    What `xr.Dataset(data_vars, coords)` builds, without its merging and checking of every variable (20 ms
    of a single run for the model's 500 variables): the arrays come from the engine, already aligned.
    """
    size = next(iter(data.values())).shape[0] if data else 0
    base = xr.Dataset(coords={"run": np.arange(start, start + size), "year": years})
    variables = {name: xr.Variable(("run", "year"), data[name], fastpath=True) for name in sorted(data)}
    variables |= dict(base.variables)
    return xr.Dataset._construct_direct(variables, set(base._coord_names), dict(base.sizes),
                                        indexes=dict(base._indexes))


_LOCAL = threading.local()  # per thread (Dask may run chunks in threads of one process)


def _cached(name: str, default):
    if not hasattr(_LOCAL, name):
        setattr(_LOCAL, name, default)
    return getattr(_LOCAL, name)


def reusable(shape: tuple[int, ...]) -> np.ndarray:
    """The thread's save buffer, of this shape: reused by the next chunk, as first-touching fresh memory
    is slow (run_chunk copies a result that shares it)."""
    buffer = _cached("buffer", [])
    if not buffer or buffer[0].shape != shape:
        buffer[:] = [np.empty(shape)]
    return buffer[0]


def _prepared(chunk: Chunk):
    """A model set up for the chunk: PySD's full `_config_simulation` once per batch and process,
    then only new input values, fresh states and constant caches (as PySD's own re-runs do)."""
    kinds = tuple(sorted((name, type(v).__name__, getattr(v, "values", v).__class__.__name__)
                         for name, v in chunk.params.items()))
    key = (hashlib.sha256(chunk.source.encode()).hexdigest(), kinds, tuple(sorted(chunk.control.items())))
    prepared = _cached("prepared", {})  # the configured model, reused by the next chunk of a batch
    economy = prepared.get(key)
    if economy is None:
        import pysd

        prepared.clear()
        economy = pysd.load(_module_file(chunk.source))
        for name, value in chunk.params.items():
            _set_input(economy, name, value)
        economy._config_simulation(None, None, None, "original", chunk.control.get("final_time"),
                                   chunk.control.get("time_step"), chunk.control.get("saveper"),
                                   True, progress=False)
        prepared[key] = economy
        return economy
    economy._remove_constant_cache()
    for name, value in chunk.params.items():
        _set_input(economy, name, value)
    economy.set_initial_condition("original")
    economy._add_constant_cache()
    economy.clean_caches()
    return economy


def time_axis_inputs(economy) -> set[str]:
    """Names INITIAL TIME, FINAL TIME, TIME STEP or SAVEPER depend on: one value for all runs."""
    found, todo = set(), list(CONTROL)
    while todo:
        deps = economy._dependencies.get(todo.pop(), {})
        if "step" in deps:  # a stateful object: both its initial and step dependencies
            deps = {**deps["initial"], **deps["step"]}
        new = {d for d in deps if d != "time" and not d.startswith("__")} - found
        found |= new
        todo += new
    return found


def _module_file(source: str) -> Path:
    """The transformed module on this machine's disk (workers may be remote Dask workers), in the private
    cache folder and checked against the source's hash before every import: a file that differs (cut
    short, or written by anything but us) is written again."""
    digest = hashlib.sha256(source.encode()).hexdigest()
    path = private_folder("engine") / f"m{digest[:16]}.py"
    try:
        if hashlib.sha256(path.read_bytes()).hexdigest() == digest:
            return path
    except OSError:
        pass
    partial = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
    partial.write_text(source, encoding="utf-8")
    os.replace(partial, path)
    return path


def _set_input(economy, name: str, value) -> None:
    """As PySD's `_set_components`, but arrays of runs are allowed."""
    func = getattr(economy.components, name)
    if func.type == "Lookup":
        table = (value.times, value.values) if isinstance(value, TimePath) else value
        getattr(economy.components, economy._dependencies[name]["__lookup__"]).set_values(table)
        return
    if isinstance(value, TimePath):
        def new(path=value, clock=economy.time):
            return path.at(clock())
        economy._dependencies[name] = {"time": 1}
    else:
        def new(value=value):
            return value
        economy._dependencies[name] = {}
    new.__dict__.update(func.__dict__)
    new.__name__ = name
    economy.components._set_component(name, new)
    economy.cache.cached_funcs.discard(name)


def pause(chunk: Chunk, time: float) -> Snapshot:
    """Run the chunk up to `time` (a time step boundary) and keep its state there."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        lib, _ = _compiled(chunk)
        if lib is not None:
            from nxmfg.model.engine import compiled

            return compiled.pause(chunk, time, lib)
        try:
            economy = _prepared(chunk)
            return _integrate(economy, chunk.size, resume=chunk.resume, pause_at=time, params=chunk.params)
        except BaseException:
            _cached("prepared", {}).clear()
            raise


STATE_ATTRIBUTES = ("state", "pipe", "pointer")   # what an Integ, Smooth or DelayFixed changes as it runs


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray | list) else value


def _integrate(economy, size: int, resume: Snapshot | None = None, pause_at: float | None = None,
               params: dict | None = None):
    """PySD's `_integrate` loop; returns save times, time-varying values [variables x saves x runs]
    and run-constant values [variables x runs] (PySD's "run" cache: the same at every save).

    resume: go on from a Snapshot instead of INITIAL TIME; pause_at: stop there and return a Snapshot.
    """
    steps = [getattr(economy.components, name) for name in economy.capture_elements["step"]]
    clock, dynamic = economy.time, economy._dynamicstateful_elements
    constants = np.array([np.broadcast_to(getattr(economy.components, name)(), (size,))
                          for name in economy.capture_elements["run"]]).reshape(-1, size)
    span = (clock.final_time() - clock()) / clock.saveper()
    saved = reusable((len(steps), int(span + 1e-6) + 2, size))
    times = []
    if resume is not None:
        for element, kept in zip(dynamic, resume.states, strict=True):
            for name, value in kept.items():
                setattr(element, name, _copy(value))
        clock.update(resume.time)
        economy.clean_caches()
        times = list(resume.times)
        saved[:, :len(times)] = resume.saved

    def save():
        nonlocal saved
        if len(times) == saved.shape[1]:  # SAVEPER or FINAL TIME moved during the run
            saved = np.concatenate([saved, np.empty_like(saved)], axis=1)
            _cached("buffer", [])[:] = [saved]
        for i, func in enumerate(steps):
            saved[i, len(times)] = func()
        times.append(clock.round())

    def paused() -> Snapshot:
        states = tuple({name: _copy(getattr(element, name)) for name in STATE_ATTRIBUTES
                        if hasattr(element, name)} for element in dynamic)
        return Snapshot(float(clock()), size, states, np.asarray(times), saved[:, :len(times)].copy(),
                        dict(params or {}), tuple(getattr(element, "py_name", "") for element in dynamic))

    while clock.in_bounds():
        if pause_at is not None and clock() >= pause_at - clock.time_step() * clock.rprec:
            return paused()
        if clock.in_return():
            save()
        dt = clock.time_step()
        states = [element.state for element in dynamic]
        flows = [element.ddt() for element in dynamic]
        for element, state, flow in zip(dynamic, states, flows, strict=True):
            element.update(state + flow * dt)
        clock.update(clock() + dt)
        economy.clean_caches()
    if pause_at is not None:     # at FINAL TIME: what is left is its save
        return paused()
    if clock.in_return():
        save()
    return np.asarray(times), saved[:, :len(times)], constants
