"""Generate C from PySD's translation: the same equations, in PySD's order, one run at a time.

`model.engine.plan` derives the order from the translation's dependencies; this module writes it out:
control variables, then the stateful objects' initialisation, then per time step the variables the
flows read, at save times the others, every flow, and every update (Euler: state + flow * dt).
`model.engine.native` compiles the source and `model.engine.compiled` runs it. A construct it cannot
compile raises NotCompilable, naming the Vensim variable; the engine then runs the numpy path.
"""

from dataclasses import dataclass
from pathlib import Path

from nxmfg.model.engine import cexpr
from nxmfg.model.engine.equations import CONTROL, Equations, NotCompilable, read
from nxmfg.model.engine.plan import Plan, plan

RUNTIME = Path(__file__).with_name("cruntime.h")
TEMPLATE = Path(__file__).with_name("cmodel.c")


@dataclass(frozen=True)
class Generated:
    source: str          # the C file
    meta: dict           # what the runner needs: variables, inputs, lookups, dependencies


def generate(source: str) -> Generated:
    """C source and metadata for a translated module, or NotCompilable naming the variable."""
    equations = read(source)
    layout = plan(equations)
    return Generated(_Writer(equations, layout).source(), layout.meta(equations))


class _Writer:
    def __init__(self, equations: Equations, layout: Plan):
        self.eq, self.plan, self.inline = equations, layout, []

    def source(self) -> str:
        p = self.plan
        parts = {"NV": max(len(p.index), 1), "NS": max(p.state_size, 1), "ND": max(len(p.delays), 1),
                 "NS_USED": p.state_size, "ND_USED": len(p.delays), "CONTROL": self._control(),
                 "INIT": self._init(), "NEEDED": self._compute(p.needed, True),
                 "REST": self._compute(p.rest, True), "FLOWS": self._flows(), "UPDATES": self._updates()}
        body = TEMPLATE.read_text(encoding="utf-8")
        for key, value in parts.items():
            body = body.replace(f"/*{key}*/", str(value))
        return "\n".join([RUNTIME.read_text(encoding="utf-8"), self._tables(), body])

    def _c(self, variable: str, expr) -> str:
        translator = cexpr.Translator(self._value, self._lookup, self._inline_table, self.eq.variable(variable))
        return translator.c(expr)

    def _value(self, name: str) -> str:
        if name == "time":
            return "t"
        if name in self.plan.control_names:
            return self.plan.control_names[name]
        if name in self.plan.slot:
            slot = self.plan.slot[name]
            if self.eq.statefuls[name].cls == "DelayFixed":
                return f"PIPE[{slot}][PTR[{slot}]]"
            return f"S[{slot + self.plan.order.get(name, 1) - 1}]"
        if name in self.plan.index:
            return f"V[{self.plan.index[name]}]"
        raise NotCompilable(f"variable {self.eq.variable(name)!r} is read but not defined in the module")

    def _lookup(self, name: str, x: str) -> str | None:
        table = self.eq.lookup_of.get(name)
        return None if table is None else f"nx_lookup(c, {self.plan.tables.index(table)}, r, {x})"

    def _inline_table(self, xs: list, ys: list) -> str:
        self.inline.append((xs, ys))
        return f"{len(xs)}, IX{len(self.inline) - 1}, IY{len(self.inline) - 1}"

    def _assign(self, name: str) -> str:
        expr = self._c(name, self.eq.components[name].expr)
        if name in self.plan.inputs:
            k = self.plan.inputs.index(name)
            expr = (f"(c->path[{k}].n ? nx_table_at(&c->path[{k}], r, t) : c->value[{k}] ? "
                    f"c->value[{k}][r * c->stride[{k}]] : {expr})")
        return f"V[{self.plan.index[name]}] = {expr};"

    def _compute(self, names: list[str], guarded: bool) -> str:
        lines = []
        for name in names:
            line = self._assign(name)
            if guarded and name not in self.plan.static_step:
                line = f"if (c->dyn[{self.plan.index[name]}]) {line}"
            lines.append(line)
        return "\n".join(lines)

    def _control(self) -> str:
        lines = [self._compute(self.plan.control_deps, False)]
        for name in self.plan.control_order:
            expr, variable = self._c(name, self.eq.control[name]), self.plan.control_names[name]
            if name != "initial_time":      # the engine's overrides (PySD's run(final_time=...))
                expr = f"isnan(c->{name}) ? {expr} : c->{name}"
            lines.append(f"{variable} = {expr};")
        lines += [f"V[{self.plan.index[n]}] = {self.plan.control_names[n]};" for n in CONTROL if n in self.plan.index]
        return "\n".join(lines)

    def _init(self) -> str:
        lines = []
        for obj, before in self.plan.initialization:
            lines += [self._compute(before, False), self._initialise(obj)]
        lines.append(self._compute(self.plan.after_init, False))
        return "\n".join(line for line in lines if line)

    def _initialise(self, obj: str) -> str:
        stateful, slot = self.eq.statefuls[obj], self.plan.slot[obj]
        value = self._c(obj, stateful.args["initial"])
        if stateful.cls == "DelayFixed":
            delay = self._c(obj, stateful.args["delay_time"])
            return (f"ORDER[{slot}] = nx_delay_order({delay}, dt); PTR[{slot}] = 0;\n"
                    f"PIPE[{slot}] = malloc(sizeof(double) * ORDER[{slot}]);\n"
                    f"if (!PIPE[{slot}]) {{ status = -2; goto done; }}\n"
                    f"{{ double v = {value}; for (long k = 0; k < ORDER[{slot}]; k++) PIPE[{slot}][k] = v; }}")
        return f"{{ double v = {value}; for (int k = 0; k < {self.plan.order.get(obj, 1)}; k++) S[{slot} + k] = v; }}"

    def _flows(self) -> str:
        lines = []
        for obj in self.plan.dynamic:
            stateful, slot = self.eq.statefuls[obj], self.plan.slot[obj]
            if stateful.cls in ("Integ", "NonNegativeInteg"):
                lines.append(f"F[{slot}] = {self._c(obj, stateful.args['ddt'])};")
            elif stateful.cls == "Smooth":      # PySD: (targets - state) * order / smooth time
                order = self.plan.order[obj]
                lines.append(f"{{ double in = {self._c(obj, stateful.args['input'])}, "
                             f"st = {self._c(obj, stateful.args['smooth_time'])};")
                lines += [f"  F[{slot + k}] = (({'in' if k == 0 else f'S[{slot + k - 1}]'} - S[{slot + k}]) "
                          f"* {order}.0) / st;" for k in range(order)]
                lines.append("}")
        return "\n".join(lines)

    def _updates(self) -> str:
        lines = []
        for obj in self.plan.dynamic:
            stateful, slot = self.eq.statefuls[obj], self.plan.slot[obj]
            if stateful.cls == "DelayFixed":
                lines.append(f"PIPE[{slot}][PTR[{slot}]] = {self._c(obj, stateful.args['input'])}; "
                             f"PTR[{slot}] = (PTR[{slot}] + 1) % ORDER[{slot}];")
                continue
            for s in range(slot, slot + self.plan.order.get(obj, 1)):
                new = f"S[{s}] + F[{s}] * dt"
                lines.append(f"S[{s}] = {f'nx_maximum({new}, 0.0)' if stateful.cls == 'NonNegativeInteg' else new};")
        return "\n".join(lines)

    def _tables(self) -> str:
        tables = [self.eq.tables[name] for name in self.plan.tables]
        lines = [_arrays("T", k, xs, ys) for k, (xs, ys) in enumerate(tables)]
        lines += [_arrays("I", k, xs, ys) for k, (xs, ys) in enumerate(self.inline)]  # filled by the body
        count = max(len(tables), 1)
        lines.append(f"static const long TN[{count}] = {{{', '.join(str(len(x)) for x, _ in tables) or '0'}}};")
        for axis in "XY":
            lines.append(f"static const double *const T{axis}[{count}] = "
                         f"{{{', '.join(f'T{axis}{k}' for k in range(len(tables))) or '0'}}};")
        return "\n".join(lines)


def _arrays(prefix: str, k: int, xs: list, ys: list) -> str:
    return (f"static const double {prefix}X{k}[] = {{{_numbers(xs)}}};\n"
            f"static const double {prefix}Y{k}[] = {{{_numbers(ys)}}};")


def _numbers(values: list) -> str:
    return ", ".join(cexpr.number(float(v)) for v in values)
