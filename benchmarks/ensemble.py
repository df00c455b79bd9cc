"""Ensemble engine against per-run PySD on model/nxmfg.mdl (issue 3).

    python benchmarks/ensemble.py                 # side by side: PySD as shipped, PySD + np.interp, ensemble
    python benchmarks/ensemble.py --runs 131072   # ensemble alone: 131 072 runs, peak memory

Every path gets the same random parameter sets: each model constant uniform within its [min, max].
Prints runs/s, peak RSS, the projected time of a Sobol study (N = 4096, D = 20, second order:
N (2D + 2) runs) and, in side-by-side mode, a last line `ratio: R` (ensemble runs/s over the faster
PySD loop's). Targets: ratio >= 1000; 131 072 runs within 2 GiB.
"""

import argparse
import functools
import resource
import time

import numpy as np
from peak_memory import PeakMemory   # benchmarks/ is on sys.path when a benchmark runs

from nxmfg import model
from nxmfg.model import ensemble, indicators
from nxmfg.model.engine import reference

SOBOL_RUNS = 4096 * (2 * 20 + 2)
OUTCOMES = ["gdp_100m_yuan", "manufacturing_va_growth_pct", "energy_intensity_tce_per_10k_yuan",
            "rd_intensity_pct", "digital_economy_share_of_gdp_pct"]


def draws(n: int, seed: int) -> dict[str, np.ndarray]:
    ranges = model.constants()[["low", "high"]].astype(float)
    rng = np.random.default_rng(seed)
    return {name: rng.uniform(low, high, n) for name, (low, high) in ranges.iterrows()}


def pysd_loop(params: dict[str, np.ndarray], n: int, interp_lookups: bool) -> float:
    """Runs/s of PySD's Model.run, one parameter set per call."""
    sets = [model.fitted() | {k: float(v[i]) for k, v in params.items()} for i in range(n)]
    economy = reference.load(model.translated(), interp_lookups)  # loading is not timed, as for the ensemble
    start = time.perf_counter()
    runs = reference.pysd_runs(model.translated(), sets, 2035, interp_lookups, economy=economy)
    rate = n / (time.perf_counter() - start)
    failed = int((~runs["valid"]).sum())
    label = "PySD + np.interp lookups" if interp_lookups else "PySD as shipped"
    print(f"{label:28s} {n:7d} runs  {rate:10.2f} runs/s  ({failed} runs PySD could not complete)")
    return rate


def ensemble_path(params: dict[str, np.ndarray], n: int, chunk_size: int | None,
                  workers: int | None) -> float:
    """Runs/s once translated and the workers are up (a study pays that once), and cold."""
    reduce = functools.partial(indicators.compute, names=OUTCOMES)
    start = time.perf_counter()
    few = {name: values[:64] for name, values in params.items()}
    ensemble.run(few, 64, reduce=reduce, chunk_size=chunk_size and min(chunk_size, 32), workers=workers,
                 progress=False)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    runs = ensemble.run(params, n, reduce=reduce, chunk_size=chunk_size, workers=workers, progress=True)
    elapsed = time.perf_counter() - start
    rate = n / elapsed
    print(f"ensemble setup (translation check, worker start, PySD's configuration): {setup:.1f} s; "
          f"cold rate including it: {n / (elapsed + setup):.1f} runs/s")
    final = runs.isel(year=-1).to_array()
    failed = int((~np.isfinite(final)).any("variable").sum())
    print(f"{'ensemble':28s} {n:7d} runs  {rate:10.2f} runs/s  ({failed} runs with NaN/inf outcomes; "
          f"path: {runs.attrs['engine']})")
    return rate


def numpy_path(params: dict[str, np.ndarray], n: int, chunk_size: int | None, workers: int | None) -> float:
    """Runs/s of the numpy path alone (`auto` takes the compiled path wherever it loads)."""
    reduce = functools.partial(indicators.compute, names=OUTCOMES)
    few = {name: values[:n] for name, values in params.items()}
    call = functools.partial(ensemble.run_translated, model.translated(), model.fitted() | few, n, reduce=reduce,
                             control={"final_time": 2035, "saveper": 1}, chunk_size=chunk_size, workers=workers,
                             progress=False, engine="numpy")
    call()
    start = time.perf_counter()
    runs = call()
    rate = n / (time.perf_counter() - start)
    print(f"{'numpy path alone':28s} {n:7d} runs  {rate:10.2f} runs/s  (path: {runs.attrs['engine']})")
    return rate


def peak_rss(sampled: PeakMemory) -> None:
    sampled.done.set()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20   # KiB -> GiB
    print(f"peak RSS: parent {own:.2f} GiB (getrusage); "
          f"parent + workers together {sampled.peak / 2**30:.2f} GiB "
          "(sampled every 50 ms)")


def sobol_projection(rates: dict[str, float]) -> None:
    for label, rate in rates.items():
        seconds = SOBOL_RUNS / rate
        print(f"Sobol N=4096 D=20 second order ({SOBOL_RUNS} runs) with {label}: "
              f"{seconds:.0f} s = {seconds / 3600:.2f} h")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=65536, help="ensemble runs")
    parser.add_argument("--pysd-runs", type=int, default=16, help="runs of PySD + np.interp (0: skip PySD)")
    parser.add_argument("--shipped-runs", type=int, default=3, help="runs of PySD as shipped")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    sampled = PeakMemory()
    sampled.start()
    params = draws(args.runs, args.seed)
    rates = {}
    if args.pysd_runs:
        rates["PySD as shipped"] = pysd_loop(params, args.shipped_runs, interp_lookups=False)
        rates["PySD + np.interp"] = pysd_loop(params, args.pysd_runs, interp_lookups=True)
    rates["ensemble"] = ensemble_path(params, args.runs, args.chunk_size, args.workers)
    numpy_path(params, min(args.runs, 4096), args.chunk_size, args.workers)
    peak_rss(sampled)
    sobol_projection(rates)
    if args.pysd_runs:
        print(f"ratio: {rates['ensemble'] / max(rates['PySD as shipped'], rates['PySD + np.interp']):.0f}")


if __name__ == "__main__":
    main()
