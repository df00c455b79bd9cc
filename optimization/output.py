"""Every file an optimisation writes, in one place.

Folder layout (the results are staged and moved in together at the end, model.files.staged_output, so an
interrupted run leaves the previous results whole; only the checkpoint is written in place, atomically):
  checkpoint.npz        the search's state after the last finished generation (for --resume)
  pareto.csv            one row per Pareto package: lever values, costs, targets met, P(met) per target
  pareto_central.csv    per package and target, the central run's value, margin, met (`nxmfg simulate`'s figures)
  packages/*.yaml       every Pareto package (and the cheapest package reaching each target) as a scenario file
  reachability.csv      per modelled target: best P(met), the cheapest package reaching it, baseline, plan, the
                        best value any package reaches (central run), flag
  archive.csv           every distinct package evaluated, with its figures
  states.csv            the states of the world: the fit's row, the assumed constants, the outlook draws
  cost_vs_targets.png   expected cost against expected targets met, plan and baseline marked
  summary.md            the headline in plain words, reachability, what was run (summary.zh.md: in Chinese)
  report.html, charts/  the planner's report: baseline, plan and the headline package, reachability included
  metadata.yaml         model version, fit, study, fingerprint, sizes, timing
`write` writes all but the report (api/optimization.py writes it through nxmfg.compare) and `finish` the
metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml

from nxmfg import scenarios
from nxmfg.model.files import atomic_path, check_writable, remove_stale, write_text
from nxmfg.scenarios import Scenario
from nxmfg.scenarios.descriptions import package_title as label

from . import analysis, chart
from .checkpoint import remove_ours
from .pipeline import Outcome, versions
from .summary import shown, summary, summary_zh, window

DONE = "metadata.yaml"


def prepare_folder(out: Path, resume: bool) -> Path:
    """Check before any work that `out` can be written, make it, and clear what killed runs left there
    (temporary files, staging folders) and, unless resuming, the checkpoint. Earlier results stay whole
    until the new ones move in (Optimization.write)."""
    out = check_writable(out, "optimize")
    out.mkdir(parents=True, exist_ok=True)
    remove_stale(out)
    if not resume:
        remove_ours(out)
    return out


def package_scenario(outcome: Outcome, x, name: str) -> Scenario:
    """The decoded vector `x` as the scenario of package `name`, titled and described in both languages."""
    setup = outcome.setup
    study = setup.study.name
    if name.startswith("reach_"):
        why = {"zh": "政策组合优化研究中，以最高把握（或研究要求的把握）达成某项目标的最低成本组合。",
               "en": f"The cheapest package of optimisation study {study} reaching a target's best odds (or the "
                     "study's odds)."}
    else:
        why = {"zh": "政策组合优化研究的帕累托组合（目标达成数、成本与稳健性三者无法同时再改进）。",
               "en": f"Pareto package {name} of optimisation study {study}."}
    return scenarios.with_changes(setup.references["baseline"], name, why, levers=setup.space.levers(x),
                                  title={"zh": label(name, "zh"), "en": label(name, "en")})


def package_yaml(outcome: Outcome, row: pd.Series, name: str) -> str:
    """A scenario file of one package, which `nxmfg simulate` runs unchanged; its figures as comments."""
    setup = outcome.setup
    scenario = package_scenario(outcome, outcome.archive["decoded"][int(row["archive_row"])], name)
    odds = setup.study.met_odds
    bounds = f" Levels at a search bound: {row['at_bounds']}." if row["at_bounds"] else ""
    header = [f"# {scenario.describe('en')} ({shown(setup.path)}).",
              f"# Expected over {setup.states.count} states of the world: cost {row['cost_expected']:.1f} 亿元 "
              f"({setup.study.cost}, {window(outcome)}), {row['targets_met_expected']:.2f} targets met, "
              f"{int(row[f'targets_met_with_{odds:.0%}_odds'])} with >= {odds:.0%} odds.{bounds}",
              f"# Central run (what `nxmfg simulate` runs): {int(row['central_targets_met'])} of "
              f"{len(setup.targets)} targets met; cumulative fiscal cost {window(outcome)} "
              f"{row['central_cost_total']:.1f} 亿元 (total).", f"# Run it: nxmfg simulate {name}.yaml"]
    body = scenario.model_dump(by_alias=True, exclude_none=True, exclude={"paths"})
    return "\n".join(header) + "\n" + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=110,
                                                    default_flow_style=None)


def tables(outcome: Outcome) -> dict[str, pd.DataFrame]:
    """The tables the files and the decision page are made of: `pareto` (index package), `reachability`
    (with the names of its packages), `packages` (every named package: the Pareto ones and those reaching a
    target, index name), and `names` (archive row -> name, as a one-column frame)."""
    pareto = analysis.pareto_table(outcome)
    reach = analysis.reachability(outcome)
    names = _package_names(pareto, reach)
    named = reach.assign(cheapest_package=[names.get(r, "") for r in reach["archive_row"]],
                         robust_package=[names.get(r, "") for r in reach["robust_row"]])
    packages = analysis.package_table(outcome.setup, outcome.archive, pd.Index(list(names)).to_numpy())
    packages.index = [names[int(row)] for row in packages["archive_row"]]
    return {"pareto": pareto, "reachability": named, "packages": packages,
            "names": pd.DataFrame({"name": list(names.values())}, index=list(names))}


def headline_package(outcome: Outcome, pareto: pd.DataFrame) -> str | None:
    """The cheapest Pareto package meeting the most targets with the study's odds (None if none meets one)."""
    cheapest = analysis.cheapest_by_count(pareto, outcome.setup.study.met_odds)
    return None if cheapest.empty else str(cheapest.iloc[-1]["package"])


def write(outcome: Outcome, out: Path, lang: str = "zh") -> Path:
    """Write every output file into `out` (see the module docstring); return out."""
    from nxmfg.model import plots

    out = Path(out)
    setup = outcome.setup
    found = tables(outcome)
    pareto, reach, named = found["pareto"], analysis.reachability(outcome), found["reachability"]
    reach_names = _write_packages(outcome, found["packages"], out / "packages")
    _csv(out / "pareto.csv", pareto.drop(columns="archive_row"), index=True)
    _csv(out / "packages.csv", found["packages"].drop(columns="archive_row"), index=True)
    _csv(out / "pareto_central.csv", analysis.central_table(outcome, pareto))
    _csv(out / "reachability.csv", named.drop(columns=["archive_row", "robust_row"]))
    evaluated = analysis.package_table(setup, outcome.archive, analysis.unique_candidates(outcome.archive))
    evaluated.insert(0, "generation", outcome.archive["generation"][evaluated["archive_row"]])
    _csv(out / "archive.csv", evaluated.drop(columns="archive_row"))
    _csv(out / "states.csv", setup.states.table())
    plots.save(tradeoff_figure(outcome, pareto, lang), out / "cost_vs_targets.png", lang)
    write_text(out / "summary.md", summary(outcome, pareto, reach, reach_names))
    write_text(out / "summary.zh.md", summary_zh(outcome, pareto, reach, reach_names))
    return out


def finish(outcome: Outcome, out: Path) -> Path:
    """metadata.yaml: what made the results, written last."""
    pareto_size = len(analysis.pareto_indices(outcome.archive))
    return write_text(Path(out) / DONE, yaml.safe_dump(metadata(outcome, pareto_size), allow_unicode=True,
                                                       sort_keys=False))


def report_inputs(outcome: Outcome) -> tuple[list, pd.DataFrame]:
    """What the planner's report compares (the baseline, the plan and the headline package) and the
    reachability of the targets still ahead (the past ones are listed in reachability.csv)."""
    setup = outcome.setup
    pareto = analysis.pareto_table(outcome)
    chosen = [setup.references["baseline"], setup.references["plan"]]
    name = headline_package(outcome, pareto)
    if name is not None:
        chosen.append(package_scenario(outcome, outcome.archive["decoded"][int(pareto.at[name, "archive_row"])], name))
    reach = analysis.reachability(outcome)
    names = _package_names(pareto, reach)
    reach = reach.assign(cheapest_package=[names.get(r, "") for r in reach["archive_row"]],
                         robust_package=[names.get(r, "") for r in reach["robust_row"]])
    return chosen, reach[reach["flag"] != "decided by history"]


def _package_names(pareto: pd.DataFrame, reach: pd.DataFrame) -> dict[int, str]:
    """Archive row -> package name: package_NNN for the Pareto packages, reach_NNN for the cheapest package
    reaching a target's best odds where it is not a Pareto package."""
    names = {int(row): name for name, row in pareto["archive_row"].items()}
    rows = [*reach["archive_row"], *reach["robust_row"]]
    extra = sorted({int(r) for r in rows if r >= 0} - set(names))
    return names | {row: f"reach_{i:03d}" for i, row in enumerate(extra, start=1)}


def _write_packages(outcome: Outcome, packages: pd.DataFrame, folder: Path) -> dict[int, str]:
    """packages/NAME.yaml for each named package (`tables`' packages); returns archive row -> name."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, row in packages.iterrows():
        write_text(folder / f"{name}.yaml", package_yaml(outcome, row, name))
    return {int(row): name for name, row in packages["archive_row"].items()}


def _csv(path: Path, table: pd.DataFrame, index: bool = False) -> None:
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=index, float_format="%.10g")


def tradeoff_figure(outcome: Outcome, pareto: pd.DataFrame, lang: str = "en"):
    """The trade-off chart (chart.plot_tradeoff) of a finished search, as a Figure."""
    from nxmfg.model import plots

    study, references = outcome.setup.study, outcome.references
    evaluated = analysis.package_table(outcome.setup, outcome.archive, analysis.unique_candidates(outcome.archive))
    marks = {name: {"cost": references[name]["cost"], "targets": references[name]["probability"].sum()}
             for name in ("baseline", "plan")}
    labels = {"study": study.name, "window": window(outcome), "basis": study.cost, "odds": f"{study.met_odds:.0%}",
              "robust": f"targets_met_with_{study.met_odds:.0%}_odds"}
    with plots.style(lang):
        return chart.plot_tradeoff(pareto, evaluated, marks, labels, lang=lang).figure


def metadata(outcome: Outcome, pareto_size: int) -> dict:
    setup = outcome.setup
    first, end = setup.evaluator.cost_window
    return {"study_file": str(setup.path), "study": setup.study.model_dump(mode="json"),
            "headline_package": headline_package(outcome, analysis.pareto_table(outcome)),
            "fingerprint": setup.fingerprint, "model_version": setup.context["model_version"],
            "fit": setup.context["fit"], "ensemble_sha256": setup.context["ensemble_sha256"],
            "cost": {"basis": setup.study.cost, "window": window(outcome), "years": end - first,
                     "unit": "亿元, current prices"},
            "packages_evaluated": int(len(outcome.archive["F"])), "pareto_packages": pareto_size,
            "references": {name: {"cost_expected": float(figures["cost"]),
                                  "cost_total_expected": float(figures["cost_total"]),
                                  "robust": int(analysis.robust_count(figures["probability"], setup.study.met_odds))}
                           for name, figures in outcome.references.items()},
            "states": setup.states.record(), "runs": outcome.runs, "search_seconds": round(outcome.seconds, 1),
            "versions": versions(), "created": datetime.now(UTC).isoformat(timespec="seconds")}
