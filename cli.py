"""nxmfg command line: parses, calls the packages, writes files. Nothing else.

Heavy imports (PySD, matplotlib) happen inside the commands so that `nxmfg --help` is instant.
"""

import json
from pathlib import Path

import click


@click.group()
def main() -> None:
    """Ningxia manufacturing system-dynamics model."""


def _user_error(error: Exception) -> click.ClickException:
    """One line, no traceback: the message already names the file and the field."""
    return click.ClickException(" ".join(str(error).split()))


@main.command()
@click.argument("scenario_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Folder for results and charts [default: out/SCENARIO].")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of chart labels.")
@click.option("--report", is_flag=True, help="Also write the planner's HTML report (report.html).")
def simulate(scenario_file: str, out: str | None, lang: str, report: bool) -> None:
    """Run SCENARIO_FILE and print whether the plans' targets are met; write results and charts."""
    import matplotlib.pyplot as plt
    import xarray as xr
    import yaml

    import model
    import scenarios
    from calibration import observations
    from model import indicators, plots
    from model.files import atomic_write, check_writable, interrupts_deferred, staged_output
    from model.fonts import MissingFontError
    from model.input_files import read_text
    from scenarios import report as planner_report

    try:
        if out is not None:
            check_writable(out)   # before any work; the default folder needs the scenario's name
        scenario = scenarios.load(scenario_file)
        out_dir = check_writable(Path(out or Path("out") / scenario.name))
        scenarios.check(scenario, model.constants(), model.lookups())
        params = scenario.params(model.baseline())
        run = model.simulate(params, scenario.final_year)
        targets = scenarios.load_targets()
        plots.font_families()  # fail before writing anything if no CJK font is installed
    except (ValueError, OSError, MissingFontError) as error:
        raise _user_error(error) from None
    results = indicators.compute(run)
    table = scenarios.attainment(results, targets)

    with staged_output(out_dir, "simulate") as stage:   # files move into out_dir at the end, marked INCOMPLETE
        (stage / "charts").mkdir(parents=True, exist_ok=True)
        # what made these results: the model version, the scenario and every parameter value (time paths as dicts)
        parameters = {k: (v.to_dict() if hasattr(v, "to_dict") else v) for k, v in (model.fitted() | params).items()}
        meta = {"model_version": model.version(), "model_file": model.MDL.name, "scenario": scenario.name,
                "scenario_yaml": read_text(scenario_file, "scenario"),
                "calibrated": "calibration/fitted.yaml" if model.fitted() else "no (the .mdl's own values)"}
        dataset = xr.merge([results, run], compat="no_conflicts")  # indicator names never clash with variables
        dataset.attrs.update(meta, parameters=json.dumps(parameters, default=str))  # netCDF attributes are strings
        with interrupts_deferred():   # xarray's netCDF writer deadlocks on a KeyboardInterrupt inside it
            atomic_write(stage / "results.nc", dataset.to_netcdf)
        atomic_write(stage / "results.csv", lambda p: results.to_dataframe().to_csv(p, float_format="%.6g"))
        atomic_write(stage / "variables.csv", lambda p: run.to_dataframe().to_csv(p, float_format="%.6g"))
        atomic_write(stage / "attainment.csv", lambda p: table.to_csv(p, index=False, float_format="%.6g"))
        metadata = yaml.safe_dump(meta | {"parameters": parameters}, allow_unicode=True, sort_keys=False)
        atomic_write(stage / "metadata.yaml", lambda p: p.write_text(metadata, encoding="utf-8"))
        history = observations()
        runs = {scenario.name: results}
        grid = plots.plot_headlines(runs, indicators.HEADLINES, history=history, targets=targets, lang=lang)
        plots.save(grid, stage / "headlines.png")
        plt.close(grid)
        if report:  # its charts/*.png|svg include the headlines, so they are drawn once
            planner_report.write_report(runs, [scenario], targets, history, stage, lang,
                                        bands=planner_report.calibration_band(list(results.data_vars)),
                                        meta=planner_report.report_meta([Path(scenario_file)]))
        else:
            planner_report.write_charts(runs, indicators.HEADLINES, history, targets, stage, lang)

    click.echo(_attainment_text(table))
    met, assessed = int(table["met"].sum()), int(table["met"].notna().sum())
    not_assessed = f"; {len(table) - assessed} n/a (years after final_year)" if assessed < len(table) else ""
    click.echo(f"\n{met} of {assessed} modelled targets met in scenario {scenario.name!r}{not_assessed}. "
               f"Wrote results.csv, results.nc, attainment.csv and charts in {out_dir}")


def _attainment_text(table) -> str:
    rows = table.assign(
        value=table["value"].map("{:.4g}".format), threshold=table["threshold"].map("{:.4g}".format),
        margin=table["margin"].map("{:+.3g}".format),
        met=table["met"].map({True: "met", False: "MISSED"}).fillna("n/a"))
    columns = ["id", "target", "year", "value", "threshold", "direction", "met", "margin"]
    return rows[columns].to_string(index=False)


@main.command(name="compare")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), default="out/compare", show_default=True,
              help="Folder for report.html and charts/*.png|svg.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the report's labels.")
@click.option("--ensemble", type=click.Path(exists=True, dir_okay=False), default=None, show_default=True,
              help="netCDF of indicators with dims (run, year), drawn as a 5-95 % band on the charts.")
def compare_command(files: tuple[str, ...], out: str, lang: str, ensemble: str | None) -> None:
    """Run each scenario FILE and write one self-contained HTML report comparing them."""
    from pathlib import Path

    from calibration import observations
    from model.files import check_writable
    from model.fonts import MissingFontError
    from scenarios import report

    try:
        check_writable(out)
        bands = report.load_ensemble(Path(ensemble)) if ensemble else None
        path = report.compare([Path(f) for f in files], Path(out), lang, history=observations(), bands=bands)
    except (ValueError, OSError, MissingFontError) as error:
        raise click.ClickException(" ".join(str(error).split())) from None
    click.echo(f"wrote {path} and its charts in {path.parent / 'charts'}")


@main.command(name="calibrate")
@click.option("--until", type=click.IntRange(2011, 2035), default=None,
              help="Fit years <= UNTIL only and report the later years out of sample "
                   "(calibration/fitted.yaml is then left as it is).")
@click.option("--data", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Your own long CSV (indicator,year,value,unit,source_title,source_url,quote); "
                   "it extends or overrides the shipped data.")
@click.option("--out", type=click.Path(file_okay=False), default="out/calibration", show_default=True,
              help="Folder for report.md, fit.csv, params.csv, fit.png and a copy of fitted.yaml.")
def calibrate_command(until: int | None, data: str | None, out: str) -> None:
    """Fit calibration/free_parameters.yaml to the historical record; write fitted.yaml and a fit report."""
    from pathlib import Path

    from calibration.pipeline import calibrate

    try:
        outcome = calibrate(until, Path(data) if data else None, Path(out))
    except ValueError as error:   # DataError, OutputError
        raise _user_error(error) from None
    click.echo(outcome.in_sample.to_string(index=False, float_format="{:.3g}".format))
    if outcome.out_of_sample is not None:
        click.echo(f"out of sample (after {until}):")
        click.echo(outcome.out_of_sample.to_string(index=False, float_format="{:.3g}".format))
    written = f" and {outcome.fitted_path}" if outcome.fitted_path else ""
    click.echo(f"wrote {Path(out) / 'report.md'}{written} in {outcome.seconds:.0f} s")


@main.command(name="sensitivity")
@click.argument("study_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), default="out/sensitivity", show_default=True,
              help="Folder for chunks, samples, indices, charts and summary.md.")
@click.option("--scheduler", default=None, show_default=True,
              help="Dask scheduler ADDRESS to hand chunks to; local worker processes if not given.")
@click.option("--resume", is_flag=True, default=False, show_default=True,
              help="Keep the finished chunks in OUT and evaluate only the rest.")
@click.option("--method", type=click.Choice(["sobol", "morris"]), default="sobol", show_default=True,
              help="Sobol' indices, or Morris screening (quick, for many parameters).")
@click.option("--analyse-only", is_flag=True, default=False, show_default=True,
              help="Redo the analysis from OUT/samples.npz without running the model.")
@click.option("--chunk-runs", type=click.IntRange(min=1), default=65536, show_default=True,
              help="Runs per saved chunk (the unit --resume skips).")
def sensitivity_command(  # not `sensitivity`: that would shadow the package
        study_file: str, out: str, scheduler: str | None, resume: bool, method: str, analyse_only: bool,
        chunk_runs: int) -> None:
    """Sobol' study of STUDY_FILE on the ensemble engine: indices, target odds, charts, summary.md."""
    from pathlib import Path

    import sensitivity  # imported here so `nxmfg --help` need not load SALib and matplotlib

    try:
        tables = (sensitivity.analyse(Path(out)) if analyse_only else
                  sensitivity.run_file(Path(study_file), Path(out), method, resume, scheduler, chunk_runs))
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    except KeyboardInterrupt:
        kept = any((Path(out) / "chunks").glob("chunk_*.npz"))
        click.echo(f"interrupted: finished chunks are kept in {Path(out) / 'chunks'}; rerun with --resume" if kept
                   else "interrupted before any chunk was finished", err=True)
        raise click.exceptions.Exit(130) from None
    unsettled = tables.get("unsettled")
    if unsettled is not None and not unsettled.empty:
        worst = unsettled.iloc[0]
        click.echo(f"warning: {len(unsettled)} indices moved by more than 0.05 from N/2 to N (largest: "
                   f"{worst.outcome}/{worst.parameter} {worst.change:.3f}); raise N", err=True)
    click.echo(f"wrote {Path(out) / 'summary.md'}")
