"""Time the layers added beside the CNN's: minidl against PyTorch on the CPU.

Each row is forward + backward (the input's gradient, and the weight's where the
layer has one) of one layer on a batch of 64, float32, summed output, called 10
times per pass; the rows alternate pass by pass and each cell is the median over
``--repeats`` passes, with 1 and with 2 threads (``benchmarks/conv.py``'s
``measure``). The layers: ConvTranspose2d (col2im of the conv kernels), max
pooling with dilation and ceil_mode (the njit pooling loop), average pooling
without the padding in its divisor, adaptive average and max pooling (numpy
gathers), bilinear upsampling (numpy gathers) and Unfold (numpy slices).

    python benchmarks/layers.py [--repeats 15]
"""
from __future__ import annotations

import argparse
import os
import platform
from typing import Callable

import numba
import numpy as np

import minidl
import minidl.nn as nn
from conv import LAYER_CALLS, forward_backward_steps, measure, rows_for   # benchmarks/conv.py
from training import table                                               # benchmarks/training.py

BATCH = 64
# label, input shape (without the batch), minidl layer, the PyTorch layer's name and arguments
LAYERS = [
    ("ConvTranspose2d(16, 8, 3, stride=2), 8x8", (16, 8, 8),
     lambda: nn.ConvTranspose2d(16, 8, 3, stride=2),
     ("ConvTranspose2d", (16, 8, 3), {"stride": 2})),
    ("MaxPool2d(3, 2, dilation=2, ceil_mode), 16x16", (16, 16, 16),
     lambda: nn.MaxPool2d(3, 2, dilation=2, ceil_mode=True),
     ("MaxPool2d", (3, 2), {"dilation": 2, "ceil_mode": True})),
    ("AvgPool2d(3, 2, 1, count_include_pad=False), 16x16", (16, 16, 16),
     lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False),
     ("AvgPool2d", (3, 2, 1), {"count_include_pad": False})),
    ("AdaptiveAvgPool2d(5), 13x13", (16, 13, 13), lambda: nn.AdaptiveAvgPool2d(5),
     ("AdaptiveAvgPool2d", (5,), {})),
    ("AdaptiveMaxPool2d(5), 13x13", (16, 13, 13), lambda: nn.AdaptiveMaxPool2d(5),
     ("AdaptiveMaxPool2d", (5,), {})),
    ("Upsample(2, bilinear), 8x8", (16, 8, 8), lambda: nn.Upsample(scale_factor=2,
                                                                    mode="bilinear"),
     ("Upsample", (), {"scale_factor": 2, "mode": "bilinear"})),
    ("Unfold(3, padding=1), 8x8", (16, 8, 8), lambda: nn.Unfold(3, padding=1),
     ("Unfold", (3,), {"padding": 1})),
]


def layer_steps(shape: tuple[int, ...], make: Callable[[], nn.Module], torch_layer: tuple,
                torch) -> dict[str, Callable[[], None]]:
    """name -> LAYER_CALLS forward + backward passes of the layer in minidl and in PyTorch."""
    x = np.random.default_rng(0).standard_normal((BATCH, *shape)).astype(np.float32)
    name, args, kwargs = torch_layer
    return forward_backward_steps(x, make(), lambda: getattr(torch.nn, name)(*args, **kwargs),
                                  torch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15, help="timed passes per cell "
                        "(default 15)")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats needs an int >= 1, got {args.repeats}")
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: minidl's times only")
    print(f"python {platform.python_version()}, numpy {np.__version__}, numba "
          f"{numba.__version__}, torch {'-' if torch is None else torch.__version__}, "
          f"{os.cpu_count()} cores; threads per row: BLAS = numba = torch threads")
    print(f"BLAS at start: {minidl.threads.blas_report()}")
    print(f"median of {args.repeats} passes of {LAYER_CALLS} forward + backward calls, batch "
          f"{BATCH}, float32\n")
    rows = []
    for label, shape, make, torch_layer in LAYERS:
        steps = layer_steps(shape, make, torch_layer, torch)
        times = measure(steps, torch, args.repeats, LAYER_CALLS)
        rows += rows_for(label, times)
    print(table(["us per call", "threads", "minidl", "PyTorch", "PyTorch / minidl"], rows))


if __name__ == "__main__":
    main()
