"""Charts drawn once per content: a chart's PNG and SVG kept under a hash of everything that draws it.

A chart costs about 0.28 s of matplotlib's CPU, and `simulate` draws 23 of them, `compare` about 50: most
of what the commands take. Run again on the same inputs (the same scenario and fit, or a report asked for
twice), a chart's picture is the same, so it is drawn once and copied afterwards. The key hashes the
chart's own data (the runs' values of its indicator, its band), the record and the targets it reads, the
language, and what turns them into pixels: the code of model/ and scenarios/, the house style and the
rcParams in force, the font files, and matplotlib's, Pillow's and numpy's versions. Any change misses.

`simulate`'s results.nc is kept the same way (netcdf_once): netCDF4 writes the same bytes for the same
data and attributes (0.5 s of CPU for its 680 variables).

Entries live in the private per-user folder (model.cache.private_folder: 0700, checked on every use), as
KEY.png, KEY.svg and KEY.nc in outputs/, each written atomically and 0600 (model.cache.write_private); only
regular files owned by this user and writable by no one else are read back (never through a link), and an
entry that cannot be read is made again. The SVG keeps the date it was drawn on (its `dc:date`); its ids
come from a fixed salt, so that a copy and a fresh drawing differ in that date only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from nxmfg.model.cache import digest, read_private, write_private

KEPT = {".png": 400, ".svg": 400, ".nc": 16}   # files kept of each kind (a netCDF file is 0.7 MB); oldest go
SUFFIXES = (".png", ".svg")
CODE = ("model", "scenarios")      # the packages whose code draws (titles and units: model/indicators.py)


def environment(lang: str) -> str:
    """What draws any chart in `lang` besides its data: our code, the style and rcParams in force, the fonts'
    files and the libraries' versions (run inside plots.style)."""
    import matplotlib as mpl

    from nxmfg.model import fonts

    families = fonts.font_families(lang)
    files = [fonts._installed(family) for family in families]
    stamps = [(path, os.stat(path).st_size, os.stat(path).st_mtime_ns) if path else None for path in files]
    rc = {key: repr(value) for key, value in mpl.rcParams.items()}
    return digest(lang, families, stamps, rc, _code(), _versions())


@cache
def _code() -> str:
    """Every Python file of CODE and the house style (2 ms): an edited label, unit or style misses."""
    root = Path(__file__).parents[1]
    paths = sorted([p for package in CODE for p in (root / package).rglob("*.py")] + [root / "model/nxmfg.mplstyle"])
    return digest(*[(path.relative_to(root).as_posix(), path.read_bytes()) for path in paths])


def _versions() -> dict[str, str]:
    import matplotlib
    import numpy
    import PIL

    return {"matplotlib": matplotlib.__version__, "numpy": numpy.__version__, "pillow": PIL.__version__}


def folder() -> Path:
    from nxmfg.model.cache import private_folder

    return private_folder("outputs")


def drawn_once(key: str, stem: Path, draw: Callable[[], object], suffixes: tuple[str, ...] = SUFFIXES) -> None:
    """stem.png and stem.svg (or `suffixes`): copied from the entry `key` if there is one, else drawn by
    `draw()` (which writes them) and kept under `key`. A cache that cannot be used is skipped: the chart is
    drawn."""
    from nxmfg.model.cache import CacheError
    from nxmfg.model.files import write_bytes

    try:
        place = folder()
    except CacheError:
        draw()
        return
    found = [read_private(place / f"{key}{suffix}") for suffix in suffixes]
    if all(data is not None for data in found):
        for suffix, data in zip(suffixes, found, strict=True):
            write_bytes(stem.with_suffix(suffix), data)
            _touch(place / f"{key}{suffix}")          # in use: pruned last
        return
    draw()
    try:
        for suffix in suffixes:
            write_private(place / f"{key}{suffix}", stem.with_suffix(suffix).read_bytes())
    except OSError:                    # a full or read-only cache: the next run draws it again
        pass


def netcdf_once(dataset, path: Path, write: Callable[[], object]) -> None:
    """`path`, results.nc of `dataset` (written by `write()`): netCDF4's bytes depend on the data, the
    attributes and the libraries alone, so a file written before for the same is copied."""
    key = digest("netcdf", _netcdf_writer(), dataset)
    drawn_once(key, path, write, (".nc",))


def _netcdf_writer() -> list[str]:
    """What turns a dataset into results.nc's bytes: xarray's and netCDF4's versions and the libraries
    netCDF4 ships (their names carry their versions and a hash of their content), read from its install
    record; importing netCDF4 (0.13 s) only where it was built against the system's libraries."""
    from importlib import metadata

    import xarray

    netcdf = metadata.distribution("netCDF4")
    shipped = sorted(str(file) for file in netcdf.files or [] if ".libs/" in str(file))
    if not shipped:
        import netCDF4

        shipped = [netCDF4.__netcdf4libversion__, netCDF4.__hdf5libversion__]
    return [xarray.__version__, netcdf.version, *shipped]


def tiled_once(pictures: list[Path], path: Path, legend: Path, tile: Callable[[], object]) -> None:
    """`path`, the tile of `pictures` with `legend` below: copied if these very pictures were tiled before."""
    key = digest("tile", _code(), _versions(), [p.read_bytes() for p in [*pictures, legend]])
    drawn_once(key, path, tile, (".png",))


def _touch(path: Path) -> None:
    try:
        os.utime(path, follow_symlinks=False)
    except OSError:
        pass


def prune(kept: dict[str, int] = KEPT) -> None:
    """Remove the oldest entries beyond `kept` files of each suffix."""
    from nxmfg.model.cache import CacheError

    try:
        entries: Iterable[os.DirEntry] = list(os.scandir(folder()))
    except (CacheError, OSError):
        return
    from nxmfg.model.files import newest_first

    for suffix, count in kept.items():
        files = [e for e in entries if e.name.endswith(suffix) and _plain_file(e)]
        for entry in newest_first(files)[count:]:
            Path(entry.path).unlink(missing_ok=True)


def _plain_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file(follow_symlinks=False)
    except OSError:
        return False
