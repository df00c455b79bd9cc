"""The units check (model/units.py): the shipped model, synthetic snippets, and SDXorg's test models."""

from pathlib import Path

import pytest
from pysd.translators.vensim.vensim_file import VensimFile

from nxmfg.model import MDL
from nxmfg.model.units import Problem, Vocabulary, check

SD_MODELS = Path(__file__).with_name("sd_models")
CONTROL = """
INITIAL TIME = 2010 ~ Year ~ |
FINAL TIME = 2035 ~ Year ~ |
TIME STEP = 0.25 ~ Year ~ |
SAVEPER = TIME STEP ~ Year ~ |
"""
CONSTANTS = """
revenue = 380 ~ CNY100m/Year ~ |
grant = 500 ~ CNY10k/Year ~ |
horizon = 5 ~ Year ~ |
start year = 2017 ~ Year ~ |
firm count = 1000 ~ firms ~ |
share = 0.3 ~ Dmnl ~ |
loan rate = 5.5 ~ pp ~ |
elasticity = 0.5 ~ Dmnl ~ |
"""


def problems_in(tmp_path: Path, equations: str, settings: str = "") -> list[Problem]:
    """Check `equations` (one `name = expression ~ units ~ |` per line) with the constants above."""
    path = tmp_path / "snippet.mdl"
    sketch = f"\\\\\\---/// Sketch information\n///---\\\\\\\n{settings}" if settings else ""
    path.write_text("{UTF-8}\n" + equations + CONSTANTS + CONTROL + sketch, encoding="utf-8")
    return check(path)


def found(problems: list[Problem]) -> list[tuple[str, str, str]]:
    """(variable, found units, expected units) of each problem, sorted: what the tests pin down."""
    return sorted((p.variable, p.found, p.expected) for p in problems)


def test_shipped_model_has_no_unit_problems():
    problems = check(MDL)
    assert not problems, "\n".join(map(str, problems))


def test_every_unit_of_the_shipped_model_is_in_the_vocabulary():
    """A unit name the registry does not know would silently become a new unit (a typo, say)."""
    mdl = VensimFile(MDL)
    mdl.parse()
    vocabulary = Vocabulary()
    known = dict(vocabulary.names)
    for component in mdl.sections[0].components:
        vocabulary.parse(component.units)
    assert vocabulary.names == known, sorted(set(vocabulary.names) - set(known))


@pytest.mark.parametrize(("equation", "expected"), [
    ("total = revenue + horizon ~ CNY100m/Year ~ |", ("total", "CNY100m/Year", "Year")),
    ("mixed = revenue + grant ~ CNY100m/Year ~ |", ("mixed", "CNY100m/Year", "CNY10k/Year")),
    ("rate sum = loan rate + share ~ pp ~ |", ("rate sum", "pp", "Dmnl")),
    ("late = IF THEN ELSE(Time >= 2017, 1, 0) ~ Dmnl ~ |", ("late", "2017 (a unitless literal)", "Year")),
    ("ramp = (Time - 2013) / horizon ~ Dmnl ~ |", ("ramp", "2013 (a unitless literal)", "Year")),
    ("growth = EXP(revenue) ~ Dmnl ~ |", ("growth", "CNY100m/Year", "Dmnl")),
    ("logged = LN(horizon) ~ Dmnl ~ |", ("logged", "Year", "Dmnl")),
    ("scaled = revenue^elasticity ~ CNY100m/Year ~ |", ("scaled", "CNY100m/Year", "Dmnl")),
    ("powered = share^horizon ~ Dmnl ~ |", ("powered", "Year", "Dmnl")),
    ("either = IF THEN ELSE(Time > start year, revenue, firm count) ~ CNY100m/Year ~ |",
     ("either", "CNY100m/Year", "firms")),
    ("smallest = MIN(revenue, grant) ~ CNY100m/Year ~ |", ("smallest", "CNY100m/Year", "CNY10k/Year")),
    ("fallback = XIDZ(revenue, firm count, share) ~ CNY100m/Year/firms ~ |",
     ("fallback", "Dmnl", "CNY100m/Year/firms")),
    ("smoothed = SMOOTH(revenue, firm count) ~ CNY100m/Year ~ |", ("smoothed", "firms", "Year")),
    ("delayed = DELAY FIXED(revenue, horizon, grant) ~ CNY100m/Year ~ |",
     ("delayed", "CNY10k/Year", "CNY100m/Year")),
    ("per firm = revenue / firm count ~ CNY10k/Year/firms ~ |",
     ("per firm", "CNY100m/Year/firms", "CNY10k/Year/firms")),
    ("unlabelled = 2 * share ~ ~ |", ("unlabelled", "(none)", "units")),
])
def test_conflicts_are_reported_with_the_variable_and_both_units(tmp_path, equation, expected):
    assert found(problems_in(tmp_path, equation + "\n")) == [expected]


def test_a_flow_in_the_wrong_time_unit_is_reported_on_its_stock(tmp_path):
    problems = problems_in(tmp_path, """
Capital = INTEG(investment, 0) ~ CNY100m ~ |
investment = 40 ~ CNY100m/Month ~ |
""")
    assert found(problems) == [("Capital", "CNY100m/Month", "CNY100m/Year")]
    assert "per Year" in problems[0].explanation


def test_a_stock_with_a_literal_initial_value_is_reported(tmp_path):
    problems = problems_in(tmp_path, "Firms = INTEG(0, 1000) ~ firms ~ |\n")
    assert found(problems) == [("Firms", "1000 (a unitless literal)", "firms")]


def test_a_lookup_called_with_the_wrong_units_is_reported(tmp_path):
    problems = problems_in(tmp_path, """
crowding effect table([(0,0)-(2,2)],(0,1),(2,0.5)) ~ Dmnl ~ |
crowding effect = crowding effect table(firm count) ~ Dmnl ~ |
growth outlook([(2020,0)-(2035,1)],(2020,0.06),(2035,0.035)) ~ 1/Year ~ |
outlook growth = growth outlook(Time) ~ 1/Year ~ |
misused growth = growth outlook(revenue) ~ 1/Year ~ |
""")
    assert found(problems) == [("crowding effect", "firms", "Dmnl"), ("misused growth", "CNY100m/Year", "Year")]


def test_unhandled_constructs_fail_loudly(tmp_path):
    problems = problems_in(tmp_path, "noise = RANDOM UNIFORM(0, 1, 0) ~ Dmnl ~ |\n")
    assert [(p.variable, p.explanation) for p in problems] == [
        ("noise", "cannot check: the function RANDOM UNIFORM with 3 arguments")]


def test_a_correct_stock_and_flow_passes(tmp_path):
    assert problems_in(tmp_path, """
Capital = INTEG(investment - depreciation, initial capital) ~ CNY100m ~ |
initial capital = 1700 ~ CNY100m ~ |
investment = 40 ~ CNY100m/Year ~ |
depreciation = Capital * depreciation rate ~ CNY100m/Year ~ |
depreciation rate = 0.08 ~ 1/Year ~ |
expected capital = SMOOTH(Capital, horizon) ~ CNY100m ~ |
Small Firms = INTEG(births - MAX(0, exits), 0) ~ firms ~ |
births = Small Firms * birth rate * (1 - share) ~ firms/Year ~ |
exits = 0.5 * Small Firms / horizon ~ firms/Year ~ |
birth rate = 0.06 ~ 1/year ~ |
""") == []


def test_a_units_carrying_conversion_constant_passes(tmp_path):
    assert problems_in(tmp_path, """
grant in 100m = grant * CNY100m per CNY10k ~ CNY100m/Year ~ |
CNY100m per CNY10k = 0.0001 ~ CNY100m/CNY10k ~ |
funding = revenue + grant in 100m ~ CNY100m/Year ~ |
""") == []


def test_dimensionless_literals_and_constant_exponents_pass(tmp_path):
    assert problems_in(tmp_path, """
rest = 1 - share ~ Dmnl ~ |
half = 0.5 * revenue ~ CNY100m/Year ~ |
squared = revenue^2 ~ CNY100m^2/Year^2 ~ |
root = SQRT(horizon) ~ Year^0.5 ~ |
discount = EXP(-share * (Time - INITIAL TIME) / horizon) ~ Dmnl ~ |
gain per firm = 0.002 ~ Dmnl/firm ~ |
total gain = firm count * gain per firm ~ Dmnl ~ |
after start = IF THEN ELSE(Time >= start year, revenue, 0) ~ CNY100m/Year ~ |
""") == []


def test_vensim_equivalences_in_the_settings_are_honoured(tmp_path):
    """Without `22:Month,Months` Vensim treats them as two units; the check follows the settings."""
    equations = "Stock = INTEG(flow, 0) ~ widgets ~ |\nflow = 1 ~ widgets/Months ~ |\n"
    monthly = CONTROL.replace("Year", "Month")
    path = tmp_path / "monthly.mdl"
    for settings, expected in (("", [("Stock", "widgets/Months", "widgets/Month")]), ("22:Month,Months\n", [])):
        sketch = f"\\\\\\---/// Sketch information\n///---\\\\\\\n{settings}"
        path.write_text("{UTF-8}\n" + equations + monthly + sketch, encoding="utf-8")
        assert found(check(path)) == expected


# Every model in tests/sd_models whose variables all declare units, and what the check finds there.
# None but the oscillator passes. The reasons are genuine under Vensim's rules: teacup declares
# `Minutes` for a time in `Minute` with no `22:Minute,Minutes` equivalence; stocks start at a bare
# number (teacup 180, SIR 5, limits 1); trend takes SIN of Time in Month and uses `fraction` (no Vensim
# synonym of Dmnl); the unicode model declares `D` for a dimensionless product.
TEACUP = [("Heat Loss to Room", "Degrees_Fahrenheit/Minutes", "Degrees_Fahrenheit/Minute"),
          ("Teacup Temperature", "180 (a unitless literal)", "Degrees_Fahrenheit")]
DECLARED = {
    "samples/simple_harmonic_oscillator/simple_harmonic_oscillator.mdl": [],
    "samples/teacup/teacup.mdl": TEACUP,
    "tests/odd_number_quotes/teacup_3quotes.mdl": TEACUP,
    "samples/SIR/SIR.mdl": [("Infectious", "5 (a unitless literal)", "person")],
    "tests/limits/test_limits.mdl": [("Limited Stock", "1 (a unitless literal)", "Widgets")],
    "tests/trend/test_trend.mdl": [("TREND of input", "fraction/Month", "1/Month"), ("input", "Month", "Dmnl")],
    "tests/unicode_characters/unicode_test_model.mdl": [("this is a spanish variable with ñ ç", "Dmnl", "D")],
}


@pytest.mark.parametrize("mdl", sorted(DECLARED))
def test_sd_models_that_declare_units(mdl):
    assert found(check(SD_MODELS / mdl)) == DECLARED[mdl]


def test_the_other_sd_models_leave_some_units_undeclared():
    """So DECLARED is the complete list: a model gaining units must join it."""
    others = sorted(str(p.relative_to(SD_MODELS)) for p in SD_MODELS.rglob("*.mdl")
                    if str(p.relative_to(SD_MODELS)) not in DECLARED)
    complete = [mdl for mdl in others
                if not any(p.explanation == "no units declared" for p in check(SD_MODELS / mdl))]
    assert len(others) > 40
    assert complete == []
