"""What actually happened to past targets: the data's verdict, read with the targets' own measures."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from nxmfg import scenarios
from nxmfg.scenarios import outcomes

GROWTH, SHARE, COUNT = "above_scale_industry_va_growth_pct", "digital_rd_tool_penetration_pct", "high_tech_firms_count"
Q1_SHARE = "tech_upgrade_investment_share_of_industrial_investment_pct"


def target(**fields) -> scenarios.Target:
    row = {"doc": "B", "clause": "条款", "target": "t", "direction": "at_least", "kind": "modelled",
           "measure": "level"} | fields
    return scenarios.Target.model_validate(row)


def history(rows: list[tuple[str, int, float]], unit: str = "%") -> pd.DataFrame:
    return pd.DataFrame([{"indicator": i, "year": y, "value": v, "unit": unit, "source": "s"} for i, y, v in rows])


TARGETS = [
    target(id="B-share-met", indicator=SHARE, year=2022, threshold=55.0),
    target(id="B-share-missed", indicator=SHARE, year=2021, threshold=55.0),
    target(id="B-growth", indicator=GROWTH, year=2022, measure="mean_growth", from_year=2020, threshold=6.0),
    target(id="B-growth-gap", indicator=GROWTH, year=2023, measure="mean_growth", from_year=2021, threshold=6.0),
    target(id="B-new-firms", indicator=COUNT, year=2021, measure="increase_vs", base_year=2020, threshold=20.0),
    target(id="B-q1-share", indicator=Q1_SHARE, year=2022, threshold=65.0),
    target(id="B-later", indicator=SHARE, year=2027, threshold=70.0),
]
HISTORY = pd.concat([history([(SHARE, 2021, 50.0), (SHARE, 2022, 58.0), (GROWTH, 2020, 4.0), (GROWTH, 2021, 7.0),
                              (GROWTH, 2022, 8.0), (GROWTH, 2023, 5.0)]),
                     history([(COUNT, 2020, 100.0), (COUNT, 2021, 118.0)], unit="家")])


@pytest.fixture(scope="module")
def actual() -> pd.DataFrame:
    return outcomes.actual_outcomes(TARGETS, HISTORY.query("not (indicator == @GROWTH and year == 2022)"))


def test_a_level_is_judged_against_the_recorded_value(actual):
    assert actual.loc["B-share-met", ["actual_value", "actual_status"]].tolist() == [58.0, "met"]
    assert actual.loc["B-share-missed", "actual_status"] == "missed"
    assert not actual.loc["B-share-missed", "actual_met"]


def test_a_yearly_average_needs_every_year_it_reads(actual):
    """mean_growth 2021-23 lacks 2022 here: not determinable, and the note names the year."""
    assert actual.loc["B-growth-gap", "actual_status"] == "not determinable"
    assert "2022" in actual.loc["B-growth-gap", "actual_note"]
    assert pd.isna(actual.loc["B-growth-gap", "actual_met"])


def test_a_yearly_average_of_the_data_uses_the_targets_own_measure():
    """Geometric mean of 4, 7, 8 %: (1.04 x 1.07 x 1.08)^(1/3) - 1 = 6.32 %, above 6."""
    row = outcomes.actual_outcomes(TARGETS, HISTORY).loc["B-growth"]
    assert row["actual_value"] == pytest.approx(((1.04 * 1.07 * 1.08) ** (1 / 3) - 1) * 100)
    assert row["actual_status"] == "met"


def test_an_increase_reads_both_years(actual):
    assert actual.loc["B-new-firms", ["actual_value", "actual_status"]].tolist() == [18.0, "missed"]


def test_a_first_quarter_share_is_named_a_different_statistic_not_compared(actual):
    history_with_q1 = pd.concat([HISTORY, history([(Q1_SHARE, 2022, 70.0)])])
    row = outcomes.actual_outcomes(TARGETS, history_with_q1).loc["B-q1-share"]
    assert row["actual_status"] == "different statistic"
    assert "first-quarter" in row["actual_note"] and pd.isna(row["actual_value"])


def test_targets_after_the_last_data_year_have_no_actual_outcome(actual):
    assert actual.loc["B-later", "actual_status"] == "future"


def test_the_summary_counts_real_outcomes_and_the_models_right_calls():
    """Model: the share met in 2022 (right) and 2021 (wrong: 50 in reality), growth met over 2020-22 and
    2021-23 (both right: 6.3 and 6.7 %/yr in reality), +30 firms (wrong: +18 against 20)."""
    years = np.arange(2019, 2028)
    run = xr.Dataset({SHARE: ("year", np.full(years.size, 56.0)), GROWTH: ("year", np.full(years.size, 6.5)),
                      COUNT: ("year", 100.0 + 30.0 * (years - 2020)), Q1_SHARE: ("year", np.full(years.size, 60.0))},
                     coords={"year": years})
    table = outcomes.with_actuals(scenarios.attainment(run, TARGETS), TARGETS, HISTORY)
    right = table.set_index("id")["model_right"]
    assert bool(right["B-share-met"]) and not bool(right["B-share-missed"]) and bool(right["B-growth"])
    assert not bool(right["B-new-firms"])   # model +30 firms, data +18 against 20
    assert pd.isna(right["B-q1-share"]) and pd.isna(right["B-later"])
    counts = outcomes.summary(table)
    assert counts == {"past": 6, "judged": 5, "met": 3, "model_right": 3, "compared": 5, "not_determinable": 0,
                      "different": 1}
    assert "3 were met in reality" in outcomes.summary_text(counts, "en")
    assert "got 3 of 5 right" in outcomes.summary_text(counts, "en")
    assert "实际达成 3 项" in outcomes.summary_text(counts, "zh")


def test_a_run_that_stops_before_the_past_targets_claims_no_right_or_wrong_calls():
    """final_year 2011: the data judge the targets, the run reaches none of them; "0 of 5 right" would
    read as five wrong calls (issue 19)."""
    run = xr.Dataset({name: ("year", [1.0, 1.0]) for name in (SHARE, GROWTH, COUNT, Q1_SHARE)},
                     coords={"year": [2010, 2011]})
    table = outcomes.with_actuals(scenarios.attainment(run, TARGETS), TARGETS, HISTORY)
    counts = outcomes.summary(table)
    assert counts["judged"] == 5 and counts["compared"] == 0
    english, chinese = outcomes.summary_text(counts, "en"), outcomes.summary_text(counts, "zh")
    assert "none is compared" in english and "right" not in english
    assert "未作比较" in chinese and "判断正确" not in chinese


def test_every_actual_outcome_reads_in_chinese_and_english():
    table = outcomes.with_actuals(scenarios.attainment(xr.Dataset(coords={"year": [2020]}), TARGETS), TARGETS,
                                  HISTORY.query("year != 2022"))
    texts = {row["id"]: (outcomes.describe(row, "zh"), outcomes.describe(row, "en")) for _, row in table.iterrows()}
    assert texts["B-growth"] == ("数据不足，无法判断（缺2022年数据）",
                                 "not determinable from the data (the data lack 2022)")
    assert texts["B-q1-share"][0].startswith("数据口径不同")
    assert texts["B-later"] == ("", "")
