"""Draw many charts at once: this process and forked helpers take them from one shared list.

A chart costs 0.1-0.2 s of matplotlib (layout, PNG, SVG): `nxmfg simulate` draws 12, `compare` about
40. On Linux the helpers are forks of this process, so they start at once, with everything imported and
the runs in memory (a spawned process would spend 0.8 s importing), and they exit without running this
process's exit handlers. Elsewhere, on one core, or where other threads run (Jupyter), the charts are
drawn here one after another. A chart a helper did not finish is drawn here afterwards, so that an error
surfaces in this process.
"""

import multiprocessing
import os
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from functools import partial

MAX_HELPERS = 3   # beyond four processes the charts are too few to share


def draw_all(tasks: Sequence[Callable[[], object]], helpers: int | None = None) -> None:
    """Call every task once (each draws and saves one chart), spread over the machine's cores."""
    helpers = _helpers(len(tasks)) if helpers is None else helpers
    if helpers < 1:
        for task in tasks:
            task()
        return
    context = multiprocessing.get_context("fork")
    lock = context.Lock()
    cursor = context.Value("i", 0, lock=False)      # next task to take, guarded by `lock`
    done = context.Array("b", len(tasks), lock=False)
    work = partial(_take, tasks, lock, cursor, done)
    processes = [context.Process(target=work, daemon=True) for _ in range(helpers)]
    with warnings.catch_warnings():
        # Python >= 3.12 warns on fork while threads run (numpy's BLAS pool, idle here): the helpers
        # only draw with matplotlib and exit.
        warnings.simplefilter("ignore", DeprecationWarning)
        for process in processes:
            process.start()
    try:
        _take(tasks, lock, cursor, done, quiet=False)
    finally:
        for process in processes:
            process.join()
    for index, task in enumerate(tasks):
        if not done[index]:        # a helper failed on it: draw it here, where the error is seen
            task()


def _take(tasks, lock, cursor, done, quiet: bool = True) -> None:
    while True:
        with lock:
            index = cursor.value
            cursor.value += 1
        if index >= len(tasks):
            return
        try:
            tasks[index]()
        except BaseException:
            if not quiet:
                raise
            return                 # the parent redraws it and shows the error
        done[index] = 1


def _helpers(count: int) -> int:
    # Fork only a single-threaded process: another Python thread (Jupyter's I/O threads, a process
    # pool's manager) may hold a lock at the fork that the helper would then wait on for ever. tqdm's
    # monitor, left by any progress bar, is the exception: the lock it takes is tqdm's, which a helper
    # that only draws never asks for.
    if sys.platform != "linux" or count < 2 or other_threads():
        return 0
    cores = len(os.sched_getaffinity(0))
    return max(0, min(cores - 1, count - 1, MAX_HELPERS))


def other_threads() -> list[threading.Thread]:
    """Threads besides the main one that forbid a fork; tqdm's monitor does not (see _helpers)."""
    return [t for t in threading.enumerate()
            if t is not threading.main_thread() and type(t).__name__ != "TMonitor"]
