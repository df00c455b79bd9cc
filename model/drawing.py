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
import time
import warnings
from collections.abc import Callable, Sequence
from functools import partial

MAX_HELPERS = 3   # beyond four processes the charts are too few to share
Task = Callable[[], object]


def draw_all(tasks: Sequence[Task], helpers: int | None = None, alongside: Sequence[Task] = (),
             then: Task | None = None) -> None:
    """Call every task once (each draws and saves one chart), spread over the machine's cores.

    alongside: other calls, taken once the tasks are. then: a call made here once every task is done
    (the charts' tile, say); meanwhile the helpers alone take the `alongside` calls, so that it runs
    beside them rather than after them; then this process takes those still waiting.
    """
    work = [*tasks, *alongside]
    helpers = _helpers(len(work)) if helpers is None else helpers
    if helpers < 1:
        for task in work:
            task()
        if then is not None:
            then()
        return
    context = multiprocessing.get_context("fork")
    lock = context.Lock()
    cursor = context.Value("i", 0, lock=False)      # next task to take, guarded by `lock`
    done = context.Array("b", len(work), lock=False)   # 1: done, -1: a helper failed on it
    processes = [context.Process(target=partial(_take, work, lock, cursor, done, parent=os.getpid()), daemon=True)
                 for _ in range(helpers)]
    with warnings.catch_warnings():
        # Python >= 3.12 warns on fork while threads run (numpy's BLAS pool, idle here): the helpers
        # only draw with matplotlib and exit.
        warnings.simplefilter("ignore", DeprecationWarning)
        for process in processes:
            process.start()
    try:
        _take(work, lock, cursor, done, quiet=False, stop=len(work) if then is None else len(tasks))
        if then is not None:
            _wait(done, len(tasks), processes)
            _redo(work[:len(tasks)], done)
            then()
            _take(work, lock, cursor, done, quiet=False)
    finally:
        for process in processes:
            process.join()
    _redo(work, done)


def die_with_parent(parent: int) -> None:
    """In a forked child: be killed as soon as process `parent` ends (Linux PR_SET_PDEATHSIG), even by
    SIGKILL, rather than draw on for seconds with nobody to take the charts (issue 19)."""
    if sys.platform == "linux":
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)   # PR_SET_PDEATHSIG, SIGKILL
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:     # the parent died before the request took effect
        os._exit(1)


def _take(tasks, lock, cursor, done, quiet: bool = True, stop: int | None = None, parent: int | None = None) -> None:
    if parent is not None:
        die_with_parent(parent)
    stop = len(tasks) if stop is None else stop
    while True:
        with lock:
            index = cursor.value
            if index >= stop:
                return
            cursor.value += 1
        try:
            tasks[index]()
        except BaseException:
            if not quiet:
                raise
            done[index] = -1
            return                 # the parent redoes it and shows the error
        done[index] = 1


def _wait(done, count: int, processes) -> None:
    """Until the first `count` tasks are done or given up, or no helper is left to finish them."""
    while any(done[i] == 0 for i in range(count)) and any(p.is_alive() for p in processes):
        time.sleep(0.005)


def _redo(tasks: Sequence[Task], done) -> None:
    """Tasks a helper did not finish, done here, where an error is seen."""
    for index, task in enumerate(tasks):
        if done[index] != 1:
            task()
            done[index] = 1


def _helpers(count: int) -> int:
    if count < 2 or not fork_is_safe():
        return 0
    return max(0, min(len(os.sched_getaffinity(0)) - 1, count - 1, MAX_HELPERS))


def fork_is_safe() -> bool:
    """Whether a forked helper would start at once and run beside this process: Linux, two cores or more,
    and no other thread (see other_threads)."""
    # Fork only a single-threaded process: another Python thread (Jupyter's I/O threads, a process
    # pool's manager) may hold a lock at the fork that the helper would then wait on for ever. tqdm's
    # monitor, left by any progress bar, is the exception: the lock it takes is tqdm's, which a helper
    # that only draws never asks for.
    return sys.platform == "linux" and len(os.sched_getaffinity(0)) > 1 and not other_threads()


def other_threads() -> list[threading.Thread]:
    """Threads besides the main one that forbid a fork; tqdm's monitor does not (see fork_is_safe)."""
    return [t for t in threading.enumerate()
            if t is not threading.main_thread() and type(t).__name__ != "TMonitor"]
