"""The splits that ``load`` made, kept on disk, so that the next run with the same
arguments reads them back without importing scikit-learn (about 1 s of a
2-core machine's start-up, most of ``minidl train``'s).

An entry is one ``.npz`` file (read by ``minidl.npz.read``: no pickle, its
inflated size bounded): the four arrays of the Split and its other fields as
JSON. Its name is a hash of all that the split depends on, so a changed
argument or version never reads a stale entry:

    key = sha256(load's arguments, scikit-learn's and numpy's versions, FORMAT)

An entry is data this process did not make: anyone who can write to the folder
could have put it there. So it is read only when

- its digest checks: ``HMAC-SHA256(secret, key text, fields, every array's
  dtype, shape and bytes)`` with a secret of this user's, made on first use in
  ``$XDG_CONFIG_HOME/minidl/cache.key`` (default ``~/.config``, mode 0600,
  outside the cache folder), so no one without the secret can forge one;
- its fields are those of a Split of this dataset: the same names, X float32
  and finite with one row per label, the features the dataset has, labels
  int64 in [0, n_classes) or finite float32 targets.

Anything else (a foreign, damaged or oversized file, a wrong field) is a miss:
the split is made again and the entry rewritten, replacing a symbolic link
planted at its name rather than writing where the link points. Without the
secret (a home that cannot be written) nothing is cached.

``MINIDL_CACHE_DIR`` names the folder (default ``$XDG_CACHE_HOME/minidl/datasets``,
else ``~/.cache/minidl/datasets``); ``MINIDL_CACHE_DIR=off`` turns the cache off.
Where the folder cannot be written, ``load`` works as without a cache. Entries
are written as checkpoints are (``minidl.npz.write_atomically``: a temporary
file, fsync, ``os.replace``), so two processes never see half an entry.
"""
from __future__ import annotations

import hashlib
import hmac
import importlib.metadata
import json
import math
import os
import secrets
from pathlib import Path
from typing import Any

import numpy as np

# Bump when the way load() builds a split changes: older entries are then never read.
FORMAT = 2
ARRAYS = ("X_train", "X_test", "y_train", "y_test")
FIELDS = {*ARRAYS, "task", "n_classes", "n_features", "feature_names", "class_names", "name",
          "target_mean", "target_std"}
KEY_BYTES = 32


def folder() -> Path | None:
    """Where entries live, or None when ``MINIDL_CACHE_DIR=off``."""
    chosen = os.environ.get("MINIDL_CACHE_DIR", "").strip()
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "minidl" / "datasets"


def entry(arguments: dict[str, Any]) -> Path | None:
    """The file for ``arguments`` (load's, as JSON-able values), or None when the
    cache is off or an argument has no JSON form (an array of blob centres)."""
    where = folder()
    if where is None:
        return None
    text = key_text(arguments)
    if text is None:
        return None
    return where / f"{arguments['name']}-{hashlib.sha256(text.encode()).hexdigest()[:32]}.npz"


def key_text(arguments: dict[str, Any]) -> str | None:
    """All that a split depends on, as JSON text; None when it has no JSON form."""
    try:
        versions = {package: importlib.metadata.version(package)
                    for package in ("scikit-learn", "numpy")}
        return json.dumps({"arguments": arguments, "versions": versions, "format": FORMAT},
                          sort_keys=True)
    except (TypeError, ValueError, importlib.metadata.PackageNotFoundError):
        return None


def secret() -> bytes | None:
    """This user's cache secret, made on first use; None where it cannot be had
    (or its file is another user's, or readable by others)."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    path = Path(base) / "minidl" / "cache.key"
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f".cache.key.{secrets.token_hex(8)}")
            draft.write_bytes(b"")
            os.chmod(draft, 0o600)
            draft.write_bytes(secrets.token_bytes(KEY_BYTES))
            try:
                os.link(draft, path)   # all or nothing, and the first writer wins
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        info = path.stat()
        if (hasattr(os, "geteuid") and info.st_uid != os.geteuid()) or info.st_mode & 0o077:
            return None
        key = path.read_bytes()
    except OSError:
        return None
    return key if len(key) == KEY_BYTES else None


def digest(key: bytes, key_text: str, fields: dict[str, Any]) -> str:
    """HMAC-SHA256 of an entry: the arguments' text, the other fields as JSON, and
    each array's dtype, shape and bytes."""
    mac = hmac.new(key, key_text.encode(), hashlib.sha256)
    mac.update(json.dumps(_others(fields), sort_keys=True).encode())
    for name in ARRAYS:
        array = np.ascontiguousarray(fields[name])
        mac.update(f"|{name}|{array.dtype.str}|{array.shape}|".encode())
        mac.update(array.tobytes())
    return mac.hexdigest()


def _others(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if key not in ARRAYS}


def read(arguments: dict[str, Any], task: str) -> dict[str, Any] | None:
    """The Split's fields stored for ``arguments``, or None when there is no entry
    whose digest and fields check (see the module docstring)."""
    from ..npz import read as read_npz

    path, text, key = entry(arguments), key_text(arguments), secret()
    if path is None or text is None or key is None or not path.is_file():
        return None
    try:
        stored = read_npz(str(path))
        fields = json.loads(str(stored.pop("fields")[()]))
        if not isinstance(fields, dict) or set(stored) != set(ARRAYS):
            return None
        fields.update(stored)
        good = hmac.compare_digest(str(fields.pop("digest", "")), digest(key, text, fields))
    except Exception:  # a damaged or foreign file is a miss, never an error
        return None
    return fields if good and _valid(fields, arguments["name"], task) else None


def _valid(fields: dict[str, Any], name: str, task: str) -> bool:
    """Whether ``fields`` are those of a Split of dataset ``name``, a ``task`` one."""
    if set(fields) != FIELDS or fields["name"] != name or fields["task"] != task:
        return False
    X_train, X_test, y_train, y_test = (fields[name] for name in ARRAYS)
    n_features, n_classes = fields["n_features"], fields["n_classes"]
    if not (X_train.dtype == X_test.dtype == np.float32 and X_train.ndim in (2, 4)
            and X_train.shape[1:] == X_test.shape[1:]
            and math.prod(X_train.shape[1:]) == n_features
            and y_train.shape == (len(X_train),) and y_test.shape == (len(X_test),)
            and len(y_train) > 0 and len(y_test) > 0
            and np.isfinite(X_train).all() and np.isfinite(X_test).all()
            and _strings(fields["feature_names"], n_features)):
        return False
    if task == "classification":
        return (isinstance(n_classes, int) and _strings(fields["class_names"], n_classes)
                and y_train.dtype == y_test.dtype == np.int64
                and all(0 <= y.min() and y.max() < n_classes for y in (y_train, y_test))
                and fields["target_mean"] is None and fields["target_std"] is None)
    return (n_classes is None and fields["class_names"] is None
            and y_train.dtype == y_test.dtype == np.float32
            and np.isfinite(y_train).all() and np.isfinite(y_test).all()
            and all(isinstance(fields[key], float) and math.isfinite(fields[key])
                    for key in ("target_mean", "target_std")))


def _strings(values: Any, count: Any) -> bool:
    return (isinstance(values, list) and len(values) == count
            and all(isinstance(value, str) for value in values))


def write(arguments: dict[str, Any], fields: dict[str, Any]) -> None:
    """Store the Split's ``fields`` for ``arguments``, with their digest; a folder
    that cannot be written, or no secret, leaves things as they were."""
    from ..npz import write_atomically

    path, text, key = entry(arguments), key_text(arguments), secret()
    if path is None or text is None or key is None:
        return
    others = json.dumps({**_others(fields), "digest": digest(key, text, fields)})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, {"fields": np.array(others),
                                **{name: fields[name] for name in ARRAYS}},
                         follow_symlinks=False)   # a link planted here redirects nothing
    except OSError:
        pass
