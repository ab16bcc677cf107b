"""minidl.malloc: after import minidl, re-allocating a step's large arrays reuses memory
instead of mapping (and page-faulting) fresh pages each time."""
import os
import subprocess
import sys

import pytest

from minidl import malloc

pytestmark = pytest.mark.skipif(not malloc._glibc(), reason="mallopt is glibc's")

# Allocate and fill three 4 MiB arrays (3072 pages), then free them, 20 times; report the
# minor page faults. (glibc, left alone, returns the 12 MiB free heap top to the system.)
FAULTS = """
import resource, sys
import numpy as np
if sys.argv[1] == "minidl":
    import minidl  # noqa: F401
arrays = [np.ones(1 << 20, np.float32) for _ in range(3)]
del arrays
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    arrays = [np.ones(1 << 20, np.float32) for _ in range(3)]
    del arrays
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(*args: str, env: dict[str, str] | None = None) -> int:
    env = {**{k: v for k, v in os.environ.items() if k not in malloc.MALLOC_ENV}, **(env or {})}
    out = subprocess.run([sys.executable, "-c", FAULTS, *args], env=env, check=True,
                         capture_output=True, text=True)
    return int(out.stdout)


def test_import_minidl_stops_the_page_faults_of_repeated_large_arrays():
    assert faults("numpy") > 10 * 1024     # glibc's defaults: fresh pages every time
    assert faults("minidl") < 1000         # minidl's thresholds: the freed block is reused


def test_the_environment_keeps_its_choice():
    assert faults("minidl", env={"MALLOC_MMAP_THRESHOLD_": "131072"}) > 10 * 1024


def test_the_call_reports_what_it_did(monkeypatch):
    for name in malloc.MALLOC_ENV:
        monkeypatch.delenv(name, raising=False)
    assert malloc.keep_freed_memory_by_default() is True
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert malloc.keep_freed_memory_by_default() is False
