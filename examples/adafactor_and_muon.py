"""RMSprop's lineage continued: Adafactor factors its second moment, Muon its step.

    RMSprop    v = a v + (1 - a) g^2;  p -= lr g / sqrt(v)          (v: one number per weight)
    Adafactor  the same v of an (n, m) matrix kept as row means R (n numbers) and
               column means C (m numbers), rebuilt as V = R C / mean(R); the step
               is relative, max(1e-3, RMS(p)) * min(lr, 1/sqrt(t)), and clipped
    Muon       the momentum of a matrix replaced by the nearest (semi-)orthogonal
               matrix, by a Newton-Schulz iteration: every direction moves alike

Two claims, measured:

1. Adafactor matches RMSprop's steps with a fraction of the state: on the digits
   MLP (64-128-128-10) its update-to-weight ratio per layer (lr 2e-2: a step of
   2% of the weights' RMS) is within 2x of RMSprop's (lr 1e-3), its test
   accuracy within 0.03, while its optimizer state
   takes under a tenth of RMSprop's bytes (printed).
2. Muon's iteration flattens the gradient's spectrum: along the singular
   directions of one batch's gradient above 1% of the largest (which span
   about 100x), the orthogonalised update's singular values lie in [0.6, 1.2].

    python examples/adafactor_and_muon.py [--epochs 10] [--out examples/out]
"""
from __future__ import annotations

from typing import Any

import numpy as np

import minidl
import minidl.datasets
from common import integer_epochs, parser, pyplot, save_figure, verdict
from minidl import nn
from minidl.kernels.reference import newton_schulz
from minidl.optim import Adafactor, RMSprop
from minidl.train import History, OptimizerStats

OPTIMIZERS = {"RMSprop": lambda params: RMSprop(params, lr=1e-3),
              "Adafactor": lambda params: Adafactor(params, lr=2e-2)}


def state_bytes(optimizer: Any) -> int:
    """Bytes of the optimizer's state arrays (its state_dict, the step counts left out)."""
    return sum(np.asarray(value).nbytes for entry in optimizer.state_dict()["state"].values()
               for key, value in entry.items() if key != "step")


def train(name: str, split: Any, epochs: int, seed: int) -> tuple[History, History, int, int]:
    """The MLP trained with ``name``: its History, OptimizerStats' history, the
    optimizer's state bytes and the number of parameters."""
    minidl.manual_seed(seed)
    model = nn.mlp([64, 128, 128, 10])
    optimizer = OPTIMIZERS[name](model.parameters())
    stats = OptimizerStats(optimizer)
    history = minidl.fit(model, nn.CrossEntropyLoss(), optimizer, (split.X_train, split.y_train),
                         (split.X_test, split.y_test), epochs=epochs, batch_size=64,
                         progress=False, seed=seed, callbacks=[stats])
    return history, stats.history, state_bytes(optimizer), sum(p.size for p in
                                                                 model.parameters())


def spectra(split: Any, seed: int) -> dict[str, np.ndarray]:
    """Singular values of one batch's gradient of the 128x128 layer above 1% of the
    largest, and the orthogonalised update's along the same singular directions."""
    minidl.manual_seed(seed)
    model = nn.mlp([64, 128, 128, 10])
    X = minidl.tensor(split.X_train[:64].astype(np.float32))
    nn.CrossEntropyLoss()(model(X), minidl.tensor(split.y_train[:64])).backward()
    grad = np.asarray(model[2].weight.grad, np.float64)
    update = newton_schulz(grad, 3.4445, -4.7750, 2.0315, 5, 1e-7)   # Muon's defaults
    u, sigma, vt = np.linalg.svd(grad, full_matrices=False)
    keep = sigma > 1e-2 * sigma[0]
    along = np.abs(np.einsum("ij,jk,ki->i", u.T[keep], update, vt[keep].T))
    return {"gradient": sigma[keep] / sigma[0], "Muon's update": along}


def main() -> None:
    args = parser(__doc__, epochs=10).parse_args()
    split = minidl.datasets.load("digits", seed=args.seed)
    runs = {name: train(name, split, args.epochs, args.seed) for name in OPTIMIZERS}

    print("1. Adafactor matches RMSprop's steps with a fraction of the state")
    rmsprop, adafactor = runs["RMSprop"], runs["Adafactor"]
    ratios = {}
    for layer in ("0", "2", "4"):
        key = f"{layer}.update_ratio"
        ratios[layer] = np.mean(adafactor[1][key]) / np.mean(rmsprop[1][key])
        print(f"   layer {layer}: mean update/weight ratio {np.mean(rmsprop[1][key]):.2e} "
              f"(RMSprop), {np.mean(adafactor[1][key]):.2e} (Adafactor): x{ratios[layer]:.2f}")
    accuracy = {name: run[0].val_accuracy[-1] for name, run in runs.items()}
    per_param = {name: run[2] / run[3] for name, run in runs.items()}
    for name, run in runs.items():
        print(f"   {name:9s} test accuracy {accuracy[name]:.3f}, state {run[2]:,} bytes "
              f"for {run[3]:,} parameters ({per_param[name]:.3f} bytes each)")
    steps_match = all(0.5 <= ratio <= 2.0 for ratio in ratios.values())
    close = abs(accuracy["Adafactor"] - accuracy["RMSprop"]) <= 0.03
    small = runs["Adafactor"][2] < 0.1 * runs["RMSprop"][2]
    first = steps_match and close and small
    print(f"   steps within 2x of RMSprop's per layer, accuracy within 0.03, under a tenth "
          f"of the state ({verdict(first)})")

    print("2. Muon's iteration flattens the gradient's spectrum")
    spectrum = spectra(split, args.seed)
    grad, update = spectrum["gradient"], spectrum["Muon's update"]
    print(f"   {len(grad)} singular directions above 1% of the largest: the gradient's span "
          f"{grad.max() / grad.min():.0f}x, Muon's update {update.min():.2f} .. {update.max():.2f}")
    second = grad.max() / grad.min() > 10 and 0.6 <= update.min() and update.max() <= 1.2
    print(f"   the update's singular values lie in [0.6, 1.2] ({verdict(second)})")
    print(f"{int(first) + int(second)} of 2 claims hold.")

    plt = pyplot()
    if plt is None:
        return
    figure, (loss_axis, bytes_axis, spectrum_axis) = plt.subplots(
        1, 3, figsize=(15, 4.2), layout="constrained")
    for color, (name, run) in zip(("C0", "C1"), runs.items()):
        epochs = range(1, run[0].epochs + 1)
        loss_axis.plot(epochs, run[0].loss, color=color, label=f"{name} train", marker="o")
        loss_axis.plot(epochs, run[0].val_loss, "--", color=color, label=f"{name} test")
    loss_axis.set(yscale="log", xlabel="epoch", ylabel="cross-entropy loss (log)",
                  title="digits MLP, 64-128-128-10")
    integer_epochs(loss_axis)
    loss_axis.legend()
    names = ["RMSprop", "Adam", "Adafactor"]
    values = [per_param["RMSprop"], 2 * per_param["RMSprop"], per_param["Adafactor"]]  # Adam: m, v
    bars = bytes_axis.bar(names, values, color=["C0", "C2", "C1"], label="state bytes / param")
    bytes_axis.bar_label(bars, fmt="%.3f")
    bytes_axis.set(xlabel="optimizer", ylabel="optimizer state, bytes per parameter",
                   title="the memory Adafactor saves (float32)", ylim=(0, 1.25 * max(values)))
    bytes_axis.legend()
    for name, values in spectrum.items():
        spectrum_axis.plot(np.arange(1, len(values) + 1), values, marker=".", label=name)
    spectrum_axis.set(yscale="log", xlabel="singular direction (largest first)",
                      ylabel="singular value (gradient: / largest)",
                      title="Muon orthogonalises: all directions alike")
    spectrum_axis.legend()
    save_figure(figure, args.out, "adafactor_and_muon.png")


if __name__ == "__main__":
    main()
