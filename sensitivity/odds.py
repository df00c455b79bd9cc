"""Target odds: how often each target is met over the sampled space, and which levers shift the odds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp


def probabilities(met: np.ndarray, labels: list[str], over: str = "") -> pd.DataFrame:
    """Share of runs meeting each target (columns of `met` that are all NaN are not targets); `over` names
    what the runs vary (`label`)."""
    known = np.isfinite(met)
    rows = [{"outcome": label, "runs": int(known[:, k].sum()), "probability_met": np.nanmean(met[:, k]),
             "over": over} for k, label in enumerate(labels) if known[:, k].any()]
    return pd.DataFrame(rows, columns=["outcome", "runs", "probability_met", "over"])


def label(study, runs: int, screened: tuple[int, int] | None = None) -> str:
    """What a study's odds are over, e.g. "P(met) over 32768 runs: levers over their study ranges, fit
    posterior, assumptions, outlooks" (the states' words: calibration/states.py); `screened` = (kept, of):
    the runs whose state passes the reality checks (calibration/plausible.py)."""
    from nxmfg.calibration.fits import shipped_fit
    from nxmfg.calibration.states import WORDS, fit_words

    parts = ["levers over their study ranges"] if study.levers else []
    parts += [f"`{name}`" for name in study.uncertainties]
    parts += [WORDS["en"][fit_words(shipped_fit()) if group == "fit" else group] for group in study.state_columns]
    text = f"P(met) over {runs} runs: {', '.join(parts)}"
    if screened is None:
        return text
    kept, of = screened
    return text + f"; those whose state passes the reality checks ({kept} of {of})"


def regional_sensitivity(X: np.ndarray, met: np.ndarray, labels: list[str], names: list[str]) -> pd.DataFrame:
    """Kolmogorov-Smirnov distance between each parameter's distribution in met and missed runs.

    Large KS: the parameter separates success from failure (Spear & Hornberger's regional sensitivity).
    `shift` is median(met) - median(missed) in the parameter's units: its sign says which way helps.
    """
    rows = []
    for k, label in enumerate(labels):
        known = np.isfinite(met[:, k])
        if not known.any():
            continue
        hit = met[known, k] > 0.5
        for j, name in enumerate(names):
            x = X[known, j]
            if hit.all() or not hit.any():
                statistic = p_value = shift = np.nan
            else:
                statistic, p_value = ks_2samp(x[hit], x[~hit])
                shift = np.median(x[hit]) - np.median(x[~hit])
            rows.append({"outcome": label, "parameter": name, "ks": statistic, "p_value": p_value,
                         "shift": shift})
    return pd.DataFrame(rows, columns=["outcome", "parameter", "ks", "p_value", "shift"])


def prim_box(X: np.ndarray, met: np.ndarray, names: list[str], threshold: float = 0.8,
             alpha: float = 0.05, min_support: float = 0.05) -> dict:
    """PRIM peeling (Friedman & Fisher 1999): shrink a box over the columns of X until P(met) >= threshold.

    Each step trims the `alpha` tail of one parameter, on the side that raises P(met) most;
    peeling stops at the threshold or when fewer than `min_support` of the runs remain.
    Returns the box {name: (low, high)} of restricted parameters, and density, coverage, support.
    """
    inside = np.ones(len(X), dtype=bool)
    low, high = X.min(axis=0), X.max(axis=0)
    while met.any() and met[inside].mean() < threshold and inside.mean() > min_support:
        cuts = np.quantile(X[inside], [alpha, 1 - alpha], axis=0)          # (2, parameters)
        keeps = np.concatenate([cuts[0] <= X, cuts[1] >= X], axis=1) & inside[:, np.newaxis]
        counts = keeps.sum(axis=0)
        density = (keeps & met[:, np.newaxis]).sum(axis=0) / np.maximum(counts, 1)
        density[(counts == 0) | (counts == inside.sum())] = -1              # a peel must remove something
        best = int(np.argmax(density))
        if density[best] < 0:
            break
        inside = keeps[:, best]
        column = best % X.shape[1]
        if best < X.shape[1]:
            low[column] = cuts[0, column]
        else:
            high[column] = cuts[1, column]
    low, high, inside = _simplify(X, met, low, high)
    full_low, full_high = X.min(axis=0), X.max(axis=0)
    box = {name: (float(low[j]), float(high[j])) for j, name in enumerate(names)
           if low[j] > full_low[j] or high[j] < full_high[j]}
    density = float(met[inside].mean())
    return {"box": box, "density": density, "support": float(inside.mean()),
            "coverage": float(met[inside].sum() / max(met.sum(), 1)), "reached": density >= threshold}


def _simplify(X: np.ndarray, met: np.ndarray, low: np.ndarray, high: np.ndarray,
              slack: float = 0.01) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Free each restricted parameter whose limits add less than `slack` to P(met): a readable box."""
    low, high = low.copy(), high.copy()

    def inside_of(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return ((lo <= X) & (hi >= X)).all(axis=1)

    inside = inside_of(low, high)
    for j in range(X.shape[1]):
        free_low, free_high = low.copy(), high.copy()
        free_low[j], free_high[j] = X[:, j].min(), X[:, j].max()
        relaxed = inside_of(free_low, free_high)
        if met[relaxed].mean() >= met[inside].mean() - slack:
            low, high, inside = free_low, free_high, relaxed
    return low, high, inside


def prim_boxes(X: np.ndarray, met: np.ndarray, labels: list[str], names: list[str],
               levers: list[str], threshold: float = 0.8) -> pd.DataFrame:
    """A PRIM box over the levers for each target: lever ranges where it is met with >= threshold odds."""
    columns = [names.index(lever) for lever in levers] or list(range(len(names)))
    boxed = [names[j] for j in columns]
    rows = []
    for k, label in enumerate(labels):
        known = np.isfinite(met[:, k])
        if not known.any():
            continue
        found = prim_box(X[known][:, columns], met[known, k] > 0.5, boxed, threshold)
        limits = "; ".join(f"{n} in [{lo:.4g}, {hi:.4g}]" for n, (lo, hi) in found["box"].items())
        rows.append({"outcome": label, "box": limits or "(whole sampled space)",
                     **{key: found[key] for key in ("density", "support", "coverage", "reached")}})
    return pd.DataFrame(rows, columns=["outcome", "box", "density", "support", "coverage", "reached"])
