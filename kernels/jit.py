"""How minidl compiles its CPU loops: the update loops (``cpu.py``) and the layer
loops (``nn/cpu.py``) alike.

``njit(function)`` is ``numba.njit`` with ``error_model="numpy"`` (numba's
default model checks every division for zero, which blocks SIMD), no fastmath
(results match the numpy references to rounding) and ``cache=True``; where no
cache directory is writable numba raises RuntimeError ("no locator available")
at decoration time, and the loop compiles without a disk cache instead.

``Loops(loop, threshold)`` compiles a loop twice, serially (its ``prange`` a
plain ``range``) and with ``parallel=True``, and runs the parallel variant
for sizes from ``threshold()`` on.
"""
from __future__ import annotations

import threading
import types
import warnings
from typing import Any, Callable, Iterator

import numba

CACHE_WARNING = ("minidl.kernels: numba found no writable cache directory, so the kernels "
                 "compile without a disk cache (set NUMBA_CACHE_DIR to a writable directory)")

Dispatcher = numba.core.dispatcher.Dispatcher

# numba's workqueue threading layer (its fallback where neither OpenMP nor TBB
# loads) aborts the process when two threads enter parallel code at once, and
# one parallel loop already uses every core: parallel runs go one at a time.
_PARALLEL_LOCK = threading.Lock()


def njit(function: Callable, **options: Any) -> Dispatcher:
    """numba.njit(function, error_model="numpy", cache=True, **options), without
    the cache where no cache directory is writable."""
    try:
        return numba.njit(function, error_model="numpy", cache=True, **options)
    except RuntimeError:
        warnings.warn(CACHE_WARNING, RuntimeWarning, stacklevel=2)
        return numba.njit(function, error_model="numpy", **options)


class Loops:
    """A loop compiled serially and in parallel; ``run(size, *args)`` picks one.

    ``threshold`` is called at each run, so a module's threshold constant can
    be changed (or monkeypatched) after the loops are compiled.
    """

    def __init__(self, loop: Callable, threshold: Callable[[], int]):
        # numba's disk cache keys a function by its qualified name and bytecode,
        # not by ``parallel``: the parallel variant compiles a renamed copy.
        twin = types.FunctionType(loop.__code__, loop.__globals__, loop.__name__ + "_parallel")
        twin.__qualname__ = loop.__qualname__ + "_parallel"
        self.serial, self.parallel = njit(loop), njit(twin, parallel=True)
        self._threshold = threshold

    def __iter__(self) -> Iterator[Dispatcher]:
        return iter((self.serial, self.parallel))

    def pick(self, size: int) -> Dispatcher:
        """The variant for a loop over ``size`` elements."""
        return self.parallel if size >= self._threshold() else self.serial

    def run(self, size: int, *args: Any) -> None:
        """The variant for ``size`` elements, called on ``args``."""
        loop = self.pick(size)
        if loop is self.serial:
            return loop(*args)
        with _PARALLEL_LOCK:
            return loop(*args)
