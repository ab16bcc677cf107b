"""minidl.nn: Modules, Parameters, layers, losses, initialisation and functional forms.

``import minidl.nn as nn`` for the Modules; ``import minidl.nn.functional as F``
for the same computations as plain functions; ``nn.init`` to (re)initialise;
``nn.utils`` to clip gradients.
"""
from . import functional, init, utils
from .activation import (CELU, ELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh,
                         LogSigmoid, LogSoftmax, Mish, PReLU, ReLU6, RReLU, SiLU, Softmax2d,
                         Softmin, Softplus, Softshrink, Softsign, Tanhshrink, Threshold)
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList
from .layers import (GELU, Bilinear, BatchNorm1d, Dropout, Flatten, Identity, LazyLinear,
                     LeakyReLU, Linear, ReLU, Sequential, Sigmoid, Softmax, Tanh, Unflatten, mlp)
from .losses import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss,
                     GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss,
                     MarginRankingLoss, MSELoss, MultiLabelMarginLoss, MultiLabelSoftMarginLoss,
                     MultiMarginLoss, NLLLoss, PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss,
                     TripletMarginLoss)
from .module import Buffer, Module, Parameter

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
from .transformer import (Transformer, TransformerDecoder,  # noqa: E402
                          TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer)

__all__ += ["MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
            "TransformerDecoderLayer", "TransformerDecoder", "Transformer", "RMSNorm",
            "GroupNorm"]

from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: E402

__all__ += ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]

from .distance import CosineSimilarity, PairwiseDistance  # noqa: E402
from .dropout import (AlphaDropout, Dropout1d, Dropout2d, Dropout3d,  # noqa: E402
                      FeatureAlphaDropout)
from .padding import (CircularPad1d, CircularPad2d, ConstantPad1d, ConstantPad2d,  # noqa: E402
                      ReflectionPad1d, ReflectionPad2d, ReplicationPad1d, ReplicationPad2d,
                      ZeroPad1d, ZeroPad2d)
from .pooling import LPPool1d, LPPool2d  # noqa: E402
from .resampling import ChannelShuffle  # noqa: E402

__all__ += ["Buffer", "ParameterList", "ParameterDict", "Unflatten", "Bilinear", "LazyLinear",
            "CosineSimilarity", "PairwiseDistance", "Dropout1d", "Dropout2d", "Dropout3d",
            "AlphaDropout", "FeatureAlphaDropout", "ZeroPad1d", "ZeroPad2d", "ConstantPad1d",
            "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d",
            "ReplicationPad2d", "CircularPad1d", "CircularPad2d", "LPPool1d", "LPPool2d",
            "ChannelShuffle"]
