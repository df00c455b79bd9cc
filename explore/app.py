"""The explorer as a Dash app: layout and callbacks.

Why Dash: a session's state lives in the browser (dcc.Store, memory), so two sessions share nothing by
construction and the server keeps no session objects; callbacks are plain functions over plain data,
callable (and timed) without a browser; Plotly gives hover values. The server's only shared state is
`Explorer`: what every session reads, and a cache of evaluations keyed by the draft's content.

A draft (the session's scenario) is plain data: {"levers": {lever: {"from", "value"} | {"from", "path"}},
"paths": {outlook: {year: value}}}. The controls are its only writer (`on_controls`); loading a file sets
the controls, and levers or outlooks a control cannot show exactly (a lever's path or another start year,
an outlook with other years than the boxes') stay as loaded in `fixed` until their control is moved.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from nxmfg import scenarios
from nxmfg.explore import charts, controls, files, verdicts
from nxmfg.explore.evaluation import EDITABLE_OUTLOOKS, OUTLOOK_YEARS, Explorer
from nxmfg.explore.texts import TEXT
from nxmfg.model.indicators import HEADLINES, INDICATORS
from nxmfg.scenarios import POLICY_LEVERS, descriptions
from nxmfg.scenarios.schema import OUTLOOK_BOUNDS

MAX_SAVED = 4
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
LEVER = {"type": "lever-slider", "name": ALL}
BOX = {"type": "lever-input", "name": ALL}
OUTLOOK = {"type": "outlook-input", "name": ALL, "year": ALL}
CHART = {"type": "chart", "name": ALL}
STYLE = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif;
       margin: 0; color: #222; font-size: 14px; background: #fafafa; }
header { padding: .6em 1.2em; background: #fff; border-bottom: 1px solid #ddd; display: flex; gap: 2em;
         align-items: baseline; flex-wrap: wrap; }
header h1 { font-size: 1.4em; margin: 0; } header p { color: #555; margin: 0; flex: 1; }
.main { display: flex; gap: 1em; padding: 1em; align-items: flex-start; }
.controls { width: 360px; flex: none; background: #fff; border: 1px solid #ddd; padding: .6em 1em;
            max-height: calc(100vh - 6em); overflow-y: auto; position: sticky; top: 1em; }
.controls h2 { font-size: 1.1em; border-bottom: 1px solid #ddd; }
.lever { margin: .4em 0 1em; } .lever-head { display: flex; justify-content: space-between; gap: .5em; }
.lever-label { font-weight: bold; } .lever-input { width: 6.5em; }
.refused, .refused input { border: 2px solid #c62828; background: #fdecea; }
.help { color: #666; font-size: 12px; } .message { color: #c62828; font-size: 12px; font-weight: bold; }
.outlook-boxes { display: flex; gap: .3em; } .outlook-year { display: flex; flex-direction: column; font-size: 11px; }
.outlook-input { width: 4.6em; }
.content { flex: 1; min-width: 0; }
.bar { background: #fff; border: 1px solid #ddd; padding: .6em 1em; display: flex; gap: 1em; flex-wrap: wrap;
       align-items: center; }
.bar .load { width: 16em; } .upload { border: 1px dashed #999; padding: .3em .6em; cursor: pointer; }
.note { color: #555; font-size: 12px; } .summary { font-weight: bold; margin: .6em 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: .6em; margin: .6em 0; }
.chart { background: #fff; border: 1px solid #ddd; }
.legend { display: flex; flex-wrap: wrap; gap: 1.4em; margin: .6em 0 0; font-size: 13px; }
iframe.verdicts { width: 100%; height: 720px; border: 1px solid #ddd; background: #fff; }
#name { width: 12em; }
"""
INDEX = """<!DOCTYPE html>
<html lang="zh-CN"><head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}<style>""" + STYLE + """</style></head>
<body>{%app_entry%}<footer>{%config%}{%scripts%}{%renderer%}</footer></body></html>"""


def create_app(explorer: Explorer, given: dict[str, scenarios.Scenario] | None = None) -> Dash:
    """The explorer app over `explorer`; `given`: scenario files from the command line, loadable by name."""
    from nxmfg.api.inputs import shipped_scenarios

    app = Dash(__name__, title="nxmfg explore", update_title=None, index_string=INDEX)
    loadable = {name: None for name in shipped_scenarios()} | dict(given or {})
    app.layout = _layout(explorer, list(loadable))
    _callbacks(app, explorer, loadable)
    return app


def _layout(explorer: Explorer, loadable: list[str]) -> html.Div:
    picked = [{"label": name, "value": name} for name in INDICATORS if name not in HEADLINES]
    bar = html.Div(className="bar", children=[
        dcc.Dropdown(id="load", options=loadable, placeholder="…", className="load"),
        html.Span(id="upload-label", className="note"),
        dcc.Upload(id="upload", className="upload", children="⬆ YAML"),
        html.Span(id="load-message", className="message"),
        dcc.Input(id="name", type="text", value="my_scenario", debounce=True),
        html.Button(id="save", n_clicks=0), html.Span(id="save-message", className="note"),
        html.Button(id="report", n_clicks=0),
        dcc.Loading(html.Span(id="report-message", className="note"), type="dot"),
    ])
    content = html.Section(className="content", children=[
        bar, html.Div(id="saved-list", className="note"), html.Div(id="summary", className="summary"),
        dcc.Dropdown(id="picked", options=picked, multi=True, value=[]),
        html.Div(id="legend", className="legend"),
        html.Div(id="charts", className="charts", children=graphs(HEADLINES)),
        dcc.Store(id="chart-names", data=list(HEADLINES)),
        html.H2(id="verdicts-heading"), html.P(id="verdicts-help", className="note"),
        html.Iframe(id="verdicts", className="verdicts"),
        html.Div(id="stamp", style={"display": "none"}),
    ])
    return html.Div([
        dcc.Store(id="draft", data={}), dcc.Store(id="fixed", data={}), dcc.Store(id="saved", data=[]),
        html.Header([html.H1(id="title"), html.P(id="subtitle"),
                     dcc.RadioItems(id="lang", value="zh", inline=True,
                                    options=[{"label": "中文", "value": "zh"}, {"label": "English", "value": "en"}])]),
        html.Div(className="main", children=[controls.panel(explorer), content]),
        dcc.Download(id="download-yaml"), dcc.Download(id="download-report"),
    ])


def _callbacks(app: Dash, explorer: Explorer, loadable: dict) -> None:
    @app.callback(Output("draft", "data"), Output("fixed", "data"), Output(LEVER, "value"), Output(BOX, "value"),
                  Output({"type": "lever-message", "name": ALL}, "children"), Output(BOX, "className"),
                  Output({"type": "outlook-message", "name": ALL}, "children"), Output(CHART, "figure"),
                  Output("verdicts", "srcDoc"), Output("summary", "children"), Output("legend", "children"),
                  Output("stamp", "children"),
                  Input(LEVER, "value"), Input(BOX, "value"), Input("start", "value"), Input(OUTLOOK, "value"),
                  Input("lang", "value"), Input("saved", "data"), Input("chart-names", "data"),
                  State("fixed", "data"), State("draft", "data"))
    def on_change(slid, typed, start, outlook_values, lang, saved, names, fixed, draft):
        """Any change of the page's numbers, in one round trip: the controls read into a draft, then the
        charts (only the lines that move, when only a control moved) and the verdicts."""
        triggered = {str(t["prop_id"]) for t in ctx.triggered}
        new, fixed, new_slid, new_typed, *messages = read_controls(explorer, slid, typed, start, outlook_values,
                                                                   fixed or {}, lang, triggered)
        controls_only = all(prop.startswith(("{", "start.")) for prop in triggered)
        # Only what changed goes back: a slider re-rendered for nothing costs the page ten milliseconds.
        head = (no_update if new == draft else new, fixed, _changed(slid, new_slid), _changed(typed, new_typed),
                *messages)
        if controls_only and new == draft:
            return (*head, [no_update] * len(names or []), no_update, no_update, no_update, no_update)
        return (*head, *redraw(explorer, new, lang, names or [], saved or [], patch=controls_only and bool(draft)))

    @app.callback(Output("charts", "children"), Output("chart-names", "data"), Input("picked", "value"),
                  prevent_initial_call=True)
    def on_picked(picked):
        names = list(dict.fromkeys([*HEADLINES, *(name for name in picked or [] if name in INDICATORS)]))
        return graphs(names), names

    @app.callback(*_text_outputs(), Input("lang", "value"))
    def on_language(lang):
        return texts(explorer, lang)

    @app.callback(Output(LEVER, "value", allow_duplicate=True), Output(BOX, "value", allow_duplicate=True),
                  Output("start", "value"), Output(OUTLOOK, "value"), Output("fixed", "data", allow_duplicate=True),
                  Output("name", "value"), Output("load-message", "children"),
                  Input("load", "value"), Input("upload", "contents"), State("upload", "filename"),
                  State("lang", "value"), prevent_initial_call=True)
    def on_load(name, contents, filename, lang):
        return load(explorer, loadable, name if ctx.triggered_id == "load" else None, contents, filename, lang)

    @app.callback(Output("download-yaml", "data"), Output("saved", "data"), Output("save-message", "children"),
                  Input("save", "n_clicks"), State("name", "value"), State("draft", "data"), State("saved", "data"),
                  State("lang", "value"), prevent_initial_call=True)
    def on_save(_, name, draft, saved, lang):
        return save(explorer, name, draft or {}, saved or [], lang)

    @app.callback(Output("saved-list", "children"), Input("saved", "data"), Input("lang", "value"))
    def on_saved(saved, lang):
        names = [entry["name"] for entry in saved or []]
        return f"{TEXT[lang]['saved']}: {', '.join(names)}" if names else ""

    @app.callback(Output("download-report", "data"), Output("report-message", "children"),
                  Input("report", "n_clicks"), State("name", "value"), State("draft", "data"),
                  State("saved", "data"), State("lang", "value"), prevent_initial_call=True)
    def on_report(_, name, draft, saved, lang):
        return report(explorer, name, draft or {}, saved or [], lang)


# ---- the callbacks' work, as plain functions (tested and timed without a browser) ----
def read_controls(explorer: Explorer, slid: list, typed: list, start: int, outlook_values: list, fixed: dict,
                  lang: str, triggered: set[str]) -> tuple:
    """The draft from every control. A typed value outside its lever's range is refused in the control
    (message, red box) and the draft keeps the slider's; a slider move fills the box. A loaded lever the
    controls cannot show exactly stays as loaded until its control is moved."""
    text = TEXT[lang]
    slid, typed = list(slid), list(typed)
    messages, classes, levers = [""] * len(POLICY_LEVERS), ["lever-input"] * len(POLICY_LEVERS), {}
    fixed = dict(fixed)
    for i, name in enumerate(POLICY_LEVERS):
        row = explorer.constants.loc[name]
        low, high = float(row["low"]), float(row["high"])
        box = json.dumps({"name": name, "type": "lever-input"}, separators=(",", ":")) + ".value"
        slider = box.replace("lever-input", "lever-slider")
        if box in triggered and slider not in triggered:
            value = typed[i]
            if not isinstance(value, int | float) or not low <= value <= high:
                template = text["not_number"] if not isinstance(value, int | float) else text["refused"]
                messages[i] = template.format(value=value, low=f"{low:g}", high=f"{high:g}")
                classes[i] = "lever-input refused"
            else:
                slid[i] = value
        else:
            typed[i] = slid[i]
        if (box in triggered or slider in triggered) and len(triggered) == 1:   # a user's move, not a load
            fixed.pop(name, None)
        value = slid[i]
        if name in fixed:
            levers[name] = fixed[name]
        elif value is not None and not np.isclose(value, explorer.baseline[name], rtol=0, atol=1e-12):
            levers[name] = {"from": int(start), "value": float(value)}
    paths, outlook_messages = _outlook_paths(explorer, outlook_values, lang, fixed, triggered)
    draft = {"levers": levers, "paths": paths}
    return draft, fixed, slid, typed, messages, classes, outlook_messages


def _changed(before: list, after: list) -> list:
    return [no_update if old == new else new for old, new in zip(before, after, strict=True)]


def _outlook_paths(explorer: Explorer, values: list, lang: str, fixed: dict, triggered: set[str]) -> tuple[dict, list]:
    """Edited outlooks as paths {year: value}; an outlook left at its defaults is not in the draft. A
    loaded path with other years than the boxes' stays as loaded until one of its boxes is edited."""
    paths, messages = {}, []
    for index, name in enumerate(EDITABLE_OUTLOOKS):
        kept = f"paths.{name}"
        if len(triggered) == 1 and f'"name":"{name}","type":"outlook-input"' in next(iter(triggered)):
            fixed.pop(kept, None)
        if kept in fixed:
            paths[name] = fixed[kept]
            messages.append("")
            continue
        low, high = OUTLOOK_BOUNDS[name]
        points = dict(zip(OUTLOOK_YEARS, values[index * len(OUTLOOK_YEARS):(index + 1) * len(OUTLOOK_YEARS)],
                          strict=True))
        bad = [v for v in points.values() if not isinstance(v, int | float) or not low <= v <= high]
        if bad:
            template = TEXT[lang]["refused"] if isinstance(bad[0], int | float) else TEXT[lang]["not_number"]
            messages.append(template.format(value=bad[0], low=f"{low:g}", high=f"{high:g}"))
            continue
        messages.append("")
        defaults = [controls.default_at(explorer.outlooks[name], year) for year in OUTLOOK_YEARS]
        if not np.allclose(list(points.values()), defaults, rtol=0, atol=1e-12):
            paths[name] = {str(year): float(value) for year, value in points.items()}
    return paths, messages


def graphs(names: list[str]) -> list:
    """One empty chart per indicator; `on_change` fills in their figures."""
    return [dcc.Graph(id={"type": "chart", "name": name}, className="chart", config={"displayModeBar": False})
            for name in names]


def redraw(explorer: Explorer, draft: dict, lang: str, names: list[str], saved: list[dict],
           patch: bool = False) -> tuple:
    """Figures of the charts `names` (with `patch`, only the lines a lever moves, as dash.Patch), the
    verdict page, the summary and a stamp (the draft's key, for tests and the benchmark)."""
    text = TEXT[lang]
    extra = tuple(name for name in names if name in INDICATORS)
    try:
        evaluation = explorer.evaluate(draft, extra)
        baseline = explorer.evaluate({}, extra)
        overlays = {explorer.baseline_label(lang): baseline.central}
        overlays |= {entry["name"]: explorer.evaluate(entry, extra).central for entry in saved}
    except ValueError as error:        # a draft the schema refuses: say so, keep the page
        message = text["error"].format(error=" ".join(str(error).split()))
        return [no_update] * len(names), no_update, message, no_update, no_update
    rows = [row for row in explorer.target_rows() if row["kind"] == "modelled"]
    figures = [charts.figure(name, lang, evaluation.central, evaluation.band, overlays, explorer.history, rows)
               for name in names]
    if patch:
        figures = [charts.moving(figure) for figure in figures]
    page = verdicts.page(evaluation.verdicts, lang, key(draft))
    summary = verdicts.summary(evaluation.verdicts, baseline.verdicts, lang)
    legend = no_update if patch else charts.legend(lang, [entry["name"] for entry in saved],
                                                   evaluation.band is not None)
    return figures, page, summary, legend, key(draft)


def key(draft: dict) -> str:
    """A short content key of a draft."""
    text = json.dumps({"levers": draft.get("levers") or {}, "paths": draft.get("paths") or {}}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _text_outputs() -> list[Output]:
    ids = ["title", "subtitle", "levers-heading", "start-label", "start-help", "outlooks-heading", "outlooks-help",
           "upload-label", "save", "report", "verdicts-heading", "verdicts-help"]
    return ([Output(name, "children") for name in ids]
            + [Output({"type": kind, "name": ALL}, "children") for kind in ("lever-label", "lever-help")]
            + [Output(LEVER, "marks"), Output("picked", "placeholder"), Output("load", "placeholder")]
            + [Output({"type": kind, "name": ALL}, "children") for kind in ("outlook-label", "outlook-help")])


def texts(explorer: Explorer, lang: str) -> list:
    """Every text of the page in `lang`."""
    text = TEXT[lang]
    constants = explorer.constants
    fixed = [text[key] for key in ("title", "subtitle", "levers", "start", "start_help", "outlooks", "outlook_help",
                                   "upload", "save", "report", "verdicts", "read_verdicts")]
    labels, helps, marks = [], [], []
    for name in POLICY_LEVERS:
        row = constants.loc[name]
        low, high = float(row["low"]), float(row["high"])
        unit = descriptions.unit(name, lang, constants)
        labels.append(f"{name} ({unit})")
        plan = explorer.plan.get(name)
        helps.append(f"{descriptions.describe(name, lang, constants)} {text['range']}: [{low:g}, {high:g}]; "
                     f"{text['baseline']} {explorer.baseline[name]:g}"
                     + (f"; {text['plan']} {plan:g}" if plan is not None else ""))
        marks.append(controls.marks(low, high, float(explorer.baseline[name]), plan, lang))
    outlook_labels = [f"{name} ({descriptions.unit(name, lang)})" for name in EDITABLE_OUTLOOKS]
    outlook_helps = [f"{descriptions.describe(name, lang)} {text['range']}: "
                     f"[{OUTLOOK_BOUNDS[name][0]:g}, {OUTLOOK_BOUNDS[name][1]:g}]" for name in EDITABLE_OUTLOOKS]
    return [*fixed, labels, helps, marks, text["indicators"], text["load"], outlook_labels, outlook_helps]


def load(explorer: Explorer, loadable: dict, name: str | None, contents: str | None, filename: str | None,
         lang: str) -> tuple:
    """Set the controls to a shipped, given or uploaded scenario; a bad file is named in one line."""
    from nxmfg.api import inputs

    try:
        scenario = (loadable.get(name) or inputs.scenario(name)) if name else files.read_upload(filename, contents)
        scenarios.check(scenario, explorer.constants, explorer.lookups)   # names and ranges, naming the file
        check_loadable(scenario)
        draft = draft_of(scenario)
    except ValueError as error:
        return (no_update,) * 6 + (" ".join(str(error).split()),)
    starts = [spec.start for spec in scenario.levers.values()]
    start = min(starts) if starts else controls.DEFAULT_START
    values, fixed = [], {}
    for lever in POLICY_LEVERS:
        spec = scenario.levers.get(lever)
        if spec is None:
            values.append(float(explorer.baseline[lever]))
            continue
        values.append(spec.value if spec.value is not None else spec.path[max(spec.path)])
        if spec.value is None or spec.start != start:   # a path, or another start: kept as loaded
            fixed[lever] = draft["levers"][lever]
    outlooks = []
    for outlook in EDITABLE_OUTLOOKS:
        points = scenario.paths.get(outlook)
        table = explorer.outlooks[outlook] if points is None else _series(points)
        outlooks += [controls.default_at(table, year) for year in OUTLOOK_YEARS]
        if points is not None and set(points) != set(OUTLOOK_YEARS):   # the boxes cannot hold it exactly
            fixed[f"paths.{outlook}"] = draft["paths"][outlook]
    return values, values, start, outlooks, fixed, scenario.name, TEXT[lang]["loaded"].format(name=scenario.name)


def draft_of(scenario: scenarios.Scenario) -> dict:
    """A scenario as a draft (the plain data a session keeps)."""
    levers = {lever: spec.model_dump(by_alias=True, exclude_none=True) for lever, spec in scenario.levers.items()}
    return {"levers": levers,
            "paths": {path: {str(y): v for y, v in points.items()} for path, points in scenario.paths.items()}}


def check_loadable(scenario: scenarios.Scenario) -> None:
    """ScenarioError naming the field if the explorer has no control for a lever or outlook it sets."""
    levers = sorted(set(scenario.levers) - set(POLICY_LEVERS))
    if levers:
        raise scenarios.ScenarioError(scenario.source, f"levers.{levers[0]}", "the explorer moves the regional "
                                      f"policy levers only: {', '.join(POLICY_LEVERS)}")
    outlooks = sorted(set(scenario.paths) - set(EDITABLE_OUTLOOKS))
    if outlooks:
        raise scenarios.ScenarioError(scenario.source, f"paths.{outlooks[0]}", "the explorer edits "
                                      f"{', '.join(EDITABLE_OUTLOOKS)} only")


def _series(points: dict):
    import pandas as pd

    return pd.Series({float(year): float(value) for year, value in points.items()}).sort_index()


def save(explorer: Explorer, name: str, draft: dict, saved: list[dict], lang: str) -> tuple:
    """The draft as NAME.yaml (a download) and among the saved scenarios overlaid (the newest four)."""
    import re

    text = TEXT[lang]
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name or ""):
        return no_update, no_update, text["bad_name"]
    entry = draft | {"name": name, "title": {"zh": name, "en": name},
                     "description": f"Saved from nxmfg explore ({name})."}
    try:
        scenario = explorer.scenario(entry)
    except ValueError as error:
        return no_update, no_update, " ".join(str(error).split())
    kept = [item for item in saved if item.get("name") != name][-(MAX_SAVED - 1):] + [entry]
    return ({"content": files.scenario_yaml(scenario), "filename": f"{name}.yaml"}, kept,
            text["saved_as"].format(name=name))


def report(explorer: Explorer, name: str, draft: dict, saved: list[dict], lang: str) -> tuple:
    """The report `nxmfg compare` writes, of the baseline, the saved scenarios and the current one."""
    import re

    current = draft | {"name": name if isinstance(name, str) and re.fullmatch(NAME_PATTERN, name) else "explored",
                       "description": "The scenario on screen in nxmfg explore."}
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
