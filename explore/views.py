"""What a change redraws: the charts, the verdict table, the summary and legend; every text of the page in
a language; the report to download."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dash import dcc, no_update

from nxmfg.explore import charts, controls, decision, deferred, drafts, verdicts
from nxmfg.explore.drafts import NAME_PATTERN
from nxmfg.explore.evaluation import EDITABLE_OUTLOOKS, Explorer
from nxmfg.explore.texts import TEXT
from nxmfg.model.indicators import INDICATORS
from nxmfg.scenarios import POLICY_LEVERS, descriptions
from nxmfg.scenarios.schema import OUTLOOK_BOUNDS


def graphs(names: list[str]) -> list:
    """One empty chart per indicator; `on_change` fills in their figures."""
    return [dcc.Graph(id={"type": "chart", "name": name}, className="chart", config={"displayModeBar": False})
            for name in names]


@dataclass(frozen=True)
class View:
    """How a session looks at its draft: the language, the charts shown, the saved scenarios overlaid."""

    lang: str
    names: list[str]
    saved: list[dict]


def redraw(explorer: Explorer, draft: dict, view: View, patch: bool = False) -> tuple:
    """(figures of the charts `view.names`, the pages of the frames {"verdicts": the verdict table, "decision":
    D's decision page}, the summary, the legend, a stamp: the draft's key, for tests and the benchmark, the
    moves). With `patch` (only a control moved), no figure but the moves: the lines a lever moves and the y
    ranges of each chart, which charts.MOVE_JS applies in the page."""
    lang, names, saved = view.lang, view.names, view.saved
    text = TEXT[lang]
    extra = tuple(name for name in names if name in INDICATORS)
    try:
        evaluation = explorer.evaluate(draft, extra)
        baseline = explorer.evaluate({}, extra)
        overlays = {explorer.baseline_label(lang): baseline.central}
        overlays |= {entry["name"]: explorer.evaluate(entry, extra).central for entry in saved}
    except ValueError as error:        # a draft the schema refuses: say so, keep the page
        message = text["error"].format(error=" ".join(str(error).split()))
        return [no_update] * len(names), no_update, message, no_update, no_update, no_update
    rows = [row for row in explorer.target_rows() if row["kind"] == "modelled"]
    stamp = drafts.key(draft)
    edges = evaluation.edges(names)
    figures = [charts.figure(name, lang, evaluation.central, edges.get(name), overlays,
                             explorer.observed(name), rows) for name in names]
    # whole figures: the moves a chart out of sight still waits for are of the figure it replaces (MOVE_JS)
    moves = {"charts": {}, "stamp": stamp, "whole": True}
    if patch:
        moves = {"charts": {name: charts.moving(figure) for name, figure in zip(names, figures, strict=True)},
                 "stamp": stamp}
        figures = [no_update] * len(names)
    pages = {"verdicts": verdicts.page(evaluation.verdicts, lang, stamp),
             "decision": decision.page(explorer, draft, lang)}
    summary = verdicts.summary(evaluation.counts, baseline.counts, lang)
    legend = no_update if patch else charts.legend(lang, [entry["name"] for entry in saved],
                                                   evaluation.band is not None)
    return figures, pages, summary, legend, stamp, moves


# Writes `pages` ({frame id: its whole page}) into the frames. A frame that holds a page with the same head (its
# style) gets the new body in place: no new document for the browser to load, style and lay out from nothing
# (a third of a lever move's work in the page went to loading the two frames again), and the reader keeps
# their place in it. Otherwise (the first page, or one still loading) the page is the frame's srcdoc, at once.
# A frame out of the window takes its newest page when it scrolls into view or the browser is idle
# (explore/deferred.py). Returns the stamp of the pages (their body's data-stamp), for tests.
FRAMES_JS = """function (pages) {
    if (!pages) { return window.dash_clientside.no_update; }
    """ + deferred.INSTALL + """
    const write = (frame, page) => {
        const next = new DOMParser().parseFromString(page, 'text/html');
        const doc = frame.contentDocument;
        if (doc && doc.body && frame.dataset.loaded === 'yes' && frame.dataset.head === next.head.innerHTML) {
            doc.documentElement.lang = next.documentElement.lang;
            doc.documentElement.replaceChild(doc.adoptNode(next.body), doc.body);
        } else {
            frame.dataset.head = next.head.innerHTML;
            frame.dataset.loaded = 'no';
            frame.onload = () => { frame.dataset.loaded = 'yes'; };
            frame.srcdoc = page;
        }
    };
    let stamp = '';
    for (const [id, page] of Object.entries(pages)) {
        const frame = document.getElementById(id);
        if (!frame || typeof page !== 'string') { continue; }
        stamp = (/<body data-stamp="([^"]*)"/.exec(page) || [])[1] || stamp;
        nxmfgDeferred.run(frame, 'page', () => write(frame, page), frame.dataset.loaded !== 'yes');
    }
    return stamp;
}"""


def texts(explorer: Explorer, lang: str) -> list:
    """Every text of the page in `lang`."""
    text = TEXT[lang]
    constants = explorer.constants
    fixed = [text[key] for key in ("title", "subtitle", "levers", "start", "start_help", "outlooks", "outlook_help",
                                   "upload", "save", "report", "verdicts")]
    fixed.append(text["read_verdicts"].format(states=explorer.states.label(lang)))
    labels, helps, marks = [], [], []
    for name in POLICY_LEVERS:
        row = constants.loc[name]
        low, high = controls.to_shown(name, float(row["low"])), controls.to_shown(name, float(row["high"]))
        unit = _unit(name, lang)
        labels.append(f"{descriptions.title(name, lang)}（{unit}）" if lang == "zh" else
                      f"{descriptions.title(name, lang)} ({unit}) · {name}")
        baseline = controls.to_shown(name, float(explorer.baseline[name]))
        plan = None if explorer.plan.get(name) is None else controls.to_shown(name, explorer.plan[name])
        helps.append(f"{descriptions.describe(name, lang, constants)} {text['range']}: [{low:g}, {high:g}]; "
                     f"{text['baseline']} {baseline:g}" + (f"; {text['plan']} {plan:g}" if plan is not None else ""))
        marks.append(controls.marks(low, high, baseline, plan, lang))
    outlook_labels = [f"{descriptions.title(name, lang)}（{_unit(name, lang)}）" if lang == "zh" else
                      f"{descriptions.title(name, lang)} ({_unit(name, lang)}) · {name}"
                      for name in EDITABLE_OUTLOOKS]
    outlook_helps = [f"{descriptions.describe(name, lang)} {text['range']}: "
                     f"[{controls.to_shown(name, OUTLOOK_BOUNDS[name][0]):g}, "
                     f"{controls.to_shown(name, OUTLOOK_BOUNDS[name][1]):g}]" for name in EDITABLE_OUTLOOKS]
    return [*fixed, labels, helps, marks, text["indicators"], text["load"], outlook_labels, outlook_helps,
            picker_options(lang), text["dropdown"], text["dropdown"]]


def picker_options(lang: str) -> list[dict]:
    """The indicators a chart can be added for, by their names in `lang` with their units (no code names)."""
    from nxmfg.model.indicators import HEADLINES, INDICATORS
    from nxmfg.model.plots import indicator_label

    options = []
    for name in INDICATORS:
        if name not in HEADLINES:
            title, unit = indicator_label(name, lang)
            options.append({"label": f"{title}（{unit}）" if unit and lang == "zh" else
                            f"{title} ({unit})" if unit else title, "value": name, "search": title})
    return options


def _unit(name: str, lang: str) -> str:
    """A lever's or outlook's unit as its control shows it: the plans' (%, 家/年, 万元/家), as controls.to_shown."""
    from nxmfg.scenarios.plan_units import plan_unit

    unit = plan_unit(name)
    return unit.zh if lang == "zh" else unit.en


def report(explorer: Explorer, name: str, draft: dict, saved: list[dict], lang: str) -> tuple:
    """The report `nxmfg compare` writes, of the baseline, the saved scenarios and the current one."""
    current = draft | {"name": name if isinstance(name, str) and re.fullmatch(NAME_PATTERN, name) else "explored",
                       "description": {"zh": "情景探索页面上当前的情景。", "en": "The scenario on screen in nxmfg explore."}}
    try:
        chosen = [explorer.shipped("baseline")]
        changed = bool(current.get("levers") or current.get("paths"))
        for entry in [*saved, *([current] if changed else [])]:   # an unchanged draft is the baseline
            scenario = explorer.scenario(entry)
            if scenario.name not in [s.name for s in chosen]:
                chosen.append(scenario)
        page = explorer.report(chosen, lang)
    except (ValueError, OSError) as error:
        return no_update, " ".join(str(error).split())
    return ({"content": page.decode("utf-8"), "filename": "report.html"},
            TEXT[lang]["report_done"].format(name="report.html"))
