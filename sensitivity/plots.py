"""Charts of sensitivity indices. Each function draws on an `ax` and returns it; callers save figures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def plot_indices(table: pd.DataFrame, outcome: str, ax: Axes, labels: bool = True) -> Axes:
    """S1 and ST of one outcome as paired bars with 95 % bootstrap intervals, parameters in study order.

    Bars are thick line segments: one artist per series instead of one patch per bar keeps a
    37-outcome figure fast to draw.
    """
    rows = table[table["outcome"] == outcome]
    y = np.arange(len(rows))[::-1].astype(float)
    for offset, key, color in ((0.2, "S1", "C0"), (-0.2, "ST", "C1")):
        ax.hlines(y + offset, 0, rows[key], linewidth=5, color=color, label=key)
        ax.hlines(y + offset, rows[key] - rows[f"{key}_conf"], rows[key] + rows[f"{key}_conf"],
                  linewidth=0.8, color="k")
    if labels:                          # panels sharing the axis need the ticks set once only
        ax.set_yticks(y, rows["parameter"], fontsize=7)
        ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(outcome, fontsize=8)
    ax.axvline(0, color="k", linewidth=0.5)
    return ax


def _grid(panels: int, columns: int, panel_size: tuple[float, float], left: float = 0.6,
          share: bool = False) -> tuple[Figure, list[Axes]]:
    """A grid of panels with fixed margins [inch]: constrained layout took minutes for 37 panels."""
    rows = math.ceil(panels / columns)
    width, height = left + columns * panel_size[0], 0.6 + rows * panel_size[1]
    figure = Figure(figsize=(width, height))
    axes = figure.subplots(rows, columns, squeeze=False, sharey=share).ravel()
    figure.subplots_adjust(left=left / width, right=1 - 0.15 / width, bottom=0.4 / height,
                           top=1 - 0.3 / height,
                           wspace=0.15 if share else 0.3, hspace=0.45)
    for ax in axes[panels:]:
        ax.set_visible(False)
    return figure, list(axes[:panels])


def indices_figure(table: pd.DataFrame) -> Figure:
    """One bar chart per outcome, sharing the parameter axis."""
    outcomes = list(dict.fromkeys(table["outcome"]))
    parameters = table["parameter"].nunique()
    longest = max(len(p) for p in table["parameter"])
    figure, axes = _grid(len(outcomes), min(4, len(outcomes)), (3.2, 0.5 + 0.22 * parameters),
                         0.3 + 0.065 * longest, share=True)
    for index, (ax, outcome) in enumerate(zip(axes, outcomes, strict=True)):
        plot_indices(table, outcome, ax, labels=index == 0)
    axes[0].legend(frameon=False, fontsize=7)
    return figure


HEATMAP_WORDS = {"zh": ("总效应指数", "总效应指数 {value}：哪个参数驱动哪个目标"),
                 "en": ("total-order index", "{value}: which parameter drives which outcome")}


def outcome_label(outcome: str, lang: str = "en") -> str:
    """'target:D-sei-share' as a reader names it: 'D 战略性新兴产业占规上工业比重' in zh; unchanged in en."""
    if lang != "zh":
        return outcome
    from nxmfg import scenarios
    from nxmfg.model.plots import indicator_label

    if outcome.startswith("target:"):
        found = {t.id: t for t in scenarios.load_targets()}.get(outcome.removeprefix("target:"))
        return f"{found.doc} {indicator_label(found.indicator, 'zh')[0]}" if found and found.indicator else outcome
    name, _, year = outcome.partition("@")
    return f"{indicator_label(name, 'zh')[0]} {year}".strip()


def plot_heatmap(table: pd.DataFrame, ax: Axes, value: str = "ST", lang: str = "en") -> Axes:
    """Parameter x outcome grid of an index (levers first, in study order); in zh, named as a planner reads
    them (no code names)."""
    from nxmfg.scenarios.descriptions import title

    grid = table.pivot(index="parameter", columns="outcome", values=value)
    grid = grid.loc[list(dict.fromkeys(table["parameter"])), list(dict.fromkeys(table["outcome"]))]
    image = ax.imshow(grid.to_numpy().clip(0, 1), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.grid(False)                           # the house style's grid would cross the cells
    columns = [outcome_label(o, lang) for o in grid.columns]
    rows = [title(p, lang) if lang == "zh" else p for p in grid.index]
    ax.set_xticks(range(grid.shape[1]), columns, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(grid.shape[0]), rows, fontsize=7)
    for (i, j), number in np.ndenumerate(grid.to_numpy() if grid.size <= 400 else np.empty((0, 0))):
        ax.text(j, i, f"{number:.2f}", ha="center", va="center", fontsize=6,
                color="white" if number < 0.5 else "black")
    words = HEATMAP_WORDS[lang]
    ax.figure.colorbar(image, ax=ax, label=f"{value} ({words[0]})")
    ax.set_title(words[1].format(value=value))
    return ax


def plot_time_resolved(table: pd.DataFrame, indicator: str, ax: Axes, top: int = 5) -> Axes:
    """ST of the `top` most influential parameters for one indicator, year by year."""
    rows = table[table["indicator"] == indicator]
    wide = rows.pivot(index="year", columns="parameter", values="ST")
    for parameter in wide.max().sort_values(ascending=False).index[:top]:
        ax.plot(wide.index, wide[parameter], marker="o", markersize=3, label=parameter)
    ax.set(title=indicator, ylabel="ST", ylim=(0, None))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.tick_params(labelsize=7)
    ax.legend(frameon=False, fontsize=6)
    return ax


def time_resolved_figure(table: pd.DataFrame) -> Figure:
    """One panel of year-by-year ST per indicator."""
    indicators = list(dict.fromkeys(table["indicator"]))
    figure, axes = _grid(len(indicators), min(4, len(indicators)), (3.6, 2.6))
    for ax, indicator in zip(axes, indicators, strict=True):
        plot_time_resolved(table, indicator, ax)
        ax.title.set_fontsize(7)
    return figure


def plot_morris(table: pd.DataFrame, outcome: str, ax: Axes) -> Axes:
    """Morris screening: mu* (importance) against sigma (non-linearity and interactions)."""
    rows = table[table["outcome"] == outcome]
    ax.errorbar(rows["mu_star"], rows["sigma"], xerr=rows["mu_star_conf"], fmt="o", markersize=3)
    for _, row in rows.iterrows():
        ax.annotate(row["parameter"], (row["mu_star"], row["sigma"]), fontsize=6)
    ax.set(title=outcome, xlabel="mu*", ylabel="sigma")
    return ax


def morris_figure(table: pd.DataFrame) -> Figure:
    outcomes = list(dict.fromkeys(table["outcome"]))
    figure, axes = _grid(len(outcomes), min(4, len(outcomes)), (3.6, 3.0))
    for ax, outcome in zip(axes, outcomes, strict=True):
        plot_morris(table, outcome, ax)
    return figure
