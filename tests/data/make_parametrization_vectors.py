"""Generate tests/data/parametrization_vectors.npz with torch (run by hand, needs torch).

    python tests/data/make_parametrization_vectors.py

For each case of CASES, a layer (class, arguments) made by torch, given a
parametrization (``parametrizations.weight_norm``/``spectral_norm``/``orthogonal``, or
the old hook forms ``weight_norm``/``spectral_norm``) with keyword arguments, and
called STEPS times in training mode on fixed inputs, then once in eval mode. Keys,
``<case>__`` followed by:

    init__<key>        the layer's state before the parametrization (its weight, bias)
    registered__<key>  the state right after it
    state__<key>       the state before the first call (for orthogonal, the original
                       was moved off -I first, so that the map is not the identity)
    input<i>           the inputs; ``cotangent`` the r of loss = sum(r * output)
    out<s>, buffers<s>__<key>   each call's output and, after it, every buffer
    grad__<name>       the parameters' grads of the last training call's loss
    eval_out, eval_buffers__<key>, weight   the eval call, and the weight then
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

STEPS = 3
NEW, OLD = "parametrizations", "hooks"
CASES = {   # name: (layer, arguments, input shapes, form, function, keyword arguments)
    "wn_linear": ("Linear", (3, 4), [(2, 3)], NEW, "weight_norm", {}),
    "wn_linear_dim1": ("Linear", (3, 4), [(2, 3)], NEW, "weight_norm", {"dim": 1}),
    "wn_linear_dimnone": ("Linear", (3, 4), [(2, 3)], NEW, "weight_norm", {"dim": None}),
    "wn_conv": ("Conv2d", (2, 3, 3), [(2, 2, 5, 5)], NEW, "weight_norm", {}),
    "old_wn_linear": ("Linear", (3, 4), [(2, 3)], OLD, "weight_norm", {}),
    "old_wn_conv_dimnone": ("Conv2d", (2, 3, 3), [(2, 2, 5, 5)], OLD, "weight_norm",
                            {"dim": None}),
    "sn_linear": ("Linear", (5, 4), [(2, 5)], NEW, "spectral_norm", {}),
    "sn_linear_2iter": ("Linear", (4, 6), [(2, 4)], NEW, "spectral_norm",
                        {"n_power_iterations": 2, "eps": 1e-6}),
    "sn_conv": ("Conv2d", (2, 3, 3), [(2, 2, 5, 5)], NEW, "spectral_norm", {}),
    "sn_conv_dim1": ("Conv2d", (2, 3, 3), [(2, 2, 5, 5)], NEW, "spectral_norm", {"dim": 1}),
    "sn_convT": ("ConvTranspose2d", (3, 2, 3), [(2, 3, 4, 4)], NEW, "spectral_norm", {}),
    "old_sn_linear": ("Linear", (5, 4), [(2, 5)], OLD, "spectral_norm", {}),
    "old_sn_conv": ("Conv2d", (2, 3, 3), [(2, 2, 5, 5)], OLD, "spectral_norm",
                    {"n_power_iterations": 2}),
    "old_sn_convT": ("ConvTranspose2d", (3, 2, 3), [(2, 3, 4, 4)], OLD, "spectral_norm", {}),
    "orth_exp": ("Linear", (3, 3), [(2, 3)], NEW, "orthogonal", {}),
    "orth_exp_wide": ("Linear", (5, 3), [(2, 5)], NEW, "orthogonal",
                      {"orthogonal_map": "matrix_exp"}),
    "orth_cayley": ("Linear", (3, 3), [(2, 3)], NEW, "orthogonal", {"orthogonal_map": "cayley"}),
    "orth_cayley_tall": ("Linear", (3, 5), [(2, 3)], NEW, "orthogonal",
                         {"orthogonal_map": "cayley"}),
    "orth_hh_tall": ("Linear", (3, 5), [(2, 3)], NEW, "orthogonal", {}),
    "orth_hh_wide": ("Linear", (5, 3), [(2, 5)], NEW, "orthogonal", {}),
    "orth_hh_notriv": ("Linear", (3, 5), [(2, 3)], NEW, "orthogonal",
                       {"use_trivialization": False}),
    "orth_batch": ("Bilinear", (3, 4, 2), [(2, 3), (2, 4)], NEW, "orthogonal",
                   {"orthogonal_map": "cayley"}),
}


def parametrize(nn, module, form: str, function: str, kwargs: dict):
    """Apply the case's parametrization (torch's or minidl's ``nn``)."""
    owner = nn.utils.parametrizations if form == NEW else nn.utils
    return getattr(owner, function)(module, **kwargs)


def move_off_identity(original: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """-I plus small off-diagonal noise: orthogonal's stored X away from the identity
    (the diagonal stays -1, where householder reads its signs)."""
    n, k = original.shape[-2:]
    return original + 0.3 * rng.standard_normal(original.shape) * (1 - np.eye(n, k))


def main() -> None:
    import torch
    import warnings

    warnings.simplefilter("ignore", FutureWarning)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    out: dict[str, np.ndarray] = {}

    def save(case: str, key: str, value) -> None:
        out[f"{case}__{key}"] = np.array(value.detach() if hasattr(value, "detach") else value)

    for case, (layer, args, shapes, form, function, kwargs) in CASES.items():
        module = getattr(torch.nn, layer)(*args)
        for key, value in module.state_dict().items():
            save(case, f"init__{key}", value)
        parametrize(torch.nn, module, form, function, kwargs)
        for key, value in module.state_dict().items():
            save(case, f"registered__{key}", value)
        if function == "orthogonal":
            original = module.parametrizations.weight.original
            with torch.no_grad():
                original.copy_(torch.tensor(move_off_identity(original.numpy(), rng)))
        for key, value in module.state_dict().items():
            save(case, f"state__{key}", value)
        inputs = [torch.tensor(rng.standard_normal(shape), dtype=torch.float32)
                  for shape in shapes]
        for i, x in enumerate(inputs):
            save(case, f"input{i}", x)
        for step in range(STEPS):
            output = module(*inputs)
            save(case, f"out{step}", output)
            for key, value in module.named_buffers():
                save(case, f"buffers{step}__{key}", value)
        cotangent = torch.tensor(rng.standard_normal(tuple(output.shape)), dtype=torch.float32)
        save(case, "cotangent", cotangent)
        (output * cotangent).sum().backward()
        for name, parameter in module.named_parameters():
            save(case, f"grad__{name}", parameter.grad)
        module.eval()
        save(case, "eval_out", module(*inputs))
        for key, value in module.named_buffers():
            save(case, f"eval_buffers__{key}", value)
        save(case, "weight", module.weight)
    path = Path(__file__).with_name("parametrization_vectors.npz")
    np.savez(path, **out)
    print(f"wrote {path} ({len(out)} arrays) with torch {torch.__version__}")


if __name__ == "__main__":
    main()
