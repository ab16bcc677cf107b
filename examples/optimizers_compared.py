"""Eighteen optimizers on the same network, data and seed: handwritten digits.

A 64-128-128-10 ReLU MLP starts from the same initial weights and sees the
same mini-batches in the same order under SGD, SGD with momentum, Adagrad,
RMSprop, Adam, RMSprop's family (Rprop, Adadelta, Adamax, NAdam, RAdam) and
its shape-aware descendants (Adafactor, Muon), L-BFGS, and its elementwise
descendants (ASGD, Lion, AdaBelief, schedule-free AdamW and SGD), each with a
customary learning rate. Only the update rule differs:

    SGD        p -= lr * g
    momentum   b = mu * b + g;             p -= lr * b
    Adagrad    s += g^2;                   p -= lr * g / (sqrt(s) + eps)
    RMSprop    v = a * v + (1 - a) * g^2;  p -= lr * g / (sqrt(v) + eps)
    Adam       RMSprop's v plus a momentum m, both bias-corrected
    Rprop      a step size per coordinate, moved by the sign of g only
    Adadelta   RMSprop with lr replaced by the RMS of past updates
    Adamax     Adam with max(beta2 * u, |g|) in place of the RMS
    NAdam      Adam with Nesterov momentum
    RAdam      Adam that takes momentum steps until its v is trustworthy
    Adafactor  RMSprop's v of a matrix kept as row and column means; relative steps
    Muon       the momentum of each weight matrix orthogonalised (biases: AdamW)
    L-BFGS     a quasi-Newton step from the last gradient differences, with a line
               search: a full-batch method, here given one mini-batch per step
    ASGD       SGD with a decaying step and an average of the iterates
    Lion       p -= lr * sign(interpolated momentum): every coordinate moves by lr
    AdaBelief  Adam dividing by the RMS of (g - m) instead of g
    SF AdamW   schedule-free: RMSprop-scaled steps, the params their average
    SF SGD     schedule-free SGD

The plot shows the training loss and the test accuracy per epoch; the table
gives the final values and the training time (after an untimed warm-up epoch in
which numba compiles, or loads from its cache, each optimizer's update kernel:
on a fresh machine that takes seconds and would swamp the comparison).

Rprop's row pairs a high loss with a high accuracy, and the script prints
why, measured: Rprop is a full-batch method. On mini-batches the gradient's
sign flips from batch to batch, so most step sizes shrink to step_size_min,
while the few coordinates whose sign holds grow by 1.2 per step up to
step_size_max = 50. Those weights grow large, the logits with them: the
network is certain of every answer, and its few wrong answers cost a large
cross-entropy each, so the mean loss is high while the accuracy stays.
L-BFGS's flat curves get a note too: its line search ends at a step of 0 on
these mini-batches and the weights stop moving, as torch.optim.LBFGS's do.

    python examples/optimizers_compared.py [--epochs 20] [--out examples/out]
"""
from __future__ import annotations

import textwrap
import time
from typing import Any, Callable

import numpy as np

import minidl
import minidl.datasets
import minidl.nn as nn
from common import integer_epochs, parser, pyplot, save_figure, table
from minidl.datasets import Split
from minidl.optim import (ASGD, LBFGS, SGD, AdaBelief, Adadelta, Adafactor, Adagrad, Adam,
                          Adamax, AdamWScheduleFree, Lion, MuonWithAuxAdamW, NAdam, RAdam,
                          RMSprop, Rprop, SGDScheduleFree)
from minidl.train import History

MakeOptimizer = Callable[[Any], Any]
OPTIMIZERS: dict[str, tuple[str, MakeOptimizer]] = {
    "SGD": ("lr=0.1", lambda params: SGD(params, lr=0.1)),
    "SGD momentum": ("lr=0.01, momentum=0.9", lambda params: SGD(params, lr=0.01, momentum=0.9)),
    "Adagrad": ("lr=0.01", lambda params: Adagrad(params, lr=0.01)),
    "RMSprop": ("lr=0.001, alpha=0.99", lambda params: RMSprop(params, lr=1e-3)),
    "Adam": ("lr=0.001, betas=(0.9, 0.999)", lambda params: Adam(params, lr=1e-3)),
    "Rprop": ("lr=0.001 (initial step)", lambda params: Rprop(params, lr=1e-3)),
    "Adadelta": ("lr=1, rho=0.9", lambda params: Adadelta(params, lr=1.0)),
    "Adamax": ("lr=0.002", lambda params: Adamax(params, lr=2e-3)),
    "NAdam": ("lr=0.002", lambda params: NAdam(params, lr=2e-3)),
    "RAdam": ("lr=0.001", lambda params: RAdam(params, lr=1e-3)),
    "Adafactor": ("lr=0.01 (relative)", lambda params: Adafactor(params, lr=1e-2)),
    "Muon": ("lr=0.02, weight_decay=0.1; AdamW lr=0.001", lambda params: MuonWithAuxAdamW(
        params, weight_decay=0.1, adamw_lr=1e-3)),
    "L-BFGS": ("lr=1, strong Wolfe, 1 iteration", lambda params: LBFGS(
        params, max_iter=1, history_size=10, line_search_fn="strong_wolfe")),
    "ASGD": ("lr=0.1", lambda params: ASGD(params, lr=0.1)),
    "Lion": ("lr=0.0003", lambda params: Lion(params, lr=3e-4)),
    "AdaBelief": ("lr=0.001, eps=1e-16", lambda params: AdaBelief(params, lr=1e-3)),
    "SF AdamW": ("lr=0.0025", lambda params: AdamWScheduleFree(params, lr=2.5e-3)),
    "SF SGD": ("lr=0.5, momentum=0.9", lambda params: SGDScheduleFree(params, lr=0.5)),
}


def train(make_optimizer: MakeOptimizer, split: Split, epochs: int, seed: int
          ) -> tuple[History, float, Any]:
    """A fresh MLP (the same initial weights for every optimizer) trained with
    ``make_optimizer``; return its History, the seconds ``fit`` took, the optimizer."""
    minidl.manual_seed(seed)
    model = nn.mlp([64, 128, 128, 10])
    optimizer = make_optimizer(model.parameters())
    start = time.perf_counter()
    history = minidl.fit(model, nn.CrossEntropyLoss(), optimizer, (split.X_train, split.y_train),
                         (split.X_test, split.y_test), epochs=epochs, batch_size=64,
                         progress=False, seed=seed)
    return history, time.perf_counter() - start, optimizer


def rprop_note(optimizer: Rprop, history: History) -> str:
    """Why Rprop's loss is high beside a high accuracy, with this run's numbers."""
    state = optimizer.state_dict()["state"].values()
    sizes = np.concatenate([entry["step_size"].ravel() for entry in state])
    largest = max(float(np.abs(np.asarray(p)).max()) for p in optimizer.param_groups[0]["params"])
    return (f"Rprop: test loss {history.val_loss[-1]:.3g} beside test accuracy "
            f"{history.val_accuracy[-1]:.3g}. On mini-batches the gradient's sign flips from "
            f"batch to batch: the median step size has shrunk to {np.median(sizes):.2g} "
            f"(step_size_min 1e-6), while coordinates whose sign holds grew to "
            f"{sizes.max():.3g} (step_size_max 50); the largest weight is now {largest:.4g}. "
            f"Logits that large make the network certain of every answer, and each wrong one "
            f"costs a large cross-entropy. Rprop is a full-batch method (rmsprop_family.py).")


def lbfgs_note(optimizer: LBFGS, history: History) -> str:
    """Why L-BFGS's curves are flat, with this run's numbers."""
    state = next(iter(optimizer.state_dict()["state"].values()))
    losses = history.loss   # an epoch's mean over its batches: equal to rounding once still
    still = next(epoch for epoch in range(len(losses), 0, -1)
                 if epoch == 1 or not np.isclose(losses[epoch - 2], losses[-1], rtol=1e-6))
    return (f"L-BFGS: training loss {losses[-1]:.3g}, unchanged since epoch {still}. Each step "
            f"sees another mini-batch than the one before, so its curvature pairs (s, y) mix "
            f"two batches' gradients; here the strong Wolfe line search ended with step "
            f"t = {float(state['t']):g}, and the weights stand still "
            f"({state['n_iter']} iterations in all). torch.optim.LBFGS does the same on these "
            f"batches; L-BFGS is a full-batch method: give it the whole training set as one "
            f"batch (fit(batch_size=len(X)), or the estimators' optimizer='lbfgs' with "
            f"batch_size >= n_samples).")


def main() -> None:
    args = parser(__doc__, epochs=20).parse_args()
    plt = pyplot()
    split = minidl.datasets.load("digits", seed=args.seed)
    histories, rows = {}, []
    for name, (settings, make_optimizer) in OPTIMIZERS.items():
        train(make_optimizer, split, 1, args.seed)  # warm-up: compiles the kernel, not timed
        history, seconds, optimizer = train(make_optimizer, split, args.epochs, args.seed)
        if name == "Rprop":
            notes = [rprop_note(optimizer, history)]
        if name == "L-BFGS":
            notes.append(lbfgs_note(optimizer, history))
        histories[name] = history
        rows.append([name, settings, history.loss[-1], history.val_loss[-1],
                     history.val_accuracy[-1], seconds])

    print(f"digits, MLP 64-128-128-10, batch 64, {args.epochs} epochs, seed {args.seed}")
    print(table(["optimizer", "settings", "train loss", "test loss", "test accuracy",
                 "seconds"], rows))
    for note in notes:
        print("\n" + textwrap.fill(note, 92))
    if plt is None:
        return
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(14, 4.5), layout="constrained")
    for index, (name, history) in enumerate(histories.items()):
        epochs = range(1, history.epochs + 1)
        marker = "o" if history.epochs == 1 else None   # one point draws no line
        # the five classics solid, RMSprop's family dashed, their descendants dotted
        style = "-" if index < 5 else "--" if index < 10 else ":"
        loss_axis.plot(epochs, history.loss, style, label=name, marker=marker)
        accuracy_axis.plot(epochs, history.val_accuracy, style, label=name, marker=marker)
    loss_axis.set(yscale="log", xlabel="epoch", ylabel="cross-entropy loss (log)",
                  title="training loss")
    accuracy_axis.set(xlabel="epoch", ylabel="accuracy", title="test accuracy")
    for axis in (loss_axis, accuracy_axis):
        integer_epochs(axis)
        axis.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")  # beside
    save_figure(figure, args.out, "optimizers_compared.png")


if __name__ == "__main__":
    main()
