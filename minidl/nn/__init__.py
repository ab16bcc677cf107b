"""minidl.nn: Modules, Parameters, layers, losses, initialisation and functional forms.

``import minidl.nn as nn`` for the Modules; ``import minidl.nn.functional as F``
for the same computations as plain functions; ``nn.init`` to (re)initialise;
``nn.utils`` to clip gradients.
"""
from . import functional, init, utils
from .activation import (CELU, ELU, SELU, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish,
                         ReLU6, SiLU, Softmin, Softplus, Softsign)
from .containers import ModuleDict, ModuleList
from .layers import (GELU, BatchNorm1d, Dropout, Flatten, Identity, LeakyReLU, Linear, ReLU,
                     Sequential, Sigmoid, Softmax, Tanh, mlp)
from .losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss,
                     NLLLoss)
from .module import Module, Parameter

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "mlp",
           "Linear", "Identity", "Flatten", "Dropout", "BatchNorm1d",
           "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "GELU", "Softmax", "ELU", "CELU", "SELU",
           "SiLU", "Mish", "Softplus", "Softsign", "Hardtanh", "ReLU6", "Hardsigmoid",
           "Hardswish", "LogSigmoid", "Softmin",
           "MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
           "BCEWithLogitsLoss", "functional", "init", "utils"]

from .conv import Conv1d, Conv2d  # noqa: E402
from .embedding import Embedding  # noqa: E402
from .normalization import BatchNorm2d, LayerNorm  # noqa: E402
from .pooling import AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d  # noqa: E402
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: E402

__all__ += ["Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
            "AdaptiveAvgPool2d", "BatchNorm2d", "LayerNorm", "Embedding"]
__all__ += ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]
