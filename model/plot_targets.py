"""The plans' targets on a chart, each as the plan writes it, with labels that do not collide.

- A level (2027 ≥ 2800 亿元) is a hollow marker at (year, threshold).
- A mean over years (年均增速 ≥ 10 %, 2023–2027) is a dashed segment at the threshold over those years.
- Average growth of a level from a base year (cagr) is the dashed path the level must follow from the
  base year's value (recorded where the data hold it, else the first run's).
- A change or increase against a base year is a marker at the level it implies.
- A count of firms of a size (probability_at_least) is a marker at the count: the chart draws their
  expected number, and the label says the target reads the odds of reaching it.
- What cannot be drawn (a cumulative total) is a note above the chart.

Labels are horizontal, name the document and years, and are moved apart where they would overlap
(`declutter`); a test checks every chart's text boxes for overlaps.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

MARKERS = {"at_least": "^", "at_most": "v", "about": "D"}
SYMBOLS = {"at_least": "≥", "at_most": "≤", "about": "≈"}
# How a non-`level` target reads; {start} is its base_year or from_year.
MEASURES = {
    "zh": {"change_vs": "较{start}年变化", "pp_change_vs": "较{start}年变化",
           "cagr": "{start}–{year}年年均增长", "mean": "{start}–{year}年平均",
           "every_year": "{start}–{year}年每年",
           "cumulative": "{start}–{year}年累计", "mean_growth": "{start}–{year}年年均",
           "increase_vs": "较{start}年增加", "probability_at_least": "{year}年不少于{count}家的概率"},
    "en": {"change_vs": "change vs {start}", "pp_change_vs": "pp change vs {start}",
           "cagr": "avg growth {start}–{year}", "mean": "mean {start}–{year}",
           "every_year": "every year {start}–{year}", "cumulative": "total {start}–{year}",
           "mean_growth": "avg {start}–{year}", "increase_vs": "increase vs {start}",
           "probability_at_least": "odds of at least {count} in {year}"},
}
CHANGE_UNITS = {"zh": {"change_vs": "%", "cagr": "%", "pp_change_vs": "百分点", "probability_at_least": "%"},
                "en": {"change_vs": "%", "cagr": "%", "pp_change_vs": "pp", "probability_at_least": "%"}}
SPAN = ("mean", "mean_growth", "every_year")
IMPLIED = {"change_vs": lambda base, t: base * (1 + t / 100), "pp_change_vs": lambda base, t: base + t,
           "increase_vs": lambda base, t: base + t}
STYLE = {"color": "black", "zorder": 5}
LABEL = {"fontsize": 6.5, "color": "#333333", "zorder": 6, "annotation_clip": False}


def _base(row: dict, first: pd.Series | None, history: pd.DataFrame | None) -> float:
    """The indicator's value in the target's base year: recorded, else the first run's (NaN if neither)."""
    year = row.get("base_year")
    if history is not None and len(history):
        found = history[(history["indicator"] == row["indicator"]) & (history["year"] == year)]
        if len(found):
            return float(found["value"].iloc[0])
    return float(first.get(year, np.nan)) if first is not None else np.nan


def _short(start: int, end: int) -> str:
    return f"{start}–{str(end)[2:]}" if str(start)[:2] == str(end)[:2] else f"{start}–{end}"


def _marker(ax: Axes, x: float, y: float, direction: str) -> None:
    ax.plot(x, y, linestyle="none", markersize=8, marker=MARKERS.get(direction, "D"), markerfacecolor="white",
            gid="target-marker", **STYLE)


def _label(ax: Axes, text: str, x: float, y: float, below: bool, font: dict) -> None:
    ax.annotate(text, (x, y), xytext=(0, -8 if below else 8), textcoords="offset points", ha="center",
                va="top" if below else "bottom", gid="target", **LABEL, **font)


def draw(ax: Axes, rows: list[dict], first: pd.Series | None, history: pd.DataFrame | None, describe,
         font: dict) -> list[str]:
    """Draw `rows` (targets of one indicator) on `ax`; return the notes of targets no mark can show.

    first: the first run's series (year -> value), for a base year the data lack; describe(row): the
    target in words (plots.describe_target), for notes and the count targets' labels.
    """
    notes, levels = [], []
    for row in rows:
        measure, below = row.get("measure", "level"), row.get("direction") == "at_most"
        doc = row.get("doc", "")
        if measure == "level":
            levels.append(row)
        elif measure in SPAN:
            start, end = int(row["from_year"]), int(row["year"])
            ax.hlines(row["threshold"], start, end, linestyles="--", linewidth=1.3, gid="target-span", **STYLE)
            _label(ax, f"{doc} {_short(start, end)}".strip(), (start + end) / 2, row["threshold"], below, font)
        elif measure == "cagr":
            start, end = int(row["base_year"]), int(row["year"])
            base = _base(row, first, history)
            if np.isnan(base):
                notes.append(describe(row))
                continue
            years = np.arange(start, end + 1)
            ax.plot(years, base * (1 + row["threshold"] / 100) ** (years - start), linestyle="--", linewidth=1.3,
                    gid="target-path", **STYLE)
            _label(ax, f"{doc} {_short(start, end)}".strip(), end, base * (1 + row["threshold"] / 100) ** (end - start),
                   below, font)
        elif measure in IMPLIED and not np.isnan(_base(row, first, history)):
            value = IMPLIED[measure](_base(row, first, history), row["threshold"])
            _marker(ax, row["year"], value, row.get("direction"))
            _label(ax, f"{doc} {row['year']}".strip(), row["year"], value, below, font)
        elif measure == "probability_at_least":
            _marker(ax, row["year"], row["count"], "at_least")
            _label(ax, f"{doc} {row['year']}".strip(), row["year"], row["count"], False, font)
            notes.append(describe(row))
        else:
            notes.append(describe(row))
    for group in _groups(levels):
        for row in group:
            _marker(ax, row["year"], row["threshold"], row.get("direction"))
        ends = [group[0]["year"], group[-1]["year"]]
        years = str(ends[0]) if ends[0] == ends[1] else _short(*ends)
        top = max(group, key=lambda r: r["threshold"]) if group[0].get("direction") != "at_most" else \
            min(group, key=lambda r: r["threshold"])
        _label(ax, f"{group[0].get('doc', '')} {years}".strip(), np.mean(ends), top["threshold"],
               group[0].get("direction") == "at_most", font)
    return notes


def _groups(levels: list[dict]) -> list[list[dict]]:
    """Level targets of one document in consecutive years, same direction: one label for the run of them."""
    groups: list[list[dict]] = []
    for row in sorted(levels, key=lambda r: (str(r.get("doc", "")), r.get("direction", ""), r["year"])):
        last = groups[-1][-1] if groups else None
        if last is not None and last.get("doc") == row.get("doc") and last.get("direction") == row.get("direction") \
                and row["year"] - last["year"] <= 1:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def declutter(ax: Axes, passes: int = 4) -> None:
    """Move target labels apart (up, or down for `at_most`) until none overlaps another label or the
    note at the last data year, and widen the y-axis so that every label stays inside the axes."""
    figure = ax.figure
    labels = sorted((t for t in ax.texts if t.get_gid() == "target"), key=lambda t: t.xy[0])
    if not labels:
        return
    renderer = figure.canvas.get_renderer()
    # Texts inside the axes (the last data year's note); the notes above the axes are kept clear by keeping
    # every label inside the axes.
    fixed = [t for t in ax.texts if t.get_gid() not in ("target", "notes") and t.get_visible()]
    for _ in range(passes):
        placed = [t.get_window_extent(renderer).expanded(1.05, 1.1) for t in fixed]
        for text in labels:
            step = 1.15 * text.get_window_extent(renderer).height * 72 / figure.dpi
            sign = -1 if text.get_va() == "top" else 1
            for _ in range(12):
                box = text.get_window_extent(renderer)
                if not any(box.overlaps(other) for other in placed):
                    break
                x, y = text.xyann
                text.xyann = (x, y + sign * step)
            placed.append(text.get_window_extent(renderer).expanded(1.05, 1.1))
        if not _widen(ax, labels, renderer):
            return


def _widen(ax: Axes, labels: list, renderer) -> bool:
    """Widen the y-axis where a label leaves the axes; True if it changed."""
    inside = ax.get_window_extent(renderer)
    low, high = ax.get_ylim()
    per_pixel = (high - low) / inside.height
    over = max(max(t.get_window_extent(renderer).y1 for t in labels) - inside.y1, 0)
    under = max(inside.y0 - min(t.get_window_extent(renderer).y0 for t in labels), 0)
    if not over and not under:
        return False
    ax.set_ylim(low - 1.1 * under * per_pixel, high + 1.1 * over * per_pixel)
    return True


def target_rows(targets) -> list[dict]:
    """Targets as plain dicts, from a DataFrame, dicts, pydantic models or plain objects."""
    if isinstance(targets, pd.DataFrame):
        return targets.to_dict("records")
    rows = []
    for target in targets or ():
        if isinstance(target, Mapping):
            rows.append(dict(target))
        elif hasattr(target, "model_dump"):
            rows.append(target.model_dump())
        else:
            rows.append(vars(target))
    return rows


def describe_target(target: dict, unit: str, lang: str = "zh") -> str:
    """One-line reading of a target, e.g. '2022 ≥ 900 亿元' or '2020–2022年年均增长 ≥ 7 %'."""
    measure = target.get("measure", "level")
    symbol = SYMBOLS.get(target.get("direction"), "")
    threshold = f"{target['threshold']:g}"
    if measure == "level":
        return f"{target['year']} {symbol} {threshold} {unit}".strip()
    start = target.get("base_year") or target.get("from_year") or ""
    start = int(start) if isinstance(start, (int, float)) and not pd.isna(start) else start
    count = target.get("count")
    text = MEASURES[lang].get(measure, measure).format(start=start, year=target["year"], count=count)
    if "{year}" not in MEASURES[lang].get(measure, ""):
        text = f"{target['year']} {text}"
    if measure == "probability_at_least":         # a probability, in %
        threshold = f"{100 * target['threshold']:g}"
    return f"{text} {symbol} {threshold} {CHANGE_UNITS[lang].get(measure, unit)}".strip()
