"""A planner's report: one self-contained HTML file comparing scenarios, plus every chart as PNG and SVG.

The HTML embeds its images as data URIs and its CSS inline, so it opens offline, can be mailed as one
file and prints on A4 landscape. It holds one chart per headline indicator, the target-attainment
matrix (targets x scenarios) and the lever table (what each scenario changes from the baseline).
"""

import base64
import datetime as dt
import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from nxmfg import scenarios
from nxmfg.model import drawing, plots
from nxmfg.scenarios import descriptions, outcomes
from nxmfg.model.files import write_bytes

TEXT = {
    "zh": {"title": "宁夏制造业系统动力学模型：情景比较报告", "version": "模型版本", "date": "生成日期",
           "scenarios": "情景", "charts": "主要指标", "matrix": "目标达成情况", "levers": "政策杠杆",
           "target": "目标", "threshold": "目标值", "doc": "文件", "year": "年份", "met": "达成",
           "missed": "未达成",
           "n_a": "无法评估", "summary": "达成目标数", "lever": "杠杆", "description": "说明", "unit": "单位",
           "baseline": "基准值", "unchanged": "—", "from": "起", "exogenous": "外生情景路径",
           "no_levers": "各情景均未改变任何杠杆。", "no_targets": "没有可评估的目标。",
           "read_charts": "实线为各情景模拟值，圆点为统计历史值，"
                          "空心三角为规划目标（▲不低于，▼不高于，◆约为）；"
                          "其他类型的目标（增速、累计等）列在图内左上角。灰色阴影为集合模拟的5–95 %区间"
                          "（默认：基准情景在校准参数不确定性下的区间）。",
           "read_matrix": "每格为 达成与否 及 余量（模拟值与目标值之差，正值表示优于目标，单位同目标）。",
           "read_levers": "表中只列出至少一个情景改变了的杠杆；“—”表示该情景保持基准值。",
           "meta_baseline": "基准参数", "meta_files": "情景文件",
           "actual": "实际（数据）", "right": "模型判断正确",
           "read_actual": "“实际”列为统计数据给出的结果（目标年份不晚于数据最后一年2023年时）：按目标本身的口径计算；"
                          "所需年份缺数据时为“无法判断”，数据口径与目标不同时说明原因而不作比较。"},
    "en": {"title": "Ningxia manufacturing system-dynamics model: scenario comparison",
           "version": "Model version", "date": "Date", "scenarios": "Scenarios",
           "charts": "Headline indicators", "matrix": "Target attainment", "levers": "Policy levers",
           "target": "Target", "threshold": "Threshold", "doc": "Doc",
           "year": "Year", "met": "met", "missed": "missed", "n_a": "not assessed", "summary": "Targets met",
           "lever": "Lever", "description": "Description", "unit": "Unit", "baseline": "Baseline",
           "unchanged": "—", "from": "from", "exogenous": "exogenous outlook path",
           "no_levers": "No scenario changes any lever.", "no_targets": "No targets to assess.",
           "read_charts": "Lines are the scenarios, dots the recorded history, hollow triangles the plans' "
                          "targets (▲ at least, ▼ at most, ◆ about); other kinds of target (growth, totals) "
                          "are listed in each chart's top-left corner. Grey shading is the ensemble's 5–95 % "
                          "range (by default: the baseline under the calibrated parameters' uncertainty).",
           "read_matrix": "Each cell: met or missed, and the margin (model minus target, positive = better "
                          "than the target, in the target's unit).",
           "read_levers": "Only levers that at least one scenario changes are listed; '—' keeps the "
                          "baseline.",
           "meta_baseline": "Baseline parameters", "meta_files": "Scenario files",
           "actual": "Actual (data)", "right": "Model right",
           "read_actual": "The Actual column is what the data recorded, for targets up to the last data year "
                          "(2023), read with the target's own measure; where a year it needs is missing it is "
                          "not determinable, and where the data hold another statistic the reason is given "
                          "instead of a comparison."},
}

CSS = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", "SimHei",
       sans-serif; margin: 1.5em auto; max-width: 1500px; padding: 0 1em; color: #222; font-size: 14px; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { border-bottom: 2px solid #ccc; margin-top: 1.6em; break-after: avoid; }
.meta { color: #555; } .meta td { padding: 0 1em 0 0; vertical-align: top; }
.note { color: #555; font-size: .9em; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 1em; }
figure { margin: 0; break-inside: avoid; } figure img { width: 100%; height: auto; }
table.grid { border-collapse: collapse; font-size: 12px; }
table.grid th, table.grid td { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; }
table.grid th { background: #f0f0f0; position: sticky; top: 0; }
table.grid td.label { min-width: 16em; max-width: 28em; } td.num { text-align: right; white-space: nowrap; }
td.path { min-width: 6em; max-width: 14em; text-align: right; }
td.met { background: #d7efd9; color: #1a5e20; white-space: nowrap; text-align: right; }
td.missed { background: #f7d4d4; color: #8a1c1c; white-space: nowrap; text-align: right; }
td.na { background: #eeeeee; color: #777; text-align: center; }
td.actual { min-width: 7em; max-width: 16em; font-size: 11px; }
td.actual.met { text-align: left; white-space: normal; } td.actual.missed { text-align: left; white-space: normal; }
p.summary { font-weight: bold; }
.scroll { overflow-x: auto; }
@page { size: A4 landscape; margin: 12mm; }
@media print { body { max-width: none; font-size: 11px; } .charts { grid-template-columns: 1fr 1fr; }
  table.grid { font-size: 9px; } table.grid th { position: static; } .scroll { overflow: visible; } }
"""

# Lets a browser test (or a reader's devtools) see that every image decoded.
IMAGE_CHECK = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  document.body.setAttribute("data-images", images.length);
  document.body.setAttribute("data-images-broken", broken.length);
});
</script>"""




def labelled(runs: Mapping[str, xr.Dataset], scenario_list: Iterable, lang: str) -> dict[str, xr.Dataset]:
    """`runs` keyed by their scenarios' titles in `lang` (chart legends), names where titles are missing
    or would repeat."""
    titles = {s.name: s.label(lang) for s in scenario_list}
    labels = [titles.get(name, name) for name in runs]
    return {label if labels.count(label) == 1 else name: run
            for (name, run), label in zip(runs.items(), labels, strict=True)}


def chart_names(runs: Mapping[str, xr.Dataset], targets: Iterable) -> list[str]:
    """Headline indicators, then every other indicator with an assessable target, if the runs have it."""
    targeted = [row["indicator"] for row in plots.target_rows(targets) if row.get("indicator")]
    names = dict.fromkeys([*plots.HEADLINES, *targeted])
    return [name for name in names if all(name in run for run in runs.values())]


def write_charts(runs, names, history, targets, out_dir: Path, lang: str, bands=None,
                 headlines: bool = False, alongside: Sequence[Callable[[], object]] = ()) -> dict[str, Path]:
    """One chart per indicator as out_dir/charts/NAME.png and .svg, drawn on every core; with
    `headlines`, also out_dir/headlines.png, the headline charts tiled. Returns name -> PNG path.

    alongside: other writes (each a call without arguments) shared out with the charts.
    """
    folder = out_dir / "charts"
    folder.mkdir(parents=True, exist_ok=True)
    targets = plots.target_rows(targets)
    names = list(dict.fromkeys([*names, *(plots.HEADLINES if headlines else [])]))
    names = [name for name in names if all(name in run for run in runs.values())]
    drawing.draw_all([*alongside, *(partial(_chart, runs, name, history, targets, bands, lang, folder)
                                    for name in names)])
    if headlines:
        plots.tile([folder / f"{name}.png" for name in plots.HEADLINES if name in names], out_dir / "headlines.png")
    return {name: folder / f"{name}.png" for name in names}


def _chart(runs, name: str, history, targets: list[dict], bands, lang: str, folder: Path) -> None:
    band = bands[name] if bands is not None and name in bands else None
    ax = plots.plot_indicator(runs, name, history=history, targets=targets, band=band, lang=lang)
    plots.save_chart(ax.figure, folder / name, lang)
    plt.close(ax.figure)


def attainment_matrix(runs: Mapping[str, xr.Dataset], targets) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per target: id, doc, target, year, indicator, threshold, direction;
    columns (scenario, met | margin | value))."""
    tables = {name: scenarios.attainment(run, targets) for name, run in runs.items()}
    first = next(iter(tables.values()))
    columns = ["id", "doc", "target", "year", "indicator", "threshold", "direction"]
    rows = first[columns].reset_index(drop=True)
    cells = pd.concat({name: table.set_index("id")[["met", "margin", "value"]]
                       for name, table in tables.items()}, axis=1)
    return rows, cells.reindex(rows["id"])


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


def _matrix_html(runs, targets, lang: str, history: pd.DataFrame | None = None,
                 labels: Iterable[str] | None = None) -> str:
    text = TEXT[lang]
    rows, cells = attainment_matrix(runs, targets)
    given = {row["id"]: row for row in plots.target_rows(targets)}
    if rows.empty:
        return f"<p>{text['no_targets']}</p>"
    history = history if history is not None else pd.DataFrame(columns=["indicator", "year", "value", "unit"])
    tables = {name: outcomes.with_actuals(scenarios.attainment(run, targets), targets, history)
              for name, run in runs.items()}
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
                                  f"{mark} {_number(margin, True)}</td>")
        lines.append(
            f"<tr><td>{html.escape(str(row.id))}</td><td>{html.escape(str(row.doc))}</td>"
            f'<td class="label" title="{html.escape(wording)}">{html.escape(short)}<br><span class="note">'
            f"{html.escape(label)}</span></td><td>{row.year}</td>"
            f'<td class="num">{symbols.get(row.direction, "")} {_number(row.threshold)} '
            f"{html.escape(unit)}</td>{_actual_html(actual.loc[row.id], lang)}"
            f"{''.join(scenario_cells)}</tr>")
    counts = "".join(f"<th>{int(cells[(name, 'met')].fillna(False).astype(bool).sum())} / "
                     f"{int(cells[(name, 'met')].notna().sum())}</th>" for name in runs)
    lines.append(f'<tr><th colspan="6">{text["summary"]}</th>{counts}</tr>')
    right = "".join(f"<th>{outcomes.summary(table)['model_right']} / {outcomes.summary(table)['judged']}</th>"
                    for table in tables.values())
    lines.append(f'<tr><th colspan="6">{text["right"]}</th>{right}</tr>')
    return (_summary_html(runs, tables, lang)
            + f'<div class="scroll"><table class="grid">{"".join(lines)}</table></div>')


def describe_path(path, lang: str) -> str:
    """A lever's time path as text, '2020起 100' or '2021: 0.06 → 2023: 0.08' (pre-start point dropped)."""
    if not isinstance(path, pd.Series):
        return _number(float(path))
    points = path[path.index >= np.ceil(path.index.min())] if len(path) > 1 else path
    if len(points) == 1:
        year, value = points.index[0], points.iloc[0]
        return f"{int(year)}{TEXT[lang]['from']} {_number(value)}" if lang == "zh" else \
            f"{TEXT[lang]['from']} {int(year)}: {_number(value)}"
    return " → ".join(f"{int(year)}: {_number(value)}" for year, value in points.items())


def _levers_html(scenario_list, baseline: Mapping[str, float], constants: pd.DataFrame, lang: str) -> str:
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
        unit = descriptions.unit(lever, lang, constants) if known or outlook else ""
        base = _number(baseline[lever]) if lever in baseline else ""
        cells = "".join(f'<td class="path">{html.escape(describe_path(params[lever], lang))}</td>'
                        if lever in params else f'<td class="na">{text["unchanged"]}</td>'
                        for params in changes.values())
        lines.append(f'<tr><td><code>{html.escape(lever)}</code></td><td class="label">'
                     f"{html.escape(description)}</td><td>{html.escape(unit)}</td>"
                     f'<td class="num">{base}</td>{cells}</tr>')
    return f'<div class="scroll"><table class="grid">{"".join(lines)}</table></div>'


def _header_html(scenario_list, meta: Mapping, lang: str) -> str:
    text = TEXT[lang]
    info = {text["version"]: meta.get("model_version", ""),
            text["date"]: meta.get("date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))}
    info |= {text.get(f"meta_{key}", key): value for key, value in meta.items()
             if key not in ("model_version", "date")}
    rows = "".join(f"<tr><td>{html.escape(str(key))}</td><td>{html.escape(str(value))}</td></tr>"
                   for key, value in info.items())
    names = "".join(f"<li><b>{html.escape(s.label(lang))}</b> (<code>{html.escape(s.name)}</code>): "
                    f"{html.escape(s.description or '')}</li>" for s in scenario_list)
    return (f"<h1>{text['title']}</h1><table class=\"meta\">{rows}</table>"
            f"<h2>{text['scenarios']}</h2><ul>{names}</ul>")


def _data_uri(png: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def write_report(runs: Mapping[str, xr.Dataset], scenario_list: Iterable, targets,
                 history: pd.DataFrame | None, out_dir: Path, lang: str = "zh",
                 bands: xr.Dataset | None = None, meta: Mapping | None = None,
                 baseline: Mapping[str, float] | None = None, constants: pd.DataFrame | None = None,
                 names: Iterable[str] | None = None, headlines: bool = False,
                 alongside: Sequence[Callable[[], object]] = ()) -> Path:
    """Write out_dir/report.html (self-contained) and out_dir/charts/*.png|svg; return the HTML's path.

    runs: scenario name -> indicators (dims year). bands: indicators with a `run` dim, drawn as 5-95 %.
    baseline / constants default to the model's (`model.constants()`, with `model.fitted()` applied).
    headlines: also write out_dir/headlines.png. alongside: other writes, shared out with the charts.
    """
    if lang not in TEXT:
        raise ValueError(f"lang: unknown language {lang!r}; allowed: {', '.join(TEXT)}")
    if not runs:
        raise ValueError("no scenario runs to report")
    from nxmfg import model

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scenario_list = list(scenario_list)
    constants = model.constants() if constants is None else constants
    baseline = (constants["value"].to_dict() | model.fitted()) if baseline is None else baseline
    text = TEXT[lang]
    names = chart_names(runs, targets) if names is None else list(names)
    shown = labelled(runs, scenario_list, lang)
    charts = write_charts(shown, names, history, targets, out_dir, lang, bands, headlines, alongside)
    figures = "".join(f'<figure><img alt="{html.escape(plots.indicator_label(name, lang)[0])}" '
                      f'src="{_data_uri(path)}"></figure>' for name, path in charts.items())
    sections = [(text["charts"], text["read_charts"], f'<div class="charts">{figures}</div>'),
                (text["matrix"], text["read_matrix"] + " " + text["read_actual"],
                 _matrix_html(runs, targets, lang, history, list(shown))),
                (text["levers"], text["read_levers"], _levers_html(scenario_list, baseline, constants, lang))]
    body = _header_html(scenario_list, meta or {}, lang) + "".join(
        f'<h2>{title}</h2><p class="note">{note}</p>{content}' for title, note, content in sections)
    page = (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f"<title>{text['title']}</title><style>{CSS}</style></head><body>{body}{IMAGE_CHECK}</body></html>\n")
    path = out_dir / "report.html"
    write_bytes(path, page.encode("utf-8"))
    return path


def report_meta(paths: Iterable[Path], fit: Mapping | None = None) -> dict[str, str]:
    """What the report's header records about the runs: model version, the fit, scenario files.

    fit: the fit's record (calibration.fits.Fit.record()); default: the shipped fit.
    """
    from nxmfg import model
    from nxmfg.calibration.fits import shipped_fit

    fit = shipped_fit().record() if fit is None else fit
    return {"model_version": model.version(),
            "baseline": f"{fit['path']} ({fit['sha256']})" if fit.get("path") else fit["note"],
            "files": ", ".join(str(p) for p in paths)}


def load_ensemble(path: Path) -> xr.Dataset:
    """Indicators of an ensemble (dims run, year) for the 5-95 % bands, e.g. from calibration or Sobol."""
    bands = xr.load_dataset(path)
    if "run" not in bands.dims or "year" not in bands.dims:
        raise ValueError(f"{path}: dims are {tuple(bands.dims)}; an ensemble needs dims (run, year)")
    return bands


def calibration_band(names: list[str], sets: pd.DataFrame | None = None,
                     fit: Mapping[str, float] | None = None) -> xr.Dataset | None:
    """The baseline run over every calibrated parameter set: the band shows how far the data leave the
    baseline uncertain. sets / fit default to the shipped calibration (model.parameter_ensemble(),
    model.fitted()); None when there are no parameter sets."""
    from functools import partial

    from nxmfg import model
    from nxmfg.model import ensemble, indicators

    sets = model.parameter_ensemble() if sets is None else sets
    if sets is None or sets.empty:
        return None
    params = dict(model.fitted() if fit is None else fit) | {name: sets[name].to_numpy(float) for name in sets}
    return ensemble.run_translated(model.translated(), params, len(sets), workers=1, progress=False,
                                   reduce=partial(indicators.compute, names=names), control={"saveper": 1})
