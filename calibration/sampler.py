"""Markov chain Monte Carlo with emcee's ensemble sampler: checkpointed, resumable, convergence-checked.

The walkers move by differential-evolution proposals (ter Braak 2006; emcee's DEMove), which keep mixing in
a few dozen dimensions where the stretch move slows down. emcee splits the walkers in two halves that move in
turn, so the model runs twice per step, each time for half the walkers in one ensemble call
(`vectorize=True`): a call costs about the same for 30 runs or 150 (the engine's time goes into stepping
through the equations, not into the runs), so steps, not walkers, are what a fit pays for.

Every `check_every` steps the run estimates the integrated autocorrelation time tau of each constant
(emcee.autocorr, Goodman and Weare 2010) over the second half of the chain, and stops when the chain is at
least `converged_taus` times the largest tau long and tau moved by less than `tau_tolerance` since the last
check (emcee's documented criterion), or at `max_steps`. The checkpoint, written then and on Ctrl-C, is
arrays (chain.npz) and JSON (state.json, with the random generator's state): never pickle, so a folder
someone else wrote cannot run code here. A resumed run repeats an uninterrupted one exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import emcee
import numpy as np
import pandas as pd
from tqdm import tqdm  # not tqdm.auto: in a notebook without ipywidgets it warns on import

from nxmfg.model import files

LogProbability = Callable[[np.ndarray], np.ndarray]
CHAIN, STATE = "chain.npz", "state.json"


@dataclass
class Chain:
    """The walkers' positions and log posterior at every step, and what the checks found."""
    buffer: np.ndarray             # (max steps, walkers, parameters); the first `steps` are filled
    log_buffer: np.ndarray         # (max steps, walkers)
    accepted: np.ndarray           # (walkers,) moves accepted
    steps: int = 0
    taus: list[list[float]] = field(default_factory=list)   # tau per parameter at each check
    converged: bool = False
    checked_at: int = 0            # steps at the last check

    @property
    def positions(self) -> np.ndarray:
        return self.buffer[:self.steps]

    @property
    def log_prob(self) -> np.ndarray:
        return self.log_buffer[:self.steps]

    @property
    def acceptance(self) -> float:
        """Share of proposed moves accepted, over walkers and steps."""
        return float(self.accepted.mean() / max(self.steps, 1))

    def add(self, coords: np.ndarray, log_prob: np.ndarray, previous: np.ndarray) -> None:
        self.accepted += np.any(coords != previous, axis=1)   # a rejected walker keeps its exact position
        self.buffer[self.steps], self.log_buffer[self.steps] = coords, log_prob
        self.steps += 1


def moves() -> list:
    """Differential evolution (emcee's DEMove: gamma = 2.38 / sqrt(2 d), a small jitter). Its snooker variant
    splits the walkers in four, twice the model calls a step, so it is left out."""
    return [emcee.moves.DEMove()]


def run(log_prob: LogProbability, start: np.ndarray, settings: dict, seed: int, checkpoint: Path | None = None,
        fingerprint: dict | None = None, progress: bool = True) -> Chain:
    """Sample from `start` (walkers x parameters), or go on from `checkpoint` if it holds a chain of the same
    `fingerprint` (the problem's identity: model, data, priors, seed, settings)."""
    walkers, dimensions = start.shape
    total, every = int(settings["max_steps"]), int(settings["check_every"])
    fingerprint = {"walkers": walkers, "parameters": dimensions, "seed": seed} | (fingerprint or {})
    chain, state = _resumed(checkpoint, fingerprint, total) if checkpoint else (None, None)
    if chain is not None:
        _judge(chain, settings)       # under this run's criteria: a resumed run stops where a whole one would
    else:
        chain = Chain(np.empty((total, walkers, dimensions)), np.empty((total, walkers)), np.zeros(walkers))
        state = emcee.State(start, random_state=np.random.RandomState(seed).get_state())
    sampler = emcee.EnsembleSampler(walkers, dimensions, log_prob, vectorize=True, moves=moves())
    sampler.log_prob_fn = log_prob   # emcee's wrapper prints every walker's position on any exception (Ctrl-C)
    with tqdm(total=total, initial=chain.steps, desc="posterior: emcee", unit="step", disable=not progress) as bar:
        try:
            while chain.steps < total and not chain.converged:
                for new in sampler.sample(state, iterations=1, store=False, skip_initial_state_check=True):
                    chain.add(new.coords, new.log_prob, state.coords)
                    state = emcee.State(new, copy=True)
                bar.update(1)
                bar.set_postfix(acceptance=f"{chain.acceptance:.2f}",
                                tau=f"{max(chain.taus[-1]):.0f}" if chain.taus else "-")
                if chain.steps % every == 0:
                    _check(chain, settings)
                    _save(checkpoint, chain, state, fingerprint)
        except KeyboardInterrupt:
            _save(checkpoint, chain, state, fingerprint)   # `state`: the last whole step and its generator
            raise
    if not chain.taus or chain.checked_at != chain.steps:
        _check(chain, settings)
        _save(checkpoint, chain, state, fingerprint)
    return chain


def autocorrelation_times(positions: np.ndarray) -> np.ndarray:
    """tau per parameter over the second half of the chain (steps, walkers, parameters); tol=0: an estimate
    even where the chain is short, which the convergence criterion then judges."""
    half = positions[len(positions) // 2:]
    with np.errstate(invalid="ignore", divide="ignore"):     # a walker that never moved has no variance
        taus = emcee.autocorr.integrated_time(half, tol=0, quiet=True)
    return np.where(np.isfinite(taus), taus, float(len(half)))   # unknown: as long as the chain, not converged


def _check(chain: Chain, settings: dict) -> None:
    chain.taus.append([float(t) for t in autocorrelation_times(chain.positions)])
    chain.checked_at = chain.steps
    _judge(chain, settings)


def _judge(chain: Chain, settings: dict) -> None:
    """Converged: at least `converged_taus` times the largest tau long, and tau steady since the last check."""
    if len(chain.taus) < 2 or chain.checked_at != chain.steps:
        chain.converged = False
        return
    taus, last = np.asarray(chain.taus[-1]), np.asarray(chain.taus[-2])
    long_enough = chain.steps >= settings["converged_taus"] * np.max(taus)
    chain.converged = bool(long_enough and np.all(np.abs(taus - last) <= settings["tau_tolerance"] * taus))


def burn_in_and_thinning(chain: Chain) -> tuple[int, int]:
    """Discard 2 x the largest tau, keep every (tau_min / 2)-th step (emcee's documentation)."""
    taus = np.asarray(chain.taus[-1]) if chain.taus else autocorrelation_times(chain.positions)
    return min(int(np.ceil(2 * taus.max())), chain.steps - 1), max(1, int(0.5 * taus.min()))


def pool(chain: Chain, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(step, walker) of every draw of the posterior after burn-in and thinning, in a seeded random order (so
    that the first k are a random subset of k)."""
    burn, thin = burn_in_and_thinning(chain)
    step, walker = np.meshgrid(np.arange(burn, chain.steps, thin), np.arange(chain.positions.shape[1]),
                               indexing="ij")
    order = rng.permutation(step.size)
    return step.ravel()[order], walker.ravel()[order]


def draws(chain: Chain, retained: int, rng: np.random.Generator) -> np.ndarray:
    """Up to `retained` draws of the posterior after burn-in and thinning, a random subset of the pool."""
    step, walker = pool(chain, rng)
    return chain.positions[step[:retained], walker[:retained]]


def _save(folder: Path | None, chain: Chain, state: emcee.State, fingerprint: dict) -> None:
    """chain.npz, then state.json (which names the step count the arrays must have): each atomic."""
    if folder is None or chain.steps == 0:
        return
    folder.mkdir(parents=True, exist_ok=True)
    name, keys, position, has_gauss, cached = state.random_state
    with files.atomic_path(folder / CHAIN) as temporary, open(temporary, "wb") as handle:
        np.savez(handle, positions=chain.positions, log_prob=chain.log_prob, accepted=chain.accepted,
                 keys=np.asarray(keys, np.uint32))
    record = {"fingerprint": fingerprint, "steps": chain.steps, "taus": chain.taus, "checked_at": chain.checked_at,
              "random_state": {"name": name, "position": int(position), "has_gauss": int(has_gauss),
                               "cached_gaussian": float(cached)}}
    files.write_text(folder / STATE, json.dumps(record, indent=1))


def _resumed(folder: Path, fingerprint: dict, total: int) -> tuple[Chain | None, emcee.State | None]:
    """The checkpoint's chain and last state if it is there, whole and of this problem; else (None, None)."""
    try:
        record = json.loads((folder / STATE).read_text(encoding="utf-8"))
        with np.load(folder / CHAIN, allow_pickle=False) as arrays:
            positions, log_prob = arrays["positions"], arrays["log_prob"]
            accepted, keys = arrays["accepted"], arrays["keys"]
        rs = record["random_state"]
        random_state = (rs["name"], keys, rs["position"], rs["has_gauss"], rs["cached_gaussian"])
    except (OSError, ValueError, KeyError, TypeError):
        return None, None
    steps = len(positions)
    if record.get("fingerprint") != json.loads(json.dumps(fingerprint)) or steps != record.get("steps") \
            or steps == 0:
        return None, None
    total = max(total, steps)         # a budget lowered below the chain's length ends the run where it is
    chain = Chain(np.empty((total, *positions.shape[1:])), np.empty((total, positions.shape[1])), accepted, steps,
                  record["taus"], False, record["checked_at"])
    chain.buffer[:steps], chain.log_buffer[:steps] = positions, log_prob
    return chain, emcee.State(positions[-1], log_prob=log_prob[-1], random_state=random_state)


def diagnostics(chain: Chain, names: list[str]) -> pd.DataFrame:
    """Per constant: autocorrelation time, rank-normalised split R-hat and bulk and tail effective sample
    sizes (Vehtari et al. 2021, by ArviZ's arviz-stats) over the chain after burn-in, the walkers taken as
    chains (as ArviZ's from_emcee does; the walkers of an ensemble are not independent, so R-hat is a check
    that every walker sees the same distribution rather than a proof of independent agreement)."""
    from arviz_stats.base import array_stats

    burn, _ = burn_in_and_thinning(chain)
    kept = np.moveaxis(chain.positions[burn:], 1, 0)          # (walkers, steps, parameters)
    taus = chain.taus[-1] if chain.taus else list(autocorrelation_times(chain.positions))
    return pd.DataFrame({"parameter": names, "tau": taus,
                         "r_hat": array_stats.rhat(kept, chain_axis=0, draw_axis=1),
                         "ess_bulk": array_stats.ess(kept, chain_axis=0, draw_axis=1, method="bulk"),
                         "ess_tail": array_stats.ess(kept, chain_axis=0, draw_axis=1, method="tail", prob=0.05)})
