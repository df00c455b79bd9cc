"""Jinja2 for the planner's HTML: one environment per template folder, autoescaped, with the number
formats every page shares (so a value reads the same in the report, the decision page and the explorer)."""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape


def number(value, signed: bool = False) -> str:
    """Significant digits by size (1 234, 12.3, 0.45, 0.0012); empty for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    size = abs(value)
    digits = 0 if size >= 100 else 1 if size >= 1 else 2 if size >= 0.01 else 4
    text = f"{value:{'+' if signed else ''},.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(value, digits: int = 0) -> str:
    """0.234 -> '23%' (a missing value: '—')."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}%}"


def money(value) -> str:
    """亿元 to one decimal with thousands separators (a missing value: '—')."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.1f}"


@cache
def environment(folder: str) -> Environment:
    """The environment of the templates in `folder` (a path); StrictUndefined: a misspelt name fails loudly."""
    env = Environment(loader=FileSystemLoader(Path(folder)), autoescape=select_autoescape(["html", "html.j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(number=number, percent=percent, money=money)
    return env
