"""`nxmfg.optimize`: which lever packages reach the targets, at what fiscal cost, and how robustly.

The search lives in the package nxmfg.optimization (not nxmfg.optimize: a subpackage of that name would
replace this function as an attribute of nxmfg the first time it is imported).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nxmfg.api import inputs

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from nxmfg.optimization.pipeline import Outcome, Setup
    from nxmfg.scenarios import Scenario


def optimize(study: Path | str, out: Path | str | None = None, *, resume: bool = False,
             scheduler: str | None = None, progress: bool = True) -> Optimization:
    """Search lever packages of a study file for targets met, fiscal cost and robustness (NSGA-II).

    Parameters
    ----------
    study
        A study file (e.g. optimization/packages_2027.yaml): levers and ranges, targets and weights, how many
        states of the world (calibration/states.py), budget cap, seed, population, generations.
    out
        Folder for the checkpoint (written after every generation) and, when the search ends, every output
        (`Optimization.write`). None: a temporary folder, and nothing is kept unless you `write`.
    resume
        Continue from the checkpoint in `out` (refused if it belongs to another study, model, fit or targets).
    scheduler
        Address of a Dask scheduler for the model runs (each batch of about 2048 runs one task); this
        process if None.
    progress
        Show a progress bar over the generations, with the time left.

    Returns
    -------
    Optimization
        The Pareto set, the reachability of each target, the headline and the search's archive.

    Raises
    ------
    ValueError
        A bad study file (one line naming file and field), an unwritable `out`, or a checkpoint that cannot
        be resumed.
    """
    from nxmfg.optimization import output, pipeline

    setup = prepare(study, scheduler)
    if out is None:
        with tempfile.TemporaryDirectory(prefix="nxmfg-optimize-") as folder:
            return Optimization(pipeline.run(setup, Path(folder), False, progress))
    folder = output.prepare_folder(Path(out), resume)
    return Optimization(pipeline.run(setup, folder, resume, progress))


def prepare(study: Path | str, scheduler: str | None = None) -> Setup:
    """The study file checked and resolved against the shipped fit, with the shipped baseline and plan as the
    references every package is compared with (no model run yet)."""
    from nxmfg.optimization import pipeline

    fit, _ = inputs.fit_and_overrides(None)
    references = {"baseline": inputs.scenario("baseline"), "plan": inputs.scenario("plan")}
    return pipeline.prepare(Path(study), fit, references, scheduler)


@dataclass
class Optimization:
    """A finished search. `outcome` holds every evaluated package and the baseline's and plan's figures."""

    outcome: Outcome

    @property
    def pareto(self) -> pd.DataFrame:
        """One row per Pareto package (index package_001..): lever values, expected costs, expected targets met,
        targets met with the study's odds, central-state figures, P(met) per target (columns p_met:ID)."""
        from nxmfg.optimization import analysis

        return analysis.pareto_table(self.outcome)

    @property
    def reachability(self) -> pd.DataFrame:
        """Per modelled target: best P(met) reached, the cheapest package reaching it, baseline and plan P(met),
        and a flag (unreachable, met in every case, decided by history, lever-dependent, ...)."""
        from nxmfg.optimization import analysis

        return analysis.reachability(self.outcome)

    @property
    def cheapest(self) -> pd.DataFrame:
        """For N = 1, 2, ..: the cheapest Pareto package meeting >= N targets with the study's odds."""
        from nxmfg.optimization import analysis

        return analysis.cheapest_by_count(self.pareto, self.outcome.setup.study.met_odds)

    @property
    def headline(self) -> str:
        """The summary's headline: the cheapest package meeting >= N targets with the study's odds, its cost, and
        how it differs from the plan."""
        from nxmfg.optimization import summary

        return summary.headline(self.outcome, self.pareto)

    @property
    def metadata(self) -> dict:
        from nxmfg.optimization import output

        return output.metadata(self.outcome, len(self.pareto))

    def package(self, name: str) -> Scenario:
        """A Pareto package (`package_001`, ...) as a scenario: `nxmfg.run(optimization.package(name))`."""
        from nxmfg.optimization import output

        row = int(self.pareto.at[name, "archive_row"])
        return output.package_scenario(self.outcome, self.outcome.archive["decoded"][row], name)

    def plot(self, lang: str = "en") -> Figure:
        """The trade-off chart: expected cost against expected targets met, plan and baseline marked."""
        from nxmfg.optimization import output

        return output.tradeoff_figure(self.outcome, self.pareto, lang)

    def write(self, out: Path | str, lang: str = "zh") -> Path:
        """Write pareto.csv, packages/*.yaml, reachability.csv, the chart, summary.md, report.html (the baseline,
        the plan and the headline package, with the reachability table) and the rest into `out` (see
        nxmfg.optimization.output); the files move into `out` together at the end. Returns `out`."""
        from nxmfg.api.comparison import compare
        from nxmfg.decision import studies
        from nxmfg.model import plots
        from nxmfg.model.files import check_writable, staged_output
        from nxmfg.optimization import output
        from nxmfg.optimization.checkpoint import NAME as CHECKPOINT

        out = check_writable(out, "optimize")
        plots.font_families(lang)        # no CJK font for zh: fail before writing anything
        compared, reachability = output.report_inputs(self.outcome)
        comparison = compare(compared)   # the report's runs, before anything is written
        with staged_output(out, "optimize", keep=(CHECKPOINT,)) as stage:   # moved into out together
            output.write(self.outcome, stage, lang)
            study = studies.from_outcome(self.outcome, stage / "cost_vs_targets.png")
            comparison.write_into(stage, lang=lang, reachability=reachability, study=study)
            output.finish(self.outcome, stage)
        return out
