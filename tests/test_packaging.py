"""Installed under one name: the package `nxmfg` holds everything, and every data file it reads ships."""

import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).parents[1]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def folder(package: str) -> Path:
    """The repository folder a package installs from (package-dir's src/nxmfg is a link to the root)."""
    return ROOT.joinpath(*package.split(".")[1:])


def test_every_installed_package_lives_under_nxmfg():
    assert SETUPTOOLS["package-dir"] == {"": "src"}
    assert (ROOT / "src" / "nxmfg").resolve() == ROOT.resolve() and [p.name for p in (ROOT / "src").iterdir()
                                                                     if p.name != "nxmfg.egg-info"] == ["nxmfg"]
    assert "py-modules" not in SETUPTOOLS
    for package in SETUPTOOLS["packages"]:
        assert package == "nxmfg" or package.startswith("nxmfg."), package
        code = (folder(package) / "__init__.py").is_file()
        data_only = not list(folder(package).glob("*.py")) and package in SETUPTOOLS["package-data"]
        assert code or data_only, f"{package}: neither code (__init__.py) nor a folder of package data"
    on_disk = {".".join(("nxmfg", *p.parent.relative_to(ROOT).parts)) for p in ROOT.glob("*/**/__init__.py")
               if not {"tests", ".venv", "build"} & set(p.relative_to(ROOT).parts)}
    assert on_disk <= set(SETUPTOOLS["packages"]), "a package folder that would not be installed"


def test_every_data_file_of_a_package_is_package_data():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    data = SETUPTOOLS["package-data"]
    for package in SETUPTOOLS["packages"]:
        if package == "nxmfg":
            continue
        base = folder(package).relative_to(ROOT).as_posix() + "/"
        for name in (t[len(base):] for t in tracked if t.startswith(base) and not t.endswith(".py")):
            if "/" in name and f"{package}.{name.split('/')[0]}" in SETUPTOOLS["packages"]:
                continue                                  # a subpackage's file: checked under its own name
            assert any(fnmatch.fnmatch(name, pattern) for pattern in data.get(package, [])), f"{base}{name}"


def test_the_repository_tracks_no_scratch_folder():
    """Python's tempfile names a folder tmp and 8 characters; one made in the checkout by an ad-hoc run was
    committed once with its results (efd694e). .gitignore keeps them out."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    scratch = sorted({path.split("/")[0] for path in tracked if fnmatch.fnmatch(path.split("/")[0], "tmp????????")})
    assert not scratch, f"scratch folders in the repository: {scratch}"
    ignored = subprocess.run(["git", "check-ignore", "-q", "tmpabcd1234/results.nc"], cwd=ROOT, check=False)
    assert ignored.returncode == 0, "a tmp???????? folder at the root is not ignored"


def test_no_generic_top_level_module_and_the_console_script_is_nxmfg_cli(tmp_path):
    """Outside the repository, `model` and `cli` are not importable; nxmfg.cli is."""
    code = ("import importlib.util as u, nxmfg.cli; "
            "print([n for n in ('model', 'cli', 'scenarios', 'calibration', 'sensitivity', 'api') if u.find_spec(n)])")
    found = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
    (script,) = entry_points(group="console_scripts", name="nxmfg")
    assert script.value == "nxmfg.cli:main"


def tracked_copy(folder: Path) -> Path:
    """A copy of the tracked files (links as links: src/nxmfg), where a build may write build/ and egg-info."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in tracked.split():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, folder / name, follow_symlinks=False)
    return folder


def setuptools_warnings(log: str) -> list[str]:
    """Lines of a build log that are setuptools' warnings: a line naming a warning class or setuptools' own file
    and line (pip 23 prints InformationOnly, pip 26 BuildBackendWarning), and the !! lines of a warning box."""
    return [line for line in log.splitlines()
            if "Warning" in line or line.strip() == "!!" or re.search(r"/setuptools/\S+\.py:\d+: ", line)]


def test_building_the_package_gives_no_setuptools_warning(tmp_path):
    """A newcomer's first screen: `make install` builds the package; our pyproject's package list must draw no
    warning from setuptools (four BuildBackendWarning boxes, about 100 lines, before issue 22). Builds a wheel
    as pip does for a regular install, in an isolated environment, and reads the build log."""
    source = tracked_copy(tmp_path / "source")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), "-v", str(source)],
                           capture_output=True, text=True, timeout=600)
    log = built.stdout + built.stderr
    assert built.returncode == 0, log[-2000:]
    assert not setuptools_warnings(log), "\n".join(setuptools_warnings(log))[:2000]
    (wheel,) = tmp_path.glob("nxmfg-*.whl")
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("nxmfg/calibration/data/ningxia_history.csv", "nxmfg/decision/templates/decision.html.j2",
                   "nxmfg/scenarios/templates/report.html.j2", "nxmfg/optimization/templates/summary.zh.md.j2",
                   "nxmfg/model/nxmfg.mdl", "nxmfg/cli.py"):
        assert needed in names, needed
    assert not [name for name in names if "/src/" in name or name.startswith("src/")], "the link was followed"


def test_the_editable_install_gives_no_setuptools_warning_and_adds_only_nxmfg(tmp_path):
    """`make install` is an editable install (pip install -e): setuptools drew a BuildBackendWarning box
    ("Editable installation ... folders with the same name as your package") for a root mapped to `nxmfg`.
    In a fresh venv, the install log has no warning, and the one folder it puts on sys.path holds `nxmfg`
    (this checkout's) and no generic name."""
    source = tracked_copy(tmp_path / "source")
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True, timeout=300)
    python = tmp_path / "venv" / "bin" / "python"
    built = subprocess.run([str(python), "-m", "pip", "install", "-v", "--no-deps", "-e", str(source)],   # -v: the
                           # backend's output, which the pip that `make install` upgrades to shows even with -q
                           capture_output=True, text=True, timeout=600)
    log = built.stdout + built.stderr
    assert built.returncode == 0, log[-2000:]
    assert not setuptools_warnings(log), "\n".join(setuptools_warnings(log))[:2000]
    code = ("import importlib.util as u; print(u.find_spec('nxmfg').origin); "
            "print([n for n in ('model', 'cli', 'scenarios', 'src') if u.find_spec(n)])")
    found = subprocess.run([str(python), "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    origin, generic = found.stdout.split("\n")[:2]
    assert Path(origin).resolve() == (source / "__init__.py").resolve() and generic == "[]", found.stdout
