"""What actually happened to the plans' past targets: the data's verdict beside the model's.

A target is past when its year is at or before the last data year. Its actual value is its measure
(scenarios/measures.py) read from the recorded history instead of a run, so a `cagr`, `mean_growth` or
`change_vs` needs the data for every year it reads; with one missing the outcome is "not determinable".
Where the data hold a close but different statistic (texts/ex_post.yaml), the outcome says so instead.
"""

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from nxmfg.model.yaml_reader import read_shipped
from nxmfg.scenarios.measures import COUNT_MEASURES
from nxmfg.scenarios.record import years_read
from nxmfg.scenarios.schema import FIRST_OUTLOOK_YEAR
from nxmfg.scenarios.targets import MET_SLACK, Target

LAST_DATA_YEAR = FIRST_OUTLOOK_YEAR - 1
EX_POST = Path(__file__).parent / "texts" / "ex_post.yaml"
STATUSES = ("met", "missed", "not determinable", "different statistic", "future")
COLUMNS = ["actual_value", "actual_met", "actual_status", "actual_note", "model_right"]
WORDS = {
    "zh": {"met": "实际达成", "missed": "实际未达成", "not determinable": "数据不足，无法判断",
           "different statistic": "数据口径不同", "future": "", "lacks": "缺{years}年数据",
           "approximate": "数据为约数"},
    "en": {"met": "met in reality", "missed": "missed in reality", "not determinable": "not determinable from the data",
           "different statistic": "different statistic in the data", "future": "",
           "lacks": "the data lack {years}", "approximate": "the data value is approximate"},
}


@cache
def different_statistics() -> dict:
    """ex_post.yaml: {"indicators": {name: {zh, en}}, "targets": {id: {zh, en}}}."""
    data = read_shipped(EX_POST) or {}
    return {"indicators": data.get("indicators") or {}, "targets": data.get("targets") or {}}


def actual_outcomes(targets: Sequence[Target], history: pd.DataFrame,
                    last_year: int = LAST_DATA_YEAR) -> pd.DataFrame:
    """One row per modelled target (index id): actual_value, actual_met, actual_status (one of
    STATUSES), actual_note (English; `describe` gives it in either language).

    history: calibration.observations() (indicator, year, value, unit), in the indicators' units.
    """
    rows, by_indicator = {}, dict(tuple(history.groupby("indicator", sort=False)))
    for target in (t for t in targets if t.kind == "modelled"):
        rows[target.id] = _outcome(target, by_indicator.get(target.indicator, history.iloc[:0]), last_year)
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=COLUMNS[:4])
    frame.index.name = "id"
    return frame.astype({"actual_value": float, "actual_met": "boolean"})


def _outcome(target: Target, observed: pd.DataFrame, last_year: int) -> list:
    if target.year > last_year:
        return [np.nan, pd.NA, "future", ""]
    reason = (different_statistics()["targets"].get(target.id)
              or different_statistics()["indicators"].get(target.indicator))
    if reason:
        return [np.nan, pd.NA, "different statistic", reason["en"]]
    missing = sorted(set(years_read(target)) - set(observed["year"]))
    if missing:
        return [np.nan, pd.NA, "not determinable", WORDS["en"]["lacks"].format(years=_years(missing, "en"))]
    series = observed.set_index("year")["value"].astype(float)
    value = _measured(target, series)
    margin = float(target.margin(value))
    met = bool(margin >= -MET_SLACK * max(1.0, abs(target.threshold)))
    approximate = "unit" in observed and observed["unit"].astype(str).str.contains("approximate").any()
    return [value, met, "met" if met else "missed", WORDS["en"]["approximate"] if approximate else ""]


def _measured(target: Target, series: pd.Series) -> float:
    """The target's measure of the observed years (every year it reads is there)."""
    if target.measure in COUNT_MEASURES:   # a recorded count, not an expected one: P(N >= count) is 0 or 1
        return float(series[target.year] >= target.count)
    return float(target.measured_values(series.to_numpy(dtype=float), series.index.to_numpy(dtype=float)))


def with_actuals(attainment: pd.DataFrame, targets: Sequence[Target], history: pd.DataFrame,
                 last_year: int = LAST_DATA_YEAR, actual: pd.DataFrame | None = None) -> pd.DataFrame:
    """`attainment` (scenarios.attainment) with COLUMNS added: the data's value and verdict for past
    targets, and model_right (the model's verdict equals the data's, where the data give one).

    actual: actual_outcomes(targets, history, last_year) if already made (it is the same for every scenario).
    """
    actual = actual_outcomes(targets, history, last_year) if actual is None else actual
    actual = actual.reindex(attainment["id"])
    table = attainment.copy()
    for column in COLUMNS[:4]:
        table[column] = actual[column].to_numpy()
    judged = table["actual_met"].notna() & table["met"].notna()
    table["model_right"] = pd.array(np.where(judged, table["met"].fillna(False) == table["actual_met"].fillna(False),
                                             pd.NA), dtype="boolean")
    return table.astype({"actual_met": "boolean"})


def summary(table: pd.DataFrame, last_year: int = LAST_DATA_YEAR) -> dict[str, int]:
    """Counts over the past targets of a `with_actuals` table: past, judged (the data give a verdict),
    met (in reality), model_right, not_determinable, different (statistic)."""
    past = table[table["year"] <= last_year]
    judged = past[past["actual_met"].notna()]
    return {"past": len(past), "judged": len(judged), "met": int(judged["actual_met"].astype(bool).sum()),
            "model_right": int(judged["model_right"].fillna(False).astype(bool).sum()),
            "compared": int(judged["met"].notna().sum()),     # judged targets the run reached (final_year)
            "not_determinable": int((past["actual_status"] == "not determinable").sum()),
            "different": int((past["actual_status"] == "different statistic").sum())}


def summary_text(counts: dict[str, int], lang: str = "zh", who: str = "baseline") -> str:
    """One sentence: how many past targets were met in reality and how many the model got right."""
    compared = counts.get("compared", counts["judged"])
    unrun = counts["judged"] - compared
    if lang == "zh":
        who = {"baseline": "基准情景"}.get(who, who)
        verdict = (f"{who}判断正确 {counts['model_right']} 项" if compared else f"{who}未运行到这些年份，未作比较")
        verdict += f"（{unrun} 项晚于模拟终止年，未作比较）" if compared and unrun else ""
        return (f"已到期目标 {counts['past']} 项：数据可判断 {counts['judged']} 项，其中实际达成 {counts['met']} 项；"
                f"{verdict}。另有 {counts['not_determinable']} 项数据不足，{counts['different']} 项数据口径不同。")
    verdict = (f"the {who} got {counts['model_right']} of {compared} right" if compared
               else f"the {who} does not run to their years, so none is compared")
    verdict += f" ({unrun} lie after its final_year and are not compared)" if compared and unrun else ""
    return (f"{counts['past']} targets are past: the data judge {counts['judged']}, of which {counts['met']} were "
            f"met in reality; {verdict}. "
            f"{counts['not_determinable']} are not determinable from the data and {counts['different']} have a "
            f"different statistic in the data.")


def describe(row, lang: str = "zh") -> str:
    """The actual outcome of a `with_actuals` row as short text in `lang` (empty for future targets)."""
    status = row["actual_status"]
    if not isinstance(status, str) or status == "future":
        return ""
    words = WORDS[lang]
    if status == "different statistic":
        reason = (different_statistics()["targets"].get(row["id"])
                  or different_statistics()["indicators"].get(row["indicator"]) or {})
        return f"{words[status]}{'：' if lang == 'zh' else ': '}{reason.get(lang, '')}"
    if status == "not determinable":
        detail = words["lacks"].format(years=_years([int(y) for y in re.findall(r"\d{4}", row["actual_note"])], lang))
        return f"{words[status]}（{detail}）" if lang == "zh" else f"{words[status]} ({detail})"
    approximate = f"（{words['approximate']}）" if lang == "zh" else f" ({words['approximate']})"
    return words[status] + (approximate if row.get("actual_note") else "")


def _years(years: list[int], lang: str) -> str:
    return ", ".join(str(y) for y in years) if lang == "en" else "、".join(str(y) for y in years)
