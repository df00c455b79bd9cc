"""The explorer's callbacks as plain functions, on the real model: controls, redraw, save, load, report,
and the command's checks before any work. (The browser itself: tests/test_explore_browser.py.)"""

import json
import re

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from dash import no_update

import nxmfg
from nxmfg import cli
from nxmfg.explore import controls, drafts, files, views
from nxmfg.explore.texts import TEXT
from nxmfg.explore.evaluation import EDITABLE_OUTLOOKS, OUTLOOK_YEARS, Explorer
from nxmfg.model.indicators import HEADLINES
from nxmfg.scenarios import POLICY_LEVERS

RETROFITS = "intelligent_retrofit_firms_per_year"


@pytest.fixture(scope="module")
def explorer() -> Explorer:
    explorer = Explorer()
    explorer.warm()
    return explorer


def at_rest(explorer: Explorer) -> tuple[list, list]:
    """Slider values and outlook boxes as the page first shows them (in the plans' units)."""
    levers = [controls.to_shown(name, float(explorer.baseline[name])) for name in POLICY_LEVERS]
    outlooks = [controls.to_shown(name, controls.default_at(explorer.outlooks[name], year))
                for name in EDITABLE_OUTLOOKS for year in OUTLOOK_YEARS]
    return levers, outlooks


def read(explorer: Explorer, shown: tuple, fixed: dict, lang: str, triggered: set[str]) -> tuple:
    """drafts.read_controls of (sliders, boxes, start, outlook boxes)."""
    return drafts.read_controls(explorer, drafts.Controls(*shown), fixed, lang, triggered)


def moved(kind: str, **id_fields) -> set[str]:
    """Dash's triggered prop id of one control."""
    return {json.dumps(dict(sorted(id_fields.items())) | {"type": kind}, separators=(",", ":")) + ".value"}


def test_a_typed_value_outside_the_range_is_refused_in_the_control_with_the_range(explorer):
    levers, outlooks = at_rest(explorer)
    typed = list(levers)
    typed[POLICY_LEVERS.index(RETROFITS)] = 9999
    draft, _, slid, _, messages, classes, _ = read(explorer, (levers, typed, 2024, outlooks), {}, "en",
                                                                moved("lever-input", name=RETROFITS))
    index = POLICY_LEVERS.index(RETROFITS)
    assert draft == {"levers": {}, "paths": {}}             # the draft keeps the last valid value
    assert messages[index] == "refused: 9999 is outside the allowed range [0, 500]"
    assert "refused" in classes[index] and slid[index] == levers[index]
    typed[index] = None                                      # what the browser sends for text in a number box
    messages = read(explorer, (levers, typed, 2024, outlooks), {}, "zh",
                                 moved("lever-input", name=RETROFITS))[4]
    assert messages[index] == "请输入 [0, 500] 之间的数字"


def test_a_moved_lever_acts_from_the_start_year_and_an_outlook_at_its_defaults_is_no_change(explorer):
    levers, outlooks = at_rest(explorer)
    slid = list(levers)
    slid[POLICY_LEVERS.index(RETROFITS)] = 250
    draft, _, _, typed, *_ = read(explorer, (slid, levers, 2026, outlooks), {}, "zh",
                                               moved("lever-slider", name=RETROFITS))
    assert draft == {"levers": {RETROFITS: {"from": 2026, "value": 250.0}}, "paths": {}}
    assert typed[POLICY_LEVERS.index(RETROFITS)] == 250      # the box follows the slider
    coal = list(outlooks)
    coal[len(OUTLOOK_YEARS)] = 1200.0
    draft = read(explorer, (levers, levers, 2024, coal), {}, "zh",
                              moved("outlook-input", name="coal_price_outlook", year=2024))[0]
    assert draft["paths"] == {"coal_price_outlook": {"2024": 1200.0, "2025": 737.0, "2027": 737.0, "2030": 737.0,
                                                     "2035": 737.0}}
    coal[len(OUTLOOK_YEARS)] = 10.0                          # below OUTLOOK_BOUNDS' 50 yuan/t
    draft, *_, outlook_messages = read(explorer, (levers, levers, 2024, coal), {}, "en",
                                                    moved("outlook-input", name="coal_price_outlook", year=2024))
    assert draft["paths"] == {} and "[50, 5000]" in outlook_messages[1]


def test_the_growth_outlook_is_entered_in_percent_like_every_other_rate(explorer):
    """The box shows China's industrial growth as 4.6 (%), not 0.046; typing 3 sets 3 % a year."""
    levers, outlooks = at_rest(explorer)
    growth = EDITABLE_OUTLOOKS.index("national_industry_growth_outlook") * len(OUTLOOK_YEARS)
    default = controls.default_at(explorer.outlooks["national_industry_growth_outlook"], OUTLOOK_YEARS[0])
    assert outlooks[growth] == pytest.approx(100 * default) and outlooks[growth] > 1
    typed = list(outlooks)
    typed[growth] = 3.0
    draft, *_, messages = read(explorer, (levers, levers, 2024, typed), {}, "zh",
                               moved("outlook-input", name="national_industry_growth_outlook", year=OUTLOOK_YEARS[0]))
    assert draft["paths"]["national_industry_growth_outlook"][str(OUTLOOK_YEARS[0])] == pytest.approx(0.03)
    typed[growth] = 80.0                                     # 80 %/yr: beyond the allowed 50
    *_, messages = read(explorer, (levers, levers, 2024, typed), {}, "en",
                        moved("outlook-input", name="national_industry_growth_outlook", year=OUTLOOK_YEARS[0]))
    assert "[-50, 50]" in messages[0]


SUBSIDY = "tech_upgrade_subsidy_rate"        # a share (Dmnl): 0.03 in the .mdl, 3 % in the plans


def test_a_share_lever_is_entered_in_percent_and_reaches_the_model_as_the_fraction(explorer):
    """Issue 22: the explorer speaks the plans' units. The subsidy rate's box shows 3 (%), not 0.03; typing 8
    puts 0.08 in the draft (what the model and a saved YAML read); 25 % is beyond its range of 0-20 %."""
    levers, outlooks = at_rest(explorer)
    index = POLICY_LEVERS.index(SUBSIDY)
    assert levers[index] == pytest.approx(100 * explorer.baseline[SUBSIDY]) and levers[index] >= 1
    typed = list(levers)
    typed[index] = 8
    draft, _, slid, *_ = read(explorer, (levers, typed, 2024, outlooks), {}, "en", moved("lever-input", name=SUBSIDY))
    assert draft["levers"] == {SUBSIDY: {"from": 2024, "value": pytest.approx(0.08, abs=1e-15)}}
    assert slid[index] == 8                                  # the slider follows the box, in %
    typed[index] = 25
    draft, _, _, _, messages, *_ = read(explorer, (levers, typed, 2024, outlooks), {}, "en",
                                        moved("lever-input", name=SUBSIDY))
    high = 100 * explorer.constants.at[SUBSIDY, "high"]
    assert draft["levers"] == {} and messages[index] == f"refused: 25 is outside the allowed range [0, {high:g}]"


def test_a_loaded_scenario_shows_its_shares_in_percent_and_saves_them_as_fractions(explorer):
    """digital_push sets the subsidy rate to 0.05 and the energy-saving share to 0.2: the controls show 5 and 20;
    read back from the controls, the draft holds the file's fractions again."""
    slid, typed, start, outlooks, fixed, *_ = drafts.load(explorer, {}, "digital_push", None, "zh")
    scenario = nxmfg.run("digital_push").scenario
    for lever in (SUBSIDY, "energy_saving_investment_share", "backward_capacity_elimination_rate"):
        assert slid[POLICY_LEVERS.index(lever)] == pytest.approx(100 * scenario.levers[lever].value), lever
        assert lever not in fixed                            # the control holds it exactly
    draft = read(explorer, (slid, typed, start, outlooks), fixed, "zh", {"start.value"})[0]
    for lever in (SUBSIDY, "energy_saving_investment_share"):
        assert draft["levers"][lever]["value"] == pytest.approx(scenario.levers[lever].value, abs=1e-12)


def test_every_lever_control_speaks_the_plans_unit_with_no_fraction_or_exponent(explorer):
    """Labels name the plans' unit (%, 家/年, 万元/家); the help's range, baseline and plan are in it: no '0.05 is
    5 %' reading aid, no '3e-06', no Vensim unit string."""
    shown = views.texts(explorer, "zh")
    labels, helps = shown[-10], shown[-9]
    for name, label, help_text in zip(POLICY_LEVERS, labels, helps, strict=True):
        assert not re.search(r"\d(e|E)-?\d|即 5%|Dmnl|/Year|CNY", label + help_text), (label, help_text)
    subsidy = POLICY_LEVERS.index(SUBSIDY)
    assert labels[subsidy].endswith("（%）") and "[0, 20]" in helps[subsidy] and "基准 3" in helps[subsidy]

    def slider(name: str):
        control = controls.lever_control(name, explorer.constants.loc[name], float(explorer.baseline[name]),
                                         explorer.plan.get(name))
        return control.children[1]

    assert (slider(SUBSIDY).min, slider(SUBSIDY).max, slider(SUBSIDY).value) == (0, 20, 3)
    assert slider(SUBSIDY).step == pytest.approx(0.1) and slider(RETROFITS).step == 1   # 0.1 pp; whole firms
    assert set(slider(SUBSIDY).marks) == {3, 5}                                         # baseline, plan in %


def test_the_indicator_picker_names_indicators_in_the_readers_language_with_no_code_names():
    from nxmfg.explore import views

    chinese = views.picker_options("zh")
    assert chinese and all("_" not in option["label"] for option in chinese)
    assert {"label": "工业投资增速（%）", "value": "industrial_investment_growth_pct", "search": "工业投资增速"} in chinese
    assert TEXT["zh"]["dropdown"]["select_all"] == "全选" and "Search" not in str(TEXT["zh"]["dropdown"])


def test_a_redraw_shows_every_headline_and_every_target_with_its_band_odds(explorer):
    draft = {"levers": {RETROFITS: {"from": 2024, "value": 400.0}}, "paths": {}}
    view = views.View("zh", [*HEADLINES, "cloud_firms_count"], [])
    figures, pages, summary, legend, stamp, _ = views.redraw(explorer, draft, view)
    page = pages["verdicts"]
    assert f'data-stamp="{stamp}"' in pages["decision"] and "decision-D" in pages["decision"]   # one round trip
    assert [f["layout"]["title"]["text"] for f in figures][-1] == "上云企业数"
    figure = figures[HEADLINES.index("digital_rd_tool_penetration_pct")]
    names = [trace["name"] for trace in figure["data"]]
    assert "各世界状态的5–95 %区间" in names and "当前情景" in names and "基准情景（无新政策）" in names
    assert "各世界状态的5–95 %区间" in str(legend) and "数据截至 2023" in str(legend)     # one legend for all charts
    assert {a["text"] for a in figure["layout"]["annotations"]} >= {"A 2020", "B 2022", "D 2027", "数据截至 2023"}
    rows = re.findall(r'<tr data-id="([^"]+)" data-met="(true|false|)">', page)
    assert len(rows) == sum(t.kind == "modelled" for t in explorer.targets)
    odds = [float(p) for p in re.findall(r'<td class="num probability">(\d+) %', page)]
    assert len(odds) == len(rows) and all(0 <= p <= 100 for p in odds)
    assert "由假设决定" in page and "据统计 2023" in page                  # the flag, the record's years
    notes = [text for text in views.texts(explorer, "zh") if isinstance(text, str)]
    assert any("达成概率基于 256 个世界状态：拟合后验、假设参数、外部展望" in text for text in notes)
    assert "实际达成 6 项" in summary and stamp == drafts.key(draft)
    figures, *_, moves = views.redraw(explorer, draft, views.View("zh", list(HEADLINES), []), patch=True)
    assert all(f is no_update for f in figures) and moves["stamp"] == stamp     # no figure: the page moves lines
    moved = moves["charts"]["digital_rd_tool_penetration_pct"]
    assert set(moved["traces"]) == {"0", "1", "3"}                              # the band's edges, the current line
    for index, y in moved["traces"].items():    # the numbers the whole figure holds, unrounded by nothing else
        assert y == figure["data"][int(index)]["y"]
    assert moved["range"] == figure["layout"]["yaxis"]["range"]


def test_every_chart_has_a_range_on_tick_steps_that_holds_its_lines_and_labelled_targets(explorer):
    """The y range is explicit (the page moves lines without laying out an axis), holds every value drawn and
    every level target, starts at 0 for a level (not a rate), and ends on a step of 1, 2, 2.5 or 5 x 10^k: two
    nearby lever values share it, so the axis is not laid out again."""
    view = views.View("zh", list(HEADLINES), [])
    ranges = []
    for value in (400.0, 401.0):
        draft = {"levers": {RETROFITS: {"from": 2024, "value": value}}, "paths": {}}
        figures = views.redraw(explorer, draft, view)[0]
        ranges.append([f["layout"]["yaxis"]["range"] for f in figures])
        for name, figure in zip(HEADLINES, figures, strict=True):
            low, high = figure["layout"]["yaxis"]["range"]
            drawn = [v for trace in figure["data"] for v in trace.get("y", []) if v is not None]
            assert low <= min(drawn) and max(drawn) <= high, name
            assert any(all(np.isclose(end / step, round(end / step)) for end in (low, high))
                       for step in _steps(high - low)), (name, low, high)
    assert ranges[0] == ranges[1]


def _steps(span: float) -> list[float]:
    """Tick steps of 1, 2, 2.5 or 5 x 10^k that cut `span` in 3 to 8 (charts._range: a fifth, rounded up)."""
    power = 10.0 ** np.floor(np.log10(span))
    steps = [f * power * scale for f in (1, 2, 2.5, 5) for scale in (0.01, 0.1, 1)]
    return [step for step in steps if 3 <= span / step <= 8]


def test_the_decision_pages_chart_is_linked_and_served_only_by_its_key(explorer):
    """The package study's chart is the same for every draft: the page links it (no 270 kB data URI in each
    redraw), and the server answers that link with the PNG and any other key with 404."""
    from nxmfg.explore import app, decision

    page = decision.page(explorer, {}, "zh")
    links = re.findall(r'src="(/_nxmfg/image/[0-9a-f]{20}\.png)"', page)
    assert links and "data:image" not in page and len(page) < 100_000
    client = app.create_app(explorer).server.test_client()
    answer = client.get(links[0])
    assert answer.status_code == 200 and answer.data[:8] == b"\x89PNG\r\n\x1a\n" and answer.mimetype == "image/png"
    assert client.get("/_nxmfg/image/" + "0" * 20 + ".png").status_code == 404
    elsewhere = client.get("/_nxmfg/image/..%2F..%2Fpyproject.toml")      # Dash's page for any other path
    assert elsewhere.mimetype != "image/png" and b"[build-system]" not in elsewhere.data


def test_more_retrofits_raise_the_2027_cnc_rate_and_can_turn_its_verdict(explorer):
    base = explorer.evaluate({}).verdicts.set_index("id")
    bold = explorer.evaluate({"levers": {RETROFITS: {"from": 2024, "value": 500.0}}}).verdicts.set_index("id")
    assert bold.loc["D-cnc-key-processes", "value"] > base.loc["D-cnc-key-processes", "value"]
    assert bold.loc["D-cnc-key-processes", "probability"] >= base.loc["D-cnc-key-processes", "probability"]
    past = base.index[base["year"] < 2024]
    assert bold.loc[past, "value"].equals(base.loc[past, "value"])    # levers from 2024 leave the past alone


def test_a_saved_scenario_simulates_to_the_numbers_the_explorer_shows(explorer, tmp_path):
    """The saved YAML through `nxmfg simulate` against the explorer's run 0 (both run 0 of a batch with the
    256 states, resumed differently): equal to 1e-9. Not bit for bit: numpy's SIMD exp and pow may round an ULP
    differently from the scalar ones (see tests/test_ensemble.py), and the model carries it on."""
    draft = {"levers": {RETROFITS: {"from": 2024, "value": 250.0}, "tech_upgrade_subsidy_rate": {"from": 2024,
                                                                                                  "value": 0.08}},
             "paths": {"coal_price_outlook": {"2024": 900.0, "2025": 900.0, "2027": 800.0, "2030": 737.0,
                                              "2035": 737.0}}}
    download, saved, message = drafts.save(explorer, "bolder_retrofits", draft, [], "en")
    assert download["filename"] == "bolder_retrofits.yaml" and "bolder_retrofits" in message
    assert saved[-1]["name"] == "bolder_retrofits"
    path = tmp_path / download["filename"]
    path.write_text(download["content"], encoding="utf-8")
    result = CliRunner().invoke(cli.main, ["simulate", str(path), "--out", str(tmp_path / "out"), "--lang", "en"])
    assert result.exit_code == 0, result.output
    simulated = nxmfg.run(path)
    shown = explorer.evaluate(draft).verdicts.set_index("id")["value"]
    np.testing.assert_allclose(shown, simulated.attainment.set_index("id").loc[shown.index, "value"], rtol=1e-9)
    written = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert written["paths"]["coal_price_outlook"][2027] == 800.0


def test_the_newest_four_saved_scenarios_are_kept(explorer):
    saved = []
    for i in range(6):
        draft = {"levers": {RETROFITS: {"from": 2024, "value": 40.0 + i}}}
        saved = drafts.save(explorer, f"s{i}", draft, saved, "en")[1]
    assert [entry["name"] for entry in saved] == ["s2", "s3", "s4", "s5"]
    assert drafts.save(explorer, "Bad-Name", {}, saved, "en")[2].startswith("A name starts with a lower-case letter")


def test_loading_a_shipped_scenario_keeps_what_the_controls_cannot_show(explorer):
    """digital_push ramps two levers (paths): the sliders show the final values, the draft keeps the paths."""
    slid, typed, start, outlooks, fixed, name, message = drafts.load(explorer, {}, "digital_push", None, "en")
    assert (start, name, message) == (2024, "digital_push", "Loaded digital_push")
    assert slid[POLICY_LEVERS.index(RETROFITS)] == 250.0 and set(fixed) == {RETROFITS, "cloud_voucher_firms_per_year"}
    draft = read(explorer, (slid, typed, start, outlooks), fixed, "en",
                              {*moved("lever-slider", name=RETROFITS), *moved("lever-input", name=RETROFITS)})[0]
    assert draft == drafts.draft_of(nxmfg.run("digital_push").scenario) | {"paths": {}}
    coal = drafts.load(explorer, {}, "coal_shock", None, "en")[4]
    assert coal["paths.coal_price_outlook"]["2026"] == 1000.0       # a year the boxes do not have


def test_an_uploaded_file_is_checked_as_a_scenario_file_and_named_in_one_line(explorer, tmp_path):
    import base64

    def upload(text: str, name: str = "mine.yaml") -> str:
        contents = "data:application/x-yaml;base64," + base64.b64encode(text.encode()).decode()
        return drafts.load(explorer, {}, None, (name, contents), "en")[-1]

    assert upload("name: mine\ndescription: x\nlevers: {key_projects_per_year: {from: 2024, value: 999}}\n") \
        == "mine.yaml: levers.key_projects_per_year.value: 999 is outside the range [0, 300] projects/Year"
    assert upload("name: other\ndescription: x\n").startswith("mine.yaml: name: 'other' differs from the file name")
    assert upload("name: mine\ndescription: x\nlevers: {market_elasticity: {from: 2024, value: 1}}\n").startswith(
        "mine.yaml: levers.market_elasticity: the explorer moves the regional policy levers only")
    assert "larger than" in upload("x" * (files.MAX_SCENARIO_BYTES + 10))
    assert upload("name: mine\ndescription: x\n") == "Loaded mine"


@pytest.mark.parametrize(("arguments", "words"), [
    (["--scenario", "no/such.yaml"], "no/such.yaml"),
    (["--scenario", "/dev/zero"], "/dev/zero: not a regular file"),
    (["--params", "no/such/fitted.yaml"], "no such fit file"),
    (["--port", "0"], "0 is not in the range 1<=x<=65535"),
])
def test_explore_refuses_bad_input_in_one_line_before_loading_anything(arguments, words):
    result = CliRunner().invoke(cli.main, ["explore", *arguments])
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert result.exit_code != 0 and len(errors) == 1 and words in errors[0]
    assert "Traceback" not in result.output


def test_explore_refuses_a_scenario_file_too_large_or_with_levers_it_has_no_control_for(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("name: big\ndescription: " + "x" * files.MAX_SCENARIO_BYTES + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli.main, ["explore", "--scenario", str(big)])
    assert result.exit_code == 1 and f"{big}: " in result.output and "at most" in result.output
    other = tmp_path / "other.yaml"
    other.write_text("name: other\ndescription: x\npaths: {rd_super_deduction_outlook: {2024: 1.5}}\n",
                     encoding="utf-8")
    result = CliRunner().invoke(cli.main, ["explore", "--scenario", str(other)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {other}: paths.rd_super_deduction_outlook: the explorer edits")


def test_explore_refuses_a_port_in_use_in_one_line():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli.main, ["explore", "--port", str(port)])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: --port {port}: cannot listen on 127.0.0.1:{port} (already in use)"


def test_the_report_button_writes_what_nxmfg_compare_writes(explorer):
    """Same scenarios, same fit: the same report, but for the date in its header."""
    draft = {"levers": {RETROFITS: {"from": 2024, "value": 300.0}}}
    saved = drafts.save(explorer, "more_retrofits", draft, [], "en")[1]
    download, message = views.report(explorer, "my_scenario", {}, saved, "en")
    assert download["filename"] == "report.html" and message == "Report written: report.html"
    chosen = [explorer.shipped("baseline"), explorer.scenario(saved[0])]
    expected = files.report_html(chosen, "en", None).decode("utf-8")
    undated = re.compile(r"<tr><td>Date</td><td>[^<]*</td></tr>")
    assert undated.sub("", download["content"]) == undated.sub("", expected)
    assert "more_retrofits" in download["content"] and "Actual (data)" in download["content"]


def test_every_control_is_named_in_the_readers_language_and_only_english_adds_its_mdl_name(explorer):
    """A planner reads 贷款贴息 and no code name (issue 22); a modeller reading English sees interest_subsidy_pp
    beside its short name. Each label holds its unit."""
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for lang in ("zh", "en"):
        shown = views.texts(explorer, lang)
        lever_labels, outlook_labels = shown[-10], shown[-5]   # see views.texts
        for name, label in [*zip(POLICY_LEVERS, lever_labels, strict=True),
                            *zip(EDITABLE_OUTLOOKS, outlook_labels, strict=True)]:
            assert label.endswith(f" · {name}") == (lang == "en"), label
            short = label.removesuffix(f" · {name}")
            assert name not in short and "_" not in short, f"{name}: no short name in levers.yaml"
            assert bool(cjk.search(short)) == (lang == "zh"), label
            assert "(" in short or "（" in short, f"{label}: no unit"