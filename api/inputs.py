"""What a run is made of, resolved and checked once: the scenario, the fit and overrides, the targets.

Every user mistake becomes a ScenarioError (a ValueError) whose one-line message names the file (or
argument) and the field, before any model run.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nxmfg.calibration.fits import Fit
    from nxmfg.scenarios import Scenario, Target

SHIPPED_SCENARIOS = Path(__file__).parents[1] / "scenarios"
Params = Mapping[str, float] | str | Path | None
Targets = str | Path | Sequence["Target"] | None


def shipped_scenarios() -> list[str]:
    """Names of the scenarios that ship with the model (scenarios/*.yaml but the targets)."""
    return sorted(p.stem for p in SHIPPED_SCENARIOS.glob("*.yaml") if p.stem != "targets")


def scenario(scenario_or_path: Scenario | str | Path) -> Scenario:
    """A Scenario: given as one, as a scenario file, or as the name of a shipped scenario ("plan")."""
    from nxmfg import scenarios
    from nxmfg.scenarios.validation import ScenarioError

    if isinstance(scenario_or_path, scenarios.Scenario):
        return scenario_or_path
    path = Path(scenario_or_path)
    if path.exists():   # a folder, a pipe or a device too: the loader says what is wrong with it
        return scenarios.load(path)
    name = str(scenario_or_path)
    if name in shipped_scenarios():
        return scenarios.load(SHIPPED_SCENARIOS / f"{name}.yaml")
    hint = difflib.get_close_matches(name, shipped_scenarios(), n=1)
    raise ScenarioError(name, "", "no such scenario file, nor a shipped scenario"
                        + (f" (did you mean {hint[0]}?)" if hint else "")
                        + f"; shipped: {', '.join(shipped_scenarios())}")


def fit_and_overrides(params: Params) -> tuple[Fit, dict[str, float]]:
    """The fit a run starts from, and constants set on top of it for the whole run.

    params: None (the shipped fit), a fit file written by `nxmfg calibrate` (replaces the shipped
    fit), or a mapping {constant: value} (applied on top of the shipped fit).
    """
    from nxmfg import model
    from nxmfg.calibration.fits import check_values, read_fit, shipped_fit
    from nxmfg.scenarios.validation import ScenarioError

    if params is None:
        return shipped_fit(), {}
    if isinstance(params, str | Path):
        if not Path(params).is_file():
            raise ScenarioError(params, "", "no such fit file (give a fitted.yaml written by `nxmfg calibrate`)")
        return read_fit(params, model.constants()), {}
    if isinstance(params, Mapping):
        return shipped_fit(), check_values(dict(params), model.constants(), "params", prefix="")
    raise ScenarioError("params", "", f"expected a fit file or a mapping of constants, got {type(params).__name__}")


@dataclass(frozen=True)
class TargetSet:
    """The targets runs are judged on, and the files they came from."""

    rows: list[Target]
    shipped: Path | None
    own: Path | None
    mode: str

    def record(self) -> dict:
        """What an output records about its targets: files (with hashes), mode, and how many."""
        from nxmfg.calibration.fits import sha256

        def file(path: Path | None) -> dict | None:
            return None if path is None else {"path": str(path), "sha256": sha256(path)}
        return {"shipped": file(self.shipped), "own": file(self.own), "mode": self.mode, "count": len(self.rows)}


def targets(given: Targets = None, mode: str = "extend") -> TargetSet:
    """Resolve `targets=`: None (the shipped targets), a targets file (extending or replacing the shipped
    ones, see scenarios.load_own_targets), or Target rows used as they are."""
    from nxmfg import scenarios
    from nxmfg.model.indicators import INDICATORS
    from nxmfg.scenarios.validation import ScenarioError

    if given is None:
        return TargetSet(scenarios.load_targets(), scenarios.TARGETS, None, "shipped")
    if isinstance(given, str | Path):
        if not Path(given).is_file():
            raise ScenarioError(given, "", "no such targets file")
        rows = scenarios.load_own_targets(given, mode)
        scenarios.check_targets(rows, INDICATORS, _constant_names(), given)  # shipped rows always pass
        if mode == "replace" and not any(row.kind == "modelled" for row in rows):
            raise ScenarioError(given, "", "no row of kind `modelled`: with --targets-mode replace no target "
                                "would be judged; add one, or use --targets-mode extend")
        return TargetSet(rows, scenarios.TARGETS if mode == "extend" else None, Path(given), mode)
    rows = list(given)
    scenarios.check_targets(rows, INDICATORS, _constant_names(), "targets")
    return TargetSet(rows, None, None, "given in Python")


def history():
    """The recorded history (calibration.observations(), with the differences of recorded rates that
    targets read): the charts' dots, the actual outcomes, the record of later targets' observed years.
    Read and checked once per process (0.35 s a time); each caller gets its own copy to change."""
    return _history().copy()


@cache
def _history():
    from nxmfg.calibration import observations

    return observations(derived=True)


def _constant_names() -> list[str]:
    from nxmfg import model

    return list(model.constants().index)
