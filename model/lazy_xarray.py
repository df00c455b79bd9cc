"""Keep xarray from importing dask, distributed and pint until something of theirs is in use.

Where they are installed (dask with `nxmfg[cluster]`), xarray imports them on first use to ask questions
whose answer is "no" while they are not loaded: is this array a dask array (it imports dask.array and
scipy.fft, 0.4 s), a pint Quantity (0.15 s), a dask collection (dask, 0.1 s); which dask scheduler is
active when writing netCDF (it imports distributed, 0.3 s). Nothing can be a dask array or a Quantity,
nor run on a dask scheduler, before its library is imported. So until then `install` has the answers
given without importing; once a library is loaded, xarray's own code answers, as before.

It changes three private names of xarray (namedarray.pycompat's duck-array cache, namedarray.utils's
is_dask_collection, backends.locks's get_dask_scheduler); where one is missing (another xarray
version), it is left alone and only the time is lost. tests/test_lazy_xarray.py checks that simulate
imports none of them and that xarray still works with dask arrays and Quantities.
"""

import sys
from importlib.util import find_spec

# Library xarray probes -> (the module that defines its array type, the type's name there).
ARRAY_TYPES = {"dask": ("dask.array", "Array"), "pint": ("pint", "Quantity")}


class _DeferredArrayModule:
    """Stands in for xarray's record of one optional array library (pycompat.DuckArrayModule).

    `type` (the array types to test against) is read from the library once it is imported, and is
    empty until then; anything else (version, module) is xarray's own answer, which imports it.
    """

    def __init__(self, library: str, record: type):
        self._library, self._record, self._real = library, record, None

    @property
    def type(self) -> tuple[type, ...]:
        module_name, attribute = ARRAY_TYPES[self._library]
        array = getattr(sys.modules.get(module_name), attribute, None)
        return (array,) if isinstance(array, type) else ()

    def __getattr__(self, name: str):
        if self._real is None:
            self._real = self._record(self._library)
        return getattr(self._real, name)


def install() -> None:
    """Defer xarray's probing of dask, distributed and pint (idempotent)."""
    import xarray  # noqa: F401  (its submodules below are loaded by it)

    _defer_array_types()
    _defer_dask_scheduler()
    _defer_dask_collections()


def _defer_array_types() -> None:
    pycompat = sys.modules.get("xarray.namedarray.pycompat")
    cache = getattr(pycompat, "_cached_duck_array_modules", None)
    record = getattr(pycompat, "DuckArrayModule", None)
    if not isinstance(cache, dict) or record is None:
        return
    for library in ARRAY_TYPES:
        if library not in cache and library not in sys.modules:   # already probed or loaded: nothing to save
            cache[library] = _DeferredArrayModule(library, record)


def _defer_dask_scheduler() -> None:
    locks = sys.modules.get("xarray.backends.locks")
    original = getattr(locks, "get_dask_scheduler", None)
    if original is None or getattr(original, "_deferred", False):
        return
    dask_installed = find_spec("dask") is not None

    def get_dask_scheduler(get=None, collection=None):
        if get is None and collection is None and "dask" not in sys.modules:
            # No scheduler can be set while dask is not loaded: xarray's answer would be dask's default.
            return "threaded" if dask_installed else None
        return original(get, collection)

    get_dask_scheduler._deferred = True
    get_dask_scheduler.__doc__ = original.__doc__
    _replace(original, get_dask_scheduler)


def _defer_dask_collections() -> None:
    utils = sys.modules.get("xarray.namedarray.utils")
    original = getattr(utils, "is_dask_collection", None)
    if original is None or getattr(original, "_deferred", False):
        return

    def is_dask_collection(x) -> bool:
        # A collection with a dask graph holds dask objects, whose module is then loaded.
        return "dask" in sys.modules and original(x)

    is_dask_collection._deferred = True
    _replace(original, is_dask_collection)


def _replace(original, replacement) -> None:
    """Point every loaded xarray module that holds `original` under its name at `replacement`; later
    `from ... import` statements read it from the module that defines it, which is among them."""
    name = original.__name__
    for module_name, module in list(sys.modules.items()):
        if module_name.split(".")[0] == "xarray" and getattr(module, name, None) is original:
            setattr(module, name, replacement)
