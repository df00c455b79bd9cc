"""The states of the world, drawn once per content and then read from the private cache.

Drawing the 256 states (calibration/states.py) maps a Latin hypercube through the priors, which needs
scipy.stats (1-1.5 s of CPU, mostly importing it), and screens the baselines of 1 024 candidates on the
reality checks (calibration/plausible.py: about 2 s more on the compiled path), in every `simulate` and
`compare` were it not kept. The draw is a pure function of the fit's parameter sets (its ensemble file's
bytes, checked against the model) and values, the model, the count, the seed and what the screening runs
on, states.yaml, priors.yaml, the baseline, the seam and its record, and the code and libraries that draw;
the cache key hashes them all. An entry is an .npz of plain arrays (never a pickle: np.load with
allow_pickle=False) in the private per-user folder (model.cache), written atomically; one that cannot be
read, or does not hold what a draw holds, is drawn again.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from nxmfg.calibration.fits import Fit
    from nxmfg.calibration.states import Settings, States

KEPT = 16
# and what screens them (calibration/plausible.py): the checks, the baseline, the seam and its record
CODE = ("calibration/states.py", "calibration/priors.py", "calibration/drawn_states.py",
        "calibration/states.yaml", "calibration/priors.yaml", "calibration/plausible.py", "calibration/reality.py",
        "calibration/seam.py", "calibration/seam.yaml", "calibration/data/ningxia_history.csv",
        "scenarios/baseline.yaml")


def drawn(fit: Fit, count: int, seed: int, chosen: Settings, draw: Callable[[], States], record: bool = True
          ) -> States:
    """The states `draw()` makes from `fit`'s parameter sets, `count`, `seed` and `record` (what they are
    screened on): read back if cached, else drawn and kept."""
    from nxmfg import model
    from nxmfg.model.cache import CacheError, digest, private_folder, read_private

    key = digest(_sets(fit), sorted(fit.values.items()), model.version(), count, seed, record,
                 chosen.model_dump(mode="json"), _code(), _versions())[:32]
    try:
        path = private_folder("states") / f"{key}.npz"
    except CacheError:
        return draw()
    data = read_private(path)
    found = _load(data, chosen, seed) if data is not None else None
    if found is not None:
        return found
    states = draw()
    _keep(path, states)
    return states


def _sets(fit: Fit):
    """What the fit's parameter sets are: the sets given in Python, or the bytes of its ensemble file and the
    model they were checked against (read and checked only when the states are drawn: 0.3 s)."""
    import hashlib

    from nxmfg import model

    if fit.sets is not None or fit.ensemble is None:
        return fit.sets
    return ["file", hashlib.sha256(Path(fit.ensemble).read_bytes()).hexdigest(), model.version()]


def _load(data: bytes, chosen: Settings, seed: int) -> States | None:
    from nxmfg.calibration.states import States

    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            about = json.loads(arrays["about"].tobytes().decode())
            constants = {name: arrays[f"c{i}"] for i, name in enumerate(about["constants"])}
            outlooks = {name: arrays[f"o{i}"] for i, name in enumerate(about["outlooks"])}
            rows = arrays["fit_rows"]
            screened = tuple(int(n) for n in about["screened"]) if about["screened"] is not None else None
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError, zipfile.BadZipFile):
        return None
    return States(constants, outlooks, rows, tuple(about["parts"]), chosen, seed, screened=screened)


def _keep(path: Path, states: States) -> None:
    from nxmfg.model.cache import write_private

    about = {"constants": list(states.constants), "outlooks": list(states.outlooks), "parts": list(states.parts),
             "screened": None if states.screened is None else list(states.screened)}
    arrays = {f"c{i}": np.asarray(v) for i, v in enumerate(states.constants.values())}
    arrays |= {f"o{i}": np.asarray(v) for i, v in enumerate(states.outlooks.values())}
    buffer = io.BytesIO()
    np.savez(buffer, about=np.frombuffer(json.dumps(about).encode(), dtype=np.uint8),
             fit_rows=np.asarray(states.fit_rows), **arrays)
    try:
        write_private(path, buffer.getvalue())
        entries = sorted(path.parent.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEPT:]:
            old.unlink(missing_ok=True)
    except OSError:          # a full or read-only cache: the next run draws them again
        pass


@cache
def _code() -> str:
    from nxmfg.model.cache import digest

    root = Path(__file__).parents[1]
    return digest(*[(name, (root / name).read_bytes()) for name in CODE])


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("numpy", "scipy", "pandas")}
