"""minidl.kernels: the cpu backend against the numpy reference, and backend choice."""
from __future__ import annotations

import importlib.util
import os
import platform
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numba
import numpy as np
import pytest

import minidl.kernels as kernels
from minidl.kernels import cpu, reference, rules


def load_script(path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The option grid and the driver shared with the cuda checks (simulator and GPU).
CHECK = load_script(Path(__file__).parent / "cudasim" / "kernels_check.py")
STEPS = 50
SMALL_THRESHOLD = 100  # monkeypatched PARALLEL_THRESHOLD: 37 runs serially, 1000 in parallel
SIZES = (37, 1000)


@pytest.fixture
def small_threshold(monkeypatch):
    monkeypatch.setattr(cpu, "PARALLEL_THRESHOLD", SMALL_THRESHOLD)


@pytest.mark.parametrize("n", SIZES, ids=["serial", "parallel"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("update,options", CHECK.CASES,
                         ids=[f"{u}-{'-'.join(f'{k}={v}' for k, v in o.items())}"
                              for u, o in CHECK.CASES])
def test_cpu_matches_reference(small_threshold, update, options, dtype, n):
    expected = CHECK.run_case(reference, update, options, n, dtype, STEPS)
    got = CHECK.run_case(cpu, update, options, n, dtype, STEPS)
    for e, g in zip(expected, got):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, e, **CHECK.TOLERANCE[dtype])
    assert not np.allclose(got[0], CHECK.run_case(cpu, update, options, n, dtype, 0)[0])


@pytest.mark.needs_jit
@pytest.mark.parametrize("update", cpu.UPDATES)
def test_float32_loops_are_compiled_for_float32_scalars(small_threshold, update):
    options = next(o for u, o in CHECK.CASES if u == update)
    for n in SIZES:
        assert CHECK.run_case(cpu, update, options, n, np.float32, 2)[0].dtype == np.float32
    for dispatcher in cpu.LOOPS[update]:
        float32_signatures = [s for s in dispatcher.signatures if str(s[0].dtype) == "float32"]
        assert float32_signatures, f"{update} was not compiled for float32"
        for signature in float32_signatures:
            assert "float64" not in str(signature), signature


def packed_sqrt_count(error_model: str) -> int:
    """Packed float32 square roots (vsqrtps) in the serial RMSprop loop compiled anew,
    with the module's jit options, around the RMSprop rule compiled with
    ``error_model`` (the divisions are in the rule), for float32 arguments."""
    rules_copy = types.ModuleType("rules_copy")
    rules_copy.rmsprop = numba.njit(rules.rmsprop.py_func, error_model=error_model)
    function = cpu._rmsprop_loop
    options = dict(cpu.LOOPS["rmsprop"].serial.targetoptions)
    options.pop("nopython")  # implied by njit
    loop = numba.njit(types.FunctionType(function.__code__,
                                         {**function.__globals__, "rules": rules_copy}),
                      **options)
    arrays = [np.ones(64, np.float32)] * 3 + [np.zeros(0, np.float32)] * 2
    loop(*cpu.loop_arguments("rmsprop", *arrays, 0.01, 0.99, 1e-8, 0.0, 0.0, False, False,
                             False))
    return len(re.findall(r"\bv?sqrtps\b", loop.inspect_asm(loop.signatures[0])))


@pytest.mark.needs_jit
@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 assembly check")
def test_float32_loop_vectorises():
    assert "fastmath" not in cpu.LOOPS["rmsprop"].serial.targetoptions
    assert "fastmath" not in rules.rmsprop.targetoptions
    assert packed_sqrt_count(rules.rmsprop.targetoptions["error_model"]) > 0
    assert packed_sqrt_count("python") == 0  # numba's zero-division checks block SIMD


@pytest.mark.needs_jit
def test_parallel_variant_is_used_above_the_threshold(small_threshold):
    assert cpu.LOOPS["rmsprop"].pick(SMALL_THRESHOLD - 1) is cpu.LOOPS["rmsprop"].serial
    assert cpu.LOOPS["rmsprop"].pick(SMALL_THRESHOLD) is cpu.LOOPS["rmsprop"].parallel
    assert cpu.LOOPS["rmsprop"].parallel.targetoptions.get("parallel")
    assert not cpu.LOOPS["rmsprop"].serial.targetoptions.get("parallel")


def test_centered_rmsprop_stays_finite_on_near_constant_gradients():
    """v - m*m is ~0 and rounds below 0: the clamp keeps sqrt real where PyTorch's NaNs."""
    n, steps, alpha = 64, 20_000, 0.99
    rng = np.random.default_rng(0)
    base = rng.uniform(0.5, 2.0, n).astype(np.float32)
    noise = (rng.standard_normal((steps, n)) * 1e-6).astype(np.float32)
    grads = base + noise * base

    v, m = np.zeros(n, np.float32), np.zeros(n, np.float32)
    a, one_minus_a = np.float32(alpha), np.float32(1 - alpha)
    unclamped_nan = False
    with np.errstate(invalid="ignore"):
        for g in grads:
            v = v * a + one_minus_a * g * g
            m = m + one_minus_a * (g - m)
            unclamped_nan |= bool(np.isnan(np.sqrt(v - m * m)).any())
    assert unclamped_nan, "the unclamped float32 formula should go NaN on these gradients"

    for backend in (reference, cpu):
        param = np.ones(n, np.float32)
        square_avg, grad_avg = np.zeros(n, np.float32), np.zeros(n, np.float32)
        unused = np.zeros(0, np.float32)
        for g in grads:
            backend.rmsprop(param, g, square_avg, grad_avg, unused, 1e-4, alpha, 1e-8, 0.0, 0.0,
                            True, False, False)
        assert np.isfinite(param).all(), backend.name
        assert np.isfinite(square_avg).all() and np.isfinite(grad_avg).all(), backend.name


@pytest.mark.parametrize("backend", [reference, cpu], ids=["reference", "cpu"])
def test_bad_arrays_raise(backend):
    f32 = np.zeros(8, np.float32)
    empty = np.zeros(0, np.float32)
    with pytest.raises(ValueError, match="shape"):
        backend.adagrad(f32.copy(), np.zeros(7, np.float32), f32.copy(), 0.1, 0, 0, 1e-10, False, 1)
    with pytest.raises(ValueError, match="shape"):  # a used buffer given as zero-length
        backend.sgd(f32.copy(), f32, empty, 0.1, 0.9, 0.0, 0.0, False, False, 1)
    with pytest.raises(ValueError, match=r"shape: \(7,\) for argument 4 "):  # momentum_buffer
        backend.rmsprop(f32.copy(), f32, f32.copy(), empty, np.zeros(7, np.float32), 0.1, 0.99,
                        1e-8, 0, 0.9, False, False, False)
    with pytest.raises(ValueError, match="shape"):
        backend.rmsprop(np.zeros((2, 4), np.float32), f32, f32, empty, empty, 0.1, 0.99, 1e-8, 0,
                        0, False, False, False)
    with pytest.raises(TypeError, match="dtype: float64 for argument 1 "):
        backend.rmsprop(f32.copy(), np.zeros(8), f32.copy(), empty, empty, 0.1, 0.99, 1e-8, 0, 0,
                        False, False, False)
    with pytest.raises(TypeError, match="dtype: float64 for argument 4 "):  # unused ones too
        backend.adam(f32.copy(), f32, f32.copy(), f32.copy(), np.zeros(0), 0.1, 0.9, 0.999,
                     1e-8, 0, False, False, False, 1)
    with pytest.raises(TypeError, match="param dtype: int64"):
        backend.sgd(np.zeros(8, np.int64), f32, empty, 0.1, 0.0, 0.0, 0.0, False, False, 1)


@pytest.mark.parametrize("backend", [reference, cpu], ids=["reference", "cpu"])
def test_host_array_api(backend):
    assert backend.on_host and backend.name in kernels.BACKENDS
    host = np.arange(5, dtype=np.float32)
    assert backend.to_device(host) is host
    zeros, full = backend.zeros(5, np.float64), backend.full(5, 0.5, np.float32)
    assert zeros.dtype == np.float64 and not zeros.any()
    assert full.dtype == np.float32 and (full == 0.5).all()
    backend.copy_from_host(full, host)
    np.testing.assert_array_equal(full, host)
    out = np.empty(5, np.float32)
    backend.copy_to_host(host * 2, out)
    np.testing.assert_array_equal(out, host * 2)
    backend.synchronize()


# -- backend choice ---------------------------------------------------------

@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(kernels, "cuda_problem", lambda: "no CUDA GPU device found")
    monkeypatch.delenv("MINIDL_DEVICE", raising=False)


def test_resolve_auto_picks_cuda_only_when_usable(no_gpu, monkeypatch):
    assert kernels.resolve() == "cpu"
    monkeypatch.setattr(kernels, "cuda_problem", lambda: None)
    assert kernels.resolve("auto") == "cuda"


def test_resolve_explicit_names_and_errors(no_gpu):
    assert kernels.resolve("cpu") == "cpu"
    assert kernels.resolve("reference") == "reference"
    with pytest.raises(kernels.BackendUnavailable, match="no CUDA GPU device found"):
        kernels.resolve("cuda")
    valid = r"'auto', 'reference', 'cpu', 'cuda'"
    with pytest.raises(ValueError, match=rf"Invalid device: 'tpu'.*{valid}"):
        kernels.resolve("tpu")
    assert issubclass(kernels.BackendUnavailable, RuntimeError)


def test_minidl_device_replaces_auto_only(no_gpu, monkeypatch):
    monkeypatch.setenv("MINIDL_DEVICE", "reference")
    assert kernels.resolve() == "reference"
    assert kernels.resolve("cpu") == "cpu"
    assert kernels.load() is reference
    monkeypatch.setenv("MINIDL_DEVICE", "")
    assert kernels.resolve() == "cpu"
    monkeypatch.setenv("MINIDL_DEVICE", "cuda")
    with pytest.raises(kernels.BackendUnavailable, match="no CUDA GPU device found"):
        kernels.resolve()
    monkeypatch.setenv("MINIDL_DEVICE", "gpu0")
    with pytest.raises(ValueError, match="Invalid device: 'gpu0'.*MINIDL_DEVICE"):
        kernels.resolve()


def test_load(no_gpu):
    assert kernels.load("reference") is reference
    assert kernels.load("cpu") is cpu
    with pytest.raises(kernels.BackendUnavailable, match="cuda backend is unavailable: no CUDA"):
        kernels.load("cuda")
    with pytest.raises(ValueError, match="Invalid device: 'numpy'"):
        kernels.load("numpy")


def test_cuda_problem_names_missing_numba_cuda(monkeypatch):
    real_find_spec = kernels.importlib.util.find_spec
    monkeypatch.setattr(kernels.importlib.util, "find_spec",
                        lambda name, *a: None if name == "numba_cuda" else real_find_spec(name, *a))
    assert kernels.cuda_problem() == "numba-cuda is not installed (pip install 'minidl[cuda]')"


def test_cuda_problem_names_the_numpy_row_stack_incompatibility(monkeypatch):
    if kernels.importlib.util.find_spec("numba_cuda") is None:
        pytest.skip("numba-cuda is not installed")
    monkeypatch.delattr(np, "row_stack", raising=False)
    monkeypatch.setattr(np, "__version__", "2.5.0")
    monkeypatch.setattr(kernels.importlib.metadata, "version", lambda name: "0.30.4")
    problem = kernels.cuda_problem()
    assert "numba-cuda 0.30.4 calls np.row_stack, which NumPy 2.5.0 removed" in problem
    assert "install numpy<2.5, e.g. pip install 'minidl[cuda]'" in problem
    monkeypatch.setattr(kernels.importlib.metadata, "version", lambda name: "0.31.0")
    assert "row_stack" not in (kernels.cuda_problem() or "")


def test_cuda_problem_never_raises_and_load_cuda_reports_it():
    problem = kernels.cuda_problem()
    assert problem is None or isinstance(problem, str)
    if problem is None:
        pytest.skip("CUDA is usable here")
    with pytest.raises(kernels.BackendUnavailable, match="cuda backend is unavailable"):
        kernels.load("cuda")


# -- import-time behaviour, each in a fresh process ---------------------------

def python(code: str, **env: str) -> subprocess.CompletedProcess:
    # cwd: not the repository root, whose minidl/ would shadow the installed package.
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, **env),
                          cwd=Path(__file__).parent)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_importing_kernels_and_cpu_does_not_import_numba_cuda():
    done = python("""
        import sys
        import minidl.kernels, minidl.kernels.cpu, minidl.kernels.reference
        print(sorted(m for m in sys.modules
                     if m == "numba.cuda" or m.startswith(("numba.cuda.", "numba_cuda"))))
        """)
    assert done.stdout.strip() == "[]"


def test_cuda_problem_reports_a_failing_numba_cuda_import():
    done = python("""
        import sys
        sys.modules["numba.cuda"] = None  # makes `from numba import cuda` raise ImportError
        import minidl.kernels as kernels
        print(kernels.cuda_problem())
        """, NUMBA_CUDA_DRIVER="/a/driver/libcuda.so")   # past the driver check, to the import
    assert done.stdout.startswith("numba.cuda cannot be imported: ModuleNotFoundError: import of")


def test_a_missing_driver_library_is_found_without_importing_numba_cuda():
    done = python("""
        import sys
        import minidl.kernels as kernels
        kernels._DRIVER_NAMES = ("libcuda-that-is-not-there.so",)
        print(kernels.cuda_problem())
        print(sorted(m for m in sys.modules if m == "numba.cuda" or m.startswith("numba.cuda.")))
        """, NUMBA_ENABLE_CUDASIM="0", NUMBA_CUDA_DRIVER="")
    problem, imported = done.stdout.strip().splitlines()
    if "numba-cuda is not installed" in problem or "row_stack" in problem:
        pytest.skip(problem)
    assert problem.startswith("no CUDA driver: the library libcuda.so cannot be loaded")
    assert imported == "[]"


@pytest.mark.needs_jit
def test_cpu_kernels_work_without_a_cache_directory():
    done = python("""
        import warnings
        import numpy as np
        from numba.core import caching
        caching.CacheImpl._locator_classes = []  # no cache directory anywhere
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from minidl.kernels import cpu, reference, rules
        assert any("no writable cache directory" in str(w.message) for w in caught), caught
        results = []
        for backend in (cpu, reference):
            p = np.linspace(-1, 1, 37, dtype=np.float32)
            g = np.cos(p)
            v, empty = np.zeros(37, np.float32), np.zeros(0, np.float32)
            for _ in range(3):
                backend.rmsprop(p, g, v, empty, empty, 0.01, 0.9, 1e-8, 0, 0, False, False, False)
            results.append(p)
        np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
        assert not cpu.LOOPS["rmsprop"].serial._cache.__class__.__name__ == "FunctionCache"
        print("ok")
        """)
    assert done.stdout.strip() == "ok"
