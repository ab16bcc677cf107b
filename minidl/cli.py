"""The ``minidl`` command line (also ``python -m minidl``).

    minidl train --dataset moons --hidden 64,64 --optimizer rmsprop --lr 0.01 --epochs 20
    minidl train --dataset digits --epochs 10 --save run.npz
    minidl train --dataset digits --conv 16,32 --lr 1e-3 --batch-size 64   # a CNN
    minidl train --resume run.npz --epochs 30          # 20 more epochs of the same run
    minidl datasets                                     # what --dataset accepts
    minidl info                                         # versions, GPU, backends

``train`` fits an MLP (Linear, activation, ..., Linear) to a dataset of
``minidl.datasets`` (with ``--conv``, a CNN: blocks of Conv2d 3x3, activation and
MaxPool2d(2) on the images, then the MLP): CrossEntropyLoss and accuracy for classification, MSELoss
and R^2 on a standardised target for regression. The test split is the
validation data of every epoch and gives the final test metrics.

Bad input prints one line ``minidl: error: ...`` on stderr and exits with 2,
before any training: every option, every output path (--plot's format too),
and a --resume checkpoint's settings and array shapes (before the network is
allocated) are checked first. A run that diverges (a nan or infinite loss or
weights) stops there with one such line and exit status 1; its --save
checkpoint keeps the last finite epoch. A run that ends with a higher training
loss than it started from (finite, but it did not learn: ``--lr 1e6``) prints
its results, then one such line, and exits with 1 too.

``--resume`` without ``--epochs`` trains to the epoch count the run was started
with; it saves checkpoints only where ``--save`` says (it may name the resumed
file), and says so when it does not.
When stdout is closed early (``minidl datasets | head -1``) minidl stops
quietly with status 141, as a tool killed by SIGPIPE does.
"""
from __future__ import annotations

import argparse
import importlib.util
import inspect
import os
import sys
import tempfile
from typing import Any, Callable, Sequence

import numpy as np

from . import __version__, kernels, nn, optim
from . import datasets as minidl_datasets
from .checkpoint import CheckpointError, load, restore_rng, save
from .npz import NAME_MAX, target
from .data import DataLoader
from .monitor import OptimizerStats
from .plots import training_curves
from .random import manual_seed
from .tensor import Tensor
from .train import DivergenceError, evaluate, fit, progress_bar_redraws

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU}

# --optimizer name -> (class, defaults of the CLI, the options it takes)
OPTIMIZERS: dict[str, tuple[type, dict[str, Any], tuple[str, ...]]] = {
    "sgd": (optim.SGD, {}, ("momentum", "dampening", "nesterov", "weight_decay")),
    "momentum": (optim.SGD, {"momentum": 0.9}, ("momentum", "dampening", "nesterov",
                                                "weight_decay")),
    "adagrad": (optim.Adagrad, {}, ("lr_decay", "eps", "weight_decay",
                                    "initial_accumulator_value")),
    "rmsprop": (optim.RMSprop, {}, ("alpha", "eps", "momentum", "centered", "eps_in_sqrt",
                                    "weight_decay", "initial_accumulator_value")),
    "adam": (optim.Adam, {}, ("betas", "eps", "amsgrad", "weight_decay")),
    "adamw": (optim.AdamW, {}, ("betas", "eps", "amsgrad", "weight_decay")),
    "rprop": (optim.Rprop, {}, ()),
    "adadelta": (optim.Adadelta, {}, ("eps", "weight_decay")),
    "adamax": (optim.Adamax, {}, ("betas", "eps", "weight_decay")),
    "nadam": (optim.NAdam, {}, ("betas", "eps", "weight_decay")),
    "radam": (optim.RAdam, {}, ("betas", "eps", "weight_decay")),
    "adafactor": (optim.Adafactor, {}, ("weight_decay",)),
    "muon": (optim.MuonWithAuxAdamW, {}, ("momentum", "weight_decay")),
    "lbfgs": (optim.LBFGS, {"line_search_fn": "strong_wolfe"}, ()),
    "asgd": (optim.ASGD, {}, ("weight_decay",)),
    "lion": (optim.Lion, {}, ("betas", "weight_decay")),
    "adabelief": (optim.AdaBelief, {}, ("betas", "eps", "amsgrad", "weight_decay")),
    "adamw_schedulefree": (optim.AdamWScheduleFree, {}, ("betas", "eps", "weight_decay")),
    "sgd_schedulefree": (optim.SGDScheduleFree, {}, ("momentum", "weight_decay")),
}
OPTIMIZER_OPTIONS = ("momentum", "dampening", "nesterov", "alpha", "centered", "eps_in_sqrt",
                     "lr_decay", "initial_accumulator_value", "betas", "eps", "amsgrad",
                     "weight_decay")

# The settings that define a run: saved in a checkpoint, fixed when resuming.
RUN_DEFAULTS: dict[str, Any] = {
    "dataset": None, "hidden": (64, 64), "conv": (), "activation": "relu",
    "optimizer": "rmsprop",
    "lr": None, **{option: None for option in OPTIMIZER_OPTIONS}, "batch_size": 32, "seed": 0,
    "clip_grad_norm": None}
DEFAULT_EPOCHS = 20
EXIT_BROKEN_PIPE = 128 + 13  # as the shell reports a process killed by SIGPIPE (13)


class UsageError(Exception):
    """A command line argparse rejects: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


# -- argument types ------------------------------------------------------------------------
def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if not minimum <= value <= sys.maxsize:
            raise argparse.ArgumentTypeError(f"invalid value {text!r}: needs an int from "
                                             f"{minimum} to {sys.maxsize}")
        return value
    return parse


def _sizes(what: str, example: str) -> Callable[[str], tuple[int, ...]]:
    """The type of --hidden and --conv: positive ints joined by commas, or none."""
    def parse(text: str) -> tuple[int, ...]:
        if text.strip().lower() == "none":
            return ()
        try:
            sizes = tuple(int(part) for part in text.split(","))
        except ValueError:
            sizes = ()
        if not sizes or min(sizes) <= 0:
            raise argparse.ArgumentTypeError(
                f"invalid value {text!r}: expected {what} as positive ints joined by commas, "
                f"e.g. {example}, or none")
        return sizes
    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: needs a finite number > 0")
    return value


def _betas(text: str) -> tuple[float, float]:
    try:
        beta1, beta2 = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: expected two floats joined by a comma, e.g. 0.9,0.999"
        ) from None
    return beta1, beta2


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="minidl", description="minidl: train small networks on "
                     "scikit-learn datasets with RMSprop and friends on numba kernels.")
    parser.add_argument("--version", action="version", version=f"minidl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train an MLP on a dataset",
                                description="Train an MLP on a dataset; prints one line per "
                                "epoch and the final train and test metrics.")
    train.set_defaults(run=_train)
    model = train.add_argument_group("data and model")
    model.add_argument("--dataset", help="dataset name, one of those `minidl datasets` lists "
                       "(required unless --resume)")
    model.add_argument("--hidden", type=_sizes("layer widths", "128,128"),
                       help="widths of the hidden layers, comma "
                       "separated, or none (default: 64,64; none with --conv)")
    model.add_argument("--conv", type=_sizes("channel counts", "16,32"),
                       help="channels of the convolution blocks "
                       "(Conv2d 3x3 padding 1, activation, MaxPool2d 2) that run on the images "
                       "before the --hidden layers, comma separated, e.g. 16,32; image "
                       "datasets only (digits); with --conv, --hidden defaults to none")
    model.add_argument("--activation", choices=ACTIVATIONS,
                       help="activation after each hidden layer (default: relu)")
    training = train.add_argument_group("optimizer")
    training.add_argument("--optimizer", choices=OPTIMIZERS, help="update rule; momentum is "
                          "SGD with --momentum 0.9; lbfgs (with the strong Wolfe line search) "
                          "re-evaluates each batch in a closure and suits a --batch-size as "
                          "large as the data; muon is Muon on the weight matrices and AdamW "
                          "(lr 3e-4) on the biases (default: rmsprop)")
    training.add_argument("--lr", type=float, help="learning rate (default: the optimizer's "
                          "own: 1e-3 for sgd, momentum, adam, adamw, radam; 1e-2 for adagrad, rmsprop, rprop; "
                          "2e-3 for adamax, nadam; 1e-2 for adafactor, asgd; 1 for adadelta, "
                          "lbfgs, sgd_schedulefree; 1e-4 for lion; 1e-3 for adabelief; "
                          "2.5e-3 for adamw_schedulefree; 0.02 for muon, its Muon side)")
    training.add_argument("--momentum", type=float, help="momentum factor (sgd, momentum, "
                          "rmsprop, muon; default 0, 0.9 for momentum, 0.95 for muon)")
    training.add_argument("--dampening", type=float, help="dampening of the momentum "
                          "(sgd, momentum; default 0)")
    training.add_argument("--nesterov", action="store_true", default=None,
                          help="Nesterov momentum (sgd, momentum)")
    training.add_argument("--alpha", type=float, help="smoothing constant of the squared "
                          "gradient average (rmsprop; default 0.99)")
    training.add_argument("--centered", action="store_true", default=None, help="divide by "
                          "the estimated gradient variance, not the second moment (rmsprop)")
    training.add_argument("--eps-in-sqrt", action="store_true", default=None,
                          help="eps inside the square root, as TensorFlow (rmsprop)")
    training.add_argument("--lr-decay", type=float, help="learning rate decay (adagrad; "
                          "default 0)")
    training.add_argument("--initial-accumulator-value", type=float, help="initial value of "
                          "the squared gradient accumulator (adagrad, rmsprop; default 0)")
    training.add_argument("--betas", type=_betas, help="the two averaging coefficients, "
                          "comma separated (adam, adamw, adamax, nadam, radam; default 0.9,0.999)")
    training.add_argument("--eps", type=float, help="term added to the denominator "
                          "(adagrad 1e-10, rmsprop, adam, adamw, adamax, nadam, radam 1e-8, "
                          "adadelta 1e-6)")
    training.add_argument("--amsgrad", action="store_true", default=None,
                          help="AMSGrad variant (adam, adamw)")
    training.add_argument("--weight-decay", type=float, help="weight decay (all but rprop; "
                          "default 0, "
                          "1e-2 for adamw, which decouples it; muon decouples it on both sides)")
    training.add_argument("--clip-grad-norm", type=_positive_float, metavar="MAX",
                          help="clip the gradients' joint 2-norm to MAX before every step "
                          "(default: no clipping)")
    training.add_argument("--compile", action="store_true",
                          help="run each training step as a minidl.compile plan (the same "
                          "steps, faster; see README)")
    run = train.add_argument_group("run")
    run.add_argument("--epochs", type=_int_at_least(0), help="total number of epochs, "
                     f"counted from the start of the run (default: {DEFAULT_EPOCHS}; with "
                     "--resume, the resumed run's own)")
    run.add_argument("--batch-size", type=_int_at_least(1), help="mini-batch size "
                     "(default: 32)")
    run.add_argument("--device", choices=("auto", *kernels.BACKENDS), default="auto",
                     help="where the optimizer's update runs (default: auto: cuda where "
                     "usable, else cpu; the env var MINIDL_DEVICE overrides auto)")
    run.add_argument("--seed", type=_int_at_least(0), help="seeds the data split, the "
                     "initialisation and the shuffling (default: 0)")
    run.add_argument("--save", metavar="PATH", help="write a checkpoint (.npz) here after "
                     "every epoch, atomically")
    run.add_argument("--resume", metavar="PATH", help="continue the run of a checkpoint "
                     "written by --save; the model and training settings are the "
                     "checkpoint's (options that differ are refused)")
    run.add_argument("--plot", metavar="PNG", help="save loss and metric curves, and per "
                     "layer the gradient norm, update to weight ratio and effective learning "
                     "rate, to this image (needs matplotlib)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar (the "
                     "per-epoch lines are still printed)")

    listing = commands.add_parser("datasets", help="list the datasets with task, samples, "
                                  "features and classes",
                                  description="List the datasets --dataset accepts.")
    listing.set_defaults(run=_datasets)
    report = commands.add_parser("info", help="print versions, GPU and the backends",
                                 description="Print the environment report of minidl.info.")
    report.set_defaults(run=_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, or 2 after an error)."""
    try:
        args = build_parser().parse_args(argv)
        return _flushed(args.run(args))
    except SystemExit as done:  # --help and --version
        return _flushed(done.code if isinstance(done.code, int) else 0)
    except BrokenPipeError:
        return _flushed(EXIT_BROKEN_PIPE)
    except DivergenceError as error:
        print(f"minidl: error: {_one_line(error)}", file=sys.stderr)
        return 1
    except (UsageError, ValueError, OSError, MemoryError, kernels.BackendUnavailable) as error:
        print(f"minidl: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("minidl: interrupted", file=sys.stderr)
        return 130


def _flushed(status: int) -> int:
    """``status`` once stdout is flushed; EXIT_BROKEN_PIPE if its reader has gone.
    Then stdout points at /dev/null, so that Python's own flush at exit finds no
    broken pipe to complain about."""
    try:
        sys.stdout.flush()
        if status != EXIT_BROKEN_PIPE:
            return status
    except BrokenPipeError:
        pass
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is no file (captured in tests)
        pass
    return EXIT_BROKEN_PIPE


def _one_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return "; ".join(lines).replace(":;", ":")


# -- train ----------------------------------------------------------------------------------
def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _shown(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _settings(args: argparse.Namespace, saved: dict[str, Any] | None) -> dict[str, Any]:
    """The run's settings: the options given over the defaults, or the checkpoint's;
    with the optimizer options left out set to the values it gets (``_effective``)."""
    given = {key: getattr(args, key) for key in RUN_DEFAULTS if getattr(args, key) is not None}
    if saved is None:
        if "dataset" not in given:
            raise UsageError("the following arguments are required: --dataset (or --resume)")
        settings = {**RUN_DEFAULTS, **given}
        if settings["conv"] and "hidden" not in given:
            settings["hidden"] = ()
    else:
        used = _effective(saved)
        for key, value in given.items():
            if value != used.get(key):
                raise UsageError(
                    f"cannot resume {args.resume}: it was trained with {_flag(key)} "
                    f"{_shown(used.get(key))}, not {_shown(value)} (a resumed run keeps the "
                    f"checkpoint's model and training settings)")
        settings = dict(saved)
    name = settings["optimizer"]
    takes = OPTIMIZERS[name][2]
    for option in OPTIMIZER_OPTIONS:
        if settings[option] is not None and option not in takes:
            raise UsageError(f"{_flag(option)} does not apply to --optimizer {name} "
                             f"(it takes {', '.join(map(_flag, ('lr', *takes)))})")
    return _effective(settings)


def _effective(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` with each option of its optimizer that is None set to the value
    the optimizer gets: the CLI's default, else the optimizer's own. So the
    checkpoint records lr=0.01, not None, and ``--resume --lr 0.01`` matches."""
    cls, defaults, takes = OPTIMIZERS[settings["optimizer"]]
    own = inspect.signature(cls).parameters
    return {**settings, **{key: defaults.get(key, own[key].default)
                           for key in ("lr", *takes) if settings[key] is None}}


def layer_plan(input_shape: Sequence[int], conv: Sequence[int], hidden: Sequence[int],
               n_outputs: int) -> list[tuple[str, tuple[int, ...]]]:
    """The layers of ``minidl train``'s network, in order, as (kind, sizes), built
    by ``build`` and sized by ``parameter_shapes`` without allocating anything:
    per entry c of ``conv``, ("conv", (previous, c)) (Conv2d 3x3, padding 1),
    ("act", ()), ("pool", ()) (MaxPool2d(2): height and width halve), then
    ("flatten", ()); then the MLP: ("linear", (fan_in, fan_out)) with an
    ("act", ()) between two. ``input_shape`` is (C, H, W) with conv, else (features,)."""
    plan: list[tuple[str, tuple[int, ...]]] = []
    if conv:
        channels, height, width = input_shape
        for blocks, out_channels in enumerate(conv):
            if height < 2 or width < 2:
                raise UsageError(f"--conv {_shown(tuple(conv))}: each block halves the "
                                 f"{input_shape[1]}x{input_shape[2]} images, so at most "
                                 f"{blocks} blocks fit")
            plan += [("conv", (channels, out_channels)), ("act", ()), ("pool", ())]
            channels, height, width = out_channels, height // 2, width // 2
        plan.append(("flatten", ()))
        input_shape = (channels * height * width,)
    widths = [*input_shape, *hidden, n_outputs]
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        plan += [("linear", (fan_in, fan_out)), ("act", ())]
    return plan[:-1]


def parameter_shapes(plan: list[tuple[str, tuple[int, ...]]]) -> dict[str, tuple[int, ...]]:
    """The state_dict keys and shapes of ``build(plan, ...)``."""
    shapes: dict[str, tuple[int, ...]] = {}
    for index, (kind, sizes) in enumerate(plan):
        if kind == "conv":
            shapes[f"{index}.weight"] = (sizes[1], sizes[0], 3, 3)
        elif kind == "linear":
            shapes[f"{index}.weight"] = (sizes[1], sizes[0])
        if kind in ("conv", "linear"):
            shapes[f"{index}.bias"] = (sizes[1],)
    return shapes


def build(plan: list[tuple[str, tuple[int, ...]]], activation: str) -> nn.Sequential:
    """The nn.Sequential of ``plan``, with ``activation`` for each ("act", ())."""
    make = {"conv": lambda sizes: nn.Conv2d(*sizes, 3, padding=1),
            "act": lambda sizes: ACTIVATIONS[activation](),
            "pool": lambda sizes: nn.MaxPool2d(2), "flatten": lambda sizes: nn.Flatten(),
            "linear": lambda sizes: nn.Linear(*sizes)}
    return nn.Sequential(*(make[kind](sizes) for kind, sizes in plan))


def build_model(n_features: int, hidden: Sequence[int], activation: str, n_outputs: int
                ) -> nn.Sequential:
    """Linear(n_features, h1), activation, ..., Linear(h_last, n_outputs)."""
    return build(layer_plan((n_features,), (), hidden, n_outputs), activation)


def build_cnn(image_shape: Sequence[int], conv: Sequence[int], hidden: Sequence[int],
              activation: str, n_outputs: int) -> nn.Sequential:
    """Per entry c of ``conv``: Conv2d(previous, c, 3, padding=1), activation, MaxPool2d(2)
    (which halves height and width); then Flatten and the MLP of ``build_model``."""
    return build(layer_plan(image_shape, conv, hidden, n_outputs), activation)


def build_optimizer(settings: dict[str, Any], parameters: Any, device: str) -> optim.Optimizer:
    """The optimizer of ``settings``: its own defaults, then the CLI's, then the options given."""
    cls, defaults, takes = OPTIMIZERS[settings["optimizer"]]
    options = {**defaults, **{key: settings[key] for key in ("lr", *takes)
                              if settings[key] is not None}}
    return cls(parameters, **options, device=device)


def _checkpoint(path: str) -> dict[str, Any]:
    """The checkpoint at ``path``; CheckpointError unless `minidl train --save` could
    have written it (the optimizer checks its own options' ranges)."""
    if not os.path.isfile(path):
        what = "is a directory" if os.path.isdir(path) else "does not exist"
        raise UsageError(f"--resume {path}: {what}; give a checkpoint written by --save")
    checkpoint = load(path)
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f"{path}: not a checkpoint of `minidl train --save`: it holds "
                              f"one {type(checkpoint).__name__}")
    if isinstance(checkpoint.get("args"), dict):   # written before these options existed
        checkpoint["args"].setdefault("clip_grad_norm", None)
        checkpoint["args"].setdefault("conv", ())
    problem = _not_from_train(checkpoint)
    if problem is not None:
        raise CheckpointError(f"{path}: not a checkpoint of `minidl train --save`: {problem}")
    return checkpoint


def _not_from_train(checkpoint: dict[str, Any]) -> str | None:
    """What ``_train`` could not use in ``checkpoint``, or None."""
    missing = [key for key in ("model", "optimizer", "args", "epoch", "history")
               if key not in checkpoint]
    if missing:
        return f"it has no {', '.join(missing)}"
    args = checkpoint["args"]
    if not isinstance(args, dict):
        return f"its args are a {type(args).__name__}, not a dict"
    missing = [f"args[{key!r}]" for key in (*RUN_DEFAULTS, "epochs") if key not in args]
    if missing:
        return f"it has no {', '.join(missing)}"
    for key, choices in (("activation", ACTIVATIONS), ("optimizer", OPTIMIZERS),
                         ("dataset", minidl_datasets.names())):
        if not isinstance(args[key], str) or args[key] not in choices:
            return f"args[{key!r}] is {args[key]!r}, not one of {', '.join(choices)}"
    for name, value, low, high in (("epoch", checkpoint["epoch"], 0, sys.maxsize),
                                   ("args['epochs']", args["epochs"], 0, sys.maxsize),
                                   ("args['batch_size']", args["batch_size"], 1, sys.maxsize),
                                   ("args['seed']", args["seed"], 0, 2**32 - 1)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"{name} is {value!r}, not an int from {low} to {high}"
    for key in ("hidden", "conv"):
        sizes = args[key]
        if not isinstance(sizes, (tuple, list)) or not all(
                isinstance(size, int) and not isinstance(size, bool) and size > 0
                for size in sizes):
            return f"args[{key!r}] is {sizes!r}, not a list of positive ints"
        args[key] = tuple(sizes)
    for key in ("lr", *OPTIMIZER_OPTIONS, "clip_grad_norm"):
        value, flag = args[key], key in ("nesterov", "centered", "eps_in_sqrt", "amsgrad")
        kinds = (bool,) if flag else (tuple, list) if key == "betas" else (int, float)
        if value is not None and (not isinstance(value, kinds)
                                  or (not flag and isinstance(value, bool))):
            return f"args[{key!r}] is {value!r}, not {'a bool' if flag else 'a number'} or None"
    history = checkpoint["history"]
    if not isinstance(history, dict) or not all(isinstance(values, list)
                                                for values in history.values()):
        return "its history is not a dict of lists"
    return None


class _EpochLog:
    """Prints a line per epoch, keeps the run's history, and writes the checkpoint."""

    def __init__(self, start: int, total: int, history: dict[str, list[float]],
                 save_path: str | None, state: dict[str, Any]):
        self.start, self.total, self.history = start, total, history
        self.save_path, self.state = save_path, state
        self.saved: int | None = None  # the epoch last written to save_path

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        number = self.start + epoch + 1
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        values = "  ".join(f"{key} {value:.4f}" for key, value in logs.items())
        from tqdm.auto import tqdm
        tqdm.write(f"epoch {number:>{len(str(self.total))}}/{self.total}  {values}",
                   file=sys.stdout)
        if self.save_path is not None:
            save(self.save_path, epoch=number, history=self.history, **self.state)
            self.saved = number
        return False


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse --save and --plot paths that cannot be written before training, not after:
    an empty or too long name, a directory, a device, a missing or unwritable
    folder, a --plot format matplotlib cannot write, and two outputs (or --plot
    and --resume) that are one file."""
    for flag, path in (("--save", args.save), ("--plot", args.plot)):
        if path is None:
            continue
        if os.path.isdir(path):
            raise UsageError(f"{flag} {path}: is a directory, not a file name")
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise UsageError(f"{flag} {path}: its directory does not exist")
        longest = _name_max(directory)
        if len(os.fsencode(os.path.basename(path))) > longest:
            raise UsageError(f"{flag} {path[:40]}...: the file name is longer than the "
                             f"{longest} bytes its file system takes")
        try:
            target(path)
        except OSError as error:
            raise UsageError(f"{flag}: {error}") from None
        try:  # write as save does: a new file beside it (os.access misleads root)
            with tempfile.NamedTemporaryFile(dir=directory, prefix=".minidl-probe-"):
                pass
        except OSError as error:
            raise UsageError(f"{flag} {path}: cannot write in its directory "
                             f"({error.strerror or error})") from None
    if args.plot is not None and importlib.util.find_spec("matplotlib") is None:
        raise UsageError("--plot needs matplotlib, which is not installed "
                         "(pip install matplotlib)")
    if args.plot is not None:
        _check_plot_format(args.plot)
    paths = [(flag, os.path.realpath(path)) for flag, path in
             (("--save", args.save), ("--plot", args.plot), ("--resume", args.resume))
             if path is not None]
    for i, (flag, path) in enumerate(paths):
        for other, other_path in paths[i + 1:]:
            if path == other_path and "--plot" in (flag, other):
                raise UsageError(f"{flag} and {other} name the same file {path}: the "
                                 f"figure would overwrite the checkpoint")


def _name_max(directory: str) -> int:
    """The longest file name, in bytes, that ``directory``'s file system takes."""
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):
        return NAME_MAX


def _check_plot_format(path: str) -> None:
    """UsageError unless matplotlib can write ``path``'s format (png without a suffix)."""
    from matplotlib.figure import Figure

    suffix = os.path.splitext(path)[1][1:].lower()
    formats = Figure().canvas.get_supported_filetypes()
    if suffix and suffix not in formats:
        raise UsageError(f"--plot {path}: matplotlib cannot write .{suffix} files; use one "
                         f"of {', '.join('.' + name for name in sorted(formats))}")


def _train(args: argparse.Namespace) -> int:
    checkpoint = None if args.resume is None else _checkpoint(args.resume)
    settings = _settings(args, None if checkpoint is None else checkpoint["args"])
    epochs = args.epochs if args.epochs is not None else (
        DEFAULT_EPOCHS if checkpoint is None else checkpoint["args"]["epochs"])
    if checkpoint is not None and epochs < checkpoint["epoch"]:
        raise UsageError(f"--epochs {epochs}: {args.resume} has already trained "
                         f"{checkpoint['epoch']} epochs (--epochs counts the whole run; "
                         f"pass more than {checkpoint['epoch']} to train on)")
    _check_outputs(args)
    device = kernels.resolve(args.device)
    _check_optimizer_options(settings, device,
                             "" if checkpoint is None else f"{args.resume}: the run's ")

    name = settings["dataset"]
    classification = minidl_datasets.task(name) == "classification"
    conv = settings["conv"]
    if conv and name not in minidl_datasets.IMAGE_SHAPES:
        raise UsageError(f"--conv needs an image dataset "
                         f"({', '.join(minidl_datasets.IMAGE_SHAPES)}); {name!r} is not one")
    split = minidl_datasets.load(name, seed=settings["seed"],
                                 standardize_target=not classification, images=bool(conv))
    loss_fn = nn.CrossEntropyLoss() if classification else nn.MSELoss()
    metrics = ("accuracy",) if classification else ("r2",)
    n_outputs = split.n_classes if classification else 1

    plan = layer_plan(split.X_train.shape[1:], conv, settings["hidden"], n_outputs)
    if checkpoint is not None:   # before the model is allocated: its args may lie
        _check_shapes(args.resume, checkpoint["model"], parameter_shapes(plan))
    manual_seed(settings["seed"])
    model = build(plan, settings["activation"])
    optimizer = build_optimizer(settings, model.parameters(), device)
    loader = DataLoader(split.X_train, split.y_train, batch_size=settings["batch_size"],
                        shuffle=True, seed=settings["seed"])
    start, history = 0, {}
    if checkpoint is not None:
        try:
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
            restore_rng(checkpoint, loader)
        except (KeyError, TypeError, ValueError, ArithmeticError, RecursionError) as error:
            raise CheckpointError(f"{args.resume}: does not fit this run: {error}") from error
        start, history = checkpoint["epoch"], checkpoint["history"]

    inputs = next(layer for layer in model if isinstance(layer, nn.Linear)).in_features
    widths = "-".join(map(str, (inputs, *settings["hidden"], n_outputs)))
    if conv:
        widths = f"{widths} after conv {'-'.join(map(str, conv))}"
    print(f"{split.name}: {split.task}, {len(split.y_train)} train / {len(split.y_test)} test "
          f"samples | MLP {widths} {settings['activation']} | {settings['optimizer']} "
          f"lr={optimizer.param_groups[0]['lr']:g} on {optimizer.device} | "
          f"validation: the test split")
    if checkpoint is not None:
        until = ("--epochs" if args.epochs is not None
                 else "the run's --epochs; pass --epochs to change it")
        print(f"resumed from {args.resume} at epoch {start}, to train to epoch {epochs} "
              f"({until})")
        if args.save is None:
            print(f"not saving checkpoints of the resumed run: pass --save (it may be "
                  f"{args.resume} itself) to keep them")
    state = {"model": model, "optimizer": optimizer, "loader": loader,
             "args": {**settings, "epochs": epochs}}
    log = _EpochLog(start, epochs, history, args.save, state)
    stats = None if args.plot is None else OptimizerStats(optimizer)   # for --plot's panels
    # fit reports a diverging run itself: numpy's overflow warnings would only add noise.
    with np.errstate(all="ignore"):
        before = (evaluate(model, loss_fn, (split.X_train, split.y_train), metrics=())["loss"]
                  if epochs > start else None)
        if epochs > start:
            _fit_run(model, loss_fn, optimizer, loader, split, metrics, log,
                     progress=not args.no_progress and progress_bar_redraws(),
                     clip_grad_norm=settings["clip_grad_norm"], compile=args.compile,
                     callbacks=[log] if stats is None else [stats, log])
        else:
            print(f"nothing to train: the run is at epoch {start} of {epochs}")
        train_logs = evaluate(model, loss_fn, (split.X_train, split.y_train), metrics=metrics)
        test_logs = evaluate(model, loss_fn, (split.X_test, split.y_test), metrics=metrics)
    print("final: " + " | ".join(
        f"{part} " + " ".join(f"{key} {value:.4f}" for key, value in logs.items())
        for part, logs in (("train", train_logs), ("test", test_logs))))
    if args.plot is not None:
        training_curves(history, args.plot, metrics[0], stats, first_epoch=start + 1)
        print(f"curves saved to {args.plot}")
    if before is not None and not train_logs["loss"] <= before:
        print(f"minidl: error: training made the loss worse: {before:.4g} before, "
              f"{train_logs['loss']:.4g} after; the run did not learn; try a smaller --lr "
              f"than {optimizer.param_groups[0]['lr']:g}", file=sys.stderr)
        return 1
    return 0


def _check_optimizer_options(settings: dict[str, Any], device: str, source: str) -> None:
    """Build the optimizer of ``settings`` on one number, so that an option it refuses
    stops the run before any work, in a message that names the option's flag (the
    first option refused on its own, the others at their defaults) after
    ``source`` (where the settings come from: "" for the command line)."""
    def refusal(options: dict[str, Any]) -> ValueError | None:
        try:
            build_optimizer(options, [Tensor(np.zeros(1, np.float32), requires_grad=True)],
                            device)
        except ValueError as error:
            return error
        return None

    error = refusal(settings)
    if error is None:
        return
    keys = ("lr", *OPTIMIZERS[settings["optimizer"]][2])
    for key in keys:
        if refusal({**settings, **{other: None for other in keys if other != key}}):
            raise UsageError(f"{source}{_flag(key)} {_shown(settings[key])}: {error}") from None
    raise UsageError(f"{source}{error}") from None


def _check_shapes(path: str, state: Any, shapes: dict[str, tuple[int, ...]]) -> None:
    """CheckpointError unless ``state`` holds an array of each shape the run's
    network needs, by its state_dict key: checked before the network is built."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: its model is a {type(state).__name__}, not a state dict")
    for key, shape in shapes.items():
        found = np.shape(state[key]) if key in state else None
        if found != shape:
            have = "no such entry" if found is None else f"one of shape {found}"
            raise CheckpointError(f"{path}: does not fit this run: its settings build a "
                                  f"network whose {key} has shape {shape}, the checkpoint "
                                  f"holds {have}")


def _fit_run(model: nn.Module, loss_fn: nn.Module, optimizer: optim.Optimizer,
             loader: DataLoader, split: Any, metrics: tuple[str, ...], log: _EpochLog,
             progress: bool, clip_grad_norm: float | None, callbacks: list[Any],
             compile: bool = False) -> None:
    """fit the epochs from ``log.start`` to ``log.total``; a DivergenceError is
    reworded for the command line: the run's epoch, --lr, what --save holds."""
    try:
        fit(model, loss_fn, optimizer, loader, val_data=(split.X_test, split.y_test),
            epochs=log.total - log.start, metrics=metrics, progress=progress,
            callbacks=callbacks, clip_grad_norm=clip_grad_norm, compile=compile)
    except DivergenceError as error:
        epoch = log.start + error.epoch
        where = f"epoch {epoch}/{log.total}" + ("" if error.batch is None
                                               else f", batch {error.batch}")
        what = "weights" if error.loss is None else f"loss ({error.loss})"
        kept = "" if log.saved is None else f"; {log.save_path} keeps epoch {log.saved}"
        raise DivergenceError(
            f"training diverged at {where}: non-finite {what}; try a smaller --lr than "
            f"{optimizer.param_groups[0]['lr']:g}{kept}", epoch=epoch, batch=error.batch,
            loss=error.loss) from None


# -- datasets and info ------------------------------------------------------------------------
def _datasets(args: argparse.Namespace) -> int:
    rows = [("name", "task", "samples", "features", "classes")]
    for name in minidl_datasets.names():
        samples, features, classes = minidl_datasets.summary(name)
        rows.append((name, minidl_datasets.task(name), str(samples), str(features),
                     "-" if classes is None else str(classes)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) if i < 2 else cell.rjust(width)
                        for i, (cell, width) in enumerate(zip(row, widths))).rstrip())
    return 0


def _info(args: argparse.Namespace) -> int:
    from .info import info

    info()
    return 0
