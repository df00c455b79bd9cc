"""PySD's translated module read as data: components, stateful objects, lookup tables, control variables.

The compiled path (`model.engine.cgen`) generates C from this, and the engine takes its facts (kinds of
the inputs, dependencies, the time axis) from it without loading a model. Everything comes from what
PySD's translator wrote: `@component.add(name=..., comp_type=..., depends_on=..., other_deps=...)`
and the module-level objects (`Integ(...)`, `Smooth(...)`, `HardcodedLookups(...)`, ...). Nothing here
evaluates the module; a construct it does not know is refused, naming the Vensim variable.
"""

import ast
from dataclasses import dataclass, field

CONTROL = ("initial_time", "final_time", "time_step", "saveper")
STATEFUL_ARGS = {  # PySD class -> its constructor's callables, in order (pysd/py_backend/statefuls.py)
    "Integ": ("ddt", "initial"), "NonNegativeInteg": ("ddt", "initial"), "Initial": ("initial",),
    "Smooth": ("input", "smooth_time", "initial", "order"),
    "DelayFixed": ("input", "delay_time", "initial", "time_step"),
}
DYNAMIC = {"Integ", "NonNegativeInteg", "Smooth", "DelayFixed"}


class NotCompilable(ValueError):
    """The compiled path cannot run this model; the message names the variable and what it uses."""


@dataclass
class Component:
    """One `@component.add` function: a Vensim variable."""

    name: str                      # Vensim name
    kind: str                      # comp_type: Constant, Auxiliary, Stateful, Lookup, ...
    expr: ast.expr | None          # the returned expression (None for lookups and control variables)
    depends: dict[str, int]        # depends_on: py name -> number of calls (PySD's `_dependencies`)


@dataclass
class Stateful:
    """A module-level stateful object (`_integ_x = Integ(lambda: ..., lambda: ..., '_integ_x')`)."""

    cls: str
    args: dict[str, ast.expr]      # STATEFUL_ARGS name -> lambda body (time_step: the component)
    initial: dict[str, int]        # other_deps' "initial" and "step" dependencies
    step: dict[str, int]
    owner: str = ""                # py name of the component that returns it


@dataclass
class Equations:
    components: dict[str, Component] = field(default_factory=dict)
    statefuls: dict[str, Stateful] = field(default_factory=dict)
    tables: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)  # lookup object -> x, y
    lookup_of: dict[str, str] = field(default_factory=dict)     # lookup component -> its table object
    control: dict[str, ast.expr] = field(default_factory=dict)  # _control_vars lambda bodies

    def dependencies(self) -> dict[str, dict]:
        """PySD's `Model._dependencies`: components' depends_on, statefuls' {"initial", "step"}."""
        found: dict[str, dict] = {py: dict(c.depends) for py, c in self.components.items()}
        found |= {obj: {"initial": dict(s.initial), "step": dict(s.step)} for obj, s in self.statefuls.items()}
        return found

    def time_axis_inputs(self) -> set[str]:
        """Names INITIAL TIME, FINAL TIME, TIME STEP or SAVEPER depend on (batch.time_axis_inputs)."""
        deps, found, todo = self.dependencies(), set(), list(CONTROL)
        while todo:
            entry = deps.get(todo.pop(), {})
            if "step" in entry:
                entry = {**entry["initial"], **entry["step"]}
            new = {d for d in entry if d != "time" and not d.startswith("__")} - found
            found |= new
            todo += new
        return found

    def variable(self, py_name: str) -> str:
        """The Vensim name behind a component or object name, for messages."""
        if py_name in self.statefuls:
            py_name = self.statefuls[py_name].owner or py_name
        component = self.components.get(py_name)
        return component.name if component else py_name


def read(source: str) -> Equations:
    """Parse a translated module (one file, no split views)."""
    equations = Equations()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            _read_component(node, equations)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            _read_object(node.targets[0].id, node.value, equations)
    for py, component in equations.components.items():
        for dep in component.depends:
            if dep in equations.statefuls and not equations.statefuls[dep].owner:
                equations.statefuls[dep].owner = py
        if "__lookup__" in component.depends:
            equations.lookup_of[py] = component.depends["__lookup__"]
    return equations


def called(expr: ast.AST) -> list[str]:
    """Names called in an expression (components, lookups, PySD functions), in order."""
    return [n.func.id for n in ast.walk(expr) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]


def _read_component(node: ast.FunctionDef, equations: Equations) -> None:
    keywords = _decorator_keywords(node)
    if keywords is None:
        return
    name = ast.literal_eval(keywords["name"])
    kind = ast.literal_eval(keywords["comp_type"]) if "comp_type" in keywords else "Auxiliary"
    depends = ast.literal_eval(keywords["depends_on"]) if "depends_on" in keywords else {}
    if "other_deps" in keywords:
        for obj, deps in ast.literal_eval(keywords["other_deps"]).items():
            equations.statefuls.setdefault(obj, Stateful("", {}, {}, {}))
            equations.statefuls[obj].initial, equations.statefuls[obj].step = deps["initial"], deps["step"]
    returned = [n.value for n in node.body if isinstance(n, ast.Return)]
    expr = returned[0] if len(returned) == 1 and not node.args.args else None
    if node.name in CONTROL or node.name == "time":
        expr = None
    equations.components[node.name] = Component(name, kind, expr, depends)


def _decorator_keywords(node: ast.FunctionDef) -> dict[str, ast.expr] | None:
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "component.add":
            return {k.arg: k.value for k in decorator.keywords}
    return None


def _read_object(target: str, value: ast.expr, equations: Equations) -> None:
    if target == "_control_vars" and isinstance(value, ast.Dict):
        for key, lam in zip(value.keys, value.values, strict=True):
            equations.control[ast.literal_eval(key)] = lam.body if isinstance(lam, ast.Lambda) else lam
        return
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
        return
    cls = value.func.id
    if cls == "HardcodedLookups":
        x, y = (ast.literal_eval(a) for a in value.args[:2])
        equations.tables[target] = ([float(v) for v in x], [float(v) for v in y])
    elif cls in STATEFUL_ARGS:
        args = {}
        for key, arg in zip(STATEFUL_ARGS[cls], value.args, strict=False):
            args[key] = arg.body if isinstance(arg, ast.Lambda) else arg
        entry = equations.statefuls.setdefault(target, Stateful("", {}, {}, {}))
        entry.cls, entry.args = cls, args
