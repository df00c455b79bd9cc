"""`nxmfg.calibrate`: fit the free constants to the historical record; write or save on request."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from nxmfg.calibration.fits import Fit
    from nxmfg.calibration.pipeline import Outcome


def calibrate(until: int | None = None, data: Path | str | None = None, *, progress: bool = True) -> Calibration:
    """Fit calibration/free_parameters.yaml to the record (differential evolution, least-squares polish).

    Parameters
    ----------
    until
        Fit the years <= `until` only; the later years are then an out-of-sample test.
    data
        Your own long CSV (indicator, year, value, unit, source_title, source_url, quote); it extends the
        shipped record, and a row of it replaces the shipped row of the same indicator and year.
    progress
        Show the search's progress bar.

    Returns
    -------
    Calibration
        The fit, its parameter intervals and fit statistics. Nothing is written: `write(dir)` writes
        the fit and its report, `save()` replaces the shipped fit.

    Raises
    ------
    ValueError
        A data or free-parameter file the fit cannot use (DataError; the message names file, line, field).
    """
    from nxmfg.calibration import pipeline

    return Calibration(pipeline.run(until, Path(data) if data else None, progress))


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
        """Per parameter: estimate, .mdl value, 95 % interval, bounds and whether the data identify it."""
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
    def metadata(self) -> dict:
        """Model version, data files and their hash, date, until, seed, cost and search summary."""
        return dict(self.outcome.header)

    def write(self, out: Path | str) -> Path:
        """Write fitted.yaml, ensemble.csv and the fit report (report.md, fit.csv, params.csv, residuals.csv,
        fit.png) into `out`, each atomically. `nxmfg simulate SCENARIO --params OUT/fitted.yaml` (or
        `nxmfg.run(..., params=OUT/fitted.yaml)`) then runs with this fit."""
        from nxmfg.calibration import pipeline

        pipeline.write(self.outcome, Path(out))
        return Path(out)

    def save(self) -> list[Path]:
        """Replace the shipped fit (calibration/fitted.yaml and ensemble.csv), which every run starts from.

        Refused (ValueError) for an out-of-sample fit (`until`)."""
        from nxmfg.calibration import pipeline

        return pipeline.save(self.outcome)
