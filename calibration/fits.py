"""Fits: the calibrated constants a run starts from, read from a fitted.yaml, with where they came from.

`nxmfg calibrate` writes a fit as a flat YAML mapping (name: value: the posterior mode) with a comment header,
and the draws of its posterior as posterior.csv beside it. The shipped fit is calibration/fitted.yaml;
`--params FIT.yaml` (or `params=` in the API) runs with another one.
"""

import difflib
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from nxmfg.scenarios.validation import ScenarioError, read_yaml

SHIPPED = Path(__file__).with_name("fitted.yaml")
POSTERIOR_NAME = "posterior.csv"   # beside each fit: draws of its posterior (MCMC), in a random order
BAND_SETS = 60                     # parameter sets of a band by default (the explorer's, the report's)


class FitError(ScenarioError):
    """A fit file or parameter mapping the model cannot use; str() names the file and the field."""


@dataclass(frozen=True)
class Fit:
    """Calibrated constants, and the file they came from (None: given in Python, or no fit at all)."""

    values: dict[str, float] = field(default_factory=dict)
    path: Path | None = None
    sha256: str | None = None

    @property
    def ensemble(self) -> Path | None:
        """The posterior draws written with this fit (posterior.csv beside it), if there are any."""
        if self.path is None or not self.path.with_name(POSTERIOR_NAME).exists():
            return None
        return self.path.with_name(POSTERIOR_NAME)

    def posterior(self) -> pd.DataFrame | None:
        """Every posterior draw of the fitted constants (one row each, in a random order), or None."""
        return None if self.ensemble is None else pd.read_csv(self.ensemble, comment="#")

    def parameter_sets(self, count: int | None = BAND_SETS) -> pd.DataFrame | None:
        """The fit's estimate (fitted.yaml) then the first count - 1 posterior draws (a random subset; all with
        count=None), or None: a band's parameter sets, the estimate first as the callers expect."""
        draws = self.posterior()
        if draws is None:
            return None
        draws = draws if count is None else draws.iloc[:max(count - 1, 0)]
        estimate = pd.DataFrame([{name: self.values.get(name, float("nan")) for name in draws.columns}])
        return pd.concat([estimate, draws], ignore_index=True)

    def record(self) -> dict:
        """What an output records about the fit it was run with."""
        if self.path is None:
            return {"path": None, "sha256": None,
                    "note": "the .mdl's own values" if not self.values else "given in Python"}
        return {"path": str(self.path), "sha256": self.sha256}


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def read_fit(path: Path | str, constants: pd.DataFrame) -> Fit:
    """Read a fit file and check it against the model's constants (names, numbers, [min,max] ranges)."""
    path = Path(path)
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise FitError(path, "", "expected a mapping of model constants to values, as `nxmfg calibrate` writes")
    return Fit(check_values(data, constants, path), path, sha256(path))


def shipped_fit() -> Fit:
    """calibration/fitted.yaml, or no fit (the .mdl's own values) where it does not exist yet."""
    if not SHIPPED.exists():
        return Fit()
    data = read_yaml(SHIPPED) or {}
    return Fit({name: float(value) for name, value in data.items()}, SHIPPED, sha256(SHIPPED))


def check_values(values: dict, constants: pd.DataFrame, source: Path | str, prefix: str = "") -> dict[str, float]:
    """{name: number} with every name a model constant and every number finite and inside its range."""
    checked = {}
    for name, value in values.items():
        where = f"{prefix}{name}"
        if name not in constants.index:
            hint = difflib.get_close_matches(str(name), list(constants.index), n=1)
            raise FitError(source, where, "not a model constant" + (f" (did you mean {hint[0]}?)" if hint else "")
                           + "; see model.constants()")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise FitError(source, where, f"expected a finite number, got {value!r}")
        low, high = constants.at[name, "low"], constants.at[name, "high"]
        if (pd.notna(low) and value < low) or (pd.notna(high) and value > high):
            raise FitError(source, where, f"{value:g} is outside the range [{low:g}, {high:g}]")
        checked[name] = float(value)
    return checked
