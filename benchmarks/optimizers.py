"""RMSprop step time and effective bandwidth: minidl against its floors and rivals.

    python benchmarks/optimizers.py            # the full table (a minute or two)
    python benchmarks/optimizers.py --quick    # a smoke run, small sizes only

Rows (each does the same float32 RMSprop update, lr 1e-2, alpha 0.99, eps 1e-8):

    minidl cpu       RMSprop(params, device="cpu").step(), through the Optimizer API
    minidl cuda      the same with device="cuda" (only with a real GPU): grads up,
                     one launch per group, params down
    raw njit         minidl.kernels.cpu.rmsprop called directly on flat buffers:
                     the floor for minidl cpu (the step's Python overhead is the gap)
    numpy in place   RMSprop per tensor with in-place numpy ops and a scratch array
    torch foreach    torch.optim.RMSprop(foreach=True) on CPU (when torch imports),
                     the faster of 1 thread and torch's default thread count
    memcpy           np.copyto moving as many bytes as the update must move

Columns: one tensor of N elements, N = 1e3 ... 1e7; "mlp 200" = 200 tensors,
100 x (70x70 weight + 70 bias) = 497,000 params; and where a GPU is present,
"gpu mlp" = 100 x (256x256 weight + 256 bias) = 6,579,200 params and "2^26" =
one tensor of 67,108,864 elements (GPU rows only).

Each cell is the median of repeated steps after a warm-up. GB/s counts the
bytes the update must move: read param, grad and square_avg, write param and
square_avg: 5 x 4 bytes per element. The memcpy row copies 2.5 x 4 bytes per
element (read + write = the same 20 bytes).

A second table sets RMSprop beside SGD(momentum=0.9), Adagrad, Adam, AdamW,
Rprop, Adadelta, Adamax, NAdam and RAdam, and its descendants ASGD, Lion,
AdaBelief and schedule-free AdamW and SGD (lr 1e-2, otherwise each one's
defaults) on "mlp 200" and one tensor of 1e6:
minidl cpu, the raw njit kernel of the same update and torch foreach, timed as
above (one process per implementation; each cell the best of 3 medians, from
3 passes through all its cells), with GB/s from the bytes each update must
move: param, grad and every state read, param and every state written, and
the bytes of optimizer state each optimizer keeps per parameter. The torch row
of the descendants is their reference: torch.optim.ASGD, lion-pytorch's
foreach Lion, schedulefree's optimizers with foreach=True, and
adabelief-pytorch's AdaBelief, which has no foreach form (a per-tensor loop).

A third table times the updates that see each matrix's shape, Adafactor (on
"mlp 200") and Muon (on its 100 70x70 weights: Muon takes matrices only):
minidl cpu (and minidl cuda with a GPU), its raw kernel
(``minidl.kernels.cpu.adafactor``/``muon`` on the group's flat buffers and
shape table) and torch.optim (Adafactor with
foreach=True; Muon has no foreach, and orthogonalises in bfloat16 where minidl
uses float32), with the state bytes per parameter of each, beside RMSprop's and
Adam's: Adafactor's advantage is memory.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import io
import math
import multiprocessing
import os
import platform
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, NamedTuple

import numba
import numpy as np

import minidl
import minidl.optim
from minidl import Tensor
from minidl.kernels import cpu as cpu_kernels
from minidl.kernels import cuda_problem, load

LR, ALPHA, EPS = 1e-2, 0.99, 1e-8
BYTES_PER_ELEMENT = 5 * 4
NONE = np.zeros(0, np.float32)          # a kernel's state buffer that is switched off


class Compared(NamedTuple):
    """One optimizer of the second table: its label, its class name in both
    minidl.optim and torch.optim, their keyword arguments, its live state
    buffers, and the same update as a call of the njit kernel on flat buffers."""

    label: str
    name: str
    kwargs: dict
    states: int
    kernel: Callable[..., None]                     # kernel(param, grad, *states)
    torch_target: float = 15.0                      # torch / minidl on "mlp 200", at least

    def bytes_per_element(self) -> int:             # read param, grad, states; write
        return 4 * (3 + 2 * self.states)            # param, states


COMPARED = [
    Compared("SGD(momentum=0.9)", "SGD", dict(lr=LR, momentum=0.9), 1,
             lambda p, g, b: cpu_kernels.sgd(p, g, b, LR, 0.9, 0.0, 0.0, False, False, 2)),
    Compared("Adagrad", "Adagrad", dict(lr=LR), 1,
             lambda p, g, s: cpu_kernels.adagrad(p, g, s, LR, 0.0, 0.0, 1e-10, False, 2)),
    Compared("RMSprop", "RMSprop", dict(lr=LR, alpha=ALPHA, eps=EPS), 1,
             lambda p, g, v: cpu_kernels.rmsprop(p, g, v, NONE, NONE, LR, ALPHA, EPS, 0.0,
                                                 0.0, False, False, False)),
    Compared("Adam", "Adam", dict(lr=LR), 2,
             lambda p, g, m, v: cpu_kernels.adam(p, g, m, v, NONE, LR, 0.9, 0.999, 1e-8, 0.0,
                                                 False, False, False, 2)),
    Compared("AdamW", "AdamW", dict(lr=LR), 2,           # weight_decay 1e-2, decoupled
             lambda p, g, m, v: cpu_kernels.adam(p, g, m, v, NONE, LR, 0.9, 0.999, 1e-8, 1e-2,
                                                 True, False, False, 2)),
    Compared("Rprop", "Rprop", dict(lr=LR), 2,
             lambda p, g, prev, size: cpu_kernels.rprop(p, g, prev, size, LR, 0.5, 1.2, 1e-6,
                                                        50.0, False, 2)),
    Compared("Adadelta", "Adadelta", dict(lr=LR), 2,
             lambda p, g, v, u: cpu_kernels.adadelta(p, g, v, u, LR, 0.9, 1e-6, 0.0, False)),
    Compared("Adamax", "Adamax", dict(lr=LR), 2,
             lambda p, g, m, u: cpu_kernels.adamax(p, g, m, u, LR, 0.9, 0.999, 1e-8, 0.0, False,
                                                   2)),
    Compared("NAdam", "NAdam", dict(lr=LR), 2,
             lambda p, g, m, v: cpu_kernels.nadam(p, g, m, v, LR, 0.9, 0.999, 1e-8, 0.0, 4e-3,
                                                  False, False, 2)),
    Compared("RAdam", "RAdam", dict(lr=LR), 2,           # step 100: the rectified branch
             lambda p, g, m, v: cpu_kernels.radam(p, g, m, v, LR, 0.9, 0.999, 1e-8, 0.0, False,
                                                  False, 100)),
    # RMSprop's descendants (torch's row is their reference implementation: see above)
    Compared("ASGD", "ASGD", dict(lr=LR), 1,                 # t0 = 1e6: mu = 1, ax = p
             lambda p, g, ax: cpu_kernels.asgd(p, g, ax, 1e-4, 0.0, False, LR, 1.0), 10.0),
    Compared("Lion", "Lion", dict(lr=LR), 1,
             lambda p, g, m: cpu_kernels.lion(p, g, m, LR, 0.9, 0.99, 0.0), 10.0),
    Compared("AdaBelief", "AdaBelief", dict(lr=LR), 2,       # step 100: rectified
             lambda p, g, m, s: cpu_kernels.adabelief(p, g, m, s, NONE, LR, 0.9, 0.999, 1e-16,
                                                      0.0, False, True, False, True, True, 100),
             10.0),
    Compared("AdamWScheduleFree", "AdamWScheduleFree", dict(lr=LR), 2,
             lambda p, g, z, v: cpu_kernels.schedule_free(p, g, z, v, LR, 0.9, 0.999, 1e-8, 0.0,
                                                          0.01, 100, 2), 10.0),
    Compared("SGDScheduleFree", "SGDScheduleFree", dict(lr=LR), 1,
             lambda p, g, z: cpu_kernels.schedule_free(p, g, z, NONE, LR, 0.9, 0.0, 0.0, 0.0,
                                                       0.01, 100, 2), 10.0),
]
RMSPROP = COMPARED[2]


def single(n: int) -> list[tuple[int, ...]]:
    return [(n,)]


def mlp(width: int, layers: int = 100) -> list[tuple[int, ...]]:
    return [shape for _ in range(layers) for shape in ((width, width), (width,))]


def measure(step: Callable[[], None], seconds: float, sync: Callable[[], None] = lambda: None
            ) -> float:
    """Median seconds per call, after warm-up calls, over >= 5 calls or ``seconds``."""
    for _ in range(3):
        step()
    sync()
    times: list[float] = []
    budget = time.perf_counter() + seconds
    while len(times) < 5 or (time.perf_counter() < budget and len(times) < 10_000):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def host_arrays(shapes, rng) -> tuple[list[np.ndarray], list[np.ndarray]]:
    params = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    grads = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    return params, grads


def minidl_step(shapes, rng, device: str, spec: Compared = RMSPROP
                ) -> tuple[Callable[[], None], Callable[[], None]]:
    params, grads = host_arrays(shapes, rng)
    tensors = [Tensor(p, requires_grad=True) for p in params]
    opt = getattr(minidl.optim, spec.name)(tensors, **spec.kwargs, device=device)
    if hasattr(opt, "train"):     # schedule-free: steps only in train mode
        opt.train()
    for tensor, grad in zip(tensors, grads):
        tensor.grad = grad
    return opt.step, load(opt.device).synchronize


def state_bytes_per_param(spec: Compared) -> float:
    """Bytes of optimizer state per parameter after one step on "mlp 200": the
    flat state buffers and any per-parameter scalars (ASGD's eta and mu)."""
    step, _ = minidl_step(mlp(70), np.random.default_rng(0), "cpu", spec)
    step()
    flats = step.__self__._flat
    state = sum(buffer.nbytes for flat in flats for buffer in flat.state.values())
    state += sum(flat.scalars.nbytes for flat in flats)
    return state / sum(flat.size for flat in flats)


def raw_njit_step(shapes, rng, spec: Compared = RMSPROP) -> Callable[[], None]:
    size = sum(int(np.prod(shape)) for shape in shapes)
    param, grad = (rng.standard_normal(size).astype(np.float32) for _ in range(2))
    states = [np.zeros(size, np.float32) for _ in range(spec.states)]
    return lambda: spec.kernel(param, grad, *states)


def numpy_step(shapes, rng) -> Callable[[], None]:
    params, grads = host_arrays(shapes, rng)
    squares = [np.zeros_like(p) for p in params]
    scratch = [np.empty_like(p) for p in params]
    alpha, rest, eps, lr = (np.float32(x) for x in (ALPHA, 1 - ALPHA, EPS, LR))

    def step() -> None:
        for p, g, v, tmp in zip(params, grads, squares, scratch):
            v *= alpha                      # v = alpha v + (1 - alpha) g^2
            np.multiply(g, g, out=tmp)
            tmp *= rest
            v += tmp
            np.sqrt(v, out=tmp)             # p -= lr g / (sqrt(v) + eps)
            tmp += eps
            np.divide(g, tmp, out=tmp)
            tmp *= lr
            p -= tmp
    return step


def torch_step(shapes, rng, spec: Compared = RMSPROP) -> Callable[[], None]:
    import torch

    params, grads = host_arrays(shapes, rng)
    tensors = [torch.nn.Parameter(torch.from_numpy(p)) for p in params]
    for tensor, grad in zip(tensors, grads):
        tensor.grad = torch.from_numpy(grad)
    return reference_optimizer(spec, tensors).step


def reference_optimizer(spec: Compared, tensors: list):
    """torch.optim's optimizer with foreach=True, or the descendant's package (see above)."""
    import torch

    if hasattr(torch.optim, spec.name):
        return getattr(torch.optim, spec.name)(tensors, **spec.kwargs, foreach=True)
    if spec.name == "Lion":
        from lion_pytorch.foreach import Lion
        return Lion(tensors, **spec.kwargs)
    if spec.name == "AdaBelief":
        from adabelief_pytorch import AdaBelief
        with contextlib.redirect_stdout(io.StringIO()):   # it prints the options it enables
            return AdaBelief(tensors, **spec.kwargs, print_change_log=False)
    import schedulefree
    opt = getattr(schedulefree, spec.name)(tensors, **spec.kwargs, foreach=True)
    opt.train()
    return opt


def torch_time(shapes, rng, seconds: float, spec: Compared = RMSPROP) -> float:
    """The faster of torch on 1 thread and on its default thread count: on a
    busy 2-core machine its OpenMP barriers can stall for a scheduler tick."""
    import torch

    default = torch.get_num_threads()
    best = math.inf
    for threads in sorted({1, default}):
        torch.set_num_threads(threads)
        best = min(best, measure(torch_step(shapes, rng, spec), seconds))
    torch.set_num_threads(default)
    return best


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def memcpy_step(shapes, rng) -> Callable[[], None]:
    size = sum(int(np.prod(shape)) for shape in shapes)
    count = BYTES_PER_ELEMENT * size // 8          # float32s to copy: 20 bytes moved / element
    source, target = rng.standard_normal(count).astype(np.float32), np.empty(count, np.float32)
    return lambda: np.copyto(target, source)


def minidl_time(device: str, shapes, rng, seconds: float, spec: Compared = RMSPROP) -> float:
    step, sync = minidl_step(shapes, rng, device, spec)
    return measure(step, seconds, sync)


TIMERS: dict[str, Callable] = {
    "minidl cpu": functools.partial(minidl_time, "cpu"),
    "minidl cuda": functools.partial(minidl_time, "cuda"),
    "raw njit": lambda shapes, rng, seconds, spec=RMSPROP: measure(
        raw_njit_step(shapes, rng, spec), seconds),
    "numpy in place": lambda shapes, rng, seconds: measure(numpy_step(shapes, rng), seconds),
    "torch foreach": torch_time,
    "memcpy": lambda shapes, rng, seconds: measure(memcpy_step(shapes, rng), seconds),
}
GPU_ONLY = {"gpu mlp", "2^26"}


def time_row(row: str, columns: dict[str, list], seconds: float, passes: int = 3
             ) -> dict[str, float]:
    """Seconds per step of one row, for each of its columns: the least of its
    medians over ``passes`` passes through all the cells (see time_compared)."""
    rng = np.random.default_rng(0)
    cells = {column: shapes for column, shapes in columns.items()
             if row == "minidl cuda" or column not in GPU_ONLY}
    runs = [{column: TIMERS[row](shapes, rng, seconds / passes)
             for column, shapes in cells.items()} for _ in range(passes)]
    return {column: min(run[column] for run in runs) for column in cells}


def time_compared(row: str, columns: dict[str, list], seconds: float, passes: int = 3
                  ) -> dict[tuple[str, str], float]:
    """Seconds per step of one row of TIMERS, for each (optimizer, column): the
    least of its medians over ``passes`` passes through all the cells, so that a
    slow spell of the VM (seconds at half speed) does not decide a cell."""
    rng = np.random.default_rng(0)
    runs = [{(spec.name, column): TIMERS[row](shapes, rng, seconds / passes, spec=spec)
             for spec in COMPARED for column, shapes in columns.items()} for _ in range(passes)]
    return {cell: min(run[cell] for run in runs) for cell in runs[0]}


def in_fresh_process(function: Callable, *args):
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def run(quick: bool) -> str:
    """Time every row, each in a fresh process: numba's and torch's OpenMP
    thread pools would otherwise spin-wait against each other on 2 cores."""
    gpu = cuda_problem() is None and os.environ.get("NUMBA_ENABLE_CUDASIM") != "1"
    sizes = [10**3, 10**4, 10**5] if quick else [10**3, 10**4, 10**5, 10**6, 10**7]
    columns = {f"1e{int(np.log10(n))}": single(n) for n in sizes}
    columns["mlp 200"] = mlp(70)
    if gpu:
        columns["gpu mlp"] = mlp(256)
        columns["2^26"] = single(2**26)
    seconds = 0.2 if quick else 1.0
    rows = [row for row in TIMERS if (row != "minidl cuda" or gpu)
            and (row != "torch foreach" or torch_available())]
    times: dict[str, dict[str, float]] = {}
    for row in rows:
        times[row] = in_fresh_process(time_row, row, columns, seconds)
    compared_columns = {"mlp 200": columns["mlp 200"], "1e6": single(10**6)}
    compared = {row: in_fresh_process(time_compared, row, compared_columns, seconds)
                for row in ("minidl cpu", "raw njit", "torch foreach") if row in rows}

    lines = [header(quick, gpu), "", "time per step (us) / effective GB/s", ""]
    lines += table(times, columns, lambda row, column, seconds: (
        f"{seconds * 1e6:,.1f} / {bandwidth(columns[column], seconds):.1f}"))
    lines += ["", "ratios of time per step (> 1: the second is faster)", ""]
    ratios = {"minidl cpu / raw njit": ("minidl cpu", "raw njit"),
              "numpy / minidl cpu": ("numpy in place", "minidl cpu"),
              "torch / minidl cpu": ("torch foreach", "minidl cpu")}
    ratio_times = {name: {column: times[a][column] / times[b][column]
                          for column in columns if column in times.get(a, {})
                          and column in times.get(b, {})}
                   for name, (a, b) in ratios.items() if a in times}
    lines += table(ratio_times, columns, lambda row, column, value: f"{value:.2f}x")
    lines += ["", *targets(ratio_times)]
    lines += ["", "optimizers compared, cpu: time per step (us), ratios, minidl cpu GB/s", ""]
    lines += compared_table(compared, compared_columns)
    lines += ["", *compared_targets(compared)]
    shaped_rows = ["minidl cpu", *(["minidl cuda"] if gpu else []), "raw kernel",
                   *(["torch"] if torch_available() else [])]
    shaped = {row: in_fresh_process(time_shaped, row, seconds) for row in shaped_rows}
    lines += ["", "shape-aware updates, cpu: time per step (us) and ratios", ""]
    lines += shaped_table(shaped, torch_available())
    return "\n".join(lines)


# -- the shape-aware updates: Adafactor and Muon ------------------------------------

SHAPED = {"Adafactor": dict(lr=LR), "Muon": dict(lr=LR)}


def shaped_shapes(name: str) -> list[tuple[int, ...]]:
    """"mlp 200" for Adafactor; its 100 weight matrices for Muon (2-D params only)."""
    return [shape for shape in mlp(70) if name != "Muon" or len(shape) == 2]


def shaped_minidl(name: str, rng, device: str = "cpu"
                  ) -> tuple[minidl.optim.Optimizer, list[Tensor]]:
    params, grads = host_arrays(shaped_shapes(name), rng)
    tensors = [Tensor(p, requires_grad=True) for p in params]
    opt = getattr(minidl.optim, name)(tensors, **SHAPED[name], device=device)
    for tensor, grad in zip(tensors, grads):
        tensor.grad = grad
    return opt, tensors


def shaped_raw(name: str, rng) -> Callable[[], None]:
    """The cpu kernel on the optimizer's own flat buffers, without the Optimizer API."""
    opt, _ = shaped_minidl(name, rng)
    flat = opt._flat[0]
    kernel, steps = getattr(cpu_kernels, name.lower()), np.full(len(flat.params), 5)
    return lambda: kernel(flat.data, flat.grad, *flat.state_args, flat.table, steps,
                          *flat.scalar_args)


def shaped_torch(name: str, rng):
    import torch

    params, grads = host_arrays(shaped_shapes(name), rng)
    tensors = [torch.nn.Parameter(torch.from_numpy(p)) for p in params]
    for tensor, grad in zip(tensors, grads):
        tensor.grad = torch.from_numpy(grad)
    foreach = {"foreach": True} if name == "Adafactor" else {}   # Muon has no foreach
    return getattr(torch.optim, name)(tensors, **SHAPED[name], **foreach)


def time_shaped(row: str, seconds: float, passes: int = 3) -> dict[str, float]:
    """Seconds per step of ``row`` ("minidl cpu", "minidl cuda", "raw kernel", "torch")
    for each shape-aware optimizer: the least of its medians over ``passes`` passes."""
    rng = np.random.default_rng(0)
    steps = {"minidl cpu": lambda name: shaped_minidl(name, rng)[0].step,
             "minidl cuda": lambda name: shaped_minidl(name, rng, "cuda")[0].step,
             "raw kernel": lambda name: shaped_raw(name, rng),
             "torch": lambda name: shaped_torch(name, rng).step}[row]
    sync = load("cuda").synchronize if row == "minidl cuda" else lambda: None
    runs = [{name: measure(steps(name), seconds / passes, sync) for name in SHAPED}
            for _ in range(passes)]
    return {name: min(run[name] for run in runs) for name in SHAPED}


def state_bytes_per_parameter(name: str, torch_too: bool) -> tuple[float, float | None]:
    """Bytes of optimizer state per parameter after one step, in minidl and in torch
    (every state tensor but the step count) on the optimizer's shapes."""
    rng = np.random.default_rng(0)
    kwargs = SHAPED.get(name, dict(lr=LR))
    if name in SHAPED:
        opt, _ = shaped_minidl(name, rng)
    else:
        shapes = mlp(70)
        tensors = [Tensor(p, requires_grad=True) for p in host_arrays(shapes, rng)[0]]
        opt = getattr(minidl.optim, name)(tensors, **kwargs, device="cpu")
        for tensor in tensors:
            tensor.grad = np.ones(tensor.shape, np.float32)
    opt.step()
    flat = opt._flat[0]
    ours = sum(buffer.nbytes for buffer in flat.state.values()) / flat.size
    if not torch_too:
        return ours, None
    import torch

    if name in SHAPED:
        theirs_opt = shaped_torch(name, rng)
    else:
        theirs_opt = getattr(torch.optim, name)(
            [torch.nn.Parameter(torch.zeros(shape)) for shape in mlp(70)], **kwargs)
        for group in theirs_opt.param_groups:
            for param in group["params"]:
                param.grad = torch.ones_like(param)
    theirs_opt.step()
    numel = sum(p.numel() for group in theirs_opt.param_groups for p in group["params"])
    state = sum(value.nbytes for entry in theirs_opt.state.values()
                for key, value in entry.items() if key != "step" and torch.is_tensor(value))
    return ours, state / numel


def shaped_table(times: dict[str, dict[str, float]], torch_too: bool) -> list[str]:
    """Adafactor's and Muon's times and ratios, then the state bytes per parameter."""
    cells = {}
    for name in SHAPED:
        row = {column: times[column][name] for column in times}
        row["minidl / raw"] = row["minidl cpu"] / row["raw kernel"]
        if "torch" in row:
            row["torch / minidl"] = row["torch"] / row["minidl cpu"]
        cells[f"{name} ({sum(int(np.prod(s)) for s in shaped_shapes(name)):,} params)"] = row
    shows = {"minidl cpu": "{:,.1f}", "minidl cuda": "{:,.1f}", "raw kernel": "{:,.1f}",
             "torch": "{:,.1f}", "minidl / raw": "{:.2f}x", "torch / minidl": "{:.2f}x"}
    lines = table(cells, [c for c in shows if any(c in row for row in cells.values())],
                  lambda row, column, value: shows[column].format(
                      value * 1e6 if "/" not in column else value))
    memory = {}
    for name in ("RMSprop", "Adam", *SHAPED):
        ours, theirs = state_bytes_per_parameter(name, torch_too)
        memory[name] = {"minidl": ours, **({"torch": theirs} if theirs is not None else {})}
    lines += ["", "optimizer state, bytes per parameter (float32 params, mlp 200; Muon its "
              "weights)", ""]
    lines += table(memory, ["minidl", "torch"] if torch_too else ["minidl"],
                   lambda row, column, value: f"{value:.3f}")
    return lines


def compared_targets(times: dict[str, dict[tuple[str, str], float]]) -> list[str]:
    """Every optimizer on "mlp 200": minidl within 1.2x of its raw kernel, and at
    least 15x faster than torch foreach (10x for the descendants)."""
    lines = ["targets, every optimizer on mlp 200 (minidl / raw <= 1.2x, "
             "torch / minidl >= 15x, >= 10x for ASGD and after):"]
    for spec in COMPARED:
        cell = (spec.name, "mlp 200")
        minidl_time = times["minidl cpu"][cell]
        raw = minidl_time / times["raw njit"][cell]
        line = f"  {spec.label}: minidl / raw {raw:.2f}x ({'met' if raw <= 1.2 else 'MISSED'})"
        if "torch foreach" in times:
            torch_ratio = times["torch foreach"][cell] / minidl_time
            line += (f", torch / minidl {torch_ratio:.1f}x "
                     f"({'met' if torch_ratio >= spec.torch_target else 'MISSED'})")
        lines.append(line)
    return lines


def compared_table(times: dict[str, dict[tuple[str, str], float]], columns) -> list[str]:
    """One row per (column, optimizer): the TIMERS rows' times, then their ratios."""
    state_bytes = {spec.name: state_bytes_per_param(spec) for spec in COMPARED}
    cells = {}
    for column, shapes in columns.items():
        for spec in COMPARED:
            row = {name: times[name][spec.name, column] for name in times}
            if "torch foreach" in row:
                row["torch / minidl"] = row["torch foreach"] / row["minidl cpu"]
            row["minidl / raw"] = row["minidl cpu"] / row["raw njit"]
            row["GB/s"] = bandwidth(shapes, row["minidl cpu"], spec.bytes_per_element())
            row["state B/param"] = state_bytes[spec.name]
            cells[f"{column}: {spec.label}"] = row
    shows = {"minidl cpu": "{:,.1f}", "raw njit": "{:,.1f}", "torch foreach": "{:,.1f}",
             "torch / minidl": "{:.2f}x", "minidl / raw": "{:.2f}x", "GB/s": "{:.1f}",
             "state B/param": "{:.1f}"}
    return table(cells, shows, lambda row, column, value: shows[column].format(
        value * 1e6 if column in TIMERS else value))


def bandwidth(shapes, seconds: float, bytes_per_element: int = BYTES_PER_ELEMENT) -> float:
    return bytes_per_element * sum(int(np.prod(shape)) for shape in shapes) / seconds / 1e9


def table(cells: dict[str, dict[str, float]], columns, show) -> list[str]:
    names = list(columns)
    body = [[row] + [show(row, c, values[c]) if c in values else "-" for c in names]
            for row, values in cells.items()]
    widths = [max(len(line[i]) for line in [["", *names], *body]) for i in range(len(names) + 1)]
    fmt = lambda line: "| " + " | ".join(  # noqa: E731
        cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths)))
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return [fmt(["", *names]) + " |", rule] + [fmt(line) + " |" for line in body]


def targets(ratios: dict[str, dict[str, float]]) -> list[str]:
    checks = [("minidl cpu / raw njit", "mlp 200", "<=", 1.2),
              ("torch / minidl cpu", "mlp 200", ">=", 20.0),
              ("numpy / minidl cpu", "1e7", ">=", 4.0)]
    lines = ["targets:"]
    for name, column, op, bound in checks:
        value = ratios.get(name, {}).get(column)
        if value is None:
            lines.append(f"  {name} at {column} {op} {bound}: not measured")
            continue
        met = value <= bound if op == "<=" else value >= bound
        lines.append(f"  {name} at {column}: {value:.2f}x ({op} {bound}x: "
                     f"{'met' if met else 'MISSED'})")
    return lines


def header(quick: bool, gpu: bool) -> str:
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:
        torch_version = "not installed"
    return (f"{time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores, numba threads {numba.get_num_threads()}; python "
            f"{platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, "
            f"torch {torch_version}, minidl {minidl.__version__}; "
            f"gpu: {'yes' if gpu else 'none'}; load average {os.getloadavg()[0]:.1f}"
            f"{'; --quick' if quick else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, short timings")
    print(run(parser.parse_args().quick))


if __name__ == "__main__":
    main()
