"""Weight norm, spectral norm and orthogonal matrices as parametrizations
(PyTorch's ``torch.nn.utils.parametrizations``; see parametrize.py).

weight_norm stores a direction and a length per slice along ``dim``:

    weight = g * v / ||v||        ||v|| over every dimension but ``dim`` (all for None)
    (original0, original1) = (g, v), initialised from the weight: g = ||w||, v = w

spectral_norm divides the weight by its largest singular value, estimated by power
iteration on W, the weight with ``dim`` moved first and flattened to a matrix:

    u <- normalize(W v),  v <- normalize(W^T u)    (n_power_iterations times per training
                                                    call; 15 times from random u, v at first)
    weight = w / sigma,   sigma = u . (W v)         (u, v held fixed in the gradient)

orthogonal maps any tensor X (a matrix or a batch, kept tall n x k by transposing) to
a matrix with orthonormal columns, Q = base @ map(X), where base is orthogonal:

    matrix_exp   exp(A)[:, :k]            A = L - L^T, L = tril(X) padded with zeros to n x n
    cayley       ((I - A/2)^{-1} (I + A/2))[:, :k]
    householder  (H_1 ... H_k)[:, :k] * trunc(diag X)    H_i = I - tau_i v_i v_i^T,
                 v_i the ith column of tril(X, -1) with 1 on the diagonal,
                 tau_i = 2 / (1 + ||column i of tril(X, -1)||^2)

With ``use_trivialization`` (the default) assigning Q stores ``base`` = Q (completed
to an orthogonal n x n) and X = -I, where every map gives I. Without it there is no
base, and only householder can be assigned (X = Q's Householder reflectors).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import linalg, ops
from ...sampling import randn
from ...tensor import Tensor
from ..conv_transpose import ConvTranspose1d, ConvTranspose2d
from ..module import Module
from . import parametrize

__all__ = ["weight_norm", "spectral_norm", "orthogonal"]


def norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """||v|| over every dimension but ``dim``, kept as size-1 dimensions (PyTorch's
    ``torch.norm_except_dim(v, 2, dim)``); ``dim=-1``: the norm of all of v, 0-d."""
    if dim == -1:
        return (v * v).sum().sqrt()
    if not -v.ndim <= dim < v.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-v.ndim}, {v.ndim - 1}], but got {dim})")
    axes = tuple(axis for axis in range(v.ndim) if axis != dim % v.ndim)
    squares = v * v
    return (squares.sum(dim=axes, keepdim=True) if axes else squares).sqrt()


class _WeightNorm(Module):
    """weight = g * v / ||v|| (see the module docstring)."""

    def __init__(self, dim: int | None = 0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Parametrize ``module.<name>`` as g * v / ||v|| (``original0`` = g,
    ``original1`` = v); a state_dict of the old ``nn.utils.weight_norm``
    (``<name>_g``, ``<name>_v``) loads into it."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def load_old_keys(module: Module, state_dict: dict, prefix: str, *args: Any) -> None:
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module.register_load_state_dict_pre_hook(load_old_keys)
    return module


def constant(array: np.ndarray) -> Tensor:
    """A Tensor of the array's dtype, outside the graph."""
    return Tensor(array, dtype=array.dtype)


def normalized(x: np.ndarray, eps: float) -> np.ndarray:
    """x / max(||x||, eps), as ``F.normalize(x, dim=0, eps=eps)``."""
    return x / x.dtype.type(max(float(np.linalg.norm(x)), eps))


def weight_matrix(weight: Any, dim: int) -> Any:
    """The weight (a Tensor or an array) with ``dim`` moved first, flattened to
    (size of dim, rest)."""
    if dim != 0:
        order = (dim, *(d for d in range(weight.ndim) if d != dim))
        is_array = isinstance(weight, np.ndarray)
        weight = weight.transpose(order) if is_array else weight.permute(*order)
    return weight.reshape(weight.shape[0], -1)


class _SpectralNorm(Module):
    """weight / sigma, sigma estimated by power iteration (see the module docstring):
    buffers ``_u`` and ``_v``, moved ``n_power_iterations`` times per training call."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        self.n_power_iterations = n_power_iterations
        if ndim > 1:
            height, width = weight_matrix(weight._data, self.dim).shape
            u = randn(height, dtype=weight.dtype)._data
            v = randn(width, dtype=weight.dtype)._data
            self.register_buffer("_u", constant(normalized(u, eps)))
            self.register_buffer("_v", constant(normalized(v, eps)))
            self._power_method(weight_matrix(weight._data, self.dim), 15)

    def _power_method(self, matrix: np.ndarray, n_power_iterations: int) -> None:
        """u <- normalize(W v), v <- normalize(W^T u), in the buffers' arrays."""
        u, v = self._u._data, self._v._data
        for _ in range(n_power_iterations):
            u[...] = normalized(matrix @ v, self.eps)
            v[...] = normalized(matrix.T @ u, self.eps)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return ops.normalize(weight, dim=0, eps=self.eps)
        if self.training:
            self._power_method(weight_matrix(weight._data, self.dim), self.n_power_iterations)
        u = constant(self._u._data.copy())
        v = constant(self._v._data.copy())
        sigma = ops.dot(u, ops.mv(weight_matrix(weight, self.dim), v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def default_dim(module: Module) -> int:
    """Spectral norm's default ``dim``: 1 for a transposed convolution (whose weight
    is (in, out, ...)), else 0."""
    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Parametrize ``module.<name>`` as the weight over its spectral norm (buffers
    ``parametrizations.<name>.0._u`` and ``._v``; eval() stops the power iteration)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    dim = default_dim(module) if dim is None else dim
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


def _make_orthogonal(A: np.ndarray) -> np.ndarray:
    """The Q of A = QR (A tall) with the signs that make diag(R) >= 0."""
    Q, R = np.linalg.qr(A)
    return Q * np.sign(np.diagonal(R, axis1=-2, axis2=-1))[..., None, :]


def _is_orthogonal(Q: np.ndarray) -> bool:
    n, k = Q.shape[-2:]
    eps = 10.0 * n * np.finfo(Q.dtype).eps
    return bool(np.allclose(np.swapaxes(Q, -1, -2) @ Q, np.eye(k, dtype=Q.dtype), atol=eps,
                            rtol=1e-5))


def _householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """(H_1 ... H_k)[:, :k], H_i = I - tau_i v_i v_i^T with v_i = A[:, i] + e_i (A
    strictly lower triangular, n x k), composed of differentiable ops."""
    n, k = A.shape[-2:]
    identity = np.eye(n, dtype=A.dtype)
    Q = constant(np.broadcast_to(identity, (*A.shape[:-2], n, n)).copy())
    for i in range(k):
        v = A[..., :, i] + constant(identity[:, i])
        Qv = ops.matmul(Q, v.unsqueeze(-1))
        Q = Q - tau[..., i, None, None] * Qv * v.unsqueeze(-2)
    return Q[..., :k]


class _Orthogonal(Module):
    """Q = base @ map(X) (see the module docstring)."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization: bool = True):
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2:]
        transposed = n < k
        if transposed:
            X, n, k = X.mT, k, n
        if self.orthogonal_map == "householder":
            A = ops.tril(X, -1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            signs = np.trunc(np.diagonal(X._data, axis1=-2, axis2=-1))[..., None, :]
            Q = _householder_product(A, tau) * constant(signs)
        else:
            X = ops.tril(X)
            if n != k:
                X = ops.cat([X, constant(np.zeros((*X.shape[:-2], n, n - k), X.dtype))], dim=-1)
            A = X - X.mT
            if self.orthogonal_map == "matrix_exp":
                Q = linalg.matrix_exp(A)
            else:
                identity = constant(np.eye(n, dtype=A.dtype))
                Q = linalg.solve(identity - 0.5 * A, identity + 0.5 * A)
            Q = Q[..., :k]
        if "base" in self._buffers:
            Q = ops.matmul(self.base, Q)
        return Q.mT if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        """X with forward(X) = Q: with a base, base = Q completed to an orthogonal
        matrix and X = -I; without, the Householder reflectors of Q's QR."""
        if tuple(Q.shape) != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {tuple(Q.shape)}.")
        q = Q._data
        n, k = q.shape[-2:]
        transpose = n < k
        if transpose:
            q, n, k = np.swapaxes(q, -1, -2), k, n
        if "base" not in self._buffers:
            if self.orthogonal_map != "householder":
                raise NotImplementedError("It is not possible to assign to the matrix "
                                          "exponential or the Cayley parametrizations when "
                                          "use_trivialization=False.")
            A = _householder_reflectors(q)
            return constant(np.swapaxes(A, -1, -2) if transpose else A)
        if n == k:
            q = q.copy() if _is_orthogonal(q) else _make_orthogonal(q)
        else:
            completion = randn(*q.shape[:-2], n, n - k, dtype=q.dtype)._data
            q = _make_orthogonal(np.concatenate([q, completion], axis=-1))
        self.base = constant(q)
        neg_identity = np.zeros(Q.shape, Q.dtype)
        diagonal = np.arange(min(Q.shape[-2:]))
        neg_identity[..., diagonal, diagonal] = -1.0
        return constant(neg_identity)


def _householder_reflectors(q: np.ndarray) -> np.ndarray:
    """geqrf's reflectors of each (tall) matrix of q, with the signs of diag(R) on
    the diagonal (flipped where LAPACK skipped a reflection, tau = 0)."""
    out = np.empty_like(q)
    for index in np.ndindex(q.shape[:-2]):
        h, tau = np.linalg.qr(q[index].astype(np.float64), mode="raw")
        reflectors = h.T.copy()
        diagonal = np.sign(np.diagonal(reflectors)) * np.where(tau == 0.0, -1.0, 1.0)
        np.fill_diagonal(reflectors, diagonal)
        out[index] = reflectors
    return out


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Parametrize the matrix (or batch) ``module.<name>`` to have orthonormal columns
    (rows if wide). ``orthogonal_map``: "matrix_exp" (default for square),
    "cayley" or "householder" (default otherwise)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square else "householder"
    if orthogonal_map not in ORTHOGONAL_MAPS:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
