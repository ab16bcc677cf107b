"""Saving and loading without pickle: PyTorch's ``save(obj, f)``/``load(f)``, and
checkpoints of a training run (model, optimizer, RNG states and extra values).

Both forms write one .npz file (``np.load(path, allow_pickle=False)`` reads it)
with two kinds of entries:

    model/0.weight, optimizer/state/0/square_avg, ...   every array, under its path
    minidl_checkpoint                                   UTF-8 JSON (a uint8 array):
        {"format": "minidl.checkpoint", "version": 1, "tree": ...}     a checkpoint
        {"format": "minidl.checkpoint", "version": 1, "object": ...}   save(obj, f)

The tree (or object) is the saved nested dicts, lists and numbers as JSON, with
each array replaced by a reference to its entry. Tensors, tuples, dicts with
non-str keys (the optimizer's parameter indices) and numpy scalars are tagged
so that ``load`` gives back the same types: ``{"__minidl__": "tuple", "items":
[...]}``. safetensors was not chosen: it stores flat dicts of tensors only,
and an optimizer's state_dict is a nested tree of arrays and numbers.

Files are written and read through ``minidl.npz``: atomically (a crash
mid-save leaves the previous file as it was; a device, fifo or directory is
never replaced; the old file's mode is kept), and with every entry's inflated
size checked before it is read (``load(..., max_bytes=)``: a zip bomb is
refused at once). ``save`` refuses model or optimizer arrays holding nan or
inf, the weights of a diverged run, unless ``allow_nonfinite=True``.

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

import errno
import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import npz
from .data import DataLoader
from .random import generator
from .tensor import Tensor

__all__ = ["CheckpointError", "save", "load", "rng_state", "restore_rng", "FORMAT", "VERSION"]

FORMAT = "minidl.checkpoint"
VERSION = 1
META_KEY = "minidl_checkpoint"
TREE_KEY, OBJECT_KEY = "tree", "object"   # a checkpoint's contents; save(obj, f)'s obj
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
    change; so is ``loader``'s own generator when the loader is given. Every
    state is checked first: a refused restore changes no generator.
    """
    if "rng" not in checkpoint:
        raise CheckpointError("the checkpoint holds no 'rng' entry to restore")
    state = checkpoint["rng"]
    if not isinstance(state, Mapping) or set(state) != {"minidl", "loader"}:
        raise CheckpointError("restore_rng: the 'rng' entry is not a dict of the 'minidl' "
                              "and 'loader' generator states")
    own = None if loader is None else loader.generator
    if loader is not None and (own is None) != (state["loader"] is None):
        saved = "no loader state" if state["loader"] is None else "a seeded loader's state"
        given = "seeded" if own is not None else "unseeded (it shuffles with the global generator)"
        raise CheckpointError(f"restore_rng: the checkpoint holds {saved}, but the loader is "
                              f"{given}; save with loader= a loader made with the same seed")
    targets = [(generator(), state["minidl"])] + ([] if own is None else [(own, state["loader"])])
    for target, saved_state in targets:   # on a scratch copy: numpy checks the state
        try:
            type(target.bit_generator)().state = saved_state
        except (TypeError, ValueError, KeyError) as error:
            raise CheckpointError(f"restore_rng: a generator state numpy refuses: "
                                  f"{type(error).__name__}: {error}") from None
    for target, saved_state in targets:
        target.bit_generator.state = saved_state


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
        where = "/".join(path) or "the object"
        if isinstance(value, Tensor):
            key = self._key(path)
            self.arrays[key] = np.array(value._data)
            return {TAG: "tensor", "key": key, "requires_grad": bool(value.requires_grad)}
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
        hint = "; save its state_dict()" if hasattr(value, "state_dict") else ""
        raise TypeError(f"checkpoint cannot store {where!r}: a value of type "
                        f"{type(value).__name__}{hint}; it stores tensors, arrays, numbers, "
                        f"str, bool, None, and lists, tuples and dicts of these (never "
                        f"pickled objects)")


def _decode(value: Any, arrays: Mapping[str, np.ndarray], path: str) -> Any:
    """The inverse of ``_Encoder.encode``; CheckpointError on anything malformed."""
    if isinstance(value, list):
        return [_decode(item, arrays, path) for item in value]
    if not isinstance(value, dict):
        return value
    if TAG not in value:
        return {key: _decode(item, arrays, path) for key, item in value.items()}
    kind = value[TAG]
    if kind in ("array", "scalar", "tensor"):
        if value.get("key") not in arrays:
            raise CheckpointError(f"{path}: the entry {value.get('key')!r} is missing")
        array = arrays[value["key"]]
        if kind == "tensor":
            return Tensor(array, dtype=array.dtype,
                          requires_grad=value.get("requires_grad") is True)
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


def _is_destination(f: Any) -> bool:
    """Whether ``f`` is where PyTorch's ``save(obj, f)`` writes: a path or a file object."""
    return isinstance(f, (str, bytes, os.PathLike)) or hasattr(f, "write")


def save(obj: Any, f: Any = None, optimizer: Any = None, *, model: Any = None,
         loader: DataLoader | None = None, allow_nonfinite: bool = False, **extra: Any) -> None:
    """Write ``obj`` to ``f`` as PyTorch does, or a training checkpoint; the second
    argument tells the two forms apart:

        save(obj, f)                       f a path or a binary file object: PyTorch's
                                           order; obj a tensor, array, number, str, or
                                           dicts, lists and tuples of these (a state_dict)
        save(path, model, optimizer, loader=loader, **extra)   a checkpoint, below

    A checkpoint holds ``model`` and ``optimizer`` (objects with ``state_dict()``,
    or state dicts), ``extra`` values as above, and always the RNG states of
    ``rng_state(loader)`` under "rng". Its model or optimizer arrays holding nan
    or inf raise ValueError and leave ``path`` as it was, unless
    ``allow_nonfinite``. A path is written exactly (no suffix is added) and
    atomically (``minidl.npz.write_atomically``); ``load`` reads either form.
    """
    if _is_destination(f):
        given = [name for name, value in (("optimizer", optimizer), ("model", model),
                                          ("loader", loader), ("allow_nonfinite", allow_nonfinite))
                 if value is not None and value is not False] + list(extra)
        if given:
            raise TypeError(f"save(obj, f) writes one object; {', '.join(given)}: arguments of "
                            f"the checkpoint form save(path, model, optimizer, ...)")
        _write(f, _file_arrays(OBJECT_KEY, obj))
        return
    if f is not None and model is not None:
        raise TypeError("save: model given twice, as the second argument and as model=")
    _save_checkpoint(obj, model if f is None else f, optimizer, loader=loader,
                     allow_nonfinite=allow_nonfinite, **extra)


def _save_checkpoint(path: Any, model: Any, optimizer: Any, *, loader: DataLoader | None,
                     allow_nonfinite: bool, **extra: Any) -> None:
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"save: the checkpoint path must be a str, bytes or os.PathLike, "
                        f"not {type(path).__name__} (for PyTorch's save(obj, f), f is the "
                        f"path or file object)")
    if "rng" in extra:
        raise ValueError("save: 'rng' is reserved for the random generator states")
    final = npz.target(path)   # refuses '', a directory, a device: before any work
    tree: dict[str, Any] = {}
    if model is not None:
        tree["model"] = _state(model, "model")
    if optimizer is not None:
        tree["optimizer"] = _state(optimizer, "optimizer")
    tree["rng"] = rng_state(loader)
    tree.update(extra)
    arrays = _file_arrays(TREE_KEY, tree)
    nonfinite = [key for key, array in arrays.items()
                 if key.startswith(("model/", "optimizer/")) and array.dtype.kind in "fc"
                 and not np.isfinite(array).all()]
    if nonfinite and not allow_nonfinite:
        raise ValueError(f"save: refusing to write {os.fsdecode(path)}: "
                         f"{', '.join(nonfinite)} hold nan or inf (did training diverge?); "
                         f"the file is left as it was (allow_nonfinite=True writes it)")
    npz.write_atomically(final, arrays)


def _file_arrays(key: str, contents: Any) -> dict[str, np.ndarray]:
    """The .npz entries of a file holding ``contents``: its arrays, and the JSON
    metadata with ``contents`` under ``key`` (TREE_KEY or OBJECT_KEY)."""
    encoder = _Encoder()
    meta = {"format": FORMAT, "version": VERSION, key: encoder.encode(contents, [])}
    text = json.dumps(meta, allow_nan=True)
    return {**encoder.arrays, META_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}


def _write(f: Any, arrays: dict[str, np.ndarray]) -> None:
    """To a path atomically, or into an open binary file object as it is."""
    if isinstance(f, (str, bytes, os.PathLike)):
        npz.write_atomically(f, arrays)
    else:
        npz.write(f, arrays)


def load(f: Any, map_location: Any = None, *, weights_only: bool = True,
         max_bytes: int = npz.DEFAULT_MAX_BYTES) -> Any:
    """Read what ``save`` wrote to ``f`` (a path or a binary file object).

    ``save(obj, f)`` gives back ``obj``: Tensors as minidl Tensors (with their
    ``requires_grad``), numpy arrays as arrays, and the same dicts, lists,
    tuples, numbers and str. A checkpoint gives ``{"model": ..., "optimizer":
    ..., "rng": ..., **extra}``, the keys that were saved.

    Nothing is unpickled, whatever ``weights_only`` says (it is taken for
    PyTorch's signature); ``map_location`` may be None, "cpu" or a cpu device,
    where minidl's tensors live. A file that would inflate beyond ``max_bytes``
    (1 GiB unless raised; a zip bomb) or is not minidl's format raises
    CheckpointError naming the file and the problem; a missing path raises
    FileNotFoundError.
    """
    if map_location is not None and str(map_location).split(":")[0] != "cpu":
        raise ValueError(f"load: map_location={map_location!r}: minidl's tensors live in "
                         f"host memory; pass None or 'cpu'")
    where = os.fsdecode(f) if isinstance(f, (str, bytes, os.PathLike)) else repr(f)
    if isinstance(f, (str, bytes, os.PathLike)) and not os.path.exists(f):
        raise FileNotFoundError(errno.ENOENT, _missing(where), where)
    try:
        arrays = npz.read(f, max_bytes)
    except npz.FileFormatError as error:
        raise CheckpointError(f"{where}: not a readable checkpoint: {error}") from error
    try:
        return _contents(where, arrays)
    except RecursionError:  # in json.loads or _decode: no checkpoint save writes is that deep
        raise CheckpointError(f"{where}: the checkpoint tree is nested too deeply to "
                              f"read") from None


def _contents(path: str, arrays: dict[str, np.ndarray]) -> Any:
    """The file's contents, its arrays put back in; CheckpointError on a bad file."""
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
    if OBJECT_KEY in meta:
        return _decode(meta[OBJECT_KEY], arrays, path)
    if not isinstance(meta.get(TREE_KEY), dict):
        raise CheckpointError(f"{path}: the checkpoint has no tree of contents")
    return _decode(meta[TREE_KEY], arrays, path)


def _missing(path: str) -> str:
    """The message for a checkpoint path that does not exist."""
    message = os.strerror(errno.ENOENT)
    if not os.path.splitext(path)[1] and os.sep not in path:
        message += (f"; minidl.load reads checkpoints written by minidl.save: to load the "
                    f"dataset, call minidl.datasets.load({path!r})")
    return message
