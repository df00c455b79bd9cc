"""Lever values in the plans' units, and the resolution a programme can set them to.

The .mdl keeps model units (a share as a fraction, `Dmnl`; a rate as `1/Year`; a reward as `CNY10k/firms`);
the plans write 5 %, 100 家/年, 20 万元/家. Scenario files keep the model's units (`nxmfg simulate` runs
them); what a planner reads is converted here and only here. `step` is the smallest change a programme
can make, in model units: whole firms and projects, 0.1 percentage point of a share, 1 万元 of a reward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class PlanUnit:
    scale: float      # plan value = scale x model value
    zh: str
    en: str
    step: float       # in model units


# By the .mdl's unit string; a constant whose unit is not here has no plan unit (shown unscaled, unlabelled).
BY_MDL_UNIT = {
    "Dmnl": PlanUnit(100, "%", "%", 0.001),
    "1": PlanUnit(100, "%", "%", 0.001),
    "pp": PlanUnit(1, "个百分点", "pp", 0.1),
    "projects/Year": PlanUnit(1, "个/年", "projects a year", 1),
    "firms/Year": PlanUnit(1, "家/年", "firms a year", 1),
    "1/Year": PlanUnit(100, "%/年", "% a year", 0.001),
    "CNY10k/firms": PlanUnit(1, "万元/家", "10k yuan per firm", 1),
}
# Levers whose plan unit is not their .mdl unit's: the S&T budget is set as a share of GDP, 0.01 pp at a
# time (0.01 % of 2023's GDP is about 0.5 亿元).
BY_LEVER = {"extra_sci_tech_budget_share": PlanUnit(100, "% GDP", "% of GDP", 0.0001)}
# Outlooks a planner reads in % (a growth of 0.046 a year is 4.6 %/年); the coal price is already in 元/吨.
_RATE = PlanUnit(100, "%/年", "% a year", 0.0001)
BY_OUTLOOK = {"national_industry_growth_outlook": _RATE, "national_nonindustry_growth_outlook": _RATE,
              "national_industry_inflation_outlook": _RATE, "national_nonindustry_inflation_outlook": _RATE,
              "national_rd_intensity_outlook": PlanUnit(100, "% GDP", "% of GDP", 0.0001),
              "rd_super_deduction_outlook": PlanUnit(100, "%", "%", 0.01),
              "coal_price_outlook": PlanUnit(1, "元/吨", "yuan/t", 1)}


def plan_unit(name: str, constants: pd.DataFrame | None = None) -> PlanUnit:
    """The plan unit of constant `name` (its .mdl unit from `constants`, default model.constants())."""
    if name in BY_LEVER or name in BY_OUTLOOK:
        return BY_LEVER.get(name) or BY_OUTLOOK[name]
    if constants is None:
        from nxmfg import model

        constants = model.constants()
    units = str(constants.at[name, "units"]) if name in constants.index else ""
    return BY_MDL_UNIT.get(units, PlanUnit(1, "", "", 0.0))     # no plan unit: callers say what it is


def to_plan(name: str, value: float, constants: pd.DataFrame | None = None) -> float:
    """`value` (model units) in the plan's unit."""
    return float(value) * plan_unit(name, constants).scale


def rounded(name: str, value: float, constants: pd.DataFrame | None = None) -> float:
    """`value` (model units) rounded to the nearest step a programme can set."""
    step = plan_unit(name, constants).step
    if not step:
        return float(value)
    digits = max(0, -math.floor(math.log10(step)))
    return round(math.floor(float(value) / step + 0.5) * step, digits)


def shown(name: str, value: float, lang: str = "zh", constants: pd.DataFrame | None = None) -> str:
    """'5 %', '100 家/年', '0.52 % GDP': `value` (model units) in the plan's unit, to the programme's step."""
    unit = plan_unit(name, constants)
    number = rounded(name, value, constants) * unit.scale
    decimals = max(0, -math.floor(math.log10(unit.step * unit.scale))) if unit.step else None
    text = f"{number:.{decimals}f}" if decimals is not None else f"{number:.4g}"
    label = unit.zh if lang == "zh" else unit.en
    return f"{text} {label}".strip()
