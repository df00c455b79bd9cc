"""Candidates x states of the world in one ensemble call, and the search's objectives from the results.

Objectives, all minimised:
  0. minus the expected weighted number of targets met, sum_t w_t P_t(met), with P over the states of the
     world (calibration/states.py; objective `targets_met`); or minus the weighted mean shortfall,
     sum_t w_t E[min(margin_t / |threshold_t|, 0)]
     (objective `weighted_margin`, 0 when every target is met in every state);
  1. the expected cumulative fiscal cost [亿元, current prices] from levers_from to the last target year
     (incremental: minus the baseline's cost in the same state; or total);
  2. minus the weighted number of targets met with odds >= met_odds (the robust count).
Constraints (<= 0 feasible): expected cost <= budget_cap; and per quota of the study (study.Quota), the expected
margin >= 0, or >= the baseline's where the baseline itself misses the quota in expectation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

import pandas as pd

from nxmfg import scenarios
from nxmfg.calibration import worlds
from nxmfg.calibration.fits import Fit
from nxmfg.calibration.states import States
from nxmfg.model import ensemble
from nxmfg.model import indicators as model_indicators
from nxmfg.scenarios import Scenario, Target

from .packages import lever_paths
from .study import Study

COST = "fiscal_cost_cumulative_100m_yuan"
OBJECTIVES = ("targets", "cost", "robust")


@dataclass(frozen=True)
class Outcomes:
    """Per candidate (c), run (s: 0 the central run, 1.. the states of the world) and target (t): margin
    [c, s, t] (threshold's unit), met [c, s, t] (NaN margins count as missed), the cumulative fiscal cost
    over the study window [c, s] (亿元), and the target's measured value [c, s, t]."""

    margin: np.ndarray
    met: np.ndarray
    cost: np.ndarray
    value: np.ndarray

    @property
    def probability(self) -> np.ndarray:
        """P(met) [c, t]: the share of the states (the central run left out) in which the target is met."""
        return self.met[:, 1:].mean(axis=1)


QUOTA_SLACK = 1e-9  # threshold units: the baseline's own levels, set as a package, equal it to rounding
CHUNK_RUNS = 2048   # runs per engine call: the batch's saved values stay near 150 MB


@dataclass
class Evaluator:
    """Runs packages over the states of the world through the ensemble engine, from the reconciled start.

    baseline: every constant's value before any lever acts (the .mdl's, then the fit's); cost_window:
    (first, end) years, the cost from the start of `first` to the start of `end`, Cum(end) - Cum(first);
    history: the record (the seam's, and the observed years of the targets' windows).
    """

    targets: list[Target]
    fit: Fit
    states: States
    baseline: dict[str, float]
    cost_window: tuple[int, int]
    history: pd.DataFrame
    scheduler: str | None = None

    @property
    def control(self) -> dict:
        return {"final_time": max(self.cost_window[1], *(t.year for t in self.targets)), "saveper": 1}

    def __call__(self, packages: list[Scenario]) -> Outcomes:
        """Batches of <= CHUNK_RUNS runs, len(packages) x (states + 1) in all (run = package * (states + 1) + s),
        on the worker processes (or Dask), each resumed from the reconciled start."""
        from nxmfg.scenarios import from_mapping

        per, runs_each = max(1, CHUNK_RUNS // (self.states.count + 1)), self.states.count + 1
        untouched = from_mapping({"name": "untouched", "description": "x"}, "<untouched>")
        start = worlds.start(self.fit, self.states, self.control, history=self.history)
        reduce = partial(model_indicators.compute, names=sorted({t.indicator for t in self.targets} | {COST}))
        tasks = []
        for first in range(0, len(packages), per):
            chosen = packages[first:first + per]
            params = worlds.inputs(untouched, self.fit, self.states, repeat=len(chosen))
            params |= lever_paths(chosen, self.baseline, runs_each)
            tasks.append((params, len(chosen), start.snapshot, reduce, self.control))
        done = ensemble.map_calls(worlds.run_repeated, tasks, scheduler=self.scheduler)
        parts = [self._judged(runs, task[1]) for runs, task in zip(done, tasks, strict=True)]
        return Outcomes(*(np.concatenate([getattr(part, name) for part in parts])
                          for name in ("margin", "met", "cost", "value")))

    def _judged(self, runs, count: int) -> Outcomes:
        """Outcomes of `count` packages' batch (dims run, year)."""
        runs_each = self.states.count + 1
        attained = scenarios.attainment_by_run(runs, self.targets, self.history)
        shape = (count, runs_each, -1)
        margin = attained["margin"].transpose("run", "target").to_numpy().reshape(shape)
        met = attained["met"].transpose("run", "target").to_numpy().reshape(shape)
        value = attained["value"].transpose("run", "target").to_numpy().reshape(shape)
        first, last = self.cost_window
        cumulative = runs[COST]
        cost = (cumulative.sel(year=last) - cumulative.sel(year=first)).to_numpy().reshape(count, runs_each)
        return Outcomes(margin, met & np.isfinite(margin), cost, value)


def objectives(outcomes: Outcomes, study: Study, targets: list[Target],
               baseline_cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F [c, 3] in the order of OBJECTIVES, G [c, 1] the budget constraint (<= 0 feasible; [c, 0] uncapped)).

    baseline_cost: the baseline's cost in each run [s] (0 central), subtracted for the incremental basis.
    """
    weights = np.array([study.targets[t.id] for t in targets])
    probability = outcomes.probability
    if study.objective == "targets_met":
        first = -(probability * weights).sum(axis=1)
    else:
        scale = np.array([max(abs(t.threshold), 1e-12) for t in targets])
        shortfall = np.minimum(np.nan_to_num(outcomes.margin[:, 1:], nan=-np.inf) / scale, 0.0)
        first = -(np.maximum(shortfall, -1e3) * weights).sum(axis=2).mean(axis=1)
    cost = expected_cost(outcomes.cost, baseline_cost, study.cost)
    robust = -((probability >= study.met_odds - 1e-12) * weights).sum(axis=1)
    G = np.empty((len(cost), 0)) if study.budget_cap is None else (cost - study.budget_cap)[:, None]
    return np.column_stack([first, cost, robust]), G


def quota_constraints(outcomes: Outcomes, baseline_margin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(G [c, q], the expected margins [c, q]) of quota targets judged in `outcomes` (margin [c, s, q]).

    baseline_margin: the baseline's expected margin [q]. A package is feasible where its expected margin is
    >= min(0, the baseline's): it keeps the quota, or, where the baseline misses it, does no worse. A margin
    the run cannot measure (NaN) counts as infeasible.
    """
    expected = np.nan_to_num(outcomes.margin[:, 1:], nan=-np.inf).mean(axis=1)
    allowed = np.minimum(np.asarray(baseline_margin, dtype=float), 0.0)
    return np.clip(allowed[None, :] - expected - QUOTA_SLACK, -1e9, 1e9), expected


def expected_cost(cost: np.ndarray, baseline_cost: np.ndarray, basis: str) -> np.ndarray:
    """Mean over the states (the central run, column 0, left out) of the cost [c, s], less the baseline's in
    the same state if incremental."""
    spent = cost - baseline_cost[None, :] if basis == "incremental" else cost
    return spent[:, 1:].mean(axis=1)
