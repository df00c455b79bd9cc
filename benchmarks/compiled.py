"""The compiled path against the numpy path (issue 23): runs/s by number of runs, the crossover, the band.

    python benchmarks/compiled.py                        # 1, 61, 256, 4096 and 65 536 runs; crossover; band
    python benchmarks/compiled.py --runs 1 61 256 --band 256

Every figure is CPU time of this one process (workers=1, so every run is in it), the least of several
measurements, printed with the load average of that moment: the machine is shared, and CPU time and
minima are what other jobs disturb least. Runs draw every model constant uniformly within its [min, max]
(benchmarks/ensemble.py's draws) and keep five indicators (`reduce`), as a study does, in the engine's
chunks (one chunk up to about 5 000 runs). The band is the explorer's: the fit and its parameter sets
(drawn with replacement up to --band states), every policy lever a time path, the outlook tables, paused
at 2024 and resumed with a lever moved from 2024 (explore/evaluation.py). Last lines: `crossover_runs:`
(the fewest runs where the numpy path is the faster, or none) and `band_resumed_ms:` (the engine's CPU
time for the band, its indicators included).
"""

import argparse
import functools
import os
import time

import numpy as np
import pandas as pd
from ensemble import OUTCOMES, draws   # benchmarks/ is on sys.path when a benchmark runs

from nxmfg import model
from nxmfg.calibration import fits
from nxmfg.model import ensemble, indicators
from nxmfg.scenarios import POLICY_LEVERS

LEVER, MOVED_TO = "intelligent_retrofit_firms_per_year", 300.0


def least_cpu(call, repeat: int) -> float:
    """The least CPU seconds of `repeat` calls (after one untimed call)."""
    call()
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def rates(runs: list[int]) -> int | None:
    """runs/s of both paths for each number of runs; the first where numpy's is the faster."""
    reduce = functools.partial(indicators.compute, names=OUTCOMES)
    crossover = None
    for n in runs:
        params = model.fitted() | draws(n, seed=n)
        seconds = {}
        for path in ("compiled", "numpy"):
            call = functools.partial(ensemble.run_translated, model.translated(), params, n, reduce=reduce,
                                     control={"saveper": 1}, workers=1, progress=False, engine=path)
            seconds[path] = least_cpu(call, repeat=max(1, min(20, 4096 // n)))
            print(f"rate: {path:8s} {n:6d} runs {n / seconds[path]:9.0f} runs/s  "
                  f"({1000 * seconds[path] / n:.3f} ms CPU a run; {load()})", flush=True)
        if crossover is None and seconds["numpy"] < seconds["compiled"]:
            crossover = n
    return crossover


def band_params(states: int, moved: bool) -> dict:
    """The explorer's inputs for a band of `states` runs (explore/evaluation.py's `_params`)."""
    fit, baseline = fits.shipped_fit(), model.baseline()
    sets = fit.parameter_sets()
    chosen = sets.iloc[np.random.default_rng(2024).integers(0, len(sets), states - 1)]
    params = dict(fit.values) | {name: np.concatenate([[fit.values.get(name, baseline[name])], chosen[name]])
                                 for name in sets}
    params |= {name: pd.Series({2010.0: float(baseline[name])}) for name in POLICY_LEVERS}
    params |= model.outlook_tables()
    if moved:
        params[LEVER] = pd.Series({2010.0: float(baseline[LEVER]), 2024.0 - 1e-6: float(baseline[LEVER]),
                                   2024.0: MOVED_TO})
    return params


def band(states: int) -> float:
    """Engine CPU ms of the band resumed from its snapshot at 2024, with the explorer's indicators."""
    control = {"final_time": 2035, "saveper": 1}
    kept = ensemble.snapshot(model.translated(), band_params(states, False), states, 2024.0, control)
    moved = band_params(states, True)
    for reduce in (None, functools.partial(indicators.compute, names=list(indicators.HEADLINES))):
        call = functools.partial(ensemble.run_translated, model.translated(), moved, states, reduce=reduce,
                                 control=control, resume=kept)
        path = call().attrs["engine"]
        milliseconds = 1000 * least_cpu(call, repeat=20)
        print(f"band of {states} states resumed at 2024 ({path} path), "
              f"{'with the headline indicators' if reduce else 'every variable, no indicator'}: "
              f"{milliseconds:.1f} ms CPU  ({load()})")
    return milliseconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[1, 61, 256, 4096, 65536])
    parser.add_argument("--band", type=int, default=256, help="states of the explorer's band (0: skip)")
    args = parser.parse_args()
    print(f"{load()} at start; cores: {os.cpu_count()}")
    crossover = rates(args.runs)
    milliseconds = band(args.band) if args.band else None
    print(f"crossover_runs: {crossover if crossover is not None else 'none (compiled faster at every size)'}")
    if milliseconds is not None:
        print(f"band_resumed_ms: {milliseconds:.1f}")


if __name__ == "__main__":
    main()
