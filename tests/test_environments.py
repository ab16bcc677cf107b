"""minidl from a source checkout, and what a bare start imports.

The checkout test copies the source tree into a fresh directory and runs what a
contributor runs first, ``python -c "import minidl"``, ``python -m minidl info``
and ``python -m pytest``, there, without PYTHONPATH: the checkout's minidl/
must import (with kernels/ and datasets/ beside it), not an installed copy.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _clean_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return {**env, "MINIDL_DEVICE": "cpu", **extra}


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=_clean_env(**env),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """The source tree as a clone has it: minidl/, kernels/, datasets/, pyproject.toml."""
    root = tmp_path_factory.mktemp("checkout")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("minidl", "kernels", "datasets"):
        shutil.copytree(ROOT / folder, root / folder, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", root)
    (root / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "conftest.py", root / "tests")
    (root / "tests" / "test_where.py").write_text(
        "import os\nimport minidl, minidl.kernels, minidl.datasets\n\n\n"
        "def test_the_checkout_is_imported():\n"
        "    for module in (minidl, minidl.kernels, minidl.datasets):\n"
        "        assert module.__file__.startswith(os.getcwd()), module.__file__\n"
        "    assert minidl.nn.Linear(2, 1)(minidl.ones(3, 2)).shape == (3, 1)\n")
    return root


def test_import_from_the_checkout_root(checkout):
    done = _run(["-c", "import minidl, minidl.kernels.cpu, minidl.datasets; "
                       "print(minidl.__file__, minidl.datasets.__file__)"], checkout)
    assert done.stdout.split() == [str(checkout / "minidl" / "__init__.py"),
                                   str(checkout / "datasets" / "__init__.py")]


def test_minidl_info_from_the_checkout_root(checkout):
    done = _run(["-m", "minidl", "info"], checkout)
    assert done.stdout.startswith("minidl ") and "threading layer" in done.stdout


def test_pytest_from_the_checkout_root(checkout):
    done = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider"], checkout)
    assert "1 passed" in done.stdout


# -- what a start imports --------------------------------------------------------------
HEAVY = ("sklearn", "scipy", "tqdm", "numba")


def _imported_after(code: str) -> list[str]:
    """Which of HEAVY a fresh interpreter has imported after running ``code``."""
    probe = (f"import sys, io, contextlib\n"
             f"with contextlib.redirect_stdout(io.StringIO()):\n    {code}\n"
             f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    return eval(_run(["-c", probe], ROOT).stdout.strip())


def test_import_minidl_imports_no_sklearn_tqdm_or_numba():
    assert _imported_after("import minidl, minidl.nn, minidl.optim, minidl.datasets") == []


def test_help_and_datasets_commands_import_nothing_heavy():
    assert _imported_after("from minidl.cli import main; main(['datasets'])") == []
    assert _imported_after(
        "from minidl.cli import main\n    try: main(['--help'])\n    except SystemExit: pass") == []


def test_building_a_cpu_optimizer_imports_numba_only_then():
    imported = _imported_after("import minidl; minidl.optim.SGD([minidl.nn.Parameter([1.0])], "
                               "device='cpu')")
    assert "numba" in imported and "sklearn" not in imported and "tqdm" not in imported


def test_dataset_summaries_match_what_load_gives():
    from minidl import datasets
    for name in datasets.names():
        split = datasets.load(name)
        samples = len(split.y_train) + len(split.y_test)
        assert datasets.summary(name) == (samples, split.n_features, split.n_classes), name
    with pytest.raises(ValueError, match="Unknown dataset"):
        datasets.summary("mnist")


# -- the suite skips, saying why, where a dependency cannot run -----------------------------
PLUGINS = {
    "numpy_2_5": "import numpy\ndel numpy.row_stack\nnumpy.__version__ = '2.5.0'\n",
    "no_numba_cuda": ("import importlib.util\n_find = importlib.util.find_spec\n"
                      "importlib.util.find_spec = lambda name, *a: None if name == "
                      "'numba_cuda' else _find(name, *a)\n"),
}


def _pytest_here(tmp_path: Path, plugin: str | None, *args: str, **env: str) -> str:
    """Run pytest on this checkout's tests with an extra plugin faking the environment."""
    extra = []
    if plugin is not None:
        (tmp_path / f"fake_{plugin}.py").write_text(PLUGINS[plugin])
        extra = ["-p", f"fake_{plugin}"]
    paths = os.pathsep.join([str(tmp_path), str(ROOT)])
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           *extra, *args], cwd=ROOT, env=_clean_env(PYTHONPATH=paths, **env),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


CUDASIM_TESTS = ("tests/test_optim_cudasim.py", "tests/test_kernels_cudasim.py")


@pytest.mark.parametrize("plugin, reason", [
    ("numpy_2_5", "calls np.row_stack, which NumPy 2.5.0 removed"),
    ("no_numba_cuda", "numba-cuda is not installed"),
])
def test_cudasim_tests_skip_with_the_reason(tmp_path, plugin, reason):
    if importlib.util.find_spec("numba_cuda") is None and plugin == "numpy_2_5":
        pytest.skip("numba-cuda is not installed here: the NumPy check is not reached")
    out = _pytest_here(tmp_path, plugin, *CUDASIM_TESTS)
    assert "2 skipped" in out and out.count(reason) == 2, out


def test_jit_inspecting_tests_skip_under_numba_disable_jit(tmp_path):
    out = _pytest_here(tmp_path, None, "tests/test_kernels.py", "-k",
                       "vectorises or parallel_variant or compiled_for_float32_scalars",
                       NUMBA_DISABLE_JIT="1")
    assert re.search(r"\b\d+ skipped, \d+ deselected", out), out   # none ran, none failed
    assert "NUMBA_DISABLE_JIT=1: this test inspects compiled" in out, out
