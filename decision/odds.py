"""P(met) of a scenario's targets, read through one function, and what it was computed over.

Where an attainment table carries `p_met` (the states of the world of nxmfg's odds), that is P(met); until
then the share of the calibrated band that meets the target (`probability`, over the fit's parameter
sets) stands in, labelled as such. `band_odds` computes that share for a run that has none. Every P(met)
the decision page shows comes through `p_met`, with its label.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from nxmfg.api.result import Result

BAND_LABEL = {"zh": "校准参数区间（{n}组参数）中达成的比例", "en": "share of the {n} calibrated parameter sets that meet it"}
STATES_LABEL = {"zh": "{n}个世界状态（校准参数×外部前景）中达成的比例",
                "en": "share of {n} states of the world (calibrated parameters x outlooks) that meet it"}


def p_met(attainment: pd.DataFrame) -> pd.Series:
    """P(met) by target id (NaN where unknown): `p_met` where the table has it, else `probability`."""
    for column in ("p_met", "probability"):
        if column in attainment and attainment[column].notna().any():
            return pd.Series(attainment[column].to_numpy(float), index=attainment["id"], name="p_met")
    return pd.Series(np.nan, index=attainment["id"], name="p_met")


def label(attainment: pd.DataFrame, lang: str) -> str:
    """What `p_met` of this table is computed over, in `lang`: the table's own `p_met_label` where it
    gives one, else the band's (its size from `attainment.attrs["runs"]`)."""
    if "p_met" in attainment and "p_met_label" in attainment and attainment["p_met_label"].notna().any():
        return str(attainment["p_met_label"].dropna().iloc[0])
    template = STATES_LABEL if attainment.attrs.get("basis") == "states" else BAND_LABEL
    return template[lang].format(n=attainment.attrs.get("runs", "?"))


def with_odds(attainment: pd.DataFrame, probability: pd.Series, runs: int, basis: str = "band") -> pd.DataFrame:
    """`attainment` with `probability` (by target id) and its basis ("band" or "states", over `runs`)."""
    table = attainment.copy()
    table["probability"] = table["id"].map(probability).astype(float)
    table.attrs |= {"runs": int(runs), "basis": basis}
    return table


def band_odds(result: Result) -> pd.DataFrame:
    """The result's attainment with P(met) over the fit's calibrated parameter sets: the scenario run once
    per set (one engine call). Returned unchanged where it has P(met) already or the fit has no sets."""
    table = result.attainment
    if ("p_met" in table or "probability" in table) or result.fit is None:
        return table
    sets = result.fit.parameter_sets()
    if sets is None or sets.empty:
        return table
    from nxmfg import model, scenarios
    from nxmfg.api.simulation import engine_inputs
    from nxmfg.model import ensemble, indicators

    names = sorted({t.indicator for t in result.targets if t.kind == "modelled"})
    params = engine_inputs(result.scenario, result.fit, result.metadata.get("overrides") or {})
    params |= {name: sets[name].to_numpy(float) for name in sets}
    runs = ensemble.run_translated(model.translated(), params, len(sets), workers=1, progress=False,
                                   reduce=partial(indicators.compute, names=names),
                                   control={"final_time": result.scenario.final_year, "saveper": 1})
    judged = scenarios.attainment_by_run(runs, result.targets)
    probability = pd.Series(judged["probability"].to_numpy().astype(float), index=judged["target"].to_numpy())
    return with_odds(table, probability, len(sets))
