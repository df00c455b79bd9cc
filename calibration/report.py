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


def report_markdown(header: dict, params: pd.DataFrame, in_sample: pd.DataFrame,
                    out_of_sample: pd.DataFrame | None, targets: pd.DataFrame, notes: list[str]) -> str:
    """The human-readable report; the tables are the CSVs written next to it."""
    lines = ["# Calibration report", "", *[f"- {key}: {value}" for key, value in header.items()], "",
             "## Parameters (params.csv)", "",
             "95 % interval: sampled profile likelihood (chi2(1) likelihood-ratio threshold, Gaussian "
             "residuals of unknown variance): the best cost at each value over every parameter set that the "
             "search, the polish and an exploration along each parameter's linearised profile path "
             "evaluated; an inner approximation of the true profile interval.", "",
             markdown_table(params), "## Fit in sample (fit.csv)", "",
             "MAPE in %; R² = 1 − SSres/SStot; Theil's U with U^M (bias), U^S (variance), U^C (covariance), "
             "Sterman (1984). Charts: fit.png (dots = data, line = fitted model, band = 5–95 % of runs in "
             "the joint 95 % likelihood region); every (indicator, year) pair: residuals.csv.", "",
             markdown_table(in_sample)]
    missed = missed_goal(in_sample)
    lines += ["", f"Indicators with >= {MIN_POINTS_FOR_GOAL} points above {MAPE_GOAL_PCT:g} % MAPE: "
              + (", ".join(missed["indicator"]) if len(missed) else "none") + ". (MAPE of a rate that "
              "crosses or nears zero, such as a change of energy intensity, is not meaningful: read its RMSE "
              "in percentage points.)"]
    if out_of_sample is not None:
        lines += ["", "## Out of sample (fit_out_of_sample.csv)", "", markdown_table(out_of_sample)]
    scales = targets.groupby("indicator")[["scale", "weight"]].first().reset_index()
    lines += ["", "## Residual scales and weights", "",
              "Residual = (model − data) / scale, through the soft-L1 loss (quadratic for small misses, linear "
              "for large ones), × weight. A level's scale is its tolerance (5 %) of the mean |observation|, a "
              "rate's (growth, change, pp) a tolerance in percentage points; each indicator weighs "
              "1/sqrt(its observations), so every series counts alike (indicator_map.yaml).", "",
              markdown_table(scales), "## Notes", "", *[f"- {note}" for note in notes or ["none"]]]
    return "\n".join(lines) + "\n"
