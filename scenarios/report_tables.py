"""The report's tables: targets x scenarios, with what the data recorded of past targets; and the levers
each scenario changes."""

import html
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import xarray as xr

from nxmfg import scenarios
from nxmfg.model import plots
from nxmfg.scenarios import descriptions, outcomes, plan_units
from nxmfg.scenarios.report_text import TEXT


ODDS = ["p_met", "decided_by_assumptions", "record_years"]


def attainment_matrix(runs: Mapping[str, xr.Dataset], targets,
                      judged: Mapping[str, pd.DataFrame] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per target: id, doc, target, year, indicator, threshold, direction;
    columns (scenario, met | margin | value | p_met | decided_by_assumptions | record_years)).

    judged: scenarios' attainment as `nxmfg.run` judges it (with P(met) over its states and the record read
    for later targets); the other runs are judged on their own values, without odds."""
    tables = _tables(runs, targets, None, judged)
    first = next(iter(tables.values()))
    columns = ["id", "doc", "target", "year", "indicator", "threshold", "direction"]
    rows = first[columns].reset_index(drop=True)
    cells = pd.concat({name: table.set_index("id").reindex(columns=["met", "margin", "value", *ODDS])
                       for name, table in tables.items()}, axis=1)
    return rows, cells.reindex(rows["id"])


def _tables(runs, targets, history: pd.DataFrame | None, judged) -> dict[str, pd.DataFrame]:
    judged = judged or {}
    return {name: judged[name] if name in judged else
            (scenarios.attainment(run, targets) if history is None
             else outcomes.with_actuals(scenarios.attainment(run, targets), targets, history))
            for name, run in runs.items()}


def _number(value: float, signed: bool = False) -> str:
    if value is None or pd.isna(value):
        return ""
    size = abs(value)
    digits = 0 if size >= 100 else 1 if size >= 1 else 2 if size >= 0.01 else 4
    text = f"{value:{'+' if signed else ''},.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _actual_html(row: pd.Series, lang: str) -> str:
    """The data's verdict on a past target: a coloured cell with the value, or why there is none."""
    if row["actual_status"] in ("met", "missed"):
        value = html.escape(_number(row["actual_value"]))
        mark = "✓" if row["actual_status"] == "met" else "✗"
        return (f'<td class="actual {row["actual_status"]}">{mark} {value}<br>'
                f'<span class="note">{html.escape(outcomes.describe(row, lang))}</span></td>')
    described = outcomes.describe(row, lang)
    return f'<td class="actual na">{html.escape(described)}</td>' if described else '<td class="actual"></td>'


def _summary_html(runs, tables: dict[str, pd.DataFrame], lang: str) -> str:
    """How many past targets the data judge, how many were met, and how many the baseline got right."""
    who = "baseline" if "baseline" in tables else next(iter(runs))
    counts = outcomes.summary(tables[who])
    if not counts["past"]:
        return ""
    return f'<p class="summary">{html.escape(outcomes.summary_text(counts, lang, who))}</p>'


def matrix_html(runs, targets, lang: str, history: pd.DataFrame | None = None,
                 labels: Iterable[str] | None = None, judged: Mapping[str, pd.DataFrame] | None = None) -> str:
    text = TEXT[lang]
    rows, cells = attainment_matrix(runs, targets, judged)
    given = {row["id"]: row for row in plots.target_rows(targets)}
    if rows.empty:
        return f"<p>{text['no_targets']}</p>"
    history = history if history is not None else pd.DataFrame(columns=["indicator", "year", "value", "unit"])
    tables = _tables(runs, targets, history, judged)
    actual = next(iter(tables.values())).set_index("id", drop=False)
    symbols = plots.SYMBOLS
    head = "".join(f"<th>{html.escape(str(label))}</th>" for label in (labels or {name: name for name in runs}))
    lines = [f"<tr><th>ID</th><th>{text['doc']}</th><th>{text['target']}</th><th>{text['year']}</th>"
             f"<th>{text['threshold']}</th><th>{text['actual']}</th>{head}</tr>"]
    for row, (_, cell) in zip(rows.itertuples(), cells.iterrows(), strict=True):
        label, unit = plots.indicator_label(row.indicator, lang)
        unit = plots.CHANGE_UNITS[lang].get(given.get(row.id, {}).get("measure"), unit)
        wording = (given.get(row.id, {}).get("clause") if lang == "zh" else None) or str(row.target)
        short = wording if len(wording) <= 120 else wording[:118] + "…"
        scenario_cells = []
        for name in runs:
            met, margin = cell[(name, "met")], cell[(name, "margin")]
            if met is None or pd.isna(met):
                scenario_cells.append(f'<td class="na">{text["n_a"]}</td>')
                continue
            word = text["met"] if met else text["missed"]
            mark = "✓" if met else "✗"
            value = html.escape(_number(cell[(name, "value")]))
            scenario_cells.append(f'<td class="{"met" if met else "missed"}" title="{word}; {value}">'
                                  f"{mark} {_number(margin, True)}{_odds_html(cell, name, lang)}</td>")
        lines.append(
            f"<tr>{_id_cell(row.id, lang)}<td>{html.escape(str(row.doc))}</td>"
            f'<td class="label" title="{html.escape(wording)}">{html.escape(short)}<br><span class="note">'
            f"{html.escape(label)}</span></td><td>{row.year}</td>"
            f'<td class="num">{symbols.get(row.direction, "")} {_number(row.threshold)} '
            f"{html.escape(unit)}</td>{_actual_html(actual.loc[row.id], lang)}"
            f"{''.join(scenario_cells)}</tr>")
    counts = "".join(f"<th>{int(cells[(name, 'met')].fillna(False).astype(bool).sum())} / "
                     f"{int(cells[(name, 'met')].notna().sum())}</th>" for name in runs)
    lines.append(f'<tr><th colspan="6">{text["summary"]}</th>{counts}</tr>')
    right = "".join(f"<th>{outcomes.summary(table)['model_right']} / {outcomes.summary(table)['compared']}</th>"
                    for table in tables.values())
    lines.append(f'<tr><th colspan="6">{text["right"]}</th>{right}</tr>')
    return (_summary_html(runs, tables, lang)
            + f'<div class="scroll"><table class="grid">{"".join(lines)}</table></div>')


def _odds_html(cell: pd.Series, name: str, lang: str) -> str:
    """P(met), the record's years and the assumptions flag under a cell's verdict (empty without odds)."""
    text, parts = TEXT[lang], []
    p_met = cell.get((name, "p_met"))
    if p_met is not None and pd.notna(p_met):
        parts.append(f"{text['p_met']} {p_met:.0%}")
    if isinstance(cell.get((name, "record_years")), str) and cell.get((name, "record_years")):
        parts.append(f"{text['recorded']} {cell[(name, 'record_years')]}")
    flag = cell.get((name, "decided_by_assumptions"))
    if flag is not None and pd.notna(flag) and bool(flag):
        from nxmfg.calibration.verdict_shares import DECIDED_WORDS

        parts.append(f'<b class="assumed">{DECIDED_WORDS[lang]}</b>')
    return f'<br><span class="note">{" · ".join(parts)}</span>' if parts else ""


def describe_path(path, lang: str, scale: float = 1.0) -> str:
    """A lever's time path as text, '2020起 100' or '2021: 6 → 2023: 8' (pre-start point dropped), its values
    multiplied by `scale` (to the plan's unit)."""
    if not isinstance(path, pd.Series):
        return _number(scale * float(path))
    points = path[path.index >= np.ceil(path.index.min())] if len(path) > 1 else path
    if len(points) == 1:
        year, value = points.index[0], scale * points.iloc[0]
        return f"{int(year)}{TEXT[lang]['from']} {_number(value)}" if lang == "zh" else \
            f"{TEXT[lang]['from']} {int(year)}: {_number(value)}"
    return " → ".join(f"{int(year)}: {_number(scale * value)}" for year, value in points.items())


def levers_html(scenario_list, baseline: Mapping[str, float], constants: pd.DataFrame, lang: str) -> str:
    text = TEXT[lang]
    changes = {s.name: s.params(dict(baseline)) for s in scenario_list}
    levers = list(dict.fromkeys(name for params in changes.values() for name in params))
    if not levers:
        return f"<p>{text['no_levers']}</p>"
    head = "".join(f"<th>{html.escape(s.label(lang))}</th>" for s in scenario_list)
    lines = [f"<tr><th>{text['lever']}</th><th>{text['description']}</th><th>{text['unit']}</th>"
             f"<th>{text['baseline']}</th>{head}</tr>"]
    for lever in levers:
        known = lever in constants.index
        outlook = lever in descriptions.texts()["outlooks"]
        description = (descriptions.describe(lever, lang, constants) if known or outlook
                       else text["exogenous"])
        planned = plan_units.plan_unit(lever, constants)
        unit = (planned.zh if lang == "zh" else planned.en) or \
            (descriptions.unit(lever, lang, constants) if known or outlook else "")
        base = _number(planned.scale * baseline[lever]) if lever in baseline else ""
        cells = "".join(f'<td class="path">{html.escape(describe_path(params[lever], lang, planned.scale))}</td>'
                        if lever in params else f'<td class="na">{text["unchanged"]}</td>'
                        for params in changes.values())
        named = descriptions.title(lever, lang)
        code = f'<code class="{"file" if lang == "zh" else "name"}">{html.escape(lever)}</code>'
        shown = f"{html.escape(named)}<br>{code}" if named != lever else code
        lines.append(f'<tr><td>{shown}</td><td class="label">'
                     f"{html.escape(description)}</td><td>{html.escape(unit)}</td>"
                     f'<td class="num">{base}</td>{cells}</tr>')
    return f'<div class="scroll"><table class="grid">{"".join(lines)}</table></div>'


def _id_cell(target_id: str, lang: str) -> str:
    """A target's id: a name for files (scenarios/targets.yaml), shown as such; the row's clause says what it is."""
    return f'<td><code class="file">{html.escape(str(target_id))}</code></td>' if lang == "zh" else \
        f"<td>{html.escape(str(target_id))}</td>"


def reachability_html(table: pd.DataFrame, lang: str) -> str:
    """The optimiser's reachability table (optimization.analysis.reachability, with `cheapest_package`); the
    best value any package reaches (central state) states an unreachable target's gap, and no package is
    named as "reaching" a P(met) of 0."""
    text = TEXT[lang]
    head = (f"<tr><th>ID</th><th>{text['year']}</th><th>{text['threshold']}</th><th>{text['best_value']}</th>"
            f"<th>{text['best']}</th><th>{text['cheapest']}</th><th>{text['cost']}</th><th>{text['p_baseline']}</th>"
            f"<th>{text['p_plan']}</th><th>{text['flag']}</th></tr>")
    rows = []
    for row in table.itertuples():
        best = "" if pd.isna(row.best_p_met) else f"{row.best_p_met:.0%}"
        reached = row.flag != "unreachable"
        named = reached and isinstance(row.cheapest_package, str)
        package = html.escape(descriptions.package_title(row.cheapest_package, lang)) if named else ""
        cost = _number(row.cheapest_cost_expected) if reached else ""
        rows.append(f"<tr>{_id_cell(row.id, lang)}<td>{row.year}</td>"
                    f"<td class=\"num\">{_number(row.threshold)}</td><td class=\"num\">{_number(row.best_value)}</td>"
                    f"<td class=\"num\">{best}</td><td>{package}</td><td class=\"num\">{cost}</td>"
                    f"<td class=\"num\">{row.baseline_p_met:.0%}</td><td class=\"num\">{row.plan_p_met:.0%}</td>"
                    f"<td>{html.escape(text['flags'].get(row.flag, str(row.flag)))}{_assumed(row, lang)}</td></tr>")
    return f'<div class="scroll"><table class="grid">{head}{"".join(rows)}</table></div>'


def _assumed(row, lang: str) -> str:
    """The flag of a verdict decided by assumptions, after a reachability row's own flag."""
    from nxmfg.calibration.verdict_shares import DECIDED_WORDS

    flagged = getattr(row, "decided_by_assumptions", None)
    return f'<br><b class="assumed">{DECIDED_WORDS[lang]}</b>' if flagged is not None and pd.notna(flagged) \
        and bool(flagged) else ""
