"""What the distributions share, as torch.distributions.utils: parameters broadcast
together, probabilities and logits from one another, and attributes computed on
first use."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import broadcast_tensors, sigmoid, softmax
from ..tensor import Tensor

__all__ = ["broadcast_all", "logits_to_probs", "probs_to_logits", "lazy_property", "one_of"]


class lazy_property:
    """An attribute computed on first use and then kept in the instance (Bernoulli's
    logits when made from probs, and the other way round)."""

    def __init__(self, compute: Any):
        self.compute = compute
        self.__doc__ = compute.__doc__

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        value = self.compute(instance)
        vars(instance)[self.compute.__name__] = value
        return value


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """The parameters as Tensors of one shape; numbers take the Tensors' float dtype
    (float32 when there is no Tensor), as in PyTorch."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    dtype = tensors[0].dtype if tensors and tensors[0].dtype.kind == "f" else np.float32
    as_tensors = [v if isinstance(v, Tensor) else Tensor(np.asarray(v, dtype), dtype=dtype)
                  for v in values]
    return tuple(broadcast_tensors(*as_tensors))


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """sigmoid(logits) for a binary variable, else softmax over the last dim."""
    return sigmoid(logits) if is_binary else softmax(logits, -1)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """ln p (ln p - ln(1 - p) for a binary variable), p clamped into [eps, 1 - eps]."""
    eps = float(np.finfo(probs.dtype).eps)
    p = probs.clamp(min=eps, max=1 - eps)
    return p.log() - (-p).log1p() if is_binary else p.log()


def one_of(probs: Any, logits: Any) -> None:
    """Bernoulli's and Categorical's check: exactly one of probs and logits."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
