"""How long the modeller waits: import, one run (PySD against the engine), charts, and the two commands.

    python benchmarks/commands.py [--repeat 3]

Prints the figures, then the last lines: `single_run_ms: N`, the median time of a warm single run (the
engine call `nxmfg.run` makes: every variable of the plan scenario, 2010-2035, in a process that has run
once), and `simulate_s: N` and `compare_s: N`: the median wall time of `nxmfg simulate scenarios/plan.yaml`
and of `nxmfg compare` of the five shipped scenarios, each a fresh process as a user starts it (the
model's translation and compiled caches already filled). Targets on the project's 2-core machine (issue
23): single run <= 20 ms, simulate <= 2 s, compare <= 5 s. `states_draw_s`: drawing the 256 states of the
world and screening 1 024 candidates on the reality checks (calibration/plausible.py), which the first
`simulate` after a change of the fit, the model or the priors pays once (they are then cached). The load average is printed too: the machine
may be shared, and the figures are wall times; for the commands, the CPU time (all processes) is printed.

Those runs repeat a command, so their charts come from the chart cache (model/chart_cache.py) after the
first. `simulate_new_s` and `compare_new_s` time what a modeller who has just changed a lever waits for:
each run gets a plan whose cloud vouchers differ from every earlier run's (a scenario no cache holds; the
compare has it in place of the plan), so every chart is drawn.
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
    from nxmfg.calibration import fits, plausible, states

    fit, chosen = fits.shipped_fit(), states.settings()     # what a first `simulate` pays once per content
    drawn = in_process("states drawn and screened (not cached)",
                       lambda: plausible.states(fit, fit.parameter_sets(), states.assumed_priors(), chosen.count,
                                                chosen.seed, chosen), repeat)
    result = nxmfg.run("plan")
    folder = scratch / "files"
    folder.mkdir()
    in_process("data files (Result.write without charts)", lambda: outputs.write_data(result, folder), repeat)
    from nxmfg.model import chart_cache

    cached = chart_cache.folder
    chart_cache.folder = lambda: Path(tempfile.mkdtemp(dir=scratch))     # an empty chart cache each time
    in_process("charts + headline tiles, zh (write_charts, drawn)",
               lambda: outputs.write_charts(result, folder, "zh", False), repeat)
    chart_cache.folder = cached
    outputs.write_charts(result, folder, "zh", False)
    in_process("the same, from the chart cache", lambda: outputs.write_charts(result, folder, "zh", False), repeat)

    simulate = show("nxmfg simulate scenarios/plan.yaml",
                    wall([str(NXMFG), "simulate", "scenarios/plan.yaml", "--out", str(scratch / "simulated")], repeat))
    compare = show("nxmfg compare (5 shipped scenarios)",     # its own folder: one folder, one command's outputs
                   wall([str(NXMFG), "compare", *(f"scenarios/{s}.yaml" for s in SHIPPED), "--out",
                         str(scratch / "compared")], repeat))
    fresh = [new_plan(scratch) for _ in range(2 * repeat)]
    simulate_new = show("nxmfg simulate, a scenario never run before",
                        wall_each([[str(NXMFG), "simulate", str(path), "--out", str(scratch / "simulated_new")]
                                   for path in fresh[:repeat]]))
    compare_new = show("nxmfg compare, one scenario never run before",
                       wall_each([[str(NXMFG), "compare", *(f"scenarios/{s}.yaml" for s in SHIPPED if s != "plan"),
                                   str(path), "--out", str(scratch / "compared_new")] for path in fresh[repeat:]]))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"single_run_ms: {single:.1f}")
    print(f"states_draw_s: {drawn:.2f}")
    print(f"simulate_s: {simulate:.2f}")
    print(f"compare_s: {compare:.2f}")
    print(f"simulate_new_s: {simulate_new:.2f}")
    print(f"compare_new_s: {compare_new:.2f}")


def new_plan(folder: Path) -> Path:
    """The plan scenario with a number of cloud vouchers a year no earlier run has had (from the clock)."""
    vouchers = 300 + time.time_ns() % 100_000 / 1000
    text = (ROOT / "scenarios" / "plan.yaml").read_text(encoding="utf-8")
    text = text.replace("cloud_voucher_firms_per_year: {from: 2024, value: 350}",
                        f"cloud_voucher_firms_per_year: {{from: 2024, value: {vouchers}}}")
    assert str(vouchers) in text, "scenarios/plan.yaml no longer sets cloud_voucher_firms_per_year as expected"
    name = f"plan_{time.time_ns()}"                  # a scenario's name is its file's
    path = folder / f"{name}.yaml"
    path.write_text(text.replace("name: plan\n", f"name: {name}\n", 1), encoding="utf-8")
    return path


def wall_each(commands: list[list[str]]) -> tuple[list[float], float]:
    """`wall` of each command once: their wall seconds and median CPU seconds."""
    measured = [wall(command, 1) for command in commands]
    return [m[0][0] for m in measured], statistics.median(m[1] for m in measured)


if __name__ == "__main__":
    main()
