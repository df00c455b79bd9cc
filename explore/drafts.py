"""A session's draft: read from the controls, loaded from a scenario file, saved as one.

A draft is plain data kept in the browser: {"levers": {lever: {"from", "value"} | {"from", "path"}},
"paths": {outlook: {year: value}}}; `Explorer.scenario` checks it as a file would be checked.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from dash import no_update

from nxmfg import scenarios
from nxmfg.explore import controls, files
from nxmfg.explore.controls import to_model, to_shown
from nxmfg.explore.evaluation import EDITABLE_OUTLOOKS, OUTLOOK_YEARS, Explorer, content
from nxmfg.explore.texts import TEXT
from nxmfg.scenarios import POLICY_LEVERS
from nxmfg.scenarios.schema import OUTLOOK_BOUNDS

MAX_SAVED = 4
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"


@dataclass(frozen=True)
class Controls:
    """What the controls show: sliders and boxes (one per policy lever), the start year, the outlook boxes."""

    sliders: list
    boxes: list
    start: int
    outlooks: list


def read_controls(explorer: Explorer, controls: Controls, fixed: dict, lang: str, triggered: set[str]) -> tuple:
    """(draft, fixed, sliders, boxes, lever messages, box classes, outlook messages) from every control.

    The controls' values are in the plans' unit (controls.to_shown); the draft's are the model's. A typed value
    outside its lever's range is refused in the control (message, red box) and the draft keeps the slider's; a
    slider move fills the box. A loaded lever the controls cannot show exactly stays as loaded (`fixed`) until
    its control is moved. `triggered`: Dash's prop ids of what changed.
    """
    text = TEXT[lang]
    slid, typed, start = list(controls.sliders), list(controls.boxes), controls.start
    messages, classes, levers = [""] * len(POLICY_LEVERS), ["lever-input"] * len(POLICY_LEVERS), {}
    fixed = dict(fixed)
    for i, name in enumerate(POLICY_LEVERS):
        row = explorer.constants.loc[name]
        low, high = (to_shown(name, float(row[end])) for end in ("low", "high"))
        box = json.dumps({"name": name, "type": "lever-input"}, separators=(",", ":")) + ".value"
        slider = box.replace("lever-input", "lever-slider")
        if box in triggered and slider not in triggered:
            value = typed[i]
            if not isinstance(value, int | float) or not low <= value <= high:
                template = text["not_number"] if not isinstance(value, int | float) else text["refused"]
                messages[i] = template.format(value=value, low=f"{low:g}", high=f"{high:g}")
                classes[i] = "lever-input refused"
            else:
                slid[i] = value
        else:
            typed[i] = slid[i]
        if (box in triggered or slider in triggered) and len(triggered) == 1:   # a user's move, not a load
            fixed.pop(name, None)
        value = None if slid[i] is None else min(max(to_model(name, slid[i]), float(row["low"])), float(row["high"]))
        if name in fixed:
            levers[name] = fixed[name]
        elif value is not None and not np.isclose(value, explorer.baseline[name], rtol=0, atol=1e-12):
            levers[name] = {"from": int(start), "value": value}
    paths, outlook_messages = _outlook_paths(explorer, controls.outlooks, lang, fixed, triggered)
    draft = {"levers": levers, "paths": paths}
    return draft, fixed, slid, typed, messages, classes, outlook_messages


def _outlook_paths(explorer: Explorer, values: list, lang: str, fixed: dict, triggered: set[str]) -> tuple[dict, list]:
    """Edited outlooks as paths {year: value}; an outlook left at its defaults is not in the draft. A
    loaded path with other years than the boxes' stays as loaded until one of its boxes is edited."""
    paths, messages = {}, []
    for index, name in enumerate(EDITABLE_OUTLOOKS):
        kept = f"paths.{name}"
        if len(triggered) == 1 and f'"name":"{name}","type":"outlook-input"' in next(iter(triggered)):
            fixed.pop(kept, None)
        if kept in fixed:
            paths[name] = fixed[kept]
            messages.append("")
            continue
        low, high = OUTLOOK_BOUNDS[name]
        shown = values[index * len(OUTLOOK_YEARS):(index + 1) * len(OUTLOOK_YEARS)]   # in the plans' unit (%)
        points = dict(zip(OUTLOOK_YEARS, [controls.to_model(name, v) for v in shown], strict=True))
        bad = [v for v in points.values() if not isinstance(v, int | float) or not low <= v <= high]
        if bad:
            template = TEXT[lang]["refused"] if isinstance(bad[0], int | float) else TEXT[lang]["not_number"]
            value = controls.to_shown(name, bad[0]) if isinstance(bad[0], int | float) else bad[0]
            messages.append(template.format(value=value, low=f"{controls.to_shown(name, low):g}",
                                            high=f"{controls.to_shown(name, high):g}"))
            continue
        messages.append("")
        defaults = [controls.default_at(explorer.outlooks[name], year) for year in OUTLOOK_YEARS]
        if not np.allclose(list(points.values()), defaults, rtol=0, atol=1e-12):
            paths[name] = {str(year): float(value) for year, value in points.items()}
    return paths, messages


def load(explorer: Explorer, loadable: dict, name: str | None, upload: tuple[str, str] | None, lang: str) -> tuple:
    """(sliders, boxes, start, outlook boxes, fixed, name, message) for a shipped or given scenario (`name`)
    or an uploaded one (`upload`: file name, dcc.Upload's contents), the controls in the plans' unit; a bad
    file is named in one line."""
    from nxmfg.api import inputs

    try:
        scenario = (loadable.get(name) or inputs.scenario(name)) if name else files.read_upload(*upload)
        scenarios.check(scenario, explorer.constants, explorer.lookups)   # names and ranges, naming the file
        check_loadable(scenario)
        draft = draft_of(scenario)
    except ValueError as error:        # a list's outputs get a list each: Dash refuses a bare no_update there
        unchanged = [no_update] * len(POLICY_LEVERS)
        return (unchanged, unchanged, no_update, [no_update] * len(EDITABLE_OUTLOOKS) * len(OUTLOOK_YEARS),
                no_update, no_update, " ".join(str(error).split()))
    starts = [spec.start for spec in scenario.levers.values()]
    start = min(starts) if starts else controls.DEFAULT_START
    values, fixed = [], {}
    for lever in POLICY_LEVERS:
        spec = scenario.levers.get(lever)
        if spec is None:
            values.append(to_shown(lever, float(explorer.baseline[lever])))
            continue
        value = spec.value if spec.value is not None else spec.path[max(spec.path)]
        values.append(to_shown(lever, value))
        exact = np.isclose(to_model(lever, values[-1]), value, rtol=0, atol=1e-12)
        if spec.value is None or spec.start != start or not exact:   # a path, another start: kept as loaded
            fixed[lever] = draft["levers"][lever]
    outlooks = []
    for outlook in EDITABLE_OUTLOOKS:
        points = scenario.paths.get(outlook)
        table = explorer.outlooks[outlook] if points is None else _series(points)
        outlooks += [controls.to_shown(outlook, controls.default_at(table, year)) for year in OUTLOOK_YEARS]
        if points is not None and set(points) != set(OUTLOOK_YEARS):   # the boxes cannot hold it exactly
            fixed[f"paths.{outlook}"] = draft["paths"][outlook]
    return values, values, start, outlooks, fixed, scenario.name, TEXT[lang]["loaded"].format(name=scenario.name)


def draft_of(scenario: scenarios.Scenario) -> dict:
    """A scenario as a draft (the plain data a session keeps)."""
    levers = {lever: spec.model_dump(by_alias=True, exclude_none=True) for lever, spec in scenario.levers.items()}
    return {"levers": levers,
            "paths": {path: {str(y): v for y, v in points.items()} for path, points in scenario.paths.items()}}


def check_loadable(scenario: scenarios.Scenario) -> None:
    """ScenarioError naming the field if the explorer has no control for a lever or outlook it sets."""
    levers = sorted(set(scenario.levers) - set(POLICY_LEVERS))
    if levers:
        raise scenarios.ScenarioError(scenario.source, f"levers.{levers[0]}", "the explorer moves the regional "
                                      f"policy levers only: {', '.join(POLICY_LEVERS)}")
    outlooks = sorted(set(scenario.paths) - set(EDITABLE_OUTLOOKS))
    if outlooks:
        raise scenarios.ScenarioError(scenario.source, f"paths.{outlooks[0]}", "the explorer edits "
                                      f"{', '.join(EDITABLE_OUTLOOKS)} only")


def _series(points: dict) -> pd.Series:
    return pd.Series({float(year): float(value) for year, value in points.items()}).sort_index()


def save(explorer: Explorer, name: str, draft: dict, saved: list[dict], lang: str) -> tuple:
    """The draft as NAME.yaml (a download) and among the saved scenarios overlaid (the newest four)."""
    text = TEXT[lang]
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name or ""):
        return no_update, no_update, text["bad_name"]
    entry = draft | {"name": name, "title": {"zh": name, "en": name},
                     "description": {"zh": f"由情景探索页面保存（{name}）。", "en": f"Saved from nxmfg explore ({name})."}}
    try:
        scenario = explorer.scenario(entry)
    except ValueError as error:
        return no_update, no_update, " ".join(str(error).split())
    kept = [item for item in saved if item.get("name") != name][-(MAX_SAVED - 1):] + [entry]
    return ({"content": files.scenario_yaml(scenario), "filename": f"{name}.yaml"}, kept,
            text["saved_as"].format(name=name))


def key(draft: dict) -> str:
    """A short content key of a draft (evaluation.content: the same whichever side's JSON it went through)."""
    return hashlib.sha256(content(draft).encode()).hexdigest()[:12]
