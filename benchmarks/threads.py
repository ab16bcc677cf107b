"""The spread of one 10-epoch fit: OpenBLAS's default threads against minidl's default.

A 10-epoch ``minidl.fit`` of an MLP 64-128-128-10 (ReLU) with RMSprop on the
1437 training digits, batch 32, timed ``--repeats`` times under each BLAS
setting, the settings interleaved in one process so that load on the machine
falls on both alike:

    blas=cores   numpy's OpenBLAS with one thread per core: its own default,
                 and what minidl did before it limited BLAS
    blas=1       minidl's default since (``minidl.threads``): one BLAS thread

numba keeps its default threads (printed) in both. The table gives the
minimum, median and maximum time and max/min: the spread.

    python benchmarks/threads.py [--repeats 10] [--epochs 10]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numba
from threadpoolctl import ThreadpoolController

import minidl
import minidl.datasets
import minidl.nn as nn
from minidl.optim import RMSprop


def one_fit(data, epochs: int) -> float:
    minidl.manual_seed(0)
    model = nn.mlp([64, 128, 128, 10], nn.ReLU)
    optimizer = RMSprop(model.parameters(), lr=1e-3, device="cpu")
    start = time.perf_counter()
    minidl.fit(model, nn.CrossEntropyLoss(), optimizer, (data.X_train, data.y_train),
               epochs=epochs, batch_size=32, progress=False, seed=0)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    data = minidl.datasets.load("digits")
    controller = ThreadpoolController()
    one_fit(data, 1)                                   # compile the kernels first
    settings = {f"blas={cores} (cores)": cores, "blas=1 (minidl)": 1}
    times: dict[str, list[float]] = {name: [] for name in settings}
    for _ in range(args.repeats):
        for name, threads in settings.items():
            controller.limit(limits=threads, user_api="blas")
            times[name].append(one_fit(data, args.epochs))
    print(f"{platform.processor() or platform.machine()}, {cores} cores, numba "
          f"{numba.get_num_threads()} threads ({numba.threading_layer()}), "
          f"{args.repeats} fits of {args.epochs} epochs per row")
    print("| BLAS threads | min s | median s | max s | max/min |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, values in times.items():
        low, high = min(values), max(values)
        print(f"| {name} | {low:.3f} | {statistics.median(values):.3f} | {high:.3f} "
              f"| {high / low:.1f}x |")


if __name__ == "__main__":
    main()
