"""Keep freed array memory in the process, so a training step does not page-fault.

A training step allocates the same large temporaries every time: a conv layer's
im2col columns and gradients run to megabytes. glibc's malloc hands a block
above ``M_MMAP_THRESHOLD`` to the kernel on ``free`` (munmap) and gives the
heap's free top back once it exceeds ``M_TRIM_THRESHOLD``; the next step's
allocation then maps fresh pages and touches each of them once (a page fault
per 4 KiB). glibc raises both thresholds as it sees large blocks freed, but
only partly, and on the digits CNN (benchmarks/conv.py) a step spent about
half its time in those faults: 1.8 ms a step, 0.91 ms with the thresholds set
here. (A process that has imported torch did not show the faults either, which
is why benchmarks/conv.py, run beside PyTorch, missed them; see
benchmarks/conv_alone.py.)

``import minidl`` sets, on glibc only and unless the environment already sets
``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_``:

    M_MMAP_THRESHOLD = 16 MiB   blocks below it come from the heap and are reused
    M_TRIM_THRESHOLD = 32 MiB   free heap top kept before returning it to the system

so the process keeps up to about 32 MiB of freed memory for reuse.
"""
from __future__ import annotations

import ctypes
import os

MMAP_THRESHOLD = 16 << 20
TRIM_THRESHOLD = 32 << 20
MALLOC_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3   # mallopt parameters, glibc's malloc.h


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):   # not a glibc system
        return False


def keep_freed_memory_by_default() -> bool:
    """Set the two thresholds (see the module docstring); ``import minidl`` calls
    this. True if they were set, False on another C library or when the
    environment chooses."""
    if not _glibc():
        return False
    if any(name in os.environ for name in MALLOC_ENV):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
