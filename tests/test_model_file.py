"""The .mdl as a document: units, comments, ranges and sources, one group per sector."""

import re

from nxmfg import model

SECTORS = ["Drivers", "Output", "Capital", "Firms", "Innovation", "Digitalisation", "Energy", "Fiscal"]


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
