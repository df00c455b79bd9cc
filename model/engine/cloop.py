"""One loop of the generated C over a block of runs, and the functions that hold the loops.

A variable's values for the block's runs lie side by side (`V[i*NB+r]`), so every equation is a loop
over r. numpy's kernels (cexpr.KERNELS) are called before the loop, once on the whole block (nx_v1,
nx_v2 in cruntime.h), their arguments computed first; the loop reads their results. A lookup whose
argument is the same for every run (time, initial time) is read once per block when its table is one for
all runs. Loops are packed into small functions: the compiler's optimiser takes time that grows faster
than a function's length.
"""

import re

DIRECT = re.compile(r"([VS])\[(\d+)\*NB\+r\]")             # a variable's or state's values, read in place
UNIFORM = re.compile(r"[\d.e+\-*/() ]*|t|t0|dt|final|saveper")   # the same for every run of a block
PER_FUNCTION = 24    # loops per generated function


class Loop:
    """Collects what must be computed before the loop while its expressions are translated."""

    def __init__(self, translator_of):
        self.before: list[str] = []
        self.count = 0
        self.translator = translator_of(self)

    def c(self, expr) -> str:
        return self.translator.c(expr)

    def temporary(self) -> str:
        self.count += 1
        return f"K{self.count - 1}"

    def kernel(self, k: int, args: list[str]) -> str:
        pointers = []
        for arg in args:
            read = DIRECT.fullmatch(arg)
            if read:
                pointers.append(f"{read[1]} + {read[2]}*NB")
                continue
            pointers.append(self.temporary())
            self.before.append(f"for (long r = 0; r < nb; r++) {pointers[-1]}[r] = {arg};")
        out = self.temporary()
        self.before.append(f"nx_v{len(args)}({k}, nb, {', '.join(pointers)}, {out});")
        return f"{out}[r]"

    def lookup(self, table: int, x: str) -> str:
        if not UNIFORM.fullmatch(x):
            return f"nx_lookup(c, {table}, RUN(r), {x})"
        out = self.temporary()
        self.before.append(f"nx_lookup_block(c, {table}, R0, n, nb, {x}, {out});")
        return f"{out}[r]"

    def text(self, body: list[str], after: tuple[str, ...] | list[str] = ()) -> str:
        arrays = [f"double {', '.join(f'K{k}[NB]' for k in range(self.count))};"] if self.count else []
        loop = "for (long r = 0; r < nb; r++) {\n" + "\n".join(body) + "\n}"
        return "{\n" + "\n".join([*arrays, *self.before, loop, *after]) + "\n}"


class Functions:
    """The generated functions, each a run of statements on a block (nx_part in cmodel.c)."""

    def __init__(self):
        self.definitions: list[str] = []

    def calls(self, statements: list[str], pack: bool = False) -> str:
        """Statements as functions; the C that calls them in order (stopping at a failure). pack: they set
        the time axis."""
        calls = []
        for start in range(0, len(statements), PER_FUNCTION):
            name = f"nx_part{len(self.definitions)}"
            body = "\n".join(statements[start:start + PER_FUNCTION])
            self.definitions.append(f"static NX_PART int {name}(nx_block_state *x) {{\nNX_UNPACK\n{body}\n"
                                    f"{'NX_PACK' if pack else ''}\nreturn 0;\n}}")
            calls.append(f"if ((status = {name}(x))) goto done;")
        return "\n".join(calls)
