"""Time sequence models, forward + backward, minidl against PyTorch on the CPU, one thread.

Rows: nn.LSTM and nn.GRU with batch 32, sequence length 50, input size 32 and
hidden sizes 64, 128 and 256, and a 2-layer nn.TransformerEncoder (d_model 64,
4 heads, sequence length 32, batch 32) where ``minidl.nn`` has one. A call is
``zero_grad; output.sum().backward()`` through the layer, the input's gradient
included, in float32; both libraries start from the same weights (torch's
state_dict loaded into minidl), and the script first checks that they give the
same output. numpy's BLAS (and scipy's, which the recurrent kernels call), numba
and torch run one thread. Within a row the two libraries alternate call by
call, so load on the machine falls on both alike; each cell is the median over
``--repeats`` calls, and with ``--rounds R`` the least of R such medians.

    python benchmarks/sequence.py [--repeats 20] [--rounds 1]
"""
from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Any, Callable

import numba
import numpy as np
import threadpoolctl

import minidl
import minidl.nn as nn
from training import table  # benchmarks/training.py: the same plain-text table
from conv import timing_arguments  # benchmarks/conv.py: the same --repeats and --rounds

BATCH, STEPS, FEATURES = 32, 50, 32
HIDDEN = (64, 128, 256)
ENCODER = {"d_model": 64, "nhead": 4, "steps": 32, "batch": 32, "layers": 2}
TARGET = 1.5   # the LSTM at least this much faster than PyTorch at hidden 64 and 128


def recurrent_rows(kind: str, hidden: int, torch) -> tuple[dict[str, Callable], float]:
    """name -> one forward + backward; and the largest |output difference|."""
    x = np.random.default_rng(0).standard_normal((STEPS, BATCH, FEATURES)).astype(np.float32)
    theirs = getattr(torch.nn, kind)(FEATURES, hidden)
    mine = getattr(nn, kind)(FEATURES, hidden)
    mine.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return _rows(mine, theirs, x, torch)


def encoder_rows(torch) -> tuple[dict[str, Callable], float]:
    e = ENCODER
    x = np.random.default_rng(0).standard_normal((e["steps"], e["batch"], e["d_model"])
                                                 ).astype(np.float32)
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(
        e["d_model"], e["nhead"], dropout=0.0), e["layers"], enable_nested_tensor=False)
    mine = nn.TransformerEncoder(nn.TransformerEncoderLayer(e["d_model"], e["nhead"],
                                                            dropout=0.0), e["layers"])
    mine.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return _rows(mine, theirs, x, torch)


def _first(output: Any) -> Any:
    """The output sequence of an RNN's (output, state) or an encoder's output."""
    return output[0] if isinstance(output, tuple) else output


def _rows(mine: nn.Module, theirs: Any, x: np.ndarray, torch) -> tuple[dict[str, Callable],
                                                                         float]:
    mine_x = minidl.Tensor(x, requires_grad=True)
    torch_x = torch.from_numpy(x).requires_grad_()

    def minidl_call() -> None:
        mine.zero_grad()
        mine_x.grad = None
        _first(mine(mine_x)).sum().backward()

    def torch_call() -> None:
        theirs.zero_grad()
        torch_x.grad = None
        _first(theirs(torch_x)).sum().backward()
    difference = float(np.max(np.abs(np.asarray(_first(mine(mine_x)))
                                     - _first(theirs(torch_x)).detach().numpy())))
    return {"minidl": minidl_call, "PyTorch": torch_call}, difference


def measure(rows: dict[str, Callable], repeats: int) -> dict[str, float]:
    """Median microseconds per call of each row, the rows alternating call by call."""
    samples: dict[str, list[float]] = {name: [] for name in rows}
    for action in rows.values():   # warm-up: compile, allocate, fill caches
        action()
        action()
    for _ in range(repeats):
        for name, action in rows.items():
            start = time.perf_counter()
            action()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) * 1e6 for name, times in samples.items()}


def main() -> None:
    parser, args = timing_arguments(__doc__, 20, "calls")
    try:
        import torch
    except ImportError:
        parser.exit(1, "benchmarks/sequence.py compares with PyTorch: install torch\n")
    minidl.set_num_threads(1)
    torch.set_num_threads(1)
    cases: list[tuple[str, Callable]] = [
        (f"{kind} hidden {hidden}", lambda k=kind, h=hidden: recurrent_rows(k, h, torch))
        for kind in ("LSTM", "GRU") for hidden in HIDDEN]
    if hasattr(nn, "TransformerEncoder"):
        e = ENCODER
        cases.append((f"TransformerEncoder {e['layers']} layers, d_model {e['d_model']}, "
                      f"{e['nhead']} heads, seq {e['steps']}", lambda: encoder_rows(torch)))
        note = ""
    else:
        note = ("\nTransformerEncoder row skipped: minidl.nn has no TransformerEncoder yet "
                "(the attention branch adds it)")
    with threadpoolctl.threadpool_limits(1):
        nn.LSTM(1, 1)(np.zeros((1, 1, 1), np.float32))   # loads the kernels and their BLAS
        print(f"python {platform.python_version()}, numpy {np.__version__}, numba "
              f"{numba.__version__}, torch {torch.__version__}, {os.cpu_count()} cores; "
              f"threads: numba {minidl.get_num_threads()}, torch {torch.get_num_threads()}")
        print(f"BLAS: {minidl.threads.blas_report()}")
        print(f"float32, forward + backward (sum of the output, input gradient included); "
              f"LSTM/GRU: batch {BATCH}, sequence {STEPS}, input {FEATURES}; median of "
              f"{args.repeats} calls, least over {args.rounds} round{'s' * (args.rounds > 1)}\n")
        least: dict[str, dict[str, float]] = {}
        differences: dict[str, float] = {}
        for _ in range(args.rounds):
            for label, make_rows in cases:
                rows, differences[label] = make_rows()
                times = measure(rows, args.repeats)
                least[label] = {k: min(v, least.get(label, times)[k]) for k, v in times.items()}
    lines = [[label, f"{t['minidl']:.0f}", f"{t['PyTorch']:.0f}",
              f"{t['PyTorch'] / t['minidl']:.2f}x", f"{differences[label]:.1e}"]
             for label, t in least.items()]
    print(table(["us per forward+backward", "minidl", "PyTorch", "PyTorch / minidl",
                 "max |output diff|"], lines) + note)
    for hidden in HIDDEN[:2]:
        t = least[f"LSTM hidden {hidden}"]
        ratio = t["PyTorch"] / t["minidl"]
        print(f"target, LSTM hidden {hidden} at least {TARGET}x faster than PyTorch: "
              f"{'met' if ratio >= TARGET else 'NOT met'} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
