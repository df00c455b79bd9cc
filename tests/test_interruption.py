"""Interruption (issue 13): Ctrl-C or SIGKILL at a random moment of `simulate` or `sensitivity`.

After each kill: the command ends (no hang), no process of it is left (workers, forkserver, resource
tracker), no partial file is taken for a result (the folder is whole, old or new, or marked INCOMPLETE),
and the next run cleans what the kill left and gives the results of an uninterrupted run.

Moments are drawn from a seeded generator, as fractions of an uninterrupted run's wall time (which is
measured to spread the kills over the run, never asserted). Each trial runs the real command in its
own process group: Ctrl-C goes to the whole group, as a terminal sends it; SIGKILL to the main process
only, which leaves its children nobody to stop them but themselves.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import psutil
import pytest

from nxmfg.model.files import MARKER

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform != "linux", reason="POSIX signals and /proc")]

ROOT = Path(__file__).parents[1]
NXMFG = [sys.executable, "-c", "import sys; from nxmfg import cli; sys.argv[0] = 'nxmfg'; cli.main()"]
TRIALS = [(signal.SIGINT, 0), (signal.SIGKILL, 1), (signal.SIGINT, 2), (signal.SIGKILL, 3)]
HANG_SECONDS = 120   # far beyond any clean stop; the issue saw a 12-minute hang
STUDY = """\
name: kill_test
scenario: baseline
levers_from: 2021
samples: 128
seed: 5
levers:
  cultivation_upgrades_per_year: [0, 200]
  intelligent_retrofit_firms_per_year: [0, 500]
uncertainties:
  retrofit_additionality: [0.0, 0.3]
outcomes:
  - {indicator: new_above_scale_firms_count, year: 2022}
  - {target: B-cnc-key-processes}
"""


class Run:
    """One `nxmfg` command in its own process group; every process it starts inherits a tag."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.tag = uuid.uuid4().hex
        with open(log, "wb") as output:   # a file, not a pipe: an orphan holding a pipe would block us
            self.process = subprocess.Popen([*NXMFG, *args], cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
                                            env=os.environ | {"NXMFG_TEST_RUN": self.tag}, start_new_session=True)
        self.log = log

    def interrupt(self, how: signal.Signals) -> None:
        if how == signal.SIGINT:
            os.killpg(self.process.pid, signal.SIGINT)
        else:
            self.process.kill()

    def wait(self) -> int:
        try:
            return self.process.wait(timeout=HANG_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"the command hung after the signal: {self.log.read_text(errors='replace')[-500:]}")

    def survivors(self, grace: float = 10.0) -> list[str]:
        """Processes of this run still alive after `grace` seconds (killed then, so none outlives the test)."""
        deadline = time.monotonic() + grace
        while True:
            alive = [p for p in psutil.process_iter(["pid", "cmdline"]) if _tagged(p, self.tag)]
            if not alive or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        for process in alive:
            process.kill()
        return [" ".join(p.info["cmdline"] or [])[:120] for p in alive]


def _tagged(process: psutil.Process, tag: str) -> bool:
    try:
        return process.environ().get("NXMFG_TEST_RUN") == tag
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def run_to_end(args: list[str], log: Path) -> float:
    started = time.monotonic()
    run = Run(args, log)
    assert run.wait() == 0, log.read_text(errors="replace")[-2000:]
    return time.monotonic() - started


def leftovers(folder: Path) -> list[str]:
    """Temporaries and staging folders a run left."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*")
                  if p.name.startswith((".nxmfg-tmp.", ".nxmfg-staging.")))


def visible(folder: Path) -> dict[str, bytes]:
    """The results a reader sees: every file but hidden ones, with its content where a rerun reproduces
    it byte for byte (SVG carries a date, npz archives and metadata.json a time, summary.md a duration;
    their names are compared)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            steady = path.suffix not in (".svg", ".npz", ".json") and path.name != "summary.md"
            found[str(relative)] = path.read_bytes() if steady else b""
    return found


def moment(trial: int, seconds: float) -> float:
    """A seeded moment between the start and just after the end of an uninterrupted run."""
    return float(np.random.default_rng(1300 + trial).uniform(0.05, 1.05)) * seconds


def kill_then_resume(command: list[str], out: Path, tmp_path: Path, how: signal.Signals, after: float,
                     results, whole: dict[str, bytes], started=lambda out: True) -> None:
    """Kill `command` with `how` after `after` seconds, then rerun it with --resume. Every process is gone at
    once; an unmarked `out` holds the whole result (`results(out) == whole`) once `started(out)`; Ctrl-C
    leaves no temporary file; the resumed run gives the whole result and leaves nothing behind."""
    run = Run(command, tmp_path / "killed.log")
    time.sleep(after)
    run.interrupt(how)
    run.wait()
    assert run.survivors() == []
    if out.exists() and not (out / MARKER).exists() and started(out):
        assert results(out) == whole, "an unmarked folder must hold a whole result"
    if how == signal.SIGINT and out.exists():
        assert leftovers(out) == [], "Ctrl-C must clean up at once"
    run_to_end([*command, "--resume"], tmp_path / "resumed.log")
    assert results(out) == whole
    assert leftovers(out) == []


# --- simulate: rewriting a folder that holds another scenario's results -----------------------------

@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """An uninterrupted baseline and plan, and the plan's wall time."""
    folder = tmp_path_factory.mktemp("simulate")
    run_to_end(["simulate", "scenarios/baseline.yaml", "--out", str(folder / "baseline")], folder / "baseline.log")
    seconds = run_to_end(["simulate", "scenarios/plan.yaml", "--out", str(folder / "plan")], folder / "plan.log")
    return visible(folder / "baseline"), visible(folder / "plan"), folder / "baseline", seconds


@pytest.mark.parametrize(("how", "trial"), TRIALS, ids=[f"{s.name}-{t}" for s, t in TRIALS])
def test_simulate_killed_at_a_random_moment(simulated, tmp_path, how, trial):
    baseline, plan, baseline_folder, seconds = simulated
    out = tmp_path / "out"
    shutil.copytree(baseline_folder, out)                  # the plan rewrites the baseline's folder
    run = Run(["simulate", "scenarios/plan.yaml", "--out", str(out)], tmp_path / "killed.log")
    time.sleep(moment(trial, seconds))
    run.interrupt(how)
    run.wait()
    assert run.survivors() == []
    if not (out / MARKER).exists():
        assert visible(out) in (baseline, plan), "an unmarked folder mixes two runs"
    if how == signal.SIGINT:
        assert leftovers(out) == [], "Ctrl-C must clean up at once"
    run_to_end(["simulate", "scenarios/plan.yaml", "--out", str(out)], tmp_path / "again.log")
    assert visible(out) == plan
    assert leftovers(out) == []


# --- sensitivity: resume after the kill --------------------------------------------------------------

@pytest.fixture(scope="module")
def studied(tmp_path_factory):
    """An uninterrupted study (10 chunks on the worker pool) and its wall time."""
    folder = tmp_path_factory.mktemp("study")
    (folder / "kill_test.yaml").write_text(STUDY, encoding="utf-8")
    seconds = run_to_end(["sensitivity", str(folder / "kill_test.yaml"), "--out", str(folder / "whole"),
                          "--chunk-runs", "64"], folder / "whole.log")
    return folder / "kill_test.yaml", visible(folder / "whole"), _arrays(folder / "whole"), seconds


def _arrays(folder: Path) -> dict[str, np.ndarray]:
    with np.load(folder / "samples.npz") as saved:
        return {key: saved[key] for key in saved.files}


@pytest.mark.parametrize(("how", "trial"), TRIALS, ids=[f"{s.name}-{t}" for s, t in TRIALS])
def test_sensitivity_killed_at_a_random_moment_resumes_to_identical_results(studied, tmp_path, how, trial):
    study, whole, arrays, seconds = studied
    out = tmp_path / "out"
    command = ["sensitivity", str(study), "--out", str(out), "--chunk-runs", "64"]
    # indices.csv and every table, byte for byte
    kill_then_resume(command, out, tmp_path, how, moment(10 + trial, seconds), visible, whole)
    resumed = _arrays(out)
    assert resumed.keys() == arrays.keys()
    for key, value in arrays.items():
        np.testing.assert_array_equal(resumed[key], value, err_msg=key)


# --- optimize: resume after the kill -----------------------------------------------------------------

@pytest.fixture(scope="module")
def optimized(tmp_path_factory):
    """An uninterrupted search of the shipped study at toy size (6 candidates x 3 states, 3 generations)."""
    import yaml

    from nxmfg.optimization import study

    folder = tmp_path_factory.mktemp("optimize")
    data = yaml.safe_load(Path(study.__file__).with_name("packages_2027.yaml").read_text(encoding="utf-8"))
    data |= {"name": "kill_test", "population": 6, "generations": 3}
    data["states"] = {"count": 3}
    path = folder / "kill_test.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    seconds = run_to_end(["optimize", str(path), "--out", str(folder / "whole"), "--lang", "en"], folder / "whole.log")
    return path, _results(folder / "whole"), seconds


def _results(folder: Path) -> dict[str, bytes]:
    """What a reader uses; metadata.yaml and summary.md carry the search's time, so only their names count,
    and the report's one timestamp and the Chinese summary's seconds (用时N秒) are masked."""
    stamp = re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d UTC|\xe7\x94\xa8\xe6\x97\xb6[\d.]+\xe7\xa7\x92")
    return {name: (b"" if name in ("metadata.yaml", "summary.md") else stamp.sub(b"<time>", content))
            for name, content in visible(folder).items() if name != "checkpoint.npz"}


@pytest.mark.parametrize(("how", "trial"), TRIALS[:2], ids=[f"{s.name}-{t}" for s, t in TRIALS[:2]])
def test_optimize_killed_at_a_random_moment_resumes_to_the_same_results(optimized, tmp_path, how, trial):
    study, whole, seconds = optimized
    out = tmp_path / "out"
    command = ["optimize", str(study), "--out", str(out), "--lang", "en"]
    # the search keeps its checkpoint in `out` before any result is there
    kill_then_resume(command, out, tmp_path, how, moment(20 + trial, seconds), _results, whole,
                     started=lambda folder: (folder / "pareto.csv").exists())
