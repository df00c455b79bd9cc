"""Latency of `nxmfg explore`: from a changed lever to redrawn charts and verdicts, band included.

    python benchmarks/explore.py              # server callbacks, then the browser (Debian's chromium)
    python benchmarks/explore.py --server     # the server's share alone

Server: the callback a lever move runs (the controls read into a draft, the scenario and its band in one
engine call, the moving lines of the 12 headline charts (`moves`), the verdict table) with the JSON Dash
sends, for a new lever value each time (no cache hit). Browser: a value typed into a lever's box and Enter,
until the stamp of the new draft, the chart's new line and the verdict table's new page are all in the page
and the browser has painted (two animation frames). The browser's share is the difference: the request, Dash
applying the answer, the page moving the lines of twelve charts (charts.MOVE_JS) and the verdict frame's new
page; beside it, the CPU time of the page's main thread. The last lines are `band_states: N` (the band's states of the
world: calibration/states.py, the same as on every surface), `browser_ms: N` (the browser's median, Enter
to paint; issue 23: <= 250) and `latency_ms: N`, the median at the server callback (issue 23: <= 100).
Timings are wall times on a shared machine: the load average is printed beside them.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

LEVER = "intelligent_retrofit_firms_per_year"
WARM = 90        # a first move that warms the page: not the lever's baseline (100), or nothing would redraw
VALUES = [120, 180, 240, 300, 360, 420, 140, 200, 260, 320, 380, 440, 160, 220, 280, 340, 400, 460]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def server_share() -> tuple[list[float], list[float], int]:
    """Milliseconds of the callbacks' work and Dash's JSON for each lever value (wall, and CPU of this
    process: its engine thread included, another job's share not), and the band's states."""
    import plotly

    from nxmfg.explore import controls, drafts, views
    from nxmfg.explore.evaluation import EDITABLE_OUTLOOKS, OUTLOOK_YEARS, Explorer
    from nxmfg.model.indicators import HEADLINES
    from nxmfg.scenarios import POLICY_LEVERS

    explorer = Explorer()
    explorer.warm()
    levers = [controls.to_shown(name, float(explorer.baseline[name])) for name in POLICY_LEVERS]   # as shown
    outlooks = [controls.to_shown(name, controls.default_at(explorer.outlooks[name], year))
                for name in EDITABLE_OUTLOOKS for year in OUTLOOK_YEARS]
    moved = {json.dumps({"name": LEVER, "type": "lever-input"}, separators=(",", ":")) + ".value"}
    times, cpu = [], []
    for value in VALUES:
        typed = list(levers)
        typed[POLICY_LEVERS.index(LEVER)] = value
        start, used = time.perf_counter(), time.process_time()
        draft = drafts.read_controls(explorer, drafts.Controls(levers, typed, 2024, outlooks), {}, "zh", moved)[0]
        outputs = views.redraw(explorer, draft, views.View("zh", list(HEADLINES), []), patch=True)
        json.dumps(outputs, cls=plotly.utils.PlotlyJSONEncoder)
        times.append(1000 * (time.perf_counter() - start))
        cpu.append(1000 * (time.process_time() - used))
    band = explorer.evaluate(draft).band
    return times, cpu, 0 if band is None else band.sizes["run"]


def browser_end_to_end() -> list[tuple[float, float]] | None:
    """(wall, busy) milliseconds from Enter in a lever's box to the painted page (`_one_move`), or None without
    a browser."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(Path(sys.executable).with_name("nxmfg")), "explore", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(f"http://127.0.0.1:{port}/")
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1100})
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#stamp:not(:empty)", state="attached", timeout=60_000)
            page.wait_for_function(DRAWN, timeout=60_000)
            box = page.locator(f"[id='{json.dumps({'name': LEVER, 'type': 'lever-input'}, separators=(',', ':'))}']")
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            moves = [_one_move(page, box, value, cdp) for value in [WARM, *VALUES]][1:]   # the first warms the page
            browser.close()
        return moves
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


REDRAWN = """([old, lastY]) => {
    const stamp = document.getElementById('stamp').innerText;
    if (stamp === old) return false;
    if (!document.getElementById('verdicts').srcdoc.includes('data-stamp="' + stamp + '"')) return false;
    const chart = document.getElementById('{"name":"digital_rd_tool_penetration_pct","type":"chart"}');
    const plot = chart && chart.querySelector('.js-plotly-plot');
    const line = plot && plot.data.filter(t => t.name === '当前情景')[0];
    return !!line && line.y[line.y.length - 1] !== lastY; }"""
LAST_Y = """() => { const chart = document.getElementById('{"name":"digital_rd_tool_penetration_pct","type":"chart"}');
    const line = chart.querySelector('.js-plotly-plot').data.filter(t => t.name === '当前情景')[0];
    return line.y[line.y.length - 1]; }"""
DRAWN = "() => { try { return (" + LAST_Y + ")() !== undefined; } catch (e) { return false; } }"
PAINTED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"


def _one_move(page, box, value: float, cdp) -> tuple[float, float]:
    """(wall ms from Enter to the painted page, CPU ms of the page's main thread meanwhile: Chrome's ThreadTime,
    which other jobs on the machine do not stretch as they stretch the wall time)."""
    old, last = page.inner_text("#stamp"), page.evaluate(LAST_Y)
    box.fill(str(value))
    busy = _task_seconds(cdp)
    start = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(REDRAWN, arg=[old, last], polling="raf", timeout=60_000)
    page.evaluate(PAINTED)
    return 1000 * (time.perf_counter() - start), 1000 * (_task_seconds(cdp) - busy)


def _task_seconds(cdp) -> float:
    return next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] == "ThreadTime")


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within 180 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", action="store_true", help="time the server's callbacks only")
    arguments = parser.parse_args()
    print(f"cores {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    server, cpu, states = server_share()
    print(f"server: callbacks + JSON, median {statistics.median(server):.0f} ms "
          f"(min {min(server):.0f}, max {max(server):.0f}; {len(server)} lever values; band of {states} states); "
          f"CPU median {statistics.median(cpu):.0f} ms (what another job cannot stretch)")
    moves = None if arguments.server else browser_end_to_end()
    browser, busy = ([wall for wall, _ in moves], [task for _, task in moves]) if moves else (None, None)
    if browser is None:
        print("browser: not measured" + ("" if arguments.server else " (no chromium or playwright)"))
    else:
        print(f"browser: Enter to painted page, median {statistics.median(browser):.0f} ms "
              f"(min {min(browser):.0f}, max {max(browser):.0f}); the browser's share (request, Dash, Plotly, "
              f"paint) about {statistics.median(browser) - statistics.median(server):.0f} ms; CPU of the page's main "
              f"thread median {statistics.median(busy):.0f} ms (Chrome's ThreadTime; the wait's polling included)")
    print(f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"band_states: {states}")
    if browser is not None:
        print(f"browser_ms: {statistics.median(browser):.0f}")
    print(f"latency_ms: {statistics.median(server):.0f}")

if __name__ == "__main__":
    main()
