"""The private per-user folder for everything nxmfg caches or generates, and the key that signs our files.

Every cached or generated file (PySD's translation, the engine's rewritten module, the model's names and
outlook tables, the baseline cache) is imported or trusted when found again, so it must live where no
other user can write: `private_folder()` is that folder. It is made 0700 and checked on every use: ours
(owner) and not writable by group or others, and so is every folder above it unless that one is sticky
(/tmp) or ours or root's. Another user who made the folder first, or a folder anyone can write to, is
refused in one line naming it; nothing in it is read.

Where: `$NXMFG_CACHE` if set, else `$XDG_CACHE_HOME/nxmfg` or `~/.cache/nxmfg` (kept across reboots, so
that the signing key and the translation survive a power cut), else `<tempdir>/nxmfg-cache-<uid>`.

`signature(data)` is an HMAC-SHA256 with a random per-user key kept 0600 in the folder: a manifest or a
checkpoint that carries it was written by this user on this machine, and only then is it trusted.
`digest(...)` is the key of a result cached by content (charts, the states of the world); `read_private`
reads such an entry back only if it is a plain file of ours.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
from pathlib import Path

KEY_NAME = "signing.key"
KEY_BYTES = 32


class CacheError(OSError):
    """The private folder cannot be used; str() is one line naming it and saying what to do."""

    def __init__(self, folder: Path | str, problem: str):
        super().__init__(f"nxmfg cache {folder}: {problem}")


def _default() -> Path:
    given = os.environ.get("NXMFG_CACHE")
    if given:
        return Path(given).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "nxmfg"
    home = Path(os.path.expanduser("~"))
    try:
        if home.is_absolute() and home.stat().st_uid == os.geteuid():
            return home / ".cache" / "nxmfg"
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / f"nxmfg-cache-{os.geteuid()}"


def _check(path: Path, info: os.stat_result, ours: bool) -> None:
    """`ours`: the folder itself (ours, 0755 at most); else a folder above it (ours or root's, or sticky)."""
    if not stat.S_ISDIR(info.st_mode):
        raise CacheError(path, "not a folder; remove it or set NXMFG_CACHE to a folder of your own")
    owner_ok = info.st_uid == os.geteuid() or (not ours and info.st_uid == 0)
    writable = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    sticky = info.st_mode & stat.S_ISVTX
    if ours and not owner_ok:
        raise CacheError(path, f"owned by another user (uid {info.st_uid}); nothing in it is used. Remove it "
                         "or set NXMFG_CACHE to a folder of your own")
    if (ours and writable) or (not ours and writable and not sticky) or (not ours and not owner_ok and not sticky):
        raise CacheError(path, f"other users can write {'to it' if ours else 'above it'} (mode "
                         f"{stat.S_IMODE(info.st_mode):o}); nothing in it is used. Use a folder only you can "
                         "write (chmod go-w), or set NXMFG_CACHE")


def private_folder(*parts: str) -> Path:
    """The private cache folder (or `parts` inside it), made 0700 and checked: see the module docstring.

    Raises CacheError (an OSError) naming the folder when it cannot be made or another user could write it.
    """
    root = _default().absolute()
    if os.path.lexists(root) and not root.is_dir():
        raise CacheError(root, "not a folder; remove it or set NXMFG_CACHE to a folder of your own")
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        resolved = root.resolve(strict=True)
        _check(resolved, resolved.stat(), ours=True)
        for above in resolved.parents:
            _check(above, above.stat(), ours=False)
        folder = resolved.joinpath(*parts)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except CacheError:
        raise
    except OSError as error:
        raise CacheError(root, f"cannot use it ({error.strerror or error}); set NXMFG_CACHE to a folder "
                         "of your own") from None
    return folder


def _key() -> bytes:
    """The per-user signing key (made on first use, 0600, in the private folder)."""
    path = private_folder() / KEY_NAME
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as error:
        raise CacheError(path, f"cannot read the signing key ({error.strerror})") from None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        key = handle.read(KEY_BYTES + 1)
    if (not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077
            or len(key) != KEY_BYTES):
        raise CacheError(path, "the signing key is not a 32-byte file readable by you only; remove it (a new "
                         "one is made, and files signed with the old one are no longer trusted)")
    return key


def signature(data: bytes) -> str:
    """HMAC-SHA256 of `data` under this user's key, in hex."""
    return hmac.new(_key(), data, hashlib.sha256).hexdigest()


def signed_by_us(data: bytes, given: object) -> bool:
    """Whether `given` is `signature(data)` (a constant-time comparison)."""
    return isinstance(given, str) and hmac.compare_digest(signature(data), given)


def digest(*parts: object) -> str:
    """A hex SHA-256 of `parts`: numbers, text, None, arrays, pandas and xarray objects (datasets, arrays),
    lists and dicts."""
    hasher = hashlib.sha256()
    for part in parts:
        _feed(hasher, part)
    return hasher.hexdigest()


def _feed(hasher, part: object) -> None:
    import numpy as np
    import pandas as pd
    import xarray as xr

    if isinstance(part, xr.Dataset):     # each variable (coordinates included) once: its dims, values, attrs
        _feed(hasher, ["Dataset", {name: [list(v.dims), v.to_numpy(), dict(v.attrs), dict(v.encoding)]
                                   for name, v in part.variables.items()}, dict(part.attrs)])
    elif isinstance(part, xr.DataArray):
        _feed(hasher, ["DataArray", part.name, list(part.dims), {d: part[d].to_numpy() for d in part.dims
                                                                   if d in part.coords}, part.to_numpy(),
                       dict(part.attrs), dict(part.encoding)])
    elif isinstance(part, pd.Series | pd.DataFrame):
        frame = part.to_frame() if isinstance(part, pd.Series) else part
        _feed(hasher, ["frame", [str(c) for c in frame.columns], [str(t) for t in frame.dtypes],
                       pd.util.hash_pandas_object(frame, index=True).to_numpy()])
    elif isinstance(part, np.ndarray):
        array = np.ascontiguousarray(part)
        hasher.update(f"array{array.dtype.str}{array.shape}".encode())
        hasher.update(array.tobytes() if array.dtype != object else json.dumps(array.tolist(), default=str).encode())
    elif isinstance(part, dict):
        hasher.update(b"{")
        for key in sorted(part, key=str):
            _feed(hasher, str(key))
            _feed(hasher, part[key])
        hasher.update(b"}")
    elif isinstance(part, list | tuple):
        hasher.update(b"[")
        for item in part:
            _feed(hasher, item)
        hasher.update(b"]")
    else:
        hasher.update(f"{type(part).__name__}:{part!r};".encode())


def write_private(path: Path, data: bytes) -> None:
    """Keep `data` at `path` (atomically), readable and writable by this user alone whatever the umask:
    `read_private` refuses an entry others may write, and under a umask of 002 an entry made 0664 was
    never read back (every chart drawn again)."""
    from nxmfg.model.files import atomic_path

    with atomic_path(path) as temporary:
        temporary.write_bytes(data)
        temporary.chmod(0o600)


def read_private(path: Path) -> bytes | None:
    """The bytes of a cached file if it is a regular file of ours, writable by us alone (never through a
    link), else None."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
            return None
        return handle.read()
