"""minidl.nn: Modules, Parameters, layers, losses, initialisation and functional forms.

``import minidl.nn as nn`` for the Modules; ``import minidl.nn.functional as F``
for the same computations as plain functions; ``nn.init`` to (re)initialise.
"""
from . import functional, init
from .containers import ModuleDict, ModuleList
from .layers import (GELU, BatchNorm1d, Dropout, Flatten, Identity, LeakyReLU, Linear, ReLU,
                     Sequential, Sigmoid, Softmax, Tanh, mlp)
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss
from .module import Module, Parameter

__all__ = ["Module", "Parameter", "Linear", "Sequential", "Identity", "Flatten", "ReLU",
           "LeakyReLU", "Tanh", "Sigmoid", "GELU", "Softmax", "Dropout", "BatchNorm1d", "mlp",
           "MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss",
           "BCEWithLogitsLoss", "functional", "init", "ModuleList", "ModuleDict"]
