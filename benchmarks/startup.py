"""Start-up time of the command line and of ``import minidl``, in new processes.

Each row is one command, run ``--repeats`` times in a fresh interpreter, the
rows interleaved so that load on the machine spreads over all of them; a cell
is the median wall time. Two columns:

    cold   NUMBA_CACHE_DIR and MINIDL_CACHE_DIR new empty folders for every run:
           the kernels compile, and the dataset is made with scikit-learn
    warm   both folders filled by one earlier run: the kernels load from numba's
           cache, the dataset split from minidl's (no scikit-learn)

Only ``train`` calls numba kernels and loads a dataset, so only its row differs
between the two.
``--baseline DIR`` runs every command in another source tree too (e.g. a
``git worktree`` of an older commit), in the same interleaved loop, and adds
its columns and the ratio of the warm times.
Baselines in the same run: the interpreter with numpy alone (a floor no
command can beat) and ``import sklearn`` (what the moons dataset costs:
``minidl train`` generates it with scikit-learn). Targets from issue 9: help and
datasets < 0.3 s, warm train < 1 s.

    python benchmarks/startup.py [--repeats 5] [--baseline DIR]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COMMANDS: list[tuple[str, list[str], str]] = [
    ("python -c 'import numpy'  (floor)", ["-c", "import numpy"], ""),
    ("python -c 'import sklearn'", ["-c", "import sklearn"], ""),
    ("python -c 'import minidl'", ["-c", "import minidl"], ""),
    ("minidl --help", ["-m", "minidl", "--help"], "< 0.3"),
    ("minidl datasets", ["-m", "minidl", "datasets"], "< 0.3"),
    ("minidl train --dataset moons --epochs 1",
     ["-m", "minidl", "train", "--dataset", "moons", "--epochs", "1", "--no-progress"],
     "< 1 (warm)"),
]


def wall_time(args: list[str], cache: str, tree: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree), "NUMBA_CACHE_DIR": cache,
           "MINIDL_CACHE_DIR": os.path.join(cache, "minidl")}
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, cwd=tree, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another source tree to time alongside")
    options = parser.parse_args()
    trees = {"now": ROOT, **({"base": options.baseline.resolve()} if options.baseline else {})}

    print(f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'default')}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'default')}; "
          f"median of {options.repeats} runs, rows interleaved\n")
    times: dict[tuple[int, str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, tree in trees.items():   # fill each tree's warm cache once
            wall_time(COMMANDS[-1][1], os.path.join(folder, f"warm-{name}"), tree)
        for repeat in range(options.repeats):
            for row, (_, args, _) in enumerate(COMMANDS):
                for name, tree in trees.items():
                    cold = os.path.join(folder, f"cold-{name}-{repeat}-{row}")
                    warm = os.path.join(folder, f"warm-{name}")
                    times.setdefault((row, name, "cold"), []).append(wall_time(args, cold, tree))
                    times.setdefault((row, name, "warm"), []).append(wall_time(args, warm, tree))

    median = {key: statistics.median(values) for key, values in times.items()}
    header = ["command"]
    for name in trees:
        header += [f"{name} cold (s)", f"{name} warm (s)"]
    rows = [tuple(header + (["base / now (warm)"] if len(trees) > 1 else []) + ["target (s)"])]
    for row, (label, _, target) in enumerate(COMMANDS):
        cells = [label]
        for name in trees:
            cells += [f"{median[row, name, kind]:.2f}" for kind in ("cold", "warm")]
        if len(trees) > 1:
            cells.append(f"{median[row, 'base', 'warm'] / median[row, 'now', 'warm']:.2f}x")
        rows.append(tuple(cells + [target]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        print("| " + " | ".join(cell.ljust(w) if j == 0 else cell.rjust(w)
                                for j, (cell, w) in enumerate(zip(r, widths))) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


if __name__ == "__main__":
    main()
