"""Where does ``parallel=True`` start to pay for the CPU kernels?

Times one float32 RMSprop step through ``minidl.kernels.cpu.rmsprop`` with the
serial and with the parallel loop at sizes 1e3 .. 1e7, prints a table and the
smallest size from which parallel is faster at every larger measured size:
the value to write into ``kernels/cpu.py`` as ``PARALLEL_THRESHOLD``. It also
times the wrapper against calling the compiled loop directly (the wrapper's
overhead should stay under 1.2x at 0.5M parameters).

    python benchmarks/cpu_threshold.py [--repeats 7]

Each time is the best of ``repeats`` runs of a batch of steps sized to last
about 20 ms, so a number is the cost of one step with warm caches and threads.
"""
from __future__ import annotations

import argparse
import os
import timeit

import numpy as np

from minidl.kernels import cpu

SIZES = (1_000, 3_000, 10_000, 30_000, 50_000, 100_000, 300_000, 1_000_000, 3_000_000,
         10_000_000)
# lr, alpha, eps, weight_decay, momentum, centered, maximize, eps_in_sqrt
RMSPROP_OPTIONS = (1e-6, 0.99, 1e-8, 0.0, 0.0, False, False, False)


def rmsprop_arrays(size: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    param, grad = (rng.standard_normal(size, dtype=np.float32) for _ in range(2))
    square_avg = np.zeros(size, np.float32)
    unused = np.zeros(0, np.float32)
    return param, grad, square_avg, unused, unused


def seconds_per_call(call, repeats: int) -> float:
    call()
    number = max(1, int(0.02 / max(timeit.timeit(call, number=1), 1e-7)))
    return min(timeit.repeat(call, number=number, repeat=repeats)) / number


def time_rmsprop(size: int, threshold: int, repeats: int) -> float:
    """Seconds per ``cpu.rmsprop`` step with ``PARALLEL_THRESHOLD = threshold``."""
    arrays = rmsprop_arrays(size)
    saved, cpu.PARALLEL_THRESHOLD = cpu.PARALLEL_THRESHOLD, threshold
    try:
        return seconds_per_call(lambda: cpu.rmsprop(*arrays, *RMSPROP_OPTIONS), repeats)
    finally:
        cpu.PARALLEL_THRESHOLD = saved


def wrapper_overhead(size: int, repeats: int) -> tuple[float, float]:
    """(seconds per wrapper call, seconds per direct call of the same compiled loop)."""
    arrays = rmsprop_arrays(size)
    loop = cpu.LOOPS["rmsprop"].pick(size)
    loop_arguments = cpu.loop_arguments("rmsprop", *arrays, *RMSPROP_OPTIONS)
    wrapped = seconds_per_call(lambda: cpu.rmsprop(*arrays, *RMSPROP_OPTIONS), repeats)
    direct = seconds_per_call(lambda: loop(*loop_arguments), repeats)
    return wrapped, direct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    repeats = parser.parse_args().repeats
    if repeats < 1:
        parser.error(f"--repeats needs an int >= 1, got {repeats}")
    print(f"{os.cpu_count()} CPUs, numba threads: {cpu.numba.get_num_threads()}")
    print(f"{'size':>10} {'serial us':>10} {'parallel us':>12} {'speed-up':>9}")
    faster = []
    for size in SIZES:
        serial = time_rmsprop(size, threshold=size + 1, repeats=repeats)
        parallel = time_rmsprop(size, threshold=0, repeats=repeats)
        faster.append(parallel < serial)
        print(f"{size:>10} {serial * 1e6:>10.1f} {parallel * 1e6:>12.1f} {serial / parallel:>9.2f}")
    print(f"threading layer: {cpu.numba.threading_layer()}")
    pays = [size for index, size in enumerate(SIZES) if all(faster[index:])]
    print(f"parallel pays from: {pays[0] if pays else 'never'} (PARALLEL_THRESHOLD is "
          f"{cpu.PARALLEL_THRESHOLD})")
    size = 500_000
    wrapped, direct = wrapper_overhead(size, repeats)
    print(f"wrapper vs direct loop at {size}: {wrapped * 1e6:.1f} us vs {direct * 1e6:.1f} us "
          f"({wrapped / direct:.3f}x)")


if __name__ == "__main__":
    main()
