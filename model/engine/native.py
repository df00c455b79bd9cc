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
import platform
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
# -O2 -march=native: the loops over a block's runs vectorised with this CPU's instructions (the key names the
# CPU); correctly rounded IEEE operations either way, with no FMA contraction and no fast-math, so no bit moves.
FLAGS = ("-O2", "-march=native", "-fPIC", "-shared", "-ffp-contract=off", "-fno-math-errno")
GENERATOR = ("cgen.py", "cloop.py", "plan.py", "cexpr.py", "equations.py", "cruntime.h", "cmodel.c", "native.py")
CDEF = """
typedef void (*nx_loop)(char **args, const intptr_t *dimensions, const intptr_t *steps, void *data);
typedef struct { long n; const double *x; const double *y; long stride; } nx_table;
typedef struct {
    long runs; const double *const *value; const long *stride; const nx_table *path; const nx_table *table;
    const unsigned char *dyn; double final_time, time_step, saveper;
    const int *save; long n_save; const int *fixed; long n_fixed;
    double *out_step; long capacity; long first_save; double *out_fixed; double *times; long n_times;
    double pause; int resume; double *state; long state_stride;
} nx_call;
int nx_set_kernel(int k, nx_loop loop, void *data, int vector);
double nx_kernel_check(int k, double a, double b, int arity);
void nx_kernel_block(int k, long n, const double *a, const double *b, double *out, int arity);
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
    blocks: tuple[str, ...] = ()     # numpy kernels called once per block of runs (the others: per run)


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
    digest.update(f"{Path(cc).resolve()}\n{info.st_size}\n{info.st_mtime_ns}\n{FLAGS}\n{_cpu()}".encode())
    return digest.hexdigest()[:24]


def _cpu() -> str:
    """What -march=native compiles for: the machine and its CPU's feature flags (Linux), else the processor."""
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    flags = next((line for line in lines if line.startswith(("flags", "Features"))), platform.processor())
    return f"{platform.machine()} {flags}"


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
    for old in files.newest_first(builds)[KEPT:]:    # a build another process pruned meanwhile is passed over
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
    numpy's own calls on Python floats (PySD's runs), special exponents included: one element at a time,
    and on blocks of runs (a block call not equal to them is made element by element instead)."""
    ffi, lib = library.ffi, library.lib
    double = bytes([np.dtype(np.float64).num])
    for k, name in enumerate(library.meta["kernels"]):
        ufunc = getattr(np, name)
        raw = ffi.cast("nx_ufunc *", id(ufunc))
        if ffi.string(raw.name).decode() != ufunc.__name__ or raw.nargs != ufunc.nargs:
            raise Unavailable(f"numpy's {name} does not have the layout the compiled path reads")
        types = ffi.unpack(raw.types, raw.ntypes * raw.nargs)
        found = [i for i in range(raw.ntypes) if types[i * raw.nargs:(i + 1) * raw.nargs] == double * raw.nargs]
        if not found:
            raise Unavailable(f"numpy's {name} has no float64 loop")
        lib.nx_set_kernel(k, raw.functions[found[0]], raw.data[found[0]], 0)
        a, b = _samples(ufunc.nin)
        with np.errstate(all="ignore"):
            expected = np.array([ufunc(x, y) if ufunc.nin == 2 else ufunc(x) for x, y in zip(a, b, strict=True)])
        got = np.array([lib.nx_kernel_check(k, x, y, ufunc.nin) for x, y in zip(a, b, strict=True)])
        if not np.array_equal(got, expected, equal_nan=True):
            raise Unavailable(f"numpy's {name} kernel, called from C, does not give numpy's values")
        lib.nx_set_kernel(k, raw.functions[found[0]], raw.data[found[0]], 1)
        if _blocks_agree(library, k, ufunc.nin, a, b, expected):
            library.blocks += (name,)
        else:
            lib.nx_set_kernel(k, raw.functions[found[0]], raw.data[found[0]], 0)


def _samples(arity: int) -> tuple[list[float], list[float]]:
    """Arguments to check a kernel on: random ones, and exponents a loop may treat apart (numpy's power
    takes -1, 0, 0.5, 1 and 2 of a scalar exponent by a fast path)."""
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.uniform(0.05, 3.0, 400), np.exp(rng.uniform(-30, 30, 100)), [0.0, 1.0, 4.0, 1e-300]])
    if arity == 1:
        a = np.concatenate([a / 4, -a[:100] / 4, [np.inf, -np.inf, np.nan, -0.0]])
        return a.tolist(), [0.0] * a.size
    exponents = [-2.0, -1.0, -0.5, 0.0, 0.25, 1 / 3, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, -0.0]
    b = np.concatenate([rng.uniform(-2.0, 2.0, 300), rng.choice(exponents, a.size - 300)])
    return a.tolist(), b.tolist()


def _blocks_agree(library: Library, k: int, arity: int, a: list[float], b: list[float], expected) -> bool:
    """The block call (nx_v1, nx_v2) gives the scalar calls' values: blocks of several lengths, exponents
    that differ along the block and exponents one for the block."""
    ffi, lib = library.ffi, library.lib
    cases = [(a, b)] + [(a[:n], [x] * n) for n, x in zip((1, 7, 64), (2.0, 0.5, -1.0), strict=True)]
    cases += [(a[:64], b[:64]), (a[:5], b[:5])]
    for xs, ys in cases:
        out = ffi.new("double[]", len(xs))
        lib.nx_kernel_block(k, len(xs), ffi.new("double[]", xs), ffi.new("double[]", ys), out, arity)
        with np.errstate(all="ignore"):
            wanted = expected if xs is a else [lib.nx_kernel_check(k, x, y, arity) for x, y in zip(xs, ys, strict=True)]
        if not np.array_equal(np.frombuffer(ffi.buffer(out), float), np.asarray(wanted, float), equal_nan=True):
            return False
    return True
