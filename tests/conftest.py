"""Shared test fixtures."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import settings

TESTS = Path(__file__).parent

# In CI (CI=true) hypothesis draws the same examples on every run, so a submission
# is judged on the examples it was tested with here, never on a new draw.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def cudasim() -> Callable[..., subprocess.CompletedProcess]:
    """Run a script under numba's CUDA simulator, in a process of its own.

    ``NUMBA_ENABLE_CUDASIM`` must be set before numba is imported, so the
    simulator cannot share this process. ``cudasim("cudasim/x.py", *args)``
    runs ``tests/cudasim/x.py`` and fails the test, showing its output, unless
    it exits 0.
    """
    def run(script: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", MINIDL_DEVICE="")
        done = subprocess.run([sys.executable, str(TESTS / script), *args], env=env,
                              capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
        return done
    return run
