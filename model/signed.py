"""State files that resume work (the optimiser's checkpoint, a Sobol' study's chunks): plain arrays and
JSON in one NumPy .npz, signed by this user, read back only if the signature holds.

Nothing in such a file can run code: arrays are written without Python objects and read with
`allow_pickle=False`, the rest is JSON. The signature (model.cache.signature, an HMAC under a per-user
key) covers every array's name, type, shape and values and is checked before any value is used, so a
file someone else wrote (planted in --out, or in a folder handed to you) is never resumed from.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from nxmfg.model.files import atomic_path
from nxmfg.model.input_files import LIMITS, InputFileError, read_bytes

META, SIGNATURE = "meta", "signature"


class UnsignedError(ValueError):
    """A state file that is unreadable or not ours; str() is one line `path: problem`."""

    def __init__(self, path: Path | str, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(f"{path}: {problem}")


def _signed_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """What the signature covers: every array's name, type, shape and values, in name order."""
    parts = []
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        parts.append(json.dumps([name, array.dtype.str, array.shape]).encode() + b"\0" + array.tobytes())
    return b"\0".join(parts)


def save(path: Path | str, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write `meta` (JSON) and `arrays` (numbers only) with our signature, atomically."""
    from nxmfg.model.cache import signature

    stored = {name: np.asarray(value) for name, value in arrays.items()}
    objects = sorted(name for name, value in stored.items() if value.dtype.hasobject)
    if objects:
        raise TypeError(f"{path}: {', '.join(objects)} hold Python objects; only numbers and text are kept")
    stored[META] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    stored[SIGNATURE] = np.frombuffer(signature(_signed_bytes(stored)).encode("ascii"), dtype=np.uint8)
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        np.savez(handle, **stored)      # no object arrays (checked above): nothing is pickled
        handle.flush()
        os.fsync(handle.fileno())


def load(path: Path | str, kind: str) -> tuple[dict, dict[str, np.ndarray]]:
    """(meta, arrays) of a file `save` wrote, after its signature is checked; `kind` is its size limit's
    key in model.input_files.LIMITS. UnsignedError if it cannot be read or we did not write it."""
    try:
        data = read_bytes(path, kind)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:    # a zip bomb: sizes are declared before reading
            if sum(info.file_size for info in archive.infolist()) > LIMITS[kind]:
                raise UnsignedError(path, f"larger unpacked than a {kind} file may be")
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except InputFileError as error:
        raise UnsignedError(path, error.problem) from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        if isinstance(error, UnsignedError):
            raise
        raise UnsignedError(path, f"not a {kind} file of nxmfg ({type(error).__name__})") from None
    from nxmfg.model.cache import signed_by_us

    signature = arrays.pop(SIGNATURE, np.array([], dtype=np.uint8))
    if signature.dtype != np.uint8 or not signed_by_us(_signed_bytes(arrays),
                                                        signature.tobytes().decode("ascii", "replace")):
        raise UnsignedError(path, "not written by you on this machine (its signature does not match), so it is "
                            "not trusted")
    try:
        meta = json.loads(arrays.pop(META).tobytes().decode("utf-8"))
    except (KeyError, ValueError):
        raise UnsignedError(path, "its description cannot be read") from None
    if not isinstance(meta, dict):
        raise UnsignedError(path, "its description is not a mapping")
    return meta, arrays
