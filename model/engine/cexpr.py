"""One equation of PySD's translation as a C expression, with the same floating-point operations.

Every operation keeps Python's order and rounding: fully parenthesised IEEE double arithmetic (the build
forbids contracting a*b+c into a fused multiply-add); `a ** b` is the C library's pow, as Python's own
`**` on floats; numpy's transcendental functions (np.power, np.exp, np.log, ...) call numpy's own
float64 kernels (`KERNELS`, handed to the library at load) once on a block of runs, because on some CPUs
they round differently from the C library's and the model's feedback amplifies the last bit (issue 13). np.minimum and
np.maximum keep numpy's NaN rule; lookups follow np.interp (model/engine/cruntime.h).
"""

import ast
import math
from collections.abc import Callable

from nxmfg.model.engine.equations import NotCompilable
from nxmfg.model.engine.transform import ARRAY_FLOAT

KERNELS = ("power", "exp", "log", "log10", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh",
           "cosh", "tanh")       # numpy ufuncs called through their float64 loops
EXACT = {"abs": "fabs", "sqrt": "sqrt", "isnan": "isnan", "minimum": "nx_minimum", "maximum": "nx_maximum"}
CONSTANTS = {"nan": "NAN", "inf": "INFINITY", "pi": repr(math.pi), "e": repr(math.e)}
OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Lt: "<", ast.LtE: "<=",
             ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}


class Translator:
    """Turns expressions into C; `value(name)` gives the C value of a component or stateful object,
    `lookup(name, x)` the C call of a lookup at x, `table(xs, ys)` the name of an inline table, and
    `kernel(k, args)` the C value of numpy kernel k on the arguments (the generator computes it on the
    whole block of runs before the expression's loop)."""

    def __init__(self, value: Callable[[str], str], lookup: Callable[[str, str], str | None],
                 table: Callable[[list, list], str], kernel: Callable[[int, list[str]], str], variable: str = ""):
        self.value, self.lookup, self.table, self.kernel, self.variable = value, lookup, table, kernel, variable

    def refuse(self, what: str) -> NotCompilable:
        return NotCompilable(f"variable {self.variable!r} uses {what}")

    def c(self, node: ast.expr) -> str:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise self.refuse(f"the Python construct {ast.unparse(node)!r}")
        return method(node)

    def _Constant(self, node: ast.Constant) -> str:
        if isinstance(node.value, bool):
            return "1.0" if node.value else "0.0"
        if not isinstance(node.value, int | float):
            raise self.refuse(f"the constant {node.value!r}")
        return number(float(node.value))

    def _BinOp(self, node: ast.BinOp) -> str:
        left, right = self.c(node.left), self.c(node.right)
        if isinstance(node.op, ast.Pow):
            return f"pow({left}, {right})"
        if type(node.op) not in OPERATORS:
            raise self.refuse(f"the operator in {ast.unparse(node)!r}")
        return f"({left} {OPERATORS[type(node.op)]} {right})"

    def _UnaryOp(self, node: ast.UnaryOp) -> str:
        operand = self.c(node.operand)
        symbol = {ast.USub: "-", ast.UAdd: "+", ast.Not: "!"}.get(type(node.op))
        if symbol is None:
            raise self.refuse(f"the operator in {ast.unparse(node)!r}")
        return f"({symbol}{operand})" if symbol != "!" else f"((double)!({operand}))"

    def _Compare(self, node: ast.Compare) -> str:
        parts, left = [], node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            if type(op) not in OPERATORS:
                raise self.refuse(f"the comparison in {ast.unparse(node)!r}")
            parts.append(f"({self.c(left)} {OPERATORS[type(op)]} {self.c(right)})")
            left = right
        return f"((double)({' && '.join(parts)}))"

    def _IfExp(self, node: ast.IfExp) -> str:
        return f"(({self.c(node.test)}) ? {self.c(node.body)} : {self.c(node.orelse)})"

    def _Attribute(self, node: ast.Attribute) -> str:
        if isinstance(node.value, ast.Name) and node.value.id == "np" and node.attr in CONSTANTS:
            return CONSTANTS[node.attr]
        raise self.refuse(ast.unparse(node))

    def _Lambda(self, node: ast.Lambda) -> str:
        return self.c(node.body)

    def _Call(self, node: ast.Call) -> str:
        function = ast.unparse(node.func)
        args = node.args
        if function.startswith("np."):
            return self._numpy(function[3:], args)
        if function in ("if_then_else", "xidz", "zidz", "step", "ramp", "float", "abs", ARRAY_FLOAT):
            return self._pysd("float" if function == ARRAY_FLOAT else function, args)
        if isinstance(node.func, ast.Name) and not args:
            return self.value(node.func.id)
        if isinstance(node.func, ast.Name) and len(args) in (1, 2):  # a lookup: f(x) or f(x, final_subs)
            call = self.lookup(node.func.id, self.c(args[0]))
            if call is not None:
                return call
        raise self.refuse(f"the call {function}()")

    def _numpy(self, name: str, args: list[ast.expr]) -> str:
        if name == "interp" and len(args) == 3:     # an inline table: np.interp(x, [xs], [ys])
            xs, ys = (ast.literal_eval(a) for a in args[1:])
            return f"nx_interp_at({self.c(args[0])}, {self.table(list(xs), list(ys))})"
        values = [self.c(a) for a in args]
        if name in KERNELS:
            return self.kernel(KERNELS.index(name), values)
        if name in EXACT:
            return f"{EXACT[name]}({', '.join(values)})"
        if name in ("logical_and", "logical_or"):
            return f"((double)(({values[0]}) {'&&' if name == 'logical_and' else '||'} ({values[1]})))"
        if name == "logical_not":
            return f"((double)!({values[0]}))"
        raise self.refuse(f"numpy np.{name}")

    def _pysd(self, name: str, args: list[ast.expr]) -> str:
        if name == "if_then_else":
            condition, yes, no = (self.c(a) for a in args)
            return f"(({condition}) ? {yes} : {no})"
        if name in ("xidz", "zidz"):
            values = [self.c(a) for a in args] + (["0.0"] if name == "zidz" else [])
            return f"nx_xidz({', '.join(values)})"
        if name == "step":       # PySD: value * (time() + time_step / 2 > tstep)
            return f"({self.c(args[1])} * (double)((t + (dt / 2.0)) > {self.c(args[2])}))"
        if name == "ramp":       # PySD: (t + SMALL_VENSIM > start) * slope * (final - start)
            slope, start = self.c(args[1]), self.c(args[2])
            final = "t" if len(args) < 4 else f"nx_minimum({self.c(args[3])}, t)"
            return f"((((double)((t + 1e-06) > {start})) * {slope}) * ({final} - {start}))"
        if len(args) != 1:
            raise self.refuse(f"{name}() with {len(args)} arguments")
        value = self.c(args[0])
        return value if name == "float" else f"fabs({value})"


def number(value: float) -> str:
    """A double literal C reads back to the same bits (Python's repr is the shortest round trip)."""
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INFINITY" if value > 0 else "(-INFINITY)"
    text = repr(value)
    return text if any(ch in text for ch in ".en") else text + ".0"
