"""Generate C from PySD's translation: the same equations, in PySD's order, on blocks of runs.

`model.engine.plan` derives the order from the translation's dependencies; this module writes it out:
control variables, then the stateful objects' initialisation, then per time step the variables the
flows read, at save times the others, every flow, and every update (Euler: state + flow * dt).
`model.engine.native` compiles the source and `model.engine.compiled` runs it. A construct it cannot
compile raises NotCompilable, naming the Vensim variable; the engine then runs the numpy path.
"""

from dataclasses import dataclass
from pathlib import Path

from nxmfg.model.engine import cexpr, cloop
from nxmfg.model.engine.equations import CONTROL, Equations, NotCompilable, read
from nxmfg.model.engine.plan import Plan, plan

BLOCK = 64          # runs per block: a block's variables stay in the CPU's cache (benchmarks/compiled.py)
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
        self.eq, self.plan, self.inline, self.functions = equations, layout, [], cloop.Functions()

    def source(self) -> str:
        p, f = self.plan, self.functions
        parts = {"CONTROL": f.calls(self._control(), pack=True), "INIT": f.calls(self._init()),
                 "NEEDED": f.calls(self._compute(p.needed, True)), "REST": f.calls(self._compute(p.rest, True)),
                 "FLOWS": f.calls(self._flows()), "UPDATES": f.calls(self._updates())}
        sizes = {"NB": BLOCK, "NV": max(len(p.index), 1), "NS": max(p.state_size, 1), "ND": max(len(p.delays), 1),
                 "NS_USED": p.state_size, "ND_USED": len(p.delays)}
        head, body = TEMPLATE.read_text(encoding="utf-8").split("/*FUNCTIONS*/")
        for key, value in (sizes | parts).items():
            head, body = head.replace(f"/*{key}*/", str(value)), body.replace(f"/*{key}*/", str(value))
        return "\n".join([RUNTIME.read_text(encoding="utf-8"), self._tables(), head, *f.definitions, body])

    def _loop(self, variable: str) -> cloop.Loop:
        def translator(loop: cloop.Loop) -> cexpr.Translator:
            def lookup(name: str, x: str) -> str | None:
                table = self.eq.lookup_of.get(name)
                return None if table is None else loop.lookup(self.plan.tables.index(table), x)
            return cexpr.Translator(self._value, lookup, self._inline_table, loop.kernel, self.eq.variable(variable))
        return cloop.Loop(translator)

    def _value(self, name: str) -> str:
        if name == "time":
            return "t"
        if name in self.plan.control_names:
            return self.plan.control_names[name]
        if name in self.plan.slot:
            slot = self.plan.slot[name]
            if self.eq.statefuls[name].cls == "DelayFixed":
                return f"PIPE[{slot}][r][PTR[{slot}][r]]"
            return f"S[{slot + self.plan.order.get(name, 1) - 1}*NB+r]"
        if name in self.plan.index:
            return f"V[{self.plan.index[name]}*NB+r]"
        raise NotCompilable(f"variable {self.eq.variable(name)!r} is read but not defined in the module")

    def _inline_table(self, xs: list, ys: list) -> str:
        self.inline.append((xs, ys))
        return f"{len(xs)}, IX{len(self.inline) - 1}, IY{len(self.inline) - 1}"

    def _assign(self, name: str) -> str:
        i, loop = self.plan.index[name], self._loop(name)
        computed = loop.text([f"V[{i}*NB+r] = {loop.c(self.eq.components[name].expr)};"])
        if name not in self.plan.inputs:
            return computed
        k = self.plan.inputs.index(name)    # set by the call (a value, one per run, a time path) or the model's
        return f"if (c->path[{k}].n || c->value[{k}]) nx_input(c, {k}, R0, n, nb, t, V + {i}*NB);\nelse {computed}"

    def _compute(self, names: list[str], guarded: bool) -> list[str]:
        statements = []
        for name in names:
            text = self._assign(name)
            if guarded and name not in self.plan.static_step:
                text = f"if (c->dyn[{self.plan.index[name]}]) {{\n{text}\n}}"
            statements.append(text)
        return statements

    def _control(self) -> list[str]:
        """Control variables: one value for all runs (the engine refuses inputs of the time axis that differ)."""
        statements = self._compute(self.plan.control_deps, False)
        for name in self.plan.control_order:
            loop, variable = self._loop(name), self.plan.control_names[name]
            expr = loop.c(self.eq.control[name])
            if name != "initial_time":      # the engine's overrides (PySD's run(final_time=...))
                expr = f"isnan(c->{name}) ? {expr} : c->{name}"
            statements.append(loop.text([f"{variable} = {expr};"]))
        statements += [f"for (long r = 0; r < nb; r++) V[{self.plan.index[n]}*NB+r] = {self.plan.control_names[n]};"
                       for n in CONTROL if n in self.plan.index]
        return statements

    def _init(self) -> list[str]:
        statements = []
        for obj, before in self.plan.initialization:
            statements += [*self._compute(before, False), self._initialise(obj)]
        return statements + self._compute(self.plan.after_init, False)

    def _initialise(self, obj: str) -> str:
        stateful, slot, loop = self.eq.statefuls[obj], self.plan.slot[obj], self._loop(obj)
        value = loop.c(stateful.args["initial"])
        if stateful.cls == "DelayFixed":
            delay, start = loop.c(stateful.args["delay_time"]), loop.temporary()
            return loop.text([f"ORDER[{slot}][r] = nx_delay_order({delay}, dt); PTR[{slot}][r] = 0;",
                              f"{start}[r] = {value};"],
                             after=[f"if (nx_pipes(&x->pipes->store[{slot}], PIPE[{slot}], ORDER[{slot}], {start}, "
                                    "nb)) return -2;"])
        stages = [f"S[{slot + k}*NB+r] = v;" for k in range(self.plan.order.get(obj, 1))]
        return loop.text([f"double v = {value};", *stages])

    def _flows(self) -> list[str]:
        statements = []
        for obj in self.plan.dynamic:
            stateful, slot, loop = self.eq.statefuls[obj], self.plan.slot[obj], self._loop(obj)
            if stateful.cls in ("Integ", "NonNegativeInteg"):
                statements.append(loop.text([f"F[{slot}*NB+r] = {loop.c(stateful.args['ddt'])};"]))
            elif stateful.cls == "Smooth":      # PySD: (targets - state) * order / smooth time
                order = self.plan.order[obj]
                body = [f"double in = {loop.c(stateful.args['input'])}, st = {loop.c(stateful.args['smooth_time'])};"]
                body += [f"F[{slot + k}*NB+r] = (({'in' if k == 0 else f'S[{slot + k - 1}*NB+r]'} - "
                         f"S[{slot + k}*NB+r]) * {order}.0) / st;" for k in range(order)]
                statements.append(loop.text(body))
        return statements

    def _updates(self) -> list[str]:
        statements = []
        for obj in self.plan.dynamic:
            stateful, slot, loop = self.eq.statefuls[obj], self.plan.slot[obj], self._loop(obj)
            if stateful.cls == "DelayFixed":
                statements.append(loop.text([
                    f"PIPE[{slot}][r][PTR[{slot}][r]] = {loop.c(stateful.args['input'])};",
                    f"PTR[{slot}][r] = (PTR[{slot}][r] + 1) % ORDER[{slot}][r];"]))
                continue
            body = []
            for s in range(slot, slot + self.plan.order.get(obj, 1)):
                new = f"S[{s}*NB+r] + F[{s}*NB+r] * dt"
                new = f"nx_maximum({new}, 0.0)" if stateful.cls == "NonNegativeInteg" else new
                body.append(f"S[{s}*NB+r] = {new};")
            statements.append(loop.text(body))
        return statements

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
