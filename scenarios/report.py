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

import pandas as pd
import xarray as xr

from nxmfg.model import chart_cache, drawing, plots
from nxmfg.model.files import interrupts_deferred, write_bytes
from nxmfg.model.input_files import check_input_file
from nxmfg.scenarios.report_tables import levers_html, matrix_html, reachability_html
from nxmfg.scenarios.report_text import CSS, IMAGE_CHECK, TEXT

TEMPLATES = Path(__file__).with_name("templates")
PACKAGE = Path(__file__).resolve().parents[1]      # the package nxmfg's folder (its shipped files)


def labelled(runs: Mapping[str, xr.Dataset], scenario_list: Iterable, lang: str) -> dict[str, xr.Dataset]:
    """`runs` keyed by their scenarios' titles in `lang` (chart legends), names where titles are missing
    or would repeat."""
    titles = {s.name: s.label(lang) for s in scenario_list}
    labels = [titles.get(name, name) for name in runs]
    return {label if labels.count(label) == 1 else name: run.assign_attrs(scenario=name)
            for (name, run), label in zip(runs.items(), labels, strict=True)}


def decision_names(targets: Iterable, doc: str = "D") -> list[str]:
    """The indicators of document `doc`'s targets and of the others still ahead (nxmfg.decision.ahead)."""
    from nxmfg.decision import ahead

    rows = [t for t in targets if hasattr(t, "kind")]
    return list(dict.fromkeys(t.indicator for t in ahead(rows, doc)))


def chart_names(runs: Mapping[str, xr.Dataset], targets: Iterable) -> list[str]:
    """D's indicators (the targets ahead), the headline indicators, then every other indicator with an
    assessable target, if the runs have it."""
    targeted = [row["indicator"] for row in plots.target_rows(targets) if row.get("indicator")]
    names = dict.fromkeys([*decision_names(targets), *plots.HEADLINES, *targeted])
    return [name for name in names if all(name in run for run in runs.values())]


def write_charts(runs, names, history, targets, out_dir: Path, lang: str, bands=None,
                 headlines: bool = False, alongside: Sequence[Callable[[], object]] = ()) -> dict[str, Path]:
    """One chart per indicator as out_dir/charts/NAME.png and .svg, drawn on every core, and their one
    legend, charts/legend.png; with `headlines`, also out_dir/headlines.png (the headline charts tiled) and
    out_dir/headlines_D.png (document D's), each with the legend below. Returns name -> PNG path.

    alongside: other writes (each a call without arguments) shared out with the charts.
    """
    folder = out_dir / "charts"
    folder.mkdir(parents=True, exist_ok=True)
    rows = plots.target_rows(targets)
    ahead = decision_names(targets) if headlines else []
    names = list(dict.fromkeys([*names, *(plots.HEADLINES if headlines else []), *ahead]))
    names = [name for name in names if all(name in run for run in runs.values())]
    tiles = [([n for n in plots.HEADLINES if n in names], out_dir / "headlines.png"),
             ([n for n in ahead if n in names], out_dir / "headlines_D.png")] if headlines else []
    shared = _shared_key(runs, history, rows, lang)
    legend = partial(_legend, runs, names, history, rows, bands is not None, lang, folder / "legend.png", shared)
    drawing.draw_all([partial(_chart, runs, name, history, rows, bands, lang, folder, shared) for name in names],
                     alongside=alongside, then=partial(_tiles, legend, tiles, folder))
    chart_cache.prune()
    return {name: folder / f"{name}.png" for name in names}


def _shared_key(runs, history, rows: list[dict], lang: str) -> str:
    """What every chart of a set reads besides its own indicator (model/chart_cache.py): the runs' labels
    and attributes (their line styles), the record, the targets, and what draws in `lang`."""
    with plots.style(lang):
        drawn_by = chart_cache.environment(lang)
    return chart_cache.digest(drawn_by, [(label, dict(run.attrs)) for label, run in runs.items()], history, rows)


def _chart(runs, name: str, history, targets: list[dict], bands, lang: str, folder: Path, shared: str) -> None:
    band = bands[name] if bands is not None and name in bands else None

    def draw():
        ax = plots.plot_indicator(runs, name, ax=plots.new_axes(lang), history=history, targets=targets,
                                  band=band, lang=lang, legend=False)
        plots.save_chart(ax.figure, folder / name, lang)
    key = chart_cache.digest(shared, "chart", name, [run[name] for run in runs.values()], band)
    chart_cache.drawn_once(key, folder / name, draw)


def _legend(runs, names: list[str], history, rows: list[dict], band: bool, lang: str, path: Path,
            shared: str) -> Path:
    """charts/legend.png (and .svg): the one legend of the charts (which marks they show, from their targets)."""
    measures = {row.get("measure", "level") for row in rows if row.get("indicator") in names}
    marks = (bool(measures & {"level", "change_vs", "pp_change_vs", "increase_vs", "probability_at_least"}),
             bool(measures & {"mean", "mean_growth", "every_year", "cagr"}))
    shown = history is not None and len(history) and history["indicator"].isin(names).any()

    def draw():
        figure = plots.legend_figure(runs, bool(shown), marks, band, lang)
        plots.save(figure, path.with_suffix(".svg"), lang)        # beside each chart's SVG, for print
        plots.save(figure, path, lang)
    chart_cache.drawn_once(chart_cache.digest(shared, "legend", bool(shown), marks, band), path, draw)
    return path


def _tiles(legend: Callable[[], Path], tiles: list, folder: Path) -> None:
    legend_png = legend()
    for chosen, path in tiles:
        if chosen:
            pictures = [folder / f"{name}.png" for name in chosen]
            chart_cache.tiled_once(pictures, path, legend_png, partial(plots.tile, pictures, path, legend=legend_png))


def _info(meta: Mapping, lang: str) -> dict[str, str]:
    """The header's rows: model version, date, then what `meta` records (fit, scenario files)."""
    text = TEXT[lang]
    info = {text["version"]: meta.get("model_version", ""),
            text["date"]: meta.get("date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))}
    return info | {text.get(f"meta_{key}", key): str(value) for key, value in meta.items()
                   if key not in ("model_version", "date")}


def _data_uri(png: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def write_report(runs: Mapping[str, xr.Dataset], scenario_list: Iterable, targets,
                 history: pd.DataFrame | None, out_dir: Path, lang: str = "zh",
                 bands: xr.Dataset | None = None, meta: Mapping | None = None,
                 baseline: Mapping[str, float] | None = None, constants: pd.DataFrame | None = None,
                 names: Iterable[str] | None = None, headlines: bool = False,
                 alongside: Sequence[Callable[[], object]] = (), reachability: pd.DataFrame | None = None,
                 odds: Mapping[str, pd.DataFrame] | None = None, decision: str | None = None) -> Path:
    """Write out_dir/report.html (self-contained) and out_dir/charts/*.png|svg; return the HTML's path.

    runs: scenario name -> indicators (dims year). bands: indicators with a `run` dim, drawn as 5-95 %.
    baseline / constants default to the model's (`model.constants()`, with `model.fitted()` applied).
    headlines: also write out_dir/headlines.png. alongside: other writes, shared out with the charts.
    reachability: the optimiser's table per target (`nxmfg optimize`), shown after the attainment matrix.
    odds: each scenario's judged attainment (`Result.attainment`: P(met), record years, assumptions flag).
    decision: the decision page (nxmfg.decision.render), shown first.
    """
    if lang not in TEXT:
        raise ValueError(f"lang: unknown language {lang!r}; allowed: {', '.join(TEXT)}")
    if not runs:
        raise ValueError("no scenario runs to report")
    from markupsafe import Markup

    from nxmfg import model
    from nxmfg.decision import CSS as DECISION_CSS
    from nxmfg.scenarios.templating import environment

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
    legend = f'<img class="legend" alt="{text["legend"]}" src="{_data_uri(out_dir / "charts" / "legend.png")}">'
    sections = [(text["charts"], text["read_charts"], Markup(f'{legend}<div class="charts">{figures}</div>')),
                (text["matrix"], text["read_matrix"] + " " + text["read_actual"],
                 Markup(matrix_html(runs, targets, lang, history, list(shown), odds))),
                (text["levers"], text["read_levers"], Markup(levers_html(scenario_list, baseline, constants, lang)))]
    if reachability is not None:
        sections.insert(2, (text["reach"], text["read_reach"], Markup(reachability_html(reachability, lang))))
    listed = [{"label": s.label(lang), "name": s.name, "show_name": lang != "zh" or s.label(lang) == s.name,
               "description": s.describe(lang)} for s in scenario_list]
    page = environment(str(TEMPLATES)).get_template("report.html.j2").render(
        lang=lang, t=text, css=Markup(CSS + DECISION_CSS), info=_info(meta or {}, lang),
        files={text.get("meta_files"), text.get("meta_baseline")}, scenarios=listed,
        decision=Markup(decision or ""), sections=sections, image_check=Markup(IMAGE_CHECK))
    path = out_dir / "report.html"
    write_bytes(path, page.encode("utf-8"))
    return path


def report_meta(paths: Iterable[Path | str], fit: Mapping | None = None) -> dict[str, str]:
    """What the report's header records about the runs: model version, the fit, scenario files (as `shown_path`).

    fit: the fit's record (calibration.fits.Fit.record()); default: the shipped fit.
    """
    from nxmfg import model
    from nxmfg.calibration.fits import shipped_fit

    fit = shipped_fit().record() if fit is None else fit
    return {"model_version": model.version(),
            "baseline": f"{shown_path(fit['path'])} ({fit['sha256']})" if fit.get("path") else fit["note"],
            "files": ", ".join(shown_path(p) for p in paths)}


def shown_path(path: Path | str) -> str:
    """A file as a report names it, without this machine's folders: a relative path as given; an absolute one
    relative to the working directory where it is in it, else a shipped file under `nxmfg/`, else by its name
    after `…/`. A report is passed on: /home/<user>/ or /tmp/<run>/ means nothing to its reader and tells
    what it should not."""
    path = Path(path)
    if not path.is_absolute():
        return path.as_posix()
    real = path.resolve()
    for root, prefix in ((Path.cwd().resolve(), ""), (PACKAGE, "nxmfg/")):
        if real.is_relative_to(root):
            return prefix + real.relative_to(root).as_posix()
    return f"…/{path.name}"


def load_ensemble(path: Path) -> xr.Dataset:
    """Indicators of an ensemble (dims run, year) for the 5-95 % bands, e.g. from calibration or Sobol."""
    check_input_file(path, "ensemble")
    try:
        with interrupts_deferred():   # xarray's netCDF reader deadlocks on a KeyboardInterrupt inside it
            bands = xr.load_dataset(path)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a netCDF file of an ensemble ({error})") from None
    if "run" not in bands.dims or "year" not in bands.dims:
        raise ValueError(f"{path}: dims are {tuple(bands.dims)}; an ensemble needs dims (run, year)")
    return bands
