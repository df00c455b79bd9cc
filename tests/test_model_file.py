"""The .mdl as a document: units, comments, ranges and sources, one group per sector."""

import re

from nxmfg import model

SECTORS = ["Drivers", "Output", "Capital", "Firms", "Innovation", "Digitalisation", "Energy", "Labour",
           "Emissions", "Fiscal"]


def test_every_variable_has_units_and_a_comment(economy):
    doc = economy.doc
    doc = doc[~doc["Py Name"].isin(["time", "initial_time", "final_time", "time_step", "saveper"])]
    no_units = doc.loc[doc["Units"].isna() | (doc["Units"].astype(str).str.strip() == ""), "Real Name"]
    no_comment = doc.loc[doc["Comment"].isna() | (doc["Comment"].astype(str).str.len() < 8), "Real Name"]
    assert no_units.empty, f"no units: {list(no_units)}"
    assert no_comment.empty, f"no comment: {list(no_comment)}"


def test_every_constant_has_a_range_and_says_where_its_value_comes_from():
    constants = model.constants()
    assert len(constants) > 80
    no_range = constants.index[constants["low"].isna() | constants["high"].isna()]
    assert no_range.empty, f"no [min,max]: {list(no_range)}"
    outside = constants.index[(constants["value"] < constants["low"]) | (constants["value"] > constants["high"])]
    assert outside.empty, f"value outside its own range: {list(outside)}"
    source = re.compile(r"assumption|data file|lever|calibrated|unit conversion|the plans'|\(\d{4}|〔\d{4}〕|公告|办法"
                        r"|griliches|zipf|steady", re.IGNORECASE)
    unsourced = [name for name, comment in constants["comment"].items() if not source.search(str(comment))]
    assert not unsourced, f"constants whose comment gives no source or assumption: {unsourced}"


def test_time_runs_2010_to_2035_with_a_small_step(economy):
    assert economy.time.initial_time() == 2010 and economy.time.final_time() == 2035
    assert economy.time.time_step() <= 0.25


def test_one_group_per_sector_in_sector_order():
    text = model.MDL.read_text(encoding="utf-8")
    groups = re.findall(r"^\t\.(\w+)\s*$", text, flags=re.MULTILINE)
    assert groups[: len(SECTORS)] == SECTORS


def test_data_cited_in_comments_exist_in_the_data_file():
    """A comment that cites `data file <indicator>` names a real indicator of the calibration data."""
    import csv
    from pathlib import Path

    text = model.MDL.read_text(encoding="utf-8")
    cited = set(re.findall(r"data file,?\s+([a-z_]+_(?:pct|count|yuan|tce|100)[a-z0-9_]*)", text))
    assert len(cited) >= 5, f"the model cites too few data rows: {cited}"
    csv_path = Path(model.__file__).parents[1] / "calibration" / "data" / "ningxia_history.csv"
    indicators = {row["indicator"] for row in csv.DictReader(csv_path.open(encoding="utf-8"))}
    assert cited <= indicators, f"cited but not in the data: {sorted(cited - indicators)}"



def _parsed_components(path=model.MDL):
    from pysd.translators.vensim.vensim_file import VensimFile

    mdl = VensimFile(path)
    mdl.parse()
    return mdl.sections[0].components


def nested_stateful(path=model.MDL) -> list[str]:
    """Equations with INITIAL, INTEG, SMOOTH, DELAY, TREND or SAMPLE IF TRUE inside a larger expression."""
    from pysd.translators.structures import abstract_expressions as ae

    from nxmfg.model.units import VENSIM_NAMES, _walk

    stateful = tuple(t for t in VENSIM_NAMES if t is not ae.InlineLookupsStructure)
    return [f"{c.name}: {VENSIM_NAMES[type(node)]} inside a larger expression"
            for c in _parsed_components(path) for node in _walk(c.ast) if isinstance(node, stateful)
            and node is not c.ast]


def calendar_comparisons(path=model.MDL) -> list[str]:
    """Equations that compare or combine Time with a literal year (1900-2100)."""
    from pysd.translators.structures import abstract_expressions as ae

    from nxmfg.model.units import _walk

    def year(node) -> bool:
        return isinstance(node, int | float) and not isinstance(node, bool) and 1900 <= node <= 2100

    def is_time(node) -> bool:
        return isinstance(node, ae.ReferenceStructure) and node.reference.lower() == "time"

    return sorted({c.name for c in _parsed_components(path) for node in _walk(c.ast)
                   if isinstance(node, ae.LogicStructure | ae.ArithmeticStructure)
                   and any(is_time(p) for p in node.arguments) and any(year(p) for p in node.arguments)})


def test_initial_and_every_stateful_function_is_the_whole_right_hand_side():
    """Vensim's rule (issue 9): INITIAL, INTEG, SMOOTH, DELAY, TREND, SAMPLE IF TRUE stand alone as an
    equation's right-hand side. Nested, an engine may freeze them, as one did (120 variables off by 40 %)."""
    assert nested_stateful() == []


def test_no_equation_compares_time_with_a_calendar_year():
    """No `IF Time >= 2017` and no `(Time - 2013)`: a policy's history is an input lookup with its source,
    and the seam between data and outlook is the named constant `last observed year`."""
    assert calendar_comparisons() == []


def test_both_checks_find_what_they_look_for(tmp_path):
    broken = tmp_path / "broken.mdl"
    broken.write_text(
        "Stock = INTEG(flow, 1) ~ Widget ~ |\n"
        "flow = Stock * 0.1 + INITIAL(Stock) * 0 ~ Widget/Year ~ |\n"
        "switch = IF THEN ELSE(Time >= 2017, 1, 0) ~ Dmnl ~ |\n"
        "ramp = (Time - 2013) / 5 ~ Dmnl ~ |\n"
        "INITIAL TIME = 2010 ~ Year ~ |\nFINAL TIME = 2035 ~ Year ~ |\nTIME STEP = 1 ~ Year ~ |\n"
        "SAVEPER = TIME STEP ~ Year ~ |\n", encoding="utf-8")
    assert nested_stateful(broken) == ["flow: INITIAL inside a larger expression"]
    assert calendar_comparisons(broken) == ["ramp", "switch"]
