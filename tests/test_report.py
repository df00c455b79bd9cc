"""The planner's report: one self-contained HTML file, charts as PNG and SVG, attainment and lever tables,
and a real headless-Chromium check that it renders with every image loaded."""

import base64
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

from nxmfg import scenarios  # noqa: E402
from nxmfg.scenarios import report  # noqa: E402

YEARS = np.arange(2010, 2036)
GDP, RD = "gdp_100m_yuan", "rd_intensity_pct"
CONSTANTS = pd.DataFrame(
    {"value": [30.0, 0.03], "low": [0.0, 0.0], "high": [500.0, 0.3], "units": ["firms/Year", "1"],
     "comment": ["Firms doing intelligent retrofits under the programme per year",
                 "Share of technical-upgrade investment covered by subsidies"]},
    index=["intelligent_retrofit_firms_per_year", "tech_upgrade_subsidy_rate"])
BASELINE = CONSTANTS["value"].to_dict()
TARGETS = [scenarios.Target.model_validate(row) for row in [
    {"id": "B-gdp-2025", "doc": "B", "clause": "地区生产总值达到2500亿元", "target": "GDP", "year": 2025,
     "indicator": GDP, "measure": "level", "threshold": 2500.0, "direction": "at_least", "kind": "modelled"},
    {"id": "A-rd-2020", "doc": "A", "clause": "研发经费投入强度达到1.2%", "target": "R&D intensity",
     "year": 2020, "indicator": RD, "measure": "level", "threshold": 1.2, "direction": "at_least",
     "kind": "modelled"},
    {"id": "B-champions", "doc": "B", "clause": "培育单项冠军8家", "target": "single champions", "year": 2022,
     "measure": "level", "threshold": 8.0, "direction": "at_least", "kind": "out_of_scope",
     "reason": "not in the model"},
]]
HISTORY = pd.DataFrame({"indicator": GDP, "year": np.arange(2010, 2021),
                        "value": 1000 * 1.06 ** np.arange(11)})


def indicators(growth: float, rd_2020: float) -> xr.Dataset:
    return xr.Dataset({GDP: ("year", 1000 * (1 + growth) ** (YEARS - 2010)),
                       RD: ("year", rd_2020 + 0.02 * (YEARS - 2020))}, coords={"year": YEARS})


def write_scenario(folder: Path, name: str, levers: str = "{}") -> scenarios.Scenario:
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\ndescription: 测试情景 {name}\nlevers: {levers}\n", encoding="utf-8")
    return scenarios.load(path)


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    """Baseline misses both targets; plan meets both (GDP 2025: 1000 x 1.07^15 = 2759 > 2500)."""
    folder = tmp_path_factory.mktemp("scenarios")
    plan = ("{intelligent_retrofit_firms_per_year: {from: 2020, value: 100}, "
            "tech_upgrade_subsidy_rate: {from: 2021, path: {2021: 0.06, 2023: 0.08}}}")
    chosen = [write_scenario(folder, "baseline"), write_scenario(folder, "plan", plan)]
    runs = {"baseline": indicators(0.05, 1.0), "plan": indicators(0.07, 1.3)}
    out = tmp_path_factory.mktemp("report")
    path = report.write_report(runs, chosen, TARGETS, HISTORY, out, lang="zh",
                               meta={"model_version": "abc123def456"}, baseline=BASELINE, constants=CONSTANTS)
    return path, runs


def test_report_is_one_self_contained_file_with_every_chart_as_png_and_svg(comparison):
    path, _ = comparison
    page = path.read_text(encoding="utf-8")
    assert path.name == "report.html"
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<link" not in page and "http://" not in page and "https://" not in page
    for name in (GDP, RD):
        png, svg = path.parent / "charts" / f"{name}.png", path.parent / "charts" / f"{name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in svg.read_text(encoding="utf-8")[:2000]
        assert base64.b64encode(png.read_bytes()).decode() in page       # the embedded image is that chart
    assert not list(path.parent.rglob(".*"))                             # no temp files left behind


def test_header_names_model_version_and_scenarios_in_chinese(comparison):
    page = comparison[0].read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "情景比较报告" in page
    assert "abc123def456" in page and "测试情景 plan" in page


def test_attainment_matrix_marks_met_and_missed_with_the_margin(comparison):
    page, runs = comparison[0].read_text(encoding="utf-8"), comparison[1]
    expected = {name: scenarios.attainment(run, TARGETS).set_index("id") for name, run in runs.items()}
    assert not expected["baseline"]["met"].any() and expected["plan"]["met"].all()
    cells = re.findall(r'<td class="(met|missed)"[^>]*>([✓✗]) ([^<]*)</td>', page)
    assert [c[0] for c in cells] == ["missed", "met", "missed", "met"]      # rows = targets, cols = scenarios
    gdp_margin = float(cells[1][2].replace(",", ""))
    assert gdp_margin == pytest.approx(float(expected["plan"].loc["B-gdp-2025", "margin"]), abs=0.5)


def test_past_targets_show_the_recorded_outcome_and_how_many_the_baseline_got_right(tmp_path):
    """R&D intensity 2020 was 1.5 % in the data: A's 1.2 % was met; the baseline (1.0 %) called it
    missed, the plan (1.3 %) met. GDP 2025 lies after the data: no actual outcome."""
    history = pd.concat([HISTORY, pd.DataFrame({"indicator": [RD], "year": [2020], "value": [1.5]})])
    chosen = [write_scenario(tmp_path, "baseline"), write_scenario(tmp_path, "plan")]
    runs = {"baseline": indicators(0.05, 1.0), "plan": indicators(0.07, 1.3)}
    page = report.write_report(runs, chosen, TARGETS, history, tmp_path / "out", lang="en", names=[RD],
                               baseline=BASELINE, constants=CONSTANTS).read_text(encoding="utf-8")
    row = re.search(r"<tr><td>A-rd-2020</td>.*?</tr>", page).group(0)
    assert re.search(r'<td class="actual met">✓ 1.5<br><span class="note">met in reality</span></td>', row)
    assert "1 targets are past: the data judge 1, of which 1 were met in reality; the baseline got 0 of 1 right" \
        in page
    assert re.search(r"<th colspan=\"6\">Model right</th><th>0 / 1</th><th>1 / 1</th>", page)
    future = re.search(r"<tr><td>B-gdp-2025</td>.*?</tr>", page).group(0)
    assert '<td class="actual"></td>' in future
    chinese = report.write_report(runs, chosen, TARGETS, HISTORY, tmp_path / "zh", lang="zh", names=[RD],
                                  baseline=BASELINE, constants=CONSTANTS).read_text(encoding="utf-8")
    assert "数据不足，无法判断（缺2020年数据）" in chinese


def test_lever_table_shows_each_change_from_the_baseline_with_its_description(comparison):
    page = comparison[0].read_text(encoding="utf-8")
    row = re.search(r'<tr><td>智能化改造企业<br><code class="file">intelligent_retrofit_firms_per_year</code>.*?</tr>',
                    page).group(0)                             # its short name, then the .mdl's as a name
    assert "每年资助的智能化（数字化）改造项目数" in row and ">30<" in row      # Chinese in the Chinese report
    assert "Firms doing intelligent retrofits" not in row
    assert '<td class="na">—</td>' in row and "2020起 100" in row         # baseline unchanged, plan from 2020
    row = re.search(r'<tr><td>技改补助比例<br><code class="file">tech_upgrade_subsidy_rate</code>.*?</tr>',
                    page).group(0)
    assert "2021: 6 → 2023: 8" in row and "<td>%</td>" in row          # a share in the plans' unit, %


def test_english_report_and_ten_scenarios_keep_one_column_each(tmp_path):
    chosen = [write_scenario(tmp_path, f"s{i}") for i in range(10)]
    runs = {s.name: indicators(0.05 + 0.002 * i, 1.0 + 0.03 * i) for i, s in enumerate(chosen)}
    path = report.write_report(runs, chosen, TARGETS, None, tmp_path / "out", lang="en", names=[GDP],
                               baseline=BASELINE, constants=CONSTANTS)
    page = path.read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "Target attainment" in page
    assert len(re.findall(r'<td class="(?:met|missed)"', page)) == 10 * 2     # 2 modelled targets
    assert page.count("<img ") == 2                                     # the chart and its one legend


def test_unknown_language_is_refused(tmp_path):
    with pytest.raises(ValueError, match="lang: unknown language 'fr'; allowed: zh, en"):
        report.write_report({}, [], [], None, tmp_path, lang="fr")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--virtual-time-budget=5000"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian: apt-get install chromium)")
def test_report_renders_in_headless_chromium_with_every_image_loaded(comparison, tmp_path):
    path = comparison[0]
    dom = chromium("--dump-dom", path.as_uri(), profile=tmp_path / "profile").stdout
    body = re.search(r"<body([^>]*)>", dom)
    assert body, f"Chromium printed no page: {dom[:300]!r}"
    images = int(re.search(r'data-images="(\d+)"', body.group(1)).group(1))
    broken = int(re.search(r'data-images-broken="(\d+)"', body.group(1)).group(1))
    assert images == 3 and broken == 0                                  # two charts and their legend
    shot = tmp_path / "report.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,1600", path.as_uri(), profile=tmp_path / "profile")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.std() > 0.05                       # not a blank page: text, charts and coloured cells


def test_compare_rejects_a_bad_scenario_file_in_one_line(tmp_path):
    from click.testing import CliRunner

    from nxmfg.cli import main

    good = tmp_path / "good.yaml"
    good.write_text("name: good\ndescription: ok\n", encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ndescription: typo\nlevrs: {}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["compare", str(good), str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and result.output.count("\n") == 1
    assert "bad.yaml" in result.output and "levrs" in result.output
    assert not (tmp_path / "out" / "report.html").exists()
    twice = CliRunner().invoke(main, ["compare", str(good), str(good)])
    assert twice.exit_code == 1 and "'good' is already the name of an earlier scenario" in twice.output
    language = CliRunner().invoke(main, ["compare", str(good), "--lang", "fr"])
    assert language.exit_code == 2 and "'fr' is not one of 'zh', 'en'" in language.output
    not_an_ensemble = tmp_path / "one_run.nc"
    indicators(0.05, 1.0).to_netcdf(not_an_ensemble)
    band = CliRunner().invoke(main, ["compare", str(good), "--ensemble", str(not_an_ensemble)])
    assert band.exit_code == 1 and band.output.count("\n") == 1
    assert "one_run.nc: dims are ('year',); an ensemble needs dims (run, year)" in band.output


def test_report_of_the_real_baseline_has_a_row_for_every_modelled_target(baseline_indicators, tmp_path):
    """The model's own indicators, targets.yaml, the data and model.constants() fit together."""
    from nxmfg.calibration import observations
    from nxmfg.model.indicators import INDICATORS

    chosen = [scenarios.load(Path(scenarios.__file__).with_name("baseline.yaml"))]
    targets = scenarios.load_targets()
    path = report.write_report({"baseline": baseline_indicators}, chosen, targets, observations(), tmp_path,
                               names=[GDP, "high_tech_firms_count"], meta=report.report_meta(["b.yaml"]))
    page = path.read_text(encoding="utf-8")
    text = re.sub(r"data:image/png;base64,[^\"]*", "", page)
    modelled = [t for t in targets if t.kind == "modelled"]
    assert len(re.findall(r'<td class="(?:met|missed|na)"', page)) == len(modelled)
    assert all(f'<td><code class="file">{t.id}</code></td>' in page for t in modelled)   # zh: ids as names
    assert f'alt="{INDICATORS[GDP].zh}"' in page and not re.search(r"\bnan\b", text, re.IGNORECASE)
    met = int(re.search(r"<th>(\d+) / \d+</th>", page).group(1))
    assert met == int(scenarios.attainment(baseline_indicators, targets)["met"].sum())


def test_the_report_header_names_files_without_this_machines_folders(tmp_path, monkeypatch):
    """A report is passed on: its header names each scenario file as given, relative to the working directory, or
    as a shipped file (nxmfg/...), never /tmp/... or /home/... of the machine that wrote it; the fit keeps its
    hash (provenance)."""
    from nxmfg.calibration.fits import shipped_fit

    elsewhere, here = tmp_path / "elsewhere", tmp_path / "here"
    (here / "mine").mkdir(parents=True)
    elsewhere.mkdir()
    monkeypatch.chdir(here)
    shipped = Path(scenarios.__file__).with_name("plan.yaml")
    meta = report.report_meta(["given/b.yaml", here / "mine" / "a.yaml", elsewhere / "c.yaml", shipped])
    assert meta["files"] == "given/b.yaml, mine/a.yaml, …/c.yaml, nxmfg/scenarios/plan.yaml"
    fit = shipped_fit()
    assert meta["baseline"] == f"nxmfg/calibration/{fit.path.name} ({fit.sha256})" and len(fit.sha256) == 12
    assert str(tmp_path) not in str(meta) and str(Path.home()) not in str(meta)
    assert meta["model_version"]


def test_simulate_and_compare_reports_name_an_absolute_scenario_path_without_its_folders(tmp_path, monkeypatch):
    """End to end: `nxmfg simulate /tmp/.../x.yaml --report` and `compare`; the header is what report_meta gives."""
    from click.testing import CliRunner

    from nxmfg.cli import main

    scenario = tmp_path / "far" / "my_case.yaml"
    scenario.parent.mkdir()
    scenario.write_text("name: my_case\ndescription: x\n", encoding="utf-8")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")                  # the user works in another folder than the file's
    for command in (["simulate", str(scenario), "--report"], ["compare", "baseline", str(scenario)]):
        out = tmp_path / command[0]
        result = CliRunner().invoke(main, [*command, "--out", str(out), "--lang", "en"])
        assert result.exit_code == 0, result.output
        header = (out / "report.html").read_text(encoding="utf-8").split('<table class="meta">')[1].split("</table>")[0]
        assert "…/my_case.yaml" in header and str(tmp_path) not in header, header
        assert re.search(r"nxmfg/calibration/fitted\.yaml \([0-9a-f]{12}\)", header), header
