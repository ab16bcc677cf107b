"""minidl.linalg against PyTorch's torch.linalg: values, dtypes and gradients in float32
and float64 from tests/data/linalg_vectors.npz (written by tests/data/make_linalg_vectors.py
with torch 2.13; this test needs no torch), PyTorch's refusals and LinAlgErrors; float64
gradchecks of every differentiable function; the errors' messages and info values.

Tolerances: float64 rtol 1e-8, atol 1e-10 (minidl and PyTorch may take different LAPACK
routes: pinv for lstsq, a Taylor series for matrix_exp); float32 rtol 1e-4, atol 1e-5, or
else at least as close to PyTorch's float64 value as PyTorch's float32 value is.
"""
from __future__ import annotations

import builtins
import json
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from minidl import Tensor, gradcheck
from minidl import linalg as LA

VECTORS = np.load(Path(__file__).parent / "data" / "linalg_vectors.npz", allow_pickle=False)
CASES = json.loads(str(VECTORS["cases"]))
TOLERANCES = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-8, atol=1e-10)}


def _assert_close(actual: np.ndarray, name: str, dtype: str, key: str) -> None:
    expected = VECTORS[f"{name}/{dtype}/{key}"]
    tolerance = TOLERANCES[expected.dtype.name]
    close = np.isclose(actual, expected, equal_nan=True, **tolerance)
    if dtype == "float32" and not close.all():
        exact = VECTORS[f"{name}/float64/{key}"]
        close |= np.abs(actual - exact) <= np.abs(expected - exact) + tolerance["atol"]
    if not close.all():
        np.testing.assert_allclose(actual, expected, **tolerance, err_msg=f"{name} {key}")


def _error(name: str) -> type[Exception]:
    error = str(VECTORS[f"{name}/error"])
    return LA.LinAlgError if error == "LinAlgError" else getattr(builtins, error)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_pytorch(case: dict, dtype: str) -> None:
    name = case["name"]
    arrays = [VECTORS[f"{name}/in{j}"] for j in range(len(case["inputs"]))]
    xs = [Tensor(a.astype(dtype), requires_grad=True, dtype=dtype) if a.dtype.kind == "f"
          else Tensor(a) for a in arrays]
    fn = eval(f"lambda lib, F, f64, i32, i64, {', '.join(f'x{j}' for j in range(len(xs)))}: "
              f"{case['expr']}")
    args = (minidl, F, np.float64, np.int32, np.int64, *xs)
    if f"{name}/error" in VECTORS.files:
        with pytest.raises(_error(name)):
            fn(*args)
        return
    result = fn(*args)
    outs = list(result) if isinstance(result, (tuple, list)) else [result]
    loss = None
    for k, out in enumerate(outs):
        expected = VECTORS[f"{name}/{dtype}/out{k}"]
        assert (out.shape, out.dtype) == (expected.shape, expected.dtype), f"output {k}"
        if expected.dtype.kind == "f":
            _assert_close(np.asarray(out), name, dtype, f"out{k}")
        else:
            np.testing.assert_array_equal(np.asarray(out), expected, err_msg=f"output {k}")
        if out.requires_grad:
            term = (out * Tensor(VECTORS[f"{name}/cot{k}"], dtype=out.dtype)).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()
    for j, x in enumerate(xs):
        if f"{name}/{dtype}/grad{j}" in VECTORS.files:
            grad = np.asarray(x.grad) if x.grad is not None else np.zeros(x.shape, x.dtype)
            assert grad.dtype == x.dtype
            _assert_close(grad, name, dtype, f"grad{j}")


# -- float64 gradchecks: well-conditioned inputs, symmetric ones for the symmetric functions
RNG = np.random.default_rng(7)


def _normal(*shape: int) -> Tensor:
    return Tensor(RNG.standard_normal(shape), requires_grad=True, dtype=np.float64)


def _square(*shape: int) -> Tensor:
    n = shape[-1]
    return Tensor(RNG.standard_normal(shape) + n * np.eye(n), requires_grad=True,
                  dtype=np.float64)


def _spd(*shape: int) -> Tensor:
    x = RNG.standard_normal(shape)
    return Tensor(x @ np.swapaxes(x, -1, -2) / shape[-1] + np.eye(shape[-1]),
                  requires_grad=True, dtype=np.float64)


def _sym(x: Tensor) -> Tensor:
    """The functions that read one triangle get symmetric perturbations, as in PyTorch's
    own gradchecks: their gradient is that of the symmetric matrix A stands for."""
    return (x + x.swapaxes(-1, -2)) / 2


def _weighted(t: Tensor) -> Tensor:
    """A sign-invariant, unevenly weighted function of singular vectors or eigenvectors."""
    return (t.abs() * Tensor(np.arange(1.0, t._data.size + 1).reshape(t.shape))).sum()


GRADCHECKS = {
    "vector_norm": (lambda x: LA.vector_norm(x, 3, dim=1), [_normal(3, 4)]),
    "vector_norm_inf": (lambda x: LA.vector_norm(x, float("inf")), [_normal(3, 4)]),
    **{f"matrix_norm_{o}": (lambda A, o=o: LA.matrix_norm(A, o), [_normal(2, 3, 4)])
       for o in ["fro", "nuc", float("inf"), float("-inf"), 1, -1, 2, -2]},
    "norm": (lambda A: LA.norm(A, "nuc", dim=(0, 2), keepdim=True), [_normal(3, 2, 4)]),
    "cond": (lambda A: LA.cond(A), [_normal(2, 3, 4)]),
    "cond_1": (lambda A: LA.cond(A, 1), [_square(3, 3)]),
    "vecdot": (lambda x, y: LA.vecdot(x, y), [_normal(2, 3), _normal(3)]),
    "cross": (lambda x, y: LA.cross(x, y), [_normal(2, 3), _normal(1, 3)]),
    "multi_dot": (lambda a, b, c: LA.multi_dot([a, b, c]), [_normal(3), _normal(3, 4),
                                                             _normal(4, 2)]),
    "matrix_power": (lambda A: LA.matrix_power(A, 5), [_normal(2, 3, 3)]),
    "matrix_power_negative": (lambda A: LA.matrix_power(A, -2), [_square(3, 3)]),
    "matrix_exp": (lambda A: LA.matrix_exp(A), [_normal(2, 3, 3)]),
    "vander": (lambda x: LA.vander(x, N=4), [Tensor([0.0, 1.5, -2.0], requires_grad=True,
                                                    dtype=np.float64)]),
    "inv": (lambda A: LA.inv(A), [_square(2, 3, 3)]),
    "inv_ex": (lambda A: LA.inv_ex(A).inverse, [_square(3, 3)]),
    "det": (lambda A: LA.det(A), [_square(2, 3, 3)]),
    "det_singular": (lambda A: LA.det(A), [Tensor([[1.0, 2, 3], [2, 4, 6], [1, 0, 1]],
                                                 requires_grad=True, dtype=np.float64)]),
    "slogdet": (lambda A: LA.slogdet(A).logabsdet, [_square(2, 3, 3)]),
    "solve": (lambda A, B: LA.solve(A, B), [_square(2, 3, 3), _normal(3, 2)]),
    "solve_vector": (lambda A, B: LA.solve(A, B), [_square(2, 3, 3), _normal(3)]),
    "solve_right": (lambda A, B: LA.solve(A, B, left=False), [_square(3, 3), _normal(2, 3)]),
    "solve_ex": (lambda A, B: LA.solve_ex(A, B).result, [_square(3, 3), _normal(3, 2)]),
    "solve_triangular": (lambda A, B: LA.solve_triangular(A, B, upper=True),
                         [_square(2, 3, 3), _normal(3, 2)]),
    "solve_triangular_unit_right": (
        lambda A, B: LA.solve_triangular(A, B, upper=False, left=False, unitriangular=True),
        [_square(3, 3), _normal(2, 3)]),
    "cholesky": (lambda A: LA.cholesky(_sym(A)), [_spd(2, 3, 3)]),
    "cholesky_upper": (lambda A: LA.cholesky(_sym(A), upper=True), [_spd(3, 3)]),
    "cholesky_ex": (lambda A: LA.cholesky_ex(_sym(A)).L, [_spd(3, 3)]),
    "qr": (lambda A: _weighted(LA.qr(A).Q) + _weighted(LA.qr(A).R), [_normal(2, 4, 3)]),
    "qr_wide": (lambda A: _weighted(LA.qr(A).Q) + _weighted(LA.qr(A).R), [_normal(3, 5)]),
    "svd_tall": (lambda A: sum(_weighted(t) for t in LA.svd(A, full_matrices=False)),
                 [_normal(2, 5, 3)]),
    "svd_wide": (lambda A: sum(_weighted(t) for t in LA.svd(A, full_matrices=False)),
                 [_normal(3, 5)]),
    "svd_U_only": (lambda A: _weighted(LA.svd(A, full_matrices=False).U), [_normal(3, 5)]),
    "svd_Vh_only": (lambda A: _weighted(LA.svd(A, full_matrices=False).Vh), [_normal(5, 3)]),
    "svd_full": (lambda A: _weighted(LA.svd(A).U[..., :3]), [_normal(5, 3)]),
    "svdvals": (lambda A: LA.svdvals(A), [_normal(2, 3, 4)]),
    "eigh": (lambda A: LA.eigh(_sym(A)).eigenvalues.sum() * 0 + _weighted(
        LA.eigh(_sym(A)).eigenvectors) + LA.eigh(_sym(A)).eigenvalues[..., 0].sum(),
             [_normal(2, 3, 3)]),
    "eigvalsh": (lambda A: LA.eigvalsh(_sym(A)), [_normal(2, 3, 3)]),
    "pinv_wide": (lambda A: LA.pinv(A), [_normal(3, 5)]),
    "pinv_tall": (lambda A: LA.pinv(A), [_normal(2, 5, 3)]),
    "pinv_hermitian": (lambda A: LA.pinv(_sym(A), hermitian=True), [_spd(3, 3)]),
    "lstsq": (lambda A, B: LA.lstsq(A, B).solution, [_normal(5, 3), _normal(5, 2)]),
    "lstsq_gelsd_residuals": (lambda A, B: LA.lstsq(A, B, driver="gelsd").residuals,
                              [_normal(5, 3), _normal(5, 2)]),
    "tensorinv": (lambda A: LA.tensorinv(A, 1), [Tensor(
        RNG.standard_normal((6, 2, 3)) + 3 * np.eye(6).reshape(6, 2, 3), requires_grad=True,
        dtype=np.float64)]),
    "tensorsolve": (lambda A, B: LA.tensorsolve(A, B), [Tensor(
        RNG.standard_normal((2, 3, 6)) + 3 * np.eye(6).reshape(2, 3, 6), requires_grad=True,
        dtype=np.float64), _normal(2, 3)]),
}


@pytest.mark.parametrize("name", GRADCHECKS)
def test_gradcheck(name: str) -> None:
    fn, inputs = GRADCHECKS[name]
    assert gradcheck(fn, *inputs)


def test_a_wrong_backward_fails_the_gradcheck() -> None:
    """The gradchecks above can fail: inv with its gradient's transpose left out does."""
    def wrong_inv(A: Tensor) -> Tensor:
        inverse = np.linalg.inv(A._data)
        return Tensor._make(inverse, (A,), lambda g: (-(inverse @ g @ inverse),))
    with pytest.raises(minidl.GradcheckError):
        gradcheck(wrong_inv, _square(3, 3))


# -- errors and degenerate cases ---------------------------------------------------------
def test_linalg_error_is_a_runtime_error_with_pytorch_message() -> None:
    assert issubclass(LA.LinAlgError, RuntimeError)
    singular = np.ones((2, 3, 3))
    singular[0] = np.eye(3)
    singular[1, :, 2] = 0
    with pytest.raises(LA.LinAlgError, match=r"\(Batch element 1\): The diagonal element 2 "
                                             r"is zero.*singular"):
        LA.inv(Tensor(singular))
    not_pd = np.eye(3)
    not_pd[2, 2] = -1
    with pytest.raises(LA.LinAlgError, match="leading minor of order 3 is not "
                                             "positive-definite"):
        LA.cholesky(Tensor(not_pd))


def test_info_of_the_ex_functions() -> None:
    """As LAPACK's: the first zero pivot of the LU factorisation, the order of the first
    leading minor that is not positive-definite; the failed results are nan."""
    a = np.array([[[1.0, 2], [2, 4]], [[2, 0], [0, 3]]])
    inverse, info = LA.inv_ex(Tensor(a))
    np.testing.assert_array_equal(info.numpy(), [2, 0])
    assert info.dtype == np.int32 and np.isnan(inverse.numpy()[0]).all()
    np.testing.assert_allclose(inverse.numpy()[1], np.diag([0.5, 1 / 3]))
    low, info = LA.cholesky_ex(Tensor(np.diag([1.0, 1, -1])))
    assert int(info.item()) == 3 and np.isnan(low.numpy()).all()
    upper_only = np.diag([1.0, 1, -1]) + np.tril(np.ones((3, 3)), -1) * 5   # lower: not PD
    assert int(LA.cholesky_ex(Tensor(upper_only), upper=True).info.item()) == 3
    for order in range(1, 8):   # the bisection over the leading minors finds each order
        diagonal = np.ones(7)
        diagonal[order - 1:] = -1
        stack = np.stack([np.eye(7), np.diag(diagonal)])
        np.testing.assert_array_equal(LA.cholesky_ex(Tensor(stack)).info.numpy(), [0, order])
    with pytest.raises(LA.LinAlgError):
        LA.solve_ex(Tensor(a), Tensor(np.ones(2)), check_errors=True)


@pytest.mark.parametrize("fn", [LA.inv, LA.det, LA.cholesky, LA.svd, LA.eigh, LA.qr,
                                LA.matrix_exp, LA.pinv, LA.svdvals, LA.matrix_norm])
def test_integer_input_is_refused(fn) -> None:
    with pytest.raises(RuntimeError, match="Expected a floating point"):
        fn(Tensor(np.eye(3, dtype=np.int64)))


def test_qr_without_q_or_complete_tall_has_no_gradient() -> None:
    A = _normal(4, 3)
    with pytest.raises(RuntimeError, match="mode='r'"):
        LA.qr(A, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        LA.qr(A, mode="complete").Q.sum().backward()


def test_repeated_singular_values_and_eigenvalues() -> None:
    """svdvals and eigvalsh have gradients where the values repeat (U diag(g) Vh is the
    same for every choice of the vectors); svd's and eigh's vectors have none there:
    the gradient divides by the gap, as PyTorch documents."""
    A = Tensor(np.eye(3), requires_grad=True, dtype=np.float64)
    LA.svdvals(A).sum().backward()
    np.testing.assert_allclose(A.grad.numpy(), np.eye(3))
    B = Tensor(np.eye(3), requires_grad=True, dtype=np.float64)
    LA.eigvalsh(B).sum().backward()
    np.testing.assert_allclose(B.grad.numpy(), np.eye(3))
    C = Tensor(np.eye(3), requires_grad=True, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        _weighted(LA.eigh(C).eigenvectors).backward()
    assert not np.isfinite(C.grad.numpy()).all()


def test_float32_stays_float32() -> None:
    A = Tensor(np.diag([2.0, 3.0, 4.0]).astype(np.float32), requires_grad=True)
    outputs = [LA.inv(A), LA.det(A), *LA.svd(A), *LA.eigh(A), *LA.qr(A), LA.cholesky(A),
               LA.pinv(A), LA.matrix_exp(A), LA.matrix_norm(A, "nuc"), LA.solve(A, A)]
    assert {o.dtype for o in outputs} == {np.dtype(np.float32)}
    sum(o.sum() for o in outputs).backward()
    assert A.grad.dtype == np.float32


def test_grad_fn_names_the_function() -> None:
    """Outputs of one factorisation name it, each being a slice of one hidden node."""
    A = _normal(4, 3)
    assert {t.grad_fn.name for t in LA.svd(A)} == {"svd"}
    assert {t.grad_fn.name for t in LA.qr(A)} == {"qr"}
    assert LA.inv(A[:3]).grad_fn.name == "inv"


def test_torch_svd_without_uv_gives_square_zero_factors() -> None:
    """torch.svd(A, compute_uv=False) of a 4x3 (and a 3x4) A: U and V zero-filled of
    shapes (m, m) and (n, n), whatever ``some`` says (torch 2.13), S its singular
    values with their gradient."""
    a = np.random.default_rng(0).standard_normal((2, 4, 3))
    for matrix in (a, a.transpose(0, 2, 1)):
        m, n = matrix.shape[-2:]
        x = Tensor(matrix, requires_grad=True, dtype=np.float64)
        for some in (True, False):
            u, s, v = minidl.svd(x, some=some, compute_uv=False)
            assert u.shape == (2, m, m) and v.shape == (2, n, n)
            assert not u.numpy().any() and not v.numpy().any() and s.dtype == np.float64
            np.testing.assert_allclose(s.numpy(), np.linalg.svd(matrix, compute_uv=False))
        assert gradcheck(lambda t: minidl.svd(t, compute_uv=False).S, x)


def test_matrix_power_of_one_is_a_copy_and_of_zero_is_in_the_graph() -> None:
    """torch 2.13: matrix_power(A, 1) is a new tensor (writing it leaves A alone), and
    matrix_power(A, 0), the identity, requires grad with a zero gradient."""
    a = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    hidden = a * 1
    once = LA.matrix_power(hidden, 1)
    assert once is not hidden
    once.add_(1.0)
    np.testing.assert_array_equal(hidden.numpy(), [[1.0, 2.0], [3.0, 4.0]])
    once.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.ones((2, 2)))
    a.grad = None
    identity = LA.matrix_power(a, 0)
    assert identity.requires_grad
    np.testing.assert_array_equal(identity.numpy(), np.eye(2))
    identity.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.zeros((2, 2)))


def test_cond_of_a_singular_matrix_is_inf_for_the_norms_through_the_inverse() -> None:
    """torch 2.13: cond(A, p) for p in fro, 1, -1, inf, -inf is inf for a singular A
    (a LinAlgError here before), and the other matrices of the batch keep their value."""
    a = np.stack([np.zeros((2, 2)), 2 * np.eye(2), np.array([[1.0, 2.0], [2.0, 4.0]])])
    for p, regular in (("fro", 2.0), (1, 1.0), (-1, 1.0), (np.inf, 1.0), (-np.inf, 1.0)):
        np.testing.assert_allclose(LA.cond(Tensor(a, dtype=np.float64), p).numpy(),
                                   [np.inf, regular, np.inf], rtol=1e-12)
    x = Tensor(2 * np.eye(2)[None], requires_grad=True, dtype=np.float64)
    assert gradcheck(lambda t: LA.cond(t, "fro"), x)


def test_vecdot_takes_floats_of_one_dtype_as_torch() -> None:
    """torch 2.13: linalg.vecdot refuses integer and bool tensors and mixed dtypes (it
    answered 11 for [1, 2].[3, 4] here), and takes float16."""
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as "
                                           "input. Got Long"):
        LA.vecdot(minidl.tensor([1, 2]), minidl.tensor([3, 4]))
    with pytest.raises(RuntimeError, match="Expected x and y to have the same dtype"):
        LA.vecdot(minidl.tensor([1.0, 2.0]), minidl.tensor([3.0, 4.0], dtype=minidl.float64))
    half = minidl.tensor([1.0, 2.0], dtype=minidl.float16)
    result = LA.vecdot(half, half)
    assert result.dtype == np.float16 and result.item() == 5.0


def test_vector_norms_take_float16_and_lstsq_one_dtype_as_torch() -> None:
    """torch 2.13: vector_norm and the "fro" matrix norm of float16 work (in float16),
    "nuc" refuses it; lstsq refuses float32 A with float64 B (it promoted here)."""
    x = minidl.tensor([[3.0, 4.0], [0.0, 1.0]], dtype=minidl.float16)
    for norm, expected in ((LA.vector_norm(x[0]), 5.0), (LA.norm(x[0]), 5.0),
                           (LA.matrix_norm(x), 5.0977)):
        assert norm.dtype == np.float16 and abs(norm.item() - expected) < 1e-3
    assert LA.vector_norm(x, dtype=minidl.float32).dtype == np.float32
    with pytest.raises(RuntimeError, match="Low precision dtypes not supported"):
        LA.matrix_norm(x, "nuc")
    with pytest.raises(RuntimeError, match="Expected input and other to have the same dtype"):
        LA.lstsq(minidl.eye(2), minidl.eye(2, dtype=minidl.float64))
