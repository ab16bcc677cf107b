"""Time Embedding's backward in the makemore MLP: minidl's njit scatter-add, the
np.add.at it replaced, and PyTorch, in one run.

The shape of makemore part 2: a vocabulary of 27 characters, a context of 3,
embeddings of 10, batch 32, a hidden layer of 200 (tanh), cross-entropy. Rows:

    lookup    forward + backward of the embedding alone (F.embedding, a fixed g)
    C[X]      the same through integer indexing, as the lecture writes it
    step      a whole training step: forward, backward, SGD update (nn.Embedding)

"minidl, np.add.at" is minidl with the kernel swapped for the numpy reference
(``kernels/nn/reference.embedding_grad``: the code before the kernel). The rows
alternate pass by pass; each cell is the median of ``--repeats`` passes of
``--calls`` calls, in microseconds per call; one thread everywhere.

    python benchmarks/embedding.py [--repeats 30] [--calls 200]
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import numpy as np
import threadpoolctl
import torch

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.kernels.nn import cpu, reference
from training import table  # benchmarks/training.py: the same plain-text table

VOCAB, BLOCK, EMBED, BATCH, HIDDEN = 27, 3, 10, 32, 200
Call = Callable[[], None]


def minidl_calls(index: np.ndarray, target: np.ndarray) -> dict[str, Call]:
    table_ = minidl.randn(VOCAB, EMBED, requires_grad=True)
    g = np.ones((BATCH, BLOCK, EMBED), np.float32)
    model = nn.Sequential(nn.Embedding(VOCAB, EMBED), nn.Flatten(),
                          nn.Linear(BLOCK * EMBED, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, VOCAB))
    optimizer = minidl.optim.SGD(model.parameters(), lr=0.1)
    labels = minidl.tensor(target)

    def lookup() -> None:
        F.embedding(index, table_).backward(g)
        table_.grad = None

    def indexing() -> None:
        table_[index].backward(g)
        table_.grad = None

    def step() -> None:
        optimizer.zero_grad()
        F.cross_entropy(model(index), labels).backward()
        optimizer.step()
    return {"lookup": lookup, "C[X]": indexing, "step": step}


def torch_calls(index: np.ndarray, target: np.ndarray) -> dict[str, Call]:
    table_ = torch.randn(VOCAB, EMBED, requires_grad=True)
    g = torch.ones(BATCH, BLOCK, EMBED)
    model = torch.nn.Sequential(torch.nn.Embedding(VOCAB, EMBED), torch.nn.Flatten(),
                                torch.nn.Linear(BLOCK * EMBED, HIDDEN), torch.nn.Tanh(),
                                torch.nn.Linear(HIDDEN, VOCAB))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    X, Y = torch.tensor(index), torch.tensor(target)

    def lookup() -> None:
        torch.nn.functional.embedding(X, table_).backward(g)
        table_.grad = None

    def indexing() -> None:
        table_[X].backward(g)
        table_.grad = None

    def step() -> None:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(X), Y).backward()
        optimizer.step()
    return {"lookup": lookup, "C[X]": indexing, "step": step}


def with_reference_kernel(call: Call) -> Call:
    """``call`` with minidl's embedding kernel swapped for np.add.at while it runs."""
    def swapped() -> None:
        kernel, cpu.embedding_grad = cpu.embedding_grad, reference.embedding_grad
        try:
            call()
        finally:
            cpu.embedding_grad = kernel
    return swapped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30, help="timed passes per cell")
    parser.add_argument("--calls", type=int, default=200, help="calls per pass")
    args = parser.parse_args()
    torch.set_num_threads(1)
    minidl.set_num_threads(1)
    rng = np.random.default_rng(0)
    index, target = rng.integers(0, VOCAB, (BATCH, BLOCK)), rng.integers(0, VOCAB, BATCH)
    ours, theirs = minidl_calls(index, target), torch_calls(index, target)
    variants = {"minidl, njit": ours,
                "minidl, np.add.at": {k: with_reference_kernel(c) for k, c in ours.items()},
                "torch": theirs}
    times: dict[tuple[str, str], list[float]] = {}
    for name, calls in variants.items():   # warm up: compile, fill caches
        for row, call in calls.items():
            for _ in range(20):
                call()
            times[name, row] = []
    for _ in range(args.repeats):
        for name, calls in variants.items():
            for row, call in calls.items():
                start = time.perf_counter()
                for _ in range(args.calls):
                    call()
                times[name, row].append((time.perf_counter() - start) / args.calls * 1e6)
    print(f"minidl {minidl.__version__}, torch {torch.__version__}, numpy {np.__version__}; "
          f"threads: torch {torch.get_num_threads()}, minidl {minidl.get_num_threads()}, "
          f"BLAS {minidl.threads.blas_report()}")
    print(f"vocab {VOCAB}, context {BLOCK}, embedding {EMBED}, batch {BATCH}, hidden {HIDDEN}; "
          f"median of {args.repeats} x {args.calls} calls, us per call\n")
    rows = []
    for row in ours:
        medians = {name: statistics.median(times[name, row]) for name in variants}
        rows.append([row, *(f"{medians[name]:.1f}" for name in variants),
                     f"{medians['torch'] / medians['minidl, njit']:.2f}x",
                     f"{medians['minidl, np.add.at'] / medians['minidl, njit']:.2f}x"])
    print(table(["row", *variants, "torch / njit", "add.at / njit"], rows))


if __name__ == "__main__":
    with threadpoolctl.threadpool_limits(1):
        main()
