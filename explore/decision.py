"""Document D's decision page in the explorer (nxmfg.decision, as `compare` and `optimize` show it): the
baseline, the plan and the scenario on screen, each with P(met) over the explorer's states of the world,
beside the record, the shipped package study's cheapest package per target with its cost, and the flags."""

from __future__ import annotations

import html

import pandas as pd

from nxmfg.explore.evaluation import Explorer
from nxmfg.explore.texts import TEXT


def plan_draft(explorer: Explorer) -> dict:
    """The shipped plan as a draft: its levers as its file sets them (from 2024)."""
    plan = explorer.shipped("plan")
    return {"levers": {name: lever.model_dump(by_alias=True, exclude_none=True) for name, lever in plan.levers.items()},
            "paths": {name: dict(points) for name, points in plan.paths.items()}}


def page(explorer: Explorer, draft: dict, lang: str) -> str:
    """The page as a whole document (the frame's srcdoc) for the draft on screen, marked with the draft's key."""
    from nxmfg.decision import CSS
    from nxmfg.explore.drafts import key
    from nxmfg.explore.verdicts import CSS as TABLE_CSS

    return (f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f'<style>{TABLE_CSS}{CSS}</style></head><body data-stamp="{html.escape(key(draft))}">'
            f'{fragment(explorer, draft, lang)}</body></html>')


def fragment(explorer: Explorer, draft: dict, lang: str) -> str:
    """The decision page (nxmfg.decision.render's <section>) of the baseline, the plan and the draft."""
    from nxmfg.decision import surfaces

    label = explorer.states.label(lang)
    shown = {"baseline": (explorer.baseline_label(lang), explorer.evaluate({})),
             "plan": (explorer.shipped("plan").label(lang), explorer.evaluate(plan_draft(explorer)))}
    if draft.get("levers") or draft.get("paths"):
        shown["scenario"] = (TEXT[lang]["current"], explorer.evaluate(draft))
    verdicts = {name: (title, _with_label(evaluation.verdicts, label)) for name, (title, evaluation) in shown.items()}
    return surfaces.explorer_html(explorer.targets, verdicts, lang, explorer.fit.record())


def _with_label(verdicts: pd.DataFrame, label: str) -> pd.DataFrame:
    """The verdict table with P(met) named as the page reads it, and what it is over."""
    return verdicts.assign(p_met=verdicts["probability"], p_met_label=label)
