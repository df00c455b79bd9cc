"""From a finished search to the planner's answers: the Pareto set, the cheapest package for each number of
robustly met targets, what it changes against the plan, and how reachable each target is."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from nxmfg.calibration.verdict_shares import decided_by_assumptions

from .packages import at_bounds, level_of
from .pipeline import Outcome, Setup
from .study import LAST_DATA_YEAR

FLAGS = ("unreachable", "met in every case", "decided by history", "lever-dependent", "not lever-dependent",
         "not in the study", "no package keeps the quotas")


def unique_candidates(archive: dict[str, np.ndarray]) -> np.ndarray:
    """Indices of the first evaluation of each distinct package (a package evaluated twice scores the same)."""
    _, first = np.unique(archive["decoded"], axis=0, return_index=True)
    return np.sort(first)


def within_quotas(archive: dict[str, np.ndarray]) -> np.ndarray:
    """`unique_candidates` that keep the study's quotas (G's last columns; the budget cap, the first, may be
    broken: the reachability table says so in `within_budget_cap`)."""
    chosen = unique_candidates(archive)
    quotas = archive["quota_expected"].shape[1]
    return chosen[(archive["G"][chosen, -quotas:] <= 0).all(axis=1)] if quotas else chosen


def pareto_indices(archive: dict[str, np.ndarray]) -> np.ndarray:
    """Archive indices of the non-dominated feasible packages, one per distinct objective vector, by cost."""
    chosen = unique_candidates(archive)
    chosen = chosen[(archive["G"][chosen] <= 0).all(axis=1)]
    if not len(chosen):
        return chosen
    front = chosen[NonDominatedSorting().do(archive["F"][chosen], only_non_dominated_front=True)]
    _, first = np.unique(archive["F"][front], axis=0, return_index=True)
    front = front[np.sort(first)]
    order = np.lexsort((archive["F"][front, 0], archive["cost"][front]))
    return front[order]


def robust_count(probability: np.ndarray, odds: float) -> np.ndarray:
    """Targets met with odds >= `odds` (unweighted), per row of P(met)."""
    return (probability >= odds - 1e-12).sum(axis=-1)


def pareto_table(outcome: Outcome) -> pd.DataFrame:
    """One row per Pareto package: id, lever values, costs, expected and robust targets met, P(met) per target."""
    setup, archive = outcome.setup, outcome.archive
    index = pareto_indices(archive)
    table = package_table(setup, archive, index)
    return table.assign(package=[f"package_{i + 1:03d}" for i in range(len(index))]).set_index("package")


def package_table(setup: Setup, archive: dict[str, np.ndarray], index: np.ndarray) -> pd.DataFrame:
    """Lever values and figures of archive rows `index` (also the column `archive_row`)."""
    levers = setup.space.table(archive["decoded"][index])
    probability = archive["probability"][index]
    figures = pd.DataFrame({
        "archive_row": index,
        "cost_expected": archive["cost"][index],
        "cost_total_expected": archive["cost_total"][index],
        "cost_incremental_expected": archive["cost_incremental"][index],
        "targets_met_expected": probability.sum(axis=1),
        f"targets_met_with_{setup.study.met_odds:.0%}_odds": robust_count(probability, setup.study.met_odds),
        "objective": -archive["F"][index, 0],
        "central_targets_met": archive["central_met"][index].sum(axis=1),
        "central_cost_total": archive["central_cost"][index]})
    figures["at_bounds"] = [" ".join(at_bounds(setup.study, row)) for _, row in levers.iterrows()]
    odds = pd.DataFrame(probability, columns=[f"p_met:{t.id}" for t in setup.targets])
    # Each quota's expected margin (the threshold's unit; >= 0 keeps it) and whether the package keeps them all.
    quotas = pd.DataFrame(archive["quota_expected"][index], columns=[f"quota_margin:{q}" for q in setup.study.quotas])
    if setup.quotas:
        quotas["keeps_quotas"] = (archive["G"][index, -len(setup.quotas):] <= 0).all(axis=1)
    return pd.concat([levers, figures, odds, quotas], axis=1)


def central_table(outcome: Outcome, pareto: pd.DataFrame) -> pd.DataFrame:
    """Per Pareto package and target, the central run's value, margin and met: what `nxmfg simulate` prints."""
    archive, targets = outcome.archive, outcome.setup.targets
    rows = []
    for package, row in zip(pareto.index, pareto["archive_row"], strict=True):
        for j, target in enumerate(targets):
            rows.append({"package": package, "id": target.id, "year": target.year,
                         "value": archive["central_value"][row, j], "threshold": target.threshold,
                         "direction": target.direction, "margin": archive["central_margin"][row, j],
                         "met": bool(archive["central_met"][row, j])})
    return pd.DataFrame(rows)


def cheapest_by_count(pareto: pd.DataFrame, odds: float) -> pd.DataFrame:
    """For N = 1.. the most any Pareto package reaches: the cheapest package meeting >= N targets with >= odds."""
    count = pareto[f"targets_met_with_{odds:.0%}_odds"]
    rows = []
    for n in range(1, int(count.max()) + 1 if len(count) else 1):
        able = pareto[count >= n]
        best = able["cost_expected"].idxmin()
        rows.append({"targets": n, "package": best, "cost_expected": able.at[best, "cost_expected"]})
    return pd.DataFrame(rows, columns=["targets", "package", "cost_expected"])


def plan_levels(setup: Setup) -> dict[str, float]:
    """Each study lever's level in the plan (its value or last path point), the baseline's where it sets none."""
    plan = setup.references["plan"].levers
    return {name: level_of(plan[name]) if name in plan else float(setup.space.baseline[name])
            for name in setup.study.levers}


def differences(setup: Setup, row: pd.Series, share: float = 0.1) -> list[tuple[str, float, float]]:
    """(lever, package level, plan level) where they differ by more than `share` of the lever's range,
    largest difference first."""
    plan = plan_levels(setup)
    found = []
    for name, lever in setup.study.levers.items():
        width = lever.range[1] - lever.range[0]
        gap = abs(row[name] - plan[name]) / width
        if gap > share:
            found.append((gap, name, float(row[name]), plan[name]))
    return [(name, mine, theirs) for _, name, mine, theirs in sorted(found, reverse=True)]


def reachability(outcome: Outcome) -> pd.DataFrame:
    """One row per modelled target: best P(met) any evaluated package within the ranges reaches, the cheapest
    package reaching it (archive row, expected cost), the cheapest package meeting it with the study's odds
    (`robust_row`, `robust_cost_expected`, and `robust_targets`: how many of the study's targets that package
    meets with those odds), the baseline's and the plan's P(met), the best value any package reaches in the
    central run, a flag, and whether the assumed constants decide it."""
    setup, archive, references = outcome.setup, outcome.archive, outcome.references
    rows = []
    chosen = within_quotas(archive)
    study_ids = [t.id for t in setup.targets]
    decided = decided_by_assumptions()
    for k, target in enumerate(setup.modelled):
        row = {"id": target.id, "doc": target.doc, "year": target.year, "target": target.target,
               "baseline_p_met": references["baseline"]["probability_all"][k],
               "plan_p_met": references["plan"]["probability_all"][k],
               "best_p_met": np.nan, "lowest_p_met": np.nan, "cheapest_cost_expected": np.nan,
               "best_value": np.nan, "archive_row": -1, "robust_row": -1, "robust_cost_expected": np.nan,
               "robust_targets": np.nan}
        if target.year <= LAST_DATA_YEAR:
            row |= {"flag": "decided by history", "best_p_met": row["baseline_p_met"],
                    "lowest_p_met": row["baseline_p_met"]}
        elif target.id not in study_ids:
            row["flag"] = "not in the study"
        elif not len(chosen):
            row["flag"] = "no package keeps the quotas"
        else:
            row |= _reach(archive, chosen, study_ids.index(target.id), setup.states.count)
            row |= _robust(archive, chosen, study_ids.index(target.id), setup.study.met_odds)
        row["threshold"] = target.threshold
        cap = setup.study.budget_cap     # the cheapest package reaching the best odds may cost more than the cap
        row["within_budget_cap"] = bool(cap is None or not row["cheapest_cost_expected"] > cap)
        row["decided_by_assumptions"] = decided.get(target.id, pd.NA)
        rows.append(row)
    return pd.DataFrame(rows).astype({"decided_by_assumptions": "boolean"})


def _reach(archive: dict[str, np.ndarray], chosen: np.ndarray, j: int, states: int) -> dict:
    probability = archive["probability"][chosen, j]
    best, lowest = probability.max(), probability.min()
    reaching = chosen[probability >= best - 1e-12]
    cheapest = reaching[np.argmin(archive["cost"][reaching])]
    # The best value any package gives in the central run: what makes an unreachable target's gap concrete.
    margin = archive["central_margin"][chosen, j]
    leader = chosen[np.nanargmax(margin)] if np.isfinite(margin).any() else chosen[0]
    if best == 0:
        flag = "unreachable"
    elif lowest == 1:
        flag = "met in every case"
    elif best - lowest < 1 / states - 1e-12:
        flag = "not lever-dependent"
    else:
        flag = "lever-dependent"
    return {"best_p_met": best, "lowest_p_met": lowest, "flag": flag, "archive_row": int(cheapest),
            "cheapest_cost_expected": archive["cost"][cheapest],
            "best_value": archive["central_value"][leader, j]}


def _robust(archive: dict[str, np.ndarray], chosen: np.ndarray, j: int, odds: float) -> dict:
    """The cheapest package meeting target j with >= `odds`, and how many targets it meets so."""
    meeting = chosen[archive["probability"][chosen, j] >= odds - 1e-12]
    if not len(meeting):
        return {}
    cheapest = meeting[np.argmin(archive["cost"][meeting])]
    return {"robust_row": int(cheapest), "robust_cost_expected": archive["cost"][cheapest],
            "robust_targets": int(robust_count(archive["probability"][cheapest], odds))}


def convergence(archive: dict[str, np.ndarray], every: int = 10) -> pd.DataFrame:
    """Hypervolume of the front found by generation g (every `every`-th and the last), the objectives scaled
    to [0, 1] over the feasible archive and the reference point at 1.1: a front still moving is still growing."""
    from pymoo.indicators.hv import HV

    feasible = (archive["G"] <= 0).all(axis=1)
    F, generation = archive["F"][feasible], archive["generation"][feasible]
    if not len(F):
        return pd.DataFrame(columns=["generation", "hypervolume"])
    low, span = F.min(axis=0), np.maximum(np.ptp(F, axis=0), 1e-12)
    indicator = HV(ref_point=np.full(F.shape[1], 1.1))
    last = int(archive["generation"].max())
    rows = []
    for g in sorted({*range(every - 1, last + 1, every), last}):
        front = F[generation <= g]
        front = front[NonDominatedSorting().do(front, only_non_dominated_front=True)]
        rows.append({"generation": g + 1, "hypervolume": float(indicator((front - low) / span))})
    return pd.DataFrame(rows)
