"""The order and layout of the compiled model, derived from the translation's dependencies.

Values are pure functions of the states, the time and the inputs, so any order that respects the
dependencies gives PySD's numbers; what must follow PySD is which values exist when: stateful objects are
initialised in PySD's order (`Macro._get_initialize_order`), flows all see the states of the step's start,
and updates run in PySD's order. A DELAY FIXED reads its input during that update (PySD's
`DelayFixed.update`), after the delays updated before it: an input that depends on such a delay would
depend on PySD's caching, and is refused.
"""

import ast
from dataclasses import dataclass, field

from nxmfg.model.engine.cexpr import KERNELS
from nxmfg.model.engine.equations import CONTROL, DYNAMIC, Equations, NotCompilable

CONTROL_C = {"initial_time": "t0", "final_time": "final", "time_step": "dt", "saveper": "saveper"}
STEP_ARGS = {"Integ": ("ddt",), "NonNegativeInteg": ("ddt",), "Smooth": ("input", "smooth_time"),
             "DelayFixed": ("input",), "Initial": ()}
INIT_ARGS = {"Integ": ("initial",), "NonNegativeInteg": ("initial",), "Initial": ("initial",),
             "Smooth": ("initial", "order"), "DelayFixed": ("initial", "delay_time")}


@dataclass
class Refs:
    components: set[str] = field(default_factory=set)
    objects: set[str] = field(default_factory=set)
    time: bool = False


@dataclass
class Plan:
    index: dict[str, int]                  # component with a value -> V index (module order)
    inputs: list[str]                      # settable constants: input slots
    tables: list[str]                      # lookup table objects
    slot: dict[str, int]                   # stateful object -> first S index (a delay: its delay index)
    order: dict[str, int]                  # Smooth -> order
    dynamic: list[str]                     # dynamic objects in PySD's update order
    delays: list[str]
    state_size: int
    control_order: list[str]
    control_deps: list[str]
    initialization: list[tuple[str, list[str]]]   # (object, components computed before it)
    after_init: list[str]
    static_step: set[str]                  # depend on time or a dynamic state: computed every step
    needed: list[str]                      # what flows and updates read, in dependency order
    rest: list[str]                        # the others, at save times
    dependents: dict[str, list[str]]       # input -> components that change with it (through constants)
    control_names: dict[str, str] = field(default_factory=lambda: dict(CONTROL_C))

    def meta(self, equations: Equations) -> dict:
        kinds = {py: c.kind for py, c in equations.components.items()}
        return {"variables": list(self.index), "inputs": self.inputs,
                "lookups": {py: self.tables.index(t) for py, t in equations.lookup_of.items()},
                "kinds": kinds, "static_step": sorted(self.index[n] for n in self.static_step),
                "dependents": {k: [self.index[n] for n in v] for k, v in self.dependents.items()},
                "time_axis_inputs": sorted(equations.time_axis_inputs()), "kernels": list(KERNELS),
                # a stock's or smooth's first column in a run's state (time first; delays after: cmodel.c)
                "columns": {obj: 1 + k for obj, k in self.slot.items() if obj not in self.delays}}


def plan(eq: Equations) -> Plan:
    refs = {py: references(c.expr) for py, c in eq.components.items() if c.expr is not None}
    index = {py: i for i, py in enumerate(py for py in eq.components
                                           if py != "time" and py not in eq.lookup_of)}
    for py in index:
        if py not in refs and py not in CONTROL:
            raise NotCompilable(f"variable {eq.variable(py)!r} has no equation the compiled path can read")
    objects = _objects(eq)
    order = {obj: _smooth_order(eq, obj) for obj in objects if eq.statefuls[obj].cls == "Smooth"}
    dynamic = sorted(obj for obj in objects if eq.statefuls[obj].cls in DYNAMIC)
    delays = [obj for obj in dynamic if eq.statefuls[obj].cls == "DelayFixed"]
    slot, size = {d: k for k, d in enumerate(delays)}, 0
    for obj in sorted(o for o in objects if o not in slot):
        slot[obj], size = size, size + order.get(obj, 1)
    ordered = _topological(eq, refs, [py for py in index if py in refs])
    static_step = _static_step(eq, refs, ordered)
    roots = Refs()
    for obj in dynamic:
        for arg in STEP_ARGS[eq.statefuls[obj].cls]:
            roots = _merge(roots, references(eq.statefuls[obj].args[arg]))
    needed_set = _closure(refs, roots.components)
    _check_delays(eq, refs, delays)
    control_order, control_deps = _control(eq, refs, ordered, static_step)
    initialization, after = _initialization(eq, refs, ordered, objects, set(control_deps))
    inputs = [py for py in index if eq.components[py].kind == "Constant" and py not in CONTROL]
    return Plan(index, inputs, list(eq.tables), slot, order, dynamic, delays, size, control_order,
                control_deps, initialization, after, static_step,
                [n for n in ordered if n in needed_set], [n for n in ordered if n not in needed_set],
                _dependents(refs, ordered, inputs, static_step))


def references(expr: ast.AST | None) -> Refs:
    """Components, stateful objects and time read by an expression (lookups: their argument only)."""
    found = Refs()
    for node in ast.walk(expr) if expr is not None else ():
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name in ("step", "ramp"):
                found.time = True
            elif name == "time" and not node.args:
                found.time = True
            elif not node.args and name.startswith("_"):
                found.objects.add(name)
            elif not node.args and name not in ("if_then_else",):
                found.components.add(name)
    return found


def _merge(a: Refs, b: Refs) -> Refs:
    return Refs(a.components | b.components, a.objects | b.objects, a.time or b.time)


def _objects(eq: Equations) -> list[str]:
    for obj, stateful in eq.statefuls.items():
        if stateful.cls not in STEP_ARGS:
            raise NotCompilable(f"variable {eq.variable(obj)!r} uses a stateful object the compiled path "
                                f"does not know ({stateful.cls or 'unknown'})")
    return list(eq.statefuls)


def _smooth_order(eq: Equations, obj: str) -> int:
    order = eq.statefuls[obj].args.get("order")
    if not (isinstance(order, ast.Constant) and isinstance(order.value, int) and order.value >= 1):
        raise NotCompilable(f"variable {eq.variable(obj)!r} uses a SMOOTH whose order is not a number")
    return order.value


def _topological(eq: Equations, refs: dict[str, Refs], names: list[str]) -> list[str]:
    """Components in dependency order (depth first); an algebraic loop is refused."""
    done, visiting, ordered = set(), set(), []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done or name not in refs:
            return
        if name in visiting:
            loop = " -> ".join(eq.variable(n) for n in (*path, name))
            raise NotCompilable(f"variable {eq.variable(name)!r} is in an algebraic loop ({loop})")
        visiting.add(name)
        for dep in sorted(refs[name].components):
            visit(dep, (*path, name))
        visiting.discard(name)
        done.add(name)
        ordered.append(name)

    for name in names:
        visit(name, ())
    return ordered


def _static_step(eq: Equations, refs: dict[str, Refs], ordered: list[str]) -> set[str]:
    step = set()
    for name in ordered:
        r = refs[name]
        if r.time or any(eq.statefuls[o].cls in DYNAMIC for o in r.objects if o in eq.statefuls) \
                or r.components & step:
            step.add(name)
    return step


def _closure(refs: dict[str, Refs], start: set[str]) -> set[str]:
    found, todo = set(), list(start)
    while todo:
        name = todo.pop()
        if name in found or name not in refs:
            continue
        found.add(name)
        todo += refs[name].components
    return found


def _check_delays(eq: Equations, refs: dict[str, Refs], delays: list[str]) -> None:
    for k, delay in enumerate(delays):
        read = references(eq.statefuls[delay].args["input"])
        objects = set(read.objects)
        for name in _closure(refs, read.components):
            objects |= refs[name].objects
        earlier = [d for d in delays[:k] if d in objects]
        if earlier:
            raise NotCompilable(f"variable {eq.variable(delay)!r} uses a DELAY FIXED whose input reads "
                                f"{eq.variable(earlier[0])!r}, a delay PySD updates before it")


def _control(eq: Equations, refs: dict[str, Refs], ordered: list[str], static_step: set[str]):
    """Control variables: their order among themselves and the components they read (run-constant)."""
    reads = {name: references(eq.control.get(name)) for name in CONTROL}
    for name, r in reads.items():
        needs = _closure(refs, r.components - set(CONTROL))
        if name not in eq.control or r.time or r.objects or needs & static_step:
            raise NotCompilable(f"variable {name.upper().replace('_', ' ')!r} changes during the run "
                                "(the compiled path needs a fixed time axis)")
    control_order, left = [], list(CONTROL)
    while left:
        ready = [n for n in left if not (reads[n].components & set(left) - {n})]
        if not ready:
            raise NotCompilable(f"variable {left[0].upper().replace('_', ' ')!r} is in a loop of control variables")
        control_order += ready
        left = [n for n in left if n not in ready]
    needs = set()
    for r in reads.values():
        needs |= _closure(refs, r.components - set(CONTROL))
    return control_order, [n for n in ordered if n in needs]


def _initialization(eq, refs, ordered, objects, computed):
    """PySD's initialisation order of stateful objects, with the components each needs first."""
    deps = eq.dependencies()
    full = {obj: _initial_closure(deps, obj) for obj in objects}
    waiting = {obj: [d for d in deps if d in full] for obj, deps in full.items()}
    order = []
    while waiting:
        ready = [obj for obj, deps in waiting.items() if not deps]
        if not ready:
            raise NotCompilable(f"variable {eq.variable(next(iter(waiting)))!r} is in a circular initialisation")
        for obj in ready:
            order.append(obj)
            del waiting[obj]
            for deps in waiting.values():
                if obj in deps:
                    deps.remove(obj)
    steps, done = [], set(computed)
    for obj in order:
        start = set()
        for arg in INIT_ARGS[eq.statefuls[obj].cls]:
            start |= references(eq.statefuls[obj].args[arg]).components
        before = [n for n in ordered if n in _closure(refs, start) - done]
        done |= set(before)
        steps.append((obj, before))
    return steps, [n for n in ordered if n not in done]


def _initial_closure(deps: dict[str, dict], obj: str) -> set[str]:
    """PySD's `_get_full_dependencies(obj, ..., "initial")`."""
    found, todo = set(), [obj]
    while todo:
        entry = deps.get(todo.pop(), {})
        if "initial" in entry:
            entry = entry["initial"]
        for dep in entry:
            if dep not in found and not dep.startswith("__") and dep != "time":
                found.add(dep)
                todo.append(dep)
    return found


def _dependents(refs, ordered, inputs, static_step) -> dict[str, list[str]]:
    """For each input, the run-constant components that read it: recomputed every step under a time path."""
    users: dict[str, set[str]] = {}
    for name in ordered:
        for dep in refs[name].components:
            users.setdefault(dep, set()).add(name)
    found = {}
    for name in inputs:
        reached, todo = {name}, [name]
        while todo:
            for user in users.get(todo.pop(), ()):
                if user not in reached and user not in static_step:
                    reached.add(user)
                    todo.append(user)
        found[name] = [n for n in ordered if n in reached]
    return found
