"""Time one training step on digits: minidl against a numpy floor, PyTorch and scikit-learn.

The set-up of tests/test_accuracy.py: an MLP 64-128-128-10 (ReLU) on the
1437 training digits, batch 64, cross-entropy, RMSprop(lr=1e-3). A step is

    zero_grad;  loss = CE(model(X_b), y_b);  backward;  optimizer step

timed over the same shuffled full batches for every row, in one run:

    floor      a hand-written numpy MLP (forward and backward by hand, into
               views of one flat gradient buffer) with the njit RMSprop kernel
               ``minidl.kernels.cpu.rmsprop`` on the flat buffers: what any
               framework on numpy must at least spend
    minidl     the same step through Tensors, autograd, nn and optim (cpu and
               reference backends), and through ``minidl.fit`` (which adds
               the DataLoader and the epoch's metrics)
    PyTorch    the same network and torch.optim.RMSprop on the CPU
               (torch.set_num_threads(--threads)), when torch is importable
    sklearn    MLPClassifier(solver="adam", batch_size=64): it has no RMSprop;
               its fit time over n_iter_ epochs divided by the steps taken

Each row's time is the median over ``--repeats`` epochs, rows interleaved so
load on the machine spreads evenly. A breakdown splits minidl's and the
floor's step into phases, to show where minidl spends more. Last, the wall
time of ``minidl train --dataset moons --epochs 1`` in a new process, first
with an empty numba cache (NUMBA_CACHE_DIR a fresh folder: the kernels
compile) and again with that cache warm.

    python benchmarks/training.py [--repeats 15] [--threads 2] [--skip-cli]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Callable

import numpy as np
import threadpoolctl

import minidl
import minidl.datasets
import minidl.kernels.cpu as cpu_kernels
import minidl.nn as nn
from minidl.optim import RMSprop

SIZES = (64, 128, 128, 10)
LR, ALPHA, EPS = 1e-3, 0.99, 1e-8
BATCH = 64
Step = Callable[[np.ndarray, np.ndarray], None]


def init_weights(sizes: tuple[int, ...], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) per layer, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as PyTorch's Linear."""
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        layers.append((rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                       rng.uniform(-bound, bound, fan_out).astype(np.float32)))
    return layers


class NumpyMLP:
    """The floor: forward and backward by hand, RMSprop by the njit kernel.

    Params and grads are views of two flat float32 buffers, so the update is
    one kernel call, as in minidl's optimizers.
    """

    def __init__(self, weights: list[tuple[np.ndarray, np.ndarray]]):
        total = sum(W.size + b.size for W, b in weights)
        self.flat_params = np.zeros(total, np.float32)
        self.flat_grads = np.zeros(total, np.float32)
        self.square_avg = np.zeros(total, np.float32)
        self.unused = np.zeros(0, np.float32)
        self.params, self.grads, offset = [], [], 0
        for W, b in weights:
            for array in (W, b):
                view = self.flat_params[offset:offset + array.size].reshape(array.shape)
                view[...] = array
                self.params.append(view)
                self.grads.append(self.flat_grads[offset:offset + array.size].reshape(array.shape))
                offset += array.size

    def forward_backward(self, X: np.ndarray, y: np.ndarray) -> float:
        """Mean cross-entropy of the batch; d loss / d params into the grad views.

        z_l = a_{l-1} W_l^T + b_l, a_l = relu(z_l); loss = mean(logsumexp(z_L) - z_L[y]);
        dz_L = (softmax(z_L) - onehot(y)) / n, dW_l = dz_l^T a_{l-1}, db_l = sum_rows dz_l,
        dz_{l-1} = (dz_l W_l) * [z_{l-1} > 0].
        """
        activations, pre = [X], []
        for layer in range(len(self.params) // 2):
            W, b = self.params[2 * layer], self.params[2 * layer + 1]
            z = activations[-1] @ W.T + b
            pre.append(z)
            activations.append(np.maximum(z, 0) if layer < len(self.params) // 2 - 1 else z)
        logits = activations.pop()
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        sums = exp.sum(axis=1, keepdims=True)
        rows = np.arange(len(y))
        loss = float(np.mean(np.log(sums[:, 0]) - shifted[rows, y]))
        dz = exp / sums
        dz[rows, y] -= 1
        dz /= len(y)
        for layer in reversed(range(len(self.params) // 2)):
            np.matmul(dz.T, activations[layer], out=self.grads[2 * layer])
            np.sum(dz, axis=0, out=self.grads[2 * layer + 1])
            if layer:
                dz = (dz @ self.params[2 * layer]) * (pre[layer - 1] > 0)
        return loss

    def update(self) -> None:
        cpu_kernels.rmsprop(self.flat_params, self.flat_grads, self.square_avg, self.unused,
                            self.unused, LR, ALPHA, EPS, 0.0, 0.0, False, False, False)

    def step(self, X: np.ndarray, y: np.ndarray) -> None:
        self.forward_backward(X, y)
        self.update()


def minidl_model(weights: list[tuple[np.ndarray, np.ndarray]]) -> nn.Sequential:
    """nn.mlp whose Linear layers start from copies of ``weights``."""
    model = nn.mlp([weights[0][0].shape[1], *(W.shape[0] for W, _ in weights)])
    for param, array in zip(model.parameters(), (array for layer in weights for array in layer)):
        param.data = array.copy()
    return model


def minidl_step(weights: list, device: str) -> tuple[Step, nn.Module]:
    model = minidl_model(weights)
    optimizer = RMSprop(model.parameters(), lr=LR, alpha=ALPHA, eps=EPS, device=device)
    loss_fn = nn.CrossEntropyLoss()

    def step(X: np.ndarray, y: np.ndarray) -> None:
        optimizer.zero_grad()
        loss_fn(model(minidl.Tensor(X)), minidl.Tensor(y)).backward()
        optimizer.step()
    return step, model


def torch_step(weights: list, threads: int) -> Step | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    layers: list = []
    for W, b in weights:
        linear = torch.nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.RMSprop(model.parameters(), lr=LR, alpha=ALPHA, eps=EPS)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(X: np.ndarray, y: np.ndarray) -> None:
        optimizer.zero_grad()
        loss_fn(model(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        optimizer.step()
    return step


def time_epoch(step: Step, X: np.ndarray, y: np.ndarray, batches: list[np.ndarray]) -> float:
    """Seconds per step over one pass through ``batches`` (slicing excluded)."""
    data = [(X[rows], y[rows]) for rows in batches]
    start = time.perf_counter()
    for X_b, y_b in data:
        step(X_b, y_b)
    return (time.perf_counter() - start) / len(data)


def time_fit(split: minidl.datasets.Split, weights: list) -> float:
    """Seconds per step of one epoch of minidl.fit (DataLoader and metrics included)."""
    model = minidl_model(weights)
    optimizer = RMSprop(model.parameters(), lr=LR, device="cpu")
    steps = -(-len(split.y_train) // BATCH)
    start = time.perf_counter()
    minidl.fit(model, nn.CrossEntropyLoss(), optimizer, (split.X_train, split.y_train),
               epochs=1, batch_size=BATCH, progress=False, seed=0)
    return (time.perf_counter() - start) / steps


def time_sklearn(split: minidl.datasets.Split, epochs: int) -> float:
    """Seconds per step of MLPClassifier(solver="adam", batch_size=64): fit time / steps."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    classifier = MLPClassifier(hidden_layer_sizes=SIZES[1:-1], solver="adam", batch_size=BATCH,
                               learning_rate_init=LR, max_iter=epochs, tol=0.0,
                               n_iter_no_change=epochs + 1, random_state=0)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(split.X_train, split.y_train)
    seconds = time.perf_counter() - start
    return seconds / (classifier.n_iter_ * -(-len(split.y_train) // BATCH))


def phase_times(weights: list, data: list[tuple[np.ndarray, np.ndarray]], repeats: int
                ) -> dict[str, dict[str, float]]:
    """Median microseconds of each phase of a step, for minidl (cpu) and the floor."""
    model = minidl_model(weights)
    optimizer = RMSprop(model.parameters(), lr=LR, device="cpu")
    loss_fn = nn.CrossEntropyLoss()
    floor = NumpyMLP(weights)
    phases: dict[str, dict[str, list[float]]] = {"minidl": {}, "floor": {}}

    def clock(owner: str, phase: str, action: Callable[[], object]) -> object:
        start = time.perf_counter()
        result = action()
        phases[owner].setdefault(phase, []).append(time.perf_counter() - start)
        return result

    for _ in range(repeats):
        for X_b, y_b in data:
            clock("minidl", "zero_grad", optimizer.zero_grad)
            X, y = minidl.Tensor(X_b), minidl.Tensor(y_b)
            output = clock("minidl", "forward", lambda: model(X))
            loss = clock("minidl", "loss", lambda: loss_fn(output, y))
            clock("minidl", "backward", loss.backward)
            clock("minidl", "optimizer step", optimizer.step)
            clock("floor", "forward + loss + backward", lambda: floor.forward_backward(X_b, y_b))
            clock("floor", "optimizer step", floor.update)
    return {owner: {phase: statistics.median(values) * 1e6 for phase, values in times.items()}
            for owner, times in phases.items()}


def print_phases(title: str, phases: dict[str, dict[str, float]]) -> None:
    print(title)
    for owner, times in phases.items():
        print(f"  {owner:7s} " + ", ".join(f"{phase} {value:.0f}" for phase, value in times.items())
              + f"; sum {sum(times.values()):.0f}")


def check_same_step(split: minidl.datasets.Split, weights: list, rows: np.ndarray) -> float:
    """Largest difference between the floor's and minidl's params after three steps."""
    floor, (step, model) = NumpyMLP(weights), minidl_step(weights, "cpu")
    for _ in range(3):
        floor.step(split.X_train[rows], split.y_train[rows])
        step(split.X_train[rows], split.y_train[rows])
    return max(float(np.max(np.abs(param.numpy() - mine)))
               for param, mine in zip(model.parameters(), floor.params))


def cli_seconds(cache: str) -> float:
    """Wall time of ``minidl train --dataset moons --epochs 1`` in a new process."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    command = [sys.executable, "-m", "minidl", "train", "--dataset", "moons", "--epochs", "1",
               "--no-progress"]
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def import_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import minidl, minidl.optim"], check=True)
    return time.perf_counter() - start


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15, help="timed epochs per row (default 15)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="BLAS threads for numpy and torch (default: the number of cores)")
    parser.add_argument("--skip-cli", action="store_true",
                        help="skip the cold/warm `minidl train` runs")
    args = parser.parse_args()
    for option in ("repeats", "threads"):
        if getattr(args, option) < 1:
            parser.error(f"--{option} needs an int >= 1, got {getattr(args, option)}")
    with threadpoolctl.threadpool_limits(args.threads):
        run(args)


def run(args: argparse.Namespace) -> None:
    split = minidl.datasets.load("digits", seed=0)
    weights = init_weights(SIZES, seed=0)
    order = np.random.default_rng(0).permutation(len(split.y_train))
    batches = [order[i:i + BATCH] for i in range(0, len(order) - BATCH + 1, BATCH)]
    difference = check_same_step(split, weights, batches[0])

    rows: dict[str, Step] = {"numpy + njit RMSprop (floor)": NumpyMLP(weights).step,
                             "minidl, cpu backend": minidl_step(weights, "cpu")[0],
                             "minidl, reference backend": minidl_step(weights, "reference")[0]}
    torch = torch_step(weights, args.threads)
    if torch is not None:
        rows["PyTorch CPU"] = torch
    X, y = split.X_train, split.y_train
    samples: dict[str, list[float]] = {name: [] for name in rows}
    samples["minidl.fit (+ DataLoader, metrics)"] = []
    for name, step in rows.items():
        time_epoch(step, X, y, batches)  # warm-up: compile, allocate, fill caches
    time_fit(split, weights)
    for _ in range(args.repeats):
        for name, step in rows.items():
            samples[name].append(time_epoch(step, X, y, batches))
        samples["minidl.fit (+ DataLoader, metrics)"].append(time_fit(split, weights))
    sklearn_epochs = max(3, args.repeats // 3)
    samples[f"scikit-learn MLPClassifier (adam), {sklearn_epochs} epochs"] = [
        time_sklearn(split, sklearn_epochs)]
    floor = statistics.median(samples["numpy + njit RMSprop (floor)"])
    kernel = NumpyMLP(weights)
    kernel_seconds = statistics.median(
        time_epoch(lambda X_b, y_b: kernel.update(), X, y, batches) for _ in range(args.repeats))

    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"numba {__import__('numba').__version__}, {os.cpu_count()} cores, "
          f"BLAS threads {args.threads}")
    print(f"digits: MLP {'-'.join(map(str, SIZES))}, RMSprop lr={LR}, batch {BATCH}, "
          f"{len(batches)} steps per epoch, median of {args.repeats} epochs")
    print(f"floor vs minidl after 3 identical steps: max |param difference| = {difference:.2g}\n")
    print(table(["implementation", "us per step", "x floor"],
                [[name, f"{statistics.median(times) * 1e6:.0f}",
                  f"{statistics.median(times) / floor:.2f}"] for name, times in samples.items()]))
    print(f"(the njit RMSprop kernel alone, {kernel.flat_params.size} params: "
          f"{kernel_seconds * 1e6:.1f} us)")

    data = [(X[rows], y[rows]) for rows in batches]
    print_phases("\nwhere a step's time goes (median us per phase):",
                 phase_times(weights, data, args.repeats))
    tiny = init_weights((1, 1, 1, 2), seed=0)
    tiny_data = [(np.ones((1, 1), np.float32), np.zeros(1, np.int64))] * len(batches)
    print_phases("the fixed cost per step: the same graph on 1 sample with 1-unit layers, where "
                 "numpy's arithmetic costs next to nothing (median us):",
                 phase_times(tiny, tiny_data, args.repeats))

    if not args.skip_cli:
        with tempfile.TemporaryDirectory() as cache:
            cold, warm = cli_seconds(cache), cli_seconds(cache)
        print(f"\n`minidl train --dataset moons --epochs 1`, new process: cold numba cache "
              f"{cold:.2f} s, warm {warm:.2f} s; `import minidl, minidl.optim` alone "
              f"{import_seconds():.2f} s")


if __name__ == "__main__":
    main()
