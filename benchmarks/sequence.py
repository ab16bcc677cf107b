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

Under each LSTM and GRU row, its matmul floor: the matrix products that a
forward + backward cannot avoid, on their own, float32, into preallocated
outputs, timed in the same alternation. With G gates (4 for the LSTM, 3 for the
GRU), T steps, batch B, input I, hidden H:

    x W_ih^T, dG W_ih, dG^T x        T B I G H multiply-adds each: all the steps at once
    dG^T h_prev                      T B H G H
    h W_hh^T, dG[t] W_hh             B H G H each, T times: one per step

2 T B G H (3 I + 3 H) flops in all (0.24 GFLOP for the LSTM at hidden 64),
each product made the fastest way measured on this BLAS: ``np.dot`` with ``out``
for the first four, and the per-step ones in an njit loop of
``minidl.kernels.nn.gemm.small_gemm`` (OpenBLAS's small-matrix sizes). A library
faster than the floor would need fewer flops or a faster matmul; the GFLOP/s
columns divide those flops by each time. The script also times one 1024 x 1024
x 1024 product before each case, and keeps the best: BLAS's large-matrix rate.

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
from minidl.kernels.jit import njit
from minidl.kernels.nn.gemm import small_gemm
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


def matmul_flops(kind: str, hidden: int) -> int:
    """2 T B G H (3 I + 3 H): the multiply-adds of the floor's products, twice."""
    width = {"LSTM": 4, "GRU": 3}[kind] * hidden
    return 2 * STEPS * BATCH * width * (3 * FEATURES + 3 * hidden)


@njit
def _step_products(h, w_hh_t, sums, grad, w_hh, dh):
    """The T per-step products of a forward and of a backward."""
    for t in range(sums.shape[0]):
        small_gemm(h, w_hh_t, sums[t], 1)
    for t in range(grad.shape[0]):
        small_gemm(grad[t], w_hh, dh, 0)


def matmul_floor(kind: str, hidden: int) -> Callable:
    """One call: the products that the layer's forward + backward cannot avoid."""
    width = {"LSTM": 4, "GRU": 3}[kind] * hidden
    rng = np.random.default_rng(1)

    def draw(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(np.float32) * 0.1
    x, w_ih_t, w_ih = draw(STEPS * BATCH, FEATURES), draw(FEATURES, width), draw(width, FEATURES)
    h, w_hh_t, w_hh = draw(BATCH, hidden), draw(hidden, width), draw(width, hidden)
    grad, h_prev = draw(STEPS, BATCH, width), draw(STEPS * BATCH, hidden)
    sums, dh = np.empty((STEPS, BATCH, width), np.float32), np.empty((BATCH, hidden), np.float32)
    dx, dw_ih = np.empty_like(x), np.empty_like(w_ih)
    dw_hh, rows = np.empty_like(w_hh), grad.reshape(STEPS * BATCH, width)

    def floor() -> None:
        np.dot(x, w_ih_t, out=sums.reshape(STEPS * BATCH, width))
        _step_products(h, w_hh_t, sums, grad, w_hh, dh)
        np.dot(rows, w_ih, out=dx)
        np.dot(rows.T, x, out=dw_ih)
        np.dot(rows.T, h_prev, out=dw_hh)
    return floor


def blas_peak() -> float:
    """GFLOP/s of the best of six 1024 x 1024 x 1024 float32 products."""
    a, b = (np.random.default_rng(2).standard_normal((1024, 1024)).astype(np.float32)
            for _ in range(2))
    out = np.empty_like(a)
    best = min(_seconds(lambda: np.dot(a, b, out=out)) for _ in range(6))
    return 2 * 1024**3 / best / 1e9


def _seconds(action: Callable) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


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
            samples[name].append(_seconds(action))
    return {name: statistics.median(times) * 1e6 for name, times in samples.items()}


def main() -> None:
    parser, args = timing_arguments(__doc__, 20, "calls")
    try:
        import torch
    except ImportError:
        parser.exit(1, "benchmarks/sequence.py compares with PyTorch: install torch\n")
    minidl.set_num_threads(1)
    torch.set_num_threads(1)
    recurrent = {f"{kind} hidden {hidden}": (kind, hidden)
                 for kind in ("LSTM", "GRU") for hidden in HIDDEN}
    cases: list[tuple[str, Callable]] = [
        (label, lambda sizes=sizes: recurrent_rows(*sizes, torch))
        for label, sizes in recurrent.items()]
    flops = {label: matmul_flops(*sizes) for label, sizes in recurrent.items()}
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
        peak = 0.0
        least: dict[str, dict[str, float]] = {}
        differences: dict[str, float] = {}
        for _ in range(args.rounds):
            for label, make_rows in cases:
                peak = max(peak, blas_peak())   # the best moment of the run
                rows, differences[label] = make_rows()
                if label in recurrent:
                    rows["floor"] = matmul_floor(*recurrent[label])
                times = measure(rows, args.repeats)
                least[label] = {k: min(v, least.get(label, times)[k]) for k, v in times.items()}
    print(table(["us per forward+backward", "minidl", "PyTorch", "PyTorch / minidl",
                 "max |output diff|", "GFLOP/s minidl", "GFLOP/s PyTorch"],
                 table_lines(least, differences, flops)) + note)
    print(f"BLAS's large-matrix rate, 1024 x 1024 x 1024 float32: {peak:.0f} GFLOP/s")
    for hidden in HIDDEN[:2]:
        label = f"LSTM hidden {hidden}"
        t = least[label]
        ratio, needed = t["PyTorch"] / t["minidl"], t["PyTorch"] / TARGET
        print(f"target, {label} at least {TARGET}x faster than PyTorch: "
              f"{'met' if ratio >= TARGET else 'NOT met'} ({ratio:.2f}x). It needs "
              f"{needed:.0f} us; the matmul floor is {t['floor']:.0f} us, and at "
              f"{peak:.0f} GFLOP/s the matmuls alone take {flops[label] / peak / 1e3:.0f} us"
              + ("" if needed > t["floor"] else ": below the floor, out of reach on this BLAS"))


def table_lines(least: dict[str, dict[str, float]], differences: dict[str, float],
                flops: dict[str, int]) -> list[list[str]]:
    """A row per case; under a recurrent one, its matmul floor (PyTorch / floor)."""
    lines = []
    for label, t in least.items():
        rates = [f"{flops[label] / t[name] / 1e3:.0f}" if label in flops else ""
                 for name in ("minidl", "PyTorch")]
        lines.append([label, f"{t['minidl']:.0f}", f"{t['PyTorch']:.0f}",
                      f"{t['PyTorch'] / t['minidl']:.2f}x", f"{differences[label]:.1e}", *rates])
        if "floor" in t:
            lines.append(["  matmul floor", f"{t['floor']:.0f}", "",
                          f"{t['PyTorch'] / t['floor']:.2f}x", "",
                          f"{flops[label] / t['floor'] / 1e3:.0f}", ""])
    return lines


if __name__ == "__main__":
    main()
