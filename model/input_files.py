"""Reading the files a user gives a command: regular files only, refused by size before they are read.

A FIFO or /dev/zero would block or never end, and a 50 MB scenario is a mistake that would be copied
into every output. Both are refused from the open file's metadata, before a byte is read; a file that
is not UTF-8 text gets one line naming it, not a codec error.
"""

import os
import stat
from pathlib import Path

MiB = 2**20
# Bytes per file kind: far above any real file of the kind, far below what would hurt memory or time.
LIMITS = {
    "scenario": 1 * MiB,     # the shipped ones are 0.2-4 KB
    "study": 1 * MiB,        # plan_levers.yaml is 3 KB
    "targets": 4 * MiB,      # targets.yaml, all three plans' targets, is 56 KB
    "data": 64 * MiB,        # the shipped history is 53 KB; a whole yearbook extract is a few MB
    "ensemble": 4096 * MiB,  # netCDF of indicators (run, year): 100 000 runs x 60 indicators x 26 years is 1.2 GB
    "parameter sets": 64 * MiB,   # a fit's posterior.csv: 1000 draws of 30 constants are about 300 KB
    "chunk": 4096 * MiB,     # a study's chunk of 65 536 runs: outcomes and yearly series
    "samples": 8192 * MiB,   # a study's samples.npz: every run's outcomes and series (2^21 runs at most)
    "manifest": 16 * MiB,
    "cache": 64 * MiB,       # an entry of the private cache folder (names, outlooks, a baseline: 10-60 KB)    # the files one command wrote: a few hundred names
    "checkpoint": 4096 * MiB,   # the optimiser's archive: 1000 generations of 1024 candidates, each with its odds
}


class InputFileError(ValueError):
    """An input file that cannot be used at all; str() is one line: `path: problem`."""

    def __init__(self, path: Path | str, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(f"{path}: {problem}")


def _size(limit: int) -> str:
    return f"{limit / MiB:g} MB"


def _open_regular(path: Path, kind: str) -> int:
    """An open descriptor of `path`, checked to be a regular file within LIMITS[kind]."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)   # a FIFO must not block
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        raise InputFileError(path, f"cannot read the file ({error.strerror})") from None
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise InputFileError(path, "is a folder; give a file")
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(path, "not a regular file (a device, pipe or socket); give a file")
        if info.st_size > LIMITS[kind]:
            raise InputFileError(path, f"{info.st_size:,} bytes; a {kind} file holds at most "
                                 f"{_size(LIMITS[kind])} ({LIMITS[kind]:,} bytes)")
        os.set_blocking(descriptor, True)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def check_input_file(path: Path | str, kind: str) -> Path:
    """Raise InputFileError unless `path` is a readable regular file within the size limit of `kind`."""
    os.close(_open_regular(Path(path), kind))
    return Path(path)


def read_bytes(path: Path | str, kind: str) -> bytes:
    """The whole file, if it is a regular file of at most LIMITS[kind] bytes."""
    path = Path(path)
    with os.fdopen(_open_regular(path, kind), "rb") as handle:
        data = handle.read(LIMITS[kind] + 1)   # the file may have grown since fstat
    if len(data) > LIMITS[kind]:
        raise InputFileError(path, f"more than a {kind} file may have ({_size(LIMITS[kind])})")
    return data


def read_text(path: Path | str, kind: str) -> str:
    """The file as text: UTF-8 (a byte-order mark is dropped), without NUL bytes."""
    data = read_bytes(path, kind)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputFileError(path, f"contains a NUL byte (at byte {nul}): not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise InputFileError(path, f"not UTF-8 text (byte 0x{data[error.start]:02x} on line {line}); "
                             "save it as UTF-8") from None
