"""Hostile and odd input (issue 13): every case is refused with one line naming the file or path, a
non-zero exit, no traceback, and nothing written.

Cases by input kind: scenario files (simulate, compare), study files (sensitivity), data files
(calibrate --data), targets files (scenarios.load_targets / check_targets, the loader a user's
--targets file will go through), output paths (--out of every command) and other options. Each case is a tiny file
written into tmp_path, or a special path (/dev/zero, a FIFO, /dev/null).
"""

import datetime as dt
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from nxmfg import cli, scenarios

MiB = 2**20
SCENARIO = "name: case\ndescription: a test case\n"
STUDY = """\
name: case
samples: 8
seed: 1
levers:
  cultivation_upgrades_per_year: [0, 200]
outcomes:
  - {indicator: above_scale_firms_count, year: 2025}
"""
HEADER = "indicator,year,value,unit,source_title,source_url,quote\n"
DATA = HEADER + "above_scale_firms_count,2015,1150,家,yearbook,,\n"
TARGET = """\
- id: B-case
  doc: B
  clause: "B: 规模以上工业企业达到1500家"
  target: Above-scale firms 1500 in 2022
  year: 2022
  indicator: above_scale_firms_count
  measure: level
  threshold: 1500
  direction: at_least
  kind: modelled
"""
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))
BINARY = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
FUTURE = max(2030, dt.date.today().year + 1)


@dataclass(frozen=True)
class Case:
    """One hostile input: `make(tmp_path)` writes it and returns (arguments, the path the message names)."""

    kind: str
    name: str
    make: Callable[[Path], tuple[list[str], str]]
    exit_code: int = 1
    words: str = ""             # the message must also hold these words


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def fifo(folder: Path, name: str) -> Path:
    path = folder / name
    os.mkfifo(path)
    return path


def sparse(folder: Path, name: str, size: int) -> Path:
    """A file of `size` bytes that takes no disk (refused by size, so never read)."""
    path = folder / name
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def read_only_folder(folder: Path) -> Path:
    """A folder nothing can be created in: a 0555 folder, or /sys for root (who ignores permissions)."""
    locked = folder / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    try:
        (locked / "probe").mkdir()
    except OSError:
        return locked
    (locked / "probe").rmdir()
    return Path("/sys")


# --- scenario files (simulate, compare) ------------------------------------------------------------

def simulate(content: str | bytes | Callable[[Path], Path], name: str = "case.yaml") -> Callable:
    def make(tmp: Path) -> tuple[list[str], str]:
        path = content(tmp) if callable(content) else write(tmp, name, content)
        return ["simulate", str(path), "--out", str(tmp / "out")], str(path)
    return make


def with_scenario(extra: str) -> str:
    return SCENARIO + extra


def symlink_to_zero(tmp: Path) -> Path:
    link = tmp / "case.yaml"
    link.symlink_to("/dev/zero")
    return link


def folder_named(tmp: Path) -> Path:
    (tmp / "case.yaml").mkdir()
    return tmp / "case.yaml"


SCENARIO_CASES = [
    Case("scenario", "binary file", simulate(BINARY)),
    Case("scenario", "Latin-1 text", simulate("name: case\ndescription: Montréal\n".encode("latin-1"))),
    Case("scenario", "UTF-16 text", simulate(SCENARIO.encode("utf-16"))),
    Case("scenario", "NUL byte in text", simulate(SCENARIO + "\x00\n")),
    Case("scenario", "/dev/zero", simulate(lambda tmp: Path("/dev/zero"))),
    Case("scenario", "symlink to /dev/zero", simulate(symlink_to_zero)),
    Case("scenario", "named pipe", simulate(lambda tmp: fifo(tmp, "case.yaml"))),
    Case("scenario", "2 MB description", simulate(SCENARIO.replace("a test case", "x" * 2 * MiB))),
    Case("scenario", "50 MB description", simulate(SCENARIO.replace("a test case", "x" * 50 * MiB))),
    Case("scenario", "20 000-character description", simulate(SCENARIO.replace("a test case", "x" * 20_000))),
    Case("scenario", "billion laughs", simulate(SCENARIO + LAUGHS.replace("a:", "levers:", 1))),
    Case("scenario", "nested 5000 deep", simulate(SCENARIO + "levers: " + "[" * 5000 + "]" * 5000 + "\n")),
    Case("scenario", "empty file", simulate("")),
    Case("scenario", "a list, not a mapping", simulate("- name: case\n")),
    Case("scenario", "duplicate key", simulate(SCENARIO + "name: case\n")),
    Case("scenario", "duplicate lever", simulate(with_scenario(
        "levers:\n  key_projects_per_year: {from: 2021, value: 100}\n"
        "  key_projects_per_year: {from: 2022, value: 200}\n"))),
    Case("scenario", "coal price 0", simulate(with_scenario("paths:\n  coal_price_outlook: {2025: 0}\n"))),
    Case("scenario", "coal price 1e-6", simulate(with_scenario("paths:\n  coal_price_outlook: {2025: 1.0e-6}\n"))),
    Case("scenario", "super-deduction 0", simulate(with_scenario(
        "paths:\n  rd_super_deduction_outlook: {2025: 0}\n"))),
    Case("scenario", "industry growth 300 %", simulate(with_scenario(
        "paths:\n  national_industry_growth_outlook: {2025: 3}\n"))),
    Case("scenario", "outlook before the data end", simulate(with_scenario(
        "paths:\n  coal_price_outlook: {2020: 800}\n"))),
    Case("scenario", "outlook .inf", simulate(with_scenario("paths:\n  coal_price_outlook: {2025: .inf}\n"))),
    Case("scenario", "lever value '8'", simulate(with_scenario(
        "levers:\n  key_projects_per_year: {from: 2021, value: '8'}\n"))),
    Case("scenario", "lever value true", simulate(with_scenario(
        "levers:\n  key_projects_per_year: {from: 2021, value: true}\n"))),
    Case("scenario", "lever value .nan", simulate(with_scenario(
        "levers:\n  key_projects_per_year: {from: 2021, value: .nan}\n"))),
    Case("scenario", "lever value 1e300", simulate(with_scenario(
        "levers:\n  key_projects_per_year: {from: 2021, value: 1.0e+300}\n"))),
    Case("scenario", "lever value negative", simulate(with_scenario(
        "levers:\n  key_projects_per_year: {from: 2021, value: -5}\n"))),
    Case("scenario", "lever start 2021.5", simulate(with_scenario(
        "levers:\n  key_projects_per_year: {from: 2021.5, value: 100}\n"))),
    Case("scenario", "not a model constant", simulate(with_scenario(
        "levers:\n  key_project_per_year: {from: 2021, value: 100}\n"))),
    Case("scenario", "final_year '2030'", simulate(SCENARIO + "final_year: '2030'\n")),
    Case("scenario", "description 12", simulate("name: case\ndescription: 12\n")),
    Case("scenario", "outlook year as text", simulate(with_scenario("paths:\n  coal_price_outlook: {'2025': 800}\n"))),
    Case("scenario", "unknown key", simulate(SCENARIO + "colour: red\n")),
    Case("scenario", "name differs from file name", simulate(SCENARIO, name="other.yaml")),
    Case("scenario", "python tag", simulate(SCENARIO + "levers: !!python/object/apply:os.system ['true']\n")),
    Case("scenario", "YAML syntax error", simulate("name: case\ndescription: [unclosed\n")),
    Case("scenario", "a folder", simulate(folder_named)),
    Case("scenario", "no such file", simulate(lambda tmp: tmp / "nothere.yaml")),
    # issue 19
    Case("scenario", "value 1:40 (YAML 1.1 base 60)", simulate(with_scenario(
        "levers:\n  key_projects_per_year: {from: 2024, value: 1:40}\n"))),
    Case("scenario", "value 1e308 is a number, outside the range", simulate(with_scenario(
        "levers:\n  key_projects_per_year: {from: 2024, value: 1e308}\n")), words="outside the range"),
    Case("scenario", "a << merge key", simulate(SCENARIO + "<<: {final_year: 2030}\n"), words="unknown key"),
    Case("scenario", "a 200 000-character key", simulate(SCENARIO + "k" * 200_000 + ": 1\n"),
         words="longer than 1024"),
    Case("scenario", "a key holding terminal escape codes", simulate(SCENARIO + '"\\e[2J\\e[31mred": 1\n'),
         words="\\x1b[2J"),
    Case("scenario", "a lever on a constant read only at the start", simulate(with_scenario(
        "levers:\n  initial_above_scale_firms: {from: 2024, value: 900}\n")), words="read only to set"),
]


def compare(first: str | bytes, second: str | bytes, same_folder: bool = True, ensemble: Callable | None = None):
    def make(tmp: Path) -> tuple[list[str], str]:
        one = write(tmp, "case.yaml", first)
        other_folder = tmp if same_folder else tmp / "elsewhere"
        other_folder.mkdir(exist_ok=True)
        two = write(other_folder, "case.yaml" if not same_folder else "other.yaml", second)
        args = ["compare", str(one), str(two), "--out", str(tmp / "out")]
        named = str(two)
        if ensemble is not None:
            named = str(ensemble(tmp))
            args += ["--ensemble", named]
        return args, named
    return make


COMPARE_CASES = [
    Case("scenario", "compare: second file binary", compare(SCENARIO, BINARY)),
    Case("scenario", "compare: two scenarios of one name", compare(SCENARIO, SCENARIO, same_folder=False)),
    Case("scenario", "compare: --ensemble /dev/zero", compare(SCENARIO, SCENARIO.replace("case", "other"),
                                                              ensemble=lambda tmp: Path("/dev/zero"))),
    Case("scenario", "compare: --ensemble not netCDF",
         compare(SCENARIO, SCENARIO.replace("case", "other"), ensemble=lambda tmp: write(tmp, "e.nc", "run,year\n"))),
]


# --- fit files (--params) and own targets (--targets) of simulate ------------------------------------

def simulate_with(option_name: str, content: str | bytes | Callable[[Path], Path]) -> Callable:
    def make(tmp: Path) -> tuple[list[str], str]:
        path = content(tmp) if callable(content) else write(tmp, "given.yaml", content)
        return ["simulate", "baseline", option_name, str(path), "--out", str(tmp / "out")], str(path)
    return make


def beside_fit(content: str, command: list[str]) -> Callable:
    """A valid fit file with a hostile posterior.csv beside it, run by `simulate --report` or `compare`."""
    def make(tmp: Path) -> tuple[list[str], str]:
        from nxmfg.calibration.fits import SHIPPED

        fit = write(tmp, "fitted.yaml", SHIPPED.read_text(encoding="utf-8"))
        sets = tmp / "posterior.csv"
        if content == "fifo":
            os.mkfifo(sets)
        elif content == "zero":
            sets.symlink_to("/dev/zero")
        else:
            write(tmp, "posterior.csv", content)
        scenarios_run = ["baseline"] if command[0] == "simulate" else ["baseline", "plan"]
        return [command[0], *scenarios_run, *command[1:], "--params", str(fit), "--out", str(tmp / "out"),
                "--lang", "en"], str(sets)
    return make


def replace_with(content: str) -> Callable:
    def make(tmp: Path) -> tuple[list[str], str]:
        path = write(tmp, "mine.yaml", content)
        return ["simulate", "baseline", "--targets", str(path), "--targets-mode", "replace", "--out",
                str(tmp / "out")], str(path)
    return make


FIT_CASES = [
    Case("params", "not a model constant", simulate_with("--params", "no_such_constant: 1\n")),
    Case("params", "value outside the constant's range", simulate_with("--params", "rd_start_rate: 50\n")),
    Case("params", "value true", simulate_with("--params", "rd_start_rate: true\n")),
    Case("params", "value .nan", simulate_with("--params", "rd_start_rate: .nan\n")),
    Case("params", "a list, not a mapping", simulate_with("--params", "- rd_start_rate\n")),
    Case("params", "binary file", simulate_with("--params", BINARY)),
    Case("params", "/dev/zero", simulate_with("--params", lambda tmp: Path("/dev/zero"))),
    Case("params", "billion laughs", simulate_with("--params", LAUGHS)),
    Case("params", "empty file", simulate_with("--params", ""), words="no constant in it"),
    Case("params", "only comments", simulate_with("--params", "# a fit\n# nothing else\n"), words="no constant"),
    *[Case("params", f"posterior.csv beside the fit: {name}", beside_fit(content, option), words="posterior.csv")
      for name, content in [("a named pipe", "fifo"), ("a link to /dev/zero", "zero"),
                            ("a text column", "rd_start_rate\nabc\n"), ("NaN", "rd_start_rate\nnan\n"),
                            ("-1e9", "rd_start_rate\n-1e9\n"), ("no row", "rd_start_rate\n")]
      for option in (["simulate", "--report"], ["compare"])],
    Case("targets", "--targets: indicator not in the model",
         simulate_with("--targets", TARGET.replace("above_scale_firms_count", "firms_count"))),
    Case("targets", "--targets: threshold '8'", simulate_with("--targets", TARGET.replace("threshold: 1500",
                                                                                          "threshold: '8'"))),
    Case("targets", "--targets: binary file", simulate_with("--targets", BINARY)),
    Case("targets", "--targets-mode replace without a modelled target", replace_with(TARGET.replace(
        "  indicator: above_scale_firms_count\n", "").replace("kind: modelled", "kind: out_of_scope\n  reason: x")),
         words="no row of kind `modelled`"),
]


# --- study files (sensitivity) ----------------------------------------------------------------------

def study(content: str | bytes | Callable[[Path], Path], *options: str) -> Callable:
    def make(tmp: Path) -> tuple[list[str], str]:
        path = content(tmp) if callable(content) else write(tmp, "case.yaml", content)
        return ["sensitivity", str(path), "--out", str(tmp / "out"), *options], str(path)
    return make


def lever(text: str) -> str:
    return STUDY.replace("cultivation_upgrades_per_year: [0, 200]", f"cultivation_upgrades_per_year: {text}")


STUDY_CASES = [
    Case("study", "duplicate key", study(STUDY + "seed: 2\n")),
    Case("study", "duplicate lever", study(STUDY.replace("levers:\n", "levers:\n  cultivation_upgrades_per_year: "
                                                         "[0, 100]\n"))),
    Case("study", "samples '8'", study(STUDY.replace("samples: 8", "samples: '8'"))),
    Case("study", "samples 2^40", study(STUDY.replace("samples: 8", "samples: 1099511627776"))),
    Case("study", "samples x parameters too many runs", study(STUDY.replace("samples: 8", "samples: 1048576")
                                                              + "second_order: true\n")),
    Case("study", "seed '3'", study(STUDY.replace("seed: 1", "seed: '3'"))),
    Case("study", "second_order 'yes'", study(STUDY + "second_order: 'yes'\n")),
    Case("study", "normal mean .nan", study(lever("{distribution: normal, mean: .nan, sd: 10, range: [0, 200]}"))),
    Case("study", "normal without range leaves the constant's", study(lever("{distribution: normal, mean: 150, "
                                                                             "sd: 1000}"))),
    Case("study", "normal range beyond the constant's", study(lever("{distribution: normal, mean: 150, sd: 10, "
                                                                     "range: [-100, 300]}"))),
    Case("study", "normal mean outside its range", study(lever("{distribution: normal, mean: 500, sd: 10, "
                                                                "range: [0, 200]}"))),
    Case("study", "uniform range beyond the constant's", study(lever("[0, 3000]"))),
    Case("study", "range [.nan, 1]", study(lever("[.nan, 1]"))),
    Case("study", "triangular mode '50'", study(lever("{distribution: triangular, range: [0, 200], mode: '50'}"))),
    Case("study", "outcome in 2040", study(STUDY.replace("year: 2025", "year: 2040"))),
    Case("study", "levers_from 2040", study(STUDY + "levers_from: 2040\n")),
    Case("study", "levers_from after every outcome", study(STUDY + "levers_from: 2030\n")),
    Case("study", "levers_from after the targets' years", study(STUDY.replace(
        "{indicator: above_scale_firms_count, year: 2025}", "{target: B-cnc-key-processes}") + "levers_from: 2025\n")),
    Case("study", "Morris trajectories 10^9", study(STUDY + "morris: {trajectories: 1000000000}\n",
                                                    "--method", "morris")),
    Case("study", "unknown key", study(STUDY + "sampels: 8\n")),
    Case("study", "not a model constant", study(STUDY.replace("cultivation_upgrades", "cultivation_upgrade"))),
    Case("study", "binary file", study(BINARY)),
    Case("study", "Latin-1 text", study((STUDY + "description: Montréal\n").encode("latin-1"))),
    Case("study", "/dev/zero", study(lambda tmp: Path("/dev/zero"))),
    Case("study", "named pipe", study(lambda tmp: fifo(tmp, "case.yaml"))),
    Case("study", "2 MB file", study(STUDY + "description: " + "x" * 2 * MiB + "\n")),
    Case("study", "billion laughs", study(STUDY + LAUGHS.replace("a:", "junk:", 1))),
    Case("study", "empty file", study("")),
    Case("study", "samples 1", study(STUDY.replace("samples: 8", "samples: 1")), words="fewer than 4"),
    Case("study", "scenario /etc/passwd", study(STUDY + "scenario: /etc/passwd\n"), words="'/etc/passwd' is neither"),
    Case("study", "a lever on a constant read only at the start", study(STUDY.replace(
        "cultivation_upgrades_per_year: [0, 200]", "initial_above_scale_firms: [800, 1200]")), words="read only"),
]


# --- data files (calibrate --data) ------------------------------------------------------------------

def data(content: str | bytes | Callable[[Path], Path]) -> Callable:
    def make(tmp: Path) -> tuple[list[str], str]:
        path = content(tmp) if callable(content) else write(tmp, "data.csv", content)
        return ["calibrate", "--data", str(path), "--until", "2019", "--out", str(tmp / "out")], str(path)
    return make


def row(indicator: str = "above_scale_firms_count", year: str = "2015", value: str = "1150") -> str:
    return f"{HEADER}{indicator},{year},{value},unit,yearbook,,\n"


DATA_CASES = [
    Case("data", "negative count", data(row(value="-3"))),
    Case("data", "negative level", data(row("gdp_100m_yuan", value="-5"))),
    Case("data", f"history in {FUTURE}", data(row(year=str(FUTURE)))),
    Case("data", "value 1e300", data(row(value="1e300"))),
    Case("data", "share 250 %", data(row("manufacturing_share_of_gdp_pct", value="250"))),
    Case("data", "share -5 %", data(row("manufacturing_share_of_gdp_pct", value="-5"))),
    Case("data", "1_150", data(row(value="1_150"))),
    Case("data", "0x10", data(row(value="0x10"))),
    Case("data", "nan", data(row(value="nan"))),
    Case("data", "inf", data(row(value="inf"))),
    Case("data", "year 20x5", data(row(year="20x5"))),
    Case("data", "unterminated quote", data(DATA + 'gdp_100m_yuan,2016,"2853.3,yuan,x,,\n'
                                            + "gdp_100m_yuan,2017,-1,yuan,x,,\n")),
    Case("data", "stray quote", data(HEADER + 'gdp_100m_yuan,2016,"2853"3,yuan,x,,\n')),
    Case("data", "a row with too many fields", data(DATA + "gdp_100m_yuan,2016,2853.3,yuan,x,,,extra\n")),
    Case("data", "a row with too few fields", data(DATA + "gdp_100m_yuan,2016\n")),
    Case("data", "a column named twice", data(HEADER.replace("quote", "value") + "gdp_100m_yuan,2016,1,x,,,2\n")),
    Case("data", "missing value column", data(HEADER.replace("value,", "") + "gdp_100m_yuan,2016,x,,\n")),
    Case("data", "unknown indicator", data(row("gdp_in_dollars", value="10"))),
    Case("data", "empty file", data("")),
    Case("data", "Latin-1 text", data(row().replace("yearbook", "Montréal").encode("latin-1"))),
    Case("data", "NUL bytes", data(DATA.encode() + b"\x00" * 16)),
    Case("data", "/dev/zero", data(lambda tmp: Path("/dev/zero"))),
    Case("data", "named pipe", data(lambda tmp: fifo(tmp, "data.csv"))),
    Case("data", "100 MB file", data(lambda tmp: sparse(tmp, "data.csv", 100 * MiB))),
    Case("data", "GDP in 万元 (10^4 too large)", data(row("gdp_100m_yuan", value="29119000")), words="factor 10"),
    Case("data", "a share as the fraction 0.25", data(row("manufacturing_share_of_gdp_pct", value="0.25")),
         words="factor 10"),
    Case("data", "growth of -150 %/yr", data(row("gdp_real_growth_pct", value="-150")), words="yearly rate"),
    Case("data", "header only", data(HEADER), words="no usable row"),
    Case("data", "only national_* rows", data(row("national_gdp_real_growth_pct", value="7")),
         words="all-China"),
    Case("data", "only rows before 2010", data(row("gdp_100m_yuan", year="2005", value="600")), words="before 2010"),
    Case("data", "only a Q1 unit", data(HEADER + "gdp_100m_yuan,2015,600,亿元 Q1,yearbook,,\n"),
         words="first-quarter"),
]


# --- targets files (loader) -------------------------------------------------------------------------

def targets(content: str | bytes | Callable[[Path], Path]) -> Callable:
    def make(tmp: Path) -> tuple[list[str], str]:
        path = content(tmp) if callable(content) else write(tmp, "targets.yaml", content)
        return [str(path)], str(path)
    return make


def target(old: str, new: str) -> str:
    assert old in TARGET
    return TARGET.replace(old, new)


TARGET_CASES = [
    Case("targets", "threshold .nan", targets(target("threshold: 1500", "threshold: .nan"))),
    Case("targets", "threshold '8'", targets(target("threshold: 1500", "threshold: '8'"))),
    Case("targets", "year 2040", targets(target("year: 2022", "year: 2040"))),
    Case("targets", "duplicate key in a row", targets(target("year: 2022", "year: 2022\n  year: 2023"))),
    Case("targets", "duplicate id", targets(TARGET + TARGET)),
    Case("targets", "conflicts_with an unknown id", targets(TARGET + "  conflicts_with: B-nothing\n")),
    Case("targets", "unknown measure", targets(target("measure: level", "measure: median"))),
    Case("targets", "base_year after year", targets(target("measure: level", "measure: change_vs\n  base_year: 2025"))),
    Case("targets", "tolerance 0", targets(target("direction: at_least", "direction: about\n  tolerance: 0"))),
    Case("targets", "id 12", targets(target("id: B-case", "id: 12"))),
    Case("targets", "indicator not in the model", targets(target("above_scale_firms_count", "firms_count"))),
    Case("targets", "lever not a model constant", targets(target(
        "  indicator: above_scale_firms_count\n", "").replace("kind: modelled", "kind: lever\n  lever: no_such_lever\n"
                                                             "  reason: a lever"))),
    Case("targets", "a mapping, not a list", targets("B-case: {year: 2022}\n")),
    Case("targets", "empty list", targets("[]\n")),
    Case("targets", "binary file", targets(BINARY)),
    Case("targets", "Latin-1 text", targets(target("规模以上工业企业达到1500家", "Montréal").encode("latin-1"))),
    Case("targets", "/dev/zero", targets(lambda tmp: Path("/dev/zero"))),
    Case("targets", "named pipe", targets(lambda tmp: fifo(tmp, "targets.yaml"))),
    Case("targets", "5 MB file", targets(lambda tmp: sparse(tmp, "targets.yaml", 5 * MiB))),
    Case("targets", "billion laughs", targets(LAUGHS)),
    Case("targets", "threshold 1:40 (YAML 1.1 base 60)", targets(target("threshold: 1500", "threshold: 1:40"))),
    Case("targets", "mean_growth from 2010", targets(target("indicator: above_scale_firms_count",
                                                            "indicator: gdp_real_growth_pct").replace(
        "measure: level", "measure: mean_growth\n  from_year: 2010"))),
    Case("targets", "probability_at_least on GDP", targets(target("indicator: above_scale_firms_count",
                                                                  "indicator: gdp_100m_yuan").replace(
        "measure: level", "measure: probability_at_least\n  count: 2").replace("threshold: 1500", "threshold: 0.5"))),
    Case("targets", "conflicts_with its own row", targets(TARGET + "  conflicts_with: B-case\n")),
]


# --- output paths (--out of every command) ----------------------------------------------------------

def command(name: str, tmp: Path) -> list[str]:
    if name == "simulate":
        return ["simulate", str(write(tmp, "case.yaml", SCENARIO))]
    if name == "compare":
        return ["compare", str(write(tmp, "case.yaml", SCENARIO))]
    if name == "calibrate":
        return ["calibrate", "--until", "2019"]
    if name == "optimize":
        from nxmfg.optimization import study

        return ["optimize", str(Path(study.__file__).with_name("packages_2027.yaml")), "--lang", "en"]
    return ["sensitivity", str(write(tmp, "case.yaml", STUDY))]


def out(name: str, where: Callable[[Path], Path], exit_code: int = 1) -> Callable:
    def make(tmp: Path) -> tuple[list[str], str]:
        folder = where(tmp)
        return [*command(name, tmp), "--out", str(folder)], str(folder)
    return make


def under_a_file(tmp: Path) -> Path:
    return write(tmp, "results.txt", "not a folder") / "out"


def simulated(tmp: Path) -> Path:
    """A folder holding `simulate`'s outputs (its signed manifest)."""
    from nxmfg.model import files

    with files.staged_output(tmp / "simulated", "simulate") as stage:
        files.write_text(stage / "results.csv", "year,gdp\n")
    return tmp / "simulated"


OUTPUT_CASES = [
    case
    for name in ("simulate", "compare", "calibrate", "sensitivity", "optimize")
    for case in (
        Case("output", f"{name} --out under a file", out(name, under_a_file)),
        Case("output", f"{name} --out /dev/null", out(name, lambda tmp: Path("/dev/null"))),
        Case("output", f"{name} --out in a read-only folder", out(name, lambda tmp: read_only_folder(tmp) / "out")),
        Case("output", f"{name} --out with a 300-byte name", out(name, lambda tmp: tmp / ("x" * 300))),
    )
] + [Case("output", "simulate --out an existing file", out("simulate", lambda tmp: write(tmp, "f.txt", "x")),
          exit_code=2)] + [
    Case("output", f"{name} --out ''", out(name, lambda tmp: Path("''")), exit_code=2, words="an empty path")
    for name in ("simulate", "compare", "calibrate", "sensitivity", "optimize")
] + [Case("output", f"{name} into a folder of simulate's outputs", out(name, simulated), words="`nxmfg simulate`")
     for name in ("compare", "calibrate", "sensitivity", "optimize")]



# --- options ------------------------------------------------------------------------------------------

def option(name: str, *extra: str, named: str) -> Callable:
    def make(tmp: Path) -> tuple[list[str], str]:
        return [*command(name, tmp), "--out", str(tmp / "out"), *extra], named
    return make


OPTION_CASES = [
    Case("option", "sensitivity --scheduler without a port", option("sensitivity", "--scheduler", "nonsense",
                                                                     named="nonsense")),
    Case("option", "sensitivity --scheduler of an unknown scheme", option("sensitivity", "--scheduler", "foo://x:1",
                                                                          named="foo://x:1")),
    Case("option", "sensitivity --chunk-runs 0", option("sensitivity", "--chunk-runs", "0", named="--chunk-runs"),
         exit_code=2),
    Case("option", "calibrate --until 2005", option("calibrate", "--until", "2005", named="--until"), exit_code=2),
    Case("option", "simulate --lang fr", option("simulate", "--lang", "fr", named="--lang"), exit_code=2),
    Case("option", "sensitivity --scheduler without Dask", option("sensitivity", "--scheduler", "tcp://127.0.0.1:1",
                                                                  named="tcp://127.0.0.1:1"), words="nxmfg[cluster]"),
]

CLI_CASES = SCENARIO_CASES + COMPARE_CASES + FIT_CASES + STUDY_CASES + DATA_CASES + OUTPUT_CASES + OPTION_CASES


def tree(folder: Path) -> dict[str, int]:
    """Every entry under `folder`, hidden ones included, with its size (folders: -1)."""
    return {str(p.relative_to(folder)): (-1 if p.is_dir() else p.lstat().st_size) for p in folder.rglob("*")}


def message_lines(output: str) -> list[str]:
    """What the user reads as the message: not click's usage preamble."""
    return [line for line in output.splitlines() if line.strip() and not line.startswith(("Usage:", "Try "))]


@pytest.mark.parametrize("case", CLI_CASES, ids=[f"{c.kind}: {c.name}" for c in CLI_CASES])
def test_a_hostile_input_gives_one_line_naming_it_and_writes_nothing(tmp_path, monkeypatch, case):
    monkeypatch.chdir(tmp_path)            # a default output folder would land here, and be seen
    if "without Dask" in case.name:
        for name in [n for n in sys.modules if n.split(".")[0] == "distributed"] + ["distributed"]:
            monkeypatch.setitem(sys.modules, name, None)           # as on a machine without the extra
    args, named = case.make(tmp_path)
    args = ["" if arg == "''" else arg for arg in args]
    before = tree(tmp_path)
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == case.exit_code, result.output[-2000:]
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = message_lines(result.output)
    assert len(lines) == 1, result.output[-2000:]
    assert named in lines[0]
    assert case.words in lines[0]
    assert "\x1b" not in result.output          # no terminal escape reaches the terminal
    assert tree(tmp_path) == before, "the refused run wrote or left something"


@pytest.mark.parametrize("case", TARGET_CASES, ids=[f"{c.kind}: {c.name}" for c in TARGET_CASES])
def test_a_hostile_targets_file_gives_one_line_naming_it(tmp_path, case):
    """Through the loader a --targets FILE goes through: load_targets, then check_targets."""
    from nxmfg.model.indicators import INDICATORS

    (path,), named = case.make(tmp_path)
    constants = ["key_projects_per_year", "tech_upgrade_subsidy_rate"]
    with pytest.raises(ValueError, match=r"^[^\n]+$") as caught:
        scenarios.check_targets(scenarios.load_targets(path), INDICATORS, constants, path)
    assert str(caught.value).startswith(f"{named}: ")


def test_the_battery_covers_every_input_kind_with_at_least_60_cases():
    kinds = {case.kind for case in CLI_CASES + TARGET_CASES}
    assert kinds == {"scenario", "params", "study", "data", "targets", "output", "option"}
    assert len(CLI_CASES) + len(TARGET_CASES) >= 60
