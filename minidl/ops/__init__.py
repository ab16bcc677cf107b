"""The differentiable ops on Tensors, one file per family.

    arithmetic.py   + - * / ** neg matmul, float_power addcmul addcdiv
    elementwise.py  exp log sqrt abs tanh sigmoid relu leaky_relu gelu clip (clamp, clamp_min,
                    clamp_max) maximum minimum where
    reductions.py   sum mean max min var std prod argmax argmin median amax amin aminmax
                    count_nonzero nansum nanmean var_mean std_mean sum_to_size
    statistics.py   quantile nanquantile mode kthvalue diff cov corrcoef bincount histc
                    trapezoid (trapz) cumulative_trapezoid
    scans.py        cumsum cumprod cummax cummin logcumsumexp sort argsort topk
    shape.py        reshape transpose flatten getitem concatenate stack, and PyTorch's
                    cat view permute movedim swapaxes t ravel squeeze unsqueeze unflatten
                    expand flip roll repeat repeat_interleave split split_with_sizes chunk tril
                    triu diagonal diag
    rearrange.py    narrow select unbind unfold tile tensor_split hsplit vsplit dsplit rot90 fliplr
                    flipud atleast_1d/2d/3d broadcast_to broadcast_tensors hstack vstack dstack
                    column_stack diag_embed diagflat
    indexing.py     gather scatter scatter_add take_along_dim index_select masked_fill
                    masked_select nonzero one_hot
    indexed.py      index_add index_copy index_fill scatter_reduce masked_scatter take argwhere
                    searchsorted bucketize unique isin put
    linalg.py       einsum outer norm normalize meshgrid dist renorm (det, inverse, ...:
                    minidl.linalg)
    matrix.py       mm bmm mv dot addmm baddbmm kron tensordot trace cross cdist inner addmv
    assemble.py     block_diag cartesian_prod combinations vander
    softmax.py      softmax log_softmax logsumexp
    unary.py        sin cos tan asin ... atanh exp2 log2 log10 log1p expm1 erf erfc erfinv
                    lgamma digamma logit sinc nan_to_num rsqrt reciprocal square sign floor
                    ceil trunc round frac
    binary.py       floor_divide (//) remainder (%) fmod lerp logaddexp copysign atan2 hypot
                    xlogy fmax fmin heaviside
    activations.py  elu celu selu silu mish softplus softsign hardtanh relu6
                    hardsigmoid hardswish logsigmoid softmin
    logic.py        eq ne lt le gt ge isnan isinf isfinite isclose logical_* bitwise_*
                    (<< >> too) any all allclose equal
    casts.py        to (and the methods float double half int long bool type astype)
    methods.py      the same ops bound to Tensor as methods and operators
    inplace.py      their in-place forms, x.add_(y), x[i] = v, also as functions: relu_(x)
    tensor_api.py   PyTorch's Tensor methods for what minidl has: size() dim() clone()
                    new_zeros() type_as() to(device) cuda() stride() ..., and numel
                    is_tensor is_floating_point is_complex clone detach
    _common.py      what they share: operands, axes, dtypes

Every op follows one pattern: compute the output array, define the closure
``backward(g)`` that turns ``g = dL/d out`` into one gradient per input (the
vector-Jacobian product, summed back to the input's shape by ``unbroadcast``),
and return ``Tensor._make(out, inputs, backward)``. A gradient is computed only
for the inputs that need one; the others get ``None``.

Non-Tensor operands (Python scalars, numpy arrays) mix freely on either side of
a binary op. Next to a float Tensor they take its dtype, so float32 stays
float32. The dtypes follow PyTorch's rules: an integer or bool Tensor with a
Python float, or beside a float Tensor, gives the float dtype (float32 for a
Python float), and true division of integers gives float32; integers with
integers stay integer (``//``, ``%``, ``*``).
"""
from . import methods  # noqa: F401  (binds the ops to Tensor)
from ._common import _shape_arg  # noqa: F401  (creation.py uses it)
from .arithmetic import *  # noqa: F403
from .arithmetic import __all__ as _arithmetic
from .elementwise import *  # noqa: F403
from .elementwise import __all__ as _elementwise
from .reductions import *  # noqa: F403
from .reductions import __all__ as _reductions
from .shape import *  # noqa: F403
from .shape import __all__ as _shape
from .softmax import *  # noqa: F403
from .softmax import __all__ as _softmax
from .indexing import *  # noqa: F403
from .indexing import __all__ as _indexing
from .linalg import *  # noqa: F403
from .linalg import __all__ as _linalg
from .scans import *  # noqa: F403
from .scans import __all__ as _scans
from .statistics import *  # noqa: F403
from .statistics import __all__ as _statistics
from .rearrange import *  # noqa: F403
from .rearrange import __all__ as _rearrange
from .indexed import *  # noqa: F403
from .indexed import __all__ as _indexed
from .matrix import *  # noqa: F403
from .matrix import __all__ as _matrix

from .unary import *  # noqa: F403
from .unary import __all__ as _unary
from .binary import *  # noqa: F403
from .binary import __all__ as _binary
from .activations import *  # noqa: F403
from .activations import __all__ as _activations
from .logic import *  # noqa: F403
from .logic import __all__ as _logic
from .casts import *  # noqa: F403
from .casts import __all__ as _casts

__all__ = [*_arithmetic, *_elementwise, *_reductions, *_shape, *_softmax,
           *_indexing, *_linalg, *_scans]
__all__ += [*_unary, *_binary, *_activations, *_logic, *_casts]
__all__ += [*_statistics, *_rearrange, *_indexed, *_matrix]

from .tensor_api import *  # noqa: F403, E402  (numel, is_tensor, clone, detach, ...)
from .tensor_api import __all__ as _tensor_api  # noqa: E402
from .assemble import *  # noqa: F403, E402
from .assemble import __all__ as _assemble  # noqa: E402
__all__ += [*_tensor_api, *_assemble]

from ..tensor import Tensor as _Tensor  # noqa: E402
from .inplace import FUNCTIONS as _in_place_functions  # noqa: E402
globals().update({name: getattr(_Tensor, name) for name in _in_place_functions})
__all__ += _in_place_functions   # torch.relu_(x), torch.zero_(x), ...
