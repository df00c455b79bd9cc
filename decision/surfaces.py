"""The decision page on each surface that shows it: `nxmfg compare`'s report, `nxmfg optimize`'s report and
(later) the explorer, each from its own results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nxmfg.decision import odds, studies
from nxmfg.decision.page import Column, Evidence, ahead, build

if TYPE_CHECKING:
    from nxmfg.api.result import Result
    from nxmfg.decision.studies import AssumptionStudy, PackageStudy

COST = "fiscal_cost_cumulative_100m_yuan"
SHOWN = ("baseline", "plan")   # the scenarios the page compares, where the results hold them


def columns(results: dict[str, Result], lang: str, study: PackageStudy | None = None) -> list[Column]:
    """The baseline and the plan among `results` (else the first result), with P(met): over the study's
    states of the world where a current study judged that scenario, else over the calibrated band."""
    chosen = [name for name in SHOWN if name in results] or [next(iter(results))]
    found = []
    for name in chosen:
        result = results[name]
        given = f"{name}_p_met"
        if study is not None and study.current(result.metadata.get("fit")) and given in study.reach:
            table = odds.with_odds(result.attainment, study.reach[given], study.states, "states")
        else:
            table = odds.band_odds(result)
        found.append(Column(name, result.scenario.label(lang), table))
    return found


def costs(results: dict[str, Result], first: int, last: int, lang: str = "zh") -> dict[str, tuple[str, float]]:
    """Each scenario's label and added fiscal cost over first..last (inclusive) against the baseline run
    [亿元], where the results hold a baseline."""
    def spent(result: Result) -> float:
        series = result.indicators[COST]
        return float(series.sel(year=last + 1) - series.sel(year=first))

    if "baseline" not in results:
        return {}
    base = spent(results["baseline"])
    return {name: (result.scenario.label(lang), spent(result) - base) for name, result in results.items()}


def comparison_html(results: dict[str, Result], lang: str, study: PackageStudy | None = None,
                    assumptions: AssumptionStudy | None = None) -> str:
    """The decision page of a comparison (`nxmfg compare`): its baseline and plan, the package study
    (default: the shipped one, where it belongs to this model and fit) and the Sobol' study's split."""
    from nxmfg import decision
    from nxmfg.api.inputs import history
    from nxmfg.scenarios.outcomes import LAST_DATA_YEAR

    first = next(iter(results.values()))
    study = studies.from_folder() if study is None else study
    assumptions = studies.assumption_study() if assumptions is None else assumptions
    chosen = ahead(first.targets)
    last = max((t.year for t in chosen), default=LAST_DATA_YEAR + 1)
    evidence = Evidence(history(), study, assumptions, costs=costs(results, LAST_DATA_YEAR + 1, last, lang),
                        fit=first.metadata.get("fit"))
    return decision.render(build(first.targets, columns(results, lang, study), evidence, lang))


def shipped_studies() -> tuple:
    """The shipped package study and assumption study (studies.from_folder, studies.assumption_study)."""
    return studies.from_folder(), studies.assumption_study()


def explorer_html(targets, verdicts: dict[str, tuple[str, object]], lang: str, fit: dict | None = None,
                  shipped: tuple | None = None, chart_src=None) -> str:
    """The decision page for the explorer (to be called from its callbacks): `verdicts` maps a column name
    ("baseline", the scenario on screen) to (its label, its Evaluation.verdicts table, which carries P(met)
    over the band); the package study is the shipped one where it belongs to this model and fit.
    shipped: (package study, assumption study) as `shipped_studies` read them (the explorer reads them once);
    chart_src: as decision.render's (the explorer links the study's chart rather than embedding it)."""
    from nxmfg import decision
    from nxmfg.api.inputs import history

    shown = [Column(name, label, table) for name, (label, table) in verdicts.items()]
    study, assumptions = shipped_studies() if shipped is None else shipped
    evidence = Evidence(history(), study, assumptions, fit=fit)
    return decision.render(build(targets, shown, evidence, lang), chart_src)
