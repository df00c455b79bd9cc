"""The compiled path (issue 23): C generated from PySD's translation, built and cached safely, with the
numpy path taking over, saying why, wherever it cannot run. Its equality with PySD is tested on the
project model in tests/test_ensemble.py and on SDXorg's models in tests/test_sd_models.py."""

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pysd
import pytest
import xarray as xr

from nxmfg.model.engine import cgen, compiled, facts, native
from nxmfg.model.engine.equations import NotCompilable
from nxmfg.model.engine.transform import numpy_power
from nxmfg.model.ensemble import run_translated

CASES = Path(__file__).with_name("sd_models")


def _translated(case: str, folder: Path) -> Path:
    copy = shutil.copytree(CASES / case, folder / Path(case).name)
    (mdl,) = Path(copy).glob("*.mdl")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Path(pysd.read_vensim(mdl).py_model_file)


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """A cache root of the test's own, and no compiled model or facts remembered from other tests."""
    root = tmp_path / "cache"
    root.mkdir(mode=0o700)
    monkeypatch.setattr(native, "compiled_cache", lambda: root / "compiled")
    compiled.library.cache_clear()
    facts._facts.cache_clear()
    yield root / "compiled"
    compiled.library.cache_clear()
    facts._facts.cache_clear()


def test_a_model_the_generator_cannot_compile_is_refused_naming_the_variable(tmp_path):
    """SMOOTH N with a variable order: the state's size would depend on an input."""
    source = _translated("tests/smooth", tmp_path).read_text(encoding="utf-8")
    with pytest.raises(NotCompilable, match="variable 'Smooth N output' uses a SMOOTH whose order"):
        cgen.generate(source)


def test_the_library_is_built_once_and_reloaded_from_the_cache(tmp_path, private_cache):
    py_file = _translated("samples/teacup", tmp_path)
    first = run_translated(py_file, {}, 2, workers=1, progress=False)
    (folder,) = private_cache.iterdir()
    built = (folder / "model.so").stat().st_mtime_ns
    compiled.library.cache_clear()
    facts._facts.cache_clear()
    again = run_translated(py_file, {}, 2, workers=1, progress=False)
    assert first.attrs["engine"] == again.attrs["engine"] == "compiled"
    assert (folder / "model.so").stat().st_mtime_ns == built
    assert first.drop_attrs().identical(again.drop_attrs())


def test_the_cache_refuses_a_tampered_library_and_the_numpy_path_runs(tmp_path, private_cache):
    py_file = _translated("samples/teacup", tmp_path)
    run_translated(py_file, {}, 2, workers=1, progress=False)
    (folder,) = private_cache.iterdir()
    library = folder / "model.so"
    data = bytearray(library.read_bytes())
    data[len(data) // 2] ^= 0xFF
    # A new file in its place (as a planter would): writing into the loaded file would change this
    # process's own mapping of it, which no one else can do
    planted = library.with_name("planted.so")
    planted.write_bytes(bytes(data))
    planted.replace(library)
    compiled.library.cache_clear()
    facts._facts.cache_clear()
    with pytest.raises(native.Tampered, match="model.so: its content differs"):
        native.load(facts.rewritten(py_file))
    runs = run_translated(py_file, {}, 2, workers=1, progress=False)
    assert runs.attrs["engine"] == "numpy"
    assert "hash mismatch" in runs.attrs["engine_note"]


def test_the_cache_refuses_a_folder_others_may_write(tmp_path, private_cache):
    py_file = _translated("samples/teacup", tmp_path)
    source = facts.rewritten(py_file)
    native.load(source)
    (folder,) = private_cache.iterdir()
    folder.chmod(0o777)
    with pytest.raises(native.Tampered, match="others may write to it"):
        native.load(source)
    folder.chmod(0o700)
    (folder / "meta.json").chmod(0o666)
    with pytest.raises(native.Tampered, match="meta.json: others may write"):
        native.load(source)


def test_without_a_compiler_the_numpy_path_runs_after_one_notice(tmp_path, private_cache, monkeypatch):
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    monkeypatch.setattr(facts, "_NOTICE", [])
    py_file = _translated("samples/teacup", tmp_path)
    with pytest.warns(native.CompiledPathNotice, match="no C compiler found"):
        runs = run_translated(py_file, {}, 2, workers=1, progress=False)
    assert runs.attrs["engine"] == "numpy"
    assert "no C compiler" in runs.attrs["engine_note"]
    assert not private_cache.exists() or not any(private_cache.iterdir())


def test_a_path_can_be_asked_for_and_both_give_the_same_numbers(tmp_path):
    py_file = _translated("samples/SIR", tmp_path)
    ours = run_translated(py_file, {}, 3, workers=1, progress=False, engine="compiled")
    theirs = run_translated(py_file, {}, 3, workers=1, progress=False, engine="numpy")
    assert (ours.attrs["engine"], theirs.attrs["engine"]) == ("compiled", "numpy")
    assert ours.drop_attrs().identical(theirs.drop_attrs())
    with pytest.raises(ValueError, match="engine: 'fast' is not one of auto, compiled, numpy"):
        run_translated(py_file, {}, 3, workers=1, progress=False, engine="fast")


def test_the_cache_keeps_only_the_newest_builds_and_no_half_build(tmp_path, private_cache, monkeypatch):
    monkeypatch.setattr(native, "KEPT", 1)
    first = _translated("samples/teacup", tmp_path / "a")
    second = _translated("samples/SIR", tmp_path / "b")
    native.load(facts.rewritten(first))
    (private_cache / "not-a-build").mkdir()
    dead = private_cache / ".nxmfg-staging.999999999.abc"     # a build whose process died (no such pid)
    dead.mkdir()
    native.load(facts.rewritten(second))
    assert len([p for p in private_cache.iterdir() if p.name != "not-a-build"]) == 1
    assert (private_cache / "not-a-build").is_dir()         # only builds are removed
    assert not dead.exists()


SIDE_BY_SIDE = ["input = 5 + STEP(10, 3) + Time ^ 1.5", "delay time = 2", "smooth time = 1.5", "growth = 0.5",
                "delayed = DELAY FIXED(input, delay time, 1)", "smoothed = SMOOTH3(input, smooth time)",
                "effect table( (0,0),(5,1),(10,3),(20,4) )", "effect = effect table(smoothed)",
                "Stock = INTEG(delayed * effect - Stock * 0.1, 1)", "shaped = Stock ^ growth",
                "INITIAL TIME = 0", "FINAL TIME = 12", "TIME STEP = 0.25", "SAVEPER = 1"]


def test_runs_side_by_side_in_a_block_each_equal_their_own_pysd_run_to_the_bit(tmp_path):
    """11 runs in one block (16 lanes, 5 past the runs), each with its own DELAY FIXED time (pipes of 1
    to 20 stages), SMOOTH3 time, lookup table, and exponent: numpy's power takes -1, 0, 0.5, 1 and 2
    of a scalar exponent by a fast path, which a block of differing exponents skips. Every variable of
    every run equals PySD's run of that set alone (powers through numpy, as model.translated writes them)."""
    equations = "".join(f"{equation}\n\t~\t~\t|\n" for equation in SIDE_BY_SIDE)
    (tmp_path / "side.mdl").write_text("{UTF-8}\n" + equations, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        py_file = Path(pysd.read_vensim(tmp_path / "side.mdl").py_model_file)
    py_file.write_text("import numpy as np\n" + numpy_power(py_file.read_text(encoding="utf-8")), encoding="utf-8")
    rng = np.random.default_rng(23)
    delays = np.array([0.3, 1.0, 2.5, 3.7, 0.25, 5.0, 1.1, 2.0, 0.6, 4.2, 3.0])
    growth = np.array([0.5, 2.0, 1.0, 0.0, -1.0, 1.37, 0.5, 2.0, 0.8, 2.0, 0.5])
    smooth, scale = rng.uniform(0.5, 3.0, 11), rng.uniform(0.5, 2.0, (11, 1))
    tables = np.array([[0.0, 1.0, 3.0, 4.0]]) * scale
    points = [0.0, 5.0, 10.0, 20.0]
    runs = run_translated(py_file, {"delay_time": delays, "smooth_time": smooth, "growth": growth,
                                    "effect_table": xr.DataArray(tables, {"year": points}, ("run", "year"))},
                          11, workers=1, progress=False, engine="compiled")
    assert runs.attrs["engine"] == "compiled"
    economy = pysd.load(py_file)
    for run in range(11):
        params = {"delay_time": delays[run], "smooth_time": smooth[run], "growth": growth[run],
                  "effect_table": pd.Series(tables[run], points)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            plain = economy.run(params=params, reload=True)
        for column in plain.columns:
            name = economy.namespace.get(column)
            if name in runs:
                np.testing.assert_array_equal(runs[name].isel(run=run).to_numpy(), plain[column].to_numpy(),
                                              err_msg=f"run {run}: {column}")


def test_numpy_kernels_are_called_once_per_block_and_give_the_scalar_calls_values(tmp_path, private_cache):
    """The loader checks each kernel's call on a block against numpy's calls on Python floats (PySD's),
    power's special exponents mixed in, and calls on blocks only those that agree; with this numpy every
    kernel does (a new fast path in numpy's power would show here, as a kernel called per run)."""
    library = native.load(facts.rewritten(_translated("samples/teacup", tmp_path)))
    assert set(library.blocks) == set(library.meta["kernels"])
