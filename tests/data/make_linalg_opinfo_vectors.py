"""Write tests/data/linalg_opinfo_vectors.npz: PyTorch's own sample inputs (its OpInfo
database) for every torch.linalg function that minidl.linalg has, with PyTorch's outputs,
gradients and refusals, in make_opinfo_vectors.py's format: the oracle of
tests/test_linalg_opinfo.py, which needs no torch.

Regenerate (needs torch 2.13, CPU, and expecttest) from the repository root:

    python tests/data/make_linalg_opinfo_vectors.py

The samples are stored as they are: singular vectors and eigenvectors whose signs
LAPACK's builds may choose differently, and gradients through them, can differ; the
test lists such samples as known differences.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from make_opinfo_vectors import minidl, op_samples, save
from torch.testing._internal.common_methods_invocations import op_db

OUT = Path(__file__).with_name("linalg_opinfo_vectors.npz")
PREFIX = "linalg."


def main() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(20261206)
    arrays: dict[str, np.ndarray] = {}
    samples = []
    for op in op_db:
        if op.name.startswith(PREFIX) and op.name[len(PREFIX):] in minidl.linalg.__all__:
            samples += op_samples(op, op.name, arrays, rng)
    save(OUT, arrays, samples, "op")


if __name__ == "__main__":
    main()
