"""minidl.nn: Modules, Parameters, layers, losses, initialisation and functional forms.

``import minidl.nn as nn`` for the Modules; ``import minidl.nn.functional as F``
for the same computations as plain functions; ``nn.init`` to (re)initialise;
``nn.utils`` to clip gradients.
"""
from . import functional, init, utils
from .activation import (CELU, ELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh,
                         LogSigmoid, LogSoftmax, Mish, PReLU, ReLU6, RReLU, SiLU, Softmax2d,
                         Softmin, Softplus, Softshrink, Softsign, Tanhshrink, Threshold)
from .containers import ModuleDict, ModuleList
from .layers import (GELU, BatchNorm1d, Dropout, Flatten, Identity, LeakyReLU, Linear, ReLU,
                     Sequential, Sigmoid, Softmax, Tanh, mlp)
from .losses import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss,
                     GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss,
                     MarginRankingLoss, MSELoss, MultiLabelMarginLoss, MultiLabelSoftMarginLoss,
                     MultiMarginLoss, NLLLoss, PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss,
                     TripletMarginLoss)
from .module import Module, Parameter

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "mlp",
           "Linear", "Identity", "Flatten", "Dropout", "BatchNorm1d",
           "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "GELU", "Softmax", "ELU", "CELU", "SELU",
           "SiLU", "Mish", "Softplus", "Softsign", "Hardtanh", "ReLU6", "Hardsigmoid",
           "Hardswish", "LogSigmoid", "Softmin", "PReLU", "GLU", "RReLU", "Threshold",
           "Hardshrink", "Softshrink", "Tanhshrink", "LogSoftmax", "Softmax2d",
           "MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
           "BCEWithLogitsLoss", "SmoothL1Loss", "KLDivLoss", "PoissonNLLLoss",
           "GaussianNLLLoss", "MarginRankingLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss",
           "TripletMarginLoss", "MultiLabelSoftMarginLoss", "MultiLabelMarginLoss",
           "MultiMarginLoss", "SoftMarginLoss", "functional", "init", "utils"]

from .conv import Conv1d, Conv2d  # noqa: E402
from .conv_transpose import ConvTranspose1d, ConvTranspose2d  # noqa: E402
from .embedding import Embedding  # noqa: E402
from .normalization import (BatchNorm2d, InstanceNorm1d, InstanceNorm2d, LayerNorm,  # noqa: E402
                            LocalResponseNorm)
from .resampling import (Fold, PixelShuffle, PixelUnshuffle, Unfold, Upsample,  # noqa: E402
                         UpsamplingBilinear2d, UpsamplingNearest2d)
from .adaptive_pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d,  # noqa: E402
                               AdaptiveMaxPool1d, AdaptiveMaxPool2d)
from .pooling import (AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d, MaxUnpool1d,  # noqa: E402
                      MaxUnpool2d)

__all__ += ["Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
            "AdaptiveAvgPool2d", "BatchNorm2d", "LayerNorm", "Embedding", "MaxUnpool1d",
            "MaxUnpool2d", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
            "ConvTranspose1d", "ConvTranspose2d", "Upsample", "UpsamplingNearest2d",
            "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle", "Unfold", "Fold",
            "InstanceNorm1d", "InstanceNorm2d", "LocalResponseNorm"]

from .multihead_attention import MultiheadAttention  # noqa: E402
from .normalization import GroupNorm, RMSNorm  # noqa: E402
from .transformer import Transformer, TransformerEncoder, TransformerEncoderLayer  # noqa: E402

__all__ += ["MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
            "Transformer", "RMSNorm", "GroupNorm"]

from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: E402

__all__ += ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]
