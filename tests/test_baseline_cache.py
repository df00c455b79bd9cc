"""The baseline drawn beside a scenario is run once per inputs, then read from a cache (api/baseline.py)."""

import dataclasses

import pytest
import xarray as xr

import nxmfg
from nxmfg import model
from nxmfg.api import baseline, outputs, simulation


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of this test's own."""
    folder = tmp_path / "baselines"
    monkeypatch.setattr(baseline, "folder", lambda: folder)
    return folder


@pytest.fixture(scope="module")
def plan():
    return nxmfg.run("plan")


def _runs_counted(monkeypatch) -> list:
    """Record every scenario the engine runs from here on."""
    ran, run = [], simulation.engine_run

    def counted(scenario, *args):
        ran.append(scenario.name)
        return run(scenario, *args)
    monkeypatch.setattr(simulation, "engine_run", counted)
    return ran


def test_the_baseline_is_run_once_and_then_read_back_identical(cache, monkeypatch, plan):
    ran = _runs_counted(monkeypatch)
    first, _ = outputs.with_baseline(plan)
    again, _ = outputs.with_baseline(plan)
    assert ran == ["baseline"] and len(list(cache.glob("*.json"))) == 1
    xr.testing.assert_identical(again["baseline"], first["baseline"])
    xr.testing.assert_identical(again["baseline"], nxmfg.run("baseline").indicators)


def test_a_run_of_the_baseline_is_kept_for_the_next_scenario(cache, monkeypatch, plan):
    nxmfg.run("baseline")
    ran = _runs_counted(monkeypatch)
    outputs.with_baseline(plan)
    assert ran == []


def test_another_fit_or_override_misses_the_cache_and_is_run(cache, monkeypatch, plan):
    shipped, _ = outputs.with_baseline(plan)
    ran = _runs_counted(monkeypatch)
    other_fit = dataclasses.replace(plan.fit, values=plan.fit.values | {"digital_productivity_gain": 0.3})
    refit = baseline.indicators(other_fit, {})
    overridden = baseline.indicators(plan.fit, {"digital_productivity_gain": 0.3})
    assert ran == ["baseline"] and len(list(cache.glob("*.json"))) == 2   # the same inputs, given two ways
    assert not refit.identical(shipped["baseline"])
    xr.testing.assert_identical(overridden, refit)
    xr.testing.assert_identical(refit, nxmfg.run("baseline", params={"digital_productivity_gain": 0.3}).indicators)


def test_the_key_changes_with_the_model_the_code_the_libraries_and_the_final_year(cache, monkeypatch, plan):
    import numpy

    parameters = plan.metadata["parameters"]
    names = {baseline._entry(parameters, 2035).name, baseline._entry(parameters, 2030).name,
             baseline._entry(parameters | {"digital_productivity_gain": 0.3}, 2035).name}
    monkeypatch.setattr(model, "version", lambda: "an-edited-mdl")
    names.add(baseline._entry(parameters, 2035).name)
    monkeypatch.setattr(baseline, "_code_version", lambda: "an-edited-engine")
    names.add(baseline._entry(parameters, 2035).name)
    monkeypatch.setattr(numpy, "__version__", "0.0")
    names.add(baseline._entry(parameters, 2035).name)
    assert len(names) == 6


def test_an_unreadable_entry_is_run_again_and_replaced(cache, monkeypatch, plan):
    outputs.with_baseline(plan)
    (entry,) = cache.glob("*.json")
    entry.write_text('{"coords": ', encoding="utf-8")
    ran = _runs_counted(monkeypatch)
    drawn, _ = outputs.with_baseline(plan)
    assert ran == ["baseline"]
    xr.testing.assert_identical(drawn["baseline"], baseline._read(entry))


def test_a_result_written_with_a_cached_baseline_has_the_same_files(cache, tmp_path, plan):
    """Data files and chart pixels are the same whether the baseline was run or read from the cache."""
    uncached = plan.write(tmp_path / "uncached", lang="en")
    assert len(list(cache.glob("*.json"))) == 1
    cached = plan.write(tmp_path / "cached", lang="en")
    files = sorted(p.relative_to(uncached) for p in uncached.rglob("*")
                   if p.is_file() and p.suffix in (".csv", ".yaml", ".png"))
    assert len([f for f in files if f.suffix == ".png"]) >= 13
    for name in files:
        assert (cached / name).read_bytes() == (uncached / name).read_bytes(), name
    with xr.open_dataset(uncached / "results.nc") as before, xr.open_dataset(cached / "results.nc") as after:
        xr.testing.assert_identical(before.load(), after.load())
