"""minidl.kernels: the optimizer update kernels, one flat API on three backends.

    reference   plain numpy, written for clarity: the test oracle
    rules       each update's per-element math, written once as numba.njit
                functions, with the host code that prepares their constants
    cpu         numba.njit loops (serial, or parallel above a size threshold)
                that apply the rules
    cuda        numba.cuda grid-stride kernels (``cuda_kernels``) that apply
                the same rules (imported only when chosen)

Each backend module exports the same update functions with the same positional
arguments (``sgd``, ``adagrad``, ``rmsprop``, ``adam``, ``rprop``, ``adadelta``,
``adamax``, ``nadam``, ``radam``, ``asgd``, ``lion``, ``adabelief``,
``schedule_free`` and ``interpolate``, schedule-free's train/eval switch; see
``reference`` for their equations), which
work in place on flat 1-D arrays, and a small array API
(``name``, ``on_host``, ``to_device``, ``zeros``, ``full``, ``copy_from_host``,
``copy_to_host``, ``synchronize``) so an optimizer can stay backend-generic:

    backend = load(resolve("auto"))      # "cuda" where usable, else "cpu"
    backend.rmsprop(param, grad, square_avg, ...)

Every backend also exports ``adafactor`` and ``muon``, updates that see each
parameter's shape: they take the flat buffers with a table of offsets and
shapes (see ``reference.adafactor``).

This package imports nothing from minidl, and importing it (or ``.cpu``) never
imports ``numba.cuda``.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import re
from types import ModuleType

import numpy as np

BACKENDS = ("reference", "cpu", "cuda")

ROW_STACK_PROBLEM = ("numba-cuda {version} calls np.row_stack, which NumPy {numpy} removed: "
                     "install numpy<2.5, e.g. pip install 'minidl[cuda]'")


class BackendUnavailable(RuntimeError):
    """The chosen backend cannot run here; the message says what is missing."""


def _row_stack_problem() -> str | None:
    """numba-cuda <= 0.30 registers np.row_stack at import; NumPy 2.5 removed it."""
    if hasattr(np, "row_stack"):
        return None
    version = importlib.metadata.version("numba-cuda")
    major, minor = (int(part) for part in re.match(r"(\d+)\.(\d+)", version).groups())
    if (major, minor) <= (0, 30):
        return ROW_STACK_PROBLEM.format(version=version, numpy=np.__version__)
    return None


# Where numba looks for the CUDA driver besides the loader's path (WSL keeps it apart).
_DRIVER_NAMES = ("libcuda.so.1", "libcuda.so", "/usr/lib/wsl/lib/libcuda.so.1")


def _no_driver_library() -> bool:
    """True when the CUDA driver library cannot be loaded: the dlopen that numba
    would make, without importing numba.cuda (about 0.7 s on a 2-core machine).
    The simulator needs no driver, and ``NUMBA_CUDA_DRIVER`` names one of its own."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0") \
            or os.environ.get("NUMBA_CUDA_DRIVER"):
        return False
    import ctypes

    for name in _DRIVER_NAMES:
        try:
            ctypes.CDLL(name)
            return False
        except OSError:
            continue
    return True


def cuda_problem() -> str | None:
    """Why the cuda backend cannot run here, or None when it can.

    Never raises and compiles nothing: checks that numba-cuda is installed and
    importable with this NumPy and that the CUDA driver library loads, then asks
    numba whether a driver and a device are there. Under ``NUMBA_ENABLE_CUDASIM=1``
    the simulator counts as a GPU.
    """
    if importlib.util.find_spec("numba_cuda") is None:
        return "numba-cuda is not installed (pip install 'minidl[cuda]')"
    try:
        problem = _row_stack_problem()
        if problem is not None:
            return problem
        if _no_driver_library():
            return ("no CUDA driver: the library libcuda.so cannot be loaded "
                    "(install NVIDIA's driver, or set NUMBA_CUDA_DRIVER to its path)")
        from numba import cuda
    except Exception as error:  # an import that fails inside numba must not escape
        return f"numba.cuda cannot be imported: {type(error).__name__}: {error}"
    try:
        if cuda.is_available():
            return None
        driver_error = cuda.cuda_error()
    except Exception as error:
        return f"the CUDA driver cannot be initialised: {type(error).__name__}: {error}"
    if driver_error is not None:
        return f"no usable CUDA driver: {' '.join(str(driver_error).split())}"
    return "no CUDA GPU device found"


def resolve(device: str = "auto") -> str:
    """The backend name to use for ``device``.

    ``"auto"`` means the environment variable ``MINIDL_DEVICE`` when it is set
    and non-empty, else ``"cuda"`` when ``cuda_problem()`` is None, else
    ``"cpu"``. An explicit name (also one from ``MINIDL_DEVICE``) is used as
    given; ``"cuda"`` where CUDA cannot run raises ``BackendUnavailable``.
    """
    if not isinstance(device, str):
        raise TypeError(f"Invalid device: {device!r} (expected a str, one of "
                        f"{('auto', *BACKENDS)})")
    name = device
    if name == "auto":
        name = os.environ.get("MINIDL_DEVICE", "").strip() or "auto"
    if name == "auto":
        return "cuda" if cuda_problem() is None else "cpu"
    if name not in BACKENDS:
        source = "" if name == device else " (from the environment variable MINIDL_DEVICE)"
        raise ValueError(f"Invalid device: {name!r}{source}; expected one of "
                         f"{('auto', *BACKENDS)}")
    if name == "cuda":
        problem = cuda_problem()
        if problem is not None:
            raise BackendUnavailable(f"the cuda backend is unavailable: {problem}")
    return name


def load(name: str = "auto") -> ModuleType:
    """Import and return the backend module for ``name``, resolved by ``resolve``.

    ``"cuda"`` where CUDA cannot run raises ``BackendUnavailable`` naming what
    is missing, never a traceback from inside numba.
    """
    return importlib.import_module(f"{__name__}.{resolve(name)}")


__all__ = ["BACKENDS", "BackendUnavailable", "cuda_problem", "resolve", "load"]
