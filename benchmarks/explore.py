"""Latency of `nxmfg explore`: from a changed lever to redrawn charts and verdicts, band included.

    python benchmarks/explore.py              # server callbacks, then the browser (Debian's chromium)
    python benchmarks/explore.py --server     # the server's share alone

Server: the callback a lever move runs (the controls read into a draft, the scenario and its band in one
engine call, the moving lines of the 12 headline charts (`moves`), the verdict table and D's decision page)
with the JSON Dash sends, for a new lever value each time (no cache hit). Browser: a value typed into a
lever's box and Enter, until everything in the window shows the new draft (its stamp; the verdict table's and
D's decision page's documents where they are in the window; every chart in the window drawn: REDRAWN) and the
browser has painted that frame, in two windows a planner works in (VIEWS): the top of the page, with D's
decision page, and the charts. Timed in the page, on its clock: from the Enter key's event to a task posted
from the animation frame in which REDRAWN first holds (it runs once that frame is painted). Beside it, the
driver's wall time: from Playwright's key press to two animation frames after Playwright has seen REDRAWN,
which adds two round trips to the browser and whatever the page does in those frames. Charts and frames out
of the window take their move when the browser is idle or when they scroll into view (explore/deferred.py):
`every chart and frame drawn` says when the last did. The browser's share is the difference from the
server's; beside it, the CPU time of the page's main thread. The last lines are
`band_states: N` (the band's states of the world: calibration/states.py, the same as on every surface),
`browser_ms: N` (Enter to paint in the page, the slower window's median; issue 23: <= 250) and
`latency_ms: N`, the median at the server callback (issue 23: <= 100).
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


VIEWS = {"top": "window.scrollTo(0, 0)",                    # D's decision page in the window
         "charts": "document.getElementById('charts').scrollIntoView()"}   # the charts, the controls beside


def browser_end_to_end() -> dict[str, list[tuple[float, float, float, float]]] | None:
    """For each of VIEWS, (in the page, wall, busy, settled) milliseconds from Enter in a lever's box to the
    painted window (`_one_move`), or None without a browser."""
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
            moves = {}
            for view, scroll in VIEWS.items():
                page.evaluate(scroll)
                values = [WARM + (1 if view != "top" else 0), *[v + (1 if view != "top" else 0) for v in VALUES]]
                moves[view] = [_one_move(page, box, value, cdp) for value in values][1:]   # the first warms the view
            browser.close()
        return moves
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


# A move has reached the window when the draft's stamp is new and everything in the window shows that draft:
# the verdict table's and the decision page's documents (their body's data-stamp) and every chart's drawing
# (its holder's data-stamp, set when Plotly has drawn the move: charts.MOVE_JS). Charts and frames out of the
# window may come later (SETTLED: every chart and frame).
REDRAWN = """(old) => {
    const stamp = document.getElementById('stamp').innerText;
    if (stamp === old) return false;
    const tall = window.innerHeight;
    const seen = element => { const box = element.getBoundingClientRect(); return box.bottom > 0 && box.top < tall; };
    for (const id of ['verdicts', 'decision']) {
        const frame = document.getElementById(id);
        const body = frame && frame.contentDocument && frame.contentDocument.body;
        if (frame && seen(frame) && (!body || body.dataset.stamp !== stamp)) return false;
    }
    return [...document.querySelectorAll('.chart')].every(chart => !seen(chart) || chart.dataset.stamp === stamp); }"""
# Polled in animation frames: where REDRAWN first holds, a task posted from that frame runs after its paint.
SEEN = """(old) => { if (!(""" + REDRAWN + """)(old)) return false;
    const channel = new MessageChannel();
    channel.port1.onmessage = () => { window.nxmfgPainted = performance.now(); };
    channel.port2.postMessage(0);
    return true; }"""
# The Enter key's event time (the page's clock), for the next move.
ARM = """() => { window.nxmfgPainted = null; window.nxmfgEnter = null;
    document.addEventListener('keydown', event => { if (event.key === 'Enter') window.nxmfgEnter = event.timeStamp; },
                              {capture: true, once: true}); }"""
SETTLED = """(stamp) => [...document.querySelectorAll('.chart')].every(chart => chart.dataset.stamp === stamp)
    && ['verdicts', 'decision'].every(id => document.getElementById(id).contentDocument.body.dataset.stamp === stamp)"""
LAST_Y = """() => { const chart = document.getElementById('{"name":"digital_rd_tool_penetration_pct","type":"chart"}');
    const line = chart.querySelector('.js-plotly-plot').data.filter(t => t.name === '当前情景')[0];
    return line.y[line.y.length - 1]; }"""
DRAWN = "() => { try { return (" + LAST_Y + ")() !== undefined; } catch (e) { return false; } }"
PAINTED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"


def _one_move(page, box, value: float, cdp) -> tuple[float, float, float, float]:
    """(ms from the Enter key's event to the painted window, on the page's clock; the driver's wall ms from its
    key press to two frames after it saw the window redrawn; CPU ms of the page's main thread meanwhile:
    Chrome's ThreadTime, which other jobs on the machine do not stretch as they stretch the wall time; wall ms
    until every chart and frame has drawn the move)."""
    old = page.inner_text("#stamp")
    box.fill(str(value))
    page.evaluate(ARM)
    busy = _task_seconds(cdp)
    start = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(SEEN, arg=old, polling="raf", timeout=60_000)
    page.evaluate(PAINTED)
    done, used = time.perf_counter(), _task_seconds(cdp)
    in_page = page.evaluate("() => window.nxmfgPainted - window.nxmfgEnter")
    page.wait_for_function(SETTLED, arg=page.inner_text("#stamp"), polling="raf", timeout=60_000)
    return in_page, 1000 * (done - start), 1000 * (used - busy), 1000 * (time.perf_counter() - start)


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
    worst = None
    if moves is None:
        print("browser: not measured" + ("" if arguments.server else " (no chromium or playwright)"))
    for view, measured in (moves or {}).items():
        in_page, wall, busy, settled = (statistics.median(m[k] for m in measured) for k in range(4))
        print(f"browser, {view} in the window: Enter to painted window in the page, median {in_page:.0f} ms "
              f"(min {min(m[0] for m in measured):.0f}, max {max(m[0] for m in measured):.0f}); the browser's share "
              f"(request, Dash, drawing, paint) about {in_page - statistics.median(server):.0f} ms; the driver's "
              f"wall median {wall:.0f} ms; CPU of the page's main thread median {busy:.0f} ms (Chrome's "
              f"ThreadTime; the wait's polling included); every chart and frame drawn after {settled:.0f} ms")
        worst = max(worst or 0.0, in_page)
    print(f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"band_states: {states}")
    if worst is not None:
        print(f"browser_ms: {worst:.0f}")
    print(f"latency_ms: {statistics.median(server):.0f}")

if __name__ == "__main__":
    main()
