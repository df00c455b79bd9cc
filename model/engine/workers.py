"""Worker processes for ensemble chunks: one pipe each, stopped at once on Ctrl-C, gone with their parent.

Why not concurrent.futures: after Ctrl-C its manager thread could be left reading half a result from a
worker we had just stopped, and the interpreter joins that thread at exit, so the command hung
(issue 13). Here the calling thread reads the results itself, from one pipe per worker; stopping
means terminating processes, with no thread to wait for.

Workers start by forkserver (clean processes, not forks of a parent that runs threads). Each watches a
pipe the parent never writes to: when the parent dies, even by SIGKILL, the kernel closes its end, and
the worker exits. That lets the forkserver and the resource tracker exit too, since they only wait for
their clients. On Linux a worker also asks for SIGKILL if the forkserver dies (PR_SET_PDEATHSIG).
"""

import multiprocessing
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

POLL_SECONDS = 1.0   # how often a worker also checks its parent by process id (the pipe is the main watch)
STOP_SECONDS = 2.0   # how long a closing pool waits for a worker before killing it


class WorkerDied(RuntimeError):
    """A worker process ended while it had work (killed, out of memory, a crash in C code)."""


class RemoteError(RuntimeError):
    """The traceback of an exception raised in a worker, attached as its __cause__."""


class Pool:
    """`workers` processes that each run one function call at a time, sent over their own pipe."""

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("forkserver")
        watch, self._alive = context.Pipe(duplex=False)   # (read end, write end): never written to
        self._workers: list[tuple[multiprocessing.Process, Connection]] = []
        try:
            for _ in range(workers):
                ours, theirs = context.Pipe()
                process = context.Process(target=_serve, args=(theirs, watch, os.getpid()), daemon=True,
                                          name="nxmfg-ensemble-worker")
                process.start()
                theirs.close()
                self._workers.append((process, ours))
        except BaseException:
            self.close(now=True)
            raise
        finally:
            watch.close()   # only the workers hold the read end now

    def map_unordered(self, function: Callable, items: Sequence) -> Iterator[tuple[int, Any]]:
        """Yield (index, function(items[index])) as the workers finish, keeping every worker busy.

        An exception in a call is raised here, with the worker's traceback as its __cause__.
        """
        todo = list(range(len(items)))[::-1]
        idle = list(self._workers)
        busy: dict[Connection, tuple[multiprocessing.Process, int]] = {}
        while todo or busy:
            while idle and todo:
                process, connection = idle.pop()
                index = todo.pop()
                try:
                    connection.send((function, items[index]))
                except (BrokenPipeError, ConnectionResetError):
                    raise _died(process, index) from None
                busy[connection] = (process, index)
            sentinels = {process.sentinel: connection for connection, (process, _) in busy.items()}
            ready = wait([*busy, *sentinels])
            for connection in [c for c in ready if c in busy]:   # results first: a worker may send, then die
                process, index = busy.pop(connection)
                yield index, _receive(connection, process, index)
                idle.append((process, connection))
            for sentinel in [s for s in ready if s in sentinels and sentinels[s] in busy]:
                raise _died(*busy[sentinels[sentinel]])

    def close(self, now: bool = False) -> None:
        """Stop the workers: idle ones end when their pipe closes; `now` terminates them mid-call."""
        for process, connection in self._workers:
            if now and process.is_alive():
                process.terminate()
            connection.close()
        for process, _ in self._workers:
            process.join(STOP_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
        self._alive.close()
        self._workers = []


def _receive(connection: Connection, process: multiprocessing.Process, index: int) -> Any:
    try:
        ok, value, remote = connection.recv()
    except (EOFError, OSError):
        raise _died(process, index) from None
    if not ok:
        raise value from RemoteError(remote)
    return value


def _died(process: multiprocessing.Process, index: int) -> WorkerDied:
    process.join(STOP_SECONDS)
    return WorkerDied(f"an ensemble worker (process {process.pid}) ended while running chunk {index} "
                      f"(exit code {process.exitcode})")


def _serve(connection: Connection, watch: Connection, parent: int) -> None:
    """A worker's loop: receive (function, argument), send (ok, result or exception, traceback text)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C goes to the whole process group: the parent handles it
    _exit_with_parent(watch, parent)
    while True:
        try:
            function, argument = connection.recv()
        except (EOFError, OSError):   # the pool was closed
            return
        try:
            reply = (True, function(argument), None)
        except BaseException as error:
            reply = (False, error, traceback.format_exc())
        try:
            connection.send(reply)
        except (EOFError, OSError):
            return
        except Exception as error:   # the result or exception cannot be pickled
            connection.send((False, RuntimeError(f"cannot send the result back: {error!r}"),
                             traceback.format_exc()))


def _exit_with_parent(watch: Connection, parent: int) -> None:
    """Exit as soon as the parent is gone: at EOF on `watch`, or if process `parent` no longer exists."""
    from nxmfg.model.drawing import die_with_parent

    die_with_parent(os.getppid())    # our parent is the forkserver: killed with it

    def watch_parent() -> None:
        while True:
            try:
                if watch.poll(POLL_SECONDS):
                    watch.recv_bytes()   # never sent: poll() woke up because the parent's end closed
            except (EOFError, OSError):
                os._exit(1)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
