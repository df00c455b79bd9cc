"""The explorer's controls: one slider and number box per regional lever, with its range, the baseline
and the plan marked; the start year; the editable outlooks. Texts are filled in by language (app.py)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
from dash import dcc, html

from nxmfg.explore.evaluation import EDITABLE_OUTLOOKS, OUTLOOK_YEARS
from nxmfg.scenarios import POLICY_LEVERS
from nxmfg.scenarios.schema import FIRST_LEVER_YEAR, LAST_YEAR

DEFAULT_START = 2024


def step(name: str, low: float, high: float) -> float:
    """A slider step in the plans' unit (as `low`, `high`): what a programme can set (1 firm, 0.1 % of a share),
    else about 1/200 of the range, a power of ten."""
    from nxmfg.scenarios.plan_units import plan_unit

    smallest = plan_unit(name).step * shown_scale(name)
    return round(smallest, 6) if smallest else 10.0 ** math.floor(math.log10((high - low) / 200))


def lever_control(name: str, row: pd.Series, baseline: float, plan: float | None) -> html.Div:
    """A lever's box and slider, both in the plans' unit (5 for 5 %); `row`, `baseline`, `plan` in the model's."""
    low, high = to_shown(name, float(row["low"])), to_shown(name, float(row["high"]))
    value, planned = to_shown(name, baseline), None if plan is None else to_shown(name, plan)
    return html.Div(className="lever", children=[
        html.Div(className="lever-head", children=[
            html.Span(id={"type": "lever-label", "name": name}, className="lever-label"),
            # No min/max on the box: the browser would swallow an out-of-range number silently; the
            # callback refuses it with the range instead.
            dcc.Input(id={"type": "lever-input", "name": name}, type="number", value=value, step="any",
                      debounce=True, className="lever-input"),
        ]),
        dcc.Slider(id={"type": "lever-slider", "name": name}, min=low, max=high, step=step(name, low, high),
                   value=value, marks=marks(low, high, value, planned, "zh"), updatemode="mouseup", included=False,
                   allow_direct_input=False),
        html.Div(id={"type": "lever-message", "name": name}, className="message"),
        html.Div(id={"type": "lever-help", "name": name}, className="help"),
    ])


def marks(low: float, high: float, baseline: float, plan: float | None, lang: str) -> dict:
    """The baseline and the plan's value (one mark where they coincide; all in the slider's unit); the range is
    in the help text."""
    words = {"zh": ("基准", "规划"), "en": ("baseline", "plan")}[lang]
    shown = {baseline: words[0]}
    if plan is not None:
        shown[plan] = f"{words[0]}/{words[1]}" if np.isclose(plan, baseline) else words[1]
    return {_key(value): {"label": label, "style": {"color": "#d62728" if label == words[1] else "#333333"}}
            for value, label in shown.items()}


def _key(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def start_control() -> html.Div:
    return html.Div(className="lever", children=[
        html.Span(id="start-label", className="lever-label"),
        dcc.Dropdown(id="start", options=list(range(FIRST_LEVER_YEAR, LAST_YEAR + 1)), value=DEFAULT_START,
                     clearable=False, className="start"),
        html.Div(id="start-help", className="help"),
    ])


# The one place where a control's number meets the model's: every lever and outlook box, slider and mark
# shows the plans' unit (scenarios/plan_units.py: a share of 0.26 as 26 %, 2e-5 a year as 0.002 %/年);
# drafts, saved and loaded scenarios keep the model's (YAML scenarios are the model's).
@functools.cache
def shown_scale(name: str) -> float:
    """Plan value / model value of a lever or outlook: 100 for a share shown in %, 1 for firms or 元/吨."""
    from nxmfg.scenarios.plan_units import plan_unit

    return plan_unit(name).scale


def to_shown(name: str, value: float) -> float:
    """A model value as a control shows it, rounded to 6 decimals (0.046 shows as 4.6, not 4.6000000000000005)."""
    return round(value * shown_scale(name), 6)


def to_model(name: str, value):
    """A control's value in the model's unit; anything but a number is passed on for the check to refuse."""
    return value / shown_scale(name) if isinstance(value, int | float) and not isinstance(value, bool) else value


def outlook_control(name: str, defaults: pd.Series) -> html.Div:
    boxes = [html.Label(className="outlook-year", children=[
        html.Span(str(year)),
        dcc.Input(id={"type": "outlook-input", "name": name, "year": year}, type="number", step="any",
                  value=to_shown(name, default_at(defaults, year)), debounce=True, className="outlook-input")])
        for year in OUTLOOK_YEARS]
    return html.Div(className="lever", children=[
        html.Span(id={"type": "outlook-label", "name": name}, className="lever-label"),
        html.Div(boxes, className="outlook-boxes"),
        html.Div(id={"type": "outlook-message", "name": name}, className="message"),
        html.Div(id={"type": "outlook-help", "name": name}, className="help"),
    ])


def default_at(defaults: pd.Series, year: int) -> float:
    """The default outlook table's value in `year` (linear between its points), as the model reads it."""
    return round(float(np.interp(year, defaults.index.to_numpy(float), defaults.to_numpy(float))), 6)


def panel(explorer) -> html.Div:
    levers = [lever_control(name, explorer.constants.loc[name], float(explorer.baseline[name]),
                            explorer.plan.get(name)) for name in POLICY_LEVERS]
    outlooks = [outlook_control(name, explorer.outlooks[name]) for name in EDITABLE_OUTLOOKS]
    return html.Aside(className="controls", children=[
        html.H2(id="levers-heading"), start_control(), *levers,
        html.H2(id="outlooks-heading"), html.Div(id="outlooks-help", className="help"), *outlooks])
