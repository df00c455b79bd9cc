"""The model's main feedback loops and their strength: how much a headline moves when a loop is cut.

A loop is cut by setting the one constant that closes it to the value that opens it (an elasticity to 0,
an adjustment time to practically forever); everything else keeps the calibrated baseline. The strength
is the change of the headline in the final year, cut against intact, in per cent. A loop that only acts
when a constraint binds (scarce labour, a quota) is measured in a run where it binds: its `conditions`
(outlook paths) apply to both runs. This is loop knockout analysis (Sterman 2000, ch. 21: "structure
assessment"), not a loop-dominance decomposition.

    python -m nxmfg.model.loops          # prints the table
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

FOREVER = 1e9   # [Year] an adjustment time that never adjusts
SCARCE_LABOUR = {"regional_employment_growth_outlook": pd.Series({2024.0: -0.03, 2035.0: -0.03})}
COAL_CONVERSION_RESUMED = {"coal_conversion_build_out_outlook": pd.Series({2024.0: 1.0, 2035.0: 1.0})}


@dataclass(frozen=True)
class Loop:
    name: str
    polarity: str      # R (reinforcing) or B (balancing)
    path: str          # the causal chain, in words
    cut: dict          # constant -> value that opens the loop
    headline: str      # model variable whose final-year value measures it
    conditions: dict = field(default_factory=dict)   # outlook -> path under which it is measured


LOOPS = (
    Loop("R1", "R", "profit -> investment -> capacity -> deliveries -> market share -> output -> profit",
         {"profit_investment_elasticity": 0.0}, "manufacturing_va_real"),
    Loop("B1", "B", "capacity below demand -> capital gap -> investment -> capacity",
         {"capital_adjustment_time": FOREVER}, "capacity_utilisation"),
    Loop("B4", "B", "utilisation -> delivery -> market share -> demand -> utilisation",
         {"delivery_elasticity": 0.0}, "manufacturing_va_real"),
    Loop("R2", "R", "output -> R&D -> knowledge and technology -> TFP -> competitiveness -> market share -> output",
         {"competitiveness_elasticity": 0.0}, "manufacturing_va_real"),
    Loop("R4", "R", "firms -> product variety -> market share -> output -> revenue -> threshold crossings -> firms",
         {"variety_additionality": 0.0}, "above_scale_firms_total"),
    Loop("R5", "R", "R&D -> knowledge -> TFP -> output -> revenue -> R&D",
         {"knowledge_elasticity": 0.0}, "gdp_real"),
    Loop("R3", "R", "adopters -> word of mouth -> adoption -> adopters (each digital technology)",
         {"diffusion_imitation": 0.0}, "digital_maturity"),
    Loop("B7", "B", "labour tight -> labour-saving vintages -> smaller crews -> fewer workers needed -> tightness "
         "(the region's wage labour shrinking 3 %/yr from 2024)",
         {"automation_tightness_response": 0.0}, "manufacturing_va_real", SCARCE_LABOUR),
    Loop("B9", "B", "crews short -> plant without crews retired and replaced -> new vintages -> smaller crews -> "
         "shortfall (capital for labour; the region's wage labour shrinking 3 %/yr from 2024)",
         {"unstaffed_plant_retirement_time": FOREVER}, "manufacturing_va_real", SCARCE_LABOUR),
    Loop("B8", "B", "CO2 or energy over quota -> energy-heavy projects held back -> heavy share and capacity -> "
         "CO2 and energy intensity (the coal-conversion build-out resuming from 2024)",
         {"quota_curtailment_sensitivity": 0.0}, "co2_emissions", COAL_CONVERSION_RESUMED),
)


def strengths(final_year: int = 2035, params: dict | None = None) -> pd.DataFrame:
    """Per loop: the headline intact and cut in `final_year`, and the change in per cent."""
    from nxmfg import model

    params = params or {}
    rows, intact_runs = [], {}
    for loop in LOOPS:
        conditions = tuple(sorted(loop.conditions))   # the loops share their condition dicts
        if conditions not in intact_runs:
            intact_runs[conditions] = model.engine_run(params | loop.conditions, final_year)
        intact = intact_runs[conditions]
        cut = model.engine_run(params | loop.conditions | loop.cut, final_year)
        before = float(intact[loop.headline].sel(year=final_year))
        after = float(cut[loop.headline].sel(year=final_year))
        rows.append({"loop": loop.name, "polarity": loop.polarity, "path": loop.path,
                     "cut": ", ".join(f"{k} = {v:g}" for k, v in loop.cut.items()), "headline": loop.headline,
                     "intact": before, "cut_value": after,
                     "change_pct": 100 * (after / before - 1) if before else np.nan})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    table = strengths()
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table[["loop", "polarity", "headline", "cut", "intact", "cut_value", "change_pct"]]
              .to_string(index=False, float_format="{:.4g}".format))
