"""nxmfg command line: parses options, calls the Python API (`import nxmfg`), prints. Nothing else.

`import nxmfg` is cheap; the model, PySD and matplotlib load inside the API calls, so `nxmfg --help`
is instant.
"""

from pathlib import Path

import click

import nxmfg

TARGETS_HELP = "Your own targets file (schema of scenarios/targets.yaml; e.g. scenarios/examples/my_targets.yaml)."
MODE_HELP = ("extend: your targets are added to the shipped ones (a row with a shipped id replaces it); "
             "replace: only yours count.")
PARAMS_HELP = "A fit file written by `nxmfg calibrate --out DIR` (DIR/fitted.yaml), used instead of the shipped fit."


class Program(click.Group):
    """The command group; run as the `nxmfg` program (no `args`), it ends without Python's teardown."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MemoryError:
            raise click.ClickException("out of memory: the machine's or this process's limit (ulimit -v) was "
                                       "reached; free memory, raise the limit, or ask for less work (fewer "
                                       "scenarios, samples or states)") from None

    def main(self, args=None, **extra):
        if args is not None:            # called from Python (CliRunner, tests): return or raise as click does
            return super().main(args, **extra)
        try:
            super().main(args, **extra)
            code = 0
        except SystemExit as done:
            code = done.code
        _exit_now(code)


def _exit_now(code) -> None:
    """Exit after the exit handlers and flushing the output, without freeing every object one by one:
    after a `simulate`, Python's teardown of pandas, xarray, matplotlib and PySD takes 0.3 s."""
    import atexit
    import os
    import sys
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)                  # Python's exit waits for such threads (the explorer's server)
    if code is not None and not isinstance(code, int):   # sys.exit("message"), as Python shows it
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()             # worker pools, temporary folders, logging
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):    # a closed pipe (`nxmfg ... | head`) or stream
            pass
    os._exit(code or 0)


@click.group(cls=Program)
def main() -> None:
    """Ningxia manufacturing system-dynamics model."""


def _user_error(error: Exception) -> click.ClickException:
    """One line, no traceback: the message already names the file and the field."""
    return click.ClickException(printable(" ".join(str(error).split())))


def printable(text: str) -> str:
    """`text` with control characters written as escapes: a file's key holding terminal escape codes must
    not recolour, move or clear the user's terminal when a message quotes it."""
    return "".join(c if c.isprintable() or c in "\n\t" else c.encode("unicode_escape").decode("ascii") for c in text)


def _user_errors():
    """The errors a user's input can cause: bad files and fields, unreadable paths, a missing font."""
    from nxmfg.model.fonts import MissingFontError

    return ValueError, OSError, MissingFontError


class OutputFolder(click.Path):
    """--out: a folder path, never the empty one (Path('') is the current folder: --out '' would write there)."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            self.fail(f"{value!r} is an empty path; name the output folder (e.g. --out out/plan)", param, ctx)
        return super().convert(value, param, ctx)


OUT = OutputFolder(file_okay=False)


def inputs_options(command):
    """--params, --targets and --targets-mode, shared by the commands that run scenarios."""
    command = click.option("--targets-mode", type=click.Choice(["extend", "replace"]), default="extend",
                           show_default=True, help=MODE_HELP)(command)
    command = click.option("--targets", "targets", type=click.Path(exists=True, dir_okay=False), default=None,
                           help=TARGETS_HELP)(command)
    return click.option("--params", type=click.Path(exists=True, dir_okay=False), default=None,
                        help=PARAMS_HELP)(command)


@main.command()
@click.argument("scenario_file", metavar="SCENARIO")
@click.option("--out", type=OUT, default=None,
              help="Folder for results and charts [default: out/SCENARIO].")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of chart labels (en needs no Chinese font).")
@click.option("--report", is_flag=True, help="Also write the planner's HTML report (report.html).")
@click.option("--doc", "docs", multiple=True, metavar="DOC",
              help="Print only the targets of document DOC (A, B, C, D or your own code; repeatable).")
@inputs_options
def simulate(scenario_file: str, out: str | None, lang: str, report: bool, docs: tuple[str, ...],
             params: str | None, targets: str | None, targets_mode: str) -> None:
    """Run SCENARIO (a scenario file, or a shipped one by name: baseline, plan, ...) and print whether the
    plans' targets are met; write results and charts."""
    from nxmfg.api import outputs
    from nxmfg.model.files import check_writable

    try:
        if out is not None:
            check_writable(out, "simulate")   # before any work; the default folder needs the scenario's name
        result = outputs.run_for_writing(lang, scenario_file, params, targets, targets_mode)
        shown = _documents(result.attainment, docs)
        out_dir = result.write(out or Path("out") / result.name, lang=lang, report=report)
    except _user_errors() as error:
        raise _user_error(error) from None
    from nxmfg.scenarios import outcomes

    table = result.attainment
    click.echo(attainment_text(shown))
    click.echo("\n" + document_counts(table))
    met, assessed = int(table["met"].sum()), int(table["met"].notna().sum())
    not_assessed = f"; {len(table) - assessed} n/a (years after final_year)" if assessed < len(table) else ""
    click.echo(f"\n{met} of {assessed} modelled targets met in scenario {result.name!r}{not_assessed}. "
               + outcomes.summary_text(outcomes.summary(table), "en", f"scenario {result.name!r}")
               + f"\nWrote results.csv, results.nc, attainment.csv, bands.csv and charts in {out_dir}")


def _documents(table, docs: tuple[str, ...]):
    """The rows of documents `docs` (all without any); a code the table lacks is a one-line error."""
    if not docs:
        return table
    known = list(dict.fromkeys(table["doc"]))
    unknown = [doc for doc in docs if doc not in known]
    if unknown:
        raise ValueError(f"--doc: no modelled target of document {unknown[0]!r}; allowed: {', '.join(known)}")
    return table[table["doc"].isin(docs)]


def document_counts(table) -> str:
    """One line per document: 'D: 1 / 13 met' (targets the run cannot judge are left out of the count)."""
    lines = []
    for doc, rows in table.groupby("doc", sort=False):
        judged = rows["met"].notna()
        extra = f" ({int((~judged).sum())} n/a)" if (~judged).any() else ""
        lines.append(f"{doc}: {int(rows['met'].fillna(False).astype(bool).sum())} / {int(judged.sum())} met{extra}")
    return "\n".join(lines)


ACTUAL = {"met": "met", "missed": "MISSED", "not determinable": "n/d", "different statistic": "other stat.",
          "future": ""}


def attainment_text(table) -> str:
    """The attainment table as text; `actual` is what the data say for past targets (n/d: not
    determinable from the data; other stat.: the data hold a different statistic; A after P(met): decided
    by assumptions)."""
    import pandas as pd

    rows = table.assign(
        value=table["value"].map("{:.4g}".format), threshold=table["threshold"].map("{:.4g}".format),
        margin=table["margin"].map("{:+.3g}".format),
        met=table["met"].map({True: "met", False: "MISSED"}).fillna("n/a"),
        actual=[ACTUAL.get(status, "") + (f" ({value:.4g})" if value == value else "")
                for status, value in zip(table["actual_status"], table["actual_value"], strict=True)],
        p_met=[("" if p != p else f"{p:.0%}") + (" A" if pd.notna(flag) and bool(flag) else "")
               for p, flag in zip(table["p_met"], table["decided_by_assumptions"], strict=True)])
    columns = ["id", "target", "year", "value", "threshold", "direction", "met", "margin", "p_met", "actual"]
    text = printable(rows[columns].to_string(index=False))     # a --targets file's labels are the user's text
    over = table["p_met_over"].iloc[0] if len(table) else ""
    flagged = table["decided_by_assumptions"].fillna(False).astype(bool).any()
    return text + f"\n{over}" + ("; A: decided by assumptions (they carry over half its variance)" if flagged else "")


@main.command(name="compare")
@click.argument("files", nargs=-1, required=True, metavar="SCENARIO...")
@click.option("--out", type=OUT, default="out/compare", show_default=True,
              help="Folder for report.html, charts/*.png|svg and metadata.yaml.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the report's labels (en needs no Chinese font).")
@click.option("--ensemble", type=click.Path(exists=True, dir_okay=False), default=None, show_default=True,
              help="netCDF of indicators with dims (run, year), drawn as a 5-95 % band on the charts "
                   "[default: the first scenario over its states of the world, as in bands.csv].")
@inputs_options
def compare_command(files: tuple[str, ...], out: str, lang: str, ensemble: str | None, params: str | None,
                    targets: str | None, targets_mode: str) -> None:
    """Run each SCENARIO (a file, or a shipped one by name) and write one self-contained HTML report
    comparing them."""
    from nxmfg.api.comparison import compare_for_writing
    from nxmfg.model.files import check_writable

    try:
        check_writable(out, "compare")   # before any run
        comparison = compare_for_writing(files, lang, params, targets, targets_mode)
        path = comparison.write(out, lang=lang, bands=ensemble)
    except _user_errors() as error:
        raise _user_error(error) from None
    click.echo(f"wrote {path} and its charts in {path.parent / 'charts'}")


@main.command(name="calibrate")
@click.option("--until", type=click.IntRange(2011, 2035), default=None,
              help="Fit years <= UNTIL only; report the later years out of sample and the bands' coverage.")
@click.option("--data", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Your own long CSV (indicator,year,value,unit,source_title,source_url,quote); "
                   "it extends or overrides the shipped data.")
@click.option("--out", type=OUT, default="out/calibration", show_default=True,
              help="Folder for fitted.yaml (the posterior mode), posterior.csv (its draws) and the fit report "
                   "(report.md, params.csv, errors.csv, fit.csv, fit.png). Run with this fit: nxmfg simulate ... "
                   "--params OUT/fitted.yaml")
@click.option("--resume", is_flag=True, default=False, show_default=True,
              help="Go on from the sampler's checkpoint in OUT/checkpoint (left by an interrupted run, or by a "
                   "finished one that did not converge: raise sampler.max_steps in priors.yaml first).")
@click.option("--save", is_flag=True, default=False,
              help="Also ship the fit: calibration/fitted.yaml and posterior.csv, which every run starts from "
                   "(with --until: calibration/out_of_sample/).")
@click.option("--start", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A fit file of this model (a fitted.yaml) whose point is a candidate start of the mode's "
                   "polish, beside the search's mode, the chain's best points and the shipped fit.")
def calibrate_command(until: int | None, data: str | None, out: str, resume: bool, save: bool,
                      start: str | None) -> None:
    """The posterior of calibration/priors.yaml's fitted constants given the record (MCMC); write the fit and
    its report to OUT."""
    from nxmfg.calibration.pipeline import CHECKPOINT
    from nxmfg.model.files import check_writable

    try:
        check_writable(out, "calibrate")   # before the fit, which takes a while
        calibration = nxmfg.calibrate(until=until, data=data, checkpoint=Path(out) / CHECKPOINT, resume=resume,
                                      start=start)
        calibration.write(out)
        saved = calibration.save() if save else []
    except _user_errors() as error:
        raise _user_error(error) from None
    except KeyboardInterrupt:
        raise click.ClickException(f"interrupted; the sampler's checkpoint is in {Path(out) / CHECKPOINT}: "
                                   "rerun with --resume to go on") from None
    click.echo(calibration.in_sample.to_string(index=False, float_format="{:.3g}".format))
    if calibration.out_of_sample is not None:
        click.echo(f"out of sample (after {until}):")
        click.echo(calibration.out_of_sample.to_string(index=False, float_format="{:.3g}".format))
        click.echo("coverage of the later record by the 90 % bands:")
        click.echo(calibration.coverage.to_string(index=False, float_format="{:.2f}".format))
    written = f"; shipped {', '.join(str(p) for p in saved)}" if saved else ""
    click.echo(f"wrote {Path(out) / 'fitted.yaml'}, {Path(out) / 'posterior.csv'} and {Path(out) / 'report.md'}"
               f"{written} in {calibration.outcome.seconds:.0f} s")


@main.command(name="sensitivity")
@click.argument("study_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=OUT, default="out/sensitivity", show_default=True,
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
def sensitivity_command(study_file: str, out: str, scheduler: str | None, resume: bool, method: str,
                        analyse_only: bool, chunk_runs: int) -> None:
    """Sobol' study of STUDY_FILE on the ensemble engine: indices, target odds, charts, summary.md."""
    from nxmfg.api.sensitivity import reanalyse

    try:
        study = (reanalyse(out) if analyse_only else
                 nxmfg.sensitivity_study(study_file, out, method=method, resume=resume, scheduler=scheduler,
                                         chunk_runs=chunk_runs))
    except ValueError as error:
        raise _user_error(error) from None
    except KeyboardInterrupt:
        kept = any((Path(out) / "chunks").glob("chunk_*.npz"))
        click.echo(f"interrupted: finished chunks are kept in {Path(out) / 'chunks'}; rerun with --resume" if kept
                   else "interrupted before any chunk was finished", err=True)
        raise click.exceptions.Exit(130) from None
    unsettled = study.tables.get("unsettled")
    if unsettled is not None and not unsettled.empty:
        worst = unsettled.iloc[0]
        click.echo(f"warning: {len(unsettled)} indices moved by more than 0.05 from N/2 to N (largest: "
                   f"{worst.outcome}/{worst.parameter} {worst.change:.3f}); raise N", err=True)
    click.echo(f"wrote {Path(out) / 'summary.md'}")


@main.command(name="optimize")
@click.argument("study_file", metavar="STUDY.yaml")
@click.option("--out", type=OUT, default="out/optimize", show_default=True,
              help="Folder for the checkpoint, pareto.csv, packages/*.yaml, reachability.csv, the chart, "
                   "summary.md and report.html.")
@click.option("--resume", is_flag=True, default=False, show_default=True,
              help="Continue from the checkpoint in OUT (the generations it holds are not run again).")
@click.option("--scheduler", default=None, show_default=True,
              help="Dask scheduler ADDRESS for the model runs; local worker processes if not given.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the chart and the report (en needs no Chinese font).")
def optimize_command(study_file: str, out: str, resume: bool, scheduler: str | None, lang: str) -> None:
    """Search lever packages of STUDY.yaml for targets met, fiscal cost and robustness (NSGA-II); write the
    Pareto set, each package as a scenario file, reachability per target and summary.md to OUT."""
    from nxmfg.model import plots

    try:
        plots.font_families(lang)           # a missing font must stop us before the search, not after it
        optimization = nxmfg.optimize(study_file, out, resume=resume, scheduler=scheduler)
        optimization.write(out, lang=lang)
    except _user_errors() as error:
        raise _user_error(error) from None
    except KeyboardInterrupt:
        click.echo(f"interrupted: finished generations are kept in {Path(out) / 'checkpoint.npz'}; rerun with "
                   "--resume", err=True)
        raise click.exceptions.Exit(130) from None
    click.echo(optimization.headline)
    table = optimization.reachability
    ahead = table[table["flag"] != "decided by history"]
    click.echo(ahead[["id", "best_p_met", "cheapest_cost_expected", "within_budget_cap", "baseline_p_met",
                      "plan_p_met", "flag"]].to_string(index=False, float_format="{:.3g}".format))
    click.echo(f"wrote {Path(out) / 'summary.md'}, pareto.csv, packages/*.yaml and report.html")


@main.command(name="explore")
@click.option("--port", type=click.IntRange(1, 65535), default=8050, show_default=True,
              help="Port of the local web app.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the default serves this machine only).")
@click.option("--scenario", "scenario_files", multiple=True, type=click.Path(dir_okay=False), show_default=True,
              help="A scenario file to offer for loading (repeatable); shipped scenarios are offered anyway.")
@click.option("--params", type=click.Path(dir_okay=False), default=None, help=PARAMS_HELP)
def explore_command(port: int, host: str, scenario_files: tuple[str, ...], params: str | None) -> None:
    """Serve the scenario explorer: move the levers and see the indicators, their band of states and the
    plans' targets redrawn at once. Open the printed address in a browser; Ctrl-C stops it."""
    from nxmfg.explore import server

    try:
        app = server.prepare(host, port, list(scenario_files), params)
    except _user_errors() as error:
        raise _user_error(error) from None
    click.echo(f"nxmfg explore: open http://{host}:{port}/ in a browser (Ctrl-C stops it)")
    server.serve(app, host, port)
