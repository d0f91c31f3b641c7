"""crmn_legacy.utils: atomic writes leave the old file or the new one, never a torn one or a temporary file."""

import errno
import json
import os
import stat

import pytest

from crmn_legacy import utils


def test_atomic_writes_round_trip_with_ordinary_permissions(tmp_path):
    utils.atomic_write_json(tmp_path / "a.json", {"b": 1, "a": [1, 2]})
    assert json.loads((tmp_path / "a.json").read_text()) == {"a": [1, 2], "b": 1}
    utils.atomic_write_text(tmp_path / "t.txt", "héllo\n")
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "héllo\n"
    utils.atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "b.bin").stat().st_mode) == 0o666 & ~umask  # as open() would create it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.bin", "t.txt"]


def test_a_full_disk_keeps_the_old_file_and_leaves_no_temporary(tmp_path, full_disk):
    target = tmp_path / "row.json"
    utils.atomic_write_json(target, {"old": True})
    full_disk(utils, limit=3)  # atomic_write_text writes through utils.atomic_writer
    with pytest.raises(OSError) as info:
        utils.atomic_write_json(target, {"new": True})
    assert info.value.errno == errno.ENOSPC
    assert json.loads(target.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["row.json"]


def test_an_exception_while_writing_a_new_file_leaves_nothing(tmp_path):
    with pytest.raises(KeyError):
        with utils.atomic_writer(tmp_path / "new.bin") as fh:
            fh.write(b"partial")
            raise KeyError("caller's bug")
    assert list(tmp_path.iterdir()) == []


def test_os_error_text_names_the_specific_cause():
    inner = OSError(errno.ENOSPC, "No space left on device")
    try:
        try:
            raise inner
        except OSError:
            raise OSError("File close failed (driver write request failed)")  # as h5py wraps it
    except OSError as outer:
        assert utils.os_error_text(outer) == "No space left on device"
    assert utils.os_error_text(FileNotFoundError(errno.ENOENT, "No such file or directory", "x.h5")) == \
        "x.h5: No such file or directory"
