"""`nxmfg.compare`: several scenarios on one fit and one set of targets, side by side."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from nxmfg.api import inputs
from nxmfg.api.result import Result, plot_runs

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr
    from matplotlib.figure import Figure

    from nxmfg.calibration.fits import Fit
    from nxmfg.scenarios import Scenario


def compare(scenarios: Sequence[Scenario | str | Path], params: inputs.Params = None,
            targets: inputs.Targets = None, *, targets_mode: str = "extend") -> Comparison:
    """Run several scenarios from the same fit and judge them on the same targets.

    Parameters
    ----------
    scenarios
        Scenario files, names of shipped scenarios, or Scenario objects; their names must differ.
    params, targets, targets_mode
        As for `nxmfg.run`, shared by every scenario.

    Returns
    -------
    Comparison
        One `Result` per scenario, the attainment matrix, and the shared metadata; `write` makes the
        planner's report.

    Raises
    ------
    ValueError
        A bad scenario (every file is read before any run), fit or targets file, or two scenarios
        with one name; the one-line message names file and field.
    """
    from nxmfg.api.simulation import simulate

    chosen = _chosen(scenarios)
    fit, overrides = inputs.fit_and_overrides(params)
    target_set = inputs.targets(targets, targets_mode)
    actuals = _actuals(target_set)
    results = {s.name: simulate(s, fit, overrides, target_set, actuals) for s in chosen}
    return Comparison(results, fit)


def compare_for_writing(scenarios: Sequence[Scenario | str | Path], lang: str, params: inputs.Params = None,
                        targets: inputs.Targets = None, targets_mode: str = "extend") -> Comparison:
    """`compare`, with the engine runs made and judged in two forked children (model/background.py), each
    taking half of the scenarios, while this process reads the fit and gets ready to write in `lang`
    (outputs.prepare). Errors come in `compare`'s order: each child reads and checks every scenario."""
    from nxmfg.api import outputs
    from nxmfg.model import background

    def here():
        fit, _ = inputs.fit_and_overrides(params)
        outputs.prepare(lang)
        return fit

    half = -(-len(scenarios) // 2)
    parts = [slice(0, half), slice(half, None)] if len(scenarios) > 1 else [slice(None)]
    calls = [partial(_judged_runs, scenarios, params, targets, targets_mode, part) for part in parts]
    runs, fit = background.all_alongside(calls, here)
    return Comparison({name: result for part in runs for name, result in part.items()}, fit)


def _judged_runs(scenarios: Sequence[Scenario | str | Path], params: inputs.Params, targets: inputs.Targets,
                 targets_mode: str, part: slice) -> dict[str, Result]:
    """The scenarios of `part` run and judged, once every scenario is read and checked."""
    from nxmfg.api.simulation import simulate

    chosen = _chosen(scenarios)
    fit, overrides = inputs.fit_and_overrides(params)
    target_set = inputs.targets(targets, targets_mode)
    actuals = _actuals(target_set)
    return {s.name: simulate(s, fit, overrides, target_set, actuals) for s in chosen[part]}


def _actuals(target_set: inputs.TargetSet):
    """What the record says of the targets: the same for every scenario (scenarios.outcomes)."""
    from nxmfg.scenarios import outcomes

    return outcomes.actual_outcomes(target_set.rows, inputs.history())


def _chosen(scenarios: Sequence[Scenario | str | Path]) -> list[Scenario]:
    """Every scenario read and checked before any run, so that a typo is reported at once."""
    from nxmfg.scenarios.validation import ScenarioError

    chosen: list[Scenario] = []
    for given in scenarios:
        scenario = inputs.scenario(given)
        if scenario.name in [s.name for s in chosen]:
            raise ScenarioError(scenario.source, "name", f"{scenario.name!r} is already the name of an earlier "
                                "scenario; names must differ")
        chosen.append(scenario)
    if not chosen:
        raise ValueError("scenarios: give at least one scenario")
    return chosen


@dataclass
class Comparison:
    """Scenarios run side by side.

    Attributes
    ----------
    results
        Scenario name -> its `Result`.
    fit
        The fit every run started from.
    """

    results: dict[str, Result]
    fit: Fit | None = field(default=None, repr=False)

    @property
    def attainment(self) -> pd.DataFrame:
        """One row per modelled target (index: id): columns ("target", doc | target | year | indicator |
        threshold | direction), ("actual", actual_value | actual_met | actual_status | actual_note): what
        happened, for targets at or before the last data year; then (scenario, met | margin | value |
        model_right | p_met | record_years | decided_by_assumptions) for each scenario."""
        import pandas as pd

        tables = {name: r.attainment.set_index("id") for name, r in self.results.items()}
        first = next(iter(tables.values()))
        about = first[["doc", "target", "year", "indicator", "threshold", "direction"]]
        actual = first[["actual_value", "actual_met", "actual_status", "actual_note"]]
        return pd.concat({"target": about, "actual": actual}
                         | {name: t[["met", "margin", "value", "model_right", "p_met", "record_years",
                                    "decided_by_assumptions"]] for name, t in tables.items()}, axis=1)

    @property
    def metadata(self) -> dict:
        """Model version, fit, overrides and targets (shared), and each scenario's own record."""
        first = next(iter(self.results.values())).metadata
        shared = {key: first[key] for key in ("model_version", "model_file", "nxmfg_version", "fit",
                                              "overrides", "targets", "states") if key in first}
        scenario_keys = ("scenario", "scenario_file", "scenario_yaml", "parameters", "seam")
        return shared | {"scenarios": {name: {key: r.metadata[key] for key in scenario_keys}
                                       for name, r in self.results.items()}}

    def plot(self, names: str | Iterable[str] | None = None, lang: str = "zh", history: bool = True) -> Figure:
        """Charts of `names` (default: the headline indicators), one line per scenario; a Figure."""
        first = next(iter(self.results.values()))
        return plot_runs({n: r.indicators for n, r in self.results.items()}, names, first.targets, lang, history)

    def bands(self) -> pd.DataFrame:
        """bands.csv: scenario, indicator, year, q05, q25, q50, q75, q95 (each scenario over its states)."""
        return _stacked({name: r.bands() for name, r in self.results.items()})

    def write(self, out: Path | str, lang: str = "zh", bands: xr.Dataset | Path | str | None = None,
              reachability: pd.DataFrame | None = None, study=None) -> Path:
        """Write the planner's report: out/report.html (self-contained), out/charts/*.png|svg, out/bands.csv
        and out/metadata.yaml (model version, fit, targets, states, and each scenario's file and parameters).

        bands: indicators of an ensemble (dims run, year; a Dataset or a netCDF file) drawn as a 5-95 %
        band instead of the default, the first scenario's band over its states of the world (bands.csv).
        reachability: an optimisation's table per target (`nxmfg.optimize(...).reachability`), added as a
        section. study: the package study the decision page reads (nxmfg.decision.studies; default: the
        shipped one, docs/studies/packages_2027). Returns report.html's path.
        """
        from nxmfg.model import plots
        from nxmfg.model.files import check_writable, staged_output

        out = check_writable(out, "compare")
        plots.font_families(lang)        # no CJK font for zh: fail before writing anything
        with staged_output(out, "compare") as stage:   # the files move into out together at the end
            page = self.write_into(stage, lang, bands, reachability, study)
        return out / page.name

    def write_into(self, folder: Path, lang: str = "zh", bands: xr.Dataset | Path | str | None = None,
                   reachability: pd.DataFrame | None = None, study=None) -> Path:
        """The files of `write`, written straight into an existing `folder` (a staging folder of a command
        that writes more beside them, such as `nxmfg optimize`); returns report.html's path. study: the
        package study the decision page reads (nxmfg.decision.studies; default: the shipped one)."""
        import yaml

        from nxmfg.api import outputs
        from nxmfg.api.inputs import history as recorded
        from nxmfg.decision import surfaces
        from nxmfg.model.files import write_text
        from nxmfg.scenarios import report

        runs = {name: r.indicators for name, r in self.results.items()}
        tables = {name: r.bands() for name, r in self.results.items()}
        table = _stacked(tables)
        first = next(iter(self.results.values()))
        if isinstance(bands, str | Path):
            bands = report.load_ensemble(Path(bands))
        elif bands is None:
            bands = outputs.pairs(tables[first.name])
        meta = report.report_meta([r.metadata["scenario_file"] for r in self.results.values()],
                                  first.metadata["fit"])
        meta |= {"states": first.states.label(lang)} if first.states is not None else {}
        baseline = _baseline(self.fit, first.metadata["overrides"])
        page = report.write_report(runs, [r.scenario for r in self.results.values()], first.targets,
                                   recorded(), Path(folder), lang, bands=bands, meta=meta, baseline=baseline,
                                   reachability=reachability,
                                   odds={name: r.attainment for name, r in self.results.items()},
                                   decision=surfaces.comparison_html(self.results, lang, study))
        write_text(Path(folder) / "metadata.yaml", yaml.safe_dump(self.metadata, allow_unicode=True, sort_keys=False))
        write_text(Path(folder) / "bands.csv", table.to_csv(index=False, float_format="%.6g"))
        return page


def _stacked(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """bands.csv of a comparison from each scenario's (Result.bands): a column `scenario` first."""
    import pandas as pd

    return pd.concat(tables, names=["scenario", None]).reset_index(level=0).reset_index(drop=True)


def _baseline(fit: Fit | None, overrides: dict[str, float]) -> dict[str, float]:
    """Every constant's value before any lever acts: the .mdl's, the fit's, then the overrides."""
    from nxmfg import model

    return model.constants()["value"].to_dict() | (fit.values if fit else {}) | overrides
