"""A call made in a forked child while this process works on (model/background.py).

The fork path runs only in a process with no other thread (drawing.fork_is_safe); a pytest-xdist worker has
its own threads, so each test of that path runs its body in a fresh, single-threaded Python.
"""

import os
import subprocess
import sys
import textwrap

import pytest

from nxmfg.model import background, drawing

PRELUDE = """\
import os, time
import pytest
from nxmfg.model import background, drawing
assert drawing.fork_is_safe(), "a fresh process with two cores forks"
"""
forking = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2 or sys.platform != "linux",
                             reason="needs fork on two cores")


def in_a_fresh_process(body: str) -> None:
    result = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(body)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


@forking
def test_the_call_is_made_in_a_child_and_its_value_comes_back():
    in_a_fresh_process("""
        with background.started(lambda: (os.getpid(), {"value": [1.5, float("nan")]})) as pending:
            pid, value = pending.result()
        assert pid != os.getpid()
        assert value["value"][0] == 1.5 and value["value"][1] != value["value"][1]
    """)


@forking
def test_a_call_that_fails_in_the_child_is_made_again_here_and_raises_here():
    in_a_fresh_process("""
        calls = []

        def fails():
            calls.append(os.getpid())     # the child's append is not seen here
            raise ValueError("scenario.yaml: levers.x: no such lever")

        with pytest.raises(ValueError, match="no such lever"), background.started(fails) as pending:
            pending.result()
        assert calls == [os.getpid()]
    """)


@forking
def test_leaving_the_block_by_an_error_stops_the_child():
    in_a_fresh_process("""
        with pytest.raises(KeyboardInterrupt), background.started(lambda: time.sleep(60)) as pending:
            child = pending._pid
            assert child is not None          # a child was started
            raise KeyboardInterrupt
        with pytest.raises(ChildProcessError):
            os.waitpid(child, os.WNOHANG)     # stopped and reaped
    """)


def test_where_a_fork_is_not_safe_the_call_is_made_here(monkeypatch):
    monkeypatch.setattr(drawing, "fork_is_safe", lambda: False)
    with background.started(os.getpid) as pending:
        assert pending.result() == os.getpid()


@forking
def test_alongside_gives_both_values_and_the_calls_error_before_this_sides():
    in_a_fresh_process("""
        assert background.alongside(os.getpid, os.getpid) != (os.getpid(), os.getpid())   # the call ran in a child
        assert background.alongside(lambda: 1, lambda: 2) == (1, 2)

        def bad_input():
            raise ValueError("scenario.yaml: levers.x: no such lever")

        def unready():
            raise OSError("no CJK font")

        with pytest.raises(ValueError, match="no such lever"):
            background.alongside(bad_input, unready)
        with pytest.raises(OSError, match="no CJK font"):
            background.alongside(lambda: 1, unready)
    """)
