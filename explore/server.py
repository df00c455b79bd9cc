"""`nxmfg explore`: check every input, load and warm the model, then serve the app until Ctrl-C.

Everything a user can get wrong (a scenario file, the fit, a port in use) is found before the model
loads, and reported in one line. The model runs in this process (one daemon thread), and the web
server's threads are daemons too: Ctrl-C ends the process at once, leaving no helper process behind.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from nxmfg import scenarios


def check_port(host: str, port: int) -> None:
    """ValueError naming the port if nothing can listen there (in use, not allowed)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as the server binds: a port in
        try:                                                             # TIME_WAIT is free, a listener is not
            probe.bind((host, port))
        except OSError as error:
            why = "already in use" if error.errno == errno.EADDRINUSE else error.strerror
            raise ValueError(f"--port {port}: cannot listen on {host}:{port} ({why})") from None


def prepare(host: str, port: int, scenario_files: list[str | Path], params: str | Path | None):
    """The app, ready to serve: inputs checked, model loaded, snapshots made, the baseline run."""
    from nxmfg import model
    from nxmfg.api import inputs
    from nxmfg.explore import files
    from nxmfg.explore.app import create_app
    from nxmfg.explore.drafts import check_loadable
    from nxmfg.explore.evaluation import Explorer

    given = {}
    for path in scenario_files:
        scenario = files.read_scenario(path)
        scenarios.check(scenario, model.constants(), model.lookups())
        check_loadable(scenario)
        given[scenario.name] = scenario
    inputs.fit_and_overrides(params)          # a bad fit file: one line, before the model loads
    check_port(host, port)
    os.environ.setdefault("MPLBACKEND", "Agg")  # the report draws in a server thread: no window toolkit
    explorer = Explorer(params)
    explorer.warm()
    return create_app(explorer, given)


def serve(app, host: str, port: int) -> None:
    """Serve until Ctrl-C (Flask's threaded server; the engine has its own thread)."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)   # no line per request
    try:
        app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
    except KeyboardInterrupt:
        pass
