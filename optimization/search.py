"""The many-objective search: pymoo's NSGA-II through ask and tell, one evaluation call per generation,
with a checkpoint after every generation so that a killed search resumes without losing one.

The checkpoint holds the pickled algorithm (its population and its random generator) and the archive of
every candidate evaluated. Evaluation is deterministic, so a resumed search makes the same choices as an
uninterrupted one and ends with the same front.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.evaluator import Evaluator
from pymoo.core.problem import Problem
from pymoo.problems.static import StaticProblem
from tqdm import tqdm

from .checkpoint import Checkpoint

Evaluation = dict[str, np.ndarray]
"""Arrays with one row per candidate: `F` [c, objectives], `G` [c, constraints] (<= 0 feasible), and any
other per-candidate figures to keep in the archive."""


class DecisionSpace(Problem):
    """Bounds and sizes only: candidates are evaluated outside pymoo, a generation at a time."""

    def __init__(self, low: np.ndarray, high: np.ndarray, objectives: int, constraints: int) -> None:
        super().__init__(n_var=len(low), n_obj=objectives, n_ieq_constr=constraints, xl=low, xu=high)


@dataclass
class Archive:
    """Every evaluated candidate, generation by generation."""

    generations: list[Evaluation] = field(default_factory=list)

    def add(self, generation: int, X: np.ndarray, evaluation: Evaluation) -> None:
        self.generations.append({"generation": np.full(len(X), generation), "X": X} | evaluation)

    def arrays(self) -> Evaluation:
        """Each field stacked over all generations."""
        keys = self.generations[0].keys()
        return {key: np.concatenate([g[key] for g in self.generations]) for key in keys}

    def __len__(self) -> int:
        return len(self.generations)


@dataclass(frozen=True)
class Settings:
    """Search sizes and seed; `initial` [population, variables] is the first generation; `progress` turns the
    archive so far into the progress bar's figures."""

    population: int
    generations: int
    seed: int
    initial: np.ndarray
    progress: Callable[[Evaluation], dict[str, str]] | None = None


def search(space: DecisionSpace, evaluate: Callable[[np.ndarray], Evaluation], settings: Settings,
           checkpoint: Checkpoint | None = None, progress: bool = True) -> Archive:
    """Run (or resume from `checkpoint`) the search; return the archive of every evaluated candidate.

    evaluate: candidates' decision vectors [c, variables] -> Evaluation (one call per generation).
    """
    saved = checkpoint.load() if checkpoint is not None else None
    if saved is None:
        algorithm = NSGA2(pop_size=settings.population, sampling=settings.initial, eliminate_duplicates=True)
        algorithm.setup(space, termination=("n_gen", settings.generations), seed=settings.seed, verbose=False)
        archive = Archive()
    else:
        algorithm, archive = saved
    with tqdm(total=settings.generations, initial=len(archive), unit="gen", desc="optimize",
              disable=not progress, dynamic_ncols=True) as bar:
        while algorithm.has_next():
            population = algorithm.ask()
            X = population.get("X")
            evaluation = evaluate(X)
            Evaluator().eval(StaticProblem(space, F=evaluation["F"], G=evaluation["G"]), population)
            algorithm.tell(infills=population)
            archive.add(len(archive), X, evaluation)
            if checkpoint is not None:
                checkpoint.save(algorithm, archive)
            if settings.progress is not None:
                bar.set_postfix(settings.progress(archive.arrays()), refresh=False)
            bar.update(1)
    return archive
