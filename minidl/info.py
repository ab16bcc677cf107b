"""``info()``: what minidl runs on here: versions, GPU, backend choice, threading."""
from __future__ import annotations

import importlib.metadata
import os
import platform

import numpy as np

from . import kernels


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _gpu() -> str:
    """The GPU's name, or why there is none usable."""
    problem = kernels.cuda_problem()
    if problem is not None:
        return f"none ({problem})"
    from numba import cuda

    name = cuda.get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)


def _auto_backend() -> str:
    """Which backend device="auto" picks, and why."""
    requested = os.environ.get("MINIDL_DEVICE", "").strip()
    try:
        chosen = kernels.resolve("auto")
    except Exception as error:  # an unusable MINIDL_DEVICE: report it, do not raise
        return f"error: {error}"
    if requested:
        return f"{chosen} (set by MINIDL_DEVICE={requested})"
    if chosen == "cuda":
        return "cuda (a CUDA GPU is usable; set MINIDL_DEVICE=cpu to use the CPU)"
    return f"cpu (cuda is unavailable: {kernels.cuda_problem()})"


def _touch(values: np.ndarray) -> np.ndarray:
    """A tiny array expression: compiled with ``parallel=True`` it becomes a
    parallel loop, and calling it loads numba's threading layer."""
    return values + 1.0


def _threading_layer() -> str:
    """numba's parallel threading layer: the one configured, and the one that
    actually loads on the first parallel call (made here on a tiny array)."""
    import numba   # here, not at import: ``import minidl`` does not need numba

    numba.njit(parallel=True)(_touch)(np.zeros(2))
    return f"{numba.threading_layer()} (NUMBA_THREADING_LAYER={numba.config.THREADING_LAYER})"


def info() -> str:
    """Describe the installation, print it, and return it."""
    import numba

    from . import __version__

    rows = [
        ("minidl", __version__),
        ("python", platform.python_version()),
        ("numpy", np.__version__),
        ("numba", numba.__version__),
        ("numba-cuda", _version("numba-cuda")),
        ("scikit-learn", _version("scikit-learn")),
        ("gpu", _gpu()),
        ('device "auto"', _auto_backend()),
        ("threading layer", _threading_layer()),
        ("threads", f"{numba.get_num_threads()} (NUMBA_NUM_THREADS="
                    f"{numba.config.NUMBA_NUM_THREADS})"),
    ]
    width = max(len(key) for key, _ in rows)
    text = "\n".join(f"{key:<{width}}  {value}" for key, value in rows)
    print(text)
    return text
