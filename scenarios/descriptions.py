"""Levers and outlooks described for people, in Chinese or English (levers.yaml), with readable units."""

from functools import cache
from pathlib import Path

import pandas as pd

from nxmfg.model.yaml_reader import read_shipped

TEXTS = Path(__file__).parent / "texts" / "levers.yaml"
# The .mdl's units as a planner reads them.
UNITS = {
    "Dmnl": {"zh": "比例", "en": "share"}, "1": {"zh": "比例", "en": "share"},
    "pp": {"zh": "百分点", "en": "pp"}, "projects/Year": {"zh": "个/年", "en": "projects per year"},
    "firms/Year": {"zh": "家/年", "en": "firms per year"}, "1/Year": {"zh": "每年比例", "en": "share per year"},
    "CNY10k/firms": {"zh": "万元/家", "en": "10k yuan per firm"},
}


@cache
def texts() -> dict:
    """levers.yaml: {"levers": {name: {title, zh, en}}, "outlooks": {name: {title, zh, en, unit}}}, where title
    and unit are {zh, en}."""
    return read_shipped(TEXTS)


def describe(name: str, lang: str = "zh", constants: pd.DataFrame | None = None) -> str:
    """What lever or outlook `name` is, in `lang`. In English a constant's full .mdl comment (with its
    source) is used where `constants` holds it; a constant levers.yaml does not know falls back to it."""
    entry = texts()["levers"].get(name) or texts()["outlooks"].get(name)
    known = constants is not None and name in constants.index
    if lang == "en" and known:
        return str(constants.at[name, "comment"])
    if entry:
        return entry[lang]
    return str(constants.at[name, "comment"]) if known else name


def title(name: str, lang: str = "zh") -> str:
    """The short name of lever or outlook `name` in `lang` (the .mdl name where levers.yaml has none)."""
    entry = (texts()["levers"].get(name) or texts()["outlooks"].get(name)
             or (texts().get("assumptions") or {}).get(name) or {})
    return entry.get("title", {}).get(lang, name)


def unit(name: str, lang: str = "zh", constants: pd.DataFrame | None = None) -> str:
    """The unit of lever or outlook `name`, readable in `lang` (the .mdl's own where it has no reading)."""
    outlook = texts()["outlooks"].get(name)
    if outlook:
        return outlook["unit"][lang]
    units = str(constants.at[name, "units"]) if constants is not None and name in constants.index else ""
    return UNITS.get(units, {}).get(lang, units)


def package_title(name: str, lang: str = "zh") -> str:
    """A package's name for people: package_147 -> 组合147 / package 147; reach_003 -> 达标组合3 / reach package 3."""
    kind, _, number = name.rpartition("_")
    if not number.isdigit() or kind not in ("package", "reach"):
        return name
    if lang == "zh":
        return f"{'组合' if kind == 'package' else '达标组合'}{int(number)}"
    return f"{'package' if kind == 'package' else 'reach package'} {int(number)}"


def levers_at_bounds(tokens: str, lang: str = "zh") -> dict[str, list[str]]:
    """An optimiser's `at_bounds` ('interest_subsidy_pp:high reward:low key_projects_per_year:floor') as short
    lever names by end (`floor`: an existing programme kept at its size, which the search may not cut)."""
    found = str(tokens or "").split()
    return {end: [title(token.rpartition(":")[0], lang) for token in found if token.endswith(f":{end}")]
            for end in ("high", "low", "floor")}
