"""minidl.optim: optimizers whose update runs as one kernel call per param group.

    Optimizer           the base: param groups, step, zero_grad, state_dict
    SGD, Adagrad, RMSprop, Adam, AdamW
    Rprop, Adadelta, Adamax, NAdam, RAdam     RMSprop's family: its ancestor and relatives
    Adafactor, Muon, LBFGS                    updates that see each parameter's shape,
                                              and a quasi-Newton method with a closure
    MuonWithAuxAdamW                          Muon on the matrices, AdamW on the rest
    ASGD, Lion, AdaBelief                     its descendants (torch.optim, lion-pytorch,
    AdamWScheduleFree, SGDScheduleFree        adabelief-pytorch, schedulefree)
    lr_scheduler        StepLR, ExponentialLR, CosineAnnealingLR, ReduceLROnPlateau,
                        LambdaLR, LinearLR, OneCycleLR, CosineAnnealingWarmRestarts,
                        SequentialLR, MultiStepLR, ConstantLR, MultiplicativeLR,
                        PolynomialLR, CyclicLR, ChainedScheduler

Each optimizer keeps every param group in flat buffers (``flat.py``) and runs
its update as a ``minidl.kernels`` kernel on the backend chosen at run time
(``device="auto"|"reference"|"cpu"|"cuda"``; the optimizer's ``device``
attribute says which one it got).
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adabelief import AdaBelief
from .adam_variants import Adamax, NAdam, RAdam
from .lbfgs import LBFGS
from .muon import Muon
from .muon_adamw import MuonWithAuxAdamW
from .asgd import ASGD
from .lion import Lion
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .rprop import Rprop
from .schedule_free import AdamWScheduleFree, SGDScheduleFree
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Rprop", "Adadelta",
           "Adamax", "NAdam", "RAdam", "lr_scheduler",
           "ASGD", "Lion", "AdaBelief", "AdamWScheduleFree", "SGDScheduleFree"]
__all__ += ["Adafactor", "Muon", "LBFGS", "MuonWithAuxAdamW"]
