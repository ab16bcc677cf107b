"""A model's parameters as one vector and back, as ``torch.nn.utils``'s.

``parameters_to_vector`` concatenates the raveled parameters, in order, into a
new 1-d tensor (differentiable: its gradient flows back to each parameter).
``vector_to_parameters`` copies consecutive slices of a vector into them:

    p_i <- vec[n_1 + ... + n_{i-1} : n_1 + ... + n_i].reshape(p_i.shape)

where n_i is p_i's element count. PyTorch rebinds each ``p.data`` to a view of
``vec``; minidl writes into each parameter's own array instead, which may be a
view of an optimizer's flat buffer, so the optimizer keeps seeing the
parameters (the values are copies: a later change to ``vec`` does not reach them).
"""
from __future__ import annotations

from typing import Iterable

from ... import ops
from ...grad_mode import no_grad
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _tensors(parameters: Iterable[Tensor]) -> list[Tensor]:
    params = list(parameters)
    for param in params:
        if not isinstance(param, Tensor):
            raise TypeError(f"parameters must be Tensors, got a {type(param).__name__}")
    return params


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters raveled and concatenated into one 1-d tensor."""
    return ops.cat([param.reshape(-1) for param in _tensors(parameters)])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-d ``vec`` into ``parameters``, in place.

    Elements past the parameters' total are ignored, as in PyTorch; a shorter
    ``vec`` raises RuntimeError before any parameter is written.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected a Tensor, but got: {type(vec).__module__}."
                        f"{type(vec).__name__}")
    if vec.ndim != 1:
        raise RuntimeError(f"vector_to_parameters: vec must be 1-d, got shape {tuple(vec.shape)}")
    params = _tensors(parameters)
    total = sum(param.numel() for param in params)
    if len(vec) < total:
        raise RuntimeError(f"vector_to_parameters: vec holds {len(vec)} elements, the "
                           f"parameters {total}")
    start = 0
    with no_grad():
        for param in params:
            size = param.numel()
            param.copy_(vec[start:start + size].reshape(param.shape))
            start += size
