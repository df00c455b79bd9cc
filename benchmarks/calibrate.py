"""What a sampler step of `nxmfg calibrate` costs, and so what a converged run costs (issue 21).

    python benchmarks/calibrate.py [--until 2020] [--steps 20] [--taus 50 --tau 100]

Times `--steps` emcee steps of the shipped priors (calibration/priors.yaml: its walkers, the fitted constants)
from the posterior draws of the shipped fit (or the .mdl values), on the ensemble engine in this process, and
prints the seconds per step and per engine call, then the projected time of a run of TAUS x TAU steps (a
converged run by emcee's rule: the chain at least 50 autocorrelation times long). The last line is
`seconds_per_step: S`. Run it on an idle machine: another job stretches every figure.
"""

import argparse
import os
import time

import numpy as np

from nxmfg.calibration import pipeline, sampler
from nxmfg.calibration.fits import FitError, shipped_fit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--until", type=int, default=None)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--walkers", type=int, default=None, help="default: priors.yaml's sampler.walkers")
    parser.add_argument("--taus", type=float, default=50)
    parser.add_argument("--tau", type=float, default=100, help="autocorrelation time [steps] to project with")
    args = parser.parse_args()
    setup = pipeline.prepare(args.until, None)
    walkers = args.walkers or int(setup.priors.sampler["walkers"])
    try:
        draws = shipped_fit().parameter_sets()
    except FitError:              # a posterior of another model version: start from the .mdl values
        draws = None
    rng = np.random.default_rng(0)
    if draws is not None and list(draws.columns) == setup.problem.names:
        start = draws.to_numpy(float)[rng.integers(len(draws), size=walkers)]
    else:
        start = setup.constants.loc[setup.problem.names, "value"].to_numpy(float) * (1 + 1e-3 * rng.standard_normal(
            (walkers, len(setup.problem.names))))
    calls = [0]

    def log_prob(X: np.ndarray) -> np.ndarray:
        calls[0] += 1
        return setup.problem.log_posterior(X, setup.evaluate)[0]

    log_prob(start[:2])                                   # the engine's first call compiles its module
    calls[0] = 0
    settings = {"max_steps": args.steps, "check_every": args.steps, "converged_taus": 1e9, "tau_tolerance": 0.0}
    begin = time.perf_counter()
    sampler.run(log_prob, start, settings, seed=1, progress=False)
    seconds = time.perf_counter() - begin
    per_step = seconds / args.steps
    projected = args.taus * args.tau * per_step
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{walkers} walkers x {len(setup.problem.names)} constants, until {args.until or 'all years'}: "
          f"{per_step:.2f} s a step, {seconds / calls[0]:.2f} s an engine call ({calls[0]} calls)")
    print(f"a converged run of {args.taus:g} x tau = {args.taus * args.tau:.0f} steps: {projected / 3600:.1f} h")
    print(f"seconds_per_step: {per_step:.3f}")


if __name__ == "__main__":
    main()
