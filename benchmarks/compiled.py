"""Time a compiled training step: minidl eager and compiled, PyTorch eager and
torch.compile, JAX jit of the whole step, on one thread.

Two networks on the 1437 training digits, batch 64, cross-entropy, RMSprop(lr=1e-3):

    MLP   Linear(64, 128) - ReLU - Linear(128, 128) - ReLU - Linear(128, 10)
    CNN   Conv2d(1, 16, 3, p=1) - ReLU - MaxPool2d(2) - Conv2d(16, 32, 3, p=1) - ReLU
          - MaxPool2d(2) - Flatten - Linear(128, 10)

A step is ``zero_grad; loss = CE(model(X_b), y_b); backward; optimizer step``.
Rows, each timed over the same 22 batches (one pass), passes interleaved row by
row so load on the machine spreads evenly; each cell is the fastest of
``--repeats`` passes (on a shared machine the pass that other jobs disturbed
least, for every row alike), with the median beside it:

    minidl eager       the step as Python runs it
    minidl compiled    minidl.compile(step): the plan replayed
    PyTorch eager      torch.nn and torch.optim.RMSprop
    torch.compile      torch.compile(model) (forward and backward compiled by
                       inductor), torch.optim.RMSprop eager; skipped with the
                       error when inductor cannot build on this machine
    JAX jit            the whole step (forward, grad, optax.rmsprop) under jax.jit;
                       skipped when jax or optax is not installed
    matmul floor       (MLP) its 8 matmuls alone, into preallocated outputs

Then the first two calls of the compiled step in a new process, with numba's
cache empty and warm: the first traces (an eager step, which loads the kernels
eager needs too) and builds the plan, the second replays it (and loads, or
compiles, the plan's own loops, kernels/nn/fused_cpu.py).

    python benchmarks/compiled.py [--repeats 15] [--skip-first-call]
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
from typing import Callable

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")   # JAX on one thread

import numpy as np  # noqa: E402

import minidl  # noqa: E402
import minidl.datasets  # noqa: E402
import minidl.nn as nn  # noqa: E402
from training import table  # noqa: E402  (benchmarks/training.py: the same plain-text table)

LR, BATCH, BATCHES = 1e-3, 64, 22
Pass = Callable[[], None]


def mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def cnn() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(128, 10))


def minidl_passes(make: Callable[[], nn.Sequential], data: list) -> dict[str, Pass]:
    """One pass each for the eager and the compiled step, on models of one seed."""
    passes = {}
    for name in ("minidl eager", "minidl compiled"):
        minidl.manual_seed(0)
        model = make()
        optimizer = minidl.optim.RMSprop(model.parameters(), lr=LR)
        loss_fn = nn.CrossEntropyLoss()

        def step(x, y, model=model, optimizer=optimizer, loss_fn=loss_fn):
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            return loss
        if name == "minidl compiled":
            step = minidl.compile(step, fallback=False)
        batches = [(minidl.tensor(x), minidl.tensor(y)) for x, y in data]
        passes[name] = lambda step=step, batches=batches: [step(x, y) for x, y in batches]
    return passes


def torch_passes(torch, make: Callable[[], nn.Sequential], data: list) -> dict[str, Pass]:
    """PyTorch eager, and torch.compile of the model when inductor builds here."""
    layers = {"Linear": lambda m: torch.nn.Linear(m.in_features, m.out_features),
              "ReLU": lambda m: torch.nn.ReLU(), "MaxPool2d": lambda m: torch.nn.MaxPool2d(2),
              "Flatten": lambda m: torch.nn.Flatten(),
              "Conv2d": lambda m: torch.nn.Conv2d(m.in_channels, m.out_channels, 3, padding=1)}
    batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in data]
    passes = {}
    for name in ("PyTorch eager", "torch.compile"):
        model = torch.nn.Sequential(*[layers[type(m).__name__](m) for m in make()])
        optimizer = torch.optim.RMSprop(model.parameters(), lr=LR)
        forward = torch.compile(model) if name == "torch.compile" else model

        def one_pass(forward=forward, optimizer=optimizer):
            for x, y in batches:
                optimizer.zero_grad()
                loss = torch.nn.functional.cross_entropy(forward(x), y)
                loss.backward()
                optimizer.step()
        try:
            one_pass()
        except Exception as error:   # inductor needs a working C++ toolchain
            print(f"torch.compile skipped: {type(error).__name__}: {str(error)[:200]}")
            continue
        passes[name] = one_pass
    return passes


def jax_pass(kind: str, data: list) -> Pass | None:
    """The whole step under jax.jit, or None without jax and optax."""
    try:
        import jax
        import jax.numpy as jnp
        import optax
    except ImportError as error:
        print(f"JAX skipped: {error}")
        return None
    key = jax.random.PRNGKey(0)

    def dense(key, n_in, n_out):
        bound = 1 / np.sqrt(n_in)
        k1, k2 = jax.random.split(key)
        return (jax.random.uniform(k1, (n_out, n_in), minval=-bound, maxval=bound),
                jax.random.uniform(k2, (n_out,), minval=-bound, maxval=bound))

    def conv(key, c_in, c_out):
        bound = 1 / np.sqrt(c_in * 9)
        k1, k2 = jax.random.split(key)
        return (jax.random.uniform(k1, (c_out, c_in, 3, 3), minval=-bound, maxval=bound),
                jax.random.uniform(k2, (c_out,), minval=-bound, maxval=bound))

    def pool(x):
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2),
                                     "VALID")

    def convolve(x, w, b):
        y = jax.lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1)),
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return y + b[None, :, None, None]

    keys = jax.random.split(key, 3)
    if kind == "MLP":
        params = [dense(keys[0], 64, 128), dense(keys[1], 128, 128), dense(keys[2], 128, 10)]

        def forward(params, x):
            for w, b in params[:-1]:
                x = jax.nn.relu(x @ w.T + b)
            return x @ params[-1][0].T + params[-1][1]
    else:
        params = [conv(keys[0], 1, 16), conv(keys[1], 16, 32), dense(keys[2], 128, 10)]

        def forward(params, x):
            x = pool(jax.nn.relu(convolve(x, *params[0])))
            x = pool(jax.nn.relu(convolve(x, *params[1])))
            return x.reshape(len(x), -1) @ params[2][0].T + params[2][1]
    optimizer = optax.rmsprop(LR, decay=0.99, eps=1e-8)

    def loss_fn(params, x, y):
        return optax.softmax_cross_entropy_with_integer_labels(forward(params, x), y).mean()

    @jax.jit
    def step(params, state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss
    batches = [(jnp.asarray(x), jnp.asarray(y)) for x, y in data]
    box = [params, optimizer.init(params)]

    def one_pass():
        for x, y in batches:
            box[0], box[1], loss = step(box[0], box[1], x, y)
        loss.block_until_ready()
    return one_pass


def matmul_floor(data: list) -> Pass:
    """The MLP's 8 matmuls (3 forward, 3 weight grads, 2 input grads), preallocated."""
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(shape).astype(np.float32)
               for shape in ((128, 64), (128, 128), (10, 128))]
    acts = [np.empty((BATCH, n), np.float32) for n in (128, 128, 10)]
    grads = [np.empty_like(w) for w in weights]
    back = [np.empty((BATCH, 128), np.float32) for _ in range(2)]

    def one_pass():
        for x, _ in data:
            np.matmul(x, weights[0].T, out=acts[0])
            np.matmul(acts[0], weights[1].T, out=acts[1])
            np.matmul(acts[1], weights[2].T, out=acts[2])
            np.matmul(acts[2].T, acts[1], out=grads[2])
            np.matmul(acts[2], weights[2], out=back[1])
            np.matmul(back[1].T, acts[0], out=grads[1])
            np.matmul(back[1], weights[1], out=back[0])
            np.matmul(back[0].T, x, out=grads[0])
    return one_pass


def measure(rows: dict[str, Pass], repeats: int) -> dict[str, tuple[float, float]]:
    """us per step: (the fastest, the median) pass over ``repeats``, rows interleaved."""
    for one_pass in rows.values():   # warm-up: traces, compiles, first allocations
        one_pass()
        one_pass()
    times: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(repeats):
        for name, one_pass in rows.items():
            start = time.perf_counter()
            one_pass()
            times[name].append((time.perf_counter() - start) / BATCHES * 1e6)
    return {name: (min(values), statistics.median(values)) for name, values in times.items()}


FIRST_CALL = """
import time, numpy as np, minidl, minidl.nn as nn
minidl.set_num_threads(1)
model = {make}
opt = minidl.optim.RMSprop(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
def step(x, y):
    opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); opt.step(); return loss
x = minidl.tensor(np.random.default_rng(0).standard_normal({shape}).astype(np.float32))
y = minidl.tensor(np.arange(64) % 10)
compiled = minidl.compile(step, fallback=False)
start = time.perf_counter(); compiled(x, y); first = time.perf_counter() - start
compiled(x, y); second = time.perf_counter() - start
start = time.perf_counter(); compiled(x, y); third = time.perf_counter() - start
print(first, second, third)
"""


def first_calls() -> list[list[str]]:
    """The first and second compiled call in a new process, numba cache cold then warm."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rows = []
    for name, make, shape in (("MLP", "nn.Sequential(nn.Linear(64, 128), nn.ReLU(), "
                                      "nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))",
                               (64, 64)),
                              ("CNN", "nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), "
                                      "nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), "
                                      "nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), "
                                      "nn.Linear(128, 10))", (64, 1, 8, 8))):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": root}
            for state in ("cold", "warm"):
                out = subprocess.run([sys.executable, "-c", FIRST_CALL.format(make=make,
                                                                              shape=shape)],
                                     env=env, capture_output=True, text=True, check=True)
                first, second, third = map(float, out.stdout.split())
                rows.append([name, state, f"{first:.3f} s", f"{second:.3f} s",
                             f"{third * 1e6:.0f} us"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15, help="timed passes per row")
    parser.add_argument("--skip-first-call", action="store_true",
                        help="skip the first-call timings in new processes")
    args = parser.parse_args()
    minidl.set_num_threads(1)
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
        print("PyTorch skipped: not installed")
    split = minidl.datasets.load("digits", seed=0)
    X = np.asarray(split.X_train, np.float32)
    y = np.asarray(split.y_train, np.int64)
    data = [(X[i:i + BATCH], y[i:i + BATCH]) for i in range(0, BATCHES * BATCH, BATCH)]
    print(f"{platform.processor() or platform.machine()}, python {platform.python_version()}, "
          f"numpy {np.__version__}, threads: minidl/numba {minidl.get_num_threads()}, "
          f"torch {torch.get_num_threads() if torch else '-'}, XLA one thread")
    results = {}
    for name, make, images in (("MLP", mlp, False), ("CNN", cnn, True)):
        batches = [(x.reshape(-1, 1, 8, 8) if images else x, t) for x, t in data]
        rows = minidl_passes(make, batches)
        if torch is not None:
            rows.update(torch_passes(torch, make, batches))
        jax_row = jax_pass(name, batches)
        if jax_row is not None:
            rows["JAX jit"] = jax_row
        if name == "MLP":
            rows["matmul floor"] = matmul_floor(batches)
        results[name] = measure(rows, args.repeats)
    names = list(dict.fromkeys(n for r in results.values() for n in r))
    header = ["us per step (fastest / median)", *results]
    body = [[name, *("{:.0f} / {:.0f}".format(*results[net][name]) if name in results[net]
                     else "-" for net in results)] for name in names]
    print(table(header, body))
    fastest = {net: {name: cell[0] for name, cell in rows.items()}
               for net, rows in results.items()}
    compiled = {net: fastest[net]["minidl compiled"] for net in fastest}
    ratios = [["eager / compiled", *(f"{fastest[n]['minidl eager'] / compiled[n]:.2f}"
                                      for n in fastest)]]
    if "JAX jit" in fastest["MLP"]:
        ratios.append(["JAX jit / compiled", *(f"{fastest[n]['JAX jit'] / compiled[n]:.2f}"
                                               for n in fastest)])
    ratios.append(["compiled / matmul floor",
                   f"{compiled['MLP'] / fastest['MLP']['matmul floor']:.2f}", "-"])
    print(table(["ratio of the fastest passes", *fastest], ratios))
    if not args.skip_first_call:
        print(table(["network", "numba cache", "first call (trace + plan)",
                     "first two calls", "third call"], first_calls()))


if __name__ == "__main__":
    main()
