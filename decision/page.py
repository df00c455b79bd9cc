"""The decision page's content, from the tool's own results: one row per target still ahead (document D's
first), the record, each scenario's value and P(met), the cheapest package reaching the target, a verdict
with its reason, and the packages' costs against the region's budget. No number here is typed in: each
comes from the targets file, the data, a run, or a study's results.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nxmfg.decision import budget, odds
from nxmfg.decision.studies import ASSUMPTIONS_DECIDE, AssumptionStudy, PackageStudy
from nxmfg.decision.texts import TEXT
from nxmfg.model import plots
from nxmfg.scenarios.outcomes import LAST_DATA_YEAR

RECORD_YEARS = 3   # the last recorded years shown per target


@dataclass(frozen=True)
class Column:
    """A scenario on the page: its label, its attainment table (value, met, and P(met) via odds.p_met)."""

    name: str
    label: str
    attainment: pd.DataFrame


@dataclass(frozen=True)
class Evidence:
    """What the page reads besides the runs: the record, the package study, the Sobol' study, the budget."""

    history: pd.DataFrame
    study: PackageStudy | None = None
    assumptions: AssumptionStudy | None = None
    yardsticks: tuple = field(default_factory=budget.yardsticks)
    costs: dict[str, tuple[str, float]] = field(default_factory=dict)   # scenario -> (label, added cost, window)
    fit: dict | None = None    # the runs' fit record: a study made on another fit is not theirs


@dataclass
class Row:
    id: str
    doc: str
    wording: str
    measure: str
    record: list[tuple[int, float]]
    unit: str
    cells: list[dict]
    package: dict | None
    flag: str
    reasons: list[str]


@dataclass
class Page:
    lang: str
    doc: str
    year: int
    rows: list[Row]
    columns: list[Column]
    odds: float
    summary: list[str]
    notes: list[str]
    budget: list[dict]
    study: PackageStudy | None
    yardsticks: tuple = ()


def ahead(targets, doc: str = "D") -> list:
    """The modelled targets the page covers: `doc`'s, then any other still ahead of the data (such as a
    climate target a targets file adds), in the file's order."""
    modelled = [t for t in targets if t.kind == "modelled"]
    return [t for t in modelled if t.doc == doc] + [t for t in modelled if t.doc != doc and t.year > LAST_DATA_YEAR]


def build(targets, columns: list[Column], evidence: Evidence, lang: str = "zh", doc: str = "D") -> Page:
    """The decision page of document `doc`'s targets (and the others ahead) for `columns` (baseline first)."""
    text = TEXT[lang]
    study = evidence.study if evidence.study is not None and evidence.study.current(evidence.fit) else None
    needed = study.met_odds if study is not None else 0.8
    chosen = ahead(targets, doc)
    notes = []
    if evidence.study is not None and study is None:
        from nxmfg import model

        notes.append(text["stale"].format(study=evidence.study.name, theirs=evidence.study.model_version,
                                          ours=model.version()))
    assumptions = evidence.assumptions if evidence.assumptions is not None and evidence.assumptions.current() else None
    indexed = [_indexed(column.attainment) for column in columns]      # once per column, not per target
    records = _records(evidence.history, {t.indicator for t in chosen})
    rows = [_row(t, indexed, records, study, assumptions, needed, lang) for t in chosen]
    year = max((t.year for t in chosen if t.doc == doc), default=max((t.year for t in chosen), default=0))
    page = Page(lang, doc, year, rows, columns, needed, [], notes, [], study, evidence.yardsticks)
    page.summary = _summary(page, study, evidence.yardsticks)
    page.budget = _budget(page, study, evidence)
    return page


def _indexed(attainment: pd.DataFrame) -> dict[str, dict]:
    """A column's attainment by target id: {id: {"value", "met", "p", "flagged"}} (see `_row`)."""
    p_met = odds.p_met(attainment).to_numpy(float)
    flagged = (attainment["decided_by_assumptions"].fillna(False).astype(bool).to_numpy()
               if "decided_by_assumptions" in attainment else np.zeros(len(attainment), bool))
    out = {}
    for index, (target_id, value, met) in enumerate(zip(attainment["id"], attainment["value"], attainment["met"],
                                                         strict=True)):
        out.setdefault(target_id, {"value": float(value), "met": None if pd.isna(met) else bool(met),
                                   "p": float(p_met[index]), "flagged": bool(flagged[index])})
    return out


def _row(target, columns: list[dict[str, dict]], records: dict[str, list[tuple[int, float]]],
         study: PackageStudy | None, assumptions: AssumptionStudy | None, needed: float, lang: str) -> Row:
    """The target's row: each column's cell (`_indexed`), the record, the package study's verdict, the flag."""
    row = target.model_dump()
    _, unit = plots.indicator_label(target.indicator, lang)
    measure_unit = plots.CHANGE_UNITS[lang].get(target.measure, unit)
    missing = {"value": np.nan, "met": None, "p": np.nan, "flagged": False}
    found = [column.get(target.id, missing) for column in columns]
    cells = [{key: cell[key] for key in ("value", "met", "p")} for cell in found]
    package, flag, reasons = _verdict(target, cells[0]["p"], study, needed, lang, measure_unit)
    if found[0]["flagged"]:      # the odds' own grouped study says so (issue 21)
        flag = "decided by assumptions"
        reasons.append(TEXT[lang]["reasons"]["flagged"])
    elif assumptions is not None and assumptions.share.get(target.id, 0.0) > ASSUMPTIONS_DECIDE:
        flag = "decided by assumptions"
        reasons.append(TEXT[lang]["reasons"]["assumptions"].format(
            share=f"{assumptions.share[target.id]:.0%}", study=assumptions.name))
    wording = row["clause"] if lang == "zh" else row["target"]
    wording = wording.removeprefix(f"{target.doc} ").strip()     # the doc is shown beside it
    return Row(target.id, target.doc, wording, plots.describe_target(row, unit, lang),
               records.get(target.indicator, []), unit, cells, package, flag, reasons)


def _records(history: pd.DataFrame, indicators: set[str]) -> dict[str, list[tuple[int, float]]]:
    """The last recorded years (RECORD_YEARS, up to the last data year) of each of `indicators`."""
    rows = history[(history["year"] <= LAST_DATA_YEAR) & history["indicator"].isin(indicators)]
    rows = rows.sort_values(["indicator", "year"], kind="stable")
    return {indicator: [(int(year), float(value)) for year, value in zip(group["year"], group["value"],
                                                                         strict=True)][-RECORD_YEARS:]
            for indicator, group in rows.groupby("indicator", sort=False)}


def _verdict(target, baseline_p: float, study: PackageStudy | None, needed: float, lang: str,
             unit: str) -> tuple[dict | None, str, list[str]]:
    """(package, flag, reasons) from the package study's row for the target."""
    words, shown = TEXT[lang]["reasons"], _percent
    reach = study.reach_rows.get(target.id) if study is not None else None
    if reach is None or reach["flag"] == "not in the study" or float(reach["threshold"]) != target.threshold:
        return None, "not studied", [words["not studied"]]
    best = float(reach["best_p_met"])
    if best >= needed - 1e-12:
        name = str(reach["robust_package"])
        package = _package(study, name, float(reach["robust_cost_expected"]), lang)
        package["p"] = float(study.package_rows[name][f"p_met:{target.id}"]) if f"p_met:{target.id}" in \
            study.packages else best
        if baseline_p >= needed - 1e-12:
            return package, "reachable", [words["already"].format(p=shown(baseline_p))]
        return package, "reachable", [words["reachable"].format(
            package=package["label"], p=shown(package["p"]), odds=shown(needed), window=study.window,
            cost=_money(package["cost"]))]
    if best == 0:
        value = f"{float(reach['best_value']):.3g} {unit}".strip()
        return None, "out of reach", [words["out of reach"].format(
            value=value, threshold=f"{plots.SYMBOLS.get(target.direction, '')}{target.threshold:g} {unit}".strip())]
    package = _package(study, str(reach["cheapest_package"]), float(reach["cheapest_cost_expected"]), lang)
    package["p"] = best
    if reach["flag"] == "not lever-dependent":
        return package, "not moved by levers", [words["not moved by levers"].format(best=shown(best))]
    return package, "lever-dependent", [words["lever-dependent"].format(
        base=shown(float(reach["baseline_p_met"])), best=shown(best), odds=shown(needed))]


def _package(study: PackageStudy, name: str, cost: float, lang: str) -> dict:
    """A package as the page shows it: label, file, cost, targets met robustly, cost per such target."""
    from nxmfg.scenarios.descriptions import package_title as label
    from nxmfg.scenarios.descriptions import levers_at_bounds

    row = study.package_rows.get(name)
    robust = int(row["robust"]) if row is not None else 0
    ends = levers_at_bounds(row["at_bounds"] if row is not None else "", lang)
    return {"name": name, "label": label(name, lang), "file": f"packages/{name}.yaml", "cost": cost,
            "robust": robust, "per_target": cost / robust if robust and cost > 0 else np.nan,
            "bounds": ends["high"], "dropped": ends["low"]}


def _percent(p: float) -> str:
    return "—" if p is None or np.isnan(p) else f"{p:.0%}"


def _money(value: float) -> str:
    return "—" if value is None or np.isnan(value) else f"{value:,.1f}"


def _summary(page: Page, study: PackageStudy | None, sticks: tuple) -> list[str]:
    """The page's headline sentences, counted from its rows."""
    text = TEXT[page.lang]
    own = [row for row in page.rows if row.doc == page.doc]
    counts = [sum(1 for row in own if row.cells[i]["p"] >= page.odds - 1e-12) for i in range(len(page.columns))]
    names = [c.name for c in page.columns]
    lines = []
    if "baseline" in names and "plan" in names:
        lines.append(text["summary"].format(doc=page.doc, n=len(own), odds=_percent(page.odds),
                                            base=counts[names.index("baseline")], plan=counts[names.index("plan")]))
    general = next((s for s in sticks if s.key == "general"), None)
    if study is not None and study.headline is not None and study.headline in study.packages.index and general:
        from nxmfg.scenarios.descriptions import package_title as label

        cost = float(study.packages.at[study.headline, "cost_expected"])
        yearly = budget.per_year(cost, study.years)
        lines.append(text["summary_study"].format(
            evaluated=study.evaluated, headline=label(study.headline, page.lang), odds=_percent(page.odds),
            robust=int(study.packages.at[study.headline, "robust"]), window=study.window, cost=_money(cost),
            yearly=_money(yearly), year=general.year, share=f"{yearly / general.value:.1%}"))
    return lines


def _budget(page: Page, study: PackageStudy | None, evidence: Evidence) -> list[dict]:
    """One row per package on the page (and the compared scenarios' own costs): cost, per year, shares."""
    entries = []
    if study is not None:
        names = [study.headline, *(row.package["name"] for row in page.rows if row.package)]
        for name in dict.fromkeys(n for n in names if n and n in study.packages.index):
            entries.append(_package(study, name, float(study.packages.at[name, "cost_expected"]), page.lang)
                           | {"years": study.years, "basis": "expected"})
        for name in ("plan",):
            if name in study.references:
                figures = study.references[name]
                entries.append({"name": name, "label": TEXT[page.lang][name], "file": "",
                                "cost": figures["cost_expected"], "robust": figures["robust"], "per_target": np.nan,
                                "bounds": [], "dropped": [], "years": study.years, "basis": "expected"})
    covered = set(study.packages.index) | set(study.references) if study is not None else set()
    for name, (label, cost) in evidence.costs.items():
        if name != "baseline" and name not in covered:     # a study's expected cost stands for its packages
            entries.append({"name": name, "label": label, "file": "", "cost": cost, "robust": None,
                            "per_target": np.nan, "bounds": [], "dropped": [], "years": _years(page),
                            "basis": "central"})
    for entry in entries:
        entry["yearly"] = budget.per_year(entry["cost"], entry["years"])
        entry["shares"] = budget.shares(entry["yearly"], evidence.yardsticks)
    return entries


def _years(page: Page) -> int:
    return page.year - LAST_DATA_YEAR
