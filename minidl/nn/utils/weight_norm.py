"""The old weight norm, ``nn.utils.weight_norm`` (deprecated in PyTorch for
``nn.utils.parametrizations.weight_norm``, with the same FutureWarning here): the
parameter ``<name>`` is replaced by ``<name>_g`` and ``<name>_v``, and a forward
pre-hook recomputes the plain attribute ``<name>`` before every call:

    weight = g * v / ||v||        ||v|| over every dimension but ``dim`` (all for None)
"""
from __future__ import annotations

import warnings
from typing import Any

from ...tensor import Tensor
from ..module import Module, Parameter
from .parametrizations import norm_except_dim

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


class WeightNorm:
    """The forward pre-hook that sets ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name: str, dim: int):
        self.name, self.dim = name, dim

    def compute_weight(self, module: Module) -> Tensor:
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / norm_except_dim(v, self.dim))

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same "
                                   f"parameter {name}")
        hook = WeightNorm(name, -1 if dim is None else dim)
        weight = getattr(module, name)
        g = norm_except_dim(weight, hook.dim)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(g._data.copy()))
        module.register_parameter(name + "_v", Parameter(weight._data.copy()))
        setattr(module, name, hook.compute_weight(module))
        module.register_forward_pre_hook(hook)
        return hook

    def remove(self, module: Module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight._data))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Split ``module.<name>`` into ``<name>_g`` (the norms) and ``<name>_v`` (the
    direction), recombined before each call (see the module docstring)."""
    warnings.warn("`minidl.nn.utils.weight_norm` is deprecated in favor of "
                  "`minidl.nn.utils.parametrizations.weight_norm`.", FutureWarning,
                  stacklevel=2)
    WeightNorm.apply(module, name, dim)
    return module


def remove_hook(module: Module, kind: type, name: str, what: str) -> Module:
    """Take off ``module``'s forward pre-hook of class ``kind`` for ``name`` (its
    ``remove`` restores the parameter); ValueError naming ``what`` when there is none."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, kind) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"{what} of '{name}' not found in {module}")


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Make ``module.<name>`` a plain Parameter again, holding the current weight."""
    return remove_hook(module, WeightNorm, name, "weight_norm")
