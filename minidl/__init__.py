"""minidl: a small deep learning framework on numpy and numba."""
from .tensor import Tensor, no_grad, is_grad_enabled
from .creation import tensor, zeros, ones, randn, rand
from .random import manual_seed
from . import ops
from . import data
from . import optim
from .info import info
from .ops import *  # noqa: F401,F403  (exp, log, sum, softmax, ...: see ops.__all__)
from .gradcheck import gradcheck, GradcheckError
from .train import fit, evaluate, predict, History, EarlyStopping
from .checkpoint import save, load

__version__ = "0.1.0"
