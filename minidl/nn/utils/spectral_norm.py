"""The old spectral norm, ``nn.utils.spectral_norm``: the parameter ``<name>`` moves
to ``<name>_orig``, with buffers ``<name>_u`` and ``<name>_v``, and a forward
pre-hook recomputes the plain attribute ``<name>`` before every call. With W the
weight with ``dim`` moved first and flattened to a matrix:

    v <- normalize(W^T u),  u <- normalize(W v)   (n_power_iterations times, training only)
    weight = w / sigma,     sigma = u . (W v)     (u, v held fixed in the gradient)

(the new ``parametrizations.spectral_norm`` moves u first, then v).
"""
from __future__ import annotations

from typing import Any

from ... import grad_mode, ops
from ...sampling import randn
from ...tensor import Tensor
from ..module import Module, Parameter
from .parametrizations import normalized, constant, default_dim, weight_matrix
from .weight_norm import remove_hook

__all__ = ["SpectralNorm", "spectral_norm", "remove_spectral_norm"]


class SpectralNorm:
    """The forward pre-hook that sets ``module.<name>`` from ``<name>_orig``."""

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12):
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.dim, self.n_power_iterations, self.eps = name, dim, n_power_iterations, eps

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        if do_power_iteration:
            matrix = weight_matrix(weight._data, self.dim)
            for _ in range(self.n_power_iterations):
                v._data[...] = normalized(matrix.T @ u._data, self.eps)
                u._data[...] = normalized(matrix @ v._data, self.eps)
        u, v = constant(u._data.copy()), constant(v._data.copy())
        sigma = ops.dot(u, ops.mv(weight_matrix(weight, self.dim), v))
        return weight / sigma

    def remove(self, module: Module) -> None:
        with grad_mode.no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight._data))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module, module.training))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int,
              eps: float) -> SpectralNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same "
                                   f"parameter {name}")
        hook = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        height, width = weight_matrix(weight._data, dim).shape
        u = normalized(randn(height, dtype=weight.dtype)._data, eps)
        v = normalized(randn(width, dtype=weight.dtype)._data, eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, constant(weight._data))
        module.register_buffer(name + "_u", constant(u))
        module.register_buffer(name + "_v", constant(v))
        module.register_forward_pre_hook(hook)
        return hook


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divide ``module.<name>`` by its spectral norm before each call (see the
    module docstring); ``dim`` defaults to 1 for transposed convolutions, else 0."""
    SpectralNorm.apply(module, name, n_power_iterations,
                       default_dim(module) if dim is None else dim, eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Make ``module.<name>`` a plain Parameter again, holding the normalised weight."""
    return remove_hook(module, SpectralNorm, name, "spectral_norm")
