"""minidl.nn: Modules, Parameters, layers, losses, initialisation and functional forms.

``import minidl.nn as nn`` for the Modules; ``import minidl.nn.functional as F``
for the same computations as plain functions; ``nn.init`` to (re)initialise.
"""
from . import functional, init
from .layers import (GELU, BatchNorm1d, Dropout, Flatten, Identity, LeakyReLU, Linear, ReLU,
                     Sequential, Sigmoid, Softmax, Tanh, mlp)
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss
from .module import Module, Parameter

__all__ = ["Module", "Parameter", "Linear", "Sequential", "Identity", "Flatten", "ReLU",
           "LeakyReLU", "Tanh", "Sigmoid", "GELU", "Softmax", "Dropout", "BatchNorm1d", "mlp",
           "MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss",
           "BCEWithLogitsLoss", "functional", "init"]

from .conv import Conv1d, Conv2d  # noqa: E402
from .embedding import Embedding  # noqa: E402
from .normalization import BatchNorm2d, LayerNorm  # noqa: E402
from .pooling import AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d  # noqa: E402

__all__ += ["Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
            "AdaptiveAvgPool2d", "BatchNorm2d", "LayerNorm", "Embedding"]
