"""The explorer's charts as Plotly figure dicts (no plotly.graph_objects: building and validating those
would take a good part of the 300 ms a redraw has).

Each chart of an indicator holds the band (5-95 % over the states of the world), the baseline, the
saved scenarios and the current one, history as dots, a line at the last data year, and the plans'
targets: `level` targets as markers labelled with document and year, the others as a note in the corner.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from nxmfg.model import plots
from nxmfg.model.plots import LAST_DATA_YEAR, RATE_SUFFIXES
from nxmfg.explore import deferred
from nxmfg.explore.texts import TEXT

FONT = '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif'
CURRENT, BASELINE = "#d62728", "#555555"
SAVED = ("#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e")
MOVES = "moves"   # `meta` of the traces a lever moves (the band's edges, the current line)
SYMBOLS = {"at_least": "triangle-up-open", "at_most": "triangle-down-open", "about": "diamond-open"}


def figure(name: str, lang: str, current: xr.Dataset, edges: tuple[np.ndarray, np.ndarray] | None,
           lines: dict[str, xr.Dataset], observed: tuple[list, np.ndarray], targets: list[dict]) -> dict:
    """One indicator's chart. current: the scenario (dims year); edges: its band's 5 and 95 % lines over
    the states of the world (Evaluation.edges), or None; lines: label -> run to overlay (the baseline
    first, then saved scenarios); observed: the indicator's history, (years, values)."""
    title, unit = plots.indicator_label(name, lang)
    years = current["year"].values.tolist()
    traces = _band(edges, years, lang) if edges is not None else []
    for (label, run), colour in zip(lines.items(), (BASELINE, *SAVED), strict=False):
        traces.append(_line(years, run[name].values, label, colour, dash="dash" if colour == BASELINE else "solid",
                            width=1.5))
    traces.append(_line(years, current[name].values, TEXT[lang]["current"], CURRENT, width=2.5) | {"meta": MOVES})
    if len(observed[0]):
        traces.append({"type": "scatter", "mode": "markers", "x": list(observed[0]),
                       "y": _rounded(observed[1]), "name": TEXT[lang]["history"],
                       "marker": {"color": "#222222", "size": 6}})
    rows = [row for row in targets if row.get("indicator") == name]
    traces += [_target(row, unit, lang) for row in rows if row["measure"] == "level"]
    layout = _layout(name, title, unit, lang, rows)
    layout["yaxis"]["range"] = _range(traces, rows, name)
    return {"data": traces, "layout": layout}


def _range(traces: list[dict], rows: list[dict], name: str) -> list[float]:
    """A y range that keeps the upright target labels inside the chart (levels from zero), its ends on a tick
    step (a fifth of the span, 1, 2, 2.5 or 5 x 10^k): a lever moved a little leaves it, so the page moves the
    lines alone and lays out no axis again (`moving`)."""
    values = [v for trace in traces for v in trace.get("y", []) if v is not None] or [0.0]
    low, high = min(values), max(values)
    room = 0.18 * (high - low or abs(high) or 1.0)
    above = any(row["measure"] == "level" and row["direction"] != "at_most" and row["threshold"] >= high - room
                for row in rows)
    below = any(row["measure"] == "level" and row["direction"] == "at_most" and row["threshold"] <= low + room
                for row in rows)
    from_zero = low >= 0 and not name.endswith(RATE_SUFFIXES)
    bottom = 0.0 if from_zero else low - (room if below else 0.05 * room)
    top = high + (room if above else 0.05 * room)
    span = (top - bottom) / 5
    step = 10.0 ** math.floor(math.log10(span))
    step *= next(factor for factor in (1, 2, 2.5, 5, 10) if factor * step >= span)
    return [0.0 if from_zero else _tick(math.floor(bottom / step) * step), _tick(math.ceil(top / step) * step)]


def _tick(value: float) -> float:
    return float(f"{value:.12g}")     # 0.30000000000000004 -> 0.3


def legend(lang: str, saved: list[str], band: bool) -> list:
    """One legend above the charts (a legend per chart would cost Plotly a third of its redraw)."""
    from dash import html

    text = TEXT[lang]

    def line(label: str, colour: str, style: str = "solid", width: int = 3):
        return html.Span([html.Span(style={"display": "inline-block", "width": "2em", "verticalAlign": "middle",
                                           "borderTop": f"{width}px {style} {colour}"}), f" {label}"],
                         className="key")

    keys = [line(text["current"], CURRENT), line(text["baseline_line"], BASELINE, "dashed", 2)]
    keys += [line(name, colour, width=2) for name, colour in zip(saved, SAVED, strict=False)]
    if band:
        keys.append(html.Span([html.Span(style={"display": "inline-block", "width": "2em", "height": "0.9em",
                                                "background": "rgba(120,120,120,0.35)", "verticalAlign": "middle"}),
                               f" {text['band']}"], className="key"))
    keys += [html.Span(f"● {text['history']}", className="key"),
             html.Span(f"△ ▽ ◇ {text['target']} ({text['target_marks']})", className="key"),
             html.Span(f"┆ {text['last_data']} {LAST_DATA_YEAR}", className="key")]
    return keys


def moving(figure: dict) -> dict:
    """What a lever moves in `figure`: {"traces": {index: y} of the band and the current line, "range": the y
    range}, for MOVE_JS to apply in the page (no figure for Dash and Plotly to rebuild)."""
    data = figure["data"]
    return {"traces": {str(index): trace["y"] for index, trace in enumerate(data) if trace.get("meta") == MOVES},
            "range": figure["layout"]["yaxis"]["range"]}


# Moves the lines of each chart in place (moves: {"charts": {name: moving(...)}, "stamp": draft key). Where the
# chart's y range stays, the page draws the moved lines itself (`fast`): their SVG paths from Plotly's own axis
# maps, and the new values into the points Plotly keeps (what its hover, zoom and resize read) and the figure's
# data, so Plotly's next drawing agrees. Even Plotly's lightest update (`animate` without redraw) runs its
# defaults pass over the whole figure, about 9 ms a chart with eight charts in the window; a whole figure
# (react) would cost about 40 ms a chart. Where the range changes, a value is missing inside a line or the chart
# is not as `fast` expects, Plotly draws the move. A chart out of the window takes its newest move when it
# scrolls into view or the browser is idle (explore/deferred.py). Each chart's holder says which draft it shows
# (data-stamp). Returns the stamp, for tests and the benchmark.
MOVE_JS = """function (moves) {
    if (!moves || !window.Plotly) { return window.dash_clientside.no_update; }
    """ + deferred.INSTALL + """
    // The moved lines' SVG paths (each line, and the band's fill between its edges) drawn from Plotly's own axis
    // maps, and the points Plotly keeps of them (its calcdata: hover, zoom and resize read them): [[path, d]] and
    // [[points, y]], or null where the chart is not as expected (Plotly then draws the move itself).
    const fast = (gd, traces, ys) => {
        const groups = gd.querySelectorAll('.scatterlayer > .trace');
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        if (groups.length !== gd.data.length || !gd.calcdata || !xa || !ya || !xa.c2p || !ya.c2p) { return null; }
        // Values may be missing (null) at the start or the end, the same years in every moved line (a growth
        // rate has none for 2010), where Plotly's points have none either: each line is then one stretch.
        const missing = ys.map(y => y.map(v => (v === null ? 'x' : '-')).join(''));
        if (missing.some(m => m !== missing[0] || /-x+-/.test(m))) { return null; }
        const points = {}, calc = [];
        traces.forEach((index, k) => {
            const x = gd.data[index].x, y = ys[k], cd = gd.calcdata[index];
            const same = cd && x.length === y.length && cd.length === x.length &&
                y.every((v, i) => (typeof v === 'number' ? cd[i].x === x[i] : v === null && cd[i].y === undefined));
            const shown = x.flatMap((year, i) => (y[i] === null ? [] :
                [xa.c2p(year).toFixed(2) + ',' + ya.c2p(y[i]).toFixed(2)]));
            points[index] = same && shown.length ? shown.join('L') : null;      // the line through them
            calc.push([cd, y]);
        });
        const drawn = [];
        for (const index of traces) {
            const line = groups[index].querySelector('.js-line');
            if (!points[index] || !line) { return null; }
            drawn.push([line, 'M' + points[index]]);
            if (gd.data[index].fill === 'tonexty') {
                // Plotly keeps this fill in the group of the trace below or (after an update) in its own: the
                // one fill of the two when neither neighbour has a fill of its own
                const fills = [groups[index - 1], groups[index]]
                    .flatMap(g => (g ? [...g.querySelectorAll('.js-fill')] : []));
                const alone = ![gd.data[index - 1], gd.data[index + 1]].some(t => t && t.fill && t.fill !== 'none');
                if (fills.length !== 1 || !alone || !points[index - 1]) { return null; }
                const below = points[index - 1].split('L').reverse().join('L');
                drawn.push([fills[0], 'M' + points[index] + 'L' + below + 'Z']);
            }
        }
        return [drawn, calc];
    };
    const apply = (holder, move, stamp) => {
        const gd = holder.querySelector('.js-plotly-plot');
        if (!gd || !gd.data || !gd._fullLayout) { return; }
        const traces = Object.keys(move.traces).map(Number);
        const ys = traces.map(index => move.traces[index]);
        const shown = gd._fullLayout.yaxis.range;
        const kept = shown[0] === move.range[0] && shown[1] === move.range[1];
        // not while Plotly draws an earlier move (holder.nxmfgPlotting of them): it would draw over this one
        const done = kept && !holder.nxmfgPlotting ? fast(gd, traces, ys) : null;
        if (done) {
            done[0].forEach(([path, d]) => path.setAttribute('d', d));
            done[1].forEach(([cd, y]) => cd.forEach((point, i) => { if (y[i] !== null) { point.y = y[i]; } }));
            traces.forEach((index, k) => { gd.data[index].y = ys[k]; });
            holder.dataset.stamp = stamp;
            return;
        }
        holder.nxmfgPlotting = (holder.nxmfgPlotting || 0) + 1;
        const plotted = kept ?
            Plotly.animate(gd, {data: ys.map(y => ({y: y})), traces: traces},
                           {transition: {duration: 0}, frame: {duration: 0, redraw: false}, mode: 'immediate'}) :
            Plotly.update(gd, {y: ys}, {'yaxis.range': move.range}, traces);
        // plotted: what it shows; a drawing the next move interrupts leaves the stamp to that move's
        Promise.resolve(plotted).then(() => { holder.dataset.stamp = stamp; }, () => {})
            .then(() => { holder.nxmfgPlotting -= 1; });
    };
    if (moves.whole) { nxmfgDeferred.drop('move'); }      // new figures: what waited was for the old ones
    for (const [name, move] of Object.entries(moves.charts)) {
        const holder = document.getElementById(JSON.stringify({name: name, type: 'chart'}));
        if (holder) { nxmfgDeferred.run(holder, 'move', () => apply(holder, move, moves.stamp)); }
    }
    return moves.stamp;
}"""


def _band(edges: tuple[np.ndarray, np.ndarray], years: list, lang: str) -> list[dict]:
    low, high = edges
    edge = {"type": "scatter", "mode": "lines", "x": years, "line": {"width": 0}, "hoverinfo": "skip"}
    return [edge | {"y": _rounded(low), "showlegend": False, "name": "5 %", "meta": MOVES},
            edge | {"y": _rounded(high), "fill": "tonexty", "fillcolor": "rgba(120,120,120,0.25)",
                    "name": TEXT[lang]["band"], "meta": MOVES}]


def _line(years: list, values: np.ndarray, label: str, colour: str, dash: str = "solid", width: float = 2) -> dict:
    return {"type": "scatter", "mode": "lines", "x": years, "y": _rounded(values), "name": label,
            "line": {"color": colour, "width": width, "dash": dash}}


def _target(row: dict, unit: str, lang: str) -> dict:
    """A level target: a hollow marker at (year, threshold), the clause on hover (labels: `_layout`)."""
    label = f"{row['doc']} {row['year']}"
    hover = (row["clause"] if lang == "zh" else row["target"]).replace("<", "&lt;")
    return {"type": "scatter", "mode": "markers", "x": [row["year"]], "y": [row["threshold"]],
            "showlegend": False, "name": label,
            "marker": {"symbol": SYMBOLS.get(row["direction"], "diamond-open"), "size": 11, "color": "#000000",
                       "line": {"width": 1.5}},
            "hovertemplate": f"{label}: {plots.SYMBOLS.get(row['direction'], '')} %{{y}} {unit}<br>{hover}"
                             "<extra></extra>"}


def _layout(name: str, title: str, unit: str, lang: str, rows: list[dict]) -> dict:
    notes = [plots.describe_target(row, unit, lang) for row in rows if row["measure"] != "level"]
    # Labels stand upright above (below, for at_most) their markers: C's 2021-23 markers sit a year apart.
    labels = [{"x": row["year"], "y": row["threshold"], "text": f"{row['doc']} {row['year']}", "textangle": -90,
               "showarrow": False, "font": {"size": 10, "color": "#333333"},
               "yanchor": "top" if row["direction"] == "at_most" else "bottom",
               "yshift": -9 if row["direction"] == "at_most" else 9} for row in rows if row["measure"] == "level"]
    annotations = [{"x": LAST_DATA_YEAR, "y": 0, "xref": "x", "yref": "paper", "xanchor": "left", "yanchor": "bottom",
                    "text": f"{TEXT[lang]['last_data']} {LAST_DATA_YEAR}", "showarrow": False,
                    "font": {"size": 10, "color": "#666666"}}, *labels]
    if notes:
        shown = notes[:3] + (["…"] if len(notes) > 3 else [])
        annotations.append({"x": 0.01, "y": 0.99, "xref": "paper", "yref": "paper", "xanchor": "left",
                            "yanchor": "top", "align": "left", "showarrow": False, "bgcolor": "rgba(255,255,255,0.85)",
                            "bordercolor": "#bbbbbb", "font": {"size": 10},
                            "text": "<br>".join(f"{TEXT[lang]['target']}: {note}" for note in shown)})
    return {"title": {"text": title, "x": 0.01, "font": {"size": 15}}, "height": 300,
            "margin": {"l": 55, "r": 10, "t": 40, "b": 30}, "font": {"family": FONT},
            "hovermode": "x unified", "showlegend": False,   # one legend for all charts: `legend`
            "xaxis": {"dtick": 5, "range": [2009.5, 2035.5]},
            "yaxis": {"title": {"text": unit}, "rangemode": "normal" if name.endswith(RATE_SUFFIXES) else "tozero",
                      "tickformat": ",~g"},
            "shapes": [{"type": "line", "x0": LAST_DATA_YEAR, "x1": LAST_DATA_YEAR, "y0": 0, "y1": 1, "xref": "x",
                        "yref": "paper", "line": {"color": "#888888", "width": 1, "dash": "dot"}}],
            "annotations": annotations, "plot_bgcolor": "#ffffff", "uirevision": name}


def _rounded(values: np.ndarray) -> list:
    """Six significant digits (what hover shows and more), None for NaN: a smaller page to send."""
    values = np.asarray(values, dtype=float)
    with np.errstate(all="ignore"):
        digits = np.where(values == 0, 0, 5 - np.floor(np.log10(np.abs(values)))).astype(int)
    return [None if not np.isfinite(v) else round(float(v), int(d)) for v, d in zip(values, digits, strict=True)]
