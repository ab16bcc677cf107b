"""Time the digits CNN and single Conv2d layers: minidl against PyTorch on the CPU.

The network of examples/digits_cnn.py, on the 1437 training digits as (N, 1, 8, 8)
images, batch 64, cross-entropy, RMSprop(lr=1e-3):

    Conv2d(1, 16, 3, padding=1) - ReLU - MaxPool2d(2) - Conv2d(16, 32, 3, padding=1) - ReLU
    - MaxPool2d(2) - Flatten - Linear(128, 10)

A step is ``zero_grad; loss = CE(model(X_b), y_b); backward; optimizer step``,
timed over the same shuffled full batches for every row. Then forward +
backward (input, weight and bias gradients, summed loss) of single Conv2d
layers, 3x3 kernels, padding 1, batch 64, at three sizes. Each row runs with 1
and with 2 threads (numpy's BLAS and numba's threads for minidl,
torch.set_num_threads for PyTorch), set once per thread count; within it the
rows alternate pass by pass, so load on the machine spreads evenly over them.
Each cell is the median over ``--repeats`` passes (a pass: one epoch of the CNN,
or 10 calls of a layer); with ``--rounds R`` the whole measurement runs R times
and each cell is the least of its R medians (on a shared machine the least is
the run that other jobs disturbed least, for both libraries alike). The two
networks start from the same weights, and the script first checks that they
take the same steps. The header says which kernels numpy's OpenBLAS runs
(``minidl.threads.blas_report``): it picks them from the CPU, and OPENBLAS_CORETYPE
in the environment overrides the choice (some machines set it to "Haswell", AVX2,
for old OpenBLAS builds; the conv matmuls run up to twice as fast on the AVX-512
"SkylakeX" ones).

    python benchmarks/conv.py [--repeats 15] [--rounds 1]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import Callable

import numba
import numpy as np
import threadpoolctl

import minidl
import minidl.datasets
import minidl.nn as nn
from minidl.optim import RMSprop
from training import table  # benchmarks/training.py: the same plain-text table

LR, BATCH = 1e-3, 64
LAYERS = [("8x8, 16 -> 32", 16, 32, 8), ("28x28, 1 -> 8", 1, 8, 28), ("32x32, 3 -> 16", 3, 16, 32)]
THREADS = (1, 2)
LAYER_CALLS = 10   # forward + backward passes of a single layer per timed call
Step = Callable[[], None]


def minidl_cnn() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(128, 10))


def torch_cnn(torch, model: nn.Sequential):
    """The same network in PyTorch, with minidl's weights copied in."""
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.MaxPool2d(2), torch.nn.Conv2d(16, 32, 3, padding=1),
                              torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                              torch.nn.Linear(128, 10))
    with torch.no_grad():
        for mine, theirs in zip(model.parameters(), net.parameters()):
            theirs.copy_(torch.from_numpy(mine.numpy().copy()))
    return net


def cnn_steps(data: list[tuple[np.ndarray, np.ndarray]], torch) -> dict[str, Callable]:
    """name -> function running one epoch over ``data``; both start from the same weights."""
    minidl.manual_seed(0)
    model = minidl_cnn()
    optimizer, loss_fn = RMSprop(model.parameters(), lr=LR), nn.CrossEntropyLoss()
    batches = [(minidl.Tensor(X), minidl.Tensor(y)) for X, y in data]

    def minidl_epoch() -> None:
        for X, y in batches:
            optimizer.zero_grad()
            loss_fn(model(X), y).backward()
            optimizer.step()
    epochs = {"minidl": minidl_epoch}
    if torch is not None:
        net = torch_cnn(torch, model)
        torch_optimizer = torch.optim.RMSprop(net.parameters(), lr=LR)
        torch_loss = torch.nn.CrossEntropyLoss()
        torch_batches = [(torch.from_numpy(X), torch.from_numpy(y)) for X, y in data]

        def torch_epoch() -> None:
            for X, y in torch_batches:
                torch_optimizer.zero_grad()
                torch_loss(net(X), y).backward()
                torch_optimizer.step()
        epochs["PyTorch"] = torch_epoch
    return epochs


def same_steps(data: list[tuple[np.ndarray, np.ndarray]], torch) -> float:
    """Largest parameter difference between minidl and PyTorch after 3 identical steps."""
    minidl.manual_seed(0)
    model = minidl_cnn()
    net = torch_cnn(torch, model)
    optimizer, loss_fn = RMSprop(model.parameters(), lr=LR), nn.CrossEntropyLoss()
    torch_optimizer = torch.optim.RMSprop(net.parameters(), lr=LR)
    for X, y in data[:3]:
        optimizer.zero_grad()
        loss_fn(model(minidl.Tensor(X)), minidl.Tensor(y)).backward()
        optimizer.step()
        torch_optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        torch_optimizer.step()
    return max(float(np.max(np.abs(mine.numpy() - theirs.detach().numpy())))
               for mine, theirs in zip(model.parameters(), net.parameters()))


def forward_backward_steps(x: np.ndarray, layer: nn.Module, make_torch_layer: Callable,
                           torch) -> dict[str, Step]:
    """name -> LAYER_CALLS forward + backward passes (summed output) of ``layer`` on x, and
    of ``make_torch_layer()`` on the same x in PyTorch."""
    mine = minidl.Tensor(x, requires_grad=True)

    def minidl_step() -> None:
        for _ in range(LAYER_CALLS):
            layer.zero_grad()
            mine.grad = None
            minidl.sum(layer(mine)).backward()
    steps = {"minidl": minidl_step}
    if torch is not None:
        theirs_layer, theirs = make_torch_layer(), torch.from_numpy(x).requires_grad_()

        def torch_step() -> None:
            for _ in range(LAYER_CALLS):
                theirs_layer.zero_grad()
                theirs.grad = None
                theirs_layer(theirs).sum().backward()
        steps["PyTorch"] = torch_step
    return steps


def layer_steps(channels_in: int, channels_out: int, size: int, torch) -> dict[str, Step]:
    """name -> LAYER_CALLS forward + backward passes of Conv2d(channels_in, channels_out, 3,
    padding=1)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, channels_in, size, size)).astype(np.float32)
    return forward_backward_steps(
        x, nn.Conv2d(channels_in, channels_out, 3, padding=1),
        lambda: torch.nn.Conv2d(channels_in, channels_out, 3, padding=1), torch)


def measure(rows: dict[str, Callable[[], None]], torch, repeats: int, per: int
            ) -> dict[tuple[str, int], float]:
    """Median microseconds per call / ``per`` of each row at each thread count.

    The thread count is set once for all the passes at that count (changing it
    rebuilds the thread pools); within it the rows alternate, pass by pass.
    """
    result = {}
    for threads in THREADS:
        numba.set_num_threads(threads)
        if torch is not None:
            torch.set_num_threads(threads)
        with threadpoolctl.threadpool_limits(threads):
            samples: dict[str, list[float]] = {name: [] for name in rows}
            for name, action in rows.items():   # warm-up: compile, allocate, fill caches
                action()
            for _ in range(repeats):
                for name, action in rows.items():
                    start = time.perf_counter()
                    action()
                    samples[name].append((time.perf_counter() - start) / per)
        result.update({(name, threads): statistics.median(times) * 1e6
                       for name, times in samples.items()})
    return result


def rows_for(label: str, times: dict[tuple[str, int], float]) -> list[list[str]]:
    """One table row per thread count: minidl, PyTorch, and PyTorch / minidl."""
    result = []
    for threads in THREADS:
        ours, theirs = times[("minidl", threads)], times.get(("PyTorch", threads))
        result.append([label, str(threads), f"{ours:.0f}",
                       "-" if theirs is None else f"{theirs:.0f}",
                       "-" if theirs is None else f"{theirs / ours:.2f}x"])
    return result


def timing_arguments(description: str, repeats: int, unit: str
                     ) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser and the checked ``--repeats``/``--rounds`` that the timing benchmarks
    share (this one and ``sequence.py``)."""
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=repeats, help=f"timed {unit} per cell "
                        f"(default {repeats})")
    parser.add_argument("--rounds", type=int, default=1, help="whole measurements; each "
                        "cell is the least of their medians (default 1)")
    args = parser.parse_args()
    for name in ("repeats", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} needs an int >= 1, got {getattr(args, name)}")
    return parser, args


def main() -> None:
    parser, args = timing_arguments(__doc__, 15, "passes")
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: minidl's times only")

    split = minidl.datasets.load("digits", seed=0)
    X = split.X_train.reshape(-1, 1, 8, 8)
    order = np.random.default_rng(0).permutation(len(X))
    data = [(X[order[i:i + BATCH]], split.y_train[order[i:i + BATCH]])
            for i in range(0, len(X) - BATCH + 1, BATCH)]
    print(f"python {platform.python_version()}, numpy {np.__version__}, numba "
          f"{numba.__version__}, torch {'-' if torch is None else torch.__version__}, "
          f"{os.cpu_count()} cores; threads per row: BLAS = numba = torch threads")
    print(f"BLAS at start: {minidl.threads.blas_report()}")
    if torch is not None:
        print(f"minidl vs PyTorch after 3 identical steps: max |param difference| = "
              f"{same_steps(data, torch):.2g}")
    print(f"median of {args.repeats} passes, least over {args.rounds} round"
          f"{'s' * (args.rounds > 1)}; the digits CNN: {len(data)} steps of batch {BATCH} "
          f"per pass\n")

    cases = [("digits CNN training step", lambda: cnn_steps(data, torch), len(data))] + [
        (f"Conv2d {label}, fwd+bwd", lambda c=c, o=o, s=s: layer_steps(c, o, s, torch),
         LAYER_CALLS) for label, c, o, s in LAYERS]
    least: dict[str, dict[tuple[str, int], float]] = {}
    for _ in range(args.rounds):
        for label, make_rows, per in cases:
            times = measure(make_rows(), torch, args.repeats, per)
            least[label] = {key: min(value, least.get(label, times)[key])
                            for key, value in times.items()}
    cnn = least["digits CNN training step"]
    rows = [row for label, times in least.items() for row in rows_for(label, times)]
    print(table(["us per call", "threads", "minidl", "PyTorch", "PyTorch / minidl"], rows))
    if torch is not None:
        print("\ntarget, the digits CNN step at least 2x faster than PyTorch: " + ", ".join(
            f"{'met' if cnn[('PyTorch', t)] >= 2 * cnn[('minidl', t)] else 'NOT met'} with "
            f"{t} thread{'s' * (t > 1)}" for t in THREADS))


if __name__ == "__main__":
    main()
