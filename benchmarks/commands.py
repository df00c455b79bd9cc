"""How long the modeller waits: import, one run (PySD against the engine), charts, and the two commands.

    python benchmarks/commands.py [--repeat 3]

Prints the figures, then three last lines: `single_run_ms: N`, the median time of a warm single run (the
engine call `nxmfg.run` makes: every variable of the plan scenario, 2010-2035, in a process that has run
once), and `simulate_s: N` and `compare_s: N`: the median wall time of `nxmfg simulate scenarios/plan.yaml`
and of `nxmfg compare` of the five shipped scenarios, each a fresh process as a user starts it (the
model's translation and compiled caches already filled). Targets on the project's 2-core machine (issue
23): single run <= 20 ms, simulate <= 2 s, compare <= 5 s. The load average is printed too: the machine
may be shared, and the figures are wall times; for the commands, the CPU time (all processes) is printed.
"""

import argparse
import atexit
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NXMFG = Path(sys.executable).with_name("nxmfg")
SHIPPED = ["baseline", "plan", "digital_push", "coal_shock", "demand_slump"]


def wall(command: list[str], repeat: int) -> tuple[list[float], float]:
    """Wall seconds of `command` (a fresh process each time), `repeat` times, and its median CPU seconds
    (user + system, with its helper processes): the part of the figure that another job cannot stretch."""
    times, cpu = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return times, statistics.median(cpu)


def show(label: str, measured: list[float] | tuple[list[float], float]) -> float:
    times, cpu = measured if isinstance(measured, tuple) else (measured, None)
    median = statistics.median(times)
    spent = f"   CPU {cpu:5.2f} s" if cpu is not None else ""
    print(f"{label:44s} median {median:6.2f} s{spent}   ({', '.join(f'{t:.2f}' for t in times)})")
    return median


def in_process(label: str, call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return show(label, times)


def single_run_ms(params: dict, repeat: int = 30) -> float:
    """Median milliseconds of the engine's single run (warm), printed with the path that ran it."""
    from nxmfg import model
    from nxmfg.model import ensemble

    def once():
        return ensemble.run_translated(model.translated(), params, 1, workers=1, progress=False,
                                       control={"final_time": 2035, "saveper": 1})

    path = once().attrs["engine"]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        once()
        times.append(1000 * (time.perf_counter() - start))
    median = statistics.median(times)
    print(f"{'one run, engine (' + path + ' path, warm)':44s} median {median:6.1f} ms  (min {min(times):.1f})")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement")
    repeat = parser.parse_args().repeat
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cores: {os.cpu_count()}")
    scratch = Path(tempfile.mkdtemp(prefix="nxmfg-benchmark-"))      # under the system's temporary folder,
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)       # never the checkout; removed at exit
    subprocess.run([str(NXMFG), "simulate", "baseline", "--out", str(scratch / "warm")], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)                         # fill the caches once, untimed
    python = sys.executable
    show("python -c 'import nxmfg'", wall([python, "-c", "import nxmfg"], repeat))
    show("nxmfg --help", wall([str(NXMFG), "--help"], repeat))
    show("python -c 'import nxmfg.model' (PySD, xarray)", wall([python, "-c", "import nxmfg.model"], repeat))

    import nxmfg
    from nxmfg import model, scenarios
    from nxmfg.api import outputs

    scenario = scenarios.load(ROOT / "scenarios" / "plan.yaml")
    params = scenario.params(model.baseline())
    pysd = in_process("one run, PySD (model.simulate)", lambda: model.simulate(params), repeat)
    engine = in_process("one run judged (nxmfg.run, warm)", lambda: nxmfg.run("plan"), repeat)
    print(f"{'nxmfg.run speed-up on PySD':44s} {pysd / engine:6.1f} x")
    single = single_run_ms(model.fitted() | params)
    result = nxmfg.run("plan")
    folder = scratch / "files"
    folder.mkdir()
    in_process("data files (Result.write without charts)", lambda: outputs.write_data(result, folder), repeat)
    in_process("charts + headline tiles, zh (write_charts)",
               lambda: outputs.write_charts(result, folder, "zh", False), repeat)

    simulate = show("nxmfg simulate scenarios/plan.yaml",
                    wall([str(NXMFG), "simulate", "scenarios/plan.yaml", "--out", str(scratch / "simulated")], repeat))
    compare = show("nxmfg compare (5 shipped scenarios)",     # its own folder: one folder, one command's outputs
                   wall([str(NXMFG), "compare", *(f"scenarios/{s}.yaml" for s in SHIPPED), "--out",
                         str(scratch / "compared")], repeat))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"single_run_ms: {single:.1f}")
    print(f"simulate_s: {simulate:.2f}")
    print(f"compare_s: {compare:.2f}")


if __name__ == "__main__":
    main()
