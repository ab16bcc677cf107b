"""The same training on each optimizer backend: reference, cpu and (with a GPU) cuda.

minidl's optimizers keep every parameter group in flat buffers and run the
update as one kernel call per step, on a backend chosen at run time:

    reference   plain numpy, one array operation after another (the test oracle)
    cpu         one numba.njit loop over the flat buffers
    cuda        one numba.cuda kernel launch; params and state live on the GPU

The forward and backward passes are numpy in every case: only the update
moves. Each backend trains the same 64-128-128-10 MLP with RMSprop on the
digits from the same initial weights and batches. The table gives the time
(after a warm-up epoch that compiles the kernels), the final test accuracy,
and the largest difference of the final weights from the reference backend.
The script checks that this difference is float32 rounding, not a different
algorithm: at most 1e-3 of the distance training moved the weights,

    max |w - w_reference| <= 1e-3 * max |w_reference - w_initial|

    python examples/cpu_vs_gpu.py [--epochs 10] [--out examples/out]
"""
from __future__ import annotations

import time

import numpy as np

import minidl
import minidl.datasets
import minidl.kernels
import minidl.nn as nn
from common import parser, pyplot, save_figure, table, verdict
from minidl.optim import RMSprop

SIZES = [64, 128, 128, 10]


def available_backends() -> list[str]:
    """reference and cpu always; cuda when numba can reach a GPU (else say why not)."""
    problem = minidl.kernels.cuda_problem()
    if problem is not None:
        print(f"cuda backend skipped: {problem}")
        return ["reference", "cpu"]
    return ["reference", "cpu", "cuda"]


def train(device: str, split: minidl.datasets.Split, epochs: int, seed: int
          ) -> tuple[nn.Module, float]:
    """A fresh MLP trained with RMSprop on ``device``; return it and the seconds taken."""
    minidl.manual_seed(seed)
    model = nn.mlp(SIZES)
    optimizer = RMSprop(model.parameters(), lr=1e-3, device=device)
    start = time.perf_counter()
    minidl.fit(model, nn.CrossEntropyLoss(), optimizer, (split.X_train, split.y_train),
               epochs=epochs, batch_size=64, progress=False, seed=seed)
    return model, time.perf_counter() - start


def largest_difference(weights: dict[str, np.ndarray], others: dict[str, np.ndarray]) -> float:
    """max |w - w_other| over every entry of two state dicts with the same keys."""
    return max(float(np.max(np.abs(value - others[key]))) for key, value in weights.items())


def main() -> None:
    args = parser(__doc__, epochs=10).parse_args()
    plt = pyplot()
    split = minidl.datasets.load("digits", seed=args.seed)
    steps = args.epochs * -(-len(split.y_train) // 64)
    minidl.manual_seed(args.seed)
    initial = nn.mlp(SIZES).state_dict()  # the weights every backend starts from
    rows, differences, reference = [], [], None
    for device in available_backends():
        train(device, split, 1, args.seed)  # warm-up: compiles the kernels, not timed
        model, seconds = train(device, split, args.epochs, args.seed)
        metrics = minidl.evaluate(model, nn.CrossEntropyLoss(), (split.X_test, split.y_test))
        weights = model.state_dict()
        if reference is None:  # the first backend, "reference"
            reference = weights
        differences.append(largest_difference(weights, reference))
        rows.append([device, seconds, seconds / steps * 1e6, metrics["loss"], metrics["accuracy"],
                     f"{differences[-1]:.2g}"])
    print(f"digits, MLP {'-'.join(map(str, SIZES))}, RMSprop lr=1e-3, batch 64, "
          f"{args.epochs} epochs ({steps} steps)")
    print(table(["backend", "seconds", "us per step", "test loss", "test accuracy",
                 "max |w - w_reference|"], rows))
    largest, moved = max(differences), largest_difference(reference, initial)
    print(f"The backends differ by float32 rounding only: max |w - w_reference| = {largest:.2g} "
          f"<= 1e-3 x {moved:.3g}, how far training moved the weights "
          f"({verdict(largest <= 1e-3 * moved)})")
    if plt is None:
        return
    figure, axis = plt.subplots(figsize=(6, 3.5))
    axis.bar([row[0] for row in rows], [row[2] for row in rows],
             label="time per step (optimizer on this backend)")
    axis.set(xlabel="optimizer backend", ylabel="microseconds per training step",
             title="the same training on each backend")
    axis.set_ylim(top=axis.get_ylim()[1] * 1.25)   # room for the legend
    axis.legend()
    save_figure(figure, args.out, "cpu_vs_gpu.png")


if __name__ == "__main__":
    main()
