"""The many-objective search: pymoo's NSGA-II through ask and tell, one evaluation call per generation,
with a checkpoint after every generation so that a killed search resumes without losing one.

The checkpoint holds the algorithm's state as arrays (`_state`: the population's decisions, objectives,
constraints, ranks and crowding distances, the random generator's state, the generation count) and the
archive of every candidate evaluated; `_restore` rebuilds the algorithm from them, with pymoo's own
evaluator setting what it derives (violations, feasibility). Evaluation is deterministic, so a resumed
search makes the same choices as an uninterrupted one and ends with the same front (tested bit for bit).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.evaluator import Evaluator
from pymoo.core.problem import Problem
from pymoo.problems.static import StaticProblem
from tqdm import tqdm

from .checkpoint import Checkpoint, CheckpointError

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
    algorithm = NSGA2(pop_size=settings.population, sampling=settings.initial, eliminate_duplicates=True)
    algorithm.setup(space, termination=("n_gen", settings.generations), seed=settings.seed, verbose=False)
    try:
        archive = Archive() if saved is None else _restore(algorithm, space, *saved)
    except (KeyError, ValueError, TypeError, IndexError) as error:
        raise CheckpointError(f"{checkpoint.path}: the search state in it does not fit this study "
                              f"({type(error).__name__}: {error}); rerun without --resume") from None
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
                checkpoint.save(*_state(algorithm, archive))
            if settings.progress is not None:
                bar.set_postfix(settings.progress(archive.arrays()), refresh=False)
            bar.update(1)
    return archive


POPULATION = ("X", "F", "G")                  # what the population is rebuilt from
PER_MEMBER = ("rank", "crowding", "n_gen", "n_iter")   # what NSGA-II's selection and survival read


def _state(algorithm: NSGA2, archive: Archive) -> tuple[dict, dict[str, np.ndarray]]:
    """(JSON meta, arrays) from which `_restore` rebuilds the algorithm and the archive exactly."""
    population = algorithm.pop
    arrays = {f"pop/{key}": np.asarray(population.get(key), dtype=float) for key in POPULATION + PER_MEMBER}
    for index, generation in enumerate(archive.generations):
        arrays |= {f"archive/{index}/{key}": np.asarray(value) for key, value in generation.items()}
    meta = {"n_iter": int(algorithm.n_iter), "random_state": algorithm.random_state.bit_generator.state,
            "force_termination": bool(algorithm.termination.force_termination),
            "archive_keys": [list(g) for g in archive.generations]}
    return meta, arrays


def _restore(algorithm: NSGA2, space: DecisionSpace, meta: dict, arrays: dict[str, np.ndarray]) -> Archive:
    """Set a freshly set-up `algorithm` to the saved state; return the saved archive."""
    from pymoo.core.population import Population

    population = Population.new(X=arrays["pop/X"])
    Evaluator().eval(StaticProblem(space, F=arrays["pop/F"], G=arrays["pop/G"]), population)
    for key in PER_MEMBER:
        values = arrays[f"pop/{key}"]
        population.set(key, values.astype(int) if key != "crowding" else values)
    archive = Archive([{key: arrays[f"archive/{index}/{key}"] for key in keys}
                       for index, keys in enumerate(meta["archive_keys"])])
    algorithm.random_state.bit_generator.state = meta["random_state"]
    algorithm.pop, algorithm.is_initialized, algorithm.start_time = population, True, time.time()
    algorithm.n_iter = int(meta["n_iter"]) - 1          # as pymoo's _post_advance left it, before its +1
    algorithm._set_optimum()
    algorithm.termination.force_termination = bool(meta["force_termination"])
    algorithm.termination.update(algorithm)
    algorithm.n_iter += 1
    return archive
