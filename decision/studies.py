"""The studies the decision page reads: an optimisation's packages (which package reaches which target, at
what cost) and a Sobol' study's split of each verdict's variance between levers and assumed constants.

Each is read from a finished run (`nxmfg.optimize`'s outcome) or from a results folder (the shipped ones in
docs/studies/). A study made on another model version is not the current model's answer: `current` says
so, and the page leaves its numbers out rather than mixing two models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd
import yaml

SHIPPED = Path(__file__).resolve().parents[1] / "docs" / "studies"
PACKAGES, SOBOL = SHIPPED / "packages_2027", SHIPPED / "levers_2027"
ASSUMPTIONS_DECIDE = 0.5   # issue 21: a verdict with more than half its variance from assumed constants


@dataclass(frozen=True)
class PackageStudy:
    """An optimisation's answers, by target and by package.

    reach: index target id; best_p_met, best_value, flag, robust_package, robust_cost_expected, robust_targets,
    cheapest_package, cheapest_cost_expected, baseline_p_met, plan_p_met. packages: index package name;
    cost_expected, cost_total_expected, robust (targets met with the study's odds), at_bounds, lever levels.
    """

    name: str
    model_version: str
    met_odds: float
    window: str
    years: int
    basis: str
    states: int
    evaluated: int
    headline: str | None
    reach: pd.DataFrame
    packages: pd.DataFrame
    levers: list[str]
    references: dict[str, dict[str, float]]
    fit: str | None = None
    chart: Path | None = field(default=None, compare=False)

    @cached_property
    def reach_rows(self) -> dict[str, dict]:
        """`reach` as {target id: row}: a decision page reads every target's row at each lever move, and a
        DataFrame's cell lookup costs more than the page's arithmetic."""
        return self.reach.to_dict("index")

    @cached_property
    def package_rows(self) -> dict[str, dict]:
        """`packages` as {package name: row} (as `reach_rows`)."""
        return self.packages.to_dict("index")

    def current(self, fit: dict | None = None) -> bool:
        """Made on the model this process runs (and on `fit`, a fit's record, where given)."""
        from nxmfg import model

        same_fit = fit is None or fit.get("sha256") == self.fit
        return self.model_version == model.version() and same_fit


def package_study(metadata: dict, reachability: pd.DataFrame, packages: pd.DataFrame,
                  chart: Path | None = None) -> PackageStudy:
    """A PackageStudy from an optimisation's metadata.yaml, reachability.csv and packages.csv (as written)."""
    study = metadata["study"]
    odds = float(study["met_odds"])
    robust = f"targets_met_with_{odds:.0%}_odds"
    table = packages.rename(columns={robust: "robust"})
    table["at_bounds"] = table["at_bounds"].fillna("").astype(str)
    states = metadata["states"]     # the states' record (calibration/states.py); a count in studies made before
    count = int(states["count"] if isinstance(states, dict) else states)
    return PackageStudy(study["name"], str(metadata["model_version"]), odds, metadata["cost"]["window"],
                        int(metadata["cost"]["years"]), metadata["cost"]["basis"], count,
                        int(metadata["packages_evaluated"]), metadata.get("headline_package"),
                        reachability.set_index("id"), table,
                        list(study["levers"]), metadata.get("references") or {},
                        (metadata.get("fit") or {}).get("sha256"), chart)


def from_outcome(outcome, chart: Path | None = None) -> PackageStudy:
    """A finished search's PackageStudy (`nxmfg.optimize(...).outcome`)."""
    from nxmfg.optimization import analysis, output

    found = output.tables(outcome)
    meta = output.metadata(outcome, len(analysis.pareto_indices(outcome.archive)))
    return package_study(meta, found["reachability"], found["packages"], chart)


def from_folder(folder: Path = PACKAGES) -> PackageStudy | None:
    """The PackageStudy an optimisation wrote into `folder`, or None where it holds no finished one."""
    folder = Path(folder)
    names = ("metadata.yaml", "reachability.csv", "packages.csv")
    if not all((folder / name).is_file() for name in names):
        return None
    metadata = yaml.safe_load((folder / "metadata.yaml").read_text(encoding="utf-8"))
    chart = folder / "cost_vs_targets.png"
    return package_study(metadata, pd.read_csv(folder / "reachability.csv"),
                         pd.read_csv(folder / "packages.csv", index_col=0), chart if chart.is_file() else None)


@dataclass(frozen=True)
class AssumptionStudy:
    """A Sobol' study over levers and assumed constants: `share[target id]`, the first-order indices of
    the assumed constants summed. That sum is a lower bound on the share of the verdict's variance the
    assumptions explain alone (first-order indices of a group add up to at most its closed index)."""

    name: str
    model_version: str
    share: dict[str, float]

    def current(self) -> bool:
        from nxmfg import model

        return self.model_version == model.version()


def assumption_study(folder: Path = SOBOL) -> AssumptionStudy | None:
    """The AssumptionStudy of a Sobol' study's folder (metadata.json, indices.csv), None without one or
    without assumed constants."""
    folder = Path(folder)
    if not (folder / "metadata.json").is_file() or not (folder / "indices.csv").is_file():
        return None
    metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    assumed = list(metadata["study"].get("uncertainties") or {})
    if not assumed:
        return None
    indices = pd.read_csv(folder / "indices.csv")
    indices = indices[indices["outcome"].str.startswith("target:") & indices["parameter"].isin(assumed)]
    share = indices.groupby("outcome")["S1"].sum()
    return AssumptionStudy(metadata["study"]["name"], str(metadata.get("model_version", "")),
                           {outcome.removeprefix("target:"): float(value) for outcome, value in share.items()})
