"""minidl: a small deep learning framework on numpy and numba.

The layers, bottom up; each uses only those above it in this list:

    tensor.py      the Tensor and the reverse-mode engine
    ops/           the differentiable ops: minidl.exp, minidl.sum, minidl.softmax, ...
    nn/            Module, Parameter, layers, losses (import minidl.nn as nn)
    optim/         optimizers on flat buffers; their update kernels are minidl.kernels
    data.py        the DataLoader; the datasets are minidl.datasets
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

from . import data, nn, ops, optim, viz  # noqa: E402
from .checkpoint import CheckpointError, load, save
from .creation import (arange, empty, eye, from_numpy, full, full_like, linspace, ones,
                       ones_like, rand, rand_like, randint, randn, randn_like, tensor, zeros,
                       zeros_like)
from .gradcheck import GradcheckError, gradcheck
from .info import info
from .malloc import keep_freed_memory_by_default
from .ops import *  # noqa: F403  (exp, log, sum, softmax, ...: see ops.__all__)
from .random import manual_seed
from .tensor import Tensor, is_grad_enabled, no_grad
from .threads import get_num_threads, limit_blas_by_default, set_num_threads
from .train import DivergenceError, EarlyStopping, History, evaluate, fit, predict

__version__ = "0.1.0"

limit_blas_by_default()   # one BLAS thread unless OPENBLAS_NUM_THREADS & co say otherwise
keep_freed_memory_by_default()   # no page faults on each step's large arrays: minidl/malloc.py
