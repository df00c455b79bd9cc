"""The plans' targets as data, and the measures that say whether a run attains them."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from nxmfg import scenarios
from nxmfg.scenarios import ScenarioError, measures
from nxmfg.scenarios.targets import Target

ROOT = Path(__file__).parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
# Where each document's clauses are quoted from: the documents themselves; for D, the extraction of its
# only readable section (its 一、主要目标); for CP (the climate plan), the extraction of its targets.
DOCUMENTS = {"A": SEEDS / "001_72fe16229668913a.txt", "B": SEEDS / "000_18c6babd2f8990ad.txt",
             "C": SEEDS / "004_39412f07f2b57c7d.txt", "D": SHARED / "PLAN_TARGETS_2027.md",
             "CP": SHARED / "PLAN_TARGETS_CLIMATE.md"}
EXAMPLE = ROOT / "scenarios" / "examples" / "my_targets.yaml"
YEARS = np.arange(2010, 2036)


def design_indicators() -> set[str]:
    """Indicator names listed under '## Indicators' in docs/design.md (the contract)."""
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    section = text.split("## Indicators", 1)[1].split("\n## ", 1)[0].split("\n", 1)[1]
    return set(re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", section))


def model_indicators() -> set[str]:
    """model.indicators.INDICATORS once it exists; the design's list before that."""
    try:
        from nxmfg.model.indicators import INDICATORS
    except ImportError:
        return design_indicators()
    return set(INDICATORS)


def row(**fields) -> Target:
    base = {"id": "B-test", "doc": "B", "clause": "测试", "target": "test", "year": 2020, "indicator": "x",
            "measure": "level", "threshold": 10.0, "direction": "at_least", "kind": "modelled"}
    return Target.model_validate(base | fields)


def series(values, name="x", years=YEARS) -> xr.Dataset:
    return xr.Dataset({name: ("year", np.asarray(values, dtype=float))}, coords={"year": years})


# ---------------------------------------------------------------- measures, with known answers

GROWING = series(100 * 1.1 ** (YEARS - 2010))          # a level growing exactly 10 %/yr
GROWTH = series(np.full(YEARS.size, 10.0))             # its growth rate in %/yr


def test_a_level_growing_ten_percent_a_year_has_cagr_and_mean_growth_of_ten():
    assert float(measures.cagr(GROWING["x"], 2020, 2015)) == pytest.approx(10.0)
    assert float(measures.mean_growth(GROWTH["x"], 2020, 2016)) == pytest.approx(10.0)
    assert float(measures.change_vs(GROWING["x"], 2020, 2015)) == pytest.approx((1.1**5 - 1) * 100)
    assert float(measures.increase_vs(GROWING["x"], 2020, 2015)) == pytest.approx(100 * (1.1**10 - 1.1**5))
    assert float(measures.level(GROWING["x"], 2012)) == pytest.approx(121.0)


def test_mean_growth_is_geometric_not_arithmetic():
    """+10 % then -10 % leaves the level 1 % lower: the annual average is sqrt(0.99) - 1, not 0."""
    alternating = series(np.where(YEARS % 2 == 0, 10.0, -10.0))
    assert float(measures.mean_growth(alternating["x"], 2021, 2020)) == pytest.approx((0.99**0.5 - 1) * 100)
    assert float(measures.mean(alternating["x"], 2021, 2020)) == pytest.approx(0.0)


def test_sums_means_and_point_changes_over_a_window():
    ramp = series(YEARS - 2000.0)                      # 10 in 2010, 20 in 2020
    assert float(measures.mean(ramp["x"], 2020, 2016)) == pytest.approx(18.0)
    assert float(measures.cumulative(ramp["x"], 2020, 2016)) == pytest.approx(16 + 17 + 18 + 19 + 20)
    assert float(measures.pp_change_vs(ramp["x"], 2020, 2015)) == pytest.approx(5.0)


def test_every_year_takes_the_worst_year_for_the_direction():
    wobbly = series(np.where(YEARS == 2021, 130.0, np.where(YEARS == 2022, 95.0, 100.0)))
    assert float(measures.every_year(wobbly["x"], 2022, 2020, "at_least", 100)) == 95.0
    assert float(measures.every_year(wobbly["x"], 2022, 2020, "at_most", 100)) == 130.0
    assert float(measures.every_year(wobbly["x"], 2022, 2020, "about", 100)) == 130.0


def test_a_missing_year_gives_nan_not_a_number_from_elsewhere():
    short = series(np.ones(11), years=np.arange(2010, 2021))
    assert np.isnan(float(measures.level(short["x"], 2022)))
    assert np.isnan(float(measures.mean_growth(short["x"], 2022, 2020)))
    assert np.isnan(float(measures.change_vs(short["x"], 2022, 2015)))


def test_measures_work_run_by_run():
    rates = np.array([5.0, 10.0, 15.0])
    runs = xr.Dataset({"x": (("run", "year"), np.repeat(rates[:, None], YEARS.size, axis=1))},
                      coords={"run": [0, 1, 2], "year": YEARS})
    np.testing.assert_allclose(measures.mean_growth(runs["x"], 2022, 2020).to_numpy(), rates)
    levels = xr.Dataset({"x": (("run", "year"), 100 * (1 + rates[:, None] / 100) ** (YEARS - 2010))},
                        coords={"run": [0, 1, 2], "year": YEARS})
    np.testing.assert_allclose(measures.cagr(levels["x"], 2025, 2015).to_numpy(), rates)


# ---------------------------------------------------------------- attainment

def test_attainment_reports_value_margin_and_met_in_the_threshold_unit():
    targets = [
        row(id="B-growth", indicator="x", measure="mean_growth", from_year=2020, year=2022, threshold=8.0),
        row(id="B-level", indicator="x", measure="level", year=2020, threshold=12.0, direction="at_most"),
        row(id="B-about", indicator="x", measure="level", year=2020, threshold=11.0, direction="about"),
        row(id="B-exact", indicator="x", measure="cagr", base_year=2015, year=2020, threshold=10.0),
        row(id="B-outside", indicator=None, kind="out_of_scope", reason="not modelled"),
    ]
    table = scenarios.attainment(GROWTH, targets).set_index("id")
    assert list(table.reset_index().columns) == ["id", "doc", "target", "year", "indicator", "value",
                                                 "threshold", "direction", "met", "margin", "record_years"]
    assert "B-outside" not in table.index
    for name, margin in {"B-growth": 2.0, "B-level": 2.0, "B-about": 0.1}.items():
        assert table.loc[name, "margin"] == pytest.approx(margin)
        assert table.loc[name, "met"]
    exact = scenarios.attainment(GROWING, [targets[3]]).iloc[0]
    assert exact["value"] == pytest.approx(10.0)
    assert exact["met"]                                                  # a hit, up to rounding, is met


def test_a_target_missed_has_a_negative_margin():
    missed = row(measure="mean_growth", from_year=2020, year=2022, threshold=12.0)
    result = scenarios.attainment(GROWTH, [missed]).iloc[0]
    assert result["margin"] == pytest.approx(-2.0)
    assert not result["met"]


def test_an_indicator_the_run_lacks_is_not_assessed():
    result = scenarios.attainment(GROWTH, [row(indicator="absent")]).iloc[0]
    assert np.isnan(result["value"])
    assert pd.isna(result["met"])


def test_with_runs_attainment_gives_the_probability_of_meeting_each_target():
    rates = np.array([5.0, 10.0, 15.0, 20.0])
    runs = xr.Dataset({"x": (("run", "year"), np.repeat(rates[:, None], YEARS.size, axis=1))},
                      coords={"run": np.arange(4), "year": YEARS})
    target = row(measure="mean_growth", from_year=2020, year=2022, threshold=8.0)
    table = scenarios.attainment(runs, [target])
    assert table.loc[0, "probability"] == pytest.approx(0.75)
    assert table.loc[0, "value"] == pytest.approx(12.5)                 # the median run
    by_run = scenarios.attainment_by_run(runs, [target])
    np.testing.assert_allclose(by_run["margin"].sel(target="B-test").to_numpy(), rates - 8.0)
    assert by_run["met"].sel(target="B-test").to_numpy().tolist() == [False, True, True, True]
    assert float(by_run["probability"].sel(target="B-test")) == pytest.approx(0.75)


# ---------------------------------------------------------------- targets.yaml

TARGETS = scenarios.load_targets()


def test_every_target_has_a_known_measure_and_what_it_needs():
    for target in TARGETS:
        assert target.measure in scenarios.MEASURES, target.id
        if target.measure in measures.BASE_MEASURES:
            assert target.base_year is not None, target.id
        if target.measure in measures.SPAN_MEASURES:
            assert target.from_year is not None, target.id


def test_every_modelled_target_names_a_model_indicator():
    known = model_indicators()
    unknown = {t.id: t.indicator for t in TARGETS if t.kind == "modelled" and t.indicator not in known}
    assert unknown == {}
    scenarios.check_targets(TARGETS, known, scenarios.POLICY_LEVERS)


def test_every_lever_target_names_a_policy_lever():
    assert {t.lever for t in TARGETS if t.kind == "lever"} <= set(scenarios.POLICY_LEVERS)


def test_out_of_scope_and_lever_targets_say_why():
    assert all(t.reason for t in TARGETS if t.kind != "modelled")


def test_the_two_known_conflicts_are_kept_both_ways():
    by_id = {t.id: t for t in TARGETS}
    assert by_id["B-tech-upgrade-share"].conflicts_with == "C-tech-upgrade-share-2022"
    assert by_id["C-tech-upgrade-share-2022"].conflicts_with == "B-tech-upgrade-share"
    assert by_id["A-solid-waste"].conflicts_with == "B-solid-waste"
    assert by_id["B-solid-waste"].conflicts_with == "A-solid-waste"
    for target in (t for t in TARGETS if t.conflicts_with):
        assert by_id[target.conflicts_with].conflicts_with == target.id
        notes = (target.note or "") + (by_id[target.conflicts_with].note or "")
        assert "definition" in notes


def test_the_headline_targets_of_each_document_are_modelled():
    modelled = {t.id for t in TARGETS if t.kind == "modelled"}
    assert {"A-asm-va-2020", "A-energy-intensity", "B-mfg-va-growth", "B-digital-economy", "B-rd-intensity",
            "C-tech-upgrade-share-2023", "C-high-tech-firms-2023"} <= modelled
    assert {t.doc for t in TARGETS} == {"A", "B", "C", "D", "CP"}
    assert "CP-co2-intensity" in modelled


def test_document_d_sets_targets_still_ahead_and_models_them_where_an_indicator_exists():
    """D (2023-27) is the live plan: every target is for 2027; all but the composite 两化融合 index are
    modelled, each with an indicator of model/indicators.py."""
    from nxmfg.model.indicators import INDICATORS

    d = [t for t in TARGETS if t.doc == "D"]
    assert len(d) >= 12
    assert {t.year for t in d} == {2027}
    assert {t.id for t in d if t.kind != "modelled"} == {"D-informatisation-index"}
    assert all(t.indicator in INDICATORS for t in d if t.kind == "modelled")
    assert TARGETS[-len(d):] == d, "D's rows come last in targets.yaml"


def quoted_fragments(clause: str) -> list[str]:
    """Pieces of a clause quoted verbatim: after each 'section:' label, split at …… and (editorial) notes."""
    fragments = []
    for part in clause.split("; "):
        quote = part.split(": ", 1)[1]
        fragments += [f for f in re.split(r"……|\([^)]*\)", quote) if len(f.strip()) >= 2]
    return fragments


@pytest.mark.skipif(not all(p.is_file() for p in DOCUMENTS.values()),
                    reason="the plan documents (../shared/seeds, PLAN_TARGETS_2027.md) are not on this machine")
def test_every_clause_quotes_its_document_verbatim():
    texts = {doc: re.sub(r"\s", "", path.read_text(encoding="utf-8")) for doc, path in DOCUMENTS.items()}
    for target in TARGETS:
        assert target.clause.startswith(f"{target.doc} "), target.id
        for fragment in quoted_fragments(target.clause):
            assert re.sub(r"\s", "", fragment) in texts[target.doc], f"{target.id}: {fragment!r}"


EXTRACTIONS = {"PLAN_TARGETS.md": "ABC", "PLAN_TARGETS_2027.md": "D"}   # file -> documents it extracts


@pytest.mark.parametrize(("name", "documents"), EXTRACTIONS.items())
def test_every_number_of_the_reference_extraction_is_a_threshold_of_its_document(name, documents):
    """Each row of the extraction (doc | year | target | threshold | kind ...): every number in its
    threshold column is the threshold of some target of that document (2015 is a base year)."""
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"../shared/{name} is not on this machine")
    checked = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 5 or not re.match(rf"^[{documents}]\b", cells[0]):
            continue
        docs = set(re.findall(rf"[{documents}]", cells[0]))
        column = re.sub(r"(\d) (\d{3})\b", r"\1\2", cells[3])          # "21 000" -> "21000"
        numbers = {abs(float(n)) for n in re.findall(r"\d+(?:\.\d+)?", column)}
        thresholds = {abs(t.threshold) for t in TARGETS if t.doc in docs}
        assert numbers - thresholds - {2015.0} == set(), line
        checked += 1
    assert checked >= 10


# ---------------------------------------------------------------- a bad targets file

GOOD = """- id: B-x
  doc: B
  clause: "B 一、: 测试"
  target: test
  year: 2022
  indicator: x
  measure: level
  threshold: 1
  direction: at_least
  kind: modelled
"""

BAD_TARGETS = {  # replacement -> (field, words)
    "unknown measure": (("measure: level", "measure: levl"), "B-x.measure",
                        "'levl' is not allowed; allowed:"),
    "unknown key": (("kind: modelled", "kind: modelled\n  treshold: 2"), "B-x.treshold",
                    "unknown key; allowed: id"),
    "base year missing": (("measure: level", "measure: change_vs"), "B-x", "base_year: required by measure"),
    "threshold as text": (("threshold: 1", "threshold: lots"), "B-x.threshold", "valid number"),
    "modelled without indicator": (("  indicator: x\n", ""), "B-x", "indicator: required for kind modelled"),
    "out of scope without reason": (("kind: modelled", "kind: out_of_scope"), "B-x",
                                    "indicator: only for kind modelled"),
    "direction misspelt": (("direction: at_least", "direction: atleast"), "B-x.direction", "allowed:"),
}


@pytest.mark.parametrize("case", BAD_TARGETS)
def test_a_bad_targets_file_gives_one_line_naming_the_row_and_field(tmp_path, case):
    (old, new), field, words = BAD_TARGETS[case]
    path = tmp_path / "targets.yaml"
    path.write_text(GOOD.replace(old, new), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        scenarios.load_targets(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {field}: ")
    assert words in message


def test_duplicate_ids_and_dangling_conflicts_are_rejected(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text(GOOD + GOOD, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"targets\.yaml: B-x\.id: duplicate id"):
        scenarios.load_targets(path)
    path.write_text(GOOD + "  conflicts_with: B-y\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"targets\.yaml: B-x\.conflicts_with: 'B-y' is not a target id"):
        scenarios.load_targets(path)


def test_a_target_on_an_unknown_indicator_is_named(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text(GOOD, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"targets\.yaml: B-x\.indicator: 'x' is not a model indicator"):
        scenarios.check_targets(scenarios.load_targets(path), {"y"}, set(), path)


def test_a_doc_code_of_ones_own_is_accepted_and_the_id_must_start_with_it():
    assert row(id="FYP15-x", doc="FYP15").doc == "FYP15"
    with pytest.raises(ValueError, match="id: must start with its doc code, 'D-'"):
        row(id="B-x", doc="D")
    with pytest.raises(ValueError, match="doc"):
        row(id="d-x", doc="d")


# ---------------------------------------------------------------- a user's own targets

def test_the_example_of_own_targets_is_valid_against_the_model():
    from nxmfg.model.indicators import INDICATORS

    own = scenarios.load_targets(EXAMPLE, known=[t.id for t in TARGETS])
    scenarios.check_targets(own, INDICATORS, scenarios.POLICY_LEVERS, EXAMPLE)
    assert {t.doc for t in own} >= {"U"}
    assert any(t.id in {s.id for s in TARGETS} for t in own), "the example shows how to move a shipped target"


def test_own_targets_extend_the_shipped_ones_and_replace_rows_of_the_same_id():
    extended = scenarios.load_own_targets(EXAMPLE, "extend")
    own = scenarios.load_targets(EXAMPLE, known=[t.id for t in TARGETS])
    by_id = {t.id: t for t in extended}
    assert len(extended) == len(TARGETS) + len({t.id for t in own} - {t.id for t in TARGETS})
    assert by_id["D-cnc-key-processes"].threshold == 75                 # the example's row, not D's 70
    assert [t.id for t in extended[:len(TARGETS)]] == [t.id for t in TARGETS]   # replaced in place


def test_own_targets_can_replace_the_shipped_ones():
    replaced = scenarios.load_own_targets(EXAMPLE, "replace")
    assert [t.id for t in replaced] == [t.id for t in scenarios.load_targets(EXAMPLE, known=["D-x"])]


def test_own_targets_may_not_conflict_with_a_target_they_do_not_bring_along(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD + "  conflicts_with: A-solid-waste\n", encoding="utf-8")
    assert scenarios.load_own_targets(path, "extend")[-1].conflicts_with == "A-solid-waste"
    with pytest.raises(ScenarioError, match=r"mine\.yaml: B-x\.conflicts_with: 'A-solid-waste'"):
        scenarios.load_own_targets(path, "replace")
    with pytest.raises(ValueError, match="targets mode: 'merge' is not allowed; allowed: extend, replace"):
        scenarios.load_own_targets(path, "merge")


def test_the_example_targets_are_assessed_on_a_run(baseline_indicators):
    own = scenarios.load_own_targets(EXAMPLE, "replace")
    table = scenarios.attainment(baseline_indicators, own)
    assert list(table["id"]) == [t.id for t in own]
    assert table["value"].notna().all()


def test_the_odds_of_at_least_n_rare_firms_are_poisson():
    """P(N >= k) for a Poisson number with the indicator's expected value: scipy.stats' survival function,
    and the two ends (no firm expected: 0; at least none: 1)."""
    from scipy.stats import poisson

    expected = xr.DataArray([0.0, 0.05, 0.8, 1.63, 8.15, 25.0], dims="run")
    series = expected.expand_dims(year=[2022]).transpose("run", "year")
    for count in (1, 3, 10):
        odds = measures.probability_at_least(series, 2022, count)
        np.testing.assert_allclose(odds, poisson.sf(count - 1, expected), rtol=1e-12, atol=1e-15)
    assert float(measures.probability_at_least(series, 2022, 1)[0]) == 0.0
    assert (measures.probability_at_least(series, 2022, 0) == 1.0).all()
