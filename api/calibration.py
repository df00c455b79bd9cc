"""`nxmfg.calibrate`: the posterior of the fitted constants given the historical record; write or save on request."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from nxmfg.calibration.fits import Fit
    from nxmfg.calibration.pipeline import Outcome


def calibrate(until: int | None = None, data: Path | str | None = None, *, progress: bool = True,
              checkpoint: Path | str | None = None, resume: bool = False,
              start: Path | str | None = None) -> Calibration:
    """The posterior of calibration/priors.yaml's fitted constants given the record (emcee, from the mode).

    Parameters
    ----------
    until
        Fit the years <= `until` only; the later years are then an out-of-sample test.
    data
        Your own long CSV (indicator, year, value, unit, source_title, source_url, quote); it extends the
        shipped record, and a row of it replaces the shipped row of the same indicator and year.
    progress
        Show the search's and the sampler's progress bars (with an ETA).
    checkpoint
        A folder for the sampler's checkpoint (arrays and JSON), written every `check_every` steps and on
        Ctrl-C; None keeps none.
    resume
        Go on from `checkpoint` if it holds a chain of the same problem (model, data, priors, settings);
        otherwise it is cleared and the run starts afresh.
    start
        A fit file of this model (as `nxmfg calibrate` writes) whose point is a candidate start of the mode's
        polish, beside the search's mode, the chain's best points and the shipped fit (calibration/fitted.yaml,
        or the shipped fit to 2020 for `until=2020`, as far as it holds the fitted constants). The fit's header
        names each file and its hash.

    Returns
    -------
    Calibration
        The posterior mode, draws, diagnostics and fit statistics (and, with `until`, the coverage of the
        later record). Nothing is written but the checkpoint: `write(dir)` writes the fit and its report,
        `save()` ships it.

    Raises
    ------
    ValueError
        A data or free-parameter file the fit cannot use (DataError; the message names file, line, field).
    """
    from nxmfg.calibration import pipeline

    return Calibration(pipeline.run(until, Path(data) if data else None, progress,
                                    Path(checkpoint) if checkpoint else None, resume, Path(start) if start else None))


@dataclass
class Calibration:
    """A finished fit. `outcome` holds everything the fit computed (calibration.pipeline.Outcome)."""

    outcome: Outcome

    @property
    def fit(self) -> Fit:
        """The fitted constants, as `nxmfg.run(params=...)` takes them once written (or as a mapping)."""
        from nxmfg.calibration.fits import Fit

        return Fit(dict(self.outcome.values))

    @property
    def parameters(self) -> pd.DataFrame:
        """Per fitted constant: prior, .mdl value, mode, posterior median and 90 % interval, identification and
        convergence diagnostics (tau, R-hat, ESS)."""
        return self.outcome.params

    @property
    def in_sample(self) -> pd.DataFrame:
        """Fit statistics (n, MAPE, Theil's U components) per indicator over the fitted years."""
        return self.outcome.in_sample

    @property
    def out_of_sample(self) -> pd.DataFrame | None:
        """Fit statistics over the years after `until` (None when all years were fitted)."""
        return self.outcome.out_of_sample

    @property
    def posterior(self) -> pd.DataFrame:
        """The retained posterior draws, one row each (what posterior.csv holds)."""
        import pandas as pd

        return pd.DataFrame(self.outcome.draws, columns=list(self.outcome.values))

    @property
    def coverage(self) -> pd.DataFrame | None:
        """With `until`: per series and overall, the share of later observations inside the 90 % bands."""
        return self.outcome.coverage

    @property
    def metadata(self) -> dict:
        """Model version, data and priors hashes, date, until, seed, and the sampler's settings and outcome."""
        return dict(self.outcome.header)

    def write(self, out: Path | str) -> Path:
        """Write fitted.yaml, posterior.csv and the fit report (report.md, params.csv, errors.csv, fit.csv,
        residuals.csv, fit.png; with `until` also fit_out_of_sample.csv, coverage.csv, coverage_by_series.csv)
        into `out`, each atomically. `nxmfg simulate SCENARIO --params OUT/fitted.yaml` (or
        `nxmfg.run(..., params=OUT/fitted.yaml)`) then runs with this fit."""
        from nxmfg.calibration import pipeline

        pipeline.write(self.outcome, Path(out))
        return Path(out)

    def save(self) -> list[Path]:
        """Ship the fit: calibration/fitted.yaml and posterior.csv, which every run starts from; with `until`,
        calibration/out_of_sample/ (fitted_until_YEAR.yaml, posterior.csv beside it and its tables)."""
        from nxmfg.calibration import pipeline

        return pipeline.save(self.outcome)
