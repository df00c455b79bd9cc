"""The lines of a chart's runs and the entries of its one legend: the plan broad and red beneath dashed
scenarios, the baseline thin and grey, history dots, target marks and the band."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib as mpl
import numpy as np
import xarray as xr
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

WORDS = {"zh": {"band": "5–95 % 区间", "history": "历史", "target": "目标", "target_span": "目标（多年平均或增长路径）"},
         "en": {"band": "5–95 % range", "history": "history", "target": "target",
                "target_span": "target (mean over years or growth path)"}}


def colours(n: int) -> list:
    """Distinct colours for n scenarios: tab10 up to 10, evenly spaced viridis beyond."""
    if n <= 10:
        return [mpl.colormaps["tab10"](i) for i in range(n)]
    return [mpl.colormaps["viridis"](x) for x in np.linspace(0, 0.95, n)]


def line_styles(runs: Mapping[str, xr.Dataset]) -> dict[str, dict]:
    """Each run's line style, by its role (`run.attrs["scenario"]`, else its key): the baseline thin and
    grey, the plan broad and red beneath the others, every other scenario dashed in its own colour on top,
    so that a scenario that follows the plan for years leaves the plan visible."""
    others = [label for label, run in runs.items() if _role(label, run) not in ("baseline", "plan")]
    palette = [c for c in colours(len(others) + 2) if c not in (mpl.colormaps["tab10"](3), mpl.colormaps["tab10"](7))]
    dashes = ["--", "-.", ":", (0, (6, 2, 1, 2)), (0, (3, 1))]
    styles = {}
    for label, run in runs.items():
        role = _role(label, run)
        if role == "baseline":
            styles[label] = {"color": "#4d4d4d", "linestyle": "-", "linewidth": 1.5, "zorder": 3}
        elif role == "plan":
            styles[label] = {"color": "#d62728", "linestyle": "-", "linewidth": 3.2, "alpha": 0.8, "zorder": 2}
        else:
            i = others.index(label)
            styles[label] = {"color": palette[i % len(palette)], "linestyle": dashes[i % len(dashes)],
                             "linewidth": 1.8, "zorder": 4}
    if len(runs) == 1:                     # a run alone is drawn plainly
        styles = {label: {"color": colours(1)[0], "linestyle": "-", "linewidth": 1.8, "zorder": 3} for label in runs}
    return styles


def _role(label: str, run: xr.Dataset) -> str:
    return str(getattr(run, "attrs", {}).get("scenario", label))


def legend_handles(runs: Mapping[str, xr.Dataset], with_history: bool, with_targets: tuple[bool, bool],
                   with_band: bool, lang: str) -> list:
    """The legend's entries: one per run in its style, then the band, history dots and target marks
    (with_targets: (markers, lines))."""
    handles = [Line2D([], [], label=str(label), **{k: v for k, v in style.items() if k != "zorder"})
               for label, style in line_styles(runs).items()]
    if with_band:
        handles.append(Patch(color="grey", alpha=0.25, label=WORDS[lang]["band"]))
    if with_history:
        handles.append(Line2D([], [], linestyle="none", marker="o", color="#333333",
                              label=WORDS[lang]["history"]))
    if with_targets[0]:
        handles.append(Line2D([], [], linestyle="none", marker="^", color="black", markerfacecolor="white",
                              label=WORDS[lang]["target"]))
    if with_targets[1]:
        handles.append(Line2D([], [], linestyle="--", color="black", linewidth=1.3, label=WORDS[lang]["target_span"]))
    return handles
