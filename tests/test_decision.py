"""The decision page for document D (issue 22): every number from the tool's own results, P(met) read
through one function, a verdict with its reason per target, costs against the region's budget, and a zh
page a planner reads without English, code names or Vensim units."""

import numpy as np
import pandas as pd
import pytest
from visible_text import leaks, visible_text

from nxmfg import decision, model, scenarios
from nxmfg.decision import budget, odds, studies
from nxmfg.decision.page import Column, Evidence

TARGETS = [t for t in scenarios.load_targets() if t.kind == "modelled"]
D = [t for t in TARGETS if t.doc == "D"]
# the page covers D and the targets still ahead that D points to: the climate plan's CO2 row (issue 22)
AHEAD = D + [t for t in TARGETS if t.id == "CP-co2-intensity"]


def attainment(values: dict[str, float], **columns) -> pd.DataFrame:
    """An attainment table of D's targets with these values (met: value >= threshold)."""
    rows = [{"id": t.id, "doc": t.doc, "year": t.year, "indicator": t.indicator, "value": values.get(t.id, 0.0),
             "threshold": t.threshold, "met": values.get(t.id, 0.0) >= t.threshold} for t in D]
    table = pd.DataFrame(rows)
    for name, by_id in columns.items():
        table[name] = table["id"].map(by_id)
    return table


def study(reach: dict[str, dict], packages: dict[str, dict], version: str | None = None) -> studies.PackageStudy:
    """A package study as an optimisation writes it (metadata.yaml, reachability.csv, packages.csv)."""
    metadata = {"study": {"name": "packages_test", "met_odds": 0.8, "levers": ["key_projects_per_year"]},
                "model_version": version or model.version(), "cost": {"window": "2024-2027", "years": 4,
                                                                      "basis": "incremental"},
                "states": 64, "packages_evaluated": 100, "headline_package": next(iter(packages)),
                "references": {"plan": {"cost_expected": 70.0, "cost_total_expected": 160.0, "robust": 1}},
                "fit": {"sha256": None}}
    table = pd.DataFrame([{"id": t.id, "threshold": t.threshold, "flag": "lever-dependent", "best_p_met": 0.0,
                           "best_value": 1.0, "baseline_p_met": 0.0, "plan_p_met": 0.0, "robust_package": "",
                           "robust_cost_expected": np.nan, "cheapest_package": "", "cheapest_cost_expected": np.nan}
                          | reach.get(t.id, {}) for t in D])
    frame = pd.DataFrame.from_dict(packages, orient="index")
    frame = frame.rename(columns={"robust": "targets_met_with_80%_odds"})
    return studies.package_study(metadata, table, frame)


def test_p_met_is_read_through_one_function_and_p_met_wins_over_the_band():
    ids = {t.id: 0.25 for t in D}
    both = attainment({}, p_met=ids, probability={i: 0.75 for i in ids})
    assert (odds.p_met(both) == 0.25).all()
    band = attainment({}, probability={i: 0.75 for i in ids})
    assert (odds.p_met(band) == 0.75).all()
    assert odds.p_met(attainment({})).isna().all()
    labelled = attainment({}, p_met=ids, p_met_label={i: "P(met) over 256 states" for i in ids})
    assert odds.label(labelled, "zh") == "P(met) over 256 states"
    assert "60" in odds.label(odds.with_odds(band, odds.p_met(band), 60), "zh")


@pytest.fixture(scope="module")
def page():
    """D's page with a study in which one target is reachable, one lever-dependent, one out of reach."""
    reachable, partial, out = D[0].id, D[1].id, D[6].id
    found = study({reachable: {"flag": "lever-dependent", "best_p_met": 0.9, "robust_package": "package_002",
                               "robust_cost_expected": 120.0},
                   partial: {"best_p_met": 0.4, "baseline_p_met": 0.1, "cheapest_package": "reach_001",
                             "cheapest_cost_expected": 300.0},
                   out: {"flag": "unreachable", "best_value": 10.9}},
                  {"package_002": {"cost_expected": 120.0, "cost_total_expected": 200.0, "robust": 3,
                                   "at_bounds": "key_projects_per_year:high", f"p_met:{reachable}": 0.9},
                   "reach_001": {"cost_expected": 300.0, "cost_total_expected": 400.0, "robust": 0, "at_bounds": ""}})
    assumptions = studies.AssumptionStudy("levers_test", model.version(), {D[7].id: 0.88, D[2].id: 0.2})
    columns = [Column("baseline", "基准情景", attainment({}, probability={t.id: 0.0 for t in D})),
               Column("plan", "规划情景", attainment({D[8].id: 99.0}, probability={t.id: 0.5 for t in D}))]
    evidence = Evidence(pd.DataFrame(columns=["indicator", "year", "value"]), found, assumptions)
    return decision.build(TARGETS, columns, evidence, "zh"), found


def test_each_target_ahead_gets_a_verdict_with_its_reason_from_the_studies(page):
    built, found = page
    flags = {row.id: row.flag for row in built.rows}
    assert [row.id for row in built.rows] == [t.id for t in AHEAD]
    assert flags[D[0].id] == "reachable" and flags[D[1].id] == "lever-dependent"
    assert flags[D[6].id] == "out of reach" and flags[D[7].id] == "decided by assumptions"
    assert flags[D[2].id] == "out of reach"          # 20 % of the variance from assumptions decides nothing
    (row,) = [r for r in built.rows if r.id == D[0].id]
    assert row.package["name"] == "package_002" and row.package["per_target"] == pytest.approx(120.0 / 3)
    assert row.package["bounds"] and all(r.reasons for r in built.rows)


def test_budget_rows_set_each_package_against_the_latest_budget_in_the_data(page):
    built, found = page
    sticks = {s.key: s for s in budget.yardsticks()}
    rows = pd.read_csv(budget.DATA)
    general = rows[rows["indicator"] == budget.SERIES["general"]].sort_values("year").iloc[-1]
    assert sticks["general"].year == general["year"] and sticks["general"].value == general["value"]
    entry = next(e for e in built.budget if e["name"] == "package_002")
    assert entry["yearly"] == pytest.approx(120.0 / 4)
    assert entry["shares"]["general"] == pytest.approx(30.0 / general["value"])


def test_the_page_counts_targets_met_with_the_studys_odds(page):
    built, _ = page
    assert built.summary[0].startswith("D文件13项目标中，基准情景以不低于80%的把握达成0项，规划情景达成0项")
    assert "3项" in built.summary[1] and "120.0亿元" in built.summary[1]


def test_a_study_of_another_model_version_is_left_out_and_said_so():
    stale = study({D[0].id: {"best_p_met": 0.9, "robust_package": "package_002", "robust_cost_expected": 1.0}},
                  {"package_002": {"cost_expected": 1.0, "cost_total_expected": 1.0, "robust": 1, "at_bounds": ""}},
                  version="0123456789ab")
    columns = [Column("baseline", "基准情景", attainment({}))]
    built = decision.build(TARGETS, columns, Evidence(pd.DataFrame(columns=["indicator", "year", "value"]), stale))
    assert all(row.flag == "not studied" and row.package is None for row in built.rows)
    assert any("0123456789ab" in note for note in built.notes) and not built.budget


def test_a_target_a_targets_file_adds_ahead_of_the_data_gets_a_row():
    """A 14th row, such as the climate plan's CO2 target, comes from the targets file, not the template."""
    extra = D[0].model_copy(update={"id": "CL-co2-per-gdp", "doc": "CL", "year": 2025})
    rows = decision.ahead([*TARGETS, extra])
    assert [t.id for t in rows] == [*(t.id for t in AHEAD), "CL-co2-per-gdp"]


def test_the_chinese_report_shows_d_first_with_cost_and_odds_and_no_english_code_names_or_vensim_units(tmp_path):
    """compare in zh: the decision page before the charts; its visible text holds no English prose, no
    snake_case name and no Vensim unit string (file names excepted: they are names)."""
    import nxmfg

    path = nxmfg.compare(["baseline", "plan", "digital_push"]).write(tmp_path / "zh", lang="zh")
    page = path.read_text(encoding="utf-8")
    assert page.index('id="decision-D"') < page.index("主要指标")
    text = visible_text(page)
    assert "达成概率" in text and "一般公共预算支出" in text and "财政投入" in text
    assert leaks(page) == {"prose": [], "snake_case": [], "vensim_units": []}
    english = nxmfg.compare(["baseline", "plan"]).write(tmp_path / "en", lang="en").read_text(encoding="utf-8")
    assert "P(met)" in english and 'id="decision-D"' in english


def test_the_explorer_can_show_the_page_from_its_own_verdicts():
    """The explorer's verdict tables (one row per target, with P(met) over its band) make the same page."""
    from nxmfg.decision import surfaces

    verdicts = {"baseline": ("基准情景", attainment({}, probability={t.id: 0.1 for t in D})),
                "explored": ("当前情景", attainment({D[8].id: 99.0}, probability={t.id: 0.9 for t in D}))}
    page = surfaces.explorer_html(TARGETS, verdicts, "zh")
    assert page.count("<tr data-id=") == len(AHEAD) and "当前情景" in page and "90%" in page
    assert leaks(page)["snake_case"] == [] and leaks(page)["vensim_units"] == []


def test_a_decided_by_assumptions_column_in_the_odds_flags_the_target_whatever_the_sobol_study_says():
    flagged = attainment({}, probability={t.id: 0.5 for t in D}, decided_by_assumptions={D[3].id: True})
    built = decision.build(TARGETS, [Column("baseline", "基准情景", flagged)],
                           Evidence(pd.DataFrame(columns=["indicator", "year", "value"])))
    flags = {row.id: row.flag for row in built.rows}
    assert flags[D[3].id] == "decided by assumptions" and flags[D[4].id] == "not studied"
