"""Build, cache and load the compiled model: C from `cgen`, the system's C compiler, cffi.

The library is kept under `compiled_cache()` (the engine's cache root), in a folder named by the hash of
everything that makes it: the translated module, the generator's code, the compiler and its flags. A
library is loaded only from folders and files this user owns and no one else may write, and only when
the hashes of its source, library and metadata equal those recorded when it was built (`Tampered`
otherwise). Loading hands the library numpy's own float64 kernels (cexpr.KERNELS) and checks them on
sample values: the compiled path rounds as numpy does, or is not used.
"""

import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from nxmfg.model.engine import cgen

KEPT = 64            # compiled models kept in the cache (the newest builds); a loaded library outlives its file
FLAGS = ("-O1", "-fPIC", "-shared", "-ffp-contract=off", "-fno-math-errno")   # no FMA, no fast-math
GENERATOR = ("cgen.py", "plan.py", "cexpr.py", "equations.py", "cruntime.h", "cmodel.c", "native.py")
CDEF = """
typedef void (*nx_loop)(char **args, const intptr_t *dimensions, const intptr_t *steps, void *data);
typedef struct { long n; const double *x; const double *y; long stride; } nx_table;
typedef struct {
    long runs; const double *const *value; const long *stride; const nx_table *path; const nx_table *table;
    const unsigned char *dyn; double final_time, time_step, saveper;
    const int *save; long n_save; const int *fixed; long n_fixed;
    double *out_step; long capacity; double *out_fixed; double *times; long n_times;
    double pause; int resume; double *state; long state_stride;
} nx_call;
int nx_set_kernel(int k, nx_loop loop, void *data);
double nx_kernel_check(int k, double a, double b, int arity);
int nx_run(nx_call *c);
long nx_state_size(nx_call *c);
int nx_clock(nx_call *c, double *out);
typedef struct { intptr_t refcnt; void *type; int nin, nout, nargs, identity;
                 nx_loop *functions; void **data; int ntypes, reserved1;
                 const char *name; const char *types; } nx_ufunc;
"""


class Unavailable(RuntimeError):
    """No compiler, or the kernels or the cache cannot be trusted: the numpy path runs instead."""


class CompiledPathNotice(UserWarning):
    """Said once per process when the compiled path is unavailable and the numpy path runs instead."""


class Tampered(Unavailable):
    """A cached library whose folder, owner, mode or content is not what this user built."""


@dataclass
class Library:
    ffi: object
    lib: object
    meta: dict
    folder: Path


def compiled_cache() -> Path:
    """The one folder for compiled models, in the private per-user cache folder (model.cache)."""
    from nxmfg.model.cache import private_folder

    return private_folder("compiled")


@cache
def _ffi():
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    return ffi


def compiler() -> str | None:
    """The C compiler: $CC (if it exists), else gcc, else cc; None without one."""
    chosen = os.environ.get("CC")
    return shutil.which(chosen) if chosen else shutil.which("gcc") or shutil.which("cc")


def load(translated_source: str) -> Library:
    """The compiled model of a translated module: from the cache, or built now (a few seconds).

    Raises NotCompilable (the model uses something the generator refuses, naming the variable),
    Unavailable (no compiler, untrusted kernels) or Tampered (the cached library was changed).
    """
    cc = compiler()
    if cc is None:
        raise Unavailable("no C compiler found (gcc or cc; or set CC)")
    key = _key(translated_source, cc)
    folder = compiled_cache() / key
    if not folder.exists():
        _build(translated_source, cc, folder)
    record = _verified(folder, key)
    ffi = _ffi()
    library = Library(ffi, ffi.dlopen(str(folder / "model.so")), json.loads(record["meta"]), folder)
    _hand_kernels(library)
    return library


def _key(source: str, cc: str) -> str:
    digest = hashlib.sha256(source.encode())
    here = Path(__file__).parent
    for name in GENERATOR:
        digest.update((here / name).read_bytes())
    info = Path(cc).resolve().stat()   # the compiler's file: a new version is a new file (no subprocess)
    digest.update(f"{Path(cc).resolve()}\n{info.st_size}\n{info.st_mtime_ns}\n{FLAGS}".encode())
    return digest.hexdigest()[:24]


def _build(source: str, cc: str, folder: Path) -> None:
    generated = cgen.generate(source)          # NotCompilable propagates, naming the variable
    root = _private(folder.parent)
    work = Path(tempfile.mkdtemp(dir=root, prefix=f".nxmfg-staging.{os.getpid()}."))   # see _prune
    try:
        (work / "model.c").write_text(generated.source, encoding="utf-8")
        done = subprocess.run([cc, *FLAGS, "-o", str(work / "model.so"), str(work / "model.c"), "-lm"],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise Unavailable(f"the C compiler failed on the generated model: {done.stderr.strip()[:500]}")
        meta = json.dumps(generated.meta)
        (work / "meta.json").write_text(meta, encoding="utf-8")
        record = {"key": folder.name, **{f"{name}_sha256": _sha256(work / name)
                                         for name in ("model.c", "model.so", "meta.json")}}
        (work / "record.json").write_text(json.dumps(record), encoding="utf-8")
        try:
            os.rename(work, folder)             # atomic; another process may have built it first
        except OSError:
            if not folder.exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _prune(root)


def _prune(root: Path) -> None:
    """Remove builds of processes that died mid-way (model.files.remove_stale) and all but the KEPT
    newest builds (folders named by a key, never anything else)."""
    from nxmfg.model import files

    files.remove_stale(root, depth=1)
    builds = [p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and len(p.name) == 24
              and all(c in "0123456789abcdef" for c in p.name)]
    for old in sorted(builds, key=lambda p: p.stat().st_mtime, reverse=True)[KEPT:]:
        shutil.rmtree(old, ignore_errors=True)


def _verified(folder: Path, key: str) -> dict:
    """The build record, after checking the folders, the files and their hashes."""
    for path in (compiled_cache().parent, compiled_cache(), folder):
        _check_private(path)
    files = {name: folder / name for name in ("record.json", "model.c", "model.so", "meta.json")}
    for path in files.values():
        _check_private(path)
    record = json.loads(files["record.json"].read_text(encoding="utf-8"))
    if record.get("key") != key:
        raise Tampered(f"{folder}: the build record is for another model")
    for name in ("model.c", "model.so", "meta.json"):
        if _sha256(files[name]) != record.get(f"{name}_sha256"):
            raise Tampered(f"{files[name]}: its content differs from the one built (hash mismatch); "
                           "delete the folder to build it again")
    return record | {"meta": files["meta.json"].read_text(encoding="utf-8")}


def _private(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for path in (folder.parent, folder):
        _check_private(path)
    return folder


def _check_private(path: Path) -> None:
    """Owned by this user, not a symbolic link, and writable by no one else."""
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        raise Tampered(f"{path}: a symbolic link; the compiled model is loaded only from real folders")
    if info.st_uid != os.getuid():
        raise Tampered(f"{path}: owned by another user (uid {info.st_uid})")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise Tampered(f"{path}: others may write to it (mode {stat.S_IMODE(info.st_mode):o})")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _hand_kernels(library: Library) -> None:
    """Give the library numpy's float64 loops, read from the ufunc objects, and check them against
    numpy's own calls on Python floats (PySD's runs), special exponents included."""
    ffi, lib = library.ffi, library.lib
    double = bytes([np.dtype(np.float64).num])
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.uniform(0.05, 3.0, 60), [0.0, 1.0, 4.0, 1e-300]])
    b = np.concatenate([rng.uniform(-2.0, 2.0, 56), [0.5, 2.0, -1.0, 0.0, 1.0, 3.0, -0.5, 0.5]])
    for k, name in enumerate(library.meta["kernels"]):
        ufunc = getattr(np, name)
        raw = ffi.cast("nx_ufunc *", id(ufunc))
        if ffi.string(raw.name).decode() != ufunc.__name__ or raw.nargs != ufunc.nargs:
            raise Unavailable(f"numpy's {name} does not have the layout the compiled path reads")
        types = ffi.unpack(raw.types, raw.ntypes * raw.nargs)
        found = [i for i in range(raw.ntypes) if types[i * raw.nargs:(i + 1) * raw.nargs] == double * raw.nargs]
        if not found:
            raise Unavailable(f"numpy's {name} has no float64 loop")
        lib.nx_set_kernel(k, raw.functions[found[0]], raw.data[found[0]])
        pairs = [(float(x), float(y)) for x, y in zip(a if ufunc.nin == 2 else a / 4, b, strict=True)]
        with np.errstate(all="ignore"):
            expected = [ufunc(x, y) if ufunc.nin == 2 else ufunc(x) for x, y in pairs]
        got = [lib.nx_kernel_check(k, x, y, ufunc.nin) for x, y in pairs]
        if not np.array_equal(np.asarray(got), np.asarray(expected, dtype=float), equal_nan=True):
            raise Unavailable(f"numpy's {name} kernel, called from C, does not give numpy's values")
