"""Charts of indicators: one line per scenario, history as dots, the plans' targets as markers.

Plot functions take data and an optional `ax` and return it; `save` writes a figure atomically. Labels
are in Chinese or English, in the plans' units; `style()` applies the house style and the CJK font.
"""

import warnings
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from nxmfg.model.files import atomic_path
from nxmfg.model.fonts import font_families
from nxmfg.model.indicators import HEADLINES, INDICATORS

STYLE = Path(__file__).with_name("nxmfg.mplstyle")

BAND_QUANTILES = (0.05, 0.95)
LAST_DATA_YEAR = 2023   # `last observed year` of model/nxmfg.mdl: history before it, outlooks after
LAST_DATA_GID = "last-data-year"   # the boundary line's id, to tell it from the data's lines
RATE_SUFFIXES = ("_growth_pct", "_change_pct", "_pp")   # indicators that may be negative: no zero baseline
SYMBOLS = {"at_least": "≥", "at_most": "≤", "about": "≈"}
MARKERS = {"at_least": "^", "at_most": "v", "about": "D"}
UNITS_EN = {"亿元": "100 million yuan", "家": "firms", "家/年": "firms per year", "百分点": "pp",
            "万吨标准煤": "10k tce", "万吨标准煤/年": "10k tce per year", "吨标准煤/万元": "tce per 10k yuan",
            "立方米/万元": "m³ per 10k yuan", "万元/人": "10k yuan per worker", "件/年": "patents per year"}
WORDS = {
    "zh": {"year": "年份", "history": "历史", "target": "目标", "band": "5–95 % 区间", "last_data": "数据截至"},
    "en": {"year": "year", "history": "history", "target": "target", "band": "5–95 % range",
           "last_data": "data to"},
}
# How a non-`level` target reads; {start} is its base_year or from_year.
MEASURES = {
    "zh": {"change_vs": "较{start}年变化", "pp_change_vs": "较{start}年变化",
           "cagr": "{start}–{year}年年均增长", "mean": "{start}–{year}年平均",
           "every_year": "{start}–{year}年每年",
           "cumulative": "{start}–{year}年累计", "mean_growth": "{start}–{year}年年均",
           "increase_vs": "较{start}年增加"},
    "en": {"change_vs": "change vs {start}", "pp_change_vs": "pp change vs {start}",
           "cagr": "avg growth {start}–{year}", "mean": "mean {start}–{year}",
           "every_year": "every year {start}–{year}", "cumulative": "total {start}–{year}",
           "mean_growth": "avg {start}–{year}", "increase_vs": "increase vs {start}"},
}
CHANGE_UNITS = {"zh": {"change_vs": "%", "cagr": "%", "pp_change_vs": "百分点"},
                "en": {"change_vs": "%", "cagr": "%", "pp_change_vs": "pp"}}


@contextmanager
def style(lang: str = "zh"):
    """House style plus the fonts for `lang` (for zh, MissingFontError with the install command if no CJK font)."""
    with mpl.rc_context(fname=STYLE, rc={"font.family": font_families(lang)}):
        try:
            yield
        finally:
            interactive = mpl.rcParams["interactive"]
    # pyplot may have started its backend inside, and Jupyter's turns interactive mode on: keep it on,
    # or later figures are no longer shown in the notebook.
    mpl.interactive(interactive)


def new_axes(lang: str = "zh") -> Axes:
    """Axes on a new figure in the house style, for drawing to files: Agg, without pyplot (0.1 s of
    import) and its figure manager."""
    with style(lang):
        figure = Figure()
        FigureCanvasAgg(figure)
        return figure.add_subplot()


def warm_up(lang: str = "zh") -> None:
    """Find and load the fonts for `lang` by laying out one label (MissingFontError for zh without a CJK
    font): helpers forked to draw charts afterwards start with them loaded."""
    with style(lang):
        figure = Figure(layout="none")
        figure.text(0, 0, f"{WORDS[lang]['year']} 2023", fontfamily=font_families(lang))
        FigureCanvasAgg(figure).draw()


def save(figure: Figure, path: Path, lang: str = "zh") -> Path:
    """Write `figure` to `path` (format from the suffix) atomically, at the house style's resolution.

    A figure made outside `style()` has no layout engine: a tight bounding box then keeps the legend,
    which sits outside the axes, in the picture.
    """
    path = Path(path)
    tight = None if figure.get_layout_engine() else "tight"
    with style(lang), atomic_path(path) as temporary:
        figure.savefig(temporary, format=path.suffix.lstrip("."), bbox_inches=tight)
    return path


def save_chart(figure: Figure, stem: Path, lang: str = "zh") -> Path:
    """Write `figure` as stem.png and stem.svg; returns the PNG's path.

    savefig with a layout engine draws the figure twice, once only to lay it out. Here one draw of the
    Agg canvas lays the figure out and renders the PNG; the layout is then frozen for the SVG's draw:
    two draws instead of four, and the same pixels.
    """
    if figure.get_layout_engine() is None or not isinstance(figure.canvas, FigureCanvasAgg):
        save(figure, stem.with_suffix(".svg"), lang)
        return save(figure, stem.with_suffix(".png"), lang)
    with style(lang):
        figure.set_dpi(mpl.rcParams["savefig.dpi"])
        figure.canvas.draw()
        with atomic_path(stem.with_suffix(".png")) as temporary:
            mpl.image.imsave(temporary, figure.canvas.buffer_rgba(), format="png", origin="upper",
                             dpi=figure.dpi, pil_kwargs={"compress_level": 3})   # as tile(): same pixels
        # With the engine removed, and the rc not naming one, savefig neither lays out again nor, when
        # it restores the figure's (absent) engine, makes a new one.
        with mpl.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
            figure.set_layout_engine(None)
            with atomic_path(stem.with_suffix(".svg")) as temporary:
                figure.savefig(temporary, format="svg", bbox_inches=None)
    return stem.with_suffix(".png")


def tile(pictures: Sequence[Path], path: Path, columns: int = 2) -> Path:
    """One PNG of `pictures` (PNG files) in a grid, row by row, on white; written atomically."""
    from PIL import Image

    images = [Image.open(picture).convert("RGB") for picture in pictures]
    width, height = max(i.width for i in images), max(i.height for i in images)
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (columns * width, rows * height), "white")
    for index, image in enumerate(images):
        sheet.paste(image, ((index % columns) * width, (index // columns) * height))
    with atomic_path(path) as temporary:
        sheet.save(temporary, format="png", compress_level=3)   # level 6 takes three times as long, 10 % smaller
    return path


def colours(n: int) -> list:
    """Distinct colours for n scenarios: tab10 up to 10, evenly spaced viridis beyond."""
    if n <= 10:
        return [mpl.colormaps["tab10"](i) for i in range(n)]
    return [mpl.colormaps["viridis"](x) for x in np.linspace(0, 0.95, n)]


def indicator_label(name: str, lang: str = "zh") -> tuple[str, str]:
    """(title, unit) of an indicator in `lang`, from model.indicators; the bare name if it is unknown."""
    meta = INDICATORS.get(name)
    if meta is None:
        return name, ""
    unit = meta.unit or ""
    if lang == "en":
        return meta.en, UNITS_EN.get(unit, unit)
    return meta.zh, unit


def target_rows(targets) -> list[dict]:
    """Targets as plain dicts, from a DataFrame, dicts, pydantic models or plain objects."""
    if isinstance(targets, pd.DataFrame):
        return targets.to_dict("records")
    rows = []
    for target in targets or ():
        if isinstance(target, Mapping):
            rows.append(dict(target))
        elif hasattr(target, "model_dump"):
            rows.append(target.model_dump())
        else:
            rows.append(vars(target))
    return rows


def describe_target(target: dict, unit: str, lang: str = "zh") -> str:
    """One-line reading of a target, e.g. '2022 ≥ 900 亿元' or '2020–2022年年均增长 ≥ 7 %'."""
    measure = target.get("measure", "level")
    symbol = SYMBOLS.get(target.get("direction"), "")
    threshold = f"{target['threshold']:g}"
    if measure == "level":
        return f"{target['year']} {symbol} {threshold} {unit}".strip()
    start = target.get("base_year") or target.get("from_year") or ""
    start = int(start) if isinstance(start, (int, float)) and not pd.isna(start) else start
    text = MEASURES[lang].get(measure, measure).format(start=start, year=target["year"])
    if "{year}" not in MEASURES[lang].get(measure, ""):
        text = f"{target['year']} {text}"
    return f"{text} {symbol} {threshold} {CHANGE_UNITS[lang].get(measure, unit)}".strip()


@contextmanager
def _no_all_nan_warning():
    """A growth rate has no value in the first year, in any run: its quantiles and median there are NaN."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
        yield


def _band(values) -> tuple[pd.Series, pd.Series]:
    """(low, high) by year from a (low, high) pair or a DataArray with a `run` dim (5-95 %)."""
    if isinstance(values, xr.DataArray):
        with _no_all_nan_warning():
            low, high = values.quantile(list(BAND_QUANTILES), dim="run")
        return low.to_series(), high.to_series()
    low, high = values
    return pd.Series(low), pd.Series(high)


def _draw_targets(ax: Axes, rows: list[dict], unit: str, lang: str, font: dict) -> None:
    """`level` targets as markers at (year, threshold), each labelled with its document and year (B's 65 %
    and C's 28-30 % tell apart); the other measures as notes in the corner."""
    notes = []
    for row in rows:
        if row.get("measure", "level") == "level":
            ax.plot(row["year"], row["threshold"], linestyle="none", color="black", markersize=8,
                    marker=MARKERS.get(row.get("direction"), "D"), markerfacecolor="white", zorder=5)
            below = row.get("direction") == "at_most"
            ax.annotate(f"{row.get('doc', '')} {row['year']}".strip(), (row["year"], row["threshold"]), gid="target",
                        xytext=(0, -7 if below else 7), textcoords="offset points", rotation=90, fontsize=6.5,
                        ha="center", va="top" if below else "bottom", color="#333333", zorder=6,
                        annotation_clip=False, **font)
        else:
            notes.append(f"{WORDS[lang]['target']}: {describe_target(row, unit, lang)}")
    if notes:
        shown = notes[:4] + (["…"] if len(notes) > 4 else [])
        ax.text(0.01, 0.98, "\n".join(shown), transform=ax.transAxes, va="top", ha="left", fontsize=7.5,
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#bbbbbb", "alpha": 0.85},
                zorder=6, **font)


def _has_level_target(rows: list[dict]) -> bool:
    """Only `level` targets are drawn as markers: the legend shows a triangle only for them."""
    return any(row.get("measure", "level") == "level" for row in rows)


def _mark_last_data_year(ax: Axes, lang: str, font: dict) -> None:
    """A dotted line at the last data year: recorded history to its left, projections to its right."""
    left, right = ax.get_xlim()
    if not left <= LAST_DATA_YEAR <= right:
        return
    ax.axvline(LAST_DATA_YEAR, color="#888888", linestyle=":", linewidth=1, zorder=1, gid=LAST_DATA_GID)
    ax.annotate(f"{WORDS[lang]['last_data']} {LAST_DATA_YEAR}", (LAST_DATA_YEAR, 0), xycoords=("data", "axes fraction"),
                xytext=(3, 3), textcoords="offset points", ha="left", va="bottom", fontsize=6.5, color="#666666",
                **font)


def _room_for_labels(ax: Axes, rows: list[dict]) -> None:
    """Keep the labels of the highest and lowest target markers inside the axes."""
    levels = [row for row in rows if row.get("measure", "level") == "level"]
    above = [row["threshold"] for row in levels if row.get("direction") != "at_most"]   # labels above the marker
    below = [row["threshold"] for row in levels if row.get("direction") == "at_most"]
    low, high = ax.get_ylim()
    room = 0.15 * (high - low)
    ax.set_ylim(min([low] + [value - room for value in below]), max([high] + [value + room for value in above]))


def _from_zero(ax: Axes) -> None:
    """Levels start at zero, so that a small change does not look like a large one."""
    low, high = ax.get_ylim()
    if low > 0:
        ax.set_ylim(0, high)


def _legend_handles(ax: Axes, with_history: bool, with_targets: bool, with_band: bool, lang: str) -> list:
    handles = [line for line in ax.get_lines() if not line.get_label().startswith("_")
               and line.get_gid() != LAST_DATA_GID]
    if with_band:
        handles.append(Patch(color="grey", alpha=0.25, label=WORDS[lang]["band"]))
    if with_history:
        handles.append(Line2D([], [], linestyle="none", marker="o", color="#333333",
                              label=WORDS[lang]["history"]))
    if with_targets:
        handles.append(Line2D([], [], linestyle="none", marker="^", color="black", markerfacecolor="white",
                              label=WORDS[lang]["target"]))
    return handles


def plot_indicator(runs: Mapping[str, xr.Dataset], name: str, ax: Axes | None = None,
                   history: pd.DataFrame | None = None, targets: Iterable = (), band=None,
                   lang: str = "zh", legend: bool = True) -> Axes:
    """One line per scenario for indicator `name`, with history dots, target markers and a band.

    A run with a `run` dim (an ensemble) is drawn as its median with a shaded 5-95 % range.
    Without `ax`, draws on a new pyplot figure in the house style (shown in a notebook).
    """
    with style(lang):       # the title, legend and text take their look from rcParams when made
        if ax is None:
            import matplotlib.pyplot as plt

            ax = plt.figure().add_subplot()
        _draw_indicator(runs, name, ax, history, targets, band, lang, legend)
    return ax


def _draw_indicator(runs, name, ax, history, targets, band, lang, legend) -> None:
    families = font_families(lang)
    font = {"fontfamily": families}
    title, unit = indicator_label(name, lang)
    first_year = np.inf
    for colour, (scenario, run) in zip(colours(len(runs)), runs.items(), strict=True):
        values = run[name]
        if "run" in values.dims:
            low, high = _band(values)
            ax.fill_between(low.index, low, high, color=colour, alpha=0.15, linewidth=0)
            with _no_all_nan_warning():
                values = values.median("run")
        series = values.to_series()
        first_year = min(first_year, series.index.min())
        ax.plot(series.index, series.to_numpy(), color=colour, label=str(scenario))
    if band is not None:
        low, high = _band(band)
        ax.fill_between(low.index, low, high, color="grey", alpha=0.25, linewidth=0, zorder=0)
    observed = pd.DataFrame(columns=["year", "value"])
    if history is not None and len(history):
        observed = history[(history["indicator"] == name) & (history["year"] >= first_year)]
        ax.plot(observed["year"], observed["value"], linestyle="none", marker="o", markersize=4,
                color="#333333", zorder=4)
    rows = [row for row in target_rows(targets)
            if row.get("indicator") == name and row.get("kind", "modelled") != "out_of_scope"]
    _draw_targets(ax, rows, unit, lang, font)
    _room_for_labels(ax, rows)
    _mark_last_data_year(ax, lang, font)
    if not name.endswith(RATE_SUFFIXES):
        _from_zero(ax)
    ax.set_title(title, **font)
    ax.set_ylabel(unit, **font)
    ax.set_xlabel(WORDS[lang]["year"], **font)
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    if legend:
        handles = _legend_handles(ax, len(observed) > 0, _has_level_target(rows), band is not None, lang)
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0,
                  ncol=1 if len(handles) <= 14 else 2, prop={"family": families})


def plot_headlines(runs: Mapping[str, xr.Dataset], names: Iterable[str] = HEADLINES,
                   history: pd.DataFrame | None = None, targets: Iterable = (), lang: str = "zh",
                   bands: xr.Dataset | None = None, ncols: int = 2) -> Figure:
    """A grid of one chart per indicator, one legend below; indicators missing from the runs are skipped."""
    names = [n for n in names if all(n in run for run in runs.values())]
    if not names:
        raise ValueError("none of the requested indicators is in the runs")
    targets = [row for row in target_rows(targets) if row.get("indicator") in names]
    shown_history = history is not None and history["indicator"].isin(names).any()
    nrows = -(-len(names) // ncols)
    import matplotlib.pyplot as plt

    with style(lang):
        figure, axes = plt.subplots(nrows, ncols, figsize=(6.2 * ncols, 3.4 * nrows), squeeze=False,
                                    layout="constrained")
        for ax, name in zip(axes.flat, names, strict=False):
            band = bands[name] if bands is not None and name in bands else None
            plot_indicator(runs, name, ax=ax, history=history, targets=targets, band=band, lang=lang,
                           legend=False)
        for ax in axes.flat[len(names):]:
            ax.set_visible(False)
        handles = _legend_handles(axes.flat[0], shown_history, _has_level_target(targets), bands is not None, lang)
        figure.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 6),
                      prop={"family": font_families(lang)})
    return figure
