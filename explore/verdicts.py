"""The live verdict table: every modelled target with the scenario's value, margin, P(met) over the band,
the model's verdict and, for past targets, what the data recorded. One HTML page shown in a frame (one
update of one attribute, not seven hundred components)."""

from __future__ import annotations

import html
from functools import lru_cache

import pandas as pd

from nxmfg.model import plots
from nxmfg.explore.texts import TEXT
from nxmfg.scenarios import outcomes


def table(verdicts: pd.DataFrame, lang: str) -> str:
    """The verdicts of an Evaluation as an HTML table; each row carries data-id and data-met."""
    text = TEXT[lang]
    head = "".join(f"<th>{html.escape(text[key])}</th>" for key in
                   ("doc", "year", "threshold", "value", "margin", "probability", "verdict", "actual"))
    rows = [f"<tr><th>ID</th><th>{text['target'] if lang == 'en' else '目标'}</th>{head}</tr>"]
    ahead = verdicts["year"] > outcomes.LAST_DATA_YEAR      # the targets levers can still move come first
    rows += [_row(tuple((k, None if isinstance(v, float) and v != v else v) for k, v in row.items()), lang)
             for row in pd.concat([verdicts[ahead], verdicts[~ahead]]).to_dict("records")]   # NaN != NaN: None
    return f'<table class="verdicts">{"".join(rows)}</table>'


@lru_cache(maxsize=4096)
def _row(items: tuple, lang: str) -> str:
    """One target's row (items: the verdict row's (column, value) pairs). Kept by content: a lever move leaves
    the rows of the targets before its first year as they were (55 of the 68 shipped)."""
    text, row = TEXT[lang], dict(items)
    _, unit = plots.indicator_label(row["indicator"], lang)
    unit = plots.CHANGE_UNITS[lang].get(row["measure"], unit)
    wording = row["clause"] if lang == "zh" else row["target"]
    met = row["met"]
    if met is pd.NA or pd.isna(met):
        verdict = f'<td class="na">{text["n_a"]}</td>'
    else:
        verdict = f'<td class="met">✓ {text["met"]}</td>' if met else f'<td class="missed">✗ {text["missed"]}</td>'
    return (f'<tr data-id="{html.escape(row["id"])}" data-met="{"" if pd.isna(met) else str(bool(met)).lower()}">'
            f"<td>{html.escape(row['id'])}</td><td class=\"label\">{html.escape(wording)}</td>"
            f"<td>{html.escape(row['doc'])}</td><td>{row['year']}</td>"
            f'<td class="num">{plots.SYMBOLS.get(row["direction"], "")} {_number(row["threshold"])} '
            f"{html.escape(unit)}</td>"
            f'<td class="num value">{_number(row["value"])}</td><td class="num">{_number(row["margin"], True)}</td>'
            f'<td class="num probability">{_percent(row["probability"])}{_odds_note(row, lang)}</td>'
            f"{verdict}{_actual(row, lang)}</tr>")


CSS = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif;
       margin: 0; font-size: 12px; color: #222; }
table.verdicts { border-collapse: collapse; background: #fff; }
table.verdicts th, table.verdicts td { border: 1px solid #ccc; padding: 2px 5px; vertical-align: top; }
table.verdicts th { background: #f0f0f0; position: sticky; top: 0; } td.label { max-width: 34em; }
td.num { text-align: right; white-space: nowrap; } td.met { background: #d7efd9; color: #1a5e20; white-space: nowrap; }
td.missed { background: #f7d4d4; color: #8a1c1c; white-space: nowrap; } td.na { background: #eee; color: #777; }
td.actual { white-space: normal; }
td.actual { max-width: 18em; } .assumed { color: #8a4b00; }
"""


def page(verdicts: pd.DataFrame, lang: str, stamp: str) -> str:
    """The table as a whole page (the frame's srcdoc); `stamp` (the draft's key) marks what it shows."""
    return (f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f'<style>{CSS}</style></head><body data-stamp="{html.escape(stamp)}">{table(verdicts, lang)}</body></html>')


def summary(mine: dict[str, int], counts: dict[str, int], lang: str) -> str:
    """How many past targets the data judge and were met, how many the baseline got right (`counts`, of
    the baseline's verdicts: outcomes.summary), and the current scenario's count of right calls (`mine`)."""
    return outcomes.summary_text(counts, lang) + " " + TEXT[lang]["right"].format(right=mine["model_right"],
                                                                                  judged=mine["compared"])


def _actual(row: dict, lang: str) -> str:
    status = row.get("actual_status")
    if status in ("met", "missed"):
        return (f'<td class="actual {status}">{"✓" if status == "met" else "✗"} {_number(row["actual_value"])}'
                f'<br><small>{html.escape(outcomes.describe(row, lang))}</small></td>')
    described = outcomes.describe(row, lang) if isinstance(status, str) else ""
    return f'<td class="actual na"><small>{html.escape(described)}</small></td>' if described else "<td></td>"


def _odds_note(row: dict, lang: str) -> str:
    """Under P(met): the years read from the record, and the flag of a verdict decided by assumptions."""
    from nxmfg.calibration.verdict_shares import DECIDED_WORDS

    notes = [f"{TEXT[lang]['recorded']} {row['record_years']}"] if row.get("record_years") else []
    flagged = row.get("decided_by_assumptions")
    if flagged is not None and pd.notna(flagged) and bool(flagged):
        notes.append(f'<b class="assumed">{DECIDED_WORDS[lang]}</b>')
    return f"<br><small>{' · '.join(notes)}</small>" if notes else ""


def _number(value, signed: bool = False) -> str:
    if value is None or pd.isna(value):
        return ""
    size = abs(value)
    digits = 0 if size >= 100 or size == 0 else 1 if size >= 1 else 2 if size >= 0.01 else 4
    return f"{value:{'+' if signed else ''},.{digits}f}"


def _percent(value) -> str:
    return "" if value is None or pd.isna(value) else f"{100 * value:.0f} %"
