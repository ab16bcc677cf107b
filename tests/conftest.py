"""Shared test fixtures."""
from __future__ import annotations

import importlib.util
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import settings

TESTS = Path(__file__).parent

# Run from a source checkout (minidl imported from it, not installed), the
# tests' subprocesses, which start elsewhere, must import the same minidl.
_SOURCE = Path(importlib.util.find_spec("minidl").origin).parent.parent
if (_SOURCE / "kernels" / "__init__.py").is_file():
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(_SOURCE), *filter(None, [os.environ.get("PYTHONPATH")])])

# The dataset cache of this test run, its processes included: a new empty folder,
# so no test reads what an earlier run or the user left in ~/.cache.
os.environ["MINIDL_CACHE_DIR"] = tempfile.mkdtemp(prefix="minidl-test-cache-")
# ... and the cache's secret (in $XDG_CONFIG_HOME/minidl) is this run's too.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="minidl-test-config-")

# In CI (CI=true) hypothesis draws the same examples on every run, so a submission
# is judged on the examples it was tested with here, never on a new draw.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def jit_disabled() -> bool:
    """NUMBA_DISABLE_JIT=1: numba runs every njit function as plain Python."""
    return os.environ.get("NUMBA_DISABLE_JIT", "0").strip() not in ("", "0")


def cudasim_problem() -> str | None:
    """Why numba's CUDA simulator cannot run here, or None when it can."""
    if jit_disabled():   # the simulator path builds kernels from njit functions' py_func
        return "NUMBA_DISABLE_JIT=1: minidl's CUDA kernels are built from compiled njit rules"
    if importlib.util.find_spec("numba_cuda") is None:
        return "numba-cuda is not installed (pip install 'minidl[cuda]')"
    from minidl import kernels
    return kernels._row_stack_problem()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs_jit: inspects numba's compiled code (skipped, "
                                       "with the reason, under NUMBA_DISABLE_JIT=1)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if jit_disabled():
        skip = pytest.mark.skip(reason="NUMBA_DISABLE_JIT=1: this test inspects compiled "
                                       "numba code, which is not made without the JIT")
        for item in items:
            if "needs_jit" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def cudasim() -> Callable[..., subprocess.CompletedProcess]:
    """Run a script under numba's CUDA simulator, in a process of its own.

    ``NUMBA_ENABLE_CUDASIM`` must be set before numba is imported, so the
    simulator cannot share this process. ``cudasim("cudasim/x.py", *args)``
    runs ``tests/cudasim/x.py`` and fails the test, showing its output, unless
    it exits 0. Skips, saying why, where the simulator cannot run (no
    numba-cuda, or a NumPy that this numba-cuda cannot import with).
    """
    problem = cudasim_problem()
    if problem is not None:
        pytest.skip(f"the CUDA simulator cannot run here: {problem}")
    def run(script: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", MINIDL_DEVICE="")
        done = subprocess.run([sys.executable, str(TESTS / script), *args], env=env,
                              capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
        return done
    return run


@pytest.fixture
def forged_sizes() -> Callable[[Path], None]:
    """A function that makes a zip file a bomb's look-alike: see its docstring."""
    return _forged_sizes


def _forged_sizes(path: Path, claimed: int = 2_900_000_000) -> None:
    """Make the first member of the zip at ``path`` declare ``claimed`` inflated bytes,
    in its local header and in the central directory, as a bomb's do."""
    data = bytearray(path.read_bytes())
    local = data.index(b"PK\x03\x04")
    data[local + 22:local + 26] = struct.pack("<I", claimed)
    central = data.index(b"PK\x01\x02")
    data[central + 24:central + 28] = struct.pack("<I", claimed)
    path.write_bytes(bytes(data))
