"""The fit report: report.md, fit.csv (+ fit_out_of_sample.csv), params.csv and charts."""

import warnings
from pathlib import Path

import pandas as pd
import xarray as xr

from nxmfg.model import files

MAPE_GOAL_PCT = 10.0
MIN_POINTS_FOR_GOAL = 3


def write_text(text: str, path: Path) -> None:
    """Atomic write (model.files): a temporary file beside `path`, then os.replace."""
    files.write_text(path, text)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    write_text(frame.to_csv(index=False, lineterminator="\n"), path)


def markdown_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub table without the tabulate dependency."""
    def cell(value) -> str:
        if isinstance(value, float):
            return "" if pd.isna(value) else f"{value:.{digits}g}"
        return str(value)
    header = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns) + "\n"
    return header + "".join("| " + " | ".join(cell(v) for v in row) + " |\n"
                            for row in frame.itertuples(index=False))


def missed_goal(table: pd.DataFrame) -> pd.DataFrame:
    """Indicators with >= 3 points whose MAPE exceeds 10 % (the issue's in-sample goal)."""
    return table[(table["n"] >= MIN_POINTS_FOR_GOAL) & ~(table["mape_pct"] <= MAPE_GOAL_PCT)]


def draw_charts(best: xr.Dataset, band: xr.Dataset, history: pd.DataFrame, until: int | None,
                path: Path) -> None:
    """Model (fitted) against data for every observed indicator, with the 5-95 % band of the runs in the
    likelihood region."""
    import matplotlib.pyplot as plt

    from nxmfg.model.plots import plot_headlines

    names = sorted(set(history["indicator"]) & set(best.data_vars))
    with warnings.catch_warnings():   # growth rates are NaN in the first year for every run of the band
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
        figure = plot_headlines({"fitted": best}, names=names, history=history, lang="en", bands=band,
                                ncols=3)
    if until is not None:
        for ax in figure.axes:
            if ax.get_visible():
                ax.axvline(until + 0.5, color="grey", linestyle=":", linewidth=1)
    with files.atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=110)
    plt.close(figure)


def report_markdown(outcome) -> str:
    """The human-readable report of a calibration.pipeline.Outcome; its tables are the CSVs beside it."""
    diagnostics = outcome.params
    lines = ["# Calibration report", "", *[f"- {key}: {value}" for key, value in outcome.header.items()], "",
             "## Convergence", "", convergence_text(outcome), "",
             "## Parameters (params.csv)", "",
             "Prior as in calibration/priors.yaml; mode = fitted.yaml; median and 5-95 % of the posterior draws "
             "(posterior.csv). sd_ratio: posterior sd over prior sd (above 0.9: the record says little about it). "
             "tau: integrated autocorrelation time [steps] (emcee); r_hat: rank-normalised split R-hat; ess_bulk, "
             "ess_tail: effective sample sizes (ArviZ, walkers as chains).", "",
             markdown_table(diagnostics), "## Error model (errors.csv)", "",
             "Each series misses as an AR(1) of unknown sd (calibration/likelihood.py): relatively for a level or "
             "share, in pp for a rate. prior_scale: the prior mean of its sd (priors.yaml `errors`, with the "
             "reason); posterior_sd, posterior_rho: posterior means given each draw's misses, median over draws. "
             "An anchor is a series of one observation: it weighs as one point of unknown scale.", "",
             markdown_table(outcome.errors),
             "Anchors: " + (", ".join(outcome.errors.loc[outcome.errors["anchor"], "indicator"]) or "none") + ".",
             "", "## Reality checks", "", reality_text(outcome),
             "", "## Assumed constants the record would see (assumed.csv)", "", assumed_text(outcome), "",
             "## Fit in sample (fit.csv)", "",
             "At the mode. MAPE in %; R² = 1 − SSres/SStot; Theil's U with U^M (bias), U^S (variance), U^C "
             "(covariance), Sterman (1984). Charts: fit.png (dots = data, line = the mode, band = 5–95 % of the "
             "posterior draws); every (indicator, year) pair: residuals.csv.", "",
             markdown_table(outcome.in_sample)]
    missed = missed_goal(outcome.in_sample)
    lines += ["", f"Indicators with >= {MIN_POINTS_FOR_GOAL} points above {MAPE_GOAL_PCT:g} % MAPE: "
              + (", ".join(missed["indicator"]) if len(missed) else "none") + ". (MAPE of a rate that "
              "crosses or nears zero, such as a change of energy intensity, is not meaningful: read its RMSE "
              "in percentage points.)"]
    if outcome.out_of_sample is not None:
        lines += ["", "## Out of sample (fit_out_of_sample.csv)", "", markdown_table(outcome.out_of_sample)]
    if outcome.coverage is not None:
        lines += ["", "## Coverage of the later record (coverage.csv, coverage_by_series.csv)", "",
                  coverage_text(outcome), "", markdown_table(outcome.coverage)]
    lines += ["", "## Notes", "", *[f"- {note}" for note in outcome.setup.notes or ["none"]]]
    return "\n".join(lines) + "\n"


def reality_text(outcome) -> str:
    """The prior on the long run (priors.yaml reality_checks): each check and the share of draws it keeps."""
    if outcome.reality.empty:
        return "None (priors.yaml has no reality_checks): every pooled draw is kept."
    return ("Prior knowledge of the baseline's long run (calibration/reality.py): a set whose run leaves a range "
            "has prior density 0. pass_pct: the share of the chain's pooled draws (after burn-in and thinning) "
            "inside it; posterior.csv keeps the draws inside all of them, and the mode passes them.\n\n"
            + markdown_table(outcome.reality))


def convergence_text(outcome) -> str:
    p, chain = outcome.params, outcome.chain
    verdict = ("converged: the chain is at least {n} autocorrelation times long and the estimate is steady"
               if chain.converged else "NOT converged within the step budget: read the intervals as indicative")
    return (f"{chain.positions.shape[1]} walkers x {chain.steps} steps; acceptance {chain.acceptance:.2f}; "
            f"burn-in {outcome.header['burn_in']} steps, thinning {outcome.header['thinning']}; "
            f"{len(outcome.draws)} draws retained. R-hat {p['r_hat'].min():.3f}-{p['r_hat'].max():.3f}; "
            f"bulk ESS {p['ess_bulk'].min():.0f}-{p['ess_bulk'].max():.0f}; tail ESS "
            f"{p['ess_tail'].min():.0f}-{p['ess_tail'].max():.0f}; autocorrelation time "
            f"{p['tau'].min():.0f}-{p['tau'].max():.0f} steps. "
            + verdict.format(n=outcome.setup.priors.sampler["converged_taus"]) + ".")


def assumed_text(outcome) -> str:
    from nxmfg.calibration.summaries import SEEN

    seen = outcome.assumed[outcome.assumed["seen_by_record"]]
    listed = ", ".join(f"{r.constant} ({max(r.drop_at_q05, r.drop_at_q95):.0f})" for r in seen.itertuples())
    return (f"Each of the {len(outcome.assumed)} assumed constants moved alone to its prior's 5 % and 95 % "
            f"quantiles, the fitted ones at the mode: the drop of the log likelihood. Above {SEEN:g} (strong "
            "evidence, Kass and Raftery 1995) the record tells the value from the .mdl's, so the constant is a "
            "candidate for `role: fitted`: held at its .mdl value in the fit and drawn from its prior in the "
            f"states, it widens the bands beyond what the record allows. Seen: {listed or 'none'}.")


def coverage_text(outcome) -> str:
    from nxmfg.calibration import coverage

    states = outcome.held.attrs.get("states", "its states of the world")
    return (f"The fit to {outcome.until}, over {states} (calibration/states.py), run from 2010 without the record; "
            "the predictive band is the model plus each series' AR(1) miss, carried on from "
            f"{outcome.until} (calibration/coverage.py): " + coverage.summary(outcome.held))
