"""Array-clean stand-ins for the PySD functions the translated module imports.

Each keeps PySD's arithmetic (same operations in the same order) so that one run of an
ensemble equals a plain PySD run; only the branching on Python truth values is replaced
by element-wise numpy, because a condition may now hold for some runs and not others.
"""

import numpy as np
import pandas as pd
from pysd.py_backend import lookups, statefuls
from pysd.py_backend.functions import SMALL_VENSIM


def array_float(value):
    """PySD's `float(...)` wrapper, letting arrays of runs through."""
    if isinstance(value, np.ndarray) and value.ndim:
        return value
    return float(value)


def if_then_else(condition, val_if_true, val_if_false):
    """IF THEN ELSE; both branches are evaluated only when the runs disagree."""
    if np.ndim(condition) == 0:
        return val_if_true() if condition else val_if_false()
    if condition.all():
        return val_if_true()
    if not condition.any():
        return val_if_false()
    with np.errstate(all="ignore"):  # the branch a run does not take may divide by zero
        return np.where(condition, val_if_true(), val_if_false())


def xidz(numerator, denominator, x):
    """XIDZ: x where |denominator| < 1e-6, else the quotient."""
    if np.ndim(denominator) == 0:
        return x if abs(denominator) < SMALL_VENSIM else numerator / denominator
    with np.errstate(all="ignore"):
        return np.where(np.abs(denominator) < SMALL_VENSIM, x, numerator / denominator)


def zidz(numerator, denominator):
    """ZIDZ: 0 where |denominator| < 1e-6, else the quotient."""
    return xidz(numerator, denominator, 0)


def interp_rows(x, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """np.interp for each run: row i of `fp` [runs x points] evaluated at x (scalar or [runs])."""
    rows = np.arange(fp.shape[0])
    x = np.broadcast_to(np.asarray(x, dtype=float), rows.shape)
    if xp.size == 1:
        return fp[:, 0].copy()
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, xp.size - 2)
    slope = (fp[rows, j + 1] - fp[rows, j]) / (xp[j + 1] - xp[j])
    inside = slope * (x - xp[j]) + fp[rows, j]  # np.interp's own formula
    return np.where(x <= xp[0], fp[:, 0], np.where(x >= xp[-1], fp[:, -1], inside))


class HardcodedLookups(lookups.HardcodedLookups):
    """A Vensim table on np.interp (flat beyond the ends, as PySD's 'interpolate')."""

    def initialize(self):
        (x, y, _), = self.values
        order = np.argsort(x, kind="stable")
        self.table = np.asarray(x, dtype=float)[order], np.asarray(y, dtype=float)[order]

    def set_values(self, values):
        """Replace the table: pd.Series (shared), (xp, fp[runs, points]) per run, or a constant."""
        if isinstance(values, pd.Series):
            series = values.sort_index()
            self.table = series.index.to_numpy(float), series.to_numpy(float)
        else:
            self.table = values

    def __call__(self, x, final_subs=None):
        if not isinstance(self.table, tuple):
            return self.table
        xp, fp = self.table
        if fp.ndim == 2:
            return interp_rows(x, xp, fp)
        value = np.interp(x, xp, fp)
        return value if np.ndim(value) else float(value)


class Smooth(statefuls.Smooth):
    """SMOOTH/SMOOTH3; state is [order x runs] (runs = 1 while nothing varies by run)."""

    def initialize(self, init_val=None):
        self.order = _same_for_all_runs(self.order_func(), self.py_name, "order")
        value = self.init_func() if init_val is None else init_val
        self.state = np.array([np.atleast_1d(np.asarray(value, dtype=float))] * self.order)

    def __call__(self):
        last = self.state[-1]
        return last[0] if last.shape == (1,) else last

    def ddt(self):
        state, value = self.state, self.input_func()
        targets = np.empty((self.order,) + np.broadcast_shapes(state.shape[1:], np.shape(value)))
        targets[1:] = state[:-1]
        targets[0] = value
        return (targets - state) * self.order / self.smooth_time_func()


class DelayFixed(statefuls.DelayFixed):
    """DELAY FIXED; a delay time that differs between runs gets a pipe and pointer per run."""

    def initialize(self, init_val=None):
        orders = np.asarray(np.maximum(np.asarray(self.delay_time_func(), dtype=float) / self.tstep(), 1))
        orders = np.round(orders + SMALL_VENSIM).astype(int)  # PySD: round(order + SMALL_VENSIM)
        value = self.init_func() if init_val is None else init_val
        self.pointer, self.rows = 0, None
        if (orders == orders.flat[0]).all():
            self.order = int(orders.flat[0])
            self.state, self.pipe = value, [value] * self.order
            return
        self.order, self.rows = orders, np.arange(orders.size)
        self.pointer = np.zeros(orders.size, dtype=int)
        self.state = np.broadcast_to(np.asarray(value, dtype=float), orders.shape).copy()
        self.pipe = np.tile(self.state, (orders.max(), 1))

    def update(self, state):
        if self.rows is None:
            return super().update(state)
        self.pipe[self.pointer, self.rows] = self.input_func()
        self.pointer = (self.pointer + 1) % self.order
        self.state = self.pipe[self.pointer, self.rows]


def _same_for_all_runs(value, py_name: str, what: str) -> int:
    values = np.unique(np.asarray(value))
    if values.size != 1:
        raise ValueError(f"{py_name}: the {what} must be the same for all runs, got {values}")
    return int(values[0])
