"""The seam between the record and the outlook: runs go on from the recorded state of the last data year.

Method (a state update at the seam, calibration/seam.yaml): each batch of runs is paused at the start of the
last data year (`model.ensemble.snapshot`), before that year's values are saved. A first pass from there
reads each listed stock's indicator in that year; each stock is then multiplied, run by run, by the record
over the model's value (divided by the factors of the stocks it moves with), and the batch goes on from the
updated snapshot. The years before are the model's own, the listed indicators equal the record in the last
data year, and no equation of the .mdl changes. A scenario whose levers act in or before the last data year
is a counterfactual of the past: its runs have no recorded state to start from, and get no update.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nxmfg.scenarios.schema import FIRST_OUTLOOK_YEAR
from nxmfg.scenarios.validation import from_validation_error, read_yaml

SETTINGS = Path(__file__).with_name("seam.yaml")
YEAR = FIRST_OUTLOOK_YEAR - 1          # the last data year: the seam


class Pin(BaseModel):
    """A stock and the recorded indicator that pins it."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    stock: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    indicator: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    moves_with: list[str] = Field(default_factory=list)
    beside: list[str] = Field(default_factory=list)   # variables added to the stock's term, which it leaves alone
    why: str


class Pins(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    stocks: list[Pin]


PASSES = 6      # probes of the seam at most (each a run of the batch from the snapshot)


@cache
def pins(path: Path = SETTINGS) -> tuple[Pin, ...]:
    try:
        return tuple(Pins.model_validate(read_yaml(path)).stocks)
    except ValidationError as error:
        raise from_validation_error(path, error, Pins) from None


@dataclass(frozen=True)
class Start:
    """A batch's reconciled start: the updated snapshot, the factor of each stock [runs], and the record
    each pinned indicator was brought to (an indicator without a record in the seam year is left out)."""

    snapshot: object
    factors: dict[str, np.ndarray]
    record: dict[str, float] = field(default_factory=dict)

    def describe(self) -> dict:
        """What an output records about the seam."""
        return {"year": YEAR, "method": "state update at the seam (calibration/seam.py)",
                "stocks": {pin.stock: pin.indicator for pin in pins() if pin.stock in self.factors},
                "record": self.record,
                "factor_range": {name: [float(np.min(f)), float(np.max(f))] for name, f in self.factors.items()}}


def recorded(history: pd.DataFrame | None = None) -> dict[str, float]:
    """The pinned indicators' record in the seam year: {indicator: value} (those the data hold)."""
    if history is None:
        from nxmfg.calibration import observations

        history = observations()
    found = history[(history["year"] == YEAR) & history["indicator"].isin([p.indicator for p in pins()])]
    return dict(zip(found["indicator"], found["value"].astype(float), strict=True))


def reconciled(params: dict, n: int, control: dict, history: pd.DataFrame | None = None) -> Start:
    """The batch (`params` for `n` runs, `control` as for model.ensemble) paused at the seam and updated."""
    from nxmfg import model
    from nxmfg.model import ensemble

    record = recorded(history)
    chosen = [pin for pin in pins() if pin.indicator in record]
    kept = ensemble.snapshot(model.translated(), params, n, YEAR, control)
    if not chosen:
        return Start(kept, {}, {})
    names = sorted({pin.indicator for pin in chosen})
    beside = sorted({name for pin in chosen for name in pin.beside})
    factors = {pin.stock: np.ones(n) for pin in chosen}
    linked = {other for pin in chosen for other in pin.moves_with} | {pin.stock for pin in chosen if pin.moves_with}
    last: dict[str, tuple[np.ndarray, np.ndarray]] = {}   # a lone stock's previous (factor, term)
    start = kept
    # The terms beside a stock's may move with another pinned stock (certified firms' R&D with the R&D-active
    # firms): a pass brings each indicator to its record given the others as they were; a few passes settle.
    for _ in range(PASSES):
        probe = ensemble.run_translated(model.translated(), params, n, control=control, resume=start,
                                        reduce=partial(_probe, names=names, beside=beside))
        if all(np.allclose(probe[pin.indicator].sel(year=YEAR), record[pin.indicator], rtol=1e-12, atol=0)
               for pin in chosen):
            break
        step: dict[str, np.ndarray] = {}
        for pin in chosen:
            # the indicator = (the stock's term) + (terms beside it): the factor brings the stock's term to the
            # record less the others
            others = sum((probe[name].sel(year=YEAR).to_numpy().astype(float) for name in pin.beside), np.zeros(n))
            value = probe[pin.indicator].sel(year=YEAR).to_numpy().astype(float) - others
            target = record[pin.indicator] - others
            moved = np.prod([step[other] for other in pin.moves_with if other in step], axis=0)
            usable = np.isfinite(value) & (value > 0) & (target > 0)
            step[pin.stock] = np.where(usable, target / np.where(usable, value, 1.0), 1.0) / moved
            if pin.stock not in linked:
                # The term of a lone stock need not be proportional to it (the emerging share also sets the
                # value-added rate its revenue divides by): a secant step on the factor settles in a few passes.
                if pin.stock in last:
                    was_factor, was_value = last[pin.stock]
                    with np.errstate(divide="ignore", invalid="ignore"):   # a settled run: no step, kept below
                        slope = (value - was_value) / (factors[pin.stock] - was_factor)
                        secant = factors[pin.stock] + (target - value) / np.where(slope != 0, slope, np.inf)
                    good = usable & np.isfinite(secant) & (secant > 0) & (slope != 0)
                    step[pin.stock] = np.where(good, secant / factors[pin.stock], step[pin.stock])
                last[pin.stock] = (factors[pin.stock].copy(), value)
        factors = {stock: factors[stock] * step[stock] for stock in factors}
        start = ensemble.rescaled(kept, factors)
    return Start(start, factors, {pin.indicator: record[pin.indicator] for pin in chosen})


def _probe(runs, names: list[str], beside: list[str]):
    """The pinned indicators and the variables beside the stocks' terms, of the batch's runs."""
    from nxmfg.model import indicators

    return indicators.compute(runs, names=names).assign({name: runs[name] for name in beside})


def applies(scenario) -> bool:
    """Whether `scenario`'s runs start from the record: they reach the seam, and none of its levers acts
    before the year after it (outlook paths start after it by the schema)."""
    return scenario.final_year >= YEAR and all(lever.start > YEAR for lever in scenario.levers.values())


def run_batch(task: tuple) -> object:
    """One reconciled batch, in whatever process runs it (model.ensemble.map_calls): task = (params, n,
    reduce, control, history); returns the runs from the seam on (dims run, year; run 0..n-1)."""
    from nxmfg import model
    from nxmfg.model import ensemble

    params, n, reduce, control, history = task
    start = reconciled(params, n, control, history)
    return ensemble.run_translated(model.translated(), params, n, reduce=reduce, control=control,
                                   resume=start.snapshot)
