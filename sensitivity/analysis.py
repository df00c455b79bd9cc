"""Sampling and the indices: SALib's Sobol and Morris, plus convergence and time-resolved total indices."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from scipy.stats import norm

from .study import Study


def sample(study: Study, method: str = "sobol") -> np.ndarray:
    """The study's sample: Sobol' sequence (scrambled, seeded) or Morris trajectories."""
    problem = study.problem()
    if method == "morris":
        unbounded = [n for n, d in zip(problem["names"], problem["dists"], strict=True) if d == "norm"]
        if unbounded:
            raise ValueError(f"Morris needs bounded distributions: give {unbounded[0]} a `range`")
        return morris_sample.sample(problem, study.morris.trajectories, num_levels=study.morris.levels,
                                    seed=study.seed)
    return sobol_sample.sample(problem, study.samples, calc_second_order=study.second_order,
                               scramble=True, seed=study.seed)


def block(study: Study) -> int:
    """Rows per base sample in SALib's Sobol layout: A, AB_1..AB_D, [BA_1..BA_D,] B (D factors: groups)."""
    dimensions = len(study.factors)
    return 2 * dimensions + 2 if study.second_order else dimensions + 2


def independent_rows(study: Study, runs: int) -> np.ndarray:
    """The rows of SALib's Sobol layout that are independent draws: A and B of every base sample."""
    step = block(study)
    return np.sort(np.r_[0:runs:step, step - 1:runs:step])


def _resampled_means(y: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the first axis, and the same mean in every bootstrap resample: (...), (R, ...)."""
    return y.mean(axis=0), np.tensordot(weights, y, axes=(0, 0))


def bootstrap_indices(study: Study, outcomes: np.ndarray, resamples: int = 100,
                      conf_level: float = 0.95) -> dict[str, np.ndarray]:
    """SALib.analyze.sobol's estimates and bootstrap intervals, for all outcome columns at once.

    Same centring, estimators (Saltelli et al. 2010 for S1/ST, Saltelli 2002 for S2) and resample
    indices (drawn from `seed + 1` as SALib draws them) as `sobol.analyze`; a test holds the two equal.
    SALib indexes the resamples pair by pair and took 10-14 s per outcome at N=4096, D=17 with second
    order; here a resample mean is a count-weighted mean, (R, N) @ (N, ...), over all outcomes.
    Returns S1, S1_conf, ST, ST_conf (D, K) and, with second order, S2, S2_conf (D, D, K), NaN below
    the diagonal. Constant outcomes get zero indices.
    """
    dimensions, step = len(study.factors), block(study)
    spread = outcomes.std(axis=0)
    varies = spread > np.finfo(float).eps * np.maximum(1, np.abs(outcomes).max(axis=0))
    y = np.where(varies, (outcomes - outcomes.mean(axis=0)) / np.where(varies, spread, 1), 0.0)
    shaped = y.reshape(len(y) // step, step, -1)
    n = len(shaped)
    a, b, ab = shaped[:, 0], shaped[:, -1], shaped[:, 1:dimensions + 1]
    draws = np.random.default_rng(study.seed + 1).integers(n, size=(n, resamples))   # SALib ignores seed 0
    weights = np.zeros((n, resamples))
    np.add.at(weights, (draws, np.arange(resamples)), 1.0 / n)
    first_moment, first_moment_r = _resampled_means((a + b) / 2, weights)
    second_moment, second_moment_r = _resampled_means((a**2 + b**2) / 2, weights)
    variance = np.where(varies, second_moment - first_moment**2, 1.0)
    variance_r = np.where(varies, second_moment_r - first_moment_r**2, 1.0)
    z = norm.ppf(0.5 + conf_level / 2)

    def index(terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        point, resampled = _resampled_means(terms, weights)
        extra = (slice(None),) + (np.newaxis,) * (terms.ndim - 2)
        return (np.where(varies, point / variance[extra[1:]], 0.0),
                np.where(varies, resampled / variance_r[extra], 0.0))

    s1, s1_r = index(b[:, np.newaxis] * (ab - a[:, np.newaxis]))
    st, st_r = index(0.5 * (a[:, np.newaxis] - ab) ** 2)
    result = {"S1": s1, "S1_conf": z * s1_r.std(axis=0, ddof=1),
              "ST": st, "ST_conf": z * st_r.std(axis=0, ddof=1)}
    if study.second_order:
        ba = shaped[:, dimensions + 1:2 * dimensions + 1]
        result["S2"] = np.full((dimensions, dimensions, y.shape[1]), np.nan)
        result["S2_conf"] = result["S2"].copy()
        for j in range(dimensions - 1):
            v, v_r = index(ba[:, [j]] * ab[:, j + 1:] - (a * b)[:, np.newaxis])
            result["S2"][j, j + 1:] = v - s1[[j]] - s1[j + 1:]
            result["S2_conf"][j, j + 1:] = z * (v_r - s1_r[:, [j]] - s1_r[:, j + 1:]).std(axis=0, ddof=1)
    return result


def sobol_indices(study: Study, outcomes: np.ndarray, labels: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """S1, ST (and S2) with 95 % bootstrap intervals for every outcome column.

    Returns the first/total table (outcome, parameter, S1, S1_conf, ST, ST_conf) and the
    second-order table (outcome, parameter, other, S2, S2_conf; empty without second order).
    """
    # an outcome with NaN runs (the model left its valid range) gets NaN indices, the others still count
    finite = np.isfinite(outcomes).all(axis=0)
    names = study.factors
    shapes = {"S1": (len(names),), "ST": (len(names),), "S2": (len(names), len(names))}
    found = {key + suffix: np.full((*shape, len(labels)), np.nan) for key, shape in shapes.items()
             for suffix in ("", "_conf")}
    if finite.any():
        for key, value in bootstrap_indices(study, outcomes[:, finite]).items():
            found[key][..., finite] = value
    keys = ("S1", "S1_conf", "ST", "ST_conf")
    first_total = pd.concat([pd.DataFrame({"outcome": label, "parameter": names,
                                           **{key: found[key][:, k] for key in keys}})
                             for k, label in enumerate(labels)], ignore_index=True)
    columns = ["outcome", "parameter", "other", "S2", "S2_conf"]
    if not study.second_order:
        return first_total, pd.DataFrame(columns=columns)
    j, i = np.triu_indices(len(names), 1)
    second = pd.concat([pd.DataFrame({"outcome": label, "parameter": np.array(names)[j],
                                      "other": np.array(names)[i], "S2": found["S2"][j, i, k],
                                      "S2_conf": found["S2_conf"][j, i, k]})
                        for k, label in enumerate(labels)], ignore_index=True)
    return first_total, second


def point_indices(study: Study, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """S1 and ST without bootstrap for y of shape (rows, ...): arrays (D, ...).

    The Saltelli et al. (2010) estimators SALib uses, applied along the first axis, so every year
    of a time series is analysed at once.
    """
    dimensions, step = len(study.factors), block(study)
    shaped = y.reshape(len(y) // step, step, *y.shape[1:])
    a, b = shaped[:, 0], shaped[:, -1]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Cc]onstant.*")
        first = np.stack([sobol.first_order(a, shaped[:, 1 + j], b) for j in range(dimensions)])
        total = np.stack([sobol.total_order(a, shaped[:, 1 + j], b) for j in range(dimensions)])
    return first, total


def convergence(study: Study, outcomes: np.ndarray, labels: list[str]) -> pd.DataFrame:
    """S1 and ST from the first N/4, N/2 and all N base samples (Sobol' prefixes stay balanced)."""
    step, rows = block(study), []
    for size in (study.samples // 4, study.samples // 2, study.samples):
        if size < 4:
            continue
        first, total = point_indices(study, outcomes[: size * step])
        for j, name in enumerate(study.factors):
            rows += [{"outcome": label, "parameter": name, "samples": size,
                      "S1": first[j, k], "ST": total[j, k]} for k, label in enumerate(labels)]
    return pd.DataFrame(rows)


def unsettled(table: pd.DataFrame, tolerance: float = 0.05) -> pd.DataFrame:
    """(outcome, parameter) pairs whose S1 or ST moved by more than `tolerance` from N/2 to N."""
    wide = table.pivot_table(index=["outcome", "parameter"], columns="samples", values=["S1", "ST"])
    sizes = sorted(wide.columns.get_level_values("samples").unique())
    if len(sizes) < 2:
        return pd.DataFrame(columns=["outcome", "parameter", "change"])
    half, full = sizes[-2:]
    change = (wide.xs(half, axis=1, level="samples") - wide.xs(full, axis=1, level="samples")).abs()
    change = change.max(axis=1)
    moved = change[change > tolerance].rename("change").reset_index()
    return moved.sort_values("change", ascending=False, ignore_index=True)


def time_resolved(study: Study, series: np.ndarray, names: list[str], years: list[int]) -> pd.DataFrame:
    """ST of every parameter for every series (rows, S, T) in every year: long table."""
    _, total = point_indices(study, series)
    index = pd.MultiIndex.from_product([study.factors, names, years],
                                       names=["parameter", "indicator", "year"])
    return pd.DataFrame({"ST": total.reshape(-1)}, index=index).reset_index()


def morris_indices(study: Study, X: np.ndarray, outcomes: np.ndarray, labels: list[str]) -> pd.DataFrame:
    """Elementary effects (mu, mu*, its 95 % interval, sigma) for every outcome column."""
    tables = []
    for column, label in enumerate(labels):
        result = morris_analyze.analyze(study.problem(), X, outcomes[:, column],
                                        num_levels=study.morris.levels, num_resamples=100, conf_level=0.95,
                                        seed=study.seed + 1)  # SALib ignores seed 0
        tables.append(pd.DataFrame({"outcome": label, "parameter": study.factors,
                                    **{k: np.asarray(result[k], dtype=float)
                                       for k in ("mu", "mu_star", "mu_star_conf", "sigma")}}))
    return pd.concat(tables, ignore_index=True)
