"""Make one call in a forked child while this process does other work, then take the call's result.

`nxmfg simulate` runs its scenario in a child while this process loads what drawing the charts needs
(matplotlib, the CJK font: 0.5 s): each takes one core. Where a fork is not safe (see
drawing.fork_is_safe), the call is made here when its result is asked for. A child that fails sends
nothing back: the call is then made again here, so that its error (a bad input, a Ctrl-C) is raised in
this process with its own traceback, as drawing.draw_all does with a chart.
"""

import contextlib
import os
import pickle
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from nxmfg.model import drawing


class Pending:
    """A call under way in a child (or not started, where forking is not safe)."""

    def __init__(self, call: Callable[[], Any]):
        self._call, self._pid, self._pipe = call, None, None
        if not drawing.fork_is_safe():
            return
        reader, writer = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:                                   # the child: never returns
            os.close(reader)
            drawing.die_with_parent(parent)
            _answer(call, writer)
        os.close(writer)
        self._pid, self._pipe = pid, os.fdopen(reader, "rb")

    def result(self) -> Any:
        """The call's return value: the child's, or the call's made here if the child failed."""
        if self._pid is None:
            return self._call()
        data = self._pipe.read()                       # until the child closes the pipe
        self._pipe.close()
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        if os.waitstatus_to_exitcode(status) == 0 and data:
            return pickle.loads(data)
        return self._call()

    def cancel(self) -> None:
        """Stop the child, if it is still running, and reap it."""
        if self._pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)
        os.waitpid(self._pid, 0)
        self._pid = None
        self._pipe.close()


@contextlib.contextmanager
def started(call: Callable[[], Any]) -> Iterator[Pending]:
    """Start `call` in a child; on leaving the block by an error, the child is stopped."""
    pending = Pending(call)
    try:
        yield pending
    finally:
        pending.cancel()


def alongside(call: Callable[[], Any], here: Callable[[], Any]) -> tuple[Any, Any]:
    """`call` in a child while `here` runs in this process; both values. Should `here` fail, the call's
    own error (a bad input to it) is raised first, as if the two had run one after the other."""
    (value,), mine = all_alongside([call], here)
    return value, mine


def all_alongside(calls: Sequence[Callable[[], Any]], here: Callable[[], Any]) -> tuple[list, Any]:
    """Each of `calls` in a child of its own while `here` runs in this process; their values, and here's.
    Errors come in order: the calls' (the first failed call's, made again here), then here's. On leaving
    by an error, every child still running is stopped."""
    with contextlib.ExitStack() as stack:
        pending = [stack.enter_context(started(call)) for call in calls]
        try:
            mine = here()
        except Exception:
            for each in pending:
                each.result()
            raise
        return [each.result() for each in pending], mine


def _answer(call: Callable[[], Any], writer: int) -> None:
    code = 1
    try:
        data = pickle.dumps(call(), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(data)
        code = 0
    except BaseException:      # noqa: BLE001  (the parent makes the call again and shows the error)
        pass
    finally:
        os._exit(code)         # not the parent's exit handlers, nor its pending output
