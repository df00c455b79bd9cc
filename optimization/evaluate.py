"""Candidates x states of the world in one ensemble call, and the search's objectives from the results.

Objectives, all minimised:
  0. minus the expected weighted number of targets met, sum_t w_t P_t(met), with P over the states
     (objective `targets_met`); or minus the weighted mean shortfall, sum_t w_t E[min(margin_t / |threshold_t|, 0)]
     (objective `weighted_margin`, 0 when every target is met in every state);
  1. the expected cumulative fiscal cost [亿元, current prices] from levers_from to the last target year
     (incremental: minus the baseline's cost in the same state; or total);
  2. minus the weighted number of targets met with odds >= met_odds (the robust count).
Constraint: expected cost <= budget_cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from nxmfg import scenarios
from nxmfg.model import ensemble
from nxmfg.model import indicators as model_indicators
from nxmfg.scenarios import Scenario, Target

from .packages import lever_paths
from .states import States
from .study import Study

COST = "fiscal_cost_cumulative_100m_yuan"
OBJECTIVES = ("targets", "cost", "robust")


@dataclass(frozen=True)
class Outcomes:
    """Per candidate (c), state (s) and target (t): margin [c, s, t] (threshold's unit), met [c, s, t]
    (NaN margins count as missed), the cumulative fiscal cost over the study window [c, s] (亿元), and the
    target's measured value [c, s, t]."""

    margin: np.ndarray
    met: np.ndarray
    cost: np.ndarray
    value: np.ndarray

    @property
    def probability(self) -> np.ndarray:
        """P(met) [c, t]: the share of states in which the target is met."""
        return self.met.mean(axis=1)


@dataclass
class Evaluator:
    """Runs packages over the study's states through the ensemble engine.

    fit_values: the fit's constants (the baseline every run starts from); baseline: every constant's
    value before any lever acts (the .mdl's, then the fit's); cost_window: (first, end) years, the cost
    from the start of `first` to the start of `end`, Cum(end) - Cum(first).
    """

    targets: list[Target]
    states: States
    fit_values: dict[str, float]
    baseline: dict[str, float]
    cost_window: tuple[int, int]
    scheduler: str | None = None

    def __call__(self, packages: list[Scenario]) -> Outcomes:
        from nxmfg import model

        count, states = len(packages), self.states.count
        params = dict(self.fit_values) | self.states.repeated(count) | lever_paths(packages, self.baseline, states)
        names = sorted({t.indicator for t in self.targets} | {COST})
        final = max(self.cost_window[1], *(t.year for t in self.targets))
        runs = ensemble.run_translated(
            model.translated(), params, count * states, reduce=partial(model_indicators.compute, names=names),
            control={"final_time": final, "saveper": 1}, scheduler=self.scheduler, progress=False)
        attained = scenarios.attainment_by_run(runs, self.targets)
        margin = attained["margin"].transpose("run", "target").to_numpy().reshape(count, states, -1)
        met = attained["met"].transpose("run", "target").to_numpy().reshape(count, states, -1)
        value = attained["value"].transpose("run", "target").to_numpy().reshape(count, states, -1)
        first, last = self.cost_window
        cumulative = runs[COST]
        cost = (cumulative.sel(year=last) - cumulative.sel(year=first)).to_numpy().reshape(count, states)
        return Outcomes(margin, met & np.isfinite(margin), cost, value)


def objectives(outcomes: Outcomes, study: Study, targets: list[Target],
               baseline_cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F [c, 3] in the order of OBJECTIVES, G [c, 1] the budget constraint (<= 0 feasible; [c, 0] uncapped)).

    baseline_cost: the baseline's cost in each state [s], subtracted for the incremental basis.
    """
    weights = np.array([study.targets[t.id] for t in targets])
    probability = outcomes.probability
    if study.objective == "targets_met":
        first = -(probability * weights).sum(axis=1)
    else:
        scale = np.array([max(abs(t.threshold), 1e-12) for t in targets])
        shortfall = np.minimum(np.nan_to_num(outcomes.margin, nan=-np.inf) / scale, 0.0)
        first = -(np.maximum(shortfall, -1e3) * weights).sum(axis=2).mean(axis=1)
    cost = expected_cost(outcomes.cost, baseline_cost, study.cost)
    robust = -((probability >= study.met_odds - 1e-12) * weights).sum(axis=1)
    G = np.empty((len(cost), 0)) if study.budget_cap is None else (cost - study.budget_cap)[:, None]
    return np.column_stack([first, cost, robust]), G


def expected_cost(cost: np.ndarray, baseline_cost: np.ndarray, basis: str) -> np.ndarray:
    """Mean over states of the cost [c, s], less the baseline's in the same state if incremental."""
    return (cost - baseline_cost[None, :]).mean(axis=1) if basis == "incremental" else cost.mean(axis=1)
