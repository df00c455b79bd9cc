"""The trade-off chart: expected cost against expected targets met, the Pareto packages over every package
evaluated, with the plan's own package and the baseline marked."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

TEXT = {
    "en": {"x": "expected cumulative fiscal cost {window}, {basis} [100 million yuan]",
           "y": "expected number of targets met",
           "evaluated": "every package evaluated", "pareto": "Pareto packages (colour: targets met with ≥ {odds} odds)",
           "plan": "the plan (scenarios/plan.yaml)", "baseline": "baseline", "incremental": "over the baseline",
           "total": "total", "title": "Lever packages: cost against targets met ({study})",
           "robust": "targets met with ≥ {odds} odds"},
    "zh": {"x": "预期累计财政投入 {window}，{basis}［亿元］", "y": "预期达成目标数",
           "evaluated": "全部评估的政策组合", "pareto": "帕累托最优组合（颜色：以≥{odds}概率达成的目标数）",
           "plan": "规划方案（scenarios/plan.yaml）", "baseline": "基准情景", "incremental": "相对基准的增量",
           "total": "总额", "title": "政策组合：财政投入与目标达成", "robust": "以≥{odds}概率达成的目标数"},
}


def plot_tradeoff(pareto: pd.DataFrame, evaluated: pd.DataFrame, references: dict[str, dict],
                  labels: dict[str, str], ax: Axes | None = None, lang: str = "en") -> Axes:
    """Cost (x) against expected targets met (y).

    Parameters
    ----------
    pareto, evaluated
        Tables of analysis.package_table: the Pareto packages and every distinct package evaluated.
    references
        {"baseline" | "plan": {"cost": expected cost, "targets": expected targets met}}.
    labels
        study (name), window ("2024-2027"), basis ("incremental" | "total"), odds ("80 %"), robust (column).
    """
    text = TEXT[lang]
    ax = ax if ax is not None else Figure(figsize=(8, 5.5), layout="constrained").subplots()
    ax.scatter(evaluated["cost_expected"], evaluated["targets_met_expected"], s=6, color="0.8",
               label=text["evaluated"], zorder=1)
    robust = pareto[labels["robust"]]
    points = ax.scatter(pareto["cost_expected"], pareto["targets_met_expected"], c=robust, cmap="viridis",
                        s=28, edgecolors="k", linewidths=0.4, zorder=3,
                        vmin=0, vmax=max(1, int(robust.max()) if len(robust) else 1),
                        label=text["pareto"].format(odds=labels["odds"]))
    bar = ax.figure.colorbar(points, ax=ax, pad=0.01)
    bar.ax.yaxis.set_major_locator(_integers())
    bar.set_label(text["robust"].format(odds=labels["odds"]))
    for name, marker, size in (("plan", "*", 220), ("baseline", "s", 80)):
        figures = references[name]
        ax.scatter([figures["cost"]], [figures["targets"]], marker=marker, s=size, color="#d62728" if name == "plan"
                   else "#1f77b4", edgecolors="k", zorder=4, label=text[name])
    ax.set(xlabel=text["x"].format(window=labels["window"], basis=text[labels["basis"]]), ylabel=text["y"],
           title=text["title"].format(study=labels["study"]))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small", frameon=False)
    return ax


def _integers():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)

