"""Threads: numba's (the parallel update kernels) and BLAS's (numpy's matmul), set together.

    minidl.set_num_threads(n)    numba's threads and every loaded BLAS library's, to n
    minidl.get_num_threads()     numba's threads, as torch.get_num_threads()

The default: the matrices of a small network are small, and on them BLAS
threads cost more than they give while they compete with numba's threads. On
a 2-core machine the same 10-epoch ``fit`` took from 0.086 to 13.7 s with
OpenBLAS's default of one thread per core. So ``import minidl`` limits the
BLAS libraries already loaded (numpy's) to one thread, unless one of
``BLAS_ENV`` is set: then the user has chosen and minidl leaves BLAS alone.
numba keeps its own default, ``NUMBA_NUM_THREADS`` (one thread per core), for
the kernels that go parallel on large parameter buffers.

numba's thread count is per Python thread (numba's rule): ``set_num_threads``
sets it for the calling thread; the BLAS limit holds for the whole process.

Several worker processes on one machine must share its cores. joblib's loky
workers get NUMBA_NUM_THREADS and the BLAS variables set to their share
already, while a Dask worker's nanny and a Ray worker set ``OMP_NUM_THREADS``
(BLAS: 1, or the task's CPUs in Ray) but leave numba at one thread per core in
every worker. So the estimators train inside ``worker_share()``: in a Dask
worker's or a Ray task's process, numba gets ``OMP_NUM_THREADS`` threads (1
where it is not set), as BLAS does.
"""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, Iterator

import numpy as np
from threadpoolctl import ThreadpoolController

__all__ = ["set_num_threads", "get_num_threads", "blas_libraries", "BLAS_ENV"]

BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

# What decided the BLAS threads: "minidl's default", "the environment" or "set_num_threads".
_blas_chosen_by = "the environment"


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in numba's parallel kernels and in every BLAS library
    loaded now. ``n`` is an int from 1 to ``NUMBA_NUM_THREADS`` (numba's
    maximum, fixed when numba starts: set that variable to go higher)."""
    global _blas_chosen_by
    import numba   # here, not at import: ``import minidl`` does not need numba

    limit = numba.config.NUMBA_NUM_THREADS
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= limit:
        raise ValueError(f"Invalid number of threads: {n!r} (expected an int from 1 to "
                         f"NUMBA_NUM_THREADS={limit})")
    numba.set_num_threads(int(n))
    ThreadpoolController().limit(limits=int(n), user_api="blas")
    _blas_chosen_by = "set_num_threads"


def get_num_threads() -> int:
    """The number of threads numba's parallel kernels use (in this Python thread)."""
    import numba

    return numba.get_num_threads()


def blas_libraries() -> list[dict[str, Any]]:
    """threadpoolctl's description of each loaded BLAS library (``internal_api``,
    ``version``, ``num_threads``, ``filepath``, ...)."""
    return [info for info in ThreadpoolController().info() if info["user_api"] == "blas"]


def blas_report() -> str:
    """One line: each BLAS library, its threads and the CPU kernels it runs (OpenBLAS
    names them: "SkylakeX" uses AVX-512, "Haswell" AVX2), what chose the threads, and
    whether OPENBLAS_CORETYPE chose the kernels (OpenBLAS picks them from the CPU)."""
    libraries = blas_libraries()
    if not libraries:
        return "none loaded"
    shown = ", ".join(f"{info['internal_api']} {info.get('version') or ''} of "
                      f"{_package(info['filepath'])}: "
                      f"{info['num_threads']} thread{'s' * (info['num_threads'] != 1)}"
                      + (f" on its {info['architecture']} kernels" if info.get("architecture")
                         else "")
                      for info in libraries)
    set_vars = [f"{name}={os.environ[name]}" for name in BLAS_ENV if os.environ.get(name)]
    chosen = _blas_chosen_by + (f" {', '.join(set_vars)}" if set_vars
                                and _blas_chosen_by == "the environment" else "")
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    kernels = (f"; OPENBLAS_CORETYPE={coretype} chose the kernels" if coretype
               else "; OpenBLAS chose its kernels from the CPU")
    return f"{shown}; chosen by {chosen}{kernels}"


def _package(path: str) -> str:
    """The package that ships a library: numpy for .../numpy.libs/libopenblas.so."""
    return os.path.basename(os.path.dirname(path)).removesuffix(".libs") or path


def limit_blas_by_default() -> None:
    """One BLAS thread unless the environment sets one of ``BLAS_ENV`` (see the
    module docstring); ``import minidl`` calls this."""
    global _blas_chosen_by
    if any(os.environ.get(name) for name in BLAS_ENV):
        return
    ThreadpoolController().limit(limits=1, user_api="blas")
    _blas_chosen_by = ("minidl's default at import, for the libraries loaded then (set "
                      "OPENBLAS_NUM_THREADS or call minidl.set_num_threads to choose)")


def match_new_blas() -> None:
    """Give every BLAS library numpy's BLAS thread count, unless the environment sets
    one of ``BLAS_ENV``. For libraries loaded after ``import minidl``: scipy's OpenBLAS,
    which numba's ``np.dot`` calls inside the recurrent kernels, starts with a thread
    per core (measured: an LSTM step up to 10x slower on a busy 2-core machine)."""
    if any(os.environ.get(name) for name in BLAS_ENV):
        return
    libraries = blas_libraries()
    numpy_threads = [info["num_threads"] for info in libraries
                     if _package(info["filepath"]) == "numpy"]
    if numpy_threads:
        ThreadpoolController().limit(limits=numpy_threads[0], user_api="blas")


def _in_dask_task() -> bool:
    distributed = sys.modules.get("distributed")   # never imported here: only if in use
    if distributed is None:
        return False
    try:
        distributed.get_worker()
    except ValueError:   # not inside a worker's task
        return False
    return True


def _in_ray_task() -> bool:
    ray = sys.modules.get("ray")
    return (ray is not None and ray.is_initialized()
            and ray.get_runtime_context().get_task_id() is not None)


def worker_threads() -> int | None:
    """The numba threads a task gets in a Dask worker or a Ray task (its
    OMP_NUM_THREADS, default 1), or None outside one."""
    if not (_in_dask_task() or _in_ray_task()):
        return None
    text = os.environ.get("OMP_NUM_THREADS", "")
    return int(text) if text.isdigit() and int(text) > 0 else 1


@contextlib.contextmanager
def worker_share() -> Iterator[None]:
    """Within: at most ``worker_threads()`` numba threads in this Python thread,
    inside a Dask worker or a Ray task; elsewhere nothing changes."""
    share = worker_threads()
    if share is None:
        yield
        return
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(min(share, before))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def training_threads() -> tuple[int, list[int]]:
    """(numba's threads, each loaded BLAS library's threads) that an estimator trains
    on in this Python thread, inside ``worker_share``: submitted as a task to a Dask
    worker (``client.submit(training_threads)``) or to Ray, what its estimators get."""
    import numba

    with worker_share():
        return numba.get_num_threads(), [info["num_threads"] for info in blas_libraries()]
