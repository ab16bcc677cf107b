""".npz files written so that a save never destroys, and read so that a small file
never costs much: the storage under checkpoints (``checkpoint.py``) and the
dataset cache (``minidl.datasets.cache``). Nothing is ever unpickled.

Reading, ``read(source, max_bytes)``. A zip file says how large each member
is before anything is inflated, and a member's ``.npy`` header says the shape
and dtype of its array. Both are checked first:

    sum of the members' declared sizes <= max_bytes
    each member's array: its bytes fit in the member (itemsize * prod(shape))

so a 3 MB zip bomb that would inflate to 3 GB is refused at once, with no
memory spent; then each array is read into exactly its own size (the zip
reader stops at the declared size, and checks the CRC).

Writing, ``write_atomically(path, arrays)``, to a new path or over a regular file:

1. the target is checked: a directory, a character device (``/dev/null``), a
   fifo or a socket is refused; a symbolic link is followed to its file
   (the dataset cache replaces the link instead);
2. the arrays go to a temporary sibling ``.NAME.XXXXXXXXXXXXXXXX.tmp`` (a hashed
   name when NAME is long, so that a legal NAME always leaves room), created
   with the existing file's mode and locked (``flock``) while it is written;
3. it is flushed and fsynced, then ``os.replace``d onto the path, still
   locked; then the directory is fsynced.

A crash leaves the old file as it was plus a temporary file. The next save to
the same path removes the temporaries of its path that nobody holds locked and
that are older than ``STALE_AFTER`` seconds and owned by this user: a lock is
held by a live writer whatever its process id means (containers sharing a
volume have separate PID namespaces), and the age guards file systems where
locks are not shared.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import secrets
import stat
import time
import zipfile
from typing import IO, Any, BinaryIO

import numpy as np
from numpy.lib import format as npy

try:
    import fcntl
except ImportError:   # Windows: no flock; stale temporaries are then left alone
    fcntl = None      # type: ignore[assignment]

__all__ = ["FileFormatError", "read", "write", "write_atomically", "DEFAULT_MAX_BYTES"]

# The most bytes ``read`` inflates unless asked for more: far above any model
# minidl trains, far below what a zip bomb claims.
DEFAULT_MAX_BYTES = 2**30
# Seconds after which an unlocked temporary file of a save counts as abandoned.
STALE_AFTER = 600.0
NAME_MAX = 255          # the longest file name most file systems take, in bytes
_SUFFIX_LENGTH = len(".0123456789abcdef.tmp")


class FileFormatError(ValueError):
    """A file ``read`` refuses: not a .npz of plain arrays, or too large once inflated."""


# -- reading -------------------------------------------------------------------------------------
def read(source: str | BinaryIO, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, np.ndarray]:
    """Every array of the .npz ``source`` (a path or a binary file object), by name
    (the member name without ``.npy``); FileFormatError when it is no .npz of
    plain arrays or would inflate beyond ``max_bytes``."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise ValueError(f"Invalid max_bytes: {max_bytes!r} (needs an int >= 0)")
    with contextlib.ExitStack() as stack:
        file = source if hasattr(source, "read") else stack.enter_context(open(source, "rb"))
        if not _seekable(file):   # zip's directory is at the end: buffer a stream, bounded
            file = io.BytesIO(_read_at_most(file, max_bytes + 2**20))
        magic = file.read(6)
        file.seek(-len(magic), io.SEEK_CUR)
        if magic == b"\x93NUMPY":
            raise FileFormatError("a single .npy array, not a .npz")
        if not magic.startswith(b"PK\x03\x04"):
            raise FileFormatError(f"not a .npz (zip) file: it starts with {magic!r}")
        try:
            archive = stack.enter_context(zipfile.ZipFile(file))
            members = archive.infolist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            raise FileFormatError(f"corrupt or truncated: {type(error).__name__}: "
                                  f"{error}") from error
        _check_sizes(members, max_bytes)
        return {_name(member): _read_member(archive, member) for member in members}


def _seekable(file: Any) -> bool:
    try:
        return bool(file.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _read_at_most(file: IO[bytes], limit: int) -> bytes:
    data = file.read(limit + 1)
    if len(data) > limit:
        raise FileFormatError(f"the stream holds more than {limit} bytes")
    return data


def _check_sizes(members: list[zipfile.ZipInfo], max_bytes: int) -> None:
    """FileFormatError when the declared sizes exceed ``max_bytes``, before inflating."""
    total = sum(member.file_size for member in members)
    if total > max_bytes:
        largest = max(members, key=lambda member: member.file_size)
        raise FileFormatError(
            f"its {len(members)} entries would inflate to {total} bytes ({largest.filename!r} "
            f"alone to {largest.file_size}, from {largest.compress_size} stored), more than "
            f"max_bytes={max_bytes}; pass a larger max_bytes to read a file you trust")


def _name(member: zipfile.ZipInfo) -> str:
    name = member.filename
    return name[:-4] if name.endswith(".npy") else name


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> np.ndarray:
    """One member as an array, its header checked against the member's size first."""
    where = f"the entry {_name(member)!r}"
    try:
        with archive.open(member) as file:
            try:
                version = npy.read_magic(file)
            except ValueError:
                raise FileFormatError(f"{where} is not a .npy array (it holds "
                                      f"{member.file_size} raw bytes)") from None
            if version == (1, 0):
                shape, fortran, dtype = npy.read_array_header_1_0(file)
            elif version == (2, 0):
                shape, fortran, dtype = npy.read_array_header_2_0(file)
            else:
                raise FileFormatError(f"{where}: .npy format version {version} is not read")
            if dtype.hasobject:
                raise FileFormatError(f"{where} holds Python objects (dtype {dtype}), which "
                                      f"would need pickle")
            nbytes = dtype.itemsize * int(np.prod(shape, dtype=object))
            header = file.tell()
            if header + nbytes != member.file_size:
                raise FileFormatError(f"{where} claims shape {shape} of {dtype} "
                                      f"({nbytes} bytes) in {member.file_size - header}")
            data = file.read(nbytes)
            if len(data) != nbytes:
                raise FileFormatError(f"{where} is truncated: {len(data)} of {nbytes} bytes")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
        if isinstance(error, FileFormatError):
            raise
        raise FileFormatError(f"{where} is unreadable (corrupt or truncated?): "
                              f"{type(error).__name__}: {error}") from error
    array = np.frombuffer(data, dtype=dtype).copy() if nbytes else np.empty(0, dtype)
    return array.reshape(shape, order="F" if fortran else "C")


# -- writing -------------------------------------------------------------------------------------
def write(file: BinaryIO, arrays: dict[str, np.ndarray]) -> None:
    """The arrays as an uncompressed .npz into the open binary ``file``, no pickle."""
    np.savez(file, allow_pickle=False, **arrays)


def target(path: str | bytes | os.PathLike, follow_symlinks: bool = True) -> str:
    """The file a save to ``path`` writes: its symbolic links followed (else a link
    at ``path`` is itself replaced). Refuses an empty path, a directory, and
    anything that exists but is no regular file."""
    name = os.fsdecode(path)
    if not name:
        raise FileNotFoundError("an empty path '' names no file")
    resolved = os.path.realpath(name) if follow_symlinks else os.path.abspath(name)
    try:
        mode = os.stat(resolved, follow_symlinks=follow_symlinks).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode) or name.endswith(os.sep):
        raise IsADirectoryError(f"{name!r} is a directory; give the file a name, "
                                f"e.g. {os.path.join(name, 'run.npz')!r}")
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISLNK(mode):
        raise OSError(f"{name!r} is not a regular file but a device, fifo or socket; "
                      f"a save replaces only regular files")
    return resolved


def write_atomically(path: str | bytes | os.PathLike, arrays: dict[str, np.ndarray],
                     follow_symlinks: bool = True) -> None:
    """Write ``arrays`` to ``path`` so that it holds either the old file or the
    whole new one: see the module docstring. ``follow_symlinks=False`` replaces
    a symbolic link at ``path`` instead of writing to its target (for folders
    that others can write to: a planted link never redirects the write)."""
    final = target(path, follow_symlinks)
    directory, name = os.path.split(final)
    _remove_stale_temporaries(directory, name)
    temporary = os.path.join(directory, f"{_prefix(name)}.{secrets.token_hex(8)}.tmp")
    try:
        old = os.stat(final, follow_symlinks=False)
        old = old if stat.S_ISREG(old.st_mode) else None   # a link's mode is not kept
    except FileNotFoundError:
        old = None
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            _lock(file.fileno())
            if old is not None:   # keep the mode (0600 stays 0600) and, where allowed, owner
                os.chmod(file.fileno(), stat.S_IMODE(old.st_mode))
                with contextlib.suppress(OSError, AttributeError):
                    os.chown(file.fileno(), old.st_uid, old.st_gid)
            write(file, arrays)
            file.flush()
            os.fsync(file.fileno())
            if fcntl is not None:   # still locked: no clean-up takes it meanwhile
                os.replace(temporary, final)
        if fcntl is None:   # Windows renames no open file
            os.replace(temporary, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    _fsync_directory(directory)


def _prefix(name: str) -> str:
    """The start of the temporary files' names for target ``name``: ``.NAME``, or
    a hash of NAME when the whole name would not fit in NAME_MAX bytes."""
    if len(os.fsencode(name)) + 1 + _SUFFIX_LENGTH <= NAME_MAX:
        return f".{name}"
    return f".minidl-{hashlib.sha256(os.fsencode(name)).hexdigest()[:32]}"


def _lock(descriptor: int, block: bool = True) -> bool:
    """Take an exclusive flock on ``descriptor``; False when another holds it."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
    except OSError:
        if block:
            raise
        return False
    return True


def _remove_stale_temporaries(directory: str, name: str) -> None:
    """Delete this path's temporary files that no writer holds: unlocked, older than
    STALE_AFTER, and owned by this user. Any other file stays."""
    if fcntl is None:
        return
    pattern = re.compile(re.escape(_prefix(name)) + r"\.[0-9a-f]{16}\.tmp")
    with contextlib.suppress(OSError):
        for entry in os.listdir(directory):
            if pattern.fullmatch(entry):
                with contextlib.suppress(OSError):
                    _remove_if_abandoned(os.path.join(directory, entry))


def _remove_if_abandoned(path: str) -> None:
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        info = os.fstat(descriptor)
        if (stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid()
                and time.time() - info.st_mtime > STALE_AFTER
                and _lock(descriptor, block=False)
                and os.stat(path, follow_symlinks=False).st_ino == info.st_ino):
            os.remove(path)
    finally:
        os.close(descriptor)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
