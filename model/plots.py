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

from nxmfg.model import plot_targets
from nxmfg.model.plot_legend import WORDS as LEGEND_WORDS
from nxmfg.model.plot_legend import colours, legend_handles, line_styles  # noqa: F401 (part of plots' API)
from nxmfg.model.plot_targets import (  # noqa: F401 (part of plots' API)
    CHANGE_UNITS, MEASURES, SYMBOLS, describe_target, target_rows)
from nxmfg.model.files import atomic_path
from nxmfg.model.fonts import font_families
from nxmfg.model.indicators import HEADLINES, INDICATORS

STYLE = Path(__file__).with_name("nxmfg.mplstyle")

BAND_QUANTILES = (0.05, 0.95)
LAST_DATA_YEAR = 2023   # `last observed year` of model/nxmfg.mdl: history before it, outlooks after
LAST_DATA_GID = "last-data-year"   # the boundary line's id, to tell it from the data's lines
RATE_SUFFIXES = ("_growth_pct", "_change_pct", "_pp")   # indicators that may be negative: no zero baseline
UNITS_EN = {"亿元": "100 million yuan", "家": "firms", "家/年": "firms per year", "百分点": "pp",
            "万吨标准煤": "10k tce", "万吨标准煤/年": "10k tce per year", "吨标准煤/万元": "tce per 10k yuan",
            "立方米/万元": "m³ per 10k yuan", "万元/人": "10k yuan per worker", "件/年": "patents per year"}
WORDS = {
    "zh": {"year": "年份", "last_data": "数据截至", "no_history": "无历史统计数据",
           "swings": "2020–22年的起伏：全国工业增速的疫情波动（模型的外生输入）"} | LEGEND_WORDS["zh"],
    "en": {"year": "year", "last_data": "data to", "no_history": "no recorded history",
           "swings": "2020–22 swings: China's industrial growth in the pandemic (an input of the model)"}
    | LEGEND_WORDS["en"],
}
SWING_YEARS = (2020, 2022)   # China's industrial growth 2.5, 8.7, 2.6 % (model inputs): every growth rate follows


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


def tile(pictures: Sequence[Path], path: Path, columns: int = 2, legend: Path | None = None) -> Path:
    """One PNG of `pictures` (PNG files) in a grid, row by row, on white, with the `legend` picture centred
    below; written atomically."""
    from PIL import Image

    images = [Image.open(picture).convert("RGB") for picture in pictures]
    key = Image.open(legend).convert("RGB") if legend is not None else None
    width, height = max(i.width for i in images), max(i.height for i in images)
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (max(columns * width, key.width if key else 0),
                              rows * height + (key.height if key else 0)), "white")
    for index, image in enumerate(images):
        sheet.paste(image, ((index % columns) * width, (index // columns) * height))
    if key is not None:
        sheet.paste(key, ((sheet.width - key.width) // 2, rows * height))
    with atomic_path(path) as temporary:
        sheet.save(temporary, format="png", compress_level=3)   # level 6 takes three times as long, 10 % smaller
    return path


def indicator_label(name: str, lang: str = "zh") -> tuple[str, str]:
    """(title, unit) of an indicator in `lang`, from model.indicators; the bare name if it is unknown."""
    meta = INDICATORS.get(name)
    if meta is None:
        return name, ""
    unit = meta.unit or ""
    if lang == "en":
        return meta.en, UNITS_EN.get(unit, unit)
    return meta.zh, unit


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


def _target_marks(ax: Axes) -> tuple[bool, bool]:
    """(a target marker, a target line) drawn on `ax`: the legend shows only what the chart has."""
    artists = [*ax.get_lines(), *ax.collections]
    gids = {artist.get_gid() for artist in artists}
    return "target-marker" in gids, bool({"target-span", "target-path"} & gids)


def _mark_last_data_year(ax: Axes, lang: str, font: dict) -> None:
    """A dotted line at the last data year: recorded history to its left, projections to its right."""
    left, right = ax.get_xlim()
    if not left <= LAST_DATA_YEAR <= right:
        return
    ax.axvline(LAST_DATA_YEAR, color="#888888", linestyle=":", linewidth=1, zorder=1, gid=LAST_DATA_GID)
    ax.annotate(f"{WORDS[lang]['last_data']} {LAST_DATA_YEAR}", (LAST_DATA_YEAR, 0), xycoords=("data", "axes fraction"),
                xytext=(3, 3), textcoords="offset points", ha="left", va="bottom", fontsize=6.5, color="#666666",
                **font)


def legend_figure(runs: Mapping[str, xr.Dataset], with_history: bool, with_targets: tuple[bool, bool], with_band: bool,
                  lang: str = "zh", width: float = 12.0) -> Figure:
    """A figure holding only the legend: the one legend of a set of charts (the report, headlines.png)."""
    with style(lang):
        figure = Figure(figsize=(width, 0.5), layout="none")
        FigureCanvasAgg(figure)
        handles = legend_handles(runs, with_history, with_targets, with_band, lang)
        figure.legend(handles=handles, loc="center", ncol=min(len(handles), 5), prop={"family": font_families(lang)})
        rows = -(-len(handles) // 5)
        figure.set_size_inches(width, 0.35 + 0.28 * rows)
    return figure


def plot_indicator(runs: Mapping[str, xr.Dataset], name: str, ax: Axes | None = None,
                   history: pd.DataFrame | None = None, targets: Iterable = (), band=None,
                   lang: str = "zh", legend: bool = True) -> Axes:
    """One line per scenario for indicator `name`, with history dots, the targets and a band.

    A run with a `run` dim (an ensemble) is drawn as its median with a shaded 5-95 % range. The legend (if
    any) goes below the chart. Without `ax`, draws on a new pyplot figure in the house style (shown in a
    notebook).
    """
    with style(lang):       # the title, legend and text take their look from rcParams when made
        if ax is None:
            import matplotlib.pyplot as plt

            ax = plt.figure().add_subplot()
        shown = _draw_indicator(runs, name, ax, history, targets, band, lang)
        if legend:
            handles = legend_handles(runs, *shown, band is not None, lang)
            ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), borderaxespad=0,
                      ncol=min(len(handles), 3), prop={"family": font_families(lang)})
        _settle_labels([ax])
    return ax


def _settle_labels(axes: list[Axes]) -> None:
    """Lay the figure out, then move target labels apart (they need the final positions to be measured)."""
    if not any(t.get_gid() == "target" for ax in axes for t in ax.texts):
        return
    axes[0].figure.draw_without_rendering()
    for ax in axes:
        plot_targets.declutter(ax)


def _draw_indicator(runs, name, ax, history, targets, band, lang) -> tuple[bool, tuple[bool, bool]]:
    """Draw everything but the legend; returns (history shown, (target markers, target lines) shown)."""
    families = font_families(lang)
    font = {"fontfamily": families}
    title, unit = indicator_label(name, lang)
    first_year, first = np.inf, None
    for label, style_ in line_styles(runs).items():
        values = runs[label][name]
        if "run" in values.dims:
            low, high = _band(values)
            ax.fill_between(low.index, low, high, color=style_["color"], alpha=0.15, linewidth=0)
            with _no_all_nan_warning():
                values = values.median("run")
        series = values.to_series()
        first = series if first is None else first
        first_year = min(first_year, series.index.min())
        ax.plot(series.index, series.to_numpy(), label=str(label), **style_)
    if band is not None:
        low, high = _band(band)
        ax.fill_between(low.index, low, high, color="grey", alpha=0.25, linewidth=0, zorder=0)
    observed = pd.DataFrame(columns=["year", "value"])
    if history is not None and len(history):
        observed = history[(history["indicator"] == name) & (history["year"] >= first_year)]
        ax.plot(observed["year"], observed["value"], linestyle="none", marker="o", markersize=4.5,
                color="#222222", markeredgecolor="white", markeredgewidth=0.6, zorder=7)
    rows = [row for row in target_rows(targets)
            if row.get("indicator") == name and row.get("kind", "modelled") != "out_of_scope"]
    notes = plot_targets.draw(ax, rows, first, history, lambda row: describe_target(row, unit, lang), font)
    notes = [f"{WORDS[lang]['target']}: {note}" for note in notes]
    if name.endswith(RATE_SUFFIXES) and first is not None and first.index.min() < SWING_YEARS[0] \
            and first.index.max() > SWING_YEARS[1]:
        notes.append(WORDS[lang]["swings"])
    if history is not None and observed.empty:
        notes.append(WORDS[lang]["no_history"])
    _mark_last_data_year(ax, lang, font)
    _title(ax, title, notes, font)
    ax.set_ylabel(unit, **font)
    ax.set_xlabel(WORDS[lang]["year"], **font)
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    return len(observed) > 0, _target_marks(ax)


def _title(ax: Axes, title: str, notes: list[str], font: dict) -> None:
    """The title, with the notes in small type between it and the chart (they cover no data there)."""
    shown = notes[:3] + (["…"] if len(notes) > 3 else [])
    if shown:
        ax.text(0, 1.015, "\n".join(shown), transform=ax.transAxes, va="bottom", ha="left", fontsize=7,
                color="#444444", gid="notes", linespacing=1.25, **font)
    ax.set_title(title, pad=6 + 11 * len(shown), **font)


def plot_headlines(runs: Mapping[str, xr.Dataset], names: Iterable[str] = HEADLINES,
                   history: pd.DataFrame | None = None, targets: Iterable = (), lang: str = "zh",
                   bands: xr.Dataset | None = None, ncols: int = 2) -> Figure:
    """A grid of one chart per indicator, one legend below; indicators missing from the runs are skipped."""
    names = [n for n in names if all(n in run for run in runs.values())]
    if not names:
        raise ValueError("none of the requested indicators is in the runs")
    targets = [row for row in target_rows(targets) if row.get("indicator") in names]
    nrows = -(-len(names) // ncols)
    import matplotlib.pyplot as plt

    with style(lang):
        figure, axes = plt.subplots(nrows, ncols, figsize=(6.2 * ncols, 3.6 * nrows), squeeze=False,
                                    layout="constrained")
        found = []
        for ax, name in zip(axes.flat, names, strict=False):
            band = bands[name] if bands is not None and name in bands else None
            found.append(_draw_indicator(runs, name, ax, history, targets, band, lang))
        for ax in axes.flat[len(names):]:
            ax.set_visible(False)
        handles = legend_handles(runs, *shown_in(found), bands is not None, lang)
        figure.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 5),
                      prop={"family": font_families(lang)})
        _settle_labels(list(axes.flat[:len(names)]))
    return figure


def shown_in(found: list[tuple[bool, tuple[bool, bool]]]) -> tuple[bool, tuple[bool, bool]]:
    """What any of several charts shows (their `_draw_indicator` results): for their one legend."""
    return (any(f[0] for f in found), (any(f[1][0] for f in found), any(f[1][1] for f in found)))
