"""Check PySD's translated module for array-clean features and rewrite it for the runtime.

The rewrite only rebinds imports (PySD's `Smooth`, `if_then_else`, ... -> `model.engine.runtime`)
and renames the translator's `float(...)` wrappers; equations are left as PySD wrote them.
Anything the runtime cannot run with an array of runs is refused, naming the variable.
"""

import ast
import builtins

RUNTIME = "nxmfg.model.engine.runtime"
REPLACED = {"if_then_else", "xidz", "zidz", "HardcodedLookups", "Smooth", "DelayFixed"}
KEPT = {"Integ", "NonNegativeInteg", "Initial", "step", "ramp", "Component"}
ARRAY_FLOAT = "_ensemble_array_float"
NUMPY_OK = {  # element-wise ufuncs and constants: none of them mixes runs
    "abs", "exp", "log", "log10", "sqrt", "minimum", "maximum", "sin", "cos", "tan", "arcsin",
    "arccos", "arctan", "sinh", "cosh", "tanh", "power", "nan", "inf", "pi", "e", "isnan",
    "logical_and", "logical_or", "logical_not", "interp",  # interp: inline tables, x may be per run
}
BUILTINS_OK = {"float", "abs"}
VENSIM_NAME = {  # PySD name -> Vensim function, for refusal messages
    "Delay": "DELAY1/DELAY3", "DelayN": "DELAY N", "Trend": "TREND", "Forecast": "FORECAST",
    "SampleIfTrue": "SAMPLE IF TRUE", "pulse": "PULSE", "integer": "INTEGER", "modulo": "MODULO",
    "quantum": "QUANTUM", "active_initial": "ACTIVE INITIAL", "sum": "SUM", "prod": "PROD",
    "vmin": "VMIN", "vmax": "VMAX", "invert_matrix": "INVERT MATRIX", "TabData": "data variable",
    "get_time_value": "GET TIME VALUE", "ExtConstant": "GET DIRECT/XLS CONSTANTS",
    "ExtLookup": "GET DIRECT/XLS LOOKUPS", "ExtData": "GET DIRECT/XLS DATA", "Macro": "macro",
    "vector_select": "VECTOR SELECT", "allocate_by_priority": "ALLOCATE BY PRIORITY",
    "np.min": "MIN (one argument)", "np.max": "MAX (one argument)",
}


class UnsupportedFeature(ValueError):
    """The model uses something the ensemble engine cannot run array-clean."""


def transform(source: str, model_name: str = "model") -> str:
    """Return the translated module rewritten for the ensemble runtime, or raise UnsupportedFeature."""
    tree = ast.parse(source)
    imported = _pysd_imports(tree)
    if "load_modules" in imported:
        raise UnsupportedFeature(f"{model_name}: translated with split_views; translate it as one module")
    problems = _refusals(tree, imported)
    if problems:
        listed = "; ".join(f"variable {var!r} uses {what}" for var, what in problems)
        raise UnsupportedFeature(f"{model_name}: not supported by the ensemble engine: {listed}")
    tree = _RenameFloat().visit(tree)
    replaced = sorted(REPLACED & set(imported))
    tree.body.insert(_after_imports(tree), ast.parse(
        f"from {RUNTIME} import array_float as {ARRAY_FLOAT}"
        + "".join(f", {name}" for name in replaced)).body[0])
    return ast.unparse(ast.fix_missing_locations(tree))


def _pysd_imports(tree: ast.Module) -> dict[str, str]:
    """Local name -> PySD name of everything imported from pysd (and `xr` for xarray)."""
    names = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pysd"):
            names |= {alias.asname or alias.name: alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.asname or a.name: a.name for a in node.names if a.name == "xarray"}
    return names


def _refusals(tree: ast.Module, imported: dict[str, str]) -> list[tuple[str, str]]:
    """(Vensim variable, feature) for each unsupported use, in file order."""
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    defined |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
                if isinstance(t, ast.Name)}
    owner = _owners(tree)
    problems = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and _component_name(node):
            variable = _component_name(node)
            if _keyword(node, "subscripts") not in (None, "None"):
                problems.append((variable, "subscripts"))
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            variable = owner.get(node.targets[0].id)
            if variable is None:
                continue
            problems += [(variable, what) for what in _object_problems(node.value, imported)]
        else:
            continue
        problems += [(variable, what) for what in _expression_problems(node, imported, defined)]
    return list(dict.fromkeys(problems))


def _object_problems(call: ast.expr, imported: dict[str, str]) -> list[str]:
    """Lookup tables must be plain (no subscripts, 'interpolate'); objects must be supported."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
        return []
    if imported.get(call.func.id) == "HardcodedLookups":
        coords, interp = (ast.unparse(a) for a in call.args[2:4])
        if coords != "{}":
            return ["a subscripted lookup table"]
        if interp != "'interpolate'":
            return [f"lookup interpolation {interp} (only 'interpolate' is supported)"]
    return []


def _expression_problems(node: ast.AST, imported: dict[str, str], defined: set[str]) -> list[str]:
    problems = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "np":
            if sub.attr not in NUMPY_OK:
                problems.append(_describe(f"np.{sub.attr}"))
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
            pysd_name = imported.get(sub.id)
            if pysd_name is not None and pysd_name not in REPLACED | KEPT:
                problems.append(_describe(pysd_name))
            elif pysd_name is None and sub.id not in defined and hasattr(builtins, sub.id) \
                    and sub.id not in BUILTINS_OK and sub.id not in {"None", "True", "False"}:
                problems.append(f"the Python builtin {sub.id}()")
        elif isinstance(sub, ast.Subscript) and ast.unparse(sub.value) == "__data" \
                and ast.unparse(sub.slice) != "'time'":
            problems.append(f"model data {ast.unparse(sub.slice)} (macros or external data)")
    return problems


def _describe(pysd_name: str) -> str:
    if pysd_name == "xarray":
        return "subscripts"
    vensim = VENSIM_NAME.get(pysd_name)
    source = "numpy" if pysd_name.startswith("np.") else "PySD"
    return f"{vensim} ({source} {pysd_name})" if vensim else f"{source} {pysd_name}"


def _owners(tree: ast.Module) -> dict[str, str]:
    """Module-level object (stateful, lookup table) -> the Vensim variable whose function calls it."""
    owners = {}
    for node in tree.body:
        name = isinstance(node, ast.FunctionDef) and _component_name(node)
        if name:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and sub.id.startswith("_"):
                    owners.setdefault(sub.id, name)
    return owners


def _component_name(node: ast.FunctionDef) -> str | None:
    name = _keyword(node, "name")
    return name.strip("'\"") if name else None


def _keyword(node: ast.FunctionDef, key: str) -> str | None:
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "component.add":
            for keyword in decorator.keywords:
                if keyword.arg == key:
                    return ast.unparse(keyword.value)
    return None


def _after_imports(tree: ast.Module) -> int:
    return max((i + 1 for i, n in enumerate(tree.body) if isinstance(n, ast.ImportFrom | ast.Import)),
               default=0)


def numpy_power(source: str) -> str:
    """Rewrite every `a ** b` of a translated module as `np.power(a, b)`.

    Python's `**` on floats calls the C library's pow, numpy's on arrays its own (SIMD) pow, and the
    two differ in the last bits on some CPUs (AVX-512), which the model's feedback amplifies. With
    numpy's ufunc for every power, a plain PySD run and a run in an ensemble chunk do the same
    floating-point operations in the same kernels (numpy's loops compute element by element, whatever
    the array's length), so they agree to the bit on any CPU. A negative base to a fractional power
    gives NaN instead of Python's complex number.
    """
    tree = _NumpyPower().visit(ast.parse(source))
    return ast.unparse(ast.fix_missing_locations(tree))


class _NumpyPower(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        if not isinstance(node.op, ast.Pow):
            return node
        power = ast.Attribute(ast.Name("np", ast.Load()), "power", ast.Load())
        return ast.Call(power, [node.left, node.right], [])


class _RenameFloat(ast.NodeTransformer):
    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(ARRAY_FLOAT, node.ctx) if node.id == "float" else node
