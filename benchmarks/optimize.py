"""Time the shipped optimisation study end to end: optimization/packages_2027.yaml.

Loads and checks the study, evaluates the baseline and the plan, runs 60 generations of 64 candidates in
the tool's 256 states of the world and the central run through the ensemble engine (from the reconciled
state of 2023, in calls of about 2048 runs), then writes every output
(Pareto set, packages, reachability, chart, summary.md, report.html) to OUT (default out/packages_2027).
Target: under 10 minutes with peak memory under 2 GiB on the project's 2-core machine. The figures are
wall times: the load average is printed beside them, since other jobs on the machine stretch them.
Ends with the lines `seconds: S` and `out: DIR`.

    python benchmarks/optimize.py [STUDY.yaml] [OUT]
"""

import os
import sys
import time
from pathlib import Path

from peak_memory import PeakMemory   # benchmarks/ is on sys.path when a benchmark runs

import nxmfg

STUDY = Path(__file__).resolve().parents[1] / "optimization" / "packages_2027.yaml"


def main(study: Path, out: Path) -> None:
    load_before = os.getloadavg()
    memory = PeakMemory()
    memory.start()
    started = time.perf_counter()
    optimization = nxmfg.optimize(study, out)
    searched = time.perf_counter()
    optimization.write(out, lang="zh")
    seconds = time.perf_counter() - started
    memory.done.set()
    load_after = os.getloadavg()
    outcome, meta = optimization.outcome, optimization.metadata
    setup = outcome.setup
    print(f"study: {study.name}: {setup.study.population} candidates x {setup.study.generations} generations x "
          f"{setup.states.count} states, {len(setup.study.levers)} levers, {len(setup.targets)} targets")
    print(f"runs: {meta['runs']} in {outcome.seconds:.1f} s of search ({meta['runs'] / outcome.seconds:.0f} runs/s, "
          f"{outcome.seconds / setup.study.generations:.2f} s a generation)")
    print(f"checking the study and writing the outputs: {seconds - outcome.seconds:.1f} s "
          f"(of which writing {seconds - (searched - started):.1f} s)")
    print(f"peak RSS, this process and its workers together: {memory.peak / 2**30:.2f} GiB")
    print(f"load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; "
          f"after: {', '.join(f'{x:.2f}' for x in load_after)}; cores: {os.cpu_count()}")
    print(f"Pareto packages: {meta['pareto_packages']}; {optimization.headline}")
    print(f"seconds: {seconds:.1f}")
    print(f"out: {out}")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main(Path(arguments[0]) if arguments else STUDY, Path(arguments[1]) if len(arguments) > 1 else
         Path("out/packages_2027"))
