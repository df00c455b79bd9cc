"""Document D's decision page in the explorer (nxmfg.decision, as `compare` and `optimize` show it): the
baseline, the plan and the scenario on screen, each with P(met) over the explorer's states of the world,
beside the record, the shipped package study's cheapest package per target with its cost, and the flags."""

from __future__ import annotations

import hashlib
import html
from pathlib import Path

import pandas as pd

from nxmfg.explore.evaluation import Explorer
from nxmfg.explore.texts import TEXT

# The page's chart (the package study's PNG, the same for every draft) is served once at IMAGE_ROUTE and linked,
# not sent inside every redrawn page (270 kB a lever move for the browser to parse and decode again). Only
# what a page of this server linked is served (content-addressed: a key is the image's hash).
IMAGE_ROUTE = "/_nxmfg/image/"
IMAGES: dict[str, bytes] = {}
_LINKS: dict[tuple, str] = {}       # (path, size, mtime) -> link: the file is read and hashed once


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


def _link(png: Path) -> str:
    """The link under IMAGE_ROUTE of the study's chart (its bytes kept in IMAGES to serve)."""
    stat = png.stat()
    where = (str(png), stat.st_size, stat.st_mtime_ns)
    if where not in _LINKS:
        content = png.read_bytes()
        key = hashlib.sha256(content).hexdigest()[:20]
        IMAGES[key] = content
        _LINKS[where] = f"{IMAGE_ROUTE}{key}.png"
    return _LINKS[where]


def serve_images(server) -> None:
    """The route of the page's images (a year's browser cache: a key names one content)."""
    from flask import Response, abort

    @server.route(f"{IMAGE_ROUTE}<key>.png")
    def _image(key: str) -> Response:
        if key not in IMAGES:
            abort(404)
        return Response(IMAGES[key], mimetype="image/png",
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})


def fragment(explorer: Explorer, draft: dict, lang: str) -> str:
    """The decision page (nxmfg.decision.render's <section>) of the baseline, the plan and the draft."""
    from nxmfg.decision import surfaces

    label = explorer.states.label(lang)
    shown = {"baseline": (explorer.baseline_label(lang), explorer.evaluate({})),
             "plan": (explorer.shipped("plan").label(lang), explorer.evaluate(plan_draft(explorer)))}
    if draft.get("levers") or draft.get("paths"):
        shown["scenario"] = (TEXT[lang]["current"], explorer.evaluate(draft))
    verdicts = {name: (title, _with_label(evaluation.verdicts, label)) for name, (title, evaluation) in shown.items()}
    return surfaces.explorer_html(explorer.targets, verdicts, lang, explorer.fit.record(), explorer.studies,
                                  chart_src=_link)


def _with_label(verdicts: pd.DataFrame, label: str) -> pd.DataFrame:
    """The verdict table with P(met) named as the page reads it, and what it is over."""
    return verdicts.assign(p_met=verdicts["probability"], p_met_label=label)
