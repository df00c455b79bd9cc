"""The explorer as a Dash app: layout and callbacks (their work: drafts.py and views.py).

Why Dash: a session's state lives in the browser (dcc.Store, memory), so two sessions share nothing by
construction and the server keeps no session objects; callbacks are plain functions over plain data,
callable (and timed) without a browser; Plotly gives hover values. The server's only shared state is
`Explorer`: what every session reads, and a cache of evaluations keyed by the draft's content.

The controls are the draft's only writer (`on_change`, which also redraws, in one round trip); loading
a file sets the controls, and levers or outlooks a control cannot show exactly (a lever's path or
another start year, an outlook with other years than the boxes') stay as loaded in `fixed` until their
control is moved.
"""

from __future__ import annotations

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from nxmfg import scenarios
from nxmfg.explore import charts, controls, decision, drafts, requests, views
from nxmfg.explore.evaluation import Explorer
from nxmfg.explore.texts import TEXT
from nxmfg.model.indicators import HEADLINES

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
iframe.decision { width: 100%; height: 880px; border: 1px solid #ddd; background: #fff; }
#name { width: 12em; }
"""
INDEX = """<!DOCTYPE html>
<html lang="zh-CN"><head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}<style>""" + STYLE + """</style></head>
<body>{%app_entry%}<footer>{%config%}{%scripts%}{%renderer%}</footer></body></html>"""


def create_app(explorer: Explorer, given: dict[str, scenarios.Scenario] | None = None) -> Dash:
    """The explorer app over `explorer`; `given`: scenario files from the command line, loadable by name."""
    from nxmfg.api.inputs import shipped_scenarios

    app = Dash(__name__, title="nxmfg explore", update_title=None, index_string=INDEX)
    requests.limit(app.server)
    decision.serve_images(app.server)
    loadable = {name: None for name in shipped_scenarios()} | dict(given or {})
    app.layout = _layout(explorer, list(loadable))
    _callbacks(app, explorer, loadable)
    return app


def _layout(explorer: Explorer, loadable: list[str]) -> html.Div:
    picked = views.picker_options("zh")
    bar = html.Div(className="bar", children=[
        dcc.Dropdown(id="load", options=loadable, placeholder="…", className="load", labels=TEXT["zh"]["dropdown"]),
        html.Span(id="upload-label", className="note"),
        dcc.Upload(id="upload", className="upload", children="⬆ YAML"),
        html.Span(id="load-message", className="message"),
        dcc.Input(id="name", type="text", value="my_scenario", debounce=True),
        html.Button(id="save", n_clicks=0), html.Span(id="save-message", className="note"),
        html.Button(id="report", n_clicks=0),
        dcc.Loading(html.Span(id="report-message", className="note"), type="dot"),
    ])
    content = html.Section(className="content", children=[
        html.Iframe(id="decision", className="decision"),
        bar, html.Div(id="saved-list", className="note"), html.Div(id="summary", className="summary"),
        dcc.Dropdown(id="picked", options=picked, multi=True, value=[], labels=TEXT["zh"]["dropdown"]),
        html.Div(id="picked-message", className="message"),
        html.Div(id="legend", className="legend"),
        html.Div(id="charts", className="charts", children=views.graphs(HEADLINES)),
        dcc.Store(id="chart-names", data=list(HEADLINES)),
        html.H2(id="verdicts-heading"), html.P(id="verdicts-help", className="note"),
        html.Iframe(id="verdicts", className="verdicts"),
        html.Div(id="stamp", style={"display": "none"}),
        dcc.Store(id="moves"), html.Div(id="moved", style={"display": "none"}),
        dcc.Store(id="pages"), html.Div(id="framed", style={"display": "none"}),
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
                  Output("pages", "data"), Output("summary", "children"), Output("legend", "children"),
                  Output("stamp", "children"), Output("moves", "data"),
                  Input(LEVER, "value"), Input(BOX, "value"), Input("start", "value"), Input(OUTLOOK, "value"),
                  Input("lang", "value"), Input("saved", "data"), Input("chart-names", "data"),
                  State("fixed", "data"), State("draft", "data"),
                  State({"type": "lever-message", "name": ALL}, "children"), State(BOX, "className"),
                  State({"type": "outlook-message", "name": ALL}, "children"))
    @requests.guarded(message_at=9)
    def on_change(slid, typed, start, outlook_values, lang, saved, names, fixed, draft, *said):
        """Any change of the page's numbers, in one round trip: the controls read into a draft, then the
        charts (when only a control moved, only the lines that move, as `moves` for charts.MOVE_JS), the
        verdicts and D's decision page (`pages`, which views.FRAMES_JS writes into their frames)."""
        slid, typed, start, outlook_values = requests.controls(slid, typed, start, outlook_values)
        lang, saved, names = requests.language(lang), requests.saved(saved), requests.chart_names(names)
        fixed, draft = requests.fixed(fixed), requests.draft(draft)
        triggered = {str(t["prop_id"]) for t in ctx.triggered}
        shown = drafts.Controls(slid, typed, start, outlook_values)
        new, new_fixed, new_slid, new_typed, *messages = drafts.read_controls(explorer, shown, fixed or {}, lang,
                                                                              triggered)
        controls_only = all(prop.startswith(("{", "start.")) for prop in triggered)
        # Only what changed goes back: a slider re-rendered for nothing costs the page ten milliseconds, and a
        # lever move leaves the controls' messages and marks as they were (`said`: what the page shows).
        head = (no_update if new == draft else new, no_update if new_fixed == fixed else new_fixed,
                _changed(slid, new_slid), _changed(typed, new_typed),
                *(_changed(old, message) for old, message in zip(said, messages, strict=True)))
        if controls_only and new == draft:
            return (*head, [no_update] * len(names or []), no_update, no_update, no_update, no_update, no_update)
        view = views.View(lang, names or [], saved or [])
        return (*head, *views.redraw(explorer, new, view, patch=controls_only and bool(draft)))

    app.clientside_callback(charts.MOVE_JS, Output("moved", "children"), Input("moves", "data"),
                            prevent_initial_call=True)

    app.clientside_callback(views.FRAMES_JS, Output("framed", "children"), Input("pages", "data"),
                            prevent_initial_call=True)

    @app.callback(Output("charts", "children"), Output("chart-names", "data"), Output("picked-message", "children"),
                  Input("picked", "value"), prevent_initial_call=True)
    @requests.guarded(message_at=2)
    def on_picked(picked):
        names = list(dict.fromkeys([*HEADLINES, *requests.chart_names(picked, "picked")]))
        return views.graphs(names), names, ""

    @app.callback(*_text_outputs(), Input("lang", "value"))
    @requests.guarded(message_at=1)      # a refusal shows under the title
    def on_language(lang):
        return views.texts(explorer, requests.language(lang))

    @app.callback(Output(LEVER, "value", allow_duplicate=True), Output(BOX, "value", allow_duplicate=True),
                  Output("start", "value"), Output(OUTLOOK, "value"), Output("fixed", "data", allow_duplicate=True),
                  Output("name", "value"), Output("load-message", "children"),
                  Input("load", "value"), Input("upload", "contents"), State("upload", "filename"),
                  State("lang", "value"), prevent_initial_call=True)
    @requests.guarded(message_at=6)
    def on_load(name, contents, filename, lang):
        lang = requests.language(lang)
        if ctx.triggered_id == "load":
            return drafts.load(explorer, loadable, requests.offered(name, loadable), None, lang)
        return drafts.load(explorer, loadable, None, requests.upload(filename, contents), lang)

    @app.callback(Output("download-yaml", "data"), Output("saved", "data"), Output("save-message", "children"),
                  Input("save", "n_clicks"), State("name", "value"), State("draft", "data"), State("saved", "data"),
                  State("lang", "value"), prevent_initial_call=True)
    @requests.guarded(message_at=2)
    def on_save(_, name, draft, saved, lang):
        name = requests.text(name, "name", empty=True)
        return drafts.save(explorer, name, requests.draft(draft), requests.saved(saved), requests.language(lang))

    @app.callback(Output("saved-list", "children"), Input("saved", "data"), Input("lang", "value"))
    @requests.guarded(message_at=0)
    def on_saved(saved, lang):
        names = [entry["name"] for entry in requests.saved(saved)]
        return f"{TEXT[requests.language(lang)]['saved']}: {', '.join(names)}" if names else ""

    @app.callback(Output("download-report", "data"), Output("report-message", "children"),
                  Input("report", "n_clicks"), State("name", "value"), State("draft", "data"),
                  State("saved", "data"), State("lang", "value"), prevent_initial_call=True)
    @requests.guarded(message_at=1)
    def on_report(_, name, draft, saved, lang):
        name = requests.text(name, "name", empty=True)
        return views.report(explorer, name, requests.draft(draft), requests.saved(saved), requests.language(lang))


def _text_outputs() -> list[Output]:
    ids = ["title", "subtitle", "levers-heading", "start-label", "start-help", "outlooks-heading", "outlooks-help",
           "upload-label", "save", "report", "verdicts-heading", "verdicts-help"]
    return ([Output(name, "children") for name in ids]
            + [Output({"type": kind, "name": ALL}, "children") for kind in ("lever-label", "lever-help")]
            + [Output(LEVER, "marks"), Output("picked", "placeholder"), Output("load", "placeholder")]
            + [Output({"type": kind, "name": ALL}, "children") for kind in ("outlook-label", "outlook-help")]
            + [Output("picked", "options"), Output("picked", "labels"), Output("load", "labels")])


def _changed(before, after: list) -> list:
    """`after`, with no_update where `before` (what the page shows, as it sent it) already holds the value."""
    if not isinstance(before, list) or len(before) != len(after):
        return after
    return [no_update if old == new else new for old, new in zip(before, after, strict=True)]
