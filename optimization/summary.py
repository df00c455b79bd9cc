"""summary.md in plain words: the headline package, the cheapest package for each number of robustly met
targets, reachability per target, and what was run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nxmfg.calibration.verdict_shares import decided_by_assumptions
from nxmfg.scenarios.descriptions import levers_at_bounds, title
from nxmfg.scenarios.plan_units import shown as in_plan_units

from . import analysis
from .pipeline import Outcome


def shown(path: Path | None) -> str:
    """A path as a reader of the summary wants it: relative to the repository when inside it."""
    if path is None:
        return "the .mdl's own values"
    root = Path(__file__).resolve().parents[1]
    resolved = Path(path).resolve()
    return str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(path)


def _money(value: float) -> str:
    return f"{value:,.1f} 亿元"


def _cost(value: float, basis: str) -> str:
    """An expected cost in words: an incremental cost below zero is a saving against the baseline."""
    if basis == "incremental" and value < 0:
        return f"saves {_money(-value)} against the baseline"
    return f"costs {_money(value)}"


def _targets(count: int) -> str:
    return f"{count} target{'' if count == 1 else 's'}"


def _number(value: float) -> str:
    return f"{value:.4g}"


def window(outcome: Outcome) -> str:
    first, end = outcome.setup.evaluator.cost_window
    return f"{first}-{end - 1}"


def basis_words(outcome: Outcome) -> str:
    return ("incremental over the baseline in the same state of the world" if outcome.setup.study.cost == "incremental"
            else "total spending on the levers")


def headline(outcome: Outcome, pareto: pd.DataFrame) -> str:
    """The cheapest package meeting the most targets with the study's odds: its cost, how it differs from the plan."""
    setup, odds = outcome.setup, outcome.setup.study.met_odds
    cap, evaluated = setup.study.budget_cap, len(outcome.archive["F"])
    if pareto.empty and cap is not None:      # every package evaluated costs more than the cap
        return (f"No package within the budget cap of {_money(cap)} was found: the cheapest of the {evaluated} "
                f"packages evaluated costs {_money(float(np.min(outcome.archive['cost'])))} (expected). The "
                "reachability table gives the odds packages above the cap reach; raise budget_cap to weigh them.")
    cheapest = analysis.cheapest_by_count(pareto, odds)
    if cheapest.empty:
        within = f" and the budget cap of {_money(cap)}" if cap is not None else ""
        return (f"No package within the lever ranges{within} meets any target with >= {odds:.0%} odds "
                f"({evaluated} packages evaluated).")
    top = cheapest.iloc[-1]
    row = pareto.loc[top["package"]]
    changes = analysis.differences(setup, row)
    differs = "; ".join(f"{title(lever, 'en')} {in_plan_units(lever, mine, 'en')}{_timing(outcome, row, lever)} "
                        f"instead of {in_plan_units(lever, theirs, 'en')}" for lever, mine, theirs in changes) or \
        "nothing beyond 10 % of any lever's range"
    total = row["cost_total_expected"]
    return (f"The cheapest package that meets >= {int(top['targets'])} of the {len(setup.targets)} targets with "
            f">= {odds:.0%} odds, {top['package']}, {_cost(row['cost_expected'], setup.study.cost)} "
            f"(expected, {window(outcome)}, {basis_words(outcome)}; {_money(total)} in total) and differs from "
            f"the plan in: {differs}.")


def _timing(outcome: Outcome, row: pd.Series, lever: str) -> str:
    """' from 2025', ' reached in 2026' where the package's start or ramp differ from levers_from at once."""
    start = int(row.get(f"{lever}.start", outcome.setup.study.levers_from))
    ramp = int(row.get(f"{lever}.ramp", 0))
    if ramp:
        return f" (ramped from {start}, reached in {start + ramp})"
    return f" (from {start})" if start != outcome.setup.study.levers_from else ""


def _references(outcome: Outcome) -> list[str]:
    odds, basis, lines = outcome.setup.study.met_odds, outcome.setup.study.cost, []
    for name in ("plan", "baseline"):
        figures = outcome.references[name]
        robust = analysis.robust_count(figures["probability"], odds)
        lines.append(f"- The {name} meets {_targets(robust)} with >= {odds:.0%} odds and "
                     f"{figures['probability'].sum():.2f} in expectation; it {_cost(figures['cost'], basis)} "
                     f"({_money(figures['cost_total'])} in total).")
    return lines


def _cheapest_section(outcome: Outcome, pareto: pd.DataFrame) -> list[str]:
    odds = outcome.setup.study.met_odds
    table = analysis.cheapest_by_count(pareto, odds)
    lines = [f"| targets met with >= {odds:.0%} odds | cheapest package | expected cost | expected targets met |",
             "|---:|---|---:|---:|"]
    for row in table.itertuples():
        lines.append(f"| >= {row.targets} | {row.package} | {_money(row.cost_expected)} | "
                     f"{pareto.at[row.package, 'targets_met_expected']:.2f} |")
    return lines


def _reachability_section(outcome: Outcome, reach: pd.DataFrame, names: dict[int, str]) -> list[str]:
    ahead, cap = reach[reach["flag"] != "decided by history"], outcome.setup.study.budget_cap
    lines = ["| target | year | threshold | best value reached | best P(met) | cheapest package reaching it "
             "| its expected cost | baseline | plan | flag |", "|---|---:|---:|---:|---:|---|---:|---:|---:|---|"]
    decided = decided_by_assumptions()
    for row in ahead.itertuples():
        shown = row.archive_row >= 0 and row.flag != "unreachable"     # no package "reaches" 0 %
        package = names.get(row.archive_row, "") if shown else ""
        cost = _money(row.cheapest_cost_expected) if shown else ""
        if shown and cap is not None and row.cheapest_cost_expected > cap:
            cost += " (over the cap)"
        best = f"{row.best_p_met:.0%}" if pd.notna(row.best_p_met) else ""
        value = f"{row.best_value:.4g}" if pd.notna(row.best_value) else ""
        lines.append(f"| {row.id} | {row.year} | {row.threshold:.4g} | {value} | {best} | {package} | {cost} | "
                     f"{row.baseline_p_met:.0%} | {row.plan_p_met:.0%} | {row.flag}"
                     + ("; *decided by assumptions*" if decided.get(row.id) else "") + " |")
    history = reach[reach["flag"] == "decided by history"]
    if len(history):
        likely = int((history["baseline_p_met"] >= 0.5).sum())
        lines += ["", f"{len(history)} targets of years up to {history['year'].max()} are decided by history (no "
                  f"package acts before {outcome.setup.study.levers_from}); the model meets {likely} of them in "
                  "more than half of the states of the world (reachability.csv lists each)."]
    return lines


def _convergence(outcome: Outcome) -> str:
    table = analysis.convergence(outcome.archive)
    if len(table) < 2:
        return "too few generations to tell"
    steps = ", ".join(f"{r.hypervolume:.4f} (generation {r.generation})" for r in table.itertuples())
    growth = table["hypervolume"].iloc[-1] / table["hypervolume"].iloc[-2] - 1
    return (f"hypervolume of the front, objectives scaled to the archive's range: {steps}; "
            f"{growth:+.2%} over the last {int(table['generation'].iloc[-1] - table['generation'].iloc[-2])} "
            "generations")


def summary(outcome: Outcome, pareto: pd.DataFrame, reach: pd.DataFrame, reach_names: dict[int, str]) -> str:
    """Markdown summary of a finished optimisation. reach_names: archive row -> package name (file stem)."""
    setup, study = outcome.setup, outcome.setup.study
    states, odds = setup.states, study.met_odds
    outlooks = ", ".join(f"`{name}` ({'shift' if o.shift is not None else 'scale'} {o.draw.distribution} "
                         f"{o.draw.range} from {o.start})" for name, o in states.settings.outlooks.items())
    lines = [f"# Lever packages for the targets ahead: `{study.name}`", "",
             *([study.description.strip(), ""] if study.description.strip() else []),
             "## Headline", "", headline(outcome, pareto), "", *_references(outcome), "",
             f"Cost: the expected cumulative fiscal cost {window(outcome)} at current prices, {basis_words(outcome)} "
             f"(the model's `Cumulative Fiscal Cost`; every unit cost is the .mdl's documented assumption). "
             f"Odds: {states.label('en')} (calibration/states.py, seed {states.seed}): each state draws a row of the "
             f"fit's parameter sets, the assumed constants from their priors and {outlooks or 'no outlook'}; the "
             "central run (the fit's estimate, the default outlooks: what `nxmfg simulate` shows) is not one of "
             "them. Every run goes on from the recorded state of 2023 (calibration/seam.py), and a target's "
             "observed years (2023, or a 2022 base) come from the record. A target marked *decided by "
             "assumptions* owes more than half its variance to the assumed constants "
             "(calibration/assumption_shares.csv).", "",
             f"## Cheapest package per number of targets met with >= {odds:.0%} odds", "",
             *_cheapest_section(outcome, pareto), "",
             "## Reachability per target", "",
             "Best P(met) that any evaluated package within the lever ranges reaches (a lower bound on the best "
             "possible), the cheapest package reaching it, and the baseline's and the plan's odds. The best value "
             "reached is the best that any package gives in the central run: for an unreachable target, "
             "how far the economy stays from it.", "",
             *_reachability_section(outcome, reach, reach_names), "",
             "## What was run", "",
             f"- {len(study.levers)} levers from {study.levers_from}: "
             + ", ".join(f"`{n}` {lever.range}" + (f" start {lever.start}" if lever.start else "")
                         + (f" ramp {lever.ramp} years" if lever.ramp else "") for n, lever in study.levers.items()),
             f"- {len(setup.targets)} targets ({study.objective}, weights in the study file); budget cap: "
             + (_money(study.budget_cap) if study.budget_cap is not None else "none"),
             f"- NSGA-II (pymoo), population {study.population}, {study.generations} generations, seed {study.seed}: "
             f"{len(outcome.archive['F'])} packages x ({states.count} states + the central run), {outcome.runs} runs "
             f"in "
             f"{outcome.seconds:.0f} s; {len(pareto)} Pareto packages (pareto.csv, packages/*.yaml)",
             f"- convergence: {_convergence(outcome)}",
             f"- model version {setup.context['model_version']}; fit {shown(setup.fit.path)}; "
             f"fingerprint {setup.fingerprint}"]
    return "\n".join(lines) + "\n"


FLAGS_ZH = {"unreachable": "无法达成", "met in every case": "各种情况下均达成", "lever-dependent": "取决于政策力度",
            "not lever-dependent": "不受政策杠杆影响", "not in the study": "不在本研究内",
            "no package keeps the quotas": "没有组合守住能耗与碳排放配额"}


def summary_zh(outcome: Outcome, pareto: pd.DataFrame, reach: pd.DataFrame, names: dict[int, str]) -> str:
    """summary.zh.md: the headline, the cheapest package per number of targets and reachability, in Chinese."""
    from nxmfg.scenarios.descriptions import package_title
    from nxmfg.scenarios.templating import environment, money, number

    setup, study = outcome.setup, outcome.setup.study
    odds, years = f"{study.met_odds:.0%}", setup.evaluator.cost_window[1] - setup.evaluator.cost_window[0]
    cheapest = analysis.cheapest_by_count(pareto, study.met_odds)
    rows = [{"targets": r.targets, "label": package_title(r.package), "file": f"packages/{r.package}.yaml",
             "cost": r.cost_expected, "yearly": r.cost_expected / years,
             "expected": pareto.at[r.package, "targets_met_expected"]} for r in cheapest.itertuples()]
    clauses = {t.id: t.clause.removeprefix(f"{t.doc} ") for t in setup.modelled}
    ahead = []
    for r in reach[reach["flag"] != "decided by history"].itertuples():
        robust = names.get(r.robust_row, "") if r.robust_row >= 0 else ""
        ahead.append({"wording": f"{r.doc} {clauses.get(r.id, r.id)}", "year": r.year, "threshold": f"{r.threshold:g}",
                      "best_value": number(r.best_value),
                      "best": f"{r.best_p_met:.0%}" if pd.notna(r.best_p_met) else "",
                      "package": package_title(robust) if robust else "—",
                      "cost": money(r.robust_cost_expected) if robust else "—",
                      "baseline": f"{r.baseline_p_met:.0%}", "plan": f"{r.plan_p_met:.0%}",
                      "flag": FLAGS_ZH.get(r.flag, r.flag)})
    references = [f"{'规划情景' if name == 'plan' else '基准情景'}以不低于{odds}的把握达成"
                  f"{int(analysis.robust_count(f['probability'], study.met_odds))}项，期望达成{f['probability'].sum():.2f}项；"
                  f"预期新增财政投入{money(f['cost'])}亿元（总投入{money(f['cost_total'])}亿元）。"
                  for name, f in ((n, outcome.references[n]) for n in ("plan", "baseline"))]
    levers = [f"{title(n, 'zh')} {in_plan_units(n, lever.low)}–{in_plan_units(n, lever.range[1])}"
              + ("（下限为现有项目规模）" if lever.floor is not None else "") for n, lever in study.levers.items()]
    return environment(str(Path(__file__).with_name("templates"))).get_template("summary.zh.md.j2").render(
        path=shown(setup.path), levers_from=study.levers_from, targets=setup.targets, states=setup.states.count,
        headline=_headline_zh(outcome, pareto, cheapest, years), evaluated=len(outcome.archive["F"]), odds=odds,
        references=references, window=window(outcome), cheapest=rows, reach=ahead, levers=levers,
        basis="相对于同一状态下的基准情景的新增投入" if study.cost == "incremental" else "各项杠杆的总投入",
        population=study.population, generations=study.generations, seed=study.seed, runs=outcome.runs,
        seconds=f"{outcome.seconds:.0f}", pareto=len(pareto), model_version=setup.context["model_version"],
        fit=shown(setup.fit.path))


def _headline_zh(outcome: Outcome, pareto: pd.DataFrame, cheapest: pd.DataFrame, years: int) -> dict | None:
    from nxmfg.decision.budget import yardsticks
    from nxmfg.scenarios.descriptions import package_title
    from nxmfg.scenarios.templating import money

    if cheapest.empty:
        return None
    setup, top = outcome.setup, cheapest.iloc[-1]
    row = pareto.loc[top["package"]]
    general = next((s for s in yardsticks() if s.key == "general"), None)
    share = f"，约为{general.year}年全区一般公共预算支出的{row['cost_expected'] / years / general.value:.1%}" if general else ""
    sentence = (f"在评估过的{len(outcome.archive['F'])}个政策组合中，以不低于{setup.study.met_odds:.0%}的把握达成"
                f"{int(top['targets'])}项目标（共{len(setup.targets)}项）的最低成本组合为{package_title(top['package'])}"
                f"（`packages/{top['package']}.yaml`），{window(outcome)}年预期新增财政投入{money(row['cost_expected'])}亿元，"
                f"年均{money(row['cost_expected'] / years)}亿元{share}。")
    changes = [{"title": title(lever, "zh"), "mine": in_plan_units(lever, mine), "plan": in_plan_units(lever, theirs),
                "timing": _timing(outcome, row, lever).replace(" (from ", "，").replace(")", "年起")
                if "ramped" not in _timing(outcome, row, lever) else "，逐年提高"}
               for lever, mine, theirs in analysis.differences(setup, row)]
    ends = levers_at_bounds(row.get("at_bounds", ""), "zh")
    return {"sentence": sentence, "changes": changes, "bounds": ends["high"], "dropped": ends["low"]}
