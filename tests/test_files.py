"""model.files: one atomic-write helper for every output of the project."""

import os
import stat

import pytest

from nxmfg.model import files


def test_written_files_are_readable_by_others_and_complete(tmp_path):
    path = files.write_text(tmp_path / "report.html", "宁夏")
    assert path.read_text(encoding="utf-8") == "宁夏"
    mode = stat.S_IMODE(path.stat().st_mode)
    umask = os.umask(0o022)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # not mkstemp's private 0600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = files.write_text(tmp_path / "results.csv", "old")

    def crash(temporary):
        temporary.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(path, crash)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


# --- output folders: checked first, staged, marked while incomplete, leftovers cleaned -------------

def test_a_folder_that_cannot_be_written_is_refused_before_anything_is_made(tmp_path):
    blocker = files.write_text(tmp_path / "results.txt", "a file")
    for folder, words in [(blocker / "out", "is not a folder"), (blocker, "is not a folder"),
                          (tmp_path / ("x" * 300), "longer than 255 bytes")]:
        with pytest.raises(files.OutputError, match=words) as caught:
            files.check_writable(folder)
        assert str(caught.value).startswith(f"{folder}: ")
    assert files.check_writable(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.txt"]   # the probe left nothing


def test_a_staged_folder_appears_only_when_complete_and_keeps_no_file_of_the_last_run(tmp_path):
    out = tmp_path / "out"
    with files.staged_output(out, "simulate") as stage:
        files.write_text(stage / "results.csv", "plan")
        (stage / "charts").mkdir()
        files.write_text(stage / "charts" / "gdp.png", "plan chart")
        files.write_text(stage / "fit_out_of_sample.csv", "old")
        assert not files.is_complete(out), "a new folder is marked while it fills"
        assert not (out / "results.csv").exists()
    assert files.is_complete(out)
    assert (out / "charts" / "gdp.png").read_text() == "plan chart"
    files.write_text(out / "notes.txt", "the user's own file")
    with files.staged_output(out, "simulate") as stage:
        files.write_text(stage / "results.csv", "baseline")
        assert (out / "results.csv").read_text() == "plan", "the old results stay whole until the end"
        assert files.is_complete(out)
    assert (out / "results.csv").read_text() == "baseline"
    assert not (out / "fit_out_of_sample.csv").exists(), "a file of the last run that this run does not write"
    assert not (out / "charts" / "gdp.png").exists()
    assert (out / "notes.txt").read_text() == "the user's own file"
    assert not [p for p in out.rglob("*") if p.name.startswith(".nxmfg-staging")]


def test_a_failed_run_leaves_the_folder_as_it_was_or_none(tmp_path):
    out = tmp_path / "new" / "out"
    with pytest.raises(KeyboardInterrupt), files.staged_output(out, "compare") as stage:
        files.write_text(stage / "report.html", "half")
        raise KeyboardInterrupt
    assert not (tmp_path / "new").exists()
    out.mkdir(parents=True)
    files.write_text(out / "report.html", "old")
    with pytest.raises(RuntimeError), files.staged_output(out, "compare") as stage:
        files.write_text(stage / "report.html", "new")
        raise RuntimeError
    assert [p.name for p in out.iterdir()] == ["report.html"]
    assert (out / "report.html").read_text() == "old"


def test_a_folder_marked_from_the_start_stays_marked_after_a_failure(tmp_path):
    """A study writes its chunks straight into the folder: an interrupted one is marked INCOMPLETE."""
    out = tmp_path / "study"
    with pytest.raises(KeyboardInterrupt), files.staged_output(out, "sensitivity", keep=["chunks"],
                                                               incomplete_from_start=True):
        (out / "chunks").mkdir()
        files.write_text(out / "chunks" / "chunk_00000.npz", "finished")
        raise KeyboardInterrupt
    assert not files.is_complete(out)
    assert "nxmfg sensitivity" in (out / files.MARKER).read_text()
    with files.staged_output(out, "sensitivity", keep=["chunks"], incomplete_from_start=True) as stage:
        files.write_text(stage / "indices.csv", "done")
    assert files.is_complete(out)
    assert (out / "chunks" / "chunk_00000.npz").exists()


def test_leftovers_of_killed_runs_are_removed_and_those_of_running_ones_kept(tmp_path):
    dead = _dead_process_id()
    (tmp_path / "charts").mkdir()
    stale = [tmp_path / f".nxmfg-tmp.{dead}.abc123xy", tmp_path / "charts" / f".nxmfg-tmp.{dead}.q1w2e3r4"]
    live = [tmp_path / f".nxmfg-tmp.{os.getpid()}.abc123xy"]
    for path in stale + live:
        path.write_text("half")
    (tmp_path / f".nxmfg-staging.{dead}.x8f1a2b3").mkdir()
    (tmp_path / f".nxmfg-staging.{dead}.x8f1a2b3" / "results.csv").write_text("half")
    (tmp_path / f".nxmfg-staging.{os.getpid()}.zz11yy22").mkdir()
    removed = files.remove_stale(tmp_path)
    assert sorted(removed) == sorted(stale + [tmp_path / f".nxmfg-staging.{dead}.x8f1a2b3"])
    assert all(path.exists() for path in live)
    assert (tmp_path / f".nxmfg-staging.{os.getpid()}.zz11yy22").exists()


def _dead_process_id() -> int:
    """The id of a process that has ended (a child we started and reaped)."""
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    return int(child.stdout)


# --- input files: regular, within their size limit, UTF-8 -------------------------------------------

def test_input_files_are_refused_by_kind_size_and_encoding_before_they_are_read(tmp_path):
    from nxmfg.model.input_files import LIMITS, InputFileError, read_text

    big = tmp_path / "big.yaml"
    with open(big, "wb") as handle:
        handle.truncate(LIMITS["scenario"] + 1)
    pipe = tmp_path / "pipe.yaml"
    os.mkfifo(pipe)                         # opening it to read would block without a writer
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("description: Montréal\n".encode("latin-1"))
    for path, words in [(big, "a scenario file holds at most 1 MB"), (pipe, "not a regular file"),
                        (tmp_path, "is a folder"), (latin, r"not UTF-8 text \(byte 0xe9 on line 1\)"),
                        (tmp_path / "none.yaml", "cannot read the file")]:
        with pytest.raises(InputFileError, match=words) as caught:
            read_text(path, "scenario")
        assert str(caught.value).startswith(f"{path}: ")
    with pytest.raises(InputFileError, match="NUL byte"):   # within the data limit, so read, then refused
        read_text(big, "data")
    files.write_bytes(tmp_path / "bom.yaml", "\ufeffname: 宁夏\n".encode())
    assert read_text(tmp_path / "bom.yaml", "scenario") == "name: 宁夏\n"


def test_ctrl_c_in_a_deferred_block_arrives_when_the_block_ends():
    """A library call that deadlocks if interrupted (xarray's netCDF writer) finishes first."""
    import signal

    handler = signal.getsignal(signal.SIGINT)
    finished = []
    with pytest.raises(KeyboardInterrupt), files.interrupts_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        sum(range(10**5))                  # give the handler a chance to run inside the block
        finished.append(True)
    assert finished == [True]
    assert signal.getsignal(signal.SIGINT) is handler
    with files.interrupts_deferred():
        finished.append(True)              # no Ctrl-C: nothing raised
    assert finished == [True, True]
