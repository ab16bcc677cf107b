"""Checkpoints: model, optimizer, RNG states and extra values in one .npz, no pickle.

``save(path, model, optimizer, loader=loader, epoch=3)`` writes one .npz file
(``np.load(path, allow_pickle=False)`` reads it) with two kinds of entries:

    model/0.weight, optimizer/state/0/square_avg, ...   every array, under its path
    minidl_checkpoint                                   UTF-8 JSON (a uint8 array):
        {"format": "minidl.checkpoint", "version": 1, "tree": ...}

The tree is the checkpoint's nested dicts, lists and numbers as JSON, with
each array replaced by a reference to its entry. Tuples, dicts with non-str
keys (the optimizer's parameter indices) and numpy scalars are tagged so that
``load`` gives back the same types: ``{"__minidl__": "tuple", "items": [...]}``.

The file is written atomically: into a temporary file in the same directory,
flushed and fsynced, then renamed over ``path`` with ``os.replace``. A crash
mid-save leaves the previous checkpoint as it was, and a temporary file
``.NAME.PID.XXXXXXXX.tmp``: the next save to ``path`` removes those whose
process PID is no longer running (on POSIX systems). ``save`` refuses model
or optimizer arrays holding nan or inf, the weights of a diverged run, unless
``allow_nonfinite=True``.

Resuming bit-identically needs the random state too: ``save`` records minidl's
global generator (init, dropout, shuffling by unseeded loaders) and, given
``loader=``, a seeded DataLoader's own generator; ``restore_rng(ckpt, loader)``
puts them back. So a resumed run, after

    ckpt = load(path)
    model.load_state_dict(ckpt["model"]); optimizer.load_state_dict(ckpt["optimizer"])
    restore_rng(ckpt, loader)

draws the same numbers as one that was never interrupted.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
from collections.abc import Mapping
from typing import Any

import numpy as np

from .data import DataLoader
from .random import generator

__all__ = ["CheckpointError", "save", "load", "rng_state", "restore_rng", "FORMAT", "VERSION"]

FORMAT = "minidl.checkpoint"
VERSION = 1
META_KEY = "minidl_checkpoint"
TAG = "__minidl__"
_RESERVED_KEYS = {META_KEY, "file", "allow_pickle"}  # np.savez's own argument names


class CheckpointError(ValueError):
    """A file that is not a checkpoint ``load`` can read; the message says why."""


# -- random states ---------------------------------------------------------------------
def rng_state(loader: DataLoader | None = None) -> dict[str, Any]:
    """minidl's global generator state and, for a seeded ``loader``, its own."""
    own = None if loader is None else loader.generator
    return {"minidl": generator().bit_generator.state,
            "loader": None if own is None else own.bit_generator.state}


def restore_rng(checkpoint: Mapping[str, Any], loader: DataLoader | None = None) -> None:
    """Put back the generator states that ``save`` recorded in ``checkpoint["rng"]``.

    The global generator is restored in place, so objects holding it see the
    change; so is ``loader``'s own generator when the loader is given.
    """
    if "rng" not in checkpoint:
        raise CheckpointError("the checkpoint holds no 'rng' entry to restore")
    state = checkpoint["rng"]
    generator().bit_generator.state = state["minidl"]
    if loader is None:
        return
    own = loader.generator
    if (own is None) != (state["loader"] is None):
        saved = "no loader state" if state["loader"] is None else "a seeded loader's state"
        given = "seeded" if own is not None else "unseeded (it shuffles with the global generator)"
        raise CheckpointError(f"restore_rng: the checkpoint holds {saved}, but the loader is "
                              f"{given}; save with loader= a loader made with the same seed")
    if own is not None:
        own.bit_generator.state = state["loader"]


# -- the tree <-> JSON + arrays -------------------------------------------------------------
class _Encoder:
    """Turns the checkpoint's tree into JSON values, collecting its arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _key(self, path: list[str]) -> str:
        base = "/".join(path)
        key, count = base, 0
        while key in self.arrays or key in _RESERVED_KEYS:
            count += 1
            key = f"{base}#{count}"
        return key

    @staticmethod
    def _dict_key(key: Any, where: str) -> Any:
        key = key.item() if isinstance(key, np.generic) else key
        if not (key is None or isinstance(key, (bool, int, float, str))):
            raise TypeError(f"checkpoint cannot store {where!r}: a dict key of "
                            f"type {type(key).__name__} ({key!r})")
        return key

    def encode(self, value: Any, path: list[str]) -> Any:
        where = "/".join(path)
        if isinstance(value, (np.ndarray, np.generic)):
            array = np.asarray(value)
            if array.dtype.hasobject:
                raise TypeError(f"checkpoint cannot store {where!r}: an array of Python "
                                f"objects (dtype object) would need pickle")
            key = self._key(path)
            self.arrays[key] = array
            return {TAG: "array" if isinstance(value, np.ndarray) else "scalar", "key": key}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self.encode(item, [*path, str(i)]) for i, item in enumerate(value)]
        if isinstance(value, tuple):
            return {TAG: "tuple",
                    "items": [self.encode(item, [*path, str(i)]) for i, item in enumerate(value)]}
        if isinstance(value, Mapping):
            if all(isinstance(key, str) for key in value) and TAG not in value:
                return {key: self.encode(item, [*path, key]) for key, item in value.items()}
            items = [[self._dict_key(key, where), self.encode(item, [*path, str(key)])]
                     for key, item in value.items()]
            return {TAG: "dict", "items": items}
        raise TypeError(f"checkpoint cannot store {where!r}: a value of type "
                        f"{type(value).__name__}; it stores arrays, numbers, str, bool, "
                        f"None, and lists, tuples and dicts of these")


def _decode(value: Any, arrays: Mapping[str, np.ndarray], path: str) -> Any:
    """The inverse of ``_Encoder.encode``; CheckpointError on anything malformed."""
    if isinstance(value, list):
        return [_decode(item, arrays, path) for item in value]
    if not isinstance(value, dict):
        return value
    if TAG not in value:
        return {key: _decode(item, arrays, path) for key, item in value.items()}
    kind = value[TAG]
    if kind in ("array", "scalar"):
        if value.get("key") not in arrays:
            raise CheckpointError(f"{path}: the entry {value.get('key')!r} is missing")
        array = arrays[value["key"]]
        return array if kind == "array" else array[()]
    if kind == "tuple" and isinstance(value.get("items"), list):
        return tuple(_decode(item, arrays, path) for item in value["items"])
    if kind == "dict" and isinstance(value.get("items"), list) \
            and all(isinstance(item, list) and len(item) == 2
                    and not isinstance(item[0], (list, dict)) for item in value["items"]):
        return {key: _decode(item, arrays, path) for key, item in value["items"]}
    raise CheckpointError(f"{path}: malformed entry tagged {kind!r} in the checkpoint tree")


# -- save and load ----------------------------------------------------------------------------
def _state(obj: Any, name: str) -> Any:
    if hasattr(obj, "state_dict"):
        return obj.state_dict()
    if not isinstance(obj, Mapping):
        raise TypeError(f"save: {name} must have state_dict() or be a state dict, "
                        f"not {type(obj).__name__} {obj!r:.60}")
    return obj


def save(path: str | os.PathLike, model: Any = None, optimizer: Any = None, *,
         loader: DataLoader | None = None, allow_nonfinite: bool = False, **extra: Any) -> None:
    """Write a checkpoint to ``path`` (exactly that name; no suffix is added).

    ``model`` and ``optimizer`` are objects with ``state_dict()`` (or state
    dicts); ``extra`` values may be arrays, numbers, str, bool, None and lists,
    tuples and dicts of these. The RNG states of ``rng_state(loader)`` are
    always stored, under "rng". Model or optimizer arrays holding nan or inf
    raise ValueError and leave ``path`` as it was, unless ``allow_nonfinite``.
    """
    if "rng" in extra:
        raise ValueError("save: 'rng' is reserved for the random generator states")
    if os.path.isdir(path):
        raise IsADirectoryError(f"save: {os.fspath(path)!r} is a directory; give the "
                                f"checkpoint a file name, e.g. {os.path.join(path, 'run.npz')!r}")
    tree: dict[str, Any] = {}
    if model is not None:
        tree["model"] = _state(model, "model")
    if optimizer is not None:
        tree["optimizer"] = _state(optimizer, "optimizer")
    tree["rng"] = rng_state(loader)
    tree.update(extra)
    encoder = _Encoder()
    meta = {"format": FORMAT, "version": VERSION, "tree": encoder.encode(tree, [])}
    nonfinite = [key for key, array in encoder.arrays.items()
                 if key.startswith(("model/", "optimizer/")) and array.dtype.kind in "fc"
                 and not np.isfinite(array).all()]
    if nonfinite and not allow_nonfinite:
        raise ValueError(f"save: refusing to write {os.fspath(path)}: "
                         f"{', '.join(nonfinite)} hold nan or inf (did training diverge?); "
                         f"the file is left as it was (allow_nonfinite=True writes it)")
    text = json.dumps(meta, allow_nan=True)
    arrays = {**encoder.arrays, META_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    write_atomically(os.fspath(path), arrays)


def write_atomically(path: str, arrays: dict[str, np.ndarray]) -> None:
    """np.savez into a temporary sibling file, fsync, then os.replace it onto ``path``
    (also the dataset cache's writer: ``minidl.datasets.cache``)."""
    directory = os.path.dirname(os.path.abspath(path))
    _remove_stale_temporaries(directory, os.path.basename(path))
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}."
                                        f"{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as file:
            np.savez(file, allow_pickle=False, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    _fsync_directory(directory)


def _remove_stale_temporaries(directory: str, name: str) -> None:
    """Delete ``.name.PID.XXXXXXXX.tmp`` files in ``directory`` left by saves that
    were killed: those whose process PID is gone. Files of running processes
    (another save may be under way), and any other file, stay."""
    if os.name != "posix":  # os.kill(pid, 0) tests liveness only on POSIX
        return
    pattern = re.compile(re.escape(f".{name}.") + r"(\d+)\.[0-9a-f]{8}\.tmp")
    with contextlib.suppress(OSError):
        for entry in os.listdir(directory):
            match = pattern.fullmatch(entry)
            if match and not _process_alive(int(match[1])):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(directory, entry))


def _process_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (perhaps another user's); this one counts."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # it exists, but belongs to another user
        pass
    return True


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def load(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint: ``{"model": ..., "optimizer": ..., "rng": ..., **extra}``.

    Only the keys that were saved are there. Nothing is unpickled. A file that
    is not a readable checkpoint of this format version raises CheckpointError
    naming the path and the problem; a missing file raises FileNotFoundError.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, _missing(path), path)
    arrays = _read_npz(path)
    try:
        return _contents(path, arrays)
    except RecursionError:  # in json.loads or _decode: no checkpoint save writes is that deep
        raise CheckpointError(f"{path}: the checkpoint tree is nested too deeply to "
                              f"read") from None


def _contents(path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The checkpoint's tree, its arrays put back in; CheckpointError on a bad file."""
    if META_KEY not in arrays:
        raise CheckpointError(f"{path}: not a minidl checkpoint: it has no {META_KEY!r} entry "
                              f"(entries: {', '.join(sorted(arrays)) or 'none'})")
    raw = arrays.pop(META_KEY)
    try:
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"a {raw.dtype} array of shape {raw.shape}, not uint8 bytes")
        meta = json.loads(raw.tobytes().decode("utf-8"))
        if not isinstance(meta, dict):
            raise ValueError(f"a JSON {type(meta).__name__}, not an object")
    except ValueError as error:
        raise CheckpointError(f"{path}: unreadable {META_KEY!r} entry: {error}") from error
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {meta.get('version')!r}; "
                              f"this minidl reads version {VERSION}")
    if not isinstance(meta.get("tree"), dict):
        raise CheckpointError(f"{path}: the checkpoint has no tree of contents")
    return _decode(meta["tree"], arrays, path)


def _missing(path: str) -> str:
    """The message for a checkpoint path that does not exist."""
    message = os.strerror(errno.ENOENT)
    if not os.path.splitext(path)[1] and os.sep not in path:
        message += (f"; minidl.load reads checkpoints written by minidl.save: to load the "
                    f"dataset, call minidl.datasets.load({path!r})")
    return message


def _read_npz(path: str) -> dict[str, np.ndarray]:
    """Every entry of the .npz at ``path``, read eagerly so corruption shows here."""
    with open(path, "rb") as file:
        magic = file.read(6)
    if magic == b"\x93NUMPY":
        raise CheckpointError(f"{path}: a single .npy array, not a checkpoint .npz")
    if not magic.startswith(b"PK\x03\x04"):
        raise CheckpointError(f"{path}: not a checkpoint: not a .npz (zip) file, it starts "
                              f"with {magic!r}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            entries = {key: npz[key] for key in npz.files}
    except Exception as error:
        raise CheckpointError(f"{path}: not a readable checkpoint (corrupt or truncated?): "
                              f"{type(error).__name__}: {error}") from error
    for key, value in entries.items():
        if not isinstance(value, np.ndarray):  # np.load gives a member that is no .npy as bytes
            raise CheckpointError(f"{path}: the entry {key!r} is not a .npy array "
                                  f"(it holds {len(value)} raw bytes)")
    return entries
