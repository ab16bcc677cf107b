"""minidl: a small deep learning framework on numpy and numba.

The layers, bottom up; each uses only those above it in this list:

    grad_mode.py   no_grad, enable_grad, set_grad_enabled, inference_mode (per thread)
    versions.py    version counters: in-place writes that a graph must not miss
    tensor.py      the Tensor and the reverse-mode engine
    autograd/      torch.autograd on that engine: Function, grad, backward (gradcheck.py)
    typeinfo.py    Size, finfo, iinfo and PyTorch's dtype promotion rules
    ops/           the differentiable ops: minidl.exp, minidl.sum, minidl.softmax, ...,
                   and their in-place forms (x.add_(y), x[i] = v: ops/inplace.py)
    linalg/        minidl.linalg, PyTorch's torch.linalg with gradients, on the ops
    special.py     minidl.special, PyTorch's torch.special (entr, ndtr, i0, ...)
    nn/            Module, Parameter, layers, losses (import minidl.nn as nn)
    optim/         optimizers on flat buffers; their update kernels are minidl.kernels
    distributions/ Normal, Categorical, ...: sample, rsample, log_prob, kl_divergence
    jit/           minidl.compile: a step traced once, replayed as a plan
    data.py        the DataLoader of fit; the datasets are minidl.datasets
    utils/data.py  PyTorch's Dataset, samplers and DataLoader (minidl.utils.data)
    train.py       fit, evaluate, predict
    checkpoint.py  save(obj, f)/load(f) and training checkpoints, without pickle, on
                   npz.py: .npz files written atomically and read with bounded memory
    viz.py         the graph behind a tensor as DOT text or a picture (grad_fn.py names ops)
"""
import os as _os

# In a source checkout kernels/ and datasets/ sit beside minidl/, while the
# installed package has them inside (setuptools package-dir). When Python runs
# from the checkout root, search the root too, so that minidl.kernels and
# minidl.datasets resolve to kernels/ and datasets/ there.
_checkout = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if (not _os.path.isdir(_os.path.join(__path__[0], "kernels"))
        and _os.path.isfile(_os.path.join(_checkout, "kernels", "__init__.py"))):
    __path__.append(_checkout)

from . import autograd, data, linalg, nn, ops, optim, utils, viz  # noqa: E402
from . import distributions, special  # noqa: E402
from .checkpoint import CheckpointError, load, save
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
                       linspace, logspace, ones, ones_like, tensor, tril_indices, triu_indices,
                       zeros, zeros_like)
from .devices import accelerator, cuda, device
from .gradcheck import GradcheckError, gradcheck
from .info import info
from .jit import CompileError, compile
from .linalg.torch_names import (cholesky, det, inverse, logdet, matrix_exp, matrix_power,
                                 pinverse, qr, slogdet, svd)
from .malloc import keep_freed_memory_by_default
from .ops import *  # noqa: F403  (exp, log, sum, softmax, ...: see ops.__all__)
from .random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed,
                     seed, set_rng_state)
from .sampling import (bernoulli, multinomial, normal, rand, rand_like, randint, randint_like,
                       randn, randn_like, randperm)
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                        no_grad, set_grad_enabled)
from .tensor import Tensor
from .threads import get_num_threads, limit_blas_by_default, set_num_threads
from .typeinfo import (Size, can_cast, finfo, get_default_dtype, iinfo, promote_types,
                       result_type)
from .train import DivergenceError, EarlyStopping, History, evaluate, fit, predict

__version__ = "0.1.0"

from .devices import DTYPES as _DTYPES  # noqa: E402
globals().update(_DTYPES)   # minidl.float32, float, long, bool, ...: see devices.py

limit_blas_by_default()   # one BLAS thread unless OPENBLAS_NUM_THREADS & co say otherwise
keep_freed_memory_by_default()   # no page faults on each step's large arrays: minidl/malloc.py
