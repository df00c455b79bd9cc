"""The result of one run: indicators, variables, attainment, metadata; plotted or written on request."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr
    from matplotlib.figure import Figure

    from nxmfg.calibration.fits import Fit
    from nxmfg.calibration.states import States
    from nxmfg.scenarios import Scenario, Target

# What `write` puts in a folder (charts/ and report.html besides).
FILES = ("results.csv", "variables.csv", "results.nc", "attainment.csv", "bands.csv", "metadata.yaml", "headlines.png",
         "headlines_D.png")


@dataclass
class Result:
    """One scenario run.

    Attributes
    ----------
    scenario
        The scenario that was run.
    indicators
        Indicators of the plans and yearbooks by year, in their units (model/indicators.py); dims ("year",).
    variables
        Every model variable by year; dims ("year",).
    attainment
        One row per modelled target: id, doc, target, year, indicator, value, threshold, direction, met,
        margin (positive = beaten by that much, in the threshold's unit); for targets at or before the last
        data year, what happened: actual_value, actual_met, actual_status (met, missed, not determinable,
        different statistic; future after the data), actual_note, and model_right (met equals actual_met).
        p_met: the share of the states of the world meeting it (p_met_over names them); record_years: the
        years of a later target's window read from the record; decided_by_assumptions: the assumed
        constants carry more than half its variance (calibration/assumption_shares.csv).
    metadata
        Model version, scenario (name, file, YAML), fit (path, hash), overrides, targets (files, hashes,
        mode) and every parameter value.
    targets
        The targets the run was judged on (drawn as markers by `plot`).
    fit
        The fit the run started from.
    band
        The indicators in every state of the world (dims run, year; calibration/states.py), or None.
    states
        Those states (count, seed, composition: `states.label(lang)` names them), or None.
    """

    scenario: Scenario
    indicators: xr.Dataset
    variables: xr.Dataset
    attainment: pd.DataFrame
    metadata: dict
    targets: list[Target] = field(default_factory=list, repr=False)
    fit: Fit | None = field(default=None, repr=False)
    band: xr.Dataset | None = field(default=None, repr=False)
    states: States | None = field(default=None, repr=False)
    _bands: tuple | None = field(default=None, init=False, repr=False, compare=False)   # (of band, quantiles)

    def bands(self) -> pd.DataFrame:
        """The indicators' quantiles over the states (bands.csv): indicator, year, q05, q25, q50, q75, q95
        (made once: bands.csv and the charts both read them; a copy each time)."""
        from nxmfg.api.outputs import quantiles

        if self._bands is None or self._bands[0] is not self.band:
            self._bands = (self.band, quantiles(self.band))
        return self._bands[1].copy()

    @property
    def name(self) -> str:
        return self.scenario.name

    def plot(self, names: str | Iterable[str] | None = None, lang: str = "zh", history: bool = True) -> Figure:
        """Charts of `names` (default: the headline indicators) with history and targets; a Figure."""
        return plot_runs({self.name: self.indicators}, names, self.targets, lang, history)

    def write(self, out: Path | str, lang: str = "zh", report: bool = False) -> Path:
        """Write every output file into `out` (created if needed), each atomically; return `out`.

        results.csv (indicators by year), variables.csv, results.nc (both, with the metadata as
        attributes), attainment.csv, bands.csv (the indicators' quantiles over the states of the world, which
        the charts draw), metadata.yaml, charts/NAME.png and .svg, headlines.png; with
        `report`, also the planner's report.html. Raises MissingFontError before writing anything if
        `lang` is "zh" and no Chinese font is installed.
        """
        from nxmfg.api import outputs

        return outputs.write_result(self, Path(out), lang, report)


def plot_runs(runs: dict[str, xr.Dataset], names: str | Iterable[str] | None, targets: list, lang: str,
              history: bool) -> Figure:
    """A grid of charts, one line per run; `names` default to the headline indicators."""
    from nxmfg.api.inputs import history as recorded
    from nxmfg.model import indicators, plots

    names = [names] if isinstance(names, str) else list(names or indicators.HEADLINES)
    return plots.plot_headlines(runs, names, history=recorded() if history else None, targets=targets,
                                lang=lang, ncols=1 if len(names) == 1 else 2)


def netcdf_attributes(metadata: dict) -> dict[str, str | int | float]:
    """netCDF attributes hold strings and numbers: nested values go in as JSON."""
    return {key: value if isinstance(value, str | int | float) else json.dumps(value, ensure_ascii=False)
            for key, value in metadata.items()}
