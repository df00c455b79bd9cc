"""Run a chunk of parameter sets through the compiled model (model/engine/native.py), as batch does.

Inputs arrive as the engine checked them (batch.Chunk: numbers, [runs] arrays, TimePaths shared or per
run); the results are batch.run_chunk's Dataset, variable for variable. A snapshot of the compiled path
holds every run's state at its time (stocks, smooth stages, delay pipes) and every variable saved
before it, so that a resumed batch gives the numbers of a run from the start.
"""

import math
from functools import lru_cache
from typing import Any

import numpy as np
import xarray as xr

from nxmfg.model.engine import native
from nxmfg.model.engine.batch import Chunk, Snapshot, TimePath, dataset, reusable

RPREC = 1e-5   # PySD's Time.rprec


@lru_cache(maxsize=4)
def library(source: str) -> native.Library:
    """The compiled model of a rewritten module, once per process (errors are not cached)."""
    return native.load(source)


def clock(lib: native.Library) -> tuple[float, float, float, float]:
    """The model's own time axis: initial time, final time, time step, saveper."""
    return _Call(lib, Chunk("", 0, 1, {})).clock()


class _Call:
    """One nx_call: the chunk's inputs laid out for C, kept alive as long as the call."""

    def __init__(self, lib: native.Library, chunk: Chunk):
        self.lib, self.meta, self.ffi = lib, lib.meta, lib.ffi
        self.keep: list[Any] = []
        self.call = self.ffi.new("nx_call *")
        self.call.runs = chunk.size
        self.dyn = np.zeros(max(len(self.meta["variables"]), 1), dtype=np.uint8)
        self._inputs(chunk.params)
        self.call.dyn = self._pointer(self.dyn, "unsigned char *")
        for key in ("final_time", "time_step", "saveper"):     # NaN: the model's own
            setattr(self.call, key, float(chunk.control.get(key, math.nan)))
        self.call.pause = math.nan

    def _inputs(self, params: dict[str, Any]) -> None:
        """Constants (one value or one per run), time paths (their dependents recomputed every step)
        and lookup tables, each where the C code reads it."""
        ffi, inputs, lookups = self.ffi, self.meta["inputs"], self.meta["lookups"]
        values = ffi.new("const double *[]", max(len(inputs), 1))
        strides = ffi.new("long[]", max(len(inputs), 1))
        paths = ffi.new("nx_table[]", max(len(inputs), 1))
        tables = ffi.new("nx_table[]", max(len(lookups), 1))
        slot = {name: k for k, name in enumerate(inputs)}
        for name, value in params.items():
            if name in lookups:
                self._table(tables[lookups[name]], _as_table(value))
            elif isinstance(value, TimePath):
                self._table(paths[slot[name]], value)
                self.dyn[self.meta["dependents"][name]] = 1
            else:
                values[slot[name]] = self._pointer(np.ascontiguousarray(np.atleast_1d(np.asarray(value, float))))
                strides[slot[name]] = 0 if np.ndim(value) == 0 else 1
        self.keep += [values, strides, paths, tables]
        self.call.value, self.call.stride, self.call.path, self.call.table = values, strides, paths, tables

    def _pointer(self, array: np.ndarray, kind: str = "double *"):
        self.keep.append(array)
        return self.ffi.cast(kind, self.ffi.from_buffer(array))

    def _table(self, table, path: TimePath) -> None:
        xs = np.ascontiguousarray(path.times, dtype=float)
        ys = np.ascontiguousarray(path.values, dtype=float)
        table.n, table.x, table.y = xs.size, self._pointer(xs), self._pointer(ys)
        table.stride = ys.shape[1] if ys.ndim == 2 else 0

    def clock(self) -> tuple[float, float, float, float]:
        out = self.ffi.new("double[4]")
        self.lib.lib.nx_clock(self.call, out)
        return tuple(out)

    def outputs(self, step: list[int], fixed: list[int], capacity: int,
                reuse: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arrays the C code saves into: time-varying variables [variables x saves x runs] (the numpy
        path's layout; reuse: in the thread's save buffer), run-constant ones [variables x runs], save times."""
        size = self.call.runs
        step_out = (reusable if reuse else np.empty)((len(step), capacity, size))
        fixed_out = np.empty((len(fixed), size))
        times = np.empty(capacity)
        for name, array in (("save", np.asarray(step, np.int32)), ("fixed", np.asarray(fixed, np.int32))):
            setattr(self.call, name, self._pointer(array, "int *"))
        self.call.n_save, self.call.n_fixed = len(step), len(fixed)
        self.call.out_step, self.call.out_fixed = self._pointer(step_out), self._pointer(fixed_out)
        self.call.times, self.call.capacity = self._pointer(times), capacity
        return step_out, fixed_out, times

    def run(self) -> int:
        status = self.lib.lib.nx_run(self.call)
        if status:
            raise RuntimeError(f"the compiled model failed (status {status}): "
                               + {-1: "more save times than expected", -2: "out of memory",
                                  -3: "TIME STEP is not positive"}.get(status, "unknown"))
        return self.call.n_times


def _as_table(value: Any) -> TimePath:
    """A lookup's new table; a number (or one per run) is a table of one point, as PySD's set_values."""
    if isinstance(value, TimePath):
        return value
    values = np.asarray(value, dtype=float)
    return TimePath(np.zeros(1), values.reshape(-1, 1) if values.ndim else values.reshape(1))


def _split(call: _Call) -> tuple[list[int], list[int]]:
    """Variables saved at every save time (time-varying) and once (run-constant), by index."""
    every = set(call.meta["static_step"]) | set(np.flatnonzero(call.dyn).tolist())
    indices = range(len(call.meta["variables"]))
    return [i for i in indices if i in every], [i for i in indices if i not in every]


def _capacity(clock: tuple[float, ...]) -> int:
    t0, final, _, saveper = clock
    return int((final - t0) / saveper + 1e-6) + 2


def _rounded(times: np.ndarray, dt: float) -> np.ndarray:
    """PySD's Time.round: to the decimals of TIME STEP x 1e-5."""
    times = np.round(times, -int(np.log10(dt * RPREC)))
    return times.astype(int) if np.all(times == np.round(times)) else times


def run_chunk(chunk: Chunk, lib: native.Library) -> xr.Dataset:
    """The chunk's runs on the compiled model: batch.run_chunk's Dataset (before `reduce`)."""
    call = _Call(lib, chunk)
    step, fixed = _split(call)
    clock = call.clock()
    step_out, fixed_out, times = call.outputs(step, fixed, _capacity(clock), reuse=chunk.reduce is not None)
    if chunk.resume is not None:
        _resume(call, chunk.resume, step, step_out, times)
    saves = call.run()
    names = call.meta["variables"]
    data = {names[i]: step_out[j, :saves].T for j, i in enumerate(step)}
    shape = (chunk.size, saves)
    # Run-constants: stored once and broadcast, as PySD's "run" cache, when `reduce` will make its own
    # arrays; spread out (writeable, as a Dataset's arrays usually are) when the Dataset is the result.
    spread = np.broadcast_to(fixed_out[:, :, None], (len(fixed), *shape))
    if chunk.reduce is None:
        spread = np.ascontiguousarray(spread)
    data |= {names[i]: spread[j] for j, i in enumerate(fixed)}
    return dataset(data, chunk.start, _rounded(times[:saves], clock[2]))


def pause(chunk: Chunk, time: float, lib: native.Library) -> Snapshot:
    """Run the chunk (from its start or its snapshot) up to `time` and keep every run's state and
    everything saved before it."""
    call = _Call(lib, chunk)
    clock = call.clock()
    every = list(range(len(call.meta["variables"])))
    step_out, _, times = call.outputs(every, [], _capacity(clock))
    stride = int(lib.lib.nx_state_size(call.call))
    if chunk.resume is not None:
        _resume(call, chunk.resume, every, step_out, times)
        state = np.array(chunk.resume.state, dtype=float, order="C")    # loaded, then stored over
    else:
        # zeroed: a run whose delay pipes are shorter than the longest leaves the end of its row unwritten, and the
        # same runs must give the same snapshot, byte for byte (calibration/seam_cache.py keeps it)
        state = np.zeros((chunk.size, max(stride, 1)))
    call.call.state, call.call.state_stride = call._pointer(state), state.shape[1]
    call.call.pause = float(time)
    saves = call.run()
    names = [""] * state.shape[1]       # the state's columns by stateful object (ensemble.rescaled)
    for obj, column in call.meta.get("columns", {}).items():
        names[column] = obj
    return Snapshot(float(time), chunk.size, (), times[:saves].copy(), step_out[:, :saves].copy(),
                    dict(chunk.params), tuple(names), engine="compiled", state=state)


def _resume(call: _Call, snapshot: Snapshot, step: list[int], step_out: np.ndarray, times: np.ndarray) -> None:
    """Start from the snapshot's state, its saves before its time already in place."""
    kept = snapshot.times.size
    for j, i in enumerate(step):
        step_out[j, :kept] = snapshot.saved[i]
    times[:kept] = snapshot.times
    call.call.first_save, call.call.resume = kept, 1
    call.call.state = call._pointer(np.ascontiguousarray(snapshot.state))
    call.call.state_stride = snapshot.state.shape[1]
