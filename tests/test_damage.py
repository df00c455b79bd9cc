"""Damage a careless or malicious user could do (issue 19): a planted module, cache, checkpoint, chunk or
manifest, and the user's own temporary-looking files. Each test plants its file, runs the real command
(a child process, as a user runs it), and asserts that no planted code ran (each planted module or pickle
would write a marker file) and that nothing outside the run's own output files changed.

Another user's folder is made by giving it to uid 65534 (nobody): the tests run as root, as CI does.
"""

import hashlib
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from nxmfg.model import cache, files

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="POSIX owners and modes")
NXMFG = [sys.executable, "-c", "import sys; from nxmfg import cli; sys.argv[0] = 'nxmfg'; cli.main()"]
NOBODY = 65534
STUDY = """\
name: case
samples: 4
seed: 1
levers:
  cultivation_upgrades_per_year: [0, 200]
outcomes:
  - {indicator: above_scale_firms_count, year: 2025}
"""


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*NXMFG, *args], cwd=cwd, capture_output=True, text=True, timeout=900,
                          env=os.environ | {"MPLBACKEND": "Agg"} | env)


def evil(marker: Path) -> str:
    """Python that leaves `marker` if it is ever executed."""
    return f"open({str(marker)!r}, 'w').write('planted code ran')\n"


class Exploit:
    """A pickle that leaves `marker` when unpickled."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('planted pickle ran')",))


def tree(*folders: Path) -> dict[str, tuple]:
    """Every entry under `folders` with its type, size, mode, owner and content hash."""
    found = {}
    for folder in folders:
        for path in [folder, *folder.rglob("*")]:
            info = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else ""
            found[str(path)] = (info.st_mode, info.st_uid, info.st_size, digest,
                                os.readlink(path) if path.is_symlink() else "")
    return found


def one_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error:")]
    assert result.returncode == 1 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    return lines[0]


@pytest.fixture(scope="module")
def real_cache() -> Path:
    """Our own private folder, filled by one run: the translation, the engine module, names, outlooks."""
    subprocess.run([*NXMFG, "simulate", "baseline", "--out", tempfile.mkdtemp(), "--lang", "en"], check=True,
                   capture_output=True, env=os.environ | {"MPLBACKEND": "Agg"}, timeout=900)
    return cache.private_folder()


def planted_copy(real: Path, where: Path, marker: Path) -> Path:
    """A copy of the cache with every Python file replaced by `evil` and every lever range widened."""
    shutil.copytree(real, where, ignore=shutil.ignore_patterns("baselines", cache.KEY_NAME, "__pycache__"))
    for module in where.rglob("*.py"):
        module.write_text(evil(marker), encoding="utf-8")
    for names in where.rglob("names-*.json"):
        names.write_text(names.read_text(encoding="utf-8").replace('"high": ', '"high": 1e9, "was": '),
                         encoding="utf-8")
    return where


# --- 1. planted modules and caches --------------------------------------------------------------------

@pytest.mark.parametrize("how", ["owned by another user", "writable by others"])
def test_a_cache_folder_another_user_could_write_is_refused_and_nothing_in_it_runs(real_cache, tmp_path, how):
    marker = tmp_path / "marker"
    planted = planted_copy(real_cache, tmp_path / "shared-cache", marker)
    if how == "owned by another user":
        for path in [planted, *planted.rglob("*")]:
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    else:
        planted.chmod(0o777)
    before = tree(planted)
    result = run(["simulate", "plan", "--out", str(tmp_path / "out")], tmp_path, NXMFG_CACHE=str(planted))
    assert str(planted) in one_line(result) and "nothing in it is used" in one_line(result)
    assert not marker.exists()
    assert tree(planted) == before
    assert not (tmp_path / "out").exists()


def test_a_module_planted_where_the_engine_used_to_look_is_never_imported(real_cache, tmp_path):
    """$TMPDIR/nxmfg-ensemble/m<digest>.py was imported whenever it existed."""
    marker, old = tmp_path / "marker", tmp_path / "tmp" / "nxmfg-ensemble"
    old.mkdir(parents=True)
    for module in (real_cache / "engine").glob("m*.py"):
        (old / module.name).write_text(evil(marker), encoding="utf-8")
    before = tree(old.parent)
    result = run(["simulate", "plan", "--out", str(tmp_path / "out"), "--lang", "en"], tmp_path,
                 TMPDIR=str(old.parent))
    assert result.returncode == 0, result.stderr[-2000:]
    assert not marker.exists()
    assert tree(old.parent) == before


def test_an_engine_module_that_differs_from_its_source_is_written_again_not_imported(real_cache, tmp_path):
    """In our own folder too, the module is checked against its source's hash before each import."""
    marker = tmp_path / "marker"
    own = planted_copy(real_cache, tmp_path / "own-cache", marker)
    for translated in own.glob("*-numpy-power/nxmfg.py"):           # the translation: ours, as PySD wrote it
        shutil.copy(real_cache / translated.relative_to(own), translated)
    for names in own.rglob("names-*.json"):
        shutil.copy(real_cache / names.relative_to(own), names)
    shutil.rmtree(own / "compiled", ignore_errors=True)   # no compiler either: the numpy path imports the module
    own.chmod(0o700)
    result = run(["simulate", "plan", "--out", str(tmp_path / "out"), "--lang", "en"], tmp_path, NXMFG_CACHE=str(own),
                 CC=str(tmp_path / "no-compiler"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert not marker.exists()
    # the model's module, written again: its content is the source its name hashes (the planted ones of other
    # models stay as they were, never imported)
    rewritten = [m for m in (own / "engine").glob("m*.py")
                 if m.stem[1:] == hashlib.sha256(m.read_bytes()).hexdigest()[:16]]
    assert rewritten


@pytest.mark.parametrize(("what", "words"), [
    ("a file", "not a folder"), ("under /proc", "cannot use it"), ("empty", None)])
def test_a_cache_that_cannot_be_used_is_named_in_one_line(tmp_path, what, words):
    if what == "a file":
        given = tmp_path / "cache-file"
        given.write_text("not a folder")
    elif what == "under /proc":
        given = Path("/proc/nxmfg-cache")
    else:
        given = tmp_path / "fresh"            # made on first use, 0700
    result = run(["simulate", "baseline", "--out", str(tmp_path / "out"), "--lang", "en"], tmp_path,
                 NXMFG_CACHE=str(given))
    if words is None:
        assert result.returncode == 0, result.stderr[-2000:]
        assert oct(given.stat().st_mode & 0o777) == oct(0o700)
    else:
        line = one_line(result)
        assert f"nxmfg cache {given}" in line and words in line


def test_a_cut_short_names_file_is_made_again(real_cache, tmp_path):
    own = tmp_path / "own-cache"
    shutil.copytree(real_cache, own, ignore=shutil.ignore_patterns("baselines", cache.KEY_NAME))
    from nxmfg import model

    names = own / model.version() / next(real_cache.joinpath(model.version()).glob("names-*.json")).name
    whole = names.read_bytes()
    names.write_bytes(whole[:100])
    result = run(["simulate", "baseline", "--out", str(tmp_path / "out"), "--lang", "en"], tmp_path,
                 NXMFG_CACHE=str(own))
    assert result.returncode == 0, result.stderr[-2000:]
    assert names.read_bytes() == whole


# --- 2. planted checkpoints and chunks ----------------------------------------------------------------

def small_optimisation(folder: Path) -> Path:
    import yaml

    from nxmfg.optimization import study

    data = yaml.safe_load(Path(study.__file__).with_name("packages_2027.yaml").read_text(encoding="utf-8"))
    data |= {"name": "small", "population": 4, "generations": 1}
    data["states"] = {"count": 2}
    path = folder / "small.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("planted", ["pickle in the old file", "pickled array", "unsigned arrays"])
def test_a_planted_checkpoint_runs_no_code_and_is_refused_in_one_line(tmp_path, planted):
    marker, out = tmp_path / "marker", tmp_path / "out"
    out.mkdir()
    if planted == "pickle in the old file":
        (out / "checkpoint.pkl").write_bytes(pickle.dumps({"format": 1, "algorithm": Exploit(marker)}))
        (out / "checkpoint.npz").write_bytes(pickle.dumps(Exploit(marker)))
    elif planted == "pickled array":
        with open(out / "checkpoint.npz", "wb") as handle:
            np.savez(handle, meta=np.array([Exploit(marker)], dtype=object))
    else:
        with open(out / "checkpoint.npz", "wb") as handle:
            np.savez(handle, meta=np.frombuffer(b'{"format": 2, "fingerprint": "x"}', dtype=np.uint8),
                     signature=np.frombuffer(b"0" * 64, dtype=np.uint8))
    study = small_optimisation(tmp_path)
    before = tree(tmp_path)
    result = run(["optimize", str(study), "--out", str(out), "--resume", "--lang", "en"], tmp_path)
    line = one_line(result)
    assert str(out / "checkpoint.npz") in line and "rerun without --resume" in line
    assert not marker.exists()
    assert tree(tmp_path) == before


def test_planted_study_chunks_and_samples_run_no_code(tmp_path):
    """--resume evaluates a chunk we did not write again (and replaces it); --analyse-only refuses a
    samples.npz holding Python objects."""
    marker, out = tmp_path / "marker", tmp_path / "out"
    (out / "chunks").mkdir(parents=True)
    with open(out / "chunks" / "chunk_00000.npz", "wb") as handle:
        np.savez(handle, outcomes=np.array([Exploit(marker)], dtype=object))
    (tmp_path / "case.yaml").write_text(STUDY, encoding="utf-8")
    notes = tmp_path / "notes.txt"
    notes.write_text("the user's", encoding="utf-8")
    before = tree(tmp_path / "case.yaml", notes)
    result = run(["sensitivity", str(tmp_path / "case.yaml"), "--out", str(out), "--resume"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not marker.exists()
    with np.load(out / "chunks" / "chunk_00000.npz", allow_pickle=False) as chunk:
        assert chunk["outcomes"].dtype == float                         # evaluated again and replaced
    with open(out / "samples.npz", "wb") as handle:
        np.savez(handle, X=np.array([Exploit(marker)], dtype=object))
    line = one_line(run(["sensitivity", str(tmp_path / "case.yaml"), "--out", str(out), "--analyse-only"], tmp_path))
    assert "samples.npz" in line
    assert not marker.exists()
    assert tree(tmp_path / "case.yaml", notes) == before


# --- 3. a planted manifest ----------------------------------------------------------------------------

def test_a_planted_manifest_deletes_nothing_inside_or_outside_the_folder(tmp_path):
    import json

    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    victims = [out / "mine.csv", out / "charts_of_mine.png", outside / "precious.txt", tmp_path / "sibling.txt"]
    for victim in victims:
        victim.write_text("keep me", encoding="utf-8")
    (out / "link").symlink_to(outside)
    (out / files.MANIFEST).write_text(json.dumps({"command": "simulate", "files": [
        "mine.csv", "charts_of_mine.png", "link/precious.txt", "../sibling.txt", str(outside / "precious.txt")],
        "folder": str(out), "signature": "0" * 64}), encoding="utf-8")
    before = tree(outside, *victims)
    result = run(["simulate", "baseline", "--out", str(out), "--lang", "en"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert tree(outside, *victims) == before
    assert (out / "link").is_symlink()


def test_a_manifest_of_ours_copied_into_another_folder_is_not_ours_there(tmp_path):
    """The signature covers the folder: our own manifest, moved or copied, removes nothing elsewhere."""
    first, second = tmp_path / "first", tmp_path / "second"
    with files.staged_output(first, "simulate") as stage:
        files.write_text(stage / "mine.csv", "ours")
    second.mkdir()
    (second / "mine.csv").write_text("the user's", encoding="utf-8")
    shutil.copy(first / files.MANIFEST, second / files.MANIFEST)
    with files.staged_output(second, "simulate") as stage:
        files.write_text(stage / "results.csv", "new")
    assert (second / "mine.csv").read_text(encoding="utf-8") == "the user's"


# --- 4. the user's own temporary-looking files --------------------------------------------------------

def test_the_stale_sweep_keeps_the_users_tmp_files_and_other_users_leftovers(tmp_path):
    out = tmp_path / "out"
    (out / "notes").mkdir(parents=True)
    dead = _dead_process_id()
    theirs = out / f".nxmfg-tmp.{dead}.abc123xy"
    kept = [out / ".draft.v2.tmp", out / ".report.1234.abcd.tmp", out / "notes" / ".a.b.tmp",
            out / f".results.csv.{dead}.k2j4h1x0.tmp", theirs]
    for path in kept:
        path.write_text("the user's", encoding="utf-8")
    os.chown(theirs, NOBODY, NOBODY)
    before = tree(*kept)
    result = run(["simulate", "baseline", "--out", str(out), "--lang", "en"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert tree(*kept) == before


def test_out_in_a_shared_folder_sweeps_nothing_but_our_own_leftovers(tmp_path):
    """--out ~ or --out /tmp: the sweep looks at names of our prefix only, of dead processes, ours."""
    shared = tmp_path / "shared"
    (shared / "someone").mkdir(parents=True)
    dead = _dead_process_id()
    others = [shared / ".X11-unix.tmp", shared / "someone" / ".session.42.tmp", shared / ".nxmfg-staging-not.1"]
    for path in others:
        path.write_text("not ours", encoding="utf-8")
    ours = shared / f".nxmfg-tmp.{dead}.zz11yy22"
    ours.write_text("left by a kill", encoding="utf-8")
    assert files.remove_stale(shared) == [ours]
    assert all(path.exists() for path in others)


def _dead_process_id() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    return int(child.stdout)
