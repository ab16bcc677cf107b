"""minidl.set_num_threads / get_num_threads, the one-BLAS-thread default, and
``minidl info`` (issue 9: it printed only "Threading layer is not initialized"
under NUMBA_DISABLE_JIT=1)."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import numba
import pytest
from threadpoolctl import ThreadpoolController

import minidl
from minidl.threads import BLAS_ENV

MAXIMUM = numba.config.NUMBA_NUM_THREADS


def blas_threads() -> set[int]:
    return {info["num_threads"] for info in ThreadpoolController().info()
            if info["user_api"] == "blas"}


@pytest.fixture
def restore_threads():
    """Put numba's and the BLAS libraries' threads back as they were."""
    numba_threads = numba.get_num_threads()
    original = ThreadpoolController().limit(limits=None, user_api="blas")   # records them
    yield
    numba.set_num_threads(numba_threads)
    original.restore_original_limits()


def test_set_num_threads_sets_numba_and_blas_together(restore_threads):
    minidl.set_num_threads(1)
    assert minidl.get_num_threads() == numba.get_num_threads() == 1
    assert blas_threads() == {1}
    minidl.set_num_threads(MAXIMUM)
    assert minidl.get_num_threads() == MAXIMUM and blas_threads() == {MAXIMUM}


@pytest.mark.parametrize("bad", [0, -1, MAXIMUM + 1, "2", 2.0, True, None])
def test_bad_thread_counts_are_named(bad, restore_threads):
    before = (numba.get_num_threads(), blas_threads())
    with pytest.raises(ValueError, match=f"Invalid number of threads: {bad!r} .*"
                                         f"NUMBA_NUM_THREADS={MAXIMUM}"):
        minidl.set_num_threads(bad)
    assert (numba.get_num_threads(), blas_threads()) == before


def run(code: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in BLAS_ENV}
    return subprocess.run([sys.executable, *code], capture_output=True, text=True,
                          env={**clean, **env}, timeout=300)


NUMPY_BLAS = ("import minidl, threadpoolctl; print([i['num_threads'] for i in "
              "threadpoolctl.threadpool_info() if 'numpy' in i['filepath']])")


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="OpenBLAS's own default is 1 thread "
                    "on one core: the default cannot be told apart")
def test_import_limits_numpy_blas_to_one_thread_unless_the_environment_says():
    assert run(["-c", NUMPY_BLAS]).stdout.strip() == "[1]"
    assert run(["-c", NUMPY_BLAS], OPENBLAS_NUM_THREADS="2").stdout.strip() == "[2]"
    assert run(["-c", NUMPY_BLAS], OMP_NUM_THREADS="2").stdout.strip() == "[2]"


@pytest.mark.parametrize("disable_jit", ["0", "1"])
def test_info_reports_threads_and_blas_also_without_jit(disable_jit):
    done = run(["-m", "minidl", "info"], NUMBA_DISABLE_JIT=disable_jit)
    assert done.returncode == 0, done.stderr
    rows = dict(line.split(None, 1) for line in done.stdout.splitlines()
                if not line.startswith(("threading", "device")))
    assert rows["minidl"].strip() == minidl.__version__
    layer = next(line for line in done.stdout.splitlines() if line.startswith("threading"))
    assert any(name in layer for name in ("omp", "tbb", "workqueue"))
    assert ("NUMBA_DISABLE_JIT=1" in layer) == (disable_jit == "1")
    assert rows["threads"].startswith(f"{MAXIMUM} (NUMBA_NUM_THREADS={MAXIMUM}")
    assert re.search(r"openblas [\d.]+ of numpy: 1 thread on its \w+ kernels[,;]", rows["blas"])
    assert "chosen by minidl's default" in rows["blas"]
    assert re.search(r"; (OPENBLAS_CORETYPE=\w+ chose the|OpenBLAS chose its) kernels",
                     rows["blas"])
