"""Time the digits CNN training step of benchmarks/conv.py in a process without torch.

benchmarks/conv.py times minidl beside PyTorch, so torch is imported, and
importing torch changes the process: with torch loaded, glibc's malloc reused
the freed blocks of minidl's step (how torch brings that about was not looked
into), where minidl alone page-faulted fresh pages for each step's megabytes
of temporaries (see minidl/malloc.py). This script times
minidl as a user's script runs it: the same network, batches, optimizer and
thread settings, torch never imported. Each cell is the median over
``--repeats`` epochs of 22 steps.

    python benchmarks/conv_alone.py [--repeats 15]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import numba
import numpy as np
import threadpoolctl

import minidl.datasets
from conv import BATCH, THREADS, cnn_steps   # benchmarks/conv.py
from training import table                   # benchmarks/training.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15, help="timed epochs per cell "
                        "(default 15)")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats needs an int >= 1, got {args.repeats}")
    split = minidl.datasets.load("digits", seed=0)
    X = split.X_train.reshape(-1, 1, 8, 8)
    order = np.random.default_rng(0).permutation(len(X))
    data = [(X[order[i:i + BATCH]], split.y_train[order[i:i + BATCH]])
            for i in range(0, len(X) - BATCH + 1, BATCH)]
    epoch = cnn_steps(data, None)["minidl"]
    rows = []
    for threads in THREADS:
        numba.set_num_threads(threads)
        with threadpoolctl.threadpool_limits(threads):
            epoch()   # warm-up: compiles, and sizes malloc's heap
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                epoch()
                times.append((time.perf_counter() - start) / len(data))
        rows.append(["digits CNN training step", str(threads),
                     f"{statistics.median(times) * 1e6:.0f}"])
    assert "torch" not in sys.modules, "torch was imported: the point of this script is lost"
    print(f"BLAS at start: {minidl.threads.blas_report()}")
    print(f"median of {args.repeats} epochs of {len(data)} steps; torch not imported\n")
    print(table(["us per step", "threads", "minidl"], rows))


if __name__ == "__main__":
    main()
