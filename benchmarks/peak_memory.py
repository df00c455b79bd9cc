"""Peak memory of a benchmark: this process and all its descendants (the engine's forkserver workers, which
getrusage's RUSAGE_CHILDREN does not see while they live), sampled every 50 ms."""

import contextlib
import threading

import psutil


class PeakMemory(threading.Thread):
    """Start it before the work; `peak` holds the largest total RSS in bytes seen so far; `done.set()` stops it."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self.done = 0, threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self.done.wait(0.05):
            with contextlib.suppress(psutil.Error):
                total = me.memory_info().rss + sum(c.memory_info().rss for c in me.children(recursive=True))
                self.peak = max(self.peak, total)
