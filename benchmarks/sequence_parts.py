"""Where an LSTM forward + backward spends its time in minidl, beside PyTorch's whole call.

The sizes of ``sequence.py`` (batch 32, sequence 50, input 32, float32, one
thread), hidden 64 and 128. Each part is timed on its own, the parts
alternating call by call; a cell is the least of its ``--repeats`` times
``--rounds`` calls (the quietest moment of a loaded machine):

    input projection    x W_ih^T for all the steps (numpy's BLAS)
    forward loop        the input projection and the njit loop over the steps
                        (``rnn_cpu._lstm_forward``)
      its products      the same T products h W_hh^T alone (``small_gemm``)
    backward loop       the njit BPTT loop (``rnn_cpu._lstm_backward``)
      its products      the same T products dG[t] W_hh alone
    dx, dW_ih, dW_hh, db   the products over all the steps after the loop
    kernels             ``rnn_cpu.forward`` + ``rnn_cpu.backward``
    module              ``lstm(x)[0].sum().backward()``: the kernels, the graph, the sum

A loop minus its products (and the projection) is its gate math and copies; the module minus the
kernels is the Python and autograd around them.

    python benchmarks/sequence_parts.py [--repeats 40] [--rounds 1]
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
import threadpoolctl

import minidl
import minidl.nn as nn
from minidl.kernels.jit import njit
from minidl.kernels.nn import rnn_cpu
from minidl.kernels.nn.gemm import small_gemm
from sequence import BATCH, FEATURES, STEPS, matmul_flops
from conv import timing_arguments  # benchmarks/conv.py: the same --repeats and --rounds
from training import table


@njit
def _products(left, right, out, beta):
    """left[t] @ right (+ beta out[t]) into out[t] for each step t."""
    for t in range(left.shape[0]):
        small_gemm(left[t], right, out[t], beta)


def parts(hidden: int, torch) -> dict[str, Callable]:
    """name -> one call of that part, on one layer's arrays."""
    x = np.random.default_rng(0).standard_normal((STEPS, BATCH, FEATURES)).astype(np.float32)
    theirs = torch.nn.LSTM(FEATURES, hidden)
    mine = nn.LSTM(FEATURES, hidden)
    mine.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    w_ih, w_hh, b_ih, b_hh = (getattr(mine, name)._data for name in mine._flat_names[0])
    h0 = np.zeros((BATCH, hidden), np.float32)
    full = np.full(STEPS, BATCH, np.int64)
    y, h_n, c_n, context = rnn_cpu.forward("LSTM", x, h0, h0, w_ih, w_hh, b_ih, b_hh, full,
                                           False)
    gy = np.ones_like(y)
    width, rows = 4 * hidden, STEPS * BATCH
    grad = np.random.default_rng(1).standard_normal((STEPS, BATCH, width)).astype(np.float32)
    flat, x_rows = grad.reshape(rows, width), x.reshape(rows, FEATURES)
    states = np.random.default_rng(2).standard_normal(y.shape).astype(np.float32)
    sums, dh = np.empty_like(grad), np.empty_like(y)      # the products' outputs
    w_hh_t, scale = np.ascontiguousarray(w_hh.T), np.ones(width, np.float32)
    scale[2 * hidden:3 * hidden] = 2
    mine_x, torch_x = minidl.Tensor(x, requires_grad=True), torch.from_numpy(x).requires_grad_()

    def forward_loop() -> None:
        gates = np.dot(x_rows, w_ih.T).reshape(STEPS, BATCH, width)
        rnn_cpu._lstm_forward(h0.copy(), h0.copy(), w_hh_t, b_ih + b_hh, scale, full, False,
                              *(np.empty_like(y) for _ in range(3)), gates,
                              gates.reshape(STEPS, BATCH, 4, hidden), np.empty_like(y))

    def backward_loop() -> None:
        rnn_cpu._lstm_backward(gy, h0.copy(), h0.copy(), w_hh, context.extra, context.gates,
                               context.tanh_cells, full, False, grad,
                               grad.reshape(context.gates.shape))

    def module() -> None:
        mine.zero_grad()
        mine_x.grad = None
        mine(mine_x)[0].sum().backward()

    def pytorch() -> None:
        theirs.zero_grad()
        torch_x.grad = None
        theirs(torch_x)[0].sum().backward()
    return {
        "input projection": lambda: np.dot(x_rows, w_ih.T),
        "forward loop": forward_loop,
        "  its products h W_hh^T": lambda: _products(states, w_hh_t, sums, 0),
        "backward loop": backward_loop,
        "  its products dG[t] W_hh": lambda: _products(grad, w_hh, dh, 0),
        "dx, dW_ih, dW_hh, db": lambda: (np.dot(flat, w_ih), np.dot(flat.T, x_rows),
                                         np.dot(flat.T, context.hprev.reshape(rows, hidden)),
                                         np.dot(np.ones(rows, np.float32), flat)),
        "kernels": lambda: rnn_cpu.backward(gy, h0, h0, rnn_cpu.forward(
            "LSTM", x, h0, h0, w_ih, w_hh, b_ih, b_hh, full, False)[3]),
        "module": module,
        "PyTorch": pytorch,
    }


def main() -> None:
    parser, args = timing_arguments(__doc__, 40, "calls")
    try:
        import torch
    except ImportError:
        parser.exit(1, "benchmarks/sequence_parts.py compares with PyTorch: install torch\n")
    minidl.set_num_threads(1)
    torch.set_num_threads(1)
    hiddens = (64, 128)
    least: dict[int, dict[str, float]] = {}
    with threadpoolctl.threadpool_limits(1):
        for hidden in hiddens:
            actions = parts(hidden, torch)
            for action in actions.values():   # warm-up: compile, allocate
                action()
                action()
            least[hidden] = dict.fromkeys(actions, float("inf"))
            for _ in range(args.repeats * args.rounds):
                for name, action in actions.items():
                    start = time.perf_counter()
                    action()
                    least[hidden][name] = min(least[hidden][name], time.perf_counter() - start)
    def timed(name: str) -> tuple[str, Callable[[dict[str, float]], float]]:
        return name, lambda t: t[name]
    rows = [timed("input projection"), timed("forward loop"),
            timed("  its products h W_hh^T"),
            ("  gate math and copies (the rest)", lambda t: t["forward loop"]
             - t["input projection"] - t["  its products h W_hh^T"]),
            timed("backward loop"), timed("  its products dG[t] W_hh"),
            ("  gate math and copies (the rest)",
             lambda t: t["backward loop"] - t["  its products dG[t] W_hh"]),
            timed("dx, dW_ih, dW_hh, db"), timed("kernels"),
            ("Python and autograd (module - kernels)", lambda t: t["module"] - t["kernels"]),
            timed("module"), timed("PyTorch")]
    print(f"LSTM, batch {BATCH}, sequence {STEPS}, input {FEATURES}, float32, one thread "
          f"(numba {minidl.get_num_threads()}, torch {torch.get_num_threads()}, BLAS 1); "
          f"least of {args.repeats * args.rounds} calls, us")
    print(table(["part", *(f"hidden {h}" for h in hiddens)],
                [[name, *(f"{value(least[h]) * 1e6:.0f}" for h in hiddens)]
                 for name, value in rows]
                + [["GFLOP/s of the module (matmul flops)",
                    *(f"{matmul_flops('LSTM', h) / least[h]['module'] / 1e9:.0f}"
                      for h in hiddens)]]))


if __name__ == "__main__":
    main()
