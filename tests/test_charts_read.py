"""Charts a planner reads (issue 22): text that does not collide, axes that show differences, the plan told
apart from a scenario, one legend per figure, every target of document D drawn on D's charts."""

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nxmfg import scenarios  # noqa: E402
from nxmfg.api.inputs import history  # noqa: E402
from nxmfg.model import plots  # noqa: E402
from nxmfg.scenarios import report  # noqa: E402

VENSIM_UNITS = ("CNY10k/firms", "firms/Year", "1/Year", "projects/Year", "Dmnl")


@pytest.fixture(scope="module")
def runs(baseline_indicators):
    """The baseline and a plan 3 % above it from 2024, as the report labels them."""
    later = baseline_indicators["year"] >= 2024
    plan = baseline_indicators.map(lambda v: v.where(~later, v * 1.03))
    return {"基准情景（无新政策）": baseline_indicators.assign_attrs(scenario="baseline"),
            "规划情景": plan.assign_attrs(scenario="plan")}


@pytest.fixture(scope="module")
def targeted():
    rows = [t for t in scenarios.load_targets() if t.kind == "modelled"]
    return rows, sorted({t.indicator for t in rows})


def _texts(ax, renderer) -> list:
    """Every visible text of a chart with its box: title, notes, target labels, axis labels, tick labels."""
    found = [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts, *_tick_labels(ax)]
    return [(t, t.get_window_extent(renderer)) for t in found if t.get_visible() and t.get_text().strip()]


def _tick_labels(ax) -> list:
    """The tick labels matplotlib shows: those of ticks within the axis' view limits."""
    shown = []
    for axis, (low, high) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        shown += [tick.label1 for tick in axis.get_major_ticks() if low <= tick.get_loc() <= high]
    return shown


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_text_on_any_targeted_chart_overlaps_another_or_leaves_the_figure(runs, targeted, lang):
    """Every chart with a target (the report draws them all; in English, D's): no two texts' boxes overlap
    (tick labels are laid out by matplotlib and only checked against the rest), and every text lies inside
    the figure."""
    rows, names = targeted
    if lang == "en":
        names = sorted({t.indicator for t in rows if t.doc == "D"})
    recorded = history()
    clashes = []
    for name in names:
        ax = plots.plot_indicator(runs, name, ax=plots.new_axes(lang), history=recorded, targets=rows, lang=lang,
                                  legend=False)
        figure = ax.figure
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        texts = _texts(ax, renderer)
        ticks = set(_tick_labels(ax))
        for (a, box_a), (b, box_b) in itertools.combinations(texts, 2):
            if a in ticks and b in ticks:
                continue
            if box_a.overlaps(box_b):
                clashes.append(f"{name}: {a.get_text()!r} / {b.get_text()!r}")
        outside = [t.get_text() for t, box in texts if not figure.bbox.contains(box.x0, box.y0)
                   or not figure.bbox.contains(box.x1, box.y1)]
        clashes += [f"{name}: {text!r} outside the figure" for text in outside]
    assert not clashes, "\n".join(clashes)


def test_a_share_near_seventy_percent_is_drawn_on_an_axis_that_shows_its_changes(runs, targeted):
    """The manufacturing share moves between about 60 and 70 %: an axis from 0 would flatten that."""
    ax = plots.plot_indicator(runs, "manufacturing_share_of_above_scale_industry_pct", ax=plots.new_axes("zh"),
                              history=history(), targets=targeted[0], lang="zh")
    low, high = ax.get_ylim()
    values = runs["规划情景"]["manufacturing_share_of_above_scale_industry_pct"]
    assert low > 0.5 * float(values.min())
    assert (float(values.max()) - float(values.min())) / (high - low) > 0.3    # the data fill a third of it


def test_the_plan_and_a_scenario_are_told_apart_by_style_not_only_colour(runs):
    three = runs | {"煤价冲击": runs["规划情景"].assign_attrs(scenario="coal_shock")}
    styles = plots.line_styles(three)
    plan, other, base = styles["规划情景"], styles["煤价冲击"], styles["基准情景（无新政策）"]
    assert plan["linewidth"] > other["linewidth"] and plan["zorder"] < other["zorder"]   # the plan shows beneath
    assert other["linestyle"] != "-" and plan["linestyle"] == "-"
    assert len({str(s["color"]) for s in (plan, other, base)}) == 3


def test_every_chart_of_the_report_has_no_legend_of_its_own_and_the_set_has_one(runs, targeted, tmp_path):
    """One legend per figure: the charts share charts/legend.png, and headlines.png carries it once."""
    rows, _ = targeted
    charts = report.write_charts(runs, ["gdp_100m_yuan"], history(), rows, tmp_path, "zh", headlines=True)
    assert (tmp_path / "charts" / "legend.png").is_file()
    assert (tmp_path / "headlines.png").is_file() and (tmp_path / "headlines_D.png").is_file()
    ax = plots.plot_indicator(runs, "gdp_100m_yuan", ax=plots.new_axes("zh"), legend=False)
    assert ax.get_legend() is None and len(charts) >= len(plots.HEADLINES)
    figure = plots.plot_headlines(runs, plots.HEADLINES[:4], history(), rows, "zh")
    assert len(figure.legends) == 1 and not any(ax.get_legend() for ax in figure.axes)


def test_every_target_of_document_d_is_marked_on_its_chart(runs, targeted):
    """D's 13 modelled targets, level or mean or growth path, each leave a mark on its indicator's chart."""
    rows, _ = targeted
    ahead = [t for t in rows if t.doc == "D"]
    assert len(ahead) >= 13
    for target in ahead:
        ax = plots.plot_indicator(runs, target.indicator, ax=plots.new_axes("zh"), targets=[target], lang="zh",
                                  legend=False)
        marks = [a for a in [*ax.get_lines(), *ax.collections] if str(a.get_gid()).startswith("target")]
        labels = [t.get_text() for t in ax.texts if t.get_gid() == "target"]
        assert marks and any(label.startswith("D ") for label in labels), target.id


def test_a_count_of_large_firms_is_drawn_at_the_count_and_read_as_odds_in_chinese(runs, targeted):
    """B's '10 firms with revenue >= 100 亿元' shows at 10 firms, worded as the odds of reaching 10: not as
    '≥ 0.5 家', and without the measure's code name."""
    rows, _ = targeted
    (target,) = [t for t in rows if t.measure == "probability_at_least" and t.count == 10]
    ax = plots.plot_indicator(runs, target.indicator, ax=plots.new_axes("zh"), targets=[target], lang="zh")
    (marker,) = [line for line in ax.get_lines() if line.get_gid() == "target-marker"]
    assert list(marker.get_ydata()) == [10]
    words = " ".join(t.get_text() for t in ax.texts)
    assert "probability_at_least" not in words and "0.5 家" not in words and "10家的概率" in words


def test_growth_charts_explain_the_2020_22_swings(runs):
    ax = plots.plot_indicator(runs, "manufacturing_va_growth_pct", ax=plots.new_axes("zh"), history=history())
    assert any("2020–22" in t.get_text() for t in ax.texts)


def test_no_chart_label_holds_a_vensim_unit_or_a_negative_energy_saving_name():
    from nxmfg.model.indicators import INDICATORS

    for name, meta in INDICATORS.items():
        assert not any(unit in f"{meta.unit} {meta.zh} {meta.en}" for unit in VENSIM_UNITS), name
    assert "节能量" != INDICATORS["energy_saved_10k_tce"].zh      # negative in the baseline: named for what it is


def test_the_legend_figure_lists_each_run_once():
    runs = {"a": None, "b": None}
    figure = plots.legend_figure(dict.fromkeys(runs, _empty()), True, (True, False), True, "en")
    assert isinstance(figure, Figure)
    texts = [t.get_text() for t in figure.legends[0].get_texts()]
    assert texts.count("a") == 1 and "history" in texts and plots.WORDS["en"]["band"] in texts


def _empty():
    import xarray as xr

    return xr.Dataset({"x": ("year", np.zeros(3))}, coords={"year": [2020, 2021, 2022]})


def test_the_sensitivity_heatmap_names_levers_and_targets_as_a_planner_reads_them():
    """st_heatmap.png in zh: lever and target names, not `target:D-…` ids or snake_case constants."""
    import pandas as pd

    from nxmfg.sensitivity.pipeline import _heatmap

    indices = pd.read_csv(Path(__file__).resolve().parents[1] / "docs" / "studies" / "levers_2027" / "indices.csv")
    figure = _heatmap(indices, indices["outcome"].nunique(), indices["parameter"].nunique(), "zh")
    ax = figure.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()] + [ax.get_title()]
    assert labels and not [label for label in labels if "_" in label or "target:" in label]
    assert any(label.startswith("D ") for label in labels) and "贷款贴息" in labels
