"""Scenario files: bad input gives one line naming file and field; levers leave history untouched."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nxmfg import scenarios
from nxmfg.scenarios import ScenarioError

ROOT = Path(__file__).parents[1]
SHIPPED = sorted(p for p in (ROOT / "scenarios").glob("*.yaml") if p.name != "targets.yaml")


def design_levers() -> pd.DataFrame:
    """The lever table of docs/design.md as a model.constants()-shaped DataFrame (no PySD needed)."""
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\w+) \| ([^|]+) \| \[([\d.]+), ([\d.]+)\] \| ([\d.]+) \|", text, re.M)
    frame = pd.DataFrame([{"name": n, "units": u.strip(), "low": float(lo), "high": float(hi),
                           "value": float(v)} for n, u, lo, hi, v in rows]).set_index("name")
    assert len(frame) == len(scenarios.POLICY_LEVERS)
    return frame


CONSTANTS = design_levers()
LOOKUPS = {"coal_price_history", "coal_price_outlook", "national_industry_growth_outlook",
           "national_nonindustry_growth_outlook", "rd_super_deduction_history", "rd_super_deduction_outlook"}
BASELINE = CONSTANTS["value"].to_dict()


def write(folder: Path, body: str, name: str = "case") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def head(levers: str = "", paths: str = "", extra: str = "") -> str:
    text = "name: case\ndescription: a test case\n" + extra
    if levers:
        text += "levers:\n" + "".join(f"  {line}\n" for line in levers.strip().splitlines())
    if paths:
        text += "paths:\n" + "".join(f"  {line}\n" for line in paths.strip().splitlines())
    return text


SHAPE_ERRORS = {  # body -> (field named in the message, words the message must contain)
    "unknown top-level key": (head(extra="levrs: {}\n"), "levrs",
                              "allowed: name, title, description, final_year, levers, paths"),
    "unknown lever key": (head("key_projects_per_year: {from: 2021, valu: 100}"),
                          "levers.key_projects_per_year.valu", "allowed: from, value, path"),
    "year given as text": (head(extra="final_year: '2030'\n"), "final_year", "valid integer"),
    "value given as text": (head("key_projects_per_year: {from: 2021, value: lots}"),
                            "levers.key_projects_per_year.value", "'lots'"),
    "value given as a boolean": (head("key_projects_per_year: {from: 2021, value: true}"),
                                 "levers.key_projects_per_year.value", "True"),
    "value not finite": (head("key_projects_per_year: {from: 2021, value: .nan}"),
                         "levers.key_projects_per_year.value", "finite"),
    "both value and path": (head("key_projects_per_year: {from: 2021, value: 1, path: {2022: 2}}"),
                            "levers.key_projects_per_year", "exactly one of `value` or `path`"),
    "neither value nor path": (head("key_projects_per_year: {from: 2021}"),
                               "levers.key_projects_per_year", "exactly one of `value` or `path`"),
    "lever without start year": (head("key_projects_per_year: {value: 100}"),
                                 "levers.key_projects_per_year.from", "required"),
    "path year as text": (head("key_projects_per_year: {from: 2021, path: {twenty: 2}}"),
                          "levers.key_projects_per_year.path.twenty", "integer"),
    "lever starts before the model": (head("key_projects_per_year: {from: 2005, value: 100}"),
                                      "levers.key_projects_per_year.from", "outside 2011..2035"),
    "lever starts after final_year": (head("key_projects_per_year: {from: 2031, value: 100}",
                                           extra="final_year: 2030\n"),
                                      "levers.key_projects_per_year.from", "outside 2011..2030 (final_year)"),
    "path point before its start": (head("key_projects_per_year: {from: 2022, path: {2021: 90, 2023: 100}}"),
                                    "levers.key_projects_per_year.path.2021", "outside 2022 (from)"),
    "outlook path in history": (head(paths="coal_price_outlook: {2023: 700, 2030: 800}"),
                                "paths.coal_price_outlook.2023", "history is fixed"),
    "final_year beyond the model": (head(extra="final_year: 2040\n"), "final_year", "2035"),
    "missing description": ("name: case\n", "description", "required key missing"),
    "name not snake_case": ("name: Case-1\ndescription: x\n", "name", "pattern"),
    "top level is a list": ("- name: case\n", "", "expected a mapping with keys name, title, description"),
    "duplicate lever": (head("key_projects_per_year: {from: 2021, value: 100}\n"
                             "key_projects_per_year: {from: 2022, value: 200}"), "", "duplicate key"),
    "not YAML": ("name: case\ndescription: [unclosed\n", "", "not valid YAML: line"),
    "implausible outlook": (head(paths="coal_price_outlook: {2025: -1}"), "paths.coal_price_outlook.2025",
                            "-1 is outside the range [50, 5000]"),
    "coal price where the model is undefined": (head(paths="coal_price_outlook: {2025: 0}"),
                                                "paths.coal_price_outlook.2025",
                                                "0 is outside the range [50, 5000]"),


    "title without English": ("name: case\ntitle: {zh: 情景}\ndescription: x\n", "title.en", "required"),
    "title as text": ("name: case\ntitle: 情景\ndescription: x\n", "title", ""),
}


@pytest.mark.parametrize("case", SHAPE_ERRORS)
def test_a_malformed_file_is_rejected_with_one_line_naming_file_and_field(tmp_path, case):
    body, field, words = SHAPE_ERRORS[case]
    path = write(tmp_path, body)
    with pytest.raises(ScenarioError) as caught:
        scenarios.load(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert f": {field}: " in message if field else True
    assert words in message


def test_the_scenario_name_must_be_the_file_name(tmp_path):
    path = write(tmp_path, "name: other\ndescription: x\n", name="case")
    with pytest.raises(ScenarioError, match=r"case\.yaml: name: 'other' differs from the file name 'case'"):
        scenarios.load(path)


def test_a_missing_file_is_one_line_too(tmp_path):
    with pytest.raises(ScenarioError, match=r"nothere\.yaml: cannot read the file"):
        scenarios.load(tmp_path / "nothere.yaml")


MODEL_ERRORS = {  # body -> (field, words): shape is fine, names or ranges are not
    "misspelt lever": (head("cloud_vouchr_firms_per_year: {from: 2021, value: 300}"),
                       "levers.cloud_vouchr_firms_per_year",
                       "not a model lever (did you mean cloud_voucher_firms_per_year?); allowed: "
                       "tech_upgrade_subsidy_rate, interest_subsidy_pp"),
    "value above its range": (head("key_projects_per_year: {from: 2021, value: 1000}"),
                              "levers.key_projects_per_year.value", "1000 is outside the range [0, 300]"),
    "negative value": (head("cloud_voucher_firms_per_year: {from: 2021, value: -5}"),
                       "levers.cloud_voucher_firms_per_year.value", "-5 is outside the range [0, 1000]"),
    "path point out of range": (head("tech_upgrade_subsidy_rate: {from: 2021, "
                                     "path: {2021: 0.06, 2025: 0.5}}"),
                                "levers.tech_upgrade_subsidy_rate.path.2025",
                                "0.5 is outside the range [0, 0.2]"),
    "path on a history table": (head(paths="coal_price_history: {2025: 600}"), "paths.coal_price_history",
                                "not an outlook lookup; allowed: coal_price_outlook, national_industry_growth_outlook"),
    "path on an unknown table": (head(paths="oil_price_outlook: {2025: 1.5}"), "paths.oil_price_outlook",
                                 "not an outlook lookup"),
}


@pytest.mark.parametrize("case", MODEL_ERRORS)
def test_names_and_ranges_are_checked_against_the_model(tmp_path, case):
    body, field, words = MODEL_ERRORS[case]
    path = write(tmp_path, body)
    scenario = scenarios.load(path)                      # the shape is valid
    with pytest.raises(ScenarioError) as caught:
        scenarios.check(scenario, CONSTANTS, LOOKUPS)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {field}: ")
    assert words in message


def interpolate(series: pd.Series, years) -> np.ndarray:
    """How the model reads a time path: linear between points, flat beyond the ends."""
    return np.interp(years, series.index.to_numpy(), series.to_numpy())


def test_a_lever_keeps_the_baseline_before_its_start_year(tmp_path):
    scenario = scenarios.load(write(tmp_path, head("key_projects_per_year: {from: 2021, value: 100}")))
    path = scenario.params(BASELINE)["key_projects_per_year"]
    times = np.arange(2010, 2035.01, 0.25)
    expected = np.where(times < 2021, BASELINE["key_projects_per_year"], 100.0)
    np.testing.assert_array_equal(interpolate(path, times), expected)


def test_a_lever_path_steps_at_its_start_then_runs_linearly_and_holds(tmp_path):
    body = head("tech_upgrade_subsidy_rate: {from: 2021, path: {2022: 0.06, 2024: 0.1}}")
    path = scenarios.load(write(tmp_path, body)).params(BASELINE)["tech_upgrade_subsidy_rate"]
    years = [2015, 2020, 2020.75, 2021, 2022, 2023, 2024, 2030]
    np.testing.assert_allclose(interpolate(path, years), [0.03, 0.03, 0.03, 0.06, 0.06, 0.08, 0.1, 0.1])


def test_outlook_paths_become_series_of_the_given_points(tmp_path):
    body = head(paths="coal_price_outlook: {2028: 700, 2025: 900}")
    series = scenarios.load(write(tmp_path, body)).params(BASELINE)["coal_price_outlook"]
    assert series.index.tolist() == [2025.0, 2028.0]
    assert series.tolist() == [900.0, 700.0]


def test_params_name_a_lever_without_a_baseline(tmp_path):
    scenario = scenarios.load(write(tmp_path, head("key_projects_per_year: {from: 2021, value: 100}")))
    with pytest.raises(ScenarioError, match=r"case\.yaml: levers\.key_projects_per_year: no baseline value"):
        scenario.params({})


def test_per_run_lever_paths_keep_the_baseline_before_the_start():
    values = np.array([50.0, 100.0, 400.0])
    paths = scenarios.lever_path_array(60.0, 2021, values, range(2010, 2036))
    assert paths.dims == ("run", "year")
    assert paths.sizes["run"] == 3
    for run, value in enumerate(values):
        series = pd.Series(paths.isel(run=run).to_numpy(), index=paths["year"].to_numpy())
        times = np.arange(2010, 2035.01, 0.25)
        np.testing.assert_array_equal(interpolate(series, times), np.where(times < 2021, 60.0, value))


def test_every_shipped_scenario_loads_and_fits_the_design_levers():
    assert {p.stem for p in SHIPPED} >= {"baseline", "plan", "digital_push", "coal_shock"}
    for path in SHIPPED:
        scenario = scenarios.load(path)
        scenarios.check(scenario, CONSTANTS, LOOKUPS)
        assert scenario.describe("zh").strip() and scenario.describe("en").strip()
        assert scenario.title is not None, f"{path.name}: give a title {{zh, en}} for the legends"
        assert any("\u4e00" <= c <= "\u9fff" for c in scenario.label("zh")) and scenario.label("en").isascii()


def test_every_shipped_scenario_fits_the_real_model():
    from nxmfg import model
    constants, lookups = model.constants(), model.lookups()
    for path in SHIPPED:
        scenarios.check(scenarios.load(path), constants, lookups)


def test_the_baseline_changes_nothing():
    baseline = scenarios.load(ROOT / "scenarios" / "baseline.yaml")
    assert baseline.levers == {}
    assert baseline.paths == {}
    assert baseline.params(BASELINE) == {}


def test_the_plan_starts_every_lever_after_the_calibration_data():
    plan = scenarios.load(ROOT / "scenarios" / "plan.yaml")
    assert {lever.start for lever in plan.levers.values()} == {scenarios.FIRST_OUTLOOK_YEAR}
    assert set(plan.levers) == set(scenarios.POLICY_LEVERS)


def test_every_plan_lever_cites_a_clause_of_the_documents():
    """The comment block above each lever quotes a clause (e.g. `B 二(五)3:` or `C 三(一):`)."""
    lines = (ROOT / "scenarios" / "plan.yaml").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        key = re.match(r"^  (\w+): \{from:", line)
        if not key:
            continue
        comments = []
        for above in reversed(lines[:number]):
            if not above.strip().startswith("#"):
                break
            comments.append(above)
        cited = re.search(r"[ABC] [一二三四五六七八九十]+[、(]", " ".join(comments))
        assert cited, f"plan.yaml: {key.group(1)} has no clause in its comment"


def test_the_plan_sets_every_lever_target_of_the_documents():
    """Each `lever` target of targets.yaml is met by plan.yaml's path in every year it covers."""
    plan = scenarios.load(ROOT / "scenarios" / "plan.yaml").params(BASELINE)
    for target in (t for t in scenarios.load_targets() if t.kind == "lever"):
        years = np.arange(max(target.from_year or target.year, scenarios.FIRST_OUTLOOK_YEAR), target.year + 1)
        assert (interpolate(plan[target.lever], years) >= target.threshold).all(), target.id


def test_a_description_in_both_languages_is_read_in_the_readers_and_one_language_alone_is_refused(tmp_path):
    both = scenarios.load(write(tmp_path, "name: case\ndescription: {zh: 中文说明, en: English text}\n"))
    assert (both.describe("zh"), both.describe("en")) == ("中文说明", "English text")
    plain = scenarios.load(write(tmp_path, "name: case\ndescription: one text\n"))
    assert plain.describe("zh") == plain.describe("en") == "one text"
    with pytest.raises(scenarios.ScenarioError, match=r"case\.yaml: description: expected a text, or \{zh"):
        scenarios.load(write(tmp_path, "name: case\ndescription: {zh: 只有中文}\n"))
    shipped = [scenarios.load(path) for path in sorted(Path(scenarios.__file__).parent.glob("*.yaml"))
               if path.name != "targets.yaml"]
    assert shipped and all(s.describe("zh") != s.describe("en") for s in shipped)   # each ships both
