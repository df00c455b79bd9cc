"""Atomic writes: a crash or Ctrl-C leaves the old file or none, never half a file."""

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it into place only if the block succeeds.

    The file gets the usual permissions (mkstemp's own are 0600, unreadable to others).
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    os.chmod(temporary, 0o666 & ~_umask())
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def atomic_write(path: Path | str, write: Callable[[Path], object]) -> Path:
    """Call write(temporary path), then move the result to `path`."""
    with atomic_path(path) as temporary:
        write(temporary)
    return Path(path)


def write_bytes(path: Path | str, data: bytes) -> Path:
    return atomic_write(path, lambda temporary: temporary.write_bytes(data))


def write_text(path: Path | str, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))
