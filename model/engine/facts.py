"""What the engine knows of a translated model before running it, and which path will run it.

With the compiled model at hand (`compiled.library`), the facts come from its metadata and its clock: no
PySD model is loaded (0.6 s of a command that runs one scenario). Otherwise they come from PySD's model,
as the numpy path needs it anyway. Either way: the kinds of the components (which names are settable), the
inputs of the time axis, the clock, and the number of time-varying variables (to size chunks).
"""

import contextlib
import hashlib
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nxmfg.model import files
from nxmfg.model.cache import private_folder
from nxmfg.model.engine import transform as engine_transform
from nxmfg.model.engine.equations import NotCompilable

_NOTICE = []              # the one notice that no compiler was found, once per process


@dataclass(frozen=True)
class Facts:
    source: str                          # the module rewritten for the numpy path (transform.transform)
    kinds: dict[str, str]                # py name -> PySD's Type (Constant, Lookup, Auxiliary, ...)
    time_axis: frozenset[str]            # names INITIAL TIME, FINAL TIME, TIME STEP, SAVEPER depend on
    clock: tuple[float, float, float, float]   # initial time, final time, time step, saveper
    step_variables: int                  # time-varying variables (the size of a run's results)
    compiled: bool                       # the compiled model loads here
    note: str | None                     # why not, when it does not

    def engine(self, wanted: str = "auto") -> str:
        """"compiled" or "numpy" (wanted: auto, compiled or numpy). auto takes the compiled path wherever it
        loads: it is the faster one at every chunk size, from 1 run to 65 536 (benchmarks/compiled.py)."""
        if wanted not in ("auto", "compiled", "numpy"):
            raise ValueError(f"engine: {wanted!r} is not one of auto, compiled, numpy")
        return "compiled" if self.compiled and wanted != "numpy" else "numpy"


def facts(py_file: str | Path) -> Facts:
    """The facts of a translated module (cached per file version)."""
    stat = Path(py_file).stat()
    return _facts(str(py_file), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _facts(py_file: str, mtime_ns: int, size: int) -> Facts:
    source = rewritten(Path(py_file))
    from nxmfg.model.engine import compiled, native

    try:
        library = compiled.library(source)
    except (NotCompilable, native.Unavailable) as error:
        if isinstance(error, native.Unavailable) and not isinstance(error, native.Tampered) and not _NOTICE:
            _NOTICE.append(str(error))
            warnings.warn(f"nxmfg: the compiled path is unavailable ({error}); runs take the numpy path",
                          native.CompiledPathNotice, stacklevel=2)
        return _from_pysd(py_file, source, str(error))
    meta = library.meta
    return Facts(source, dict(meta["kinds"]), frozenset(meta["time_axis_inputs"]), compiled.clock(library),
                 len(meta["static_step"]), True, None)


def _from_pysd(py_file: str, source: str, note: str) -> Facts:
    import pysd

    from nxmfg.model.engine.batch import time_axis_inputs

    economy = pysd.load(py_file)
    clock = economy.time
    kinds = economy.doc.set_index("Py Name")["Type"].to_dict()
    steps = sum(kind == "step" for kind in economy.cache_type.values())
    return Facts(source, kinds, frozenset(time_axis_inputs(economy)),
                 (float(clock.initial_time()), float(clock.final_time()), float(clock.time_step()),
                  float(clock.saveper())), steps, False, note)


def rewritten(py_file: Path) -> str:
    """`transform` of the translated module, kept in the private cache folder: rewriting takes 0.15 s of
    every single run, and its result changes only with the translation or with the rewriting code."""
    source = py_file.read_text(encoding="utf-8")
    rules = Path(engine_transform.__file__).read_bytes()
    key = hashlib.sha256(source.encode() + rules).hexdigest()[:24]
    folder = private_folder("engine")      # named by input and by its own content's hash, checked on reading
    for kept in folder.glob(f"rewritten-{key}-*.py"):
        with contextlib.suppress(OSError, UnicodeDecodeError):
            data = kept.read_bytes()
            if kept.stem.endswith(hashlib.sha256(data).hexdigest()[:24]):
                return data.decode("utf-8")
    result = engine_transform.transform(source, py_file.name)
    digest = hashlib.sha256(result.encode()).hexdigest()[:24]
    with contextlib.suppress(OSError):       # a full disk: rewrite again next time
        files.write_text(folder / f"rewritten-{key}-{digest}.py", result)
    return result
