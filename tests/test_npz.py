"""minidl.npz under hostile files and paths (issue 21): a small file never costs
much memory, and a save never destroys what was at its path."""
from __future__ import annotations

import io
import os
import stat
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from numpy.lib import format as npy

import minidl.nn as nn
from minidl import npz
from minidl.checkpoint import CheckpointError, load, save

CLAIMED = 2_900_000_000   # what the audit's 2.9 MB bomb inflated to (forged_sizes' default)


def deflated_zeros(path: Path, megabytes: int) -> None:
    """A real bomb: a .npz member of ``megabytes`` MB of zeros, deflated (~1000:1)."""
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(megabytes * 2**20, np.uint8))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("minidl_checkpoint.npy", buffer.getvalue())


def peak_memory(call) -> int:
    tracemalloc.start()
    try:
        call()
    except Exception:
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_a_zip_bomb_is_refused_before_inflating(tmp_path, forged_sizes):
    path = tmp_path / "bomb.npz"
    save(path, nn.Linear(2, 3))
    forged_sizes(path)
    with pytest.raises(CheckpointError, match=f"alone to {CLAIMED}, from \\d+ stored\\), more "
                                              f"than max_bytes=1073741824"):
        load(path)
    assert peak_memory(lambda: load(path)) < 2**20


def test_the_limit_can_be_raised_for_a_file_you_trust(tmp_path):
    path = tmp_path / "big.npz"
    deflated_zeros(path, 8)
    assert path.stat().st_size < 2**16
    with pytest.raises(CheckpointError, match="more than max_bytes=1048576; pass a larger"):
        load(path, max_bytes=2**20)
    with pytest.raises(CheckpointError, match="has no 'minidl_checkpoint'|unreadable"):
        load(path, max_bytes=2**24)   # inflated and read: it is no checkpoint, though


def test_a_header_claiming_more_than_its_member_holds_is_refused(tmp_path):
    buffer = io.BytesIO()
    npy.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False,
                                        "shape": (10**10,)})
    lying = buffer.getvalue() + bytes(16)
    path = tmp_path / "lying.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("weights.npy", lying)
    with pytest.raises(npz.FileFormatError, match="claims shape"):
        npz.read(str(path))


def test_objects_in_a_member_are_refused_without_unpickling(tmp_path):
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    path = tmp_path / "objects.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("weights.npy", buffer.getvalue())
    with pytest.raises(npz.FileFormatError, match="Python objects"):
        npz.read(str(path))


def test_a_stream_is_read_bounded(tmp_path):
    class Stream(io.RawIOBase):   # not seekable, as a pipe
        def __init__(self, data: bytes):
            self.data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            chunk = self.data.read(len(buffer))
            buffer[:len(chunk)] = chunk
            return len(chunk)

    path = tmp_path / "a.npz"
    save(np.arange(5), path)
    np.testing.assert_array_equal(load(Stream(path.read_bytes())), np.arange(5))
    with pytest.raises(CheckpointError, match="more than"):
        load(Stream(path.read_bytes()), max_bytes=16)


# -- saving never destroys ----------------------------------------------------------------
@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_a_device_is_never_replaced(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for target in ("/dev/null", fifo):
        with pytest.raises(OSError, match="not a regular file"):
            save(target, weights=np.ones(1))
        with pytest.raises(OSError, match="not a regular file"):
            save(np.ones(1), target)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode) and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_symbolic_link_is_followed_not_replaced(tmp_path):
    real = tmp_path / "real.npz"
    save(real, epoch=1)
    link = tmp_path / "link.npz"
    link.symlink_to(real)
    save(link, epoch=2)
    assert link.is_symlink() and load(real)["epoch"] == 2


def test_the_existing_files_mode_is_kept(tmp_path):
    path = tmp_path / "private.npz"
    save(path, epoch=1)
    os.chmod(path, 0o600)
    save(path, epoch=2)
    save(np.ones(2), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize("length", [244, 255])
def test_the_longest_legal_name_saves(tmp_path, length):
    path = tmp_path / ("c" * (length - 4) + ".npz")
    save(path, epoch=1)
    save(path, epoch=2)
    assert load(path)["epoch"] == 2 and os.listdir(tmp_path) == [path.name]


def test_an_empty_path_is_refused_and_writes_nothing(tmp_path, monkeypatch):
    (tmp_path / "inner").mkdir()
    monkeypatch.chdir(tmp_path / "inner")
    for call in (lambda: save("", epoch=1), lambda: save(np.ones(1), "")):
        with pytest.raises(FileNotFoundError, match="empty path"):
            call()
    assert sorted(os.listdir(tmp_path)) == ["inner"] and os.listdir(tmp_path / "inner") == []


def test_a_bytes_path_saves_and_loads(tmp_path):
    path = os.fsencode(tmp_path / "bytes.npz")
    save(path, epoch=3)
    assert load(path)["epoch"] == 3
    save(np.arange(3), path)
    np.testing.assert_array_equal(load(path), np.arange(3))
