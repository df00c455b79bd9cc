"""Writing a Result's files: data, metadata and charts, each atomically (a crash leaves no half file);
and, for `nxmfg simulate`, running a scenario while getting ready to write it."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from nxmfg.api.result import netcdf_attributes

if TYPE_CHECKING:
    import pandas as pd

    from nxmfg.api.inputs import Params, Targets
    from nxmfg.api.result import Result


def run_for_writing(lang: str, scenario_or_path, params: Params = None, targets: Targets = None,
                    targets_mode: str = "extend") -> Result:
    """`nxmfg.run`, made in a forked child (model/background.py) while this process gets ready to write the
    result in `lang` (`prepare`: the chart stack, the fonts, the history): one core each. The child also
    reads the targets and judges the run (the engine's run takes milliseconds, so it has the time), and
    runs the baseline the charts draw beside the scenario, for the cache (api/baseline.py) to hold. Errors
    come in `nxmfg.run`'s order: the scenario's, the fit's, then the targets'."""
    from nxmfg.model import background

    call = partial(_judged_run, scenario_or_path, params, targets, targets_mode)
    result, _ = background.alongside(call, partial(prepare, lang))
    return result


def _judged_run(scenario_or_path, params: Params, targets: Targets, targets_mode: str) -> Result:
    from nxmfg.api import inputs
    from nxmfg.api.simulation import engine_run, judge

    scenario = inputs.scenario(scenario_or_path)
    fit, overrides = inputs.fit_and_overrides(params)
    target_set = inputs.targets(targets, targets_mode)
    result = engine_run(scenario, fit, overrides)
    with_baseline(result)
    return judge(result, target_set)


def prepare(lang: str) -> None:
    """Load what judging and writing a result need before there is one: the chart modules, the fonts for
    `lang` (MissingFontError without a CJK font for zh), the recorded history, the targets' measures."""
    from nxmfg.api.inputs import history
    from nxmfg.model import plots
    from nxmfg.scenarios import measures, report  # noqa: F401

    plots.warm_up(lang)
    history()
    measures.load_special_functions()


def write_result(result: Result, out: Path, lang: str, report: bool) -> Path:
    """See Result.write. The files are staged and moved into `out` together (model.files.staged_output)."""
    from nxmfg.model import plots
    from nxmfg.model.files import check_writable, staged_output

    check_writable(out, "simulate")
    plots.font_families(lang)           # no CJK font for zh: fail before writing anything
    with staged_output(out, "simulate") as stage:
        write_charts(result, stage, lang, report, alongside=data_writes(result, stage))
    return out


def write_data(result: Result, out: Path) -> None:
    """results.csv, variables.csv, results.nc, attainment.csv, bands.csv, metadata.yaml."""
    for write in data_writes(result, out):
        write()


def data_writes(result: Result, out: Path) -> list:
    """write_data's two halves, calls to share out with the charts: results.nc; the tables and metadata.yaml."""
    return [partial(_write_netcdf, result, out), partial(_write_tables, result, out)]


def _write_netcdf(result: Result, out: Path) -> None:
    import xarray as xr

    from nxmfg.model.files import atomic_write, interrupts_deferred

    from nxmfg.model import chart_cache

    dataset = xr.merge([result.indicators, result.variables], compat="no_conflicts")  # names never clash
    dataset.attrs.update(netcdf_attributes(result.metadata))

    def write():
        with interrupts_deferred():   # xarray's netCDF writer deadlocks on a KeyboardInterrupt inside it
            atomic_write(out / "results.nc", dataset.to_netcdf)
    chart_cache.netcdf_once(dataset, out / "results.nc", write)


def _write_tables(result: Result, out: Path) -> None:
    import yaml

    from nxmfg.model.files import atomic_write, write_text

    atomic_write(out / "results.csv", lambda p: result.indicators.to_dataframe().to_csv(p, float_format="%.6g"))
    atomic_write(out / "variables.csv", lambda p: result.variables.to_dataframe().to_csv(p, float_format="%.6g"))
    atomic_write(out / "attainment.csv", lambda p: result.attainment.to_csv(p, index=False, float_format="%.6g"))
    atomic_write(out / "bands.csv", lambda p: result.bands().to_csv(p, index=False, float_format="%.6g"))
    write_text(out / "metadata.yaml", yaml.safe_dump(result.metadata, allow_unicode=True, sort_keys=False))


def write_charts(result: Result, out: Path, lang: str, report: bool, alongside=()) -> None:
    """headlines.png, charts/NAME.png|svg; with `report` also report.html (and the targets' charts).

    alongside: other writes to share out with the charts (see scenarios.report.write_charts).
    """
    from nxmfg.api.inputs import history as recorded
    from nxmfg.model import indicators
    from nxmfg.scenarios import report as planner

    history = recorded()
    runs, chosen = with_baseline(result)
    bands = pairs(result.bands())
    if report:
        from nxmfg.decision import surfaces

        meta = planner.report_meta([result.metadata["scenario_file"]], result.metadata["fit"])
        states = result.states.label(lang) if result.states is not None else ""
        planner.write_report(runs, chosen, result.targets, history, out, lang, bands=bands,
                             meta=meta | {"states": states}, headlines=True, alongside=alongside,
                             odds={result.name: result.attainment},
                             decision=surfaces.comparison_html({result.name: result}, lang))
    else:
        planner.write_charts(planner.labelled(runs, chosen, lang), indicators.HEADLINES, history, result.targets,
                             out, lang, bands=bands, headlines=True, alongside=alongside)


def with_baseline(result: Result) -> tuple[dict, list]:
    """The runs a result's charts draw, by scenario name, and their scenarios: the baseline (same fit and
    overrides) beside the scenario, or the scenario alone when it is the baseline or changes nothing."""
    from nxmfg.api import baseline, inputs

    scenario = result.scenario
    if scenario.name == "baseline" or not (scenario.levers or scenario.paths):
        return {scenario.name: result.indicators}, [scenario]
    drawn = baseline.indicators(result.fit, result.metadata.get("overrides", {}))
    return {"baseline": drawn, scenario.name: result.indicators}, [inputs.scenario("baseline"), scenario]


QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
BAND_COLUMNS = ["indicator", "year", "q05", "q25", "q50", "q75", "q95"]


def quantiles(band) -> pd.DataFrame:
    """bands.csv of an ensemble's indicators (dims run, year): indicator, year, q05, q25, q50, q75, q95 (empty
    without an ensemble; NaN where no run has a value, as a growth rate in the first year).

    One quantile call for every indicator and year without a NaN (np.quantile, vectorised), and numpy's
    nanquantile (a Python loop over columns) only where some runs have none: the same numbers as
    nanquantile everywhere, in a tenth of the time.
    """
    import numpy as np
    import pandas as pd

    if band is None or band.sizes.get("run", 0) == 0:
        return pd.DataFrame(columns=BAND_COLUMNS)
    names = list(band.data_vars)
    years = band["year"].to_numpy()
    values = np.concatenate([band[name].transpose("run", "year").to_numpy().astype(float) for name in names], axis=1)
    q = np.full((len(QUANTILES), values.shape[1]), np.nan)
    missing = np.isnan(values).any(axis=0)
    known = np.isfinite(values).any(axis=0)
    with np.errstate(all="ignore"):
        q[:, known & ~missing] = np.quantile(values[:, known & ~missing], QUANTILES, axis=0)
        q[:, known & missing] = np.nanquantile(values[:, known & missing], QUANTILES, axis=0)
    return pd.DataFrame({"indicator": np.repeat(np.array(names, dtype=object), len(years)),
                         "year": np.tile(years, len(names)), **{
                             column: q[i] for i, column in enumerate(BAND_COLUMNS[2:])}})


def pairs(table: pd.DataFrame) -> dict[str, tuple[pd.Series, pd.Series]]:
    """The charts' bands from a bands.csv table: {indicator: (q05, q95) by year}."""
    import pandas as pd

    years, low, high = table["year"].to_numpy(), table["q05"].to_numpy(), table["q95"].to_numpy()
    rows = table.groupby("indicator", sort=False).indices      # positions by indicator: no frame per one

    def series(values, name: str, indicator: str) -> pd.Series:
        return pd.Series(values[rows[indicator]], index=pd.Index(years[rows[indicator]], name="year"), name=name)

    return {name: (series(low, "q05", name), series(high, "q95", name)) for name in table["indicator"].unique()}
