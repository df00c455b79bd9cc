"""Every file an optimisation writes, and the output folder's hygiene, in one place.

Folder layout (each file replaced atomically; metadata.yaml is written last and removed first, so a folder
without it is unfinished):
  checkpoint.pkl        the search's state after the last finished generation (for --resume)
  pareto.csv            one row per Pareto package: lever values, costs, targets met, P(met) per target
  pareto_central.csv    per package and target, the central state's value, margin, met (`nxmfg simulate`'s figures)
  packages/*.yaml       every Pareto package (and the cheapest package reaching each target) as a scenario file
  reachability.csv      per modelled target: best P(met), the cheapest package reaching it, baseline, plan, flag
  archive.csv           every distinct package evaluated, with its figures
  states.csv            the states of the world: parameter set and outlook draws
  cost_vs_targets.png   expected cost against expected targets met, plan and baseline marked
  summary.md            the headline in plain words, reachability, what was run
  report.html, charts/  the planner's report: baseline, plan and the headline package, reachability included
  metadata.yaml         model version, fit, study, fingerprint, sizes, timing
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml

from nxmfg.model.files import atomic_path, write_text

from . import analysis, chart
from .checkpoint import NAME as CHECKPOINT
from .pipeline import Outcome, versions
from .study import StudyError
from .summary import summary, window

FILES = ("pareto.csv", "pareto_central.csv", "reachability.csv", "archive.csv", "states.csv",
         "cost_vs_targets.png", "summary.md", "report.html")
DONE = "metadata.yaml"


def prepare_folder(out: Path, resume: bool) -> Path:
    """Check before any work that `out` is (or can be made) a writable folder; mark it unfinished and clear
    what an earlier run left (its outputs, temporary files; the checkpoint too unless resuming)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise StudyError(out, "", "--out is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=out, prefix=".probe-")
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise StudyError(out, "", f"--out is not a writable folder ({error.strerror})") from None
    (out / DONE).unlink(missing_ok=True)
    for name in FILES:
        (out / name).unlink(missing_ok=True)
    for old in [*out.glob(".*.tmp"), *(out / "packages").glob("*.yaml")]:
        old.unlink()
    if not resume:
        (out / CHECKPOINT).unlink(missing_ok=True)
    return out


def package_yaml(outcome: Outcome, row: pd.Series, name: str, why: str) -> str:
    """A scenario file of one package, which `nxmfg simulate` runs unchanged; its figures as comments."""
    setup = outcome.setup
    x = outcome.archive["decoded"][int(row["archive_row"])]
    scenario = setup.space.scenario(x, name, f"{why} of optimisation study {setup.study.name}",
                                    setup.references["baseline"])
    odds = setup.study.met_odds
    header = [f"# {why} of optimisation study {setup.study.name} ({setup.path}).",
              f"# Expected over {setup.states.count} states of the world: cost {row['cost_expected']:.6g} 亿元 "
              f"({setup.study.cost}, {window(outcome)}), {row['targets_met_expected']:.3g} targets met, "
              f"{int(row[f'targets_met_with_{odds:.0%}_odds'])} with >= {odds:.0%} odds.",
              f"# Central state (what `nxmfg simulate` runs): {int(row['central_targets_met'])} of "
              f"{len(setup.targets)} targets met; cumulative fiscal cost {window(outcome)} "
              f"{row['central_cost_total']:.6g} 亿元 (total).", f"# Run it: nxmfg simulate {name}.yaml"]
    body = scenario.model_dump(by_alias=True, exclude_none=True, exclude={"paths"})
    return "\n".join(header) + "\n" + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=110,
                                                    default_flow_style=None)


def write(outcome: Outcome, out: Path, lang: str = "zh") -> Path:
    """Write every output file into `out` (see the module docstring); return out."""
    from nxmfg.model import plots

    out = Path(out)
    setup = outcome.setup
    pareto = analysis.pareto_table(outcome)
    reach = analysis.reachability(outcome)
    reach_names = _write_packages(outcome, pareto, reach, out / "packages")
    _csv(out / "pareto.csv", pareto.drop(columns="archive_row"), index=True)
    _csv(out / "pareto_central.csv", analysis.central_table(outcome, pareto))
    named = reach.assign(cheapest_package=[reach_names.get(r, "") for r in reach["archive_row"]])
    _csv(out / "reachability.csv", named.drop(columns="archive_row"))
    evaluated = analysis.package_table(setup, outcome.archive, analysis.unique_candidates(outcome.archive))
    evaluated.insert(0, "generation", outcome.archive["generation"][evaluated["archive_row"]])
    _csv(out / "archive.csv", evaluated.drop(columns="archive_row"))
    _csv(out / "states.csv", setup.states.table)
    plots.save(tradeoff_figure(outcome, pareto, lang), out / "cost_vs_targets.png", lang)
    write_text(out / "summary.md", summary(outcome, pareto, reach, reach_names))
    _write_report(outcome, pareto, named, out, lang)
    write_text(out / DONE, yaml.safe_dump(metadata(outcome, len(pareto)), allow_unicode=True, sort_keys=False))
    return out


def _write_packages(outcome: Outcome, pareto: pd.DataFrame, reach: pd.DataFrame, folder: Path) -> dict[int, str]:
    """packages/NAME.yaml for each Pareto package and each cheapest package reaching a target's best odds;
    returns archive row -> package name."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {int(row): name for name, row in pareto["archive_row"].items()}
    for name, row in pareto.iterrows():
        write_text(folder / f"{name}.yaml", package_yaml(outcome, row, name, f"Pareto package {name}"))
    extra = sorted({int(r) for r in reach["archive_row"] if r >= 0} - set(names))
    if extra:
        table = analysis.package_table(outcome.setup, outcome.archive, pd.Index(extra).to_numpy())
        for i, (_, row) in enumerate(table.iterrows(), start=1):
            name = f"reach_{i:03d}"
            names[int(row["archive_row"])] = name
            write_text(folder / f"{name}.yaml", package_yaml(outcome, row, name,
                                                             "The cheapest package reaching a target's best odds"))
    return names


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


def _write_report(outcome: Outcome, pareto: pd.DataFrame, reach: pd.DataFrame, out: Path, lang: str) -> None:
    """report.html: the baseline, the plan and the headline package side by side, reachability included."""
    import nxmfg

    setup = outcome.setup
    chosen = [setup.references["baseline"], setup.references["plan"]]
    cheapest = analysis.cheapest_by_count(pareto, setup.study.met_odds)
    if not cheapest.empty:
        name = cheapest.iloc[-1]["package"]
        x = outcome.archive["decoded"][int(pareto.at[name, "archive_row"])]
        chosen.append(setup.space.scenario(x, name, f"The headline package of optimisation study {setup.study.name}",
                                           setup.references["baseline"]))
    ahead = reach[reach["flag"] != "decided by history"]     # the past targets are listed in reachability.csv
    nxmfg.compare(chosen).write(out, lang=lang, reachability=ahead)


def metadata(outcome: Outcome, pareto_size: int) -> dict:
    setup = outcome.setup
    return {"study_file": str(setup.path), "study": setup.study.model_dump(mode="json"),
            "fingerprint": setup.fingerprint, "model_version": setup.context["model_version"],
            "fit": setup.context["fit"], "ensemble_sha256": setup.context["ensemble_sha256"],
            "cost": {"basis": setup.study.cost, "window": window(outcome), "unit": "亿元, current prices"},
            "packages_evaluated": int(len(outcome.archive["F"])), "pareto_packages": pareto_size,
            "states": setup.states.count, "runs": outcome.runs, "search_seconds": round(outcome.seconds, 1),
            "versions": versions(), "created": datetime.now(UTC).isoformat(timespec="seconds")}
