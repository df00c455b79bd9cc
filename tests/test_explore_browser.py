"""`nxmfg explore` in a real browser: Debian's chromium driven by Playwright (never a downloaded browser).

One server for the module, started as a user starts it and stopped by its process id. The tests move
levers and watch the charts and verdicts change, refuse an out-of-range value, switch the language,
save a scenario and run the saved file, and open two sessions side by side. A screenshot of the page
goes to out/explore.png.
"""

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import yaml

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).parents[1]
RETROFITS = "intelligent_retrofit_firms_per_year"
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no chromium on this machine (.ci/run installs it)"),
    pytest.mark.timeout(600),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """`nxmfg explore` on a free port, until the module ends; no process is left behind."""
    port = free_port()
    process = subprocess.Popen([str(Path(sys.executable).with_name("nxmfg")), "explore", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nxmfg explore stopped: {process.stdout.read()}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("nxmfg explore did not answer within 180 s")
    yield url
    process.send_signal(signal.SIGINT)                   # Ctrl-C, as a user stops it
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("Ctrl-C did not stop nxmfg explore within 20 s")
    assert not _children(process.pid), "nxmfg explore left processes behind"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().split(") ")[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1600, "height": 1100}, accept_downloads=True)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("#stamp:not(:empty)", state="attached", timeout=60_000)
    page.errors = errors
    return page


# The stamp of the page a frame shows (its body's data-stamp): the frames take a new body in place
# (views.FRAMES_JS), so the document, not its first srcdoc, says what is shown.
FRAME_STAMP = "(id => { const d = document.getElementById(id).contentDocument; return d && d.body && d.body.dataset.stamp; })"
FRAME_LANG = "(id => { const d = document.getElementById(id).contentDocument; return d && d.documentElement.lang; })"


def stamp(page) -> str:
    return page.inner_text("#stamp")


def wait_for_new_stamp(page, old: str) -> str:
    page.wait_for_function("old => document.getElementById('stamp').innerText !== old", arg=old, timeout=60_000)
    page.wait_for_function("s => " + FRAME_STAMP + "('verdicts') === s", arg=stamp(page), timeout=60_000)
    return stamp(page)


LINE = """([id, name]) => { const chart = document.getElementById(id);
    const plot = chart && chart.querySelector('.js-plotly-plot');
    const trace = plot && plot.data && plot.data.filter(t => t.name === name)[0];
    return trace ? trace.y : null; }"""


def current_line(page, indicator: str, name: str = "当前情景", changed_from: list | None = None) -> list:
    """The current scenario's values as drawn in the chart of `indicator` (Plotly's own data); with
    `changed_from`, once they differ from it (Plotly draws just after Dash sets the figure)."""
    graph = json.dumps({"name": indicator, "type": "chart"}, separators=(",", ":"))
    waited = LINE if changed_from is None else (
        "([id, name, old]) => { const y = (" + LINE + ")([id, name]); "
        "return y && JSON.stringify(y) !== JSON.stringify(old); }")
    page.wait_for_function(waited, arg=[graph, name, changed_from], timeout=60_000)
    return page.evaluate(LINE, [graph, name])


def verdict(page, target: str) -> dict:
    """A target's row of the verdict table: value, P(met), model verdict."""
    row = page.frame_locator("#verdicts").locator(f'tr[data-id="{target}"]')
    return {"value": row.locator("td.value").inner_text(), "probability": row.locator("td.probability").inner_text(),
            "met": row.get_attribute("data-met")}


def control_id(kind: str, name: str) -> str:
    """A CSS selector of a pattern-matching Dash id."""
    return f"[id='{json.dumps({'name': name, 'type': kind}, separators=(',', ':'))}']"


def lever_box(page, name: str):
    return page.locator(control_id("lever-input", name))


def type_lever(page, name: str, value) -> None:
    box = lever_box(page, name)
    box.fill(str(value))
    box.press("Enter")


def test_moving_a_lever_redraws_the_chart_and_turns_a_verdict(server, browser):
    page = open_page(browser, server)
    before_line = current_line(page, "digital_rd_tool_penetration_pct")
    before = verdict(page, "D-digital-rd-tools")
    old = stamp(page)
    type_lever(page, RETROFITS, 500)
    wait_for_new_stamp(page, old)
    after_line = current_line(page, "digital_rd_tool_penetration_pct", changed_from=before_line)
    after = verdict(page, "D-digital-rd-tools")
    assert after_line[-1] > before_line[-1] and after_line[:14] == before_line[:14]   # the future moves, not 2010-23
    assert float(after["value"]) > float(before["value"])
    assert after["probability"] != before["probability"] or after["met"] != before["met"]
    slider = page.locator(control_id("lever-slider", "cloud_voucher_firms_per_year"))
    box = slider.bounding_box()
    old = stamp(page)
    page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)     # drag-free: click the rail
    wait_for_new_stamp(page, old)
    assert float(lever_box(page, "cloud_voucher_firms_per_year").input_value()) > 500
    assert not page.errors
    Path(ROOT / "out").mkdir(exist_ok=True)
    page.screenshot(path=str(ROOT / "out" / "explore.png"), full_page=True)
    page.close()


DRAWING = """id => { const gd = document.getElementById(id).querySelector('.js-plotly-plot');
    const groups = [...gd.querySelectorAll('.scatterlayer > .trace')];
    return {lines: gd.data.map((t, i) => t.meta === 'moves' ? groups[i].querySelector('.js-line').getAttribute('d') : null),
            fill: groups.flatMap(g => [...g.querySelectorAll('.js-fill')]).map(f => f.getAttribute('d')),
            data: gd.data.map(t => t.meta === 'moves' ? t.y : null),
            calc: gd.calcdata.map((cd, i) => gd.data[i].meta === 'moves' ? cd.map(p => p.y) : null)}; }"""


SIMPLIFIED = 0.76    # px: Plotly's line simplification (0.75) and the paths' rounding to 0.01 px


def _points(path: str) -> np.ndarray:
    return np.array([[float(v) for v in pair.split(",")] for pair in re.findall(r"-?[\d.]+,-?[\d.]+", path)])


def _within(points: np.ndarray, polyline: np.ndarray, tolerance: float = 0.05, closed: bool = False) -> bool:
    """Every point lies on the polyline (a fill's is closed), within `tolerance` pixels."""
    ends = np.vstack([polyline, polyline[:1]]) if closed else polyline
    a, b = ends[:-1], ends[1:]
    for point in points:
        t = np.einsum("ij,ij->i", point - a, b - a) / np.maximum(np.einsum("ij,ij->i", b - a, b - a), 1e-12)
        t = np.clip(t, 0, 1)
        if np.min(np.hypot(*(a + t[:, None] * (b - a) - point).T)) > tolerance:
            return False
    return True


def test_a_lever_move_draws_the_lines_plotly_would_draw_and_without_plotly(server, browser):
    """A move that keeps the chart's y range is drawn by the page itself (charts.MOVE_JS): no Plotly call for the
    chart, its lines and the band's fill on the polylines Plotly draws from the same data (Plotly.redraw: its
    own calculation and drawing), and the values Plotly keeps for hover (calcdata) those of the figure. Plotly
    simplifies a line, dropping a point within 0.75 px of it (max(width, 3) / 4, plotly.js line_points), so each
    of its vertices is on our polyline and each of our points within 0.75 px of its. Two charts: a level, and a
    growth rate, whose lines have no 2010 value."""
    page = open_page(browser, server)
    page.evaluate("document.getElementById('charts').scrollIntoView()")
    charts = [json.dumps({"name": name, "type": "chart"}, separators=(",", ":"))
              for name in ("gdp_100m_yuan", "manufacturing_va_growth_pct")]
    for chart in charts:
        page.wait_for_function("id => document.getElementById(id).querySelector('.js-plotly-plot .scatterlayer')",
                               arg=chart, timeout=60_000)
    page.evaluate("""() => { window.plotted = [];          // the charts Plotly is called for
        for (const name of ['animate', 'update', 'react', 'redraw', 'restyle', 'relayout']) {
            const call = Plotly[name];
            Plotly[name] = function (gd, ...args) {
                window.plotted.push(gd.closest('.chart').id); return call.apply(this, [gd, ...args]); }; } }""")
    before = {chart: page.evaluate(DRAWING, chart) for chart in charts}
    old = stamp(page)
    type_lever(page, RETROFITS, 130)          # a small move: the same y ranges
    for chart in charts:
        page.wait_for_function("([id, old]) => { const s = document.getElementById(id).dataset.stamp; "
                               "return s && s !== old; }", arg=[chart, old], timeout=60_000)
    drawn = {chart: page.evaluate(DRAWING, chart) for chart in charts}
    plotted_charts = page.evaluate("() => window.plotted")
    for chart in charts:
        page.evaluate("id => Plotly.redraw(document.getElementById(id).querySelector('.js-plotly-plot'))", chart)
        plotted = page.evaluate(DRAWING, chart)
        ours_all = drawn[chart]
        moved = [i for i, line in enumerate(ours_all["lines"]) if line is not None]
        assert len(moved) == 3 and ours_all["lines"] != before[chart]["lines"]   # the band's edges, the current line
        assert chart not in plotted_charts          # drawn without Plotly
        assert plotted["data"] == ours_all["data"]
        for index in moved:
            assert ours_all["calc"][index] == ours_all["data"][index]
            ours, theirs = _points(ours_all["lines"][index]), _points(plotted["lines"][index])
            assert len(ours) == sum(v is not None for v in ours_all["data"][index])
            assert _within(theirs, ours) and _within(ours, theirs, SIMPLIFIED), (chart, index)
        assert len(ours_all["fill"]) == len(plotted["fill"]) == 1
        ours, theirs = _points(ours_all["fill"][0]), _points(plotted["fill"][0])
        assert _within(theirs, ours, closed=True) and _within(ours, theirs, SIMPLIFIED, closed=True), chart
    assert not page.errors
    page.close()


def test_a_lever_move_writes_the_frames_pages_in_place_and_the_reader_keeps_their_place(server, browser):
    """views.FRAMES_JS: the verdict table and the decision page take the new draft's body in the document they
    hold (no page to load again), so a reader scrolled down the table stays where they were."""
    page = open_page(browser, server)
    page.wait_for_function("() => " + FRAME_STAMP + "('verdicts') === document.getElementById('stamp').innerText",
                           timeout=60_000)
    page.evaluate("""() => { const w = document.getElementById('verdicts').contentWindow;
                             w.document.nxmfgMark = 'kept'; w.scrollTo(0, 300); }""")
    old = stamp(page)
    type_lever(page, RETROFITS, 450)
    new = wait_for_new_stamp(page, old)
    kept = page.evaluate("""() => { const w = document.getElementById('verdicts').contentWindow;
                                    return [w.document.nxmfgMark, w.scrollY, w.document.body.dataset.stamp]; }""")
    assert kept == ["kept", 300, new]
    assert not page.errors
    page.close()


def test_an_out_of_range_value_is_refused_in_the_control_with_the_allowed_range(server, browser):
    page = open_page(browser, server)
    old = stamp(page)
    type_lever(page, RETROFITS, 9999)
    message = page.locator(control_id("lever-message", RETROFITS))
    message.filter(has_text="9999").wait_for(timeout=30_000)
    assert message.inner_text() == "已拒绝：9999 超出允许范围 [0, 500]"
    assert lever_box(page, RETROFITS).evaluate("box => box.closest('.refused') !== null")   # the box turns red
    time.sleep(1)
    assert stamp(page) == old and not page.errors                       # nothing recomputed, no server error
    page.close()


def test_the_language_switch_turns_every_text_to_english_and_back(server, browser):
    page = open_page(browser, server)
    assert page.inner_text("h1") == "宁夏制造业情景探索"
    page.get_by_label("English").check()
    page.wait_for_function("() => document.querySelector('h1').innerText.startsWith('Ningxia')", timeout=30_000)
    help_text = page.locator(control_id("lever-help", RETROFITS))
    assert help_text.inner_text().startswith("Lever: intelligent (digital) retrofit projects")
    page.wait_for_function("() => " + FRAME_LANG + "('verdicts') === 'en'", timeout=30_000)
    assert "Digital R&D design tools" in page.frame_locator("#verdicts").locator("body").inner_text()
    page.get_by_label("中文").check()
    page.wait_for_function("() => document.querySelector('h1').innerText.startsWith('宁夏')", timeout=30_000)
    assert "智能化" in help_text.inner_text()
    page.close()


def test_a_saved_scenario_simulates_to_the_values_shown(server, browser, tmp_path):
    import nxmfg

    page = open_page(browser, server)
    old = stamp(page)
    type_lever(page, "key_projects_per_year", 250)
    old = wait_for_new_stamp(page, old)
    type_lever(page, "tech_upgrade_subsidy_rate", 8)          # in % (issue 22): the model and the file read 0.08
    wait_for_new_stamp(page, old)
    page.fill("#name", "browser_case")
    page.press("#name", "Enter")
    with page.expect_download() as download:
        page.click("#save")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "browser_case.yaml"
    levers = yaml.safe_load(path.read_text(encoding="utf-8"))["levers"]
    assert levers == {"key_projects_per_year": {"from": 2024, "value": 250.0},
                      "tech_upgrade_subsidy_rate": {"from": 2024, "value": pytest.approx(0.08, abs=1e-15)}}
    result = nxmfg.run(path)                                   # what `nxmfg simulate browser_case.yaml` computes
    shown = current_line(page, "gdp_100m_yuan")
    np.testing.assert_allclose(shown, result.indicators["gdp_100m_yuan"].values, rtol=1e-5)   # 6 digits drawn
    table = result.attainment.set_index("id")
    for target in ("D-above-scale-industry-va", "D-rd-active-firms", "D-tech-upgrade-investment-growth"):
        value = float(verdict(page, target)["value"].replace(",", ""))
        digits = 0 if abs(value) >= 100 else 1
        assert value == pytest.approx(round(float(table.loc[target, "value"]), digits)), target
    page.close()


def test_two_sessions_do_not_share_state(server, browser):
    first, second = open_page(browser, server), open_page(browser, server)
    assert stamp(first) == stamp(second)
    old = stamp(first)
    type_lever(first, "cloud_voucher_firms_per_year", 900)
    wait_for_new_stamp(first, old)
    second.reload()
    second.wait_for_selector("#stamp:not(:empty)", state="attached", timeout=60_000)
    assert stamp(second) == old and stamp(first) != old
    assert float(lever_box(second, "cloud_voucher_firms_per_year").input_value()) == 0
    assert float(lever_box(first, "cloud_voucher_firms_per_year").input_value()) == 900
    first.close()
    second.close()


def test_the_page_renders_chinese_with_a_cjk_font(server, browser):
    page = open_page(browser, server)
    font = page.evaluate("() => getComputedStyle(document.body).fontFamily")
    assert re.search(r"Noto Sans CJK|WenQuanYi", font)
    width = page.evaluate("""() => { const c = document.createElement('canvas').getContext('2d');
        c.font = '20px "WenQuanYi Micro Hei", "Noto Sans CJK SC"'; return c.measureText('宁夏').width; }""")
    assert width > 30, "Chinese glyphs have no width: no CJK font"
    page.close()


def choose(page, dropdown: str, option: str) -> None:
    """Open a Dash dropdown, fill its search box and click the option once it is listed. The page may
    redraw while the menu opens, which closes it or drops typed keys (the search box is React's): the
    search text is therefore filled at once, not typed key by key, and the whole step tried again."""
    listed = page.locator("[role=option].dash-dropdown-option").filter(has_text=option).first
    for _ in range(5):
        if page.get_attribute(dropdown, "data-state") != "open":
            page.click(dropdown)
        try:
            page.locator(".dash-dropdown-search").fill(option, timeout=5_000)
            listed.click(timeout=5_000)
            break
        except playwright_api.TimeoutError:
            page.keyboard.press("Escape")
    else:
        pytest.fail(f"{dropdown} never listed {option}")
    page.keyboard.press("Escape")            # a multi-select stays open, over what the next step clicks


def test_a_picked_indicator_gets_its_chart_and_a_shipped_scenario_loads(server, browser):
    page = open_page(browser, server)
    choose(page, "#picked", "上云企业数")                     # listed by its name in the reader's language
    line = current_line(page, "cloud_firms_count")
    assert len(line) == 26 and line[-1] > 0
    old = stamp(page)
    choose(page, "#load", "digital_push")
    page.locator("#load-message").filter(has_text="digital_push").wait_for(timeout=60_000)
    wait_for_new_stamp(page, old)
    assert float(lever_box(page, RETROFITS).input_value()) == 250           # the ramp's final value
    assert float(lever_box(page, "tech_upgrade_subsidy_rate").input_value()) == 5   # the file's 0.05, in %
    assert page.input_value("#name") == "digital_push"
    assert not page.errors
    page.close()


def decision_ready(page, lang: str = "zh-CN", changed_from: str = "") -> str:
    """Wait until the decision page is drawn in `lang` (and for another draft than `changed_from`); return its stamp
    (the draft's key, whichever side's JSON the draft went through: evaluation.content)."""
    page.wait_for_function(f"([lang, old]) => {{ const s = {FRAME_STAMP}('decision'); "
                           f"return {FRAME_LANG}('decision') === lang && s && s !== old; }}",
                           arg=[lang, changed_from], timeout=60_000)
    return page.evaluate(f"() => {FRAME_STAMP}('decision')")


def test_document_ds_decision_page_comes_first_with_every_target_and_follows_the_levers(server, browser):
    """Issue 22: the explorer opens on D's decision page (Chinese by default, English on the switch): one row
    per modelled target of D (and any other target still ahead, such as a CO2 row), each with the baseline's,
    the plan's and, once a lever moves, the scenario's P(met), labelled with the states it is over; a flag."""
    from nxmfg import decision, scenarios

    expected = [t.id for t in decision.ahead(scenarios.load_targets())]
    assert sum(1 for t in expected if t.startswith("D-")) == 13            # D's 13 modelled targets
    page = open_page(browser, server)
    first = page.evaluate("() => document.querySelector('section.content').firstElementChild.id")
    assert first == "decision"
    shown = decision_ready(page)
    frame = page.frame_locator("#decision")
    assert frame.locator("tr[data-id]").evaluate_all("rows => rows.map(r => r.dataset.id)") == expected
    text = frame.locator("body").inner_text()
    assert "D文件" in text and "256" in text                                # P(met) over the states, named
    for flag in frame.locator("tr[data-id]").evaluate_all("rows => rows.map(r => r.dataset.flag)"):
        assert flag in decision.texts.FLAGS
    chart = frame.locator("img").first                     # the study's chart, linked (explore/decision.py)
    chart.wait_for(timeout=30_000)
    page.wait_for_function("() => [...document.getElementById('decision').contentDocument.images]"
                           ".every(img => img.complete && img.naturalWidth > 0)", timeout=30_000)
    headers = frame.locator("thead").inner_text()
    assert "基准情景" in headers and "规划情景" in headers and "当前情景" not in headers
    type_lever(page, RETROFITS, 500)
    shown = decision_ready(page, changed_from=shown)
    assert shown == stamp(page)                  # the same draft's page as the charts' and verdicts' (one round trip)
    assert "当前情景" in frame.locator("thead").inner_text()
    page.get_by_label("English").check()
    decision_ready(page, "en")
    english = frame.locator("body").inner_text()
    assert "256 states" in english and "current scenario" in frame.locator("thead").inner_text().lower()
    assert frame.locator("tr[data-id]").count() == len(expected)
    assert not page.errors
    page.screenshot(path=str(ROOT / "out" / "explore_decision.png"), full_page=False)
    page.close()
