"""Generate tests/data/clip_grad_vectors.npz with torch.nn.utils (run by hand, needs torch).

    python tests/data/make_clip_grad_vectors.py

For each case: the grads of four float32 tensors (shapes SHAPES), and what
``torch.nn.utils.clip_grad_norm_`` returns and leaves in them for one
(max_norm, norm_type), plus ``clip_grad_value_`` for one clip value. Keys:
``grads`` (every grad raveled and concatenated), ``norm_<case>``,
``clipped_<case>`` and ``value_clipped``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

SHAPES = [(3, 4), (4,), (4, 2), (2,)]
CASES = {"l2_clips": (0.5, 2.0), "l2_keeps": (100.0, 2.0), "l1": (1.0, 1.0),
         "inf": (0.25, float("inf")), "p3_5": (0.7, 3.5)}
CLIP_VALUE = 0.3


def main() -> None:
    import torch

    grads = np.random.default_rng(0).standard_normal(sum(np.prod(s) for s in SHAPES))
    grads = grads.astype(np.float32)
    out: dict[str, np.ndarray] = {"grads": grads}

    def params() -> list[torch.Tensor]:
        tensors, start = [], 0
        for shape in SHAPES:
            size = int(np.prod(shape))
            p = torch.zeros(shape, requires_grad=True)
            p.grad = torch.tensor(grads[start:start + size].reshape(shape))
            tensors.append(p)
            start += size
        return tensors

    for name, (max_norm, norm_type) in CASES.items():
        ps = params()
        norm = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
        out[f"norm_{name}"] = norm.numpy()
        out[f"clipped_{name}"] = torch.cat([p.grad.reshape(-1) for p in ps]).numpy()
    ps = params()
    torch.nn.utils.clip_grad_value_(ps, CLIP_VALUE)
    out["value_clipped"] = torch.cat([p.grad.reshape(-1) for p in ps]).numpy()
    path = Path(__file__).with_name("clip_grad_vectors.npz")
    np.savez(path, **out)
    print(f"wrote {path} with torch {torch.__version__}")


if __name__ == "__main__":
    main()
