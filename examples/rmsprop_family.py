"""RMSprop's lineage, each step measured: Rprop, RMSprop, Adadelta, Adam.

    Rprop     step_size grows x1.2 while sign(g) holds, shrinks x0.5 when it flips;
              p -= sign(g) * step_size                      (full batch, 1993)
    RMSprop   v = a * v + (1 - a) * g^2;  p -= lr * g / sqrt(v)
              "Rprop for mini-batches": dividing by a running RMS keeps Rprop's
              size-free steps, but averages gradients instead of counting signs
    Adadelta  p -= sqrt(U + eps) / sqrt(v + eps) * g,  U = RMS^2 of past updates:
              the numerator replaces lr and gives the step the units of p
    Adam      RMSprop's denominator with a momentum m = b1 * m + (1 - b1) * g
              in the numerator (both bias-corrected)

Four claims, each checked on a single coordinate:

1. Rprop uses only the gradient's sign: scaling every gradient by 1e-3 or 1e3
   leaves its path unchanged, while SGD's step scales with it.
2. Mini-batches break Rprop: gradients of +0.1 on nine batches and -0.9 on
   the tenth average to 0, yet Rprop drifts (it counts nine signs against
   one), while RMSprop, which weighs each gradient by its size, stays near.
3. Adadelta's step comes from its numerator, not from the gradient's units:
   gradients of 0.1 and of 1000 give the same path, and while the sign holds
   the steps grow (double within 400 steps) as the RMS of past updates builds up.
4. Adam is RMSprop with momentum on top: on the same mean-zero gradients its
   momentum averages the cycle before dividing, and it drifts less still.

    python examples/rmsprop_family.py [--steps 1000] [--out examples/out]
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from common import parser, positive_int, pyplot, save_figure, verdict
from minidl import Tensor
from minidl.optim import SGD, Adadelta, Adam, RMSprop, Rprop

CYCLE = np.array([0.1] * 9 + [-0.9])     # ten mini-batch gradients whose mean is 0


def path(make: Callable, gradient: Callable[[int], float], steps: int) -> np.ndarray:
    """The parameter (one float64 coordinate, from 0) before and after each step."""
    param = Tensor(np.zeros(1), requires_grad=True, dtype=np.float64)
    optimizer = make([param])
    values = [0.0]
    for t in range(steps):
        param.grad = np.array([gradient(t)])
        optimizer.step()
        values.append(float(param.numpy()[0]))
    return np.array(values)


def main() -> None:
    arguments = parser(__doc__)
    arguments.add_argument("--steps", type=positive_int, default=1000,
                           help="steps per run (default 1000)")
    args = arguments.parse_args()
    steps = args.steps
    claims = []

    print("1. Rprop uses only the gradient's sign")
    rprop = {scale: path(lambda p: Rprop(p, lr=0.01), lambda t, s=scale: s, 50)
             for scale in (1e-3, 1e3)}
    sgd = {scale: path(lambda p: SGD(p, lr=0.01), lambda t, s=scale: s, 50)
           for scale in (1e-3, 1e3)}
    print(f"   after 50 steps of a constant gradient: Rprop at {rprop[1e-3][-1]:.4g} (g=1e-3) "
          f"and {rprop[1e3][-1]:.4g} (g=1e3); SGD at {sgd[1e-3][-1]:.4g} and {sgd[1e3][-1]:.4g}")
    holds = np.array_equal(rprop[1e-3], rprop[1e3]) and abs(sgd[1e3][-1] / sgd[1e-3][-1]) > 1e5
    claims.append(holds)
    print(f"   Rprop's path is the same for gradients 1e6 apart in size ({verdict(holds)})")

    print("2. mini-batches break Rprop; RMSprop is its mini-batch form")
    cycle = lambda t: CYCLE[t % len(CYCLE)]  # noqa: E731
    drift = {"Rprop": path(lambda p: Rprop(p, lr=0.01), cycle, steps),
             "RMSprop": path(lambda p: RMSprop(p, lr=0.01), cycle, steps)}
    for name, values in drift.items():
        print(f"   {name:8s} ends at {values[-1]:.4g} after {steps} steps")
    holds = abs(drift["Rprop"][-1]) > 100 * abs(drift["RMSprop"][-1])
    claims.append(holds)
    print(f"   gradients with mean 0 move Rprop over 100x farther than RMSprop "
          f"({verdict(holds)})")

    print("3. Adadelta's steps have the size of its numerator, the RMS of past updates")
    adadelta = {size: path(lambda p: Adadelta(p), lambda t, s=size: s, 400)
                for size in (0.1, 1000.0)}
    moves = np.abs(np.diff(adadelta[0.1]))
    print(f"   gradient 0.1: first step {moves[0]:.3g}, step 400 {moves[-1]:.3g}; gradient "
          f"1000: first step {abs(adadelta[1000.0][1]):.3g}")
    same = np.allclose(adadelta[0.1], adadelta[1000.0], rtol=1e-3, atol=0)
    grows = moves[-1] > 2 * moves[0]
    claims.append(same and grows)
    print(f"   the same path for gradients 0.1 and 1000, and steps that double or more "
          f"while the sign holds ({verdict(same and grows)})")

    print("4. Adam is RMSprop with momentum on top")
    drift["Adam"] = path(lambda p: Adam(p, lr=0.01), cycle, steps)
    print(f"   Adam     ends at {drift['Adam'][-1]:.4g} after {steps} steps")
    holds = abs(drift["Adam"][-1]) < 0.5 * abs(drift["RMSprop"][-1])
    claims.append(holds)
    print(f"   on the same mean-zero gradients Adam drifts less than half as far as RMSprop "
          f"({verdict(holds)})")

    print(f"{sum(claims)} of {len(claims)} claims hold.")
    plt = pyplot()
    if plt is None:
        return
    figure, (drift_axis, step_axis) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for name, values in drift.items():
        drift_axis.plot(np.arange(len(values)), values, label=name)
    drift_axis.set(yscale="symlog", xlabel="step", ylabel="parameter",
                   title="gradients +0.1 (x9), -0.9 (x1): mean 0")
    drift_axis.legend()
    for size, values in adadelta.items():
        step_axis.plot(np.arange(1, len(values)), np.abs(np.diff(values)),
                       label=f"Adadelta, gradient {size:g}", linestyle="-" if size < 1 else "--")
    step_axis.set(xlabel="step", ylabel="|step|", title="Adadelta: steps grow with its numerator")
    step_axis.legend()
    save_figure(figure, args.out, "rmsprop_family.png")


if __name__ == "__main__":
    main()
