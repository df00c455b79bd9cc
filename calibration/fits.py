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


class FitError(ScenarioError):
    """A fit file or parameter mapping the model cannot use; str() names the file and the field."""


@dataclass(frozen=True)
class Fit:
    """Calibrated constants, and the file they came from (None: given in Python, or no fit at all);
    `sets`: its parameter sets, where they were read and checked with the fit (a user's fit file)."""

    values: dict[str, float] = field(default_factory=dict)
    path: Path | None = None
    sha256: str | None = None
    sets: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    @property
    def ensemble(self) -> Path | None:
        """The posterior draws written with this fit (posterior.csv beside it), if there are any."""
        if self.path is None or not self.path.with_name(POSTERIOR_NAME).exists():
            return None
        return self.path.with_name(POSTERIOR_NAME)

    def parameter_sets(self) -> pd.DataFrame | None:
        """The fit's posterior draws (one row each, in a random order: the first k rows are a random subset of
        k), or None; checked as `read_parameter_sets` does. The estimate is fitted.yaml (`values`)."""
        if self.sets is not None:
            return self.sets.copy()
        if self.ensemble is None:
            return None
        from nxmfg import model

        return read_parameter_sets(self.ensemble, model.constants())

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
    data = read_yaml(path)
    if data is None or data == {}:
        raise FitError(path, "", "no constant in it (empty or only comments); a fit file maps the calibrated "
                       "constants to values, as `nxmfg calibrate` writes (its fitted.yaml)")
    if not isinstance(data, dict):
        raise FitError(path, "", "expected a mapping of model constants to values, as `nxmfg calibrate` writes")
    values = check_values(data, constants, path)
    sets = path.with_name(POSTERIOR_NAME)
    return Fit(values, path, sha256(path), read_parameter_sets(sets, constants) if sets.exists() else None)


def read_parameter_sets(path: Path, constants: pd.DataFrame) -> pd.DataFrame:
    """A fit's posterior.csv: a regular UTF-8 file within its size limit, a header of model constants and
    at least one row, every value a finite number inside its constant's [min,max]. FitError names the
    file, the row and the column."""
    import io

    from nxmfg.model.input_files import InputFileError, read_text

    try:
        text = read_text(path, "parameter sets")
    except InputFileError as error:
        raise FitError(path, "", error.problem) from None
    try:
        table = pd.read_csv(io.StringIO(text), comment="#", dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as error:
        raise FitError(path, "", f"not a CSV table of parameter sets ({' '.join(str(error).split())})") from None
    if table.empty:
        raise FitError(path, "", "no parameter set in it; `nxmfg calibrate` writes one row per set")
    sets = {}
    for column in table.columns:
        numbers = pd.to_numeric(table[column].str.strip(), errors="coerce").astype(float)
        for row, (text_value, value) in enumerate(zip(table[column], numbers, strict=True), start=1):
            if not math.isfinite(value):
                raise FitError(path, f"row {row}, column {column}", f"expected a finite number, got {text_value!r}")
        sets[column] = numbers
    frame = pd.DataFrame(sets)
    for row, values in enumerate(frame.to_dict("records"), start=1):
        check_values(values, constants, path, prefix=f"row {row}, column ")
    return frame


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
