"""Writing outputs safely: atomic files, output folders checked first, staged, and marked while incomplete.

- `atomic_path`, `atomic_write`, `write_bytes`, `write_text`: a crash or Ctrl-C leaves the old file or
  none, never half a file.
- `check_writable(folder)`: a one-line `OutputError` before any work if `folder` cannot be made or written.
- `staged_output(folder, command)`: a command writes into a hidden staging folder inside `folder`; at
  the end the files move in, while `folder/INCOMPLETE` says that the folder is being rewritten.
- `remove_stale(folder)`: temporaries and staging folders of processes that are no longer running
  (a SIGKILL, a power cut) are removed by the next run: only names of our own prefix (`.nxmfg-`), owned
  by this user, whose process is gone.
- The manifest a command leaves in its folder lists the files it wrote; it is ours only if it carries
  this user's signature (model.cache.signature) for that very folder, and it names only plain files
  inside it (no link, no `..`). A folder holds one command's outputs: another command's is refused.
- `interrupts_deferred()`: Ctrl-C waits until a library call that must not be interrupted returns.
"""

import datetime as dt
import errno
import json
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

MARKER = "INCOMPLETE"
MANIFEST = ".nxmfg-manifest.json"   # the files the last complete run of a command wrote
NAME_MAX = 255                       # bytes in one path component (Linux, macOS, Windows)
# Our temporaries carry our prefix and the writer's process id: `.nxmfg-tmp.1234.k2j4h1x0`,
# `.nxmfg-staging.1234.x8f1`; nothing else is ever swept.
_TEMPORARY = re.compile(r"^\.nxmfg-tmp\.(?P<pid>\d+)\.[a-z0-9_]+$")
_STAGING = re.compile(r"^\.nxmfg-(?:staging|probe)\.(?P<pid>\d+)\.[a-z0-9_]+$")


class OutputError(ValueError):
    """An output folder that cannot be written; str() is one line naming it."""

    def __init__(self, folder: Path | str, problem: str):
        super().__init__(f"{folder}: {problem}")


class WriteError(OSError):
    """A file that could not be written (a full disk, `ulimit -f`, a quota): one line naming it."""

    def __str__(self) -> str:
        return f"{self.filename}: cannot write the file ({self.strerror})"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it into place only if the block succeeds.

    The file gets the usual permissions (mkstemp's own are 0600, unreadable to others). Its name
    carries our prefix and process id, so that `remove_stale` knows when it is left over. A write that
    fails for want of room (a full disk, `ulimit -f`, a quota) raises WriteError naming `path`.
    """
    path = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".nxmfg-tmp.{os.getpid()}.", suffix="")
    except OSError as error:
        raise WriteError(error.errno, error.strerror, str(path)) from None
    os.close(handle)
    os.chmod(temporary, 0o666 & ~_umask())
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EIO):
            raise WriteError(error.errno, error.strerror, str(path)) from None
        raise
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


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) until the block ends, then raise KeyboardInterrupt as usual.

    xarray's netCDF reader and writer deadlock if KeyboardInterrupt lands while they hold their file
    lock: the clean-up waits for the lock its own thread holds (a Ctrl-C during `simulate` hung 8
    times in 20 at that moment). Signals reach only the main thread, so elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received and previous is signal.default_int_handler:
            raise KeyboardInterrupt
        if received and callable(previous):
            previous(signal.SIGINT, None)
        elif received and previous == signal.SIG_DFL:
            os.kill(os.getpid(), signal.SIGINT)


def check_writable(folder: Path | str, command: str | None = None) -> Path:
    """Raise OutputError unless `folder` is a folder we can write in, or one we can create, and (given
    `command`) holds no other command's outputs.

    Nothing is left behind: the probe is an empty folder made and removed in the nearest existing
    ancestor. Call it before any work, so a bad `--out` costs nothing.
    """
    if not str(folder).strip():
        raise OutputError(repr(str(folder)), "an empty path; name the output folder (e.g. --out out/plan)")
    folder = Path(folder)
    for part in folder.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            raise OutputError(folder, f"the name {part[:24]}... is longer than {NAME_MAX} bytes")
    existing = folder
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "is not a folder" if existing == folder else f"{existing} is not a folder"
        raise OutputError(folder, f"cannot write the output there: {where}")
    try:
        os.rmdir(tempfile.mkdtemp(dir=existing, prefix=f".nxmfg-probe.{os.getpid()}."))
    except OSError as error:
        raise OutputError(folder, f"cannot write in {existing} ({error.strerror})") from None
    other = _manifest(folder).get("command") if command else None
    if other and other != command:
        raise OutputError(folder, f"holds the outputs of `nxmfg {other}` ({MANIFEST}); one folder holds one "
                          f"command's outputs: give `nxmfg {command}` another --out")
    return folder


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # another user's process
        return True
    return True


def remove_stale(folder: Path | str, depth: int = 2) -> list[Path]:
    """Remove our temporaries and staging folders whose writer is no longer running; return them.

    Only names of our own prefix (`.nxmfg-tmp.PID.`, `.nxmfg-staging.PID.`), owned by this user, whose
    process PID is gone: never a user's own file. Looks `depth` levels deep (outputs have charts/ and
    chunks/ subfolders), not through a whole tree that a user may have pointed --out at.
    """
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for entry in os.scandir(folder):
        found = _STAGING.match(entry.name) or _TEMPORARY.match(entry.name)
        try:
            ours = entry.stat(follow_symlinks=False).st_uid == os.geteuid()
        except OSError:
            continue
        if found and ours and not _alive(int(found["pid"])):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            elif entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)
            else:
                continue
            removed.append(Path(entry.path))
        elif depth > 1 and not found and entry.is_dir(follow_symlinks=False):
            removed += remove_stale(entry.path, depth - 1)
    return removed


def newest_first(entries: Iterable[Path | os.DirEntry]) -> list:
    """`entries` (paths or os.DirEntry, not followed through links), newest first by modification time; one
    that another process removed since it was listed is left out (two commands prune one cache at once)."""
    dated = []
    for entry in entries:
        try:
            dated.append((entry.stat(follow_symlinks=False).st_mtime, entry))
        except OSError:
            continue
    return [entry for _, entry in sorted(dated, key=lambda pair: pair[0], reverse=True)]


def is_complete(folder: Path | str) -> bool:
    """False while a command is writing `folder`, or after it was interrupted doing so."""
    return not (Path(folder) / MARKER).exists()


def _mark(folder: Path, command: str) -> None:
    started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    write_text(folder / MARKER, f"`nxmfg {command}` is writing this folder (process {os.getpid()}, started "
               f"{started}).\nIf no such run is going on, it was interrupted and the files here may mix two "
               "runs: run the command again.\n")


def _make_folder(folder: Path) -> list[Path]:
    """mkdir -p; return the folders it created, outermost first."""
    missing = [path for path in (folder, *folder.parents) if not path.exists()][::-1]
    folder.mkdir(parents=True, exist_ok=True)
    return missing


@contextmanager
def staged_output(folder: Path | str, command: str, keep: Iterable[str] = (),
                  incomplete_from_start: bool = False) -> Iterator[Path]:
    """Yield a staging folder to write a command's outputs in; on success move them into `folder`.

    Parameters
    ----------
    folder
        The output folder (created if needed; checked with `check_writable` first).
    command
        The command writing it. Files that the previous complete run of the same command wrote and
        this run does not are removed, so no result of an older run is left beside the new ones.
    keep
        Relative paths (files or folders) never removed that way, e.g. a study's `chunks`.
    incomplete_from_start
        Mark `folder` incomplete at once, not only while the files move in: for a command that also
        writes into `folder` directly (a study's chunks).

    While the files move in, `folder/INCOMPLETE` says so; a run killed then leaves it. A run that fails
    or is interrupted before leaves `folder` as it was, and removes it if it made it. Staging folders and
    temporaries that killed runs left are removed first.
    """
    folder = check_writable(folder, command)
    created = _make_folder(folder)
    remove_stale(folder)
    if created or incomplete_from_start:
        _mark(folder, command)
    stage = Path(tempfile.mkdtemp(dir=folder, prefix=f".nxmfg-staging.{os.getpid()}."))
    try:
        yield stage
        _commit(stage, folder, command, tuple(keep))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if created and {entry.name for entry in os.scandir(folder)} <= {MARKER}:  # a failed first run
            (folder / MARKER).unlink(missing_ok=True)
            for path in reversed(created):
                try:
                    path.rmdir()
                except OSError:
                    break


def _commit(stage: Path, folder: Path, command: str, keep: tuple[str, ...]) -> None:
    _mark(folder, command)
    written = sorted(path.relative_to(stage).as_posix() for path in stage.rglob("*") if path.is_file())
    for relative in written:
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / relative, folder / relative)
    previous = _manifest(folder)
    if previous.get("command") == command:
        for relative in set(previous["files"]) - set(written):
            if not any(relative == k or relative.startswith(f"{k}/") for k in keep):
                _remove_plain_file(folder, relative)
    write_text(folder / MANIFEST, json.dumps(_signed(folder, command, written), indent=1) + "\n")
    (folder / MARKER).unlink()


def _signed(folder: Path, command: str, written: list[str]) -> dict:
    from nxmfg.model.cache import signature

    body = {"command": command, "files": written, "folder": str(folder.resolve())}
    return body | {"signature": signature(json.dumps(body, sort_keys=True).encode())}


def _manifest(folder: Path) -> dict:
    """The previous run's manifest if this user wrote it for this folder (its signature), else {}.

    A manifest found without our signature (planted, copied from another folder, written by another
    user or an older version) is not ours: nothing it lists is removed, and it does not bind the folder.
    """
    from nxmfg.model.cache import CacheError, signed_by_us
    from nxmfg.model.input_files import read_text

    try:
        found = json.loads(read_text(folder / MANIFEST, "manifest"))
        body = {"command": found["command"], "files": found["files"], "folder": found["folder"]}
        if body["folder"] != str(folder.resolve()) or not signed_by_us(
                json.dumps(body, sort_keys=True).encode(), found.get("signature")):
            return {}
        return {"command": str(body["command"]), "files": [f for f in body["files"] if isinstance(f, str)]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, CacheError):
        return {}


def _remove_plain_file(folder: Path, relative: str) -> None:
    """Remove folder/relative if it is a plain file reached through plain folders inside `folder` only."""
    parts = Path(relative).parts
    if not parts or Path(relative).is_absolute() or any(part in ("", ".", "..") for part in parts):
        return
    path = folder
    for index, part in enumerate(parts, start=1):
        path = path / part
        try:
            info = path.lstat()
        except OSError:
            return
        if stat.S_ISLNK(info.st_mode) or (index < len(parts) and not stat.S_ISDIR(info.st_mode)):
            return
    if stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid():
        path.unlink(missing_ok=True)
