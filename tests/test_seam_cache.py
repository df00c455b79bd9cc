"""The reconciled start at the seam is made once per content, then read from the private cache
(calibration/seam_cache.py): read back, it is the start made afresh, bit for bit; other inputs miss; and only
a whole entry, a plain file of ours, is read."""

import dataclasses
import os
import sys

import numpy as np
import pytest
import xarray as xr

from nxmfg import model, scenarios
from nxmfg.api import inputs
from nxmfg.calibration import seam, seam_cache, states, worlds

CONTROL = {"final_time": 2027, "saveper": 1}
NOBODY = 65534


@pytest.fixture(scope="module")
def untouched():
    return scenarios.from_mapping({"name": "u", "description": "x"}, "<u>")


@pytest.fixture(scope="module")
def params(untouched, fit, few):
    return worlds.inputs(untouched, fit, few)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of this test's own; returns it and the list of starts made afresh."""
    folder = tmp_path / "starts"
    folder.mkdir(mode=0o700)
    monkeypatch.setattr(seam_cache, "folder", lambda: folder)
    made, reconcile = [], seam.reconciled
    monkeypatch.setattr(seam, "reconciled", lambda *args: made.append(1) or reconcile(*args))
    return folder, made


def _start(params, n=9, control=CONTROL):
    return seam_cache.reconciled(params, n, control, inputs.history())


def assert_same(start: seam.Start, other: seam.Start) -> None:
    a, b = start.snapshot, other.snapshot
    assert (a.time, a.size, a.states, a.names, a.engine) == (b.time, b.size, b.states, b.names, b.engine)
    for name in ("times", "saved", "state"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), strict=True)
    assert list(start.factors) == list(other.factors) and start.record == other.record
    for stock in start.factors:
        np.testing.assert_array_equal(start.factors[stock], other.factors[stock], strict=True)


def test_a_start_read_back_is_the_one_made_afresh_and_runs_go_on_from_it_alike(cache, untouched, fit, few, params):
    folder, made = cache
    _start(params)
    again = _start(params)
    assert len(made) == 1 and len(list(folder.glob("*.npz"))) == 1
    fresh = seam.reconciled(params, 9, CONTROL, inputs.history())
    assert_same(again, fresh)
    assert again.snapshot.engine == "compiled" and again.snapshot.params.keys() == fresh.snapshot.params.keys()
    runs = [model.ensemble.run_translated(model.translated(), params, 9, control=CONTROL, resume=start.snapshot)
            for start in (again, fresh)]
    xr.testing.assert_identical(*runs)
    twice = worlds.inputs(untouched, fit, few, repeat=2)
    runs = [model.ensemble.run_translated(model.translated(), twice, 18, control=CONTROL,
                                          resume=model.ensemble.repeated(start.snapshot, 2))
            for start in (again, fresh)]
    xr.testing.assert_identical(*runs)                           # as the optimiser resumes it


def test_a_new_process_reads_the_start_back_and_one_process_keeps_it(cache, fit, few, monkeypatch):
    folder, made = cache
    monkeypatch.setattr(worlds, "_STARTS", {})
    first = worlds.start(fit, few, CONTROL, history=inputs.history())
    monkeypatch.setattr(worlds, "_STARTS", {})              # as in a new process
    read = worlds.start(fit, few, CONTROL, history=inputs.history())
    assert len(made) == 1
    assert_same(read, first)
    monkeypatch.setattr(seam_cache, "reconciled", lambda *args: pytest.fail("the process's own start is kept"))
    assert worlds.start(fit, few, CONTROL, history=inputs.history()) is read


def test_other_inputs_miss(cache, untouched, fit, few, params):
    folder, made = cache
    _start(params)
    name = next(iter(fit.values))
    refit = dataclasses.replace(fit, values=fit.values | {name: fit.values[name] * 1.01})
    history = inputs.history()
    pinned = (history["year"] == seam.YEAR) & (history["indicator"] == seam.pins()[0].indicator)
    history.loc[pinned, "value"] *= 1.01
    _start(worlds.inputs(untouched, fit, states.draw(fit, count=8, seed=few.seed + 1)))
    _start(worlds.inputs(untouched, refit, few))
    _start(params, control={"final_time": 2028, "saveper": 1})
    seam_cache.reconciled(params, 9, CONTROL, history)
    assert len(made) == 5 and len(list(folder.glob("*.npz"))) == seam_cache.KEPT


def test_the_key_changes_with_the_model_the_code_and_numpy(cache, params, monkeypatch):
    history = inputs.history()
    names = {seam_cache._entry(params, 9, CONTROL, history)}
    translated = model.translated()
    monkeypatch.setattr(model, "translated", lambda: translated)    # not translated again for another .mdl
    monkeypatch.setattr(model, "version", lambda: "an-edited-mdl")
    names.add(seam_cache._entry(params, 9, CONTROL, history))
    monkeypatch.setattr(seam_cache, "_code", lambda: "an-edited-seam")
    names.add(seam_cache._entry(params, 9, CONTROL, history))
    monkeypatch.setattr(np, "__version__", "0.0")
    names.add(seam_cache._entry(params, 9, CONTROL, history))
    assert len(names) == 4


def _truncated(entry):
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])


def _pickled(entry):
    """An entry whose header is a pickle: np.load(allow_pickle=False) refuses it, nothing is unpickled."""
    with np.load(entry) as arrays:
        kept = dict(arrays)
    np.savez(entry.with_suffix(".tmp.npz"), **kept | {"about": np.array([{"engine": "compiled"}], dtype=object)})
    entry.with_suffix(".tmp.npz").replace(entry)


def _resized(entry):
    """A whole entry that does not hold a start of these runs (a state row short)."""
    with np.load(entry) as arrays:
        kept = dict(arrays)
    np.savez(entry.with_suffix(".tmp.npz"), **kept | {"state": kept["state"][:-1]})
    entry.with_suffix(".tmp.npz").replace(entry)


@pytest.mark.parametrize("damage", [_truncated, _pickled, _resized])
def test_a_damaged_entry_is_made_again(cache, params, damage):
    folder, made = cache
    first = _start(params)
    (entry,) = folder.glob("*.npz")
    damage(entry)
    again = _start(params)
    assert len(made) == 2
    assert_same(again, first)
    assert_same(_start(params), first) and len(made) == 2     # written anew, whole


@pytest.mark.parametrize("how", ["a link", "writable by others", "another user's"])
def test_an_entry_we_did_not_write_alone_is_not_used(cache, params, tmp_path, how):
    """A whole, valid entry is still not read unless it is a plain file of ours that no one else can write."""
    if how == "another user's" and (sys.platform != "linux" or os.geteuid() != 0):
        pytest.skip("gives a file to another user (root)")
    folder, made = cache
    first = _start(params)
    (entry,) = folder.glob("*.npz")
    if how == "a link":
        elsewhere = tmp_path / "elsewhere.npz"
        entry.replace(elsewhere)
        entry.symlink_to(elsewhere)
    elif how == "writable by others":
        entry.chmod(0o666)
    else:
        os.chown(entry, NOBODY, NOBODY)
    again = _start(params)
    assert len(made) == 2
    assert_same(again, first)
    assert entry.is_file() and not entry.is_symlink()           # replaced by our own
    assert (entry.stat().st_uid, entry.stat().st_mode & 0o022) == (os.geteuid(), 0)


def test_nothing_is_kept_on_the_numpy_path(cache, params, monkeypatch):
    from nxmfg.model.engine import facts

    folder, made = cache
    found = facts.facts
    monkeypatch.setattr(facts, "facts", lambda py_file: dataclasses.replace(found(py_file), compiled=False))
    _start(params)
    _start(params)
    assert len(made) == 2 and not list(folder.iterdir())
