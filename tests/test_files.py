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
