"""Charts: Chinese labels resolve to a CJK font, each scenario gets its own line, targets and history show."""

import os
import subprocess
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from nxmfg.model import fonts, plots  # noqa: E402
from nxmfg.model.indicators import INDICATORS  # noqa: E402

YEARS = np.arange(2010, 2036)
NAME = "gdp_100m_yuan"


def fake_runs(n: int) -> dict[str, xr.Dataset]:
    """n scenarios whose GDP differs by 1 % each; Chinese scenario names."""
    return {f"情景{i}": xr.Dataset({NAME: ("year", 1000 * 1.05 ** (YEARS - 2010) * (1 + 0.01 * i))},
                                 coords={"year": YEARS}) for i in range(n)}


HISTORY = pd.DataFrame({"indicator": NAME, "year": np.arange(2008, 2021),
                        "value": 900 * 1.06 ** np.arange(13)})
TARGETS = [
    {"indicator": NAME, "doc": "B", "year": 2025, "threshold": 2500.0, "measure": "level", "direction": "at_least"},
    {"indicator": NAME, "year": 2022, "threshold": 7.0, "measure": "cagr", "base_year": 2020,
     "direction": "at_least"},
    {"indicator": "other", "year": 2025, "threshold": 1.0, "measure": "level", "direction": "at_most"},
]


@pytest.fixture
def figure_and_axes():
    with plots.style():
        figure, ax = plt.subplots()
        yield figure, ax
    plt.close(figure)


def test_chinese_labels_resolve_to_a_cjk_font_and_draw_without_missing_glyph_warnings(figure_and_axes):
    """Every Chinese character on the chart is drawn by a font that has it: no empty boxes."""
    figure, ax = figure_and_axes
    plots.plot_indicator(fake_runs(3), NAME, ax=ax, history=HISTORY, targets=TARGETS, lang="zh")
    assert ax.get_title(loc="left") == INDICATORS[NAME].zh and ax.get_ylabel() == "亿元"
    report = fonts.figure_glyph_report(figure)
    chinese = {char for char in report if "\u4e00" <= char <= "\u9fff"}
    assert set(INDICATORS[NAME].zh) | {"情", "景", "历", "史", "年", "亿", "元"} <= chinese
    unresolved = sorted(char for char, font in report.items() if font is None)
    assert unresolved == []
    cjk_file = font_manager.findfont(font_manager.FontProperties(family=fonts.cjk_family()))
    assert all(report[char] == cjk_file.rsplit("/", 1)[-1] for char in chinese)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # matplotlib warns "Glyph ... missing from font(s)"
        figure.canvas.draw()


def test_every_indicator_name_unit_and_chart_word_has_glyphs_in_the_chart_fonts():
    text = "".join(f"{i.zh}{i.unit}" for i in INDICATORS.values())
    text += "".join(plots.WORDS["zh"].values()) + "".join(plots.MEASURES["zh"].values())
    assert fonts.missing_glyphs(text, plots.font_families()) == []


def test_glyph_check_catches_a_latin_only_font():
    """The check is not vacuous: with DejaVu Sans alone the Chinese characters are reported missing."""
    assert fonts.missing_glyphs("宁夏 GDP", ["DejaVu Sans"]) == sorted("宁夏")
    assert fonts.missing_glyphs("宁夏 GDP", ["DejaVu Sans", fonts.cjk_family()]) == []
    figure = plt.figure()
    figure.text(0.1, 0.5, "制造业", fontfamily="DejaVu Sans")
    assert fonts.figure_glyph_report(figure) == {"制": None, "造": None, "业": None}
    plt.close(figure)


def test_without_a_cjk_font_charts_fail_with_the_install_command(monkeypatch):
    monkeypatch.setattr(fonts, "CJK_FAMILIES", ("No Such Font Family",))
    monkeypatch.setattr(fonts, "_register_system_fonts", lambda: None)
    fonts.cjk_family.cache_clear()
    try:
        with pytest.raises(fonts.MissingFontError, match="apt-get install fonts-wqy-microhei"):
            plots.font_families()
    finally:
        fonts.cjk_family.cache_clear()


def test_a_font_installed_after_matplotlib_cached_its_font_list_is_found():
    """apt installs the font after pip built matplotlib's font cache (a fresh CI machine): rescan, don't fail.

    Run in a fresh interpreter whose font list lacks the CJK font, as a stale cache would.
    """
    script = """
from pathlib import Path
from matplotlib import font_manager
from nxmfg.model import fonts
cjk = {Path(p).name for p in font_manager.findSystemFonts()
       if fonts._covers(p, fonts.PROBE)}
font_manager.fontManager.ttflist = [e for e in font_manager.fontManager.ttflist
                                    if Path(e.fname).name not in cjk]
assert all(fonts._installed(f) is None for f in fonts.CJK_FAMILIES), "font list still has a CJK font"
print(fonts.cjk_family())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=Path(fonts.__file__).parents[1])
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == fonts.cjk_family()


def test_ten_scenarios_get_ten_distinct_colours_and_a_legend_below_the_chart(figure_and_axes):
    figure, ax = figure_and_axes
    plots.plot_indicator(fake_runs(10), NAME, ax=ax, history=HISTORY, targets=TARGETS)
    lines = [line for line in ax.get_lines() if line.get_label().startswith("情景")]
    assert len(lines) == 10
    assert len({tuple(line.get_color()) for line in lines}) == 10
    legend = ax.get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[:10] == list(fake_runs(10)) and {"历史", "目标"} <= set(labels)
    figure.canvas.draw()
    legend_box = legend.get_window_extent()
    assert legend_box.y1 <= ax.get_window_extent().y0        # below the plotting area: hides no line, takes
    assert legend_box.width <= figure.bbox.width              # no third of the width


def test_more_than_ten_scenarios_still_get_distinct_colours():
    assert len(set(plots.colours(14))) == 14


def test_history_dots_and_level_target_markers_sit_at_their_data(figure_and_axes):
    figure, ax = figure_and_axes
    plots.plot_indicator(fake_runs(2), NAME, ax=ax, history=HISTORY, targets=TARGETS, lang="en")
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(dots) == 1
    assert list(dots[0].get_xdata()) == list(range(2010, 2021))   # history before the run is clipped
    triangles = [line for line in ax.get_lines() if line.get_marker() == "^"]
    assert [(list(t.get_xdata()), list(t.get_ydata())) for t in triangles] == [([2025], [2500.0])]
    (path,) = [line for line in ax.get_lines() if line.get_gid() == "target-path"]   # 7 %/yr from 2020's record
    np.testing.assert_allclose(path.get_ydata(), HISTORY["value"].iloc[-1] * 1.07 ** np.arange(3))
    labels = [(t.get_text(), t.xy) for t in ax.texts if t.get_gid() == "target"]
    assert ("B 2025", (2025, 2500.0)) in labels            # each marker says whose target, for when
    (boundary,) = [line for line in ax.get_lines() if line.get_gid() == plots.LAST_DATA_GID]
    assert list(boundary.get_xdata()) == [2023, 2023] and "data to 2023" in [t.get_text() for t in ax.texts]
    assert ax.get_ylim()[0] > 0                            # no forced zero: the axis spans the data
    assert ax.get_xlabel() == "year"
    assert (ax.get_title(loc="left"), ax.get_ylabel()) == (INDICATORS[NAME].en, "100 million yuan")


def test_a_chart_with_only_relative_targets_shows_no_target_triangle_in_its_legend(figure_and_axes):
    """A growth target is a dashed path, not a marker: the legend must not promise a triangle."""
    figure, ax = figure_and_axes
    plots.plot_indicator(fake_runs(1), NAME, ax=ax, history=HISTORY, targets=TARGETS[1:2], lang="en")
    entries = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "target" not in entries and plots.WORDS["en"]["target_span"] in entries
    plots.plot_indicator(fake_runs(1), NAME, ax=ax, history=HISTORY, targets=TARGETS[:1], lang="en")
    assert "target" in [text.get_text() for text in ax.get_legend().get_texts()]


def test_ensemble_runs_and_bands_are_shaded_around_the_median(figure_and_axes):
    figure, ax = figure_and_axes
    rng = np.random.default_rng(1)
    ensemble = xr.Dataset({NAME: (("run", "year"), 1000 + rng.normal(0, 50, (200, YEARS.size)))},
                          coords={"year": YEARS})
    plots.plot_indicator({"基准": ensemble}, NAME, ax=ax, band=ensemble[NAME])
    (line,) = [line for line in ax.get_lines() if line.get_gid() != plots.LAST_DATA_GID]
    np.testing.assert_allclose(line.get_ydata(), ensemble[NAME].median("run"))
    assert len(ax.collections) == 2          # the run's own 5-95 % range and the explicit band
    low, high = ensemble[NAME].quantile([0.05, 0.95], dim="run")
    assert (low < line.get_ydata()).all() and (line.get_ydata() < high).all()


def test_headline_grid_has_one_chart_per_available_indicator():
    runs = fake_runs(3)
    figure = plots.plot_headlines(runs, [NAME, "not_in_runs"], HISTORY, TARGETS)
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert len(visible) == 1 and len(figure.legends) == 1
    plt.close(figure)
    with pytest.raises(ValueError, match="none of the requested indicators"):
        plots.plot_headlines(runs, ["not_in_runs"])


@pytest.mark.parametrize("target, text", [
    ({"year": 2022, "threshold": 900, "measure": "level", "direction": "at_least"}, "2022 ≥ 900 亿元"),
    ({"year": 2022, "threshold": 2, "measure": "pp_change_vs", "base_year": 2015, "direction": "at_least"},
     "2022 较2015年变化 ≥ 2 百分点"),
    ({"year": 2020, "threshold": 3400, "measure": "cumulative", "from_year": 2016, "direction": "about"},
     "2016–2020年累计 ≈ 3400 亿元"),
])
def test_targets_read_as_the_plans_write_them(target, text):
    assert plots.describe_target(target, "亿元", "zh") == text


def _record(folder: Path, index: int, parent: int, fail_in_helper: bool) -> None:
    time.sleep(0.05)                                   # long enough for the helper to take some tasks
    if os.getpid() != parent:
        (folder / f"tried.{index}").write_text("")
        if fail_in_helper:
            raise RuntimeError("a helper fails; the parent must redo the task")
    (folder / f"done.{index}.{os.getpid()}").write_text("")


def test_every_chart_task_is_done_once_by_this_process_or_a_helper(tmp_path):
    from nxmfg.model import drawing

    drawing.draw_all([partial(_record, tmp_path, i, os.getpid(), False) for i in range(8)], helpers=1)
    done = sorted(int(p.name.split(".")[1]) for p in tmp_path.glob("done.*"))
    assert done == list(range(8))


def test_a_task_a_helper_fails_on_is_done_here_and_an_error_here_is_raised(tmp_path):
    from nxmfg.model import drawing

    parent = os.getpid()
    drawing.draw_all([partial(_record, tmp_path, i, parent, True) for i in range(8)], helpers=1)
    assert list(tmp_path.glob("tried.*")), "the helper took some tasks"
    assert sorted(p.name for p in tmp_path.glob("done.*")) == sorted(f"done.{i}.{parent}" for i in range(8))
    with pytest.raises(ZeroDivisionError):
        drawing.draw_all([lambda: None, lambda: 1 / 0], helpers=1)



def _then(folder: Path, count: int) -> None:
    """The tile: every chart is there when it starts."""
    assert len(list(folder.glob("done.*"))) == count
    (folder / f"then.{os.getpid()}").write_text("")


@pytest.mark.parametrize("fail_in_helper", [False, True])
def test_the_tile_is_made_here_after_every_chart_while_a_helper_writes_the_data(tmp_path, fail_in_helper):
    from nxmfg.model import drawing

    parent = os.getpid()
    data = partial(_record, tmp_path / "data", 0, parent, False)
    (tmp_path / "data").mkdir()
    drawing.draw_all([partial(_record, tmp_path, i, parent, fail_in_helper) for i in range(6)], helpers=1,
                     alongside=[data], then=partial(_then, tmp_path, 6))
    assert [p.name for p in tmp_path.glob("then.*")] == [f"then.{parent}"]
    (written,) = (tmp_path / "data").glob("done.*")
    if not fail_in_helper:       # a failed helper has stopped: this process writes the data afterwards
        assert written.name != f"done.0.{parent}", "a helper writes the data while this process tiles"


def test_without_helpers_the_tile_comes_after_the_charts_and_the_data(tmp_path):
    from nxmfg.model import drawing

    order = []
    drawing.draw_all([partial(order.append, "chart")], helpers=0, alongside=[partial(order.append, "data")],
                     then=partial(order.append, "tile"))
    assert order == ["chart", "data", "tile"]


def test_charts_are_shared_out_after_a_progress_bar_but_not_beside_another_thread():
    """tqdm's monitor thread, left by any progress bar (an engine run shows one), does not stop the helpers
    (it cost `simulate` its second core); any other thread does, since it might hold a lock at the fork."""
    import threading

    from tqdm import tqdm

    from nxmfg.model import drawing

    with open(os.devnull, "w") as sink, tqdm(total=1, file=sink, mininterval=0) as bar:
        bar.update()
    monitor = tqdm.monitor
    assert monitor is not None and monitor.is_alive(), "tqdm left its monitor thread"
    assert monitor not in drawing.other_threads()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert other in drawing.other_threads()
        assert drawing._helpers(8) == 0
    finally:
        stop.set()
        other.join()
