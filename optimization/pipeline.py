"""An optimisation study from file to finished search: resolve and check the inputs, evaluate the baseline
and the plan in every state of the world, search, and gather what the outputs are made of."""

from __future__ import annotations

import time
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path

import numpy as np
from scipy.stats import qmc

from nxmfg.calibration.fits import Fit
from nxmfg.calibration.states import States
from nxmfg.scenarios import Scenario, Target

from . import search as searching
from .checkpoint import Checkpoint
from .evaluate import Evaluator, Outcomes, expected_cost, objectives, quota_constraints
from .packages import Space, level_of, step_of
from .study import Study, StudyError, check, read

REFERENCES = ("baseline", "plan")   # evaluated in every state beside the candidates, for comparison


@dataclass
class Setup:
    """A study resolved against the model: everything a search needs, checked once."""

    path: Path
    study: Study
    fit: Fit
    targets: list[Target]          # the study's targets, in study order
    quotas: list[Target]           # the study's quotas as targets (id Q-...): constraints, not objectives
    modelled: list[Target]         # every modelled target (the reachability table covers them all)
    states: States
    space: Space
    references: dict[str, Scenario]
    evaluator: Evaluator
    fingerprint: str
    context: dict


@dataclass
class Outcome:
    """A finished search: every evaluated candidate (`archive`: decoded X, objectives, P(met) per study
    target, costs, central-state figures), the references' figures (also P(met) of every modelled target)."""

    setup: Setup
    archive: dict[str, np.ndarray]
    references: dict[str, dict[str, np.ndarray]]
    runs: int
    seconds: float


def prepare(path: Path | str, fit: Fit, references: dict[str, Scenario], scheduler: str | None = None) -> Setup:
    """Read, check and resolve the study file `path` (StudyError or ScenarioError naming file and field).

    fit: the fit every run starts from (its draws give the states of the world); references:
    {"baseline": ..., "plan": ...}, evaluated in every state for comparison.
    """
    from nxmfg import model, scenarios
    from nxmfg.api import inputs
    from nxmfg.calibration import states as worlds_states
    from nxmfg.calibration.fits import sha256
    from nxmfg.scenarios import plan_units
    from nxmfg.model.indicators import INDICATORS

    path = Path(path)
    study = read(path)                              # shape first: a typo needs no model
    if fit.ensemble is None:
        raise StudyError(path, "states", f"the fit {fit.path} has no parameter sets (posterior draws) beside it "
                         "to draw the states of the world from")
    own = (path.parent / study.targets_file) if study.targets_file else None
    if own is not None and not own.exists():
        raise StudyError(path, "targets_file", f"no such targets file {own}")
    every = scenarios.load_own_targets(own, "extend") if own else scenarios.load_targets()
    scenarios.check_targets(every, INDICATORS, model.constants().index, own or scenarios.TARGETS)
    check(path, study, model.constants(), {t.id: t for t in every})
    by_id = {t.id: t for t in every}
    targets = [by_id[target_id] for target_id in study.targets]
    quotas = [quota.target(name) for name, quota in study.quotas.items()]
    baseline = model.constants()["value"].to_dict() | fit.values
    states = worlds_states.draw(fit, count=study.state_count)
    window = (study.levers_from, max(t.year for t in targets) + 1)
    evaluator = Evaluator(targets + quotas, fit, states, baseline, window, inputs.history(), scheduler)
    steps = {name: step_of(lever, plan_units.plan_unit(name, model.constants()).step)
             for name, lever in study.levers.items()}
    context = {"model_version": model.version(), "fit": fit.record(), "steps": steps,
               "ensemble_sha256": sha256(fit.ensemble) if fit.ensemble else None, "states": states.record(),
               "targets": [t.model_dump(mode="json") for t in targets],
               "references": {k: s.model_dump(mode="json", by_alias=True) for k, s in references.items()}}
    modelled = [t for t in every if t.kind == "modelled"]
    return Setup(path, study, fit, targets, quotas, modelled, states, Space(study, baseline, steps), references, evaluator,
                 study.fingerprint(**context), context)


def run(setup: Setup, folder: Path, resume: bool = False, progress: bool = True) -> Outcome:
    """Search (resuming from folder's checkpoint if asked); the checkpoint is kept in `folder`."""
    started = time.perf_counter()
    study, space = setup.study, setup.space
    references = _references(setup)
    baseline_cost = references["baseline"]["state_cost"]
    quota_base = references["baseline"]["quota_expected"]

    def evaluate(X: np.ndarray) -> dict[str, np.ndarray]:
        decoded = space.decode(X)
        packages = [space.scenario(x, f"candidate_{i}", "a candidate", setup.references["baseline"])
                    for i, x in enumerate(decoded)]
        return figures(setup.evaluator(packages), setup, baseline_cost, quota_base) | {"decoded": decoded}

    settings = searching.Settings(study.population, study.generations, study.seed, initial_population(setup),
                                  progress=_progress)
    low, high = space.bounds
    problem = searching.DecisionSpace(low, high, 3, len(setup.quotas) + (study.budget_cap is not None))
    archive = searching.search(problem, evaluate, settings, Checkpoint(folder, setup.fingerprint, resume), progress)
    runs = (len(archive.arrays()["F"]) + len(REFERENCES)) * (setup.states.count + 1)
    return Outcome(setup, archive.arrays(), references, runs, time.perf_counter() - started)


def _progress(archive: dict[str, np.ndarray]) -> dict[str, str]:
    """The progress bar's figures: the best of each objective found so far."""
    F = archive["F"]
    return {"best objective": f"{-F[:, 0].min():.3g}", "robust": f"{-F[:, 2].min():.3g}",
            "cheapest": f"{F[:, 1].min():.4g}"}


def figures(outcomes: Outcomes, setup: Setup, baseline_cost: np.ndarray,
            quota_base: np.ndarray | None = None) -> dict:
    """What the archive keeps per candidate: objectives, constraints, P(met) per target, expected costs, the
    quotas' expected margins and P(met), and the central run's (run 0) margins, values and cost, which
    `nxmfg simulate` of the package reproduces.

    outcomes: judged on the study's targets, then its quotas (setup.evaluator's order); quota_base: the
    baseline's expected quota margins (None: the baseline itself is being judged, so it sets them)."""
    study, n = setup.study, len(setup.targets)
    own, quota = (Outcomes(outcomes.margin[..., part], outcomes.met[..., part], outcomes.cost,
                           outcomes.value[..., part]) for part in (slice(0, n), slice(n, None)))
    F, G = objectives(own, study, setup.targets, baseline_cost)
    if quota_base is None:
        quota_base = np.nan_to_num(quota.margin[0, 1:], nan=-np.inf).mean(axis=0)
    limits, expected = quota_constraints(quota, quota_base)
    return {"F": F, "G": np.hstack([G, limits]), "probability": own.probability,
            "quota_expected": expected, "quota_p_met": quota.probability,
            "cost": expected_cost(own.cost, baseline_cost, study.cost),
            "cost_total": expected_cost(own.cost, baseline_cost, "total"),
            "cost_incremental": expected_cost(own.cost, baseline_cost, "incremental"),
            "central_margin": own.margin[:, 0, :], "central_value": own.value[:, 0, :],
            "central_met": own.met[:, 0, :], "central_cost": own.cost[:, 0]}


def _references(setup: Setup) -> dict[str, dict[str, np.ndarray]]:
    """The baseline and the plan in every state, judged on every modelled target (history included) and the
    study's quotas; the baseline (the first) sets what the quotas allow where it misses them itself."""
    evaluator = setup.evaluator
    every = Evaluator(setup.modelled + setup.quotas, evaluator.fit, setup.states, evaluator.baseline,
                      evaluator.cost_window, evaluator.history, evaluator.scheduler)
    outcomes = every([setup.references[name] for name in REFERENCES])
    chosen = [setup.modelled.index(t) for t in setup.targets] + list(range(len(setup.modelled), len(every.targets)))
    study_only = Outcomes(outcomes.margin[..., chosen], outcomes.met[..., chosen], outcomes.cost,
                          outcomes.value[..., chosen])
    found = figures(study_only, setup, outcomes.cost[0])
    modelled = slice(0, len(setup.modelled))
    return {name: {key: values[i] for key, values in found.items()}
            | {"probability_all": outcomes.probability[i, modelled], "state_cost": outcomes.cost[i]}
            for i, name in enumerate(REFERENCES)}


def initial_population(setup: Setup) -> np.ndarray:
    """The first generation: the baseline's and the plan's levels (clipped to the ranges), every lever at
    its high end and at its low end (each distinct one once), and a Latin hypercube over the ranges for the rest."""
    space, study = setup.space, setup.study
    plan = {name: level_of(lever) for name, lever in setup.references["plan"].levers.items()}
    low, high = space.bounds
    seeds = np.array([space.encode({}), space.encode(plan), low.copy(), high.copy()])
    _, first = np.unique(space.decode(seeds), axis=0, return_index=True)   # with floors the baseline is the low end
    seeds = seeds[np.sort(first)][:study.population]
    rest = study.population - len(seeds)
    if rest <= 0:
        return seeds
    unit = qmc.LatinHypercube(d=len(low), seed=np.random.default_rng([study.seed, 2])).random(rest)
    return np.vstack([seeds, low + unit * (high - low)])


def versions() -> dict[str, str]:
    return {name: package_version(name) for name in ("pymoo", "numpy")}
