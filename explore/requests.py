"""What a page may send, checked in one place before any callback uses it; and the request limits.

Every value a callback receives comes from the browser, and a caller need not be our page: a crafted
request can put text in a slider, ask for a chart that does not exist, a language we do not have, a
file path in the load list, or JSON nested 100 000 deep. Each callback passes its inputs through these
checks first (`guarded`): a value the page could not have sent is refused with one line shown on the
page, in the callback's own message slot, and nothing else changes; never an HTTP 500. A request larger
than MAX_REQUEST bytes or nested too deep to parse is answered 413 or 400 before Dash reads it.
The load list opens only the names it offered (`offered`), and says the same of any other value whether
a file of that name exists or not.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Iterable
from typing import Any

from dash import ctx, no_update

from nxmfg.explore.evaluation import EDITABLE_OUTLOOKS, OUTLOOK_YEARS
from nxmfg.model.indicators import INDICATORS
from nxmfg.model.input_files import LIMITS
from nxmfg.scenarios import POLICY_LEVERS

LANGUAGES = ("zh", "en")
MAX_SAVED = 4                      # scenarios overlaid (drafts.MAX_SAVED)
MAX_TEXT = 200                     # characters of a name or file name
MAX_UPLOAD = LIMITS["scenario"] * 4 // 3 + 1024    # a scenario file's limit, base64-encoded in a data URL
MAX_REQUEST = 2 * MAX_UPLOAD + 256 * 1024          # the largest request the page sends is an upload
log = logging.getLogger("nxmfg.explore")


class Refused(ValueError):
    """A value the page could not have sent; str() is one line naming the control."""


def guarded(message_at: int) -> Callable:
    """Run a callback, answering a refusal with its message at output `message_at` and nothing else.

    Any other error is logged with its traceback and shown the same way, so that a bug costs the user a
    message, not a broken page (Dash would answer HTTP 500 and show nothing)."""
    def wrap(callback: Callable) -> Callable:
        @functools.wraps(callback)
        def run(*args: Any) -> Any:
            try:
                return callback(*args)
            except Refused as refusal:
                return _only(message_at, f"refused: {refusal}")
            except Exception as error:          # noqa: BLE001 (the log keeps the traceback)
                log.exception("callback %s failed", callback.__name__)
                return _only(message_at, f"could not do this ({type(error).__name__}); see the server's log")
        return run
    return wrap


def _only(at: int, message: str) -> Any:
    outputs = ctx.outputs_list
    if not isinstance(outputs, list):       # a callback of one output
        return message
    answer = [[no_update] * len(output) if isinstance(output, list) else no_update for output in outputs]
    answer[at] = message
    return tuple(answer)


def language(value: Any) -> str:
    if value not in LANGUAGES:
        raise Refused(f"lang: {_short(value)} is not one of {', '.join(LANGUAGES)}")
    return value


def number(value: Any, field: str, empty: bool = False) -> float | None:
    """A finite number (JSON true is not one); None only where a box may be empty (`empty`)."""
    if value is None and empty:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Refused(f"{field}: {_short(value)} is not a number")
    return value


def numbers(values: Any, count: int, field: str, empty: bool = False) -> list:
    if not isinstance(values, list) or len(values) != count:
        raise Refused(f"{field}: expected {count} values")
    return [number(value, f"{field}[{i}]", empty) for i, value in enumerate(values)]


def year(value: Any, first: int, last: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not first <= value <= last:
        raise Refused(f"{field}: {_short(value)} is not a year in {first}-{last}")
    return value


def chart_names(values: Any, field: str = "charts") -> list[str]:
    """Indicator names (each once): a chart that does not exist is refused."""
    if values is None:
        return []
    if not isinstance(values, list) or len(values) > len(INDICATORS):
        raise Refused(f"{field}: expected a list of indicator names")
    unknown = [value for value in values if not isinstance(value, str) or value not in INDICATORS]
    if unknown:
        raise Refused(f"{field}: {_short(unknown[0])} is not an indicator")
    return list(dict.fromkeys(values))


def text(value: Any, field: str, empty: bool = False) -> str | None:
    if value is None and empty:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise Refused(f"{field}: expected a text of at most {MAX_TEXT} characters")
    return value


def offered(value: Any, names: Iterable[str]) -> str:
    """A name from the load list: only what it offered, whatever else exists on disk."""
    if not isinstance(value, str) or value not in set(names):
        raise Refused(f"load: {_short(value)} is not a scenario this page offers")
    return value


def upload(filename: Any, contents: Any) -> tuple[str, str]:
    name = text(filename, "upload file name")
    if not isinstance(contents, str):
        raise Refused("upload: no file contents")
    if len(contents) > MAX_UPLOAD:
        raise Refused(f"upload: {name}: larger than a scenario file may be ({LIMITS['scenario']:,} bytes)")
    return name, contents


def _points(value: Any, field: str) -> dict[str, float]:
    """{year: value}, years as the browser keeps them (text)."""
    if not isinstance(value, dict) or not 0 < len(value) <= 64:
        raise Refused(f"{field}: expected a mapping of years to values")
    for key, point in value.items():
        if not (isinstance(key, str) and key.isdigit() and len(key) == 4):
            raise Refused(f"{field}: {_short(key)} is not a year")
        number(point, f"{field}.{key}")
    return value


def lever(value: Any, field: str) -> dict:
    """{"from": year, "value": number} or {"from": year, "path": {year: number}}."""
    if not isinstance(value, dict) or "from" not in value or set(value) - {"from", "value", "path"} or \
            ("value" in value) == ("path" in value):
        raise Refused(f"{field}: expected from and one of value, path")
    year(value["from"], 2010, 2035, f"{field}.from")
    if "value" in value:
        number(value["value"], f"{field}.value")
    else:
        _points(value["path"], f"{field}.path")
    return value


def draft(value: Any, field: str = "draft") -> dict:
    """A draft's shape: {"levers": {policy lever: lever}, "paths": {editable outlook: points}} (the
    scenario schema then checks its values, as for a file)."""
    if value is None or value == {}:
        return {}
    if not isinstance(value, dict):
        raise Refused(f"{field}: expected a mapping")
    extra = set(value) - {"levers", "paths", "name", "title", "description"}
    if extra:
        raise Refused(f"{field}: unknown key {_short(sorted(extra)[0])}")
    levers, paths = value.get("levers") or {}, value.get("paths") or {}
    if not isinstance(levers, dict) or set(levers) - set(POLICY_LEVERS):
        raise Refused(f"{field}.levers: expected policy levers ({', '.join(POLICY_LEVERS)})")
    if not isinstance(paths, dict) or set(paths) - set(EDITABLE_OUTLOOKS):
        raise Refused(f"{field}.paths: expected editable outlooks ({', '.join(EDITABLE_OUTLOOKS)})")
    for name, spec in levers.items():
        lever(spec, f"{field}.levers.{name}")
    for name, points in paths.items():
        _points(points, f"{field}.paths.{name}")
    for key in ("name", "description"):
        if key in value:
            text(value[key], f"{field}.{key}", empty=True) if key == "name" else _long_text(value[key], field)
    if "title" in value and not (isinstance(value["title"], dict) and set(value["title"]) <= set(LANGUAGES)
                                 and all(isinstance(t, str) and len(t) <= MAX_TEXT for t in value["title"].values())):
        raise Refused(f"{field}.title: expected {{zh, en}} texts")
    return value


def _long_text(value: Any, field: str) -> None:
    if not isinstance(value, str) or len(value) > 10_000:
        raise Refused(f"{field}.description: expected a text of at most 10 000 characters")


def fixed(value: Any) -> dict:
    """What the controls keep as loaded: {lever: lever} and {"paths.<outlook>": points}."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Refused("fixed: expected a mapping")
    for key, spec in value.items():
        if key in POLICY_LEVERS:
            lever(spec, f"fixed.{key}")
        elif isinstance(key, str) and key.removeprefix("paths.") in EDITABLE_OUTLOOKS and key.startswith("paths."):
            _points(spec, f"fixed.{key}")
        else:
            raise Refused(f"fixed: {_short(key)} is not a lever or an editable outlook")
    return value


def saved(value: Any) -> list[dict]:
    """The saved scenarios overlaid: at most MAX_SAVED drafts, each with a name."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_SAVED:
        raise Refused(f"saved: expected at most {MAX_SAVED} saved scenarios")
    for index, entry in enumerate(value):
        draft(entry, f"saved[{index}]")
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise Refused(f"saved[{index}]: a saved scenario needs a name")
    return value


def controls(slid: Any, typed: Any, start: Any, outlooks: Any) -> tuple[list, list, int, list]:
    """The levers' sliders (numbers), their boxes (numbers, or None for an emptied box), the start year,
    the outlook boxes (numbers or None)."""
    from nxmfg.scenarios.schema import FIRST_LEVER_YEAR, LAST_YEAR

    count = len(EDITABLE_OUTLOOKS) * len(OUTLOOK_YEARS)
    return (numbers(slid, len(POLICY_LEVERS), "lever sliders"),
            numbers(typed, len(POLICY_LEVERS), "lever boxes", empty=True),
            year(start, FIRST_LEVER_YEAR, LAST_YEAR, "start"),
            numbers(outlooks, count, "outlook boxes", empty=True))


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def limit(server) -> None:
    """Refuse, before Dash reads them, requests larger than MAX_REQUEST (413: a 300 MB body would be held
    in memory) or nested too deep for the JSON parser (400: it would raise RecursionError, a 500)."""
    from flask import abort, request

    server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST

    @server.before_request
    def _checked():
        if request.method == "POST" and request.is_json:
            try:
                request.get_json(silent=True)     # parsed once and kept: Dash reads this copy
            except RecursionError:
                abort(400, description="JSON nested too deep")
        return None
