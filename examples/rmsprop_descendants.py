"""RMSprop's descendants, each claim measured: Lion, AdaBelief, schedule-free AdamW.

    Lion       p -= lr * sign(b1 * m + (1 - b1) * g);  m = b2 * m + (1 - b2) * g
               RMSprop divides g by its RMS so that every coordinate moves by
               about lr; Lion moves every coordinate by exactly lr
    AdaBelief  Adam with s = b2 * s + (1 - b2) * (g - m)^2 in place of v: it
               divides by how far g strays from its average, its "belief"
    schedule-free AdamW
               RMSprop-scaled steps on a sequence z, the parameters an average
               of the z's: no learning-rate schedule, no run length to know

Three claims, each checked:

1. Lion's update has the same size in every coordinate: on the digits network
   (float64) every coordinate that moves moves by exactly lr, where Adam's
   steps spread over more than a factor 10.
2. AdaBelief takes larger steps where gradients agree and smaller ones where
   they are noisy: two coordinates with the same mean gradient, one steady and
   one noisy; AdaBelief's steps on them differ far more than Adam's.
3. Schedule-free AdamW with a constant lr reaches the test loss of AdamW with a
   cosine schedule, each with its best lr from the same grid, on the digits
   network (within 1.25x), though the cosine schedule was told the run's length.

    python examples/rmsprop_descendants.py [--epochs 12] [--out examples/out]
"""
from __future__ import annotations

import numpy as np

import minidl
import minidl.datasets
import minidl.nn as nn
from common import integer_epochs, parser, pyplot, save_figure, verdict
from minidl import Tensor
from minidl.optim import Adam, AdamW, AdamWScheduleFree, AdaBelief, Lion
from minidl.optim.lr_scheduler import CosineAnnealingLR

LR_GRID = (1e-3, 3e-3, 1e-2, 3e-2)
STEADY, NOISY = 0.1, 3.0            # the noise of the two coordinates' gradients (mean 1)


def update_sizes(make, split, steps: int, seed: int) -> np.ndarray:
    """|p_new - p_old| of every coordinate of the digits MLP (float64), over ``steps``
    mini-batch steps from the same start."""
    minidl.manual_seed(seed)
    model = nn.mlp([64, 32, 10]).double()
    optimizer = make(model.parameters())
    loss_fn, rng = nn.CrossEntropyLoss(), np.random.default_rng(seed)
    sizes = []
    for _ in range(steps):
        batch = rng.choice(len(split.X_train), 64, replace=False)
        before = [np.asarray(p).copy() for p in model.parameters()]
        optimizer.zero_grad()
        loss_fn(model(Tensor(split.X_train[batch], dtype=np.float64)),
                Tensor(split.y_train[batch])).backward()
        optimizer.step()
        sizes += [np.abs(np.asarray(p) - b).reshape(-1) for p, b in zip(model.parameters(),
                                                                          before)]
    return np.concatenate(sizes)


def two_coordinate_steps(make, steps: int, seed: int) -> np.ndarray:
    """|step| per step of two coordinates whose gradients have mean 1, noise STEADY and NOISY."""
    param = Tensor(np.zeros(2), requires_grad=True, dtype=np.float64)
    optimizer, rng = make([param]), np.random.default_rng(seed)
    sizes = []
    for _ in range(steps):
        before = np.asarray(param).copy()
        param.grad = 1 + np.array([STEADY, NOISY]) * rng.standard_normal(2)
        optimizer.step()
        sizes.append(np.abs(np.asarray(param) - before))
    return np.array(sizes)


def test_losses(make, split, epochs: int, seed: int, cosine: bool) -> list[float]:
    """The test loss per epoch of the digits MLP trained with ``make``."""
    minidl.manual_seed(seed)
    model = nn.mlp([64, 32, 10])
    optimizer = make(model.parameters())
    callbacks = [CosineAnnealingLR(optimizer, T_max=epochs)] if cosine else []
    history = minidl.fit(model, nn.CrossEntropyLoss(), optimizer,
                         (split.X_train, split.y_train), (split.X_test, split.y_test),
                         epochs=epochs, batch_size=64, progress=False, seed=seed,
                         callbacks=callbacks)
    return history.val_loss


def main() -> None:
    args = parser(__doc__, epochs=12).parse_args()
    split = minidl.datasets.load("digits", seed=args.seed)
    claims = []

    print("1. Lion's update has the same size in every coordinate")
    lion = update_sizes(lambda p: Lion(p, lr=1e-3), split, 20, args.seed)
    adam = update_sizes(lambda p: Adam(p, lr=1e-3), split, 20, args.seed)
    moved, adam_moved = lion[lion > 0], adam[adam > 0]   # dead ReLU units get no gradient
    adam_span = np.quantile(adam_moved, 0.99) / np.quantile(adam_moved, 0.01)
    print(f"   20 steps on the digits MLP: Lion moved {moved.size / lion.size:.1%} of the "
          f"coordinate-steps, by {moved.min():.6g} to {moved.max():.6g} (lr 0.001); Adam's "
          f"steps span {adam_span:.3g}x from their 1% to their 99% quantile")
    holds = np.allclose(moved, 1e-3, rtol=1e-9, atol=0) and adam_span > 10
    claims.append(holds)
    print(f"   every coordinate that Lion moves moves by exactly lr ({verdict(holds)})")

    print("2. AdaBelief: larger steps where gradients agree, smaller where they are noisy")
    steps = {"AdaBelief": two_coordinate_steps(lambda p: AdaBelief(p, lr=1e-3), 300, args.seed),
             "Adam": two_coordinate_steps(lambda p: Adam(p, lr=1e-3), 300, args.seed)}
    ratios = {}
    for name, sizes in steps.items():
        steady, noisy = sizes[100:].mean(axis=0)
        ratios[name] = steady / noisy
        print(f"   {name:9s} mean |step| over steps 100-300: steady {steady:.3g}, noisy "
              f"{noisy:.3g} (ratio {ratios[name]:.3g})")
    holds = ratios["AdaBelief"] > 3 * ratios["Adam"] and ratios["AdaBelief"] > 10
    claims.append(holds)
    print(f"   AdaBelief's steady/noisy step ratio is over 3x Adam's and over 10 "
          f"({verdict(holds)})")

    print(f"3. schedule-free AdamW, constant lr, against AdamW with a cosine schedule "
          f"({args.epochs} epochs, lr grid {LR_GRID})")
    cosine = {lr: test_losses(lambda p: AdamW(p, lr=lr), split, args.epochs, args.seed, True)
              for lr in LR_GRID}
    free = {lr: test_losses(lambda p: AdamWScheduleFree(p, lr=lr), split, args.epochs,
                            args.seed, False) for lr in LR_GRID}
    best_cosine = min(cosine, key=lambda lr: cosine[lr][-1])
    best_free = min(free, key=lambda lr: free[lr][-1])
    ratio = free[best_free][-1] / cosine[best_cosine][-1]
    print(f"   AdamW + cosine (T_max={args.epochs}): best lr {best_cosine:g}, test loss "
          f"{cosine[best_cosine][-1]:.4f}; schedule-free AdamW: best lr {best_free:g}, test "
          f"loss {free[best_free][-1]:.4f} ({ratio:.2f}x)")
    holds = ratio <= 1.25
    claims.append(holds)
    print(f"   schedule-free reaches the tuned cosine schedule's test loss within 1.25x "
          f"({verdict(holds)})")

    print(f"{sum(claims)} of {len(claims)} claims hold.")
    plt = pyplot()
    if plt is None:
        return
    figure, (size_axis, belief_axis, loss_axis) = plt.subplots(1, 3, figsize=(15, 4),
                                                               layout="constrained")
    bins = np.logspace(-7, -2, 60)
    size_axis.hist(adam_moved, bins=bins, alpha=0.6, label="Adam")
    size_axis.hist(moved, bins=bins, alpha=0.8, label="Lion (all at lr)")
    size_axis.set(xscale="log", yscale="log", xlabel="|update| of one coordinate",
                  ylabel="count (log)",
                  title="update sizes, 20 steps on digits")
    size_axis.legend()
    for name, sizes in steps.items():
        style = "-" if name == "AdaBelief" else "--"
        belief_axis.plot(sizes[:, 0], style, label=f"{name}, steady gradients")
        belief_axis.plot(sizes[:, 1], style, label=f"{name}, noisy gradients")
    belief_axis.set(yscale="log", xlabel="step", ylabel="|step|",
                    title="same mean gradient, different noise")
    belief_axis.legend(fontsize="small")
    epochs = range(1, args.epochs + 1)
    loss_axis.plot(epochs, cosine[best_cosine], label=f"AdamW + cosine, lr {best_cosine:g}")
    loss_axis.plot(epochs, free[best_free], "--", label=f"schedule-free AdamW, lr {best_free:g}")
    loss_axis.set(yscale="log", xlabel="epoch", ylabel="test loss (log)",
                  title="no schedule against a tuned one")
    integer_epochs(loss_axis)
    loss_axis.legend()
    save_figure(figure, args.out, "rmsprop_descendants.png")


if __name__ == "__main__":
    main()
