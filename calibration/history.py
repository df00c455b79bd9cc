"""The historical record: read and validate the long data file, choose one vintage per (indicator, year)."""

import csv
import datetime as dt
import io
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from nxmfg.model.input_files import InputFileError, read_text
from nxmfg.model.yaml_reader import read_shipped

HERE = Path(__file__).parent
DATA = HERE / "data" / "ningxia_history.csv"
INDICATOR_MAP = HERE / "indicator_map.yaml"
REQUIRED = ("indicator", "year", "value")
COLUMNS = ["indicator", "year", "value", "unit", "source"]
FIRST_MODEL_YEAR, LAST_MODEL_YEAR = 2010, 2035
EARLIEST_YEAR = 1949
RATE_SUFFIXES = ("_growth_pct", "_change_pct", "_pp")   # rates may be negative; other _pct are shares
# Plain decimal numbers only: float() would also take "1_150", "nan", "infinity" and " 0x1p3"-like text.
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
APPROXIMATE_UNIT = re.compile(r"approx|rounded|lower bound", re.IGNORECASE)
ABOUT, AROUND = re.compile(r"约\s*"), re.compile(r"左右|以上|多")    # before / after an approximate number
# No Ningxia statistic in the data's units comes near (GDP is 4e3 亿元, energy use 8e3 万tce); a larger
# value is a typo, and its square would overflow the fit's cost (1e300 gave `rmse inf`).
MAX_MAGNITUDE = 1e9
# A user's level or share must lie within this factor of the shipped series of the same indicator (its
# lowest / FACTOR to its highest x FACTOR): a unit slip (GDP in 万元, 10^4 too large; a share as the
# fraction 0.25 for 25 %) lands far outside, a genuine revision or a later year well inside.
LEVEL_FACTOR = 10.0
# Yearly growth and change rates [%/yr]: -100 % would leave nothing, and above +500 %/yr (six times in a
# year) no regional aggregate of these series has moved (the shipped ones lie within -17..+32).
GROWTH_BOUNDS = (-100.0, 500.0)
PP_BOUNDS = (-100.0, 100.0)   # a change in percentage points of a share


def last_historical_year() -> int:
    """The last complete calendar year: no statistic exists yet for the current one."""
    return dt.date.today().year - 1


class DataError(ValueError):
    """A data file the calibration cannot use; the message names file, line and field."""


@dataclass(frozen=True)
class Row:
    line: int
    indicator: str       # model indicator
    year: int
    value: float
    unit: str
    source: str
    rank: int            # vintage rank, 0 = best (see `vintage_rank`)


@cache
def indicator_map() -> dict:
    """calibration/indicator_map.yaml, parsed."""
    return read_shipped(INDICATOR_MAP)


def model_indicator_names() -> set[str]:
    """Model indicator names users may put in their own files; empty while model/indicators.py is absent."""
    try:
        from nxmfg.model.indicators import INDICATORS
    except ImportError:
        return set()
    return set(INDICATORS)


def vintage_rank(unit: str, source_title: str) -> int:
    """THE duplicate-vintage rule (data README caveats 1, 2, 11); lower rank wins.

    0  NBS series revised after the latest (5th) economic census, as published whole (the data portal's
       series: "REVISED" with "portal" or "revised series" in unit: GDP levels, the real GDP index and
       industry value added share this vintage);
    1  other post-census revised figures ("revised" in unit);
    2  final figures (yearbooks, NBS releases, papers);
    3  preliminary figures (the annual 统计公报 or "preliminary" in unit).
    Duplicates of equal value collapse; equal rank with different values must be settled in
    indicator_map.yaml `resolved_duplicates`, else loading fails. A series that has rank-0 rows
    keeps only those (another vintage's level is not comparable with it, caveat 11).
    """
    if ("REVISED" in unit or re.search(r"revised\b.*\b5th\b", unit, re.IGNORECASE)) and \
            re.search(r"portal|revised series", unit, re.IGNORECASE):
        return 0
    if "revised" in unit.lower():
        return 1
    if "preliminary" in unit.lower() or "国民经济和社会发展统计公报" in source_title:
        return 3
    return 2


def excluded(indicator: str, year: int, unit: str) -> str | None:
    """Why a row is not an annual Ningxia level comparable with the model, or None if it is."""
    if indicator.startswith("national_"):
        return "all-China comparison value"
    if "Q1" in unit:
        return "first-quarter value, not annual (caveat 12)"
    if year < FIRST_MODEL_YEAR:
        return f"context year before {FIRST_MODEL_YEAR} (caveat 10)"
    return None


def _approximate(raw_value: str, unit: str, quote: str) -> bool:
    """Caveat 6: the source says 约 / 左右 / 以上 next to this very number, or the unit says so (fixed
    patterns, the number found beside them: a pattern made per row took most of the record's reading)."""
    number = raw_value.strip().lstrip("-")
    if APPROXIMATE_UNIT.search(unit):
        return True
    if any(quote.startswith(number, about.end()) for about in ABOUT.finditer(quote)):    # 约 12
        return True
    for mark in AROUND.finditer(quote):                                                  # 12 % 左右
        before = quote[:mark.start()].rstrip()
        before = before[:-1].rstrip() if before.endswith("%") else before
        if before.endswith(number):
            return True
    return False


def _mapping(name: str, user_file: bool) -> dict | str:
    """The map entry of a data indicator, or why it is not fitted (the message of an error if unknown)."""
    mapping, unused = indicator_map()["mapped"], indicator_map()["unused"]
    if name in mapping:
        return mapping[name]
    if name in unused and not user_file:      # before the model's names: unused says why a same-named one is not fitted
        return f"unused: {unused[name]}"
    if name in model_indicator_names():      # a user's own rows of a model indicator are always welcome
        return {"model": name}
    allowed = ", ".join(sorted(set(mapping) | model_indicator_names()))
    why = f" ({unused[name]})" if name in unused else ""
    raise ValueError(f"{name!r} is not mapped to a model indicator{why}; allowed: {allowed} "
                     f"(see {INDICATOR_MAP.name})")


def _parse(path: Path, line: int, record: dict, user_file: bool) -> Row | str:
    """One CSV record -> Row, or why it is not used (excluded by rule); DataError names the field."""
    def fail(field: str, message: str) -> DataError:
        return DataError(f"{path}:{line}: field '{field}': {message}")

    name, unit = (record.get("indicator") or "").strip(), (record.get("unit") or "").strip()
    raw_year, raw_value = (record.get("year") or "").strip(), (record.get("value") or "").strip()
    last = min(LAST_MODEL_YEAR, last_historical_year())
    if not re.fullmatch(r"\d{4}", raw_year) or not EARLIEST_YEAR <= int(raw_year) <= last:
        raise fail("year", f"{raw_year!r} is not a year in {EARLIEST_YEAR}-{last} (history ends with the "
                   "last complete year)")
    value = float(raw_value) if NUMBER.fullmatch(raw_value) else math.nan
    if not math.isfinite(value):
        raise fail("value", f"{raw_value!r} is not a finite number (digits, a decimal point and an optional "
                   "exponent, e.g. 1150 or 1.15e3)")
    if abs(value) > MAX_MAGNITUDE:
        raise fail("value", f"{raw_value} is larger than any statistic in these units ({MAX_MAGNITUDE:g})")
    year = int(raw_year)
    if name.startswith("national_"):
        return "all-China comparison value (national_*)"
    try:
        entry = _mapping(name, user_file)
    except ValueError as error:
        raise fail("indicator", str(error)) from None
    if isinstance(entry, str) or excluded(name, year, unit):
        return entry if isinstance(entry, str) else excluded(name, year, unit)
    if not user_file and year in (entry.get("exclude_years") or {}):   # a row of another scope, with the reason
        return f"excluded: {entry['exclude_years'][year]}"
    rank = vintage_rank(unit, record.get("source_title") or "")
    if _approximate(raw_value, unit, record.get("quote") or ""):
        unit = f"{unit}; approximate"
    if entry.get("offset"):
        unit = f"% (= {name} {entry['offset']:+g}; {unit})"
    source = " ".join(filter(None, [(record.get("source_title") or "").strip(),
                                    f"<{record['source_url'].strip()}>" if record.get("source_url") else ""]))
    value += entry.get("offset", 0)
    problem = value_problem(entry["model"], value)
    if problem:
        raise fail("value", f"{raw_value} for {name}: {problem}")
    return Row(line, entry["model"], year, value, unit, source, rank)


def value_problem(indicator: str, value: float) -> str | None:
    """Why `value` cannot be a value of the model indicator, or None: the sign of counts and levels, the
    range of shares, the bounds of rates. Kinds follow the names: rates end in RATE_SUFFIXES, shares in `_pct`."""
    if indicator.endswith("_pp"):
        low, high = PP_BOUNDS
        return None if low <= value <= high else f"a change of a share lies within {low:g} to {high:g} pp"
    if indicator.endswith(RATE_SUFFIXES):
        low, high = GROWTH_BOUNDS
        return None if low < value <= high else (f"a yearly rate lies above {low:g} % (nothing left) and at most "
                                                 f"{high:g} %/yr; is this a level, or a share, in a rate's column?")
    if indicator.endswith("_pct"):
        return None if 0 <= value <= 100 else "a share must lie in 0-100 %"
    return None if value >= 0 else "a count or level cannot be negative"


def read_rows(path: Path, user_file: bool = False) -> list[Row]:
    """Validated rows of one long CSV file (excluded rows dropped), before the vintage rule.

    RFC 4180 strictly: an unterminated quote is an error (not a field that swallows the rest of the
    file), and every record has the header's number of fields.
    """
    try:
        text = read_text(path, "data")
    except InputFileError as error:
        raise DataError(str(error)) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows, start, unused = [], 1, Counter()
    try:
        header = [name.strip() for name in next(reader, [])]
        duplicated = sorted({name for name in header if header.count(name) > 1})
        if duplicated:
            raise DataError(f"{path}:1: field '{duplicated[0]}': column named twice")
        missing = [column for column in REQUIRED if column not in header]
        if missing:
            raise DataError(f"{path}:1: field '{missing[0]}': missing column; required: {', '.join(REQUIRED)}")
        start = reader.line_num + 1
        for record in reader:
            if record and len(record) != len(header):
                raise DataError(f"{path}:{start}: {len(record)} fields, but the header has {len(header)}")
            row = _parse(path, start, dict(zip(header, record, strict=True)), user_file) if record else None
            if isinstance(row, Row):
                rows.append(row)
            elif row is not None:
                unused[row] += 1
            start = reader.line_num + 1     # a quoted field may span lines: name the record's first
    except csv.Error as error:
        raise DataError(f"{path}:{start}: not well-formed CSV ({error}); check the quotes") from None
    if user_file and not rows:
        why = "; ".join(f"{count} {'row' if count == 1 else 'rows'}: {reason}" for reason, count in unused.items())
        raise DataError(f"{path}: no usable row ({why or 'no data under the header'}); the fit reads annual "
                        f"Ningxia values of model indicators from {FIRST_MODEL_YEAR} on")
    return rows


def _unit_of(indicator: str) -> str:
    try:
        from nxmfg.model.indicators import INDICATORS
    except ImportError:
        return "?"
    return INDICATORS[indicator].unit if indicator in INDICATORS else "?"


def check_plausible(rows: list[Row], shipped: list[Row], path: Path) -> None:
    """A user's level or share within LEVEL_FACTOR of the shipped series of its indicator, or, where the
    data have none, of the calibrated baseline's values over the data years: DataError naming the line
    otherwise (a unit slip, not a revision)."""
    reference: dict[str, list[float]] = {}
    for row in shipped:
        reference.setdefault(row.indicator, []).append(row.value)
    levels = {row.indicator for row in rows if not row.indicator.endswith(RATE_SUFFIXES)}
    missing = sorted(levels - set(reference))
    if missing:
        reference |= _baseline_values(missing)
    for row in rows:
        known = [value for value in reference.get(row.indicator, []) if math.isfinite(value)]
        if row.indicator not in levels or not known or max(known) <= 0:
            continue
        low, high = min(known) / LEVEL_FACTOR, max(known) * LEVEL_FACTOR
        if not low <= row.value <= high:
            where = "the shipped series" if row.indicator in {r.indicator for r in shipped} else "the baseline"
            raise DataError(f"{path}:{row.line}: field 'value': {row.value:g} for {row.indicator} is not within a "
                            f"factor {LEVEL_FACTOR:g} of {where} ({min(known):.4g} to {max(known):.4g} "
                            f"{_unit_of(row.indicator)}); check the unit (亿元, not 万元; a share in %, not a "
                            "fraction)")


def _baseline_values(names: list[str]) -> dict[str, list[float]]:
    """The calibrated baseline's values of model indicators over the data years (one engine run)."""
    from functools import partial

    from nxmfg.model import ensemble, indicators

    run = ensemble.run({}, 1, reduce=partial(indicators.compute, names=names), final_year=last_historical_year(),
                       progress=False, workers=1)
    return {name: [float(v) for v in run[name].isel(run=0).values] for name in names if name in run}


def choose_vintage(rows: list[Row], path: Path) -> list[Row]:
    """Apply the vintage rule of `vintage_rank`: one row per (indicator, year)."""
    revised_series = {row.indicator for row in rows if row.rank == 0}
    rows = [row for row in rows if row.indicator not in revised_series or row.rank == 0]
    resolved = {(d["indicator"], d["year"]): d["value"] for d in indicator_map()["resolved_duplicates"]}
    chosen: dict[tuple[str, int], Row] = {}
    for row in sorted(rows, key=lambda r: (r.rank, r.line)):
        key = (row.indicator, row.year)
        best = chosen.get(key)
        if best is None or row.rank > best.rank or row.value == best.value:
            chosen.setdefault(key, row)
        elif key in resolved and resolved[key] in (row.value, best.value):
            chosen[key] = row if row.value == resolved[key] else best
        else:
            raise DataError(f"{path}:{row.line}: field 'value': {row.indicator} {row.year} = {row.value:g} "
                            f"duplicates line {best.line} ({best.value:g}) at the same vintage rank and "
                            f"no rule settles it; mark the vintage in 'unit' or list it in "
                            f"{INDICATOR_MAP.name} resolved_duplicates")
    return sorted(chosen.values(), key=lambda r: (r.indicator, r.year))


def observations(path: str | Path | None = None, until: int | None = None,
                 extra: str | Path | None = None, derived: bool = False) -> pd.DataFrame:
    """The historical record, one row per (model indicator, year) of the chosen vintage.

    Parameters
    ----------
    path : the long data file (default: the shipped calibration/data/ningxia_history.csv).
    until : keep years <= until.
    extra : a user's file in the same format; its rows extend ours or override them per (indicator, year).
    derived : also the indicators of indicator_map.yaml `derived` (differences of recorded rates), for
        judging targets and drawing history; the calibration fits their terms, never them.

    Returns columns indicator, year, value, unit, source; values in the model indicator's unit.
    """
    path = Path(path) if path else DATA
    rows = read_rows(path)
    chosen = {(r.indicator, r.year): r for r in choose_vintage(rows, path)}
    if extra is not None:
        extra = Path(extra)
        mine = read_rows(extra, user_file=True)
        check_plausible(mine, rows, extra)
        chosen |= {(r.indicator, r.year): r for r in choose_vintage(mine, extra)}
        rows = [r for r in rows if (r.indicator, r.year) not in {(m.indicator, m.year) for m in mine}] + mine
    if derived:
        chosen |= {(r.indicator, r.year): r for r in differences(rows, chosen)}
    frame = pd.DataFrame([{"indicator": r.indicator, "year": r.year, "value": r.value, "unit": r.unit,
                           "source": r.source} for r in chosen.values()], columns=COLUMNS)
    if until is not None:
        frame = frame[frame["year"] <= until]
    return frame.sort_values(["indicator", "year"], ignore_index=True)


def differences(rows: list[Row], chosen: dict[tuple[str, int], Row]) -> list[Row]:
    """Rows of the `derived` indicators: first term minus second, year by year, within one vintage (revised
    figures only where both terms have one, else both unrevised: the data's README warns against mixing)."""
    out = []
    for name, (first, second) in (indicator_map().get("derived") or {}).items():
        years = {r.year for r in rows if r.indicator == first} & {r.year for r in rows if r.indicator == second}
        for year in sorted(years):
            terms = [chosen[(first, year)], chosen[(second, year)]]
            if any(t.rank <= 1 for t in terms) and not all(t.rank <= 1 for t in terms):
                terms = [min((r for r in rows if (r.indicator, r.year) == (t.indicator, year) and r.rank >= 2),
                             key=lambda r: (r.rank, r.line), default=t) for t in terms]
            value = terms[0].value - terms[1].value
            out.append(Row(terms[0].line, name, year, value, f"pp (= {first} {terms[0].value:g} - {second} "
                           f"{terms[1].value:g})", f"{terms[0].source}; {terms[1].source}", max(t.rank for t in terms)))
    return out


def national_series(indicator: str, path: Path = DATA) -> pd.Series:
    """One all-China series of the data file (a `national_*` indicator) by year; the rows the calibration
    excludes as comparison values, for the drivers' and the naive forecast's arithmetic."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [(int(r["year"]), float(r["value"])) for r in csv.DictReader(handle) if r["indicator"] == indicator]
    years = [year for year, _ in rows]
    if not rows or len(set(years)) != len(years):
        raise ValueError(f"{path.name}: {indicator} needs exactly one row per year, found years {sorted(years)}")
    return pd.Series(dict(rows), name=indicator).sort_index()
