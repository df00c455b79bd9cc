"""The ensemble engine runs many parameter sets of nxmfg.mdl at once and gives what PySD gives, run by run."""

import functools
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from nxmfg import model
from nxmfg.model import ensemble, indicators
from nxmfg.model.engine.reference import pysd_runs
from nxmfg.model.engine.transform import UnsupportedFeature

RUNS = 64
SEED = 20251122


@pytest.fixture(scope="module")
def draws() -> dict[str, np.ndarray]:
    """RUNS parameter sets, every constant uniform within its [min, max] from the .mdl."""
    rng = np.random.default_rng(SEED)
    ranges = model.constants()[["low", "high"]].astype(float)
    return {name: rng.uniform(low, high, RUNS) for name, (low, high) in ranges.iterrows()}


def _row(params: dict, i: int) -> dict:
    return {name: float(v[i]) if isinstance(v, np.ndarray) else v for name, v in params.items()}


def _plain_pysd(param_sets: list[dict]) -> xr.Dataset:
    """PySD's own Model.run per set (np.interp lookups), in two processes to halve the wait."""
    halves = [param_sets[: len(param_sets) // 2], param_sets[len(param_sets) // 2:]]
    run = functools.partial(pysd_runs, model.translated(), final_time=2035)
    with ProcessPoolExecutor(2) as pool:
        first, second = pool.map(run, halves)
    return xr.concat([first, second.assign_coords(run=second["run"] + len(halves[0]))], dim="run")


def _assert_same_runs(ensemble_runs: xr.Dataset, plain: xr.Dataset) -> None:
    """Every variable, run and year equal to the bit (NaN where PySD has NaN).

    Exact, not within a tolerance, and on any CPU: both sides run the same equations through the same
    floating-point operations. `+ - * /` are correctly rounded everywhere; exp, log and power are numpy
    ufuncs on both sides (model.translated() writes `**` as np.power), and numpy computes each element
    of an array alike whatever the array's length, so a plain run and run i of a chunk round alike.
    Python's own `**` would not: on AVX-512 CPUs numpy's vectorised pow and the C library's differ in
    the last bit, and 200 Euler steps of feedback amplified that to 7.6e-8 (issue 13).
    """
    missing = sorted(set(plain.data_vars) - set(ensemble_runs.data_vars))
    assert not missing, f"variables missing from the ensemble: {missing}"
    assert "valid" not in plain.coords or bool(plain["valid"].all()), "PySD could not complete every run"
    for name in plain.data_vars:
        np.testing.assert_array_equal(ensemble_runs[name].transpose("run", "year").to_numpy(),
                                      plain[name].to_numpy(), err_msg=name)


def test_64_random_parameter_sets_give_plain_pysd_trajectories(draws):
    """Equivalence over the whole parameter space: every variable and indicator, every run and year, to the bit.

    Some draws take the model where PySD itself fails (a negative number to a fractional power); the
    engine must not give numbers there either.
    """
    full = model.fitted() | draws
    plain = _plain_pysd([_row(full, i) for i in range(RUNS)])
    valid = plain["valid"].to_numpy()
    assert valid.sum() >= 16, f"only {valid.sum()} of {RUNS} draws run in plain PySD"
    for engine in ("numpy", "compiled"):     # the compiled path: issue 23 asks 1e-12; it gives the bits
        runs = ensemble.run_translated(model.translated(), full, RUNS, workers=2, chunk_size=24,
                                       progress=False, control={"saveper": 1}, engine=engine)  # 3 chunks
        assert runs.attrs["engine"] == engine
        failed = runs.isel(run=np.flatnonzero(~valid)).to_array().isnull().any(["variable", "year"])  # noqa: PD003 (xarray)
        assert failed.all(), "a run PySD cannot complete must not come out of the engine as numbers"
        _assert_same_runs(runs.isel(run=valid), plain.isel(run=valid))
        names = list(indicators.INDICATORS)
        ours, theirs = (indicators.compute(r, names) for r in (runs, plain))
        for name in names:
            np.testing.assert_array_equal(ours[name].transpose("run", "year").to_numpy(),
                                          theirs[name].to_numpy(), err_msg=f"{engine}: {name}")


def test_the_translated_model_takes_every_power_through_numpy():
    """What makes the equivalence exact on every CPU: no Python `**` is left in the translated module,
    and numpy's power gives NaN, not a complex number, for a negative base to a fractional power."""
    import ast

    from nxmfg.model.engine.transform import numpy_power

    tree = ast.parse(model.translated().read_text(encoding="utf-8"))
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow)]
    assert "np.power" in ast.unparse(tree)
    rewritten = numpy_power("def f(a, b):\n    return 2 * a ** b ** 2\n")
    namespace = {"np": np}
    exec(rewritten, namespace)
    assert namespace["f"](3.0, 2.0) == 2 * 3.0 ** 4.0          # right-associative, as Python's **
    with np.errstate(invalid="ignore"):
        assert np.isnan(namespace["f"](-2.0, 0.5 ** 0.5))


def test_a_scenario_with_time_paths_matches_model_simulate_as_shipped(draws):
    """Against model.simulate (PySD as shipped, xarray lookups): a lever path and an outlook table."""
    lever = pd.Series({2010.0: 0.03, 2021 - 1e-6: 0.03, 2021.0: 0.1, 2030.0: 0.2})
    outlook = pd.Series({2021.0: 1.4, 2035.0: 1.1})
    params = {"tech_upgrade_subsidy_rate": lever, "coal_price_outlook": outlook,
              "key_projects_per_year": draws["key_projects_per_year"][:2]}
    runs = ensemble.run(params, 2, workers=1, progress=False)
    for i in range(2):
        alone = model.simulate(_row(params, i))
        _assert_same_runs(runs.isel(run=[i]), alone.expand_dims(run=[0]))


def test_per_run_time_paths_equal_one_shared_path_per_run(draws):
    """A ("run", "year") DataArray gives run i what the pd.Series of row i gives a plain PySD run."""
    years = [2010.0, 2020.0, 2021.0, 2035.0]
    values = np.array([[0.03, 0.03, 0.08, 0.12], [0.03, 0.03, 0.2, 0.25], [0.03, 0.03, 0.0, 0.3]])
    outlook = np.array([[1.0, 1.2], [1.5, 0.8], [1.1, 1.1]])
    params = {"tech_upgrade_subsidy_rate": xr.DataArray(values, {"year": years}, ("run", "year")),
              "coal_price_outlook": xr.DataArray(outlook, {"year": [2021.0, 2035.0]}, ("run", "year"))}
    runs = ensemble.run(params, 3, workers=1, progress=False)
    sets = [model.fitted() | {"tech_upgrade_subsidy_rate": pd.Series(values[i], years),
                              "coal_price_outlook": pd.Series(outlook[i], [2021.0, 2035.0])}
            for i in range(3)]
    _assert_same_runs(runs, pysd_runs(model.translated(), sets, final_time=2035))


def test_results_are_identical_whatever_the_chunking_and_workers(draws):
    """A run's values do not depend on which runs share its chunk: numpy's element-wise kernels compute
    each element alone, and IF THEN ELSE with runs that disagree takes each run's own branch. Chunks of
    one run never mix branches, so they check the mixing against the plain branches."""
    params = {name: values[:40] for name, values in draws.items()}
    one = ensemble.run(params, 40, workers=1, chunk_size=40, progress=False)
    xr.testing.assert_identical(one, ensemble.run(params, 40, workers=1, chunk_size=7, progress=False))
    xr.testing.assert_identical(one, ensemble.run(params, 40, workers=2, chunk_size=13, progress=False))
    first = {name: values[:12] for name, values in params.items()}
    alone = ensemble.run(first, 12, workers=1, chunk_size=1, progress=False)
    xr.testing.assert_identical(one.isel(run=slice(0, 12)), alone)


def test_chunks_can_go_to_a_dask_cluster(draws):
    distributed = pytest.importorskip("distributed")
    params = {name: values[:6] for name, values in draws.items()}
    local = ensemble.run(params, 6, workers=1, progress=False)
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = ensemble.run(params, 6, chunk_size=4, scheduler=client.scheduler.address, progress=False)
    xr.testing.assert_identical(local, remote)


def test_reduce_keeps_only_what_it_returns(draws):
    names = ["gdp_100m_yuan", "manufacturing_va_growth_pct"]
    reduce = functools.partial(indicators.compute, names=names)
    params = {name: values[:10] for name, values in draws.items()}
    reduced = ensemble.run(params, 10, reduce=reduce, workers=2, chunk_size=4, progress=False)
    full = ensemble.run(params, 10, workers=1, progress=False)
    assert set(reduced.data_vars) == set(names)
    assert reduced.sizes["run"] == 10
    xr.testing.assert_allclose(reduced, indicators.compute(full, names), rtol=0, atol=0)


def test_an_unsupported_vensim_feature_is_refused_at_load_naming_the_variable(tmp_path):
    mdl = tmp_path / "delayed.mdl"
    mdl.write_text("{UTF-8}\nshipments = DELAY1(orders, 3)\n\t~\t~\t|\norders = 10\n\t~\t~\t|\n"
                   "INITIAL TIME = 0\n\t~\t~\t|\nFINAL TIME = 10\n\t~\t~\t|\nTIME STEP = 1\n\t~\t~\t|\n"
                   "SAVEPER = 1\n\t~\t~\t|\n", encoding="utf-8")
    import pysd

    py_file = pysd.read_vensim(mdl).py_model_file
    with pytest.raises(UnsupportedFeature, match=r"variable 'shipments' uses DELAY1"):
        ensemble.run_translated(py_file, {"orders": np.array([1.0, 2.0])}, 2, progress=False)


@pytest.mark.parametrize(("params", "message"), [
    ({"no_such_constant": 1.0}, "'no_such_constant' is not a model constant or lookup table"),
    ({"key_projects_per_year": np.ones(3)}, "'key_projects_per_year' must be a number, an array of 2"),
    ({"final_time": 2030.0}, "'final_time' is a control variable"),
])
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ValueError, match=message):
        ensemble.run(params, 2, progress=False)


def test_an_input_of_the_time_axis_cannot_differ_between_runs(tmp_path):
    """FINAL TIME depends on `max time` in SDXorg's dynamic_final_time case."""
    import pysd

    case = shutil.copytree(Path(__file__).with_name("sd_models") / "tests" / "dynamic_final_time",
                           tmp_path / "case")
    py_file = pysd.read_vensim(next(Path(case).glob("*.mdl"))).py_model_file
    with pytest.raises(ValueError, match="max_time set the time axis"):
        ensemble.run_translated(py_file, {"max_time": np.array([50.0, 100.0])}, 2, progress=False)


def test_a_finer_time_step_is_used_by_the_integration_as_in_pysd(draws):
    """time_step reaches PySD's clock (not only the TIME STEP variable); output stays yearly."""
    params = {name: values[:2] for name, values in draws.items()}
    runs = ensemble.run(params, 2, workers=1, time_step=0.0625, progress=False)
    sets = [_row(model.fitted() | params, i) for i in range(2)]
    _assert_same_runs(runs, pysd_runs(model.translated(), sets, final_time=2035, time_step=0.0625))
    assert list(runs["year"].values) == list(range(2010, 2036))


def test_a_failing_chunk_raises_its_own_error_with_the_workers_traceback():
    import operator

    from nxmfg.model.engine.workers import Pool, RemoteError

    pool = Pool(2)
    try:
        assert sorted(pool.map_unordered(functools.partial(operator.truediv, 6.0), [1.0, 2.0, 3.0])) == \
            [(0, 6.0), (1, 3.0), (2, 2.0)]
        with pytest.raises(ZeroDivisionError) as caught:
            list(pool.map_unordered(functools.partial(operator.truediv, 1.0), [1.0, 0.0, 2.0]))
        assert isinstance(caught.value.__cause__, RemoteError)
        assert "ZeroDivisionError" in str(caught.value.__cause__)
    finally:
        pool.close(now=True)


def test_a_worker_that_dies_mid_chunk_is_reported_not_waited_for():
    """A worker killed by the kernel (out of memory, say) ends the batch with an error naming it."""
    import os

    from nxmfg.model.engine.workers import Pool, WorkerDied

    pool = Pool(1)
    try:
        with pytest.raises(WorkerDied, match=r"ended while running chunk 0 \(exit code 3\)"):
            list(pool.map_unordered(os._exit, [3]))
    finally:
        pool.close(now=True)


def _lever_paths(start: float, values: dict[str, np.ndarray], base: dict[str, float]) -> dict[str, xr.DataArray]:
    """Per-run step paths: base before `start`, values[name] from it."""
    years = [2010.0, start - 1e-6, start]
    return {name: xr.DataArray(np.column_stack([np.full(len(v), base[name])] * 2 + [v]), {"year": years},
                               ("run", "year")) for name, v in values.items()}


def test_a_run_resumed_from_a_snapshot_equals_the_run_from_the_start(draws):
    """Levers that act from 2024 and an outlook for 2024 on leave every stock at 2023 as it was, so a
    batch paused there and resumed with them gives, to the last bit, what a run from 2010 gives."""
    base = model.constants()["value"].to_dict() | model.fitted()
    calibrated = {name: draws[name][:5] for name in ("market_elasticity", "upgrade_rate", "rd_start_rate")}
    before = _lever_paths(2024.0, {"key_projects_per_year": np.full(5, base["key_projects_per_year"]),
                                   "tech_upgrade_subsidy_rate": np.full(5, base["tech_upgrade_subsidy_rate"])},
                          base)
    after = _lever_paths(2024.0, {"key_projects_per_year": draws["key_projects_per_year"][:5],
                                  "tech_upgrade_subsidy_rate": draws["tech_upgrade_subsidy_rate"][:5]}, base)
    coal = pd.Series({2024.0: 1400.0, 2035.0: 900.0})
    control = {"saveper": 1}
    kept = ensemble.snapshot(model.translated(), model.fitted() | calibrated | before
                             | {"coal_price_outlook": pd.Series({2024.0: 737.0})}, 5, 2023, control)
    params = model.fitted() | calibrated | after | {"coal_price_outlook": coal}
    resumed = ensemble.run_translated(model.translated(), params, 5, progress=False, control=control, resume=kept)
    whole = ensemble.run_translated(model.translated(), params, 5, workers=1, progress=False, control=control)
    assert kept.engine == resumed.attrs["engine"] == whole.attrs["engine"] == "compiled"   # 5 runs: compiled
    xr.testing.assert_identical(resumed, whole)
    on_numpy = ensemble.snapshot(model.translated(), model.fitted() | calibrated | before
                                 | {"coal_price_outlook": pd.Series({2024.0: 737.0})}, 5, 2023, control, engine="numpy")
    from_numpy = ensemble.run_translated(model.translated(), params, 5, progress=False, control=control,
                                         resume=on_numpy)
    assert on_numpy.engine == from_numpy.attrs["engine"] == "numpy"
    xr.testing.assert_identical(from_numpy.drop_attrs(), whole.drop_attrs())
    for kept_here in (kept, on_numpy):   # the runs in parts, a thread each (the explorer's band): the same bits
        parted = ensemble.run_translated(model.translated(), params, 5, control=control, resume=kept_here, threads=2)
        xr.testing.assert_identical(parted.drop_attrs(), whole.drop_attrs())
        assert parted.attrs["engine"] == kept_here.engine
    assert not resumed["manufacturing_capacity"].isel(year=-1).equals(
        ensemble.run_translated(model.translated(), model.fitted() | calibrated | before, 5, workers=1,
                                progress=False, control=control)["manufacturing_capacity"].isel(year=-1))


def test_a_snapshot_refuses_runs_that_differ_before_its_time(draws):
    base = model.constants()["value"].to_dict() | model.fitted()
    lever = _lever_paths(2024.0, {"key_projects_per_year": np.full(3, base["key_projects_per_year"])}, base)
    kept = ensemble.snapshot(model.translated(), model.fitted() | lever, 3, 2023, {"saveper": 1})
    early = _lever_paths(2020.0, {"key_projects_per_year": np.full(3, 200.0)}, base)
    with pytest.raises(ValueError, match="'key_projects_per_year' differs from the snapshot's before 2023"):
        ensemble.run_translated(model.translated(), model.fitted() | early, 3, progress=False, resume=kept,
                                control={"saveper": 1})
    plain = ensemble.snapshot(model.translated(), model.fitted(), 3, 2023, {"saveper": 1})
    with pytest.raises(ValueError, match="holds 3 runs, not 2"):
        ensemble.run_translated(model.translated(), model.fitted(), 2, progress=False, resume=plain,
                                control={"saveper": 1})


def test_a_repeated_snapshot_serves_candidates_that_differ_only_after_it(draws):
    """Three states paused at 2023, repeated for two candidates whose lever paths start in 2024: the six runs
    go on to what six runs from 2010 give, to the last bit; a later snapshot from a resumed one too."""
    base = model.constants()["value"].to_dict() | model.fitted()
    calibrated = {name: draws[name][:3] for name in ("market_elasticity", "upgrade_rate")}
    flat = _lever_paths(2024.0, {"key_projects_per_year": np.full(3, base["key_projects_per_year"])}, base)
    control = {"saveper": 1, "final_time": 2027}
    kept = ensemble.snapshot(model.translated(), model.fitted() | calibrated | flat, 3, 2023, control)
    tiled = {name: np.tile(values, 2) for name, values in calibrated.items()}
    levers = _lever_paths(2024.0, {"key_projects_per_year": np.repeat([100.0, 300.0], 3)}, base)
    params = model.fitted() | tiled | levers
    resumed = ensemble.run_translated(model.translated(), params, 6, control=control,
                                      resume=ensemble.repeated(kept, 2))
    whole = ensemble.run_translated(model.translated(), params, 6, workers=1, progress=False, control=control)
    xr.testing.assert_identical(resumed, whole)
    later = ensemble.snapshot(model.translated(), params, 6, 2025, control, resume=ensemble.repeated(kept, 2))
    xr.testing.assert_identical(ensemble.run_translated(model.translated(), params, 6, control=control,
                                                        resume=later), whole)


def test_a_rescaled_snapshot_updates_a_stock_run_by_run_and_nothing_before_it(draws):
    control = {"saveper": 1, "final_time": 2025}
    params = model.fitted() | {"market_elasticity": draws["market_elasticity"][:2]}
    kept = ensemble.snapshot(model.translated(), params, 2, 2023, control)
    factors = np.array([1.1, 0.8])
    changed = ensemble.run_translated(model.translated(), params, 2, control=control,
                                      resume=ensemble.rescaled(kept, {"rd_active_firms": factors}))
    plain = ensemble.run_translated(model.translated(), params, 2, control=control, resume=kept)
    np.testing.assert_allclose(changed["rd_active_firms"].sel(year=2023), plain["rd_active_firms"].sel(year=2023)
                               * factors, rtol=1e-12)
    xr.testing.assert_identical(changed.sel(year=slice(2010, 2022)), plain.sel(year=slice(2010, 2022)))
    with pytest.raises(ValueError, match="'gdp_100m_yuan' is not a stock"):
        ensemble.rescaled(kept, {"gdp_100m_yuan": 1.0})
