"""Dimensional consistency of a Vensim model, as Vensim's Units Check does it (PySD has none).

`check(mdl)` parses the model with PySD's own Vensim translator, reads each variable's declared units
(the units field before any `[min,max]`), works out the units of every equation from its abstract
syntax with pint, and returns the conflicts. `python -m nxmfg.model.units model/nxmfg.mdl` prints them, one
line each, and exits 1 if there are any.

Readings chosen where Vensim leaves room, each the stricter one:

- Every named unit is its own dimension. CNY100m (亿元) and CNY10k (万元), tce and tce10k, person and
  persons10k are different units, as in Vensim unless the modeller declares an equivalence; a conversion
  goes through a named constant with units such as `CNY10k/CNY100m`. Aliases (firm = firms, Years =
  Year) come from `VOCABULARY` below and from the model's own Vensim equivalences (`22:` settings lines).
- `pp` (percentage points) is a dimension of its own, not dimensionless: 1 pp = 0.01 Dmnl, so mixing pp
  with a fraction (5.5 against 0.055) is exactly the slip to catch.
- Numeric literals are unitless. One that meets a quantity with units (`Time >= 2017`,
  `Year - 1`) is reported: literal numbers with units are named constants. Zero is the exception: it is
  the same in every unit, so `MAX(0, x)` and `INTEG(flow, 0)` pass. An equation made only of literals
  (a constant, a table) takes its declared units.
- A lookup returns its declared units. Its x axis is Dmnl (normalise the input, as Vensim expects),
  except for a lookup called on `Time` somewhere in the model, whose x axis is the time unit.
- The time unit is the declared unit of TIME STEP (Year in nxmfg.mdl); INITIAL TIME, FINAL TIME,
  SAVEPER and `Time` are in it.
- Unit names not in `VOCABULARY` become new units of their own, as Vensim treats any name.

A conflict makes its sub-expression's units unknown, and the equation is compared with its declared
units only when nothing inside it conflicted, so one slip is reported once, not as a cascade. Whatever the
translator yields that this module does not handle is reported as "cannot check: ...", never passed.
"""

import dataclasses
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pint
from pysd.translators.structures import abstract_expressions as ae
from pysd.translators.vensim.vensim_element import Lookup
from pysd.translators.vensim.vensim_file import VensimFile

VOCABULARY = (  # name, pint definition, aliases: every unit nxmfg.mdl uses
    ("Year", "[time]", ("Years",)),  # the time unit
    ("Dmnl", "1", ()),  # Vensim's dimensionless
    ("CNY100m", "[CNY100m]", ()),  # 亿元
    ("CNY10k", "[CNY10k]", ()),  # 万元
    ("persons10k", "[persons10k]", ()),  # 万人
    ("person", "[person]", ("persons", "people")),
    ("firms", "[firms]", ("firm",)),
    ("projects", "[projects]", ("project",)),
    ("patents", "[patents]", ("patent",)),
    ("tce", "[tce]", ()),  # tonnes of standard coal equivalent
    ("tce10k", "[tce10k]", ()),  # 万吨标准煤
    ("tCO2_10k", "[tCO2_10k]", ()),  # 万吨 CO2
    ("m3", "[m3]", ()),  # cubic metres of water
    ("m3_10k", "[m3_10k]", ()),  # 万立方米
    ("CNY", "[CNY]", ()),  # yuan
    ("tonne", "[tonne]", ("tonnes",)),  # of coal (the coal price is CNY/tonne)
    ("pp", "[pp]", ()),  # percentage points, see the module docstring
)
CONTROL = ("time_step", "initial_time", "final_time", "saveper")
DELAYS = {ae.SmoothStructure: ("smooth_time", False), ae.SmoothNStructure: ("smooth_time", True),
          ae.DelayStructure: ("delay_time", False), ae.DelayNStructure: ("delay_time", True),
          ae.DelayFixedStructure: ("delay_time", False)}  # structure: its time field, an order to check
DIMENSIONLESS = ("exp", "ln", "log", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
                 "tanh")


@dataclass(frozen=True)
class Problem:
    """One units conflict. `found`/`expected`: the two units (for two operands: the first, the second)."""

    variable: str
    equation: str
    found: str
    expected: str
    explanation: str

    def __str__(self) -> str:
        return f"{self.variable}: {self.explanation} [{self.found} vs {self.expected}] in: {self.equation}"


@dataclass(frozen=True)
class _Term:
    """Units of a sub-expression; `units` None means unknown (already reported), which matches anything."""

    units: pint.Unit | None
    literal: float | None = None  # the value, when the sub-expression is made of numbers only


UNKNOWN = _Term(None)


class Vocabulary:
    """A pint registry of the model's units, looked up case-insensitively as Vensim does."""

    def __init__(self) -> None:
        self.registry = pint.UnitRegistry(None)
        self.names: dict[str, str] = {"dimensionless": "Dmnl"}
        for name, definition, aliases in VOCABULARY:
            self.define(name, definition)
            for alias in aliases:
                self.define(alias, name)
        self.dmnl = self.registry.parse_units("Dmnl")

    def define(self, name: str, definition: str | None = None) -> str:
        """Add `name` (a new dimension by default) and return its pint identifier."""
        identifier = re.sub(r"\W", lambda m: f"_{ord(m.group()):x}_", name.replace(" ", "_"))
        identifier = identifier if identifier[0].isalpha() else f"u{identifier}"
        while identifier in self.registry:  # `a b` and `a_b` are different Vensim names
            identifier += "_"
        self.registry.define(f"{identifier} = {definition or f'[{identifier}]'}")
        self.names[name.lower()] = identifier
        return identifier

    def parse(self, text: str) -> pint.Unit:
        """Units of a Vensim units string such as `tce10k/CNY100m/Year` or `Dmnl/firm`."""
        pieces = []
        for token in (" ".join(t.split()) for t in re.split(r"([*/()^])", text)):
            if token in ("*", "/", "(", ")", "^"):
                pieces.append("**" if token == "^" else token)
            elif re.fullmatch(r"[-+.\d]+", token):
                pieces.append(token)
            elif token:
                pieces.append(self.names.get(token.lower()) or self.define(token))
        return self.registry.parse_units("".join(pieces))

    def equate(self, names: list[str]) -> None:
        """A Vensim equivalence (`22:$,Dollar,Dollars`): later names are aliases of the first known one."""
        known = [n for n in names if n.lower() in self.names]
        base = self.names[known[0].lower()] if known else self.define(names[0])
        for name in names:
            if name.lower() not in self.names:
                self.define(name, base)

    def same(self, a: pint.Unit, b: pint.Unit) -> bool:
        (fa, ra), (fb, rb) = self.registry.get_root_units(a), self.registry.get_root_units(b)
        return ra == rb and math.isclose(fa, fb)

    def show(self, unit: pint.Unit | None) -> str:
        if unit is None:
            return "unknown"
        factor, root = self.registry.get_root_units(unit)
        text = "Dmnl" if root.dimensionless else f"{root:C}".replace("**", "^")
        return text if math.isclose(factor, 1) else f"{factor:g} {text}"


def check(mdl_path: str | Path) -> list[Problem]:
    """Every units problem of the model's main section (macros are not checked)."""
    mdl = VensimFile(mdl_path)
    mdl.parse()
    components = mdl.sections[0].components
    vocabulary = Vocabulary()
    for names in _equivalences(Path(mdl_path)):
        vocabulary.equate(names)
    model = _Model(vocabulary, components)
    for component in components:
        _Equation(model, component).check()
    return model.problems


def _equivalences(mdl_path: Path) -> list[list[str]]:
    """Vensim's units equivalences: the `22:` lines of the settings after the sketch."""
    settings = mdl_path.read_text(encoding="utf-8", errors="ignore").partition("///---\\\\\\")[2]
    return [[n.strip() for n in line[3:].split(",") if n.strip()]
            for line in settings.splitlines() if line.startswith("22:")]


class _Model:
    """What every equation needs: declared units, original names, lookups and the time unit."""

    def __init__(self, vocabulary: Vocabulary, components: list) -> None:
        self.vocabulary = vocabulary
        self.problems: list[Problem] = []
        self.names = {"time": "Time"}
        self.declared: dict[str, pint.Unit | None] = {}
        for component in components:
            key = _key(component.name)
            self.names.setdefault(key, component.name)
            if component.units or key not in self.declared:
                self.declared[key] = self._parse(component)
        self.undeclared = {_key(c.name) for c in components} - {_key(c.name) for c in components if c.units}
        self.lookups = {_key(c.name) for c in components if isinstance(c, Lookup)}
        self.time_lookups = {node.function.reference for c in components for node in _walk(c.ast)
                             if isinstance(node, ae.CallStructure) and node.function.reference in self.lookups
                             and node.arguments == (ae.ReferenceStructure("time"),)}
        self.time = next((self.declared[c] for c in CONTROL if self.declared.get(c) is not None), None)

    def _parse(self, component) -> pint.Unit | None:
        if not component.units:
            return None
        try:
            return self.vocabulary.parse(component.units)
        except (pint.PintError, ValueError, SyntaxError, TypeError) as error:
            self.problems.append(Problem(component.name, component.units, component.units, "units",
                                         f"cannot check: units string ({error})"))
            return None


class _Equation:
    """The units of one equation, from PySD's abstract syntax, reporting conflicts on the way."""

    def __init__(self, model: _Model, component) -> None:
        self.model, self.component = model, component
        self.declared = model.declared[_key(component.name)]
        self.vocabulary = model.vocabulary
        self.problems: list[Problem] = []

    def check(self) -> None:
        name, ast = self.component.name, self.component.ast
        if _key(name) in self.model.undeclared:
            self._report(ast, "(none)", "units", "no units declared")
        if _key(name) in CONTROL and not self._same(self.declared, self.model.time):
            self._report(ast, self._show(self.declared), self._show(self.model.time),
                         "simulation control variables are in the time unit")
        if not (_is_number(ast) or isinstance(ast, np.ndarray | ae.LookupsStructure)):
            try:  # a number, array or table alone is a named constant: it has its declared units
                term = self.units(ast)
            except (ArithmeticError, AttributeError, TypeError, ValueError, pint.PintError) as error:
                term = self._cannot(ast, f"{type(error).__name__}: {error}")  # report, don't crash
            if not self.problems and term.literal is None and not self._same(term.units, self.declared):
                self._report(ast, self._show(term.units), self._show(self.declared),
                             "the equation's units differ from the declared units")
        self.model.problems.extend(self.problems)

    def units(self, node) -> _Term:
        if _is_number(node):
            return _Term(self.vocabulary.dmnl, float(node))
        if type(node) in DELAYS:
            return self._delay(node, *DELAYS[type(node)])
        handler = getattr(self, f"_{type(node).__name__}", None)
        return handler(node) if handler else self._cannot(node, type(node).__name__)

    def _ReferenceStructure(self, node: ae.ReferenceStructure) -> _Term:
        if node.reference == "time":
            return _Term(self.model.time)
        if node.reference in self.model.lookups:
            return self._cannot(node, "a lookup used without an argument")
        if node.reference not in self.model.declared:
            return self._cannot(node, "a reference to an undefined name")
        return _Term(self.model.declared[node.reference])

    def _ArithmeticStructure(self, node: ae.ArithmeticStructure) -> _Term:
        terms = [self.units(argument) for argument in node.arguments]
        if node.operators == ["negative"]:
            return _Term(terms[0].units, None if terms[0].literal is None else -terms[0].literal)
        result = terms[0]
        for operator, term in zip(node.operators, terms[1:], strict=True):
            if operator in ("+", "-") and result.literal is not None and term.literal is not None:
                result = _Term(result.units, result.literal + (term.literal if operator == "+" else -term.literal))
            elif operator in ("+", "-"):
                result = self._expect(result, term, node, f"the operands of {operator} need equal units")
            elif operator in ("*", "/"):
                result = self._product(result, term, operator)
            elif operator == "^":
                result = self._power(result, term, node)
            else:
                return self._cannot(node, f"the operator {operator}")
        return result

    def _LogicStructure(self, node: ae.LogicStructure) -> _Term:
        terms = [self.units(argument) for argument in node.arguments]
        if all(op in ("=", "<>", "<", "<=", ">", ">=") for op in node.operators):
            for term in terms[1:]:
                self._expect(terms[0], term, node, "the two sides of a comparison need equal units")
        else:  # :AND:, :OR:, :NOT: combine conditions
            for term in terms:
                self._dimensionless(term, node, "the operands of :AND:, :OR:, :NOT: are dimensionless")
        return _Term(self.vocabulary.dmnl)

    def _CallStructure(self, node: ae.CallStructure) -> _Term:
        function, arguments = node.function.reference, node.arguments
        if function in self.model.lookups:
            return self._lookup(node, function, arguments)
        terms = [self.units(argument) for argument in arguments]
        time, label = _Term(self.model.time), function.upper().replace("_", " ")
        match function, terms:
            case ("min" | "max" | "modulo" | "active_initial" | "quantum"), [first, *rest]:
                for term in rest:
                    first = self._expect(first, term, node, f"the arguments of {label} need equal units")
                return first
            case "if_then_else", [_, then, otherwise]:
                return self._expect(then, otherwise, node, "the branches of IF THEN ELSE need equal units")
            case "xidz", [numerator, denominator, fallback]:
                ratio = self._product(numerator, denominator, "/")
                return self._expect(fallback, ratio, node, "XIDZ's fallback needs the units of the quotient")
            case "zidz", [numerator, denominator]:
                return self._product(numerator, denominator, "/")
            case _, [*_] if function in DIMENSIONLESS:
                for term in terms:
                    self._dimensionless(term, node, f"the argument of {label} must be dimensionless")
                return _Term(self.vocabulary.dmnl)
            case ("abs" | "integer" | "sum" | "vmin" | "vmax"), [term]:
                return _Term(term.units)
            case "sqrt", [term]:
                return self._power(term, _Term(self.vocabulary.dmnl, 0.5), node)
            case "power", [base, exponent]:
                return self._power(base, exponent, node)
            case "step", [height, start]:
                self._expect(start, time, node, "STEP's time is in the time unit")
                return height
            case "ramp", [slope, *times]:
                for term in times:
                    self._expect(term, time, node, "RAMP's start and end are in the time unit")
                return self._product(slope, time, "*")
            case ("pulse" | "pulse_train"), [*times]:
                for term in times:
                    self._expect(term, time, node, f"{label}'s times are in the time unit")
                return _Term(self.vocabulary.dmnl)
        return self._cannot(node, f"the function {label} with {len(arguments)} arguments")

    def _lookup(self, node: ae.CallStructure, function: str, arguments: tuple) -> _Term:
        if len(arguments) != 1:
            return self._cannot(node, f"the lookup {self.model.names[function]} with {len(arguments)} arguments")
        axis = self.model.time if function in self.model.time_lookups else self.vocabulary.dmnl
        self._expect(self.units(arguments[0]), _Term(axis), node,
                     "a lookup's argument needs the units of its x axis")
        return _Term(self.model.declared[function])

    def _InlineLookupsStructure(self, node: ae.InlineLookupsStructure) -> _Term:
        on_time = node.argument == ae.ReferenceStructure("time")
        axis = self.model.time if on_time else self.vocabulary.dmnl
        self._expect(self.units(node.argument), _Term(axis), node, "WITH LOOKUP's input needs the x axis' units")
        return _Term(self.declared)

    def _IntegStructure(self, node: ae.IntegStructure) -> _Term:
        flow, initial = self.units(node.flow), self.units(node.initial)
        stock = _Term(self.declared) if self.declared is not None else self._product(flow, _Term(self.model.time), "*")
        rate = self._product(stock, _Term(self.model.time), "/")
        self._expect(flow, rate, node, f"a stock's flow needs the stock's units per {self._show(self.model.time)}")
        self._expect(initial, stock, node, "a stock's initial value needs the stock's units")
        return stock

    def _delay(self, node, time: str, order: bool) -> _Term:
        """SMOOTH, DELAY: the output and the initial value have the input's units; the time is in Year."""
        signal = self.units(node.input)
        self._expect(self.units(getattr(node, time)), _Term(self.model.time), node,
                     "a delay or smoothing time is in the time unit")
        self._expect(self.units(node.initial), signal, node, "the initial value needs the input's units")
        if order:  # SMOOTH N, DELAY N: the order may be an expression
            self._dimensionless(self.units(node.order), node, "the order is dimensionless")
        return signal

    def _TrendStructure(self, node: ae.TrendStructure) -> _Term:
        self.units(node.input)
        self._expect(self.units(node.average_time), _Term(self.model.time), node, "TREND's time is in the time unit")
        rate = self._product(_Term(self.vocabulary.dmnl), _Term(self.model.time), "/")
        return self._expect(self.units(node.initial_trend), rate, node, "TREND's initial value is a rate per time")

    def _SampleIfTrueStructure(self, node: ae.SampleIfTrueStructure) -> _Term:
        self.units(node.condition)
        return self._expect(self.units(node.initial), self.units(node.input), node,
                            "the initial value needs the input's units")

    def _InitialStructure(self, node: ae.InitialStructure) -> _Term:
        return self.units(node.initial)

    def _GameStructure(self, node: ae.GameStructure) -> _Term:
        return self.units(node.expression)

    def _product(self, a: _Term, b: _Term, operator: str) -> _Term:
        if a.units is None or b.units is None:
            return UNKNOWN
        both = a.literal is not None and b.literal is not None
        if operator == "*":
            return _Term(a.units * b.units, a.literal * b.literal if both else None)
        value = a.literal / b.literal if both and b.literal else None
        return _Term(a.units / b.units, value)

    def _power(self, base: _Term, exponent: _Term, node) -> _Term:
        self._dimensionless(exponent, node, "an exponent must be dimensionless")
        if base.units is None:
            return UNKNOWN
        if self._same(base.units, self.vocabulary.dmnl):
            both = base.literal is not None and exponent.literal is not None
            return _Term(base.units, base.literal ** exponent.literal if both and base.literal > 0 else None)
        if exponent.literal is None:
            self._report(node, self._show(base.units), "Dmnl",
                         "a base with units needs a constant numeric exponent")
            return UNKNOWN
        return _Term(base.units ** exponent.literal)

    def _expect(self, found: _Term, expected: _Term, node, why: str) -> _Term:
        """`found` and `expected` must have equal units; returns the units the expression goes on with."""
        if found.units is None or found.literal == 0:
            return expected
        if expected.units is None or expected.literal == 0 or self._same(found.units, expected.units):
            return found if found.literal is None or expected.literal is not None else expected
        if (found.literal is None) != (expected.literal is None):  # one side is a bare number
            number, other = (found, expected) if found.literal is not None else (expected, found)
            self._report(node, f"{number.literal:g} (a unitless literal)", self._show(other.units),
                         "a literal number used as a quantity with units: make it a named constant")
            return UNKNOWN
        self._report(node, self._show(found.units), self._show(expected.units), why)
        return UNKNOWN

    def _dimensionless(self, term: _Term, node, why: str) -> None:
        self._expect(term, _Term(self.vocabulary.dmnl), node, why)

    def _same(self, a: pint.Unit | None, b: pint.Unit | None) -> bool:
        return a is None or b is None or self.vocabulary.same(a, b)

    def _show(self, unit: pint.Unit | None) -> str:
        return self.vocabulary.show(unit)

    def _cannot(self, node, what: str) -> _Term:
        self._report(node, "?", "?", f"cannot check: {what}")
        return UNKNOWN

    def _report(self, node, found: str, expected: str, explanation: str) -> None:
        excerpt = _render(node, self.model.names)
        self.problems.append(Problem(self.component.name, excerpt, found, expected, explanation))


def _key(name: str) -> str:
    """PySD's reference form of a Vensim name: `Above Scale Firms` -> `above_scale_firms`."""
    return "_".join(name.lower().split())


def _is_number(node) -> bool:
    return isinstance(node, int | float | np.integer | np.floating) and not isinstance(node, bool)


def _walk(node):
    """Every abstract-syntax node under `node`, itself included."""
    if isinstance(node, ae.AbstractSyntax):
        yield node
        for field in dataclasses.fields(node):
            yield from _walk(getattr(node, field.name))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from _walk(item)


VENSIM_NAMES = {ae.IntegStructure: "INTEG", ae.SmoothStructure: "SMOOTH", ae.SmoothNStructure: "SMOOTH N",
                ae.DelayStructure: "DELAY", ae.DelayNStructure: "DELAY N", ae.DelayFixedStructure: "DELAY FIXED",
                ae.InitialStructure: "INITIAL", ae.TrendStructure: "TREND",
                ae.SampleIfTrueStructure: "SAMPLE IF TRUE", ae.InlineLookupsStructure: "WITH LOOKUP"}


def _render(node, names: dict[str, str]) -> str:
    """Vensim-like text of a sub-expression, for messages (PySD keeps no source positions)."""
    def inner(child) -> str:
        text = _render(child, names)
        return f"({text})" if isinstance(child, ae.ArithmeticStructure | ae.LogicStructure) else text

    match node:
        case _ if _is_number(node):
            return f"{node:g}"
        case ae.ReferenceStructure(reference=reference):
            return names.get(reference, reference)
        case ae.ArithmeticStructure(operators=["negative"]) | ae.LogicStructure(operators=[":NOT:"]):
            return f"{'-' if node.operators == ['negative'] else ':NOT: '}{inner(node.arguments[0])}"
        case ae.ArithmeticStructure() | ae.LogicStructure():
            parts = [inner(node.arguments[0])]
            for operator, argument in zip(node.operators, node.arguments[1:], strict=True):
                parts += [operator, inner(argument)]
            return " ".join(parts)
        case ae.CallStructure(function=function, arguments=arguments):
            name = names.get(function.reference, function.reference.upper().replace("_", " "))
            return f"{name}({', '.join(_render(a, names) for a in arguments)})"
        case ae.LookupsStructure():
            return "(lookup table)"
        case ae.AbstractSyntax():
            fields = [getattr(node, f.name) for f in dataclasses.fields(node)]
            shown = [_render(f, names) for f in fields if isinstance(f, ae.AbstractSyntax) or _is_number(f)]
            return f"{VENSIM_NAMES.get(type(node), type(node).__name__)}({', '.join(shown)})"
    return repr(node)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m nxmfg.model.units MODEL.mdl", file=sys.stderr)
        return 2
    problems = check(argv[0])
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
