"""summary.md: the top levers for each outcome, the odds of each target, and whether the indices settled."""

from __future__ import annotations

import pandas as pd

from .study import Study


def _percent(share: float) -> str:
    return f"{share:.0%}" if share == 0 or share >= 0.01 else "< 1%"


def _ranked(rows: pd.DataFrame, names: list[str], value: str, top: int = 3) -> str:
    chosen = rows[rows["parameter"].isin(names)].sort_values(value, ascending=False).head(top)
    conf = f"{value}_conf" if f"{value}_conf" in rows else None
    parts = [f"`{r.parameter}` {getattr(r, value):.2f}" + (f" ± {getattr(r, conf):.2f}" if conf else "")
             for r in chosen.itertuples()]
    return ", ".join(parts) or "(none)"


def _header(study: Study, metadata: dict) -> list[str]:
    if metadata["method"] == "morris":
        design = f"Morris: {study.morris.trajectories} trajectories, {study.morris.levels} levels"
    else:
        design = f"N = {study.samples}, second order: {study.second_order}"
    return [f"# Sensitivity study `{study.name}` ({metadata['method']})", "",
            *([study.description.strip(), ""] if study.description.strip() else []),
            f"- model version: {metadata.get('model_version', 'n/a')}; base scenario: {study.scenario}; "
            f"levers from {study.levers_from}",
            f"- {design}, seed = {study.seed}; {metadata['runs']} runs in "
            f"{metadata['evaluation_seconds']:.1f} s; fingerprint {metadata['fingerprint']}",
            f"- {len(study.levers)} levers, {len(study.uncertainties)} uncertain constants, "
            f"{len(study.outcomes)} outcomes"
            + (f"; the states of the world as groups ({', '.join(study.state_columns)}; calibration/states.py)"
               if study.states else "") + ("; the levers as one group" if study.group_levers else ""), ""]


def _sobol_sections(study: Study, tables: dict[str, pd.DataFrame]) -> list[str]:
    indices = tables["indices"]
    levers = [f for f in study.factors if f in study.levers or f == "levers"]
    uncertain = [f for f in study.factors if f not in levers]
    lines = ["## Top levers per outcome (total-order index ST ± 95 % CI)", ""]
    odds = tables.get("target_odds", pd.DataFrame(columns=["outcome", "probability_met", "over"]))
    if len(odds):
        lines += [f"Odds: {odds['over'].iloc[0]} (the independent rows A and B of the Sobol' design).", ""]
    chances = dict(zip(odds["outcome"], odds["probability_met"], strict=True))
    for outcome, rows in indices.groupby("outcome", sort=False):
        chance = f" (met in {_percent(chances[outcome])} of runs)" if outcome in chances else ""
        if rows["ST"].isna().all():
            lines.append(f"- **{outcome}**{chance}: no indices, some runs gave NaN (see samples.npz)")
            continue
        lines.append(f"- **{outcome}**{chance}: levers {_ranked(rows, levers, 'ST')}"
                     + (f"; uncertainties {_ranked(rows, uncertain, 'ST', 2)}" if uncertain else ""))
    if "regional_sensitivity" in tables:
        lines += ["", "## Target odds: which levers shift them (KS distance met vs missed runs)", ""]
        boxes = tables["prim_boxes"].set_index("outcome")
        for outcome, rows in tables["regional_sensitivity"].groupby("outcome", sort=False):
            movers = rows[rows["parameter"].isin(list(study.levers) or list(study.parameters))].dropna(subset=["ks"])
            movers = movers.sort_values("ks", ascending=False).head(3)
            chance, box = chances[outcome], boxes.loc[outcome]
            if movers.empty:
                lines.append(f"- **{outcome}**: met in {'every' if chance == 1 else 'no'} run")
                continue
            shifted = ", ".join(f"`{r.parameter}` KS {r.ks:.2f} ({'higher' if r.shift > 0 else 'lower'} "
                                "helps)" for r in movers.itertuples())
            if not box["reached"]:
                where = f"no lever box reaches 80 % (best {_percent(box['density'])})"
            elif box["support"] == 1:
                where = "met with >= 80 % odds over the whole sampled space"
            else:
                where = (f"met with {_percent(box['density'])} odds where {box['box']} "
                         f"({_percent(box['support'])} of runs)")
            lines.append(f"- **{outcome}**: P(met) {_percent(chance)}; {shifted}; PRIM: {where}")
    lines += ["", "## Convergence (S1, ST at N/4, N/2, N)", ""]
    moved = tables["unsettled"]
    if moved.empty:
        lines.append("All indices moved by <= 0.05 from N/2 to N: settled.")
    else:
        lines.append(f"**Warning:** {len(moved)} indices moved by more than 0.05 from N/2 to N; "
                     "raise N. Largest: " + ", ".join(f"{r.outcome}/{r.parameter} {r.change:.3f}"
                                                      for r in moved.head(5).itertuples()))
    return lines


def summary(study: Study, metadata: dict, tables: dict[str, pd.DataFrame]) -> str:
    """Markdown summary of a finished study."""
    lines = _header(study, metadata)
    if "morris" in tables:
        lines += ["## Screening: largest mu* per outcome", ""]
        for outcome, rows in tables["morris"].groupby("outcome", sort=False):
            lines.append(f"- **{outcome}**: {_ranked(rows, study.factors, 'mu_star', 5)}")
    else:
        lines += _sobol_sections(study, tables)
    return "\n".join(lines) + "\n"


def summary_zh(study: Study, metadata: dict, tables: dict[str, pd.DataFrame]) -> str:
    """summary.zh.md: per outcome, the levers and the assumed constants that drive it, and the odds, in Chinese."""
    from nxmfg.scenarios.descriptions import title

    from .plots import outcome_label

    lines = [f"# 敏感性研究（{'Morris筛选' if metadata['method'] == 'morris' else 'Sobol’指数'}）", "",
             f"- 模型版本 {metadata.get('model_version', '—')}；基准情景；政策杠杆从{study.levers_from}年起生效",
             f"- {len(study.levers)}个政策杠杆、{len(study.uncertainties)}个假设常数、{len(study.outcomes)}个结果；"
             f"共{metadata['runs']}次模拟，随机种子{study.seed}", ""]
    if "indices" not in tables:
        return "\n".join(lines + ["Morris筛选的结果见 `morris.csv` 与 `summary.md`。"]) + "\n"
    odds = tables.get("target_odds", pd.DataFrame(columns=["outcome", "probability_met"]))
    chances = dict(zip(odds["outcome"], odds["probability_met"], strict=True))
    assumed = list(study.uncertainties)
    lines += ["## 各结果的主要驱动因素（总效应指数 ST）", "",
              "| 结果 | 在全部模拟中达成的比例 | 主要政策杠杆 | 主要假设常数 | 假设常数的一阶指数之和 |", "|---|---:|---|---|---:|"]
    for outcome, rows in tables["indices"].groupby("outcome", sort=False):
        def top(names: list[str], n: int = 3) -> str:
            chosen = rows[rows["parameter"].isin(names)].sort_values("ST", ascending=False).head(n)
            return "、".join(f"{title(r.parameter, 'zh')} {r.ST:.2f}" for r in chosen.itertuples()) or "—"

        share = rows[rows["parameter"].isin(assumed)]["S1"].sum()
        chance = _percent(chances[outcome]) if outcome in chances else "—"
        lines.append(f"| {outcome_label(outcome, 'zh')} | {chance} | {top(list(study.levers))} | {top(assumed, 2)} | "
                     f"{share:.2f} |")
    lines += ["", "假设常数的一阶指数之和超过0.5的结果，其判断主要取决于未经数据拟合的假设，决策页将其标为“取决于模型假设”。"]
    return "\n".join(lines) + "\n"
