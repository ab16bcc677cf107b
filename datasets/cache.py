"""The splits that ``load`` made, kept on disk, so that the next run with the same
arguments reads them back without importing scikit-learn (about 1 s of a
2-core machine's start-up, most of ``minidl train``'s).

An entry is one ``.npz`` file (read with ``allow_pickle=False``): the four
arrays of the Split and its other fields as JSON. Its name is a hash of all
that the split depends on, so a changed argument or version never reads a
stale entry:

    key = sha256(load's arguments, scikit-learn's and numpy's versions, FORMAT)

``MINIDL_CACHE_DIR`` names the folder (default ``$XDG_CACHE_HOME/minidl/datasets``,
else ``~/.cache/minidl/datasets``); ``MINIDL_CACHE_DIR=off`` turns the cache off.
Where the folder cannot be written, or an entry cannot be read, ``load`` works
as without a cache. Entries are written as checkpoints are (``minidl.checkpoint.
write_atomically``: a temporary file, fsync, ``os.replace``), so two processes
never see half an entry.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

# Bump when the way load() builds a split changes: older entries are then never read.
FORMAT = 1
ARRAYS = ("X_train", "X_test", "y_train", "y_test")


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
    try:
        versions = {package: importlib.metadata.version(package)
                    for package in ("scikit-learn", "numpy")}
        text = json.dumps({"arguments": arguments, "versions": versions, "format": FORMAT},
                          sort_keys=True)
    except (TypeError, ValueError, importlib.metadata.PackageNotFoundError):
        return None
    return where / f"{arguments['name']}-{hashlib.sha256(text.encode()).hexdigest()[:32]}.npz"


def read(path: Path | None) -> dict[str, Any] | None:
    """The Split's fields stored at ``path``, or None if there is no readable entry."""
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            fields = json.loads(str(stored["fields"]))
            fields.update((name, stored[name]) for name in ARRAYS)
    except Exception:  # a damaged or foreign file is a miss, never an error
        return None
    return fields


def write(path: Path | None, fields: dict[str, Any]) -> None:
    """Store the Split's ``fields`` at ``path``; a folder that cannot be written
    leaves things as they were."""
    if path is None:
        return
    from ..checkpoint import write_atomically

    arrays = {name: fields[name] for name in ARRAYS}
    others = json.dumps({key: value for key, value in fields.items() if key not in ARRAYS})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(str(path), {"fields": np.array(others), **arrays})
    except OSError:
        pass
