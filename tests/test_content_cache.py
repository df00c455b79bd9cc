"""What the commands cache by content (issue 23, item 3) gives what computing it afresh gives: the charts
(model/chart_cache.py), the states of the world (calibration/drawn_states.py), and the bands' quantiles
in one call; and the cache trusts only plain files of ours."""

import os
import re
import sys

import numpy as np
import pandas as pd
import pytest

import nxmfg
from nxmfg.api import outputs
from nxmfg.api.inputs import history
from nxmfg.calibration import states
from nxmfg.model import chart_cache, drawing, plots
from nxmfg.scenarios import report

NOBODY = 65534
NAMES = ["gdp_100m_yuan", "rd_expenditure_100m_yuan"]   # one chart with target labels, one more


@pytest.fixture(scope="module")
def plan():
    return nxmfg.run("plan")


@pytest.fixture
def charts(plan, monkeypatch, tmp_path):
    """write(folder, cache): the charts of NAMES and their legend, drawn in this process (so that drawings
    can be counted) with the chart cache in `cache`; returns {file name: bytes} and the drawings made."""
    monkeypatch.setattr(drawing, "fork_is_safe", lambda: False)
    drawn = []
    save = plots.save_chart
    monkeypatch.setattr(plots, "save_chart", lambda figure, stem, lang: drawn.append(stem.name) or
                        save(figure, stem, lang))
    def write(name: str, cache: str):
        folder = tmp_path / cache
        folder.mkdir(mode=0o700, exist_ok=True)
        monkeypatch.setattr(chart_cache, "folder", lambda: folder)
        out = tmp_path / name
        drawn.clear()
        runs, chosen = outputs.with_baseline(plan)
        report.write_charts(report.labelled(runs, chosen, "zh"), NAMES, history(), plan.targets, out, "zh",
                            outputs.pairs(plan.bands()))
        return {p.name: p.read_bytes() for p in sorted((out / "charts").iterdir())}, list(drawn)
    return write


def undated(svg: bytes) -> bytes:
    return re.sub(rb"<dc:date>[^<]*</dc:date>", b"", svg)


def test_a_chart_is_drawn_once_and_then_copied_the_same_as_a_fresh_drawing(charts):
    first, drawn = charts("first", "cache")
    assert sorted(drawn) == sorted(NAMES)
    assert set(first) == {f"{n}{s}" for n in [*NAMES, "legend"] for s in (".png", ".svg")}
    again, drawn_again = charts("again", "cache")
    assert drawn_again == [] and again == first             # copied, byte for byte
    fresh, _ = charts("fresh", "empty")                    # drawn anew, in another cache
    for name, data in first.items():
        if name.endswith(".png"):
            assert fresh[name] == data, name
        else:                                              # the same SVG but for the day it was drawn
            assert undated(fresh[name]) == undated(data) and b"<dc:date>" in data, name


def test_an_entry_is_read_back_whatever_the_umask(charts):
    """Entries are made 0600 (model.cache.write_private): under a umask of 002 (a user-private group) an entry
    made 0664 was refused by read_private (writable by the group), and every chart was drawn again."""
    old = os.umask(0o002)
    try:
        first, _ = charts("first", "cache")
        again, drawn = charts("again", "cache")
    finally:
        os.umask(old)
    assert drawn == [] and again == first


def test_other_data_miss_the_cache(plan, charts, monkeypatch):
    charts("first", "cache")
    shifted = plan.indicators.assign(gdp_100m_yuan=plan.indicators["gdp_100m_yuan"] * 1.01)
    monkeypatch.setattr(plan, "indicators", shifted)
    _, drawn = charts("other", "cache")
    assert drawn == ["gdp_100m_yuan"]


@pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="gives files to another user (root)")
@pytest.mark.parametrize("how", ["a link", "another user's", "writable by others"])
def test_an_entry_we_did_not_write_alone_is_not_used(charts, tmp_path, how):
    first, _ = charts("first", "cache")
    elsewhere = tmp_path / "planted.bin"
    elsewhere.write_bytes(b"planted")
    for entry in (tmp_path / "cache").iterdir():
        if how == "a link":
            entry.unlink()
            entry.symlink_to(elsewhere)
        else:
            entry.write_bytes(b"planted")
            if how == "another user's":
                os.chown(entry, NOBODY, NOBODY)
            else:
                entry.chmod(0o666)
    again, drawn = charts("again", "cache")
    assert sorted(drawn) == sorted(NAMES)
    assert all(b"planted" not in data for data in again.values())
    assert {n: d for n, d in again.items() if n.endswith(".png")} == {n: d for n, d in first.items()
                                                                       if n.endswith(".png")}


def test_pruning_keeps_the_newest_and_passes_over_a_file_another_command_pruned_meanwhile(monkeypatch, tmp_path):
    """Two commands prune the one folder at once: a file listed by one and removed by the other before it
    reads its date is passed over, not an error (it failed `compare` once, in CI)."""
    for age, name in enumerate(["new.svg", "mid.svg", "gone.svg", "old.svg", "keep.nc"]):
        (tmp_path / name).write_text("x")
        os.utime(tmp_path / name, (1e9 - age, 1e9 - age))
    listed = list(os.scandir(tmp_path))
    (tmp_path / "gone.svg").unlink()                       # pruned by another command after the listing
    monkeypatch.setattr(chart_cache, "folder", lambda: tmp_path)
    monkeypatch.setattr(chart_cache.os, "scandir", lambda folder: iter(listed))
    chart_cache.prune({".svg": 2, ".nc": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.nc", "mid.svg", "new.svg"]


def test_the_cached_states_of_the_world_are_the_ones_drawn_afresh(plan, monkeypatch, tmp_path):
    monkeypatch.setenv("NXMFG_CACHE", str(tmp_path / "cache"))
    for _ in range(2):                                     # drawn and kept, then read back
        monkeypatch.setattr(states, "_DRAWN", {})
        cached = states.draw(plan.fit)
    assert len(list((tmp_path / "cache" / "states").glob("*.npz"))) == 1
    from nxmfg.calibration import plausible

    chosen = states.settings()
    fresh = plausible.states(plan.fit, plan.fit.parameter_sets(), states.assumed_priors(), chosen.count, chosen.seed,
                             chosen)
    assert (cached.parts, cached.seed, list(cached.constants), list(cached.outlooks), cached.screened) == \
        (fresh.parts, fresh.seed, list(fresh.constants), list(fresh.outlooks), fresh.screened)
    for name in fresh.constants:
        np.testing.assert_array_equal(cached.constants[name], fresh.constants[name], strict=True)
    for name in fresh.outlooks:
        np.testing.assert_array_equal(cached.outlooks[name], fresh.outlooks[name], strict=True)
    np.testing.assert_array_equal(cached.fit_rows, fresh.fit_rows, strict=True)


@pytest.mark.parametrize("damage", ["a pickle", "cut short"])
def test_a_damaged_states_entry_is_drawn_again(plan, monkeypatch, tmp_path, damage):
    """An entry is read with np.load(allow_pickle=False): a pickle planted in it is never loaded; one cut short
    (no longer a zip file) is drawn again too."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("NXMFG_CACHE", str(folder))
    monkeypatch.setattr(states, "_DRAWN", {})
    first = states.draw(plan.fit)
    (entry,) = (folder / "states").glob("*.npz")
    if damage == "a pickle":
        np.savez(entry.with_suffix(".tmp.npz"), about=np.array([{"constants": []}], dtype=object))
        entry.with_suffix(".tmp.npz").replace(entry)
    else:
        entry.write_bytes(entry.read_bytes()[:1000])
    monkeypatch.setattr(states, "_DRAWN", {})
    again = states.draw(plan.fit)
    assert list(again.constants) == list(first.constants)
    for name in first.constants:
        np.testing.assert_array_equal(again.constants[name], first.constants[name])


def test_the_bands_quantiles_in_one_call_equal_numpys_nanquantile_per_indicator(plan):
    """outputs.quantiles against the plain way: each indicator's nanquantile over runs (NaN where no run
    has a value), on the plan's band with NaNs and an infinity planted."""
    band = plan.band.copy(deep=True)
    name = next(iter(band.data_vars))
    values = band[name].transpose("run", "year").to_numpy().copy()
    values[3, 5] = np.nan              # one run without a value
    values[:, 6] = np.nan              # no run with one
    values[:40, 8] = np.inf            # more than 5 % of the runs infinite
    band[name] = (("run", "year"), values)
    fast = outputs.quantiles(band)
    frames = []
    for each in band.data_vars:
        values = band[each].transpose("run", "year").to_numpy().astype(float)
        q = np.full((5, values.shape[1]), np.nan)
        known = np.isfinite(values).any(axis=0)
        with np.errstate(all="ignore"):
            q[:, known] = np.nanquantile(values[:, known], outputs.QUANTILES, axis=0)
        frames.append(pd.DataFrame({"indicator": each, "year": band["year"].to_numpy(),
                                    **{c: q[i] for i, c in enumerate(outputs.BAND_COLUMNS[2:])}}))
    pd.testing.assert_frame_equal(fast, pd.concat(frames, ignore_index=True), check_exact=True)
    assert fast["q50"].isna().any()


def test_results_nc_is_written_once_and_then_copied_the_same_as_a_fresh_write(plan, monkeypatch, tmp_path):
    import xarray as xr

    written = []
    to_netcdf = xr.Dataset.to_netcdf
    monkeypatch.setattr(xr.Dataset, "to_netcdf", lambda self, *a, **k: written.append(1) or to_netcdf(self, *a, **k))
    files = {}
    for name, cache in (("first", "cache"), ("again", "cache"), ("fresh", "empty")):
        folder = tmp_path / cache
        folder.mkdir(mode=0o700, exist_ok=True)
        monkeypatch.setattr(chart_cache, "folder", lambda folder=folder: folder)
        (tmp_path / name).mkdir()
        outputs.write_data(plan, tmp_path / name)
        files[name] = (tmp_path / name / "results.nc").read_bytes()
    assert len(written) == 2                                # the first and the fresh one; the second copied
    assert files["first"] == files["again"] == files["fresh"]
    xr.testing.assert_identical(xr.load_dataset(tmp_path / "again" / "results.nc"),
                                xr.load_dataset(tmp_path / "fresh" / "results.nc"))


def test_a_datasets_key_sees_every_value_name_coordinate_and_attribute():
    """results.nc's key hashes the dataset itself (model.cache.digest), each variable once."""
    import xarray as xr

    from nxmfg.model.cache import digest

    data = xr.Dataset({"a": ("year", [1.0, 2.0])}, coords={"year": [2020, 2021]}, attrs={"scenario": "x"})
    changed = [data.assign(a=("year", [1.0, 2.5])), data.rename({"a": "b"}), data.assign_attrs(scenario="y"),
               data.assign_coords(year=[2020, 2022]), data.assign(c=("year", [0.0, 0.0]))]
    assert digest(data.copy(deep=True)) == digest(data)
    assert len({digest(data), *(digest(other) for other in changed)}) == 1 + len(changed)
