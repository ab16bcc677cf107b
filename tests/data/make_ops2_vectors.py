"""Write tests/data/ops2_vectors.npz: PyTorch's values and gradients for the reductions,
scans, shape and indexing ops, the oracle of tests/test_ops2_torch.py (which needs no torch).

Regenerate (needs torch; written with torch 2.13, CPU) from the repository root:

    python tests/data/make_ops2_vectors.py

Each case is an expression in the tensors ``x0, x1, ...`` that PyTorch and minidl
both evaluate as written, ``lib`` being ``torch`` or ``minidl``, ``F`` their
``nn.functional`` and ``f64``, ``i32``, ``i64`` their float64, int32 and int64 dtypes;
the test evaluates the very expression stored here. An input is made from a spec
``kind:shape[:high]``:

    f   normal floats, requiring grad        z   floats with exact zeros, requiring grad
    big normal floats times 40               r   floats whose first row is all zeros
    n   floats, a quarter of them NaN        i   int64 in [0, high)
    u   int64, distinct along the last axis, < high
    b   a bool mask                          bf  an all-False mask

The float inputs are run in float32 and in float64. The output (a tuple's
elements in turn) is contracted with a fixed random cotangent v, and
``sum(out * v)`` is differentiated: the npz holds, with no pickled objects,

    cases                      a JSON list of {"name", "expr", "inputs"}
    <name>/in<j>               the inputs (floats as float64)
    <name>/cot<k>              the cotangent of output k (float64)
    <name>/<dtype>/out<k>      PyTorch's output k in float32 or float64
    <name>/<dtype>/grad<j>     d sum(out * v) / d input j, where input j requires grad
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch

OUT = Path(__file__).with_name("ops2_vectors.npz")
SEED = 20261202

CASES = [
    # -- reductions: dim/keepdim, 0-d and empty tensors --------------------------------
    ("sum_dim", "x0.sum(dim=1)", ["f:3,4"]),
    ("sum_dims_keepdim", "x0.sum(dim=(0, 2), keepdim=True)", ["f:2,3,4"]),
    ("sum_dtype", "x0.sum(dim=0, dtype=f64)", ["f:3,4"]),
    ("sum_0d", "x0.sum(0)", ["f:"]),
    ("sum_0d_keepdim", "x0.sum(dim=-1, keepdim=True)", ["f:"]),
    ("sum_empty", "x0.sum(dim=1)", ["f:2,0"]),
    ("mean_dim_keepdim", "x0.mean(dim=-1, keepdim=True)", ["f:3,4"]),
    ("mean_0d", "x0.mean(-1)", ["f:"]),
    ("max_all", "x0.max()", ["f:3,4"]),
    ("max_dim_values", "x0.max(dim=1).values", ["f:3,4"]),
    ("max_dim_indices", "x0.max(dim=0, keepdim=True).indices", ["f:3,4"]),
    ("max_0d", "x0.max(dim=0).values", ["f:"]),
    ("min_dim_values", "x0.min(dim=-1, keepdim=True).values", ["f:2,3,4"]),
    ("min_dim_indices", "x0.min(dim=1).indices", ["f:3,4"]),
    ("min_0d", "x0.min(dim=-1).values", ["f:"]),
    ("softmax_dim", "lib.softmax(x0, dim=1)", ["f:2,3,4"]),
    ("softmax_0d", "lib.softmax(x0, dim=0)", ["f:"]),
    ("log_softmax_0d", "lib.log_softmax(x0, dim=-1)", ["f:"]),
    ("logsumexp_keepdim", "lib.logsumexp(x0, dim=1, keepdim=True)", ["f:3,4"]),
    ("logsumexp_0d", "lib.logsumexp(x0, dim=0)", ["f:"]),
    ("var_correction0", "x0.var(dim=1, correction=0)", ["f:3,4"]),
    ("var_correction1", "x0.var(dim=1, correction=1)", ["f:3,4"]),
    ("var_correction2_all", "x0.var(correction=2)", ["f:3,4"]),
    ("var_dims_keepdim", "x0.var(dim=(0, 2), keepdim=True, correction=1)", ["f:2,3,4"]),
    ("var_no_dof", "x0.var(dim=1, correction=1)", ["f:3,1"]),
    ("var_size1_dim", "x0.var(dim=0, correction=1)", ["f:1,4"]),
    ("std_correction1", "x0.std(dim=0, correction=1)", ["f:3,4"]),
    ("std_correction0_all", "x0.std(correction=0)", ["f:3,4"]),
    ("var_unbiased", "x0.var(dim=0, unbiased=False)", ["f:3,4"]),
    ("std_unbiased", "x0.std(1, unbiased=True)", ["f:3,4"]),
    ("std_no_dof", "x0.std(dim=1, keepdim=True, correction=1)", ["f:2,1"]),
    ("prod_dim", "x0.prod(dim=1)", ["f:3,4"]),
    ("prod_all", "x0.prod()", ["f:2,3"]),
    ("prod_zeros", "x0.prod(dim=1, keepdim=True)", ["z:4,5"]),
    ("prod_dtype", "x0.prod(dim=0, dtype=f64)", ["f:3,4"]),
    ("prod_empty", "x0.prod(dim=1)", ["f:2,0"]),
    ("argmax_all", "x0.argmax()", ["f:3,4"]),
    ("argmax_dim", "x0.argmax(dim=1)", ["f:3,4"]),
    ("argmax_keepdim", "x0.argmax(dim=0, keepdim=True)", ["f:3,4"]),
    ("argmax_0d", "x0.argmax(dim=0)", ["f:"]),
    ("argmin_dim", "x0.argmin(dim=-1)", ["f:2,3,4"]),
    ("argmin_all", "x0.argmin()", ["f:3,4"]),
    ("median_all", "x0.median()", ["f:4,3"]),
    ("median_dim_values", "x0.median(dim=1).values", ["f:3,4"]),
    ("median_dim_indices", "x0.median(dim=1).indices", ["f:3,4"]),
    ("median_keepdim", "x0.median(dim=0, keepdim=True).values", ["f:5,3"]),
    ("norm_default", "x0.norm()", ["f:3,4"]),
    ("norm_p1", "x0.norm(p=1, dim=1)", ["f:3,4"]),
    ("norm_inf", "x0.norm(p=float('inf'), dim=0)", ["f:3,4"]),
    ("norm_fro", "x0.norm(p='fro', dim=(0, 1))", ["f:3,4"]),
    ("norm_p3_keepdim", "x0.norm(p=3, dim=1, keepdim=True)", ["f:3,4"]),
    ("norm_zero_row", "x0.norm(dim=1)", ["r:3,4"]),
    ("norm_0d", "x0.norm()", ["f:"]),
    # -- scans and orderings ---------------------------------------------------------
    ("cumsum_dim1", "x0.cumsum(1)", ["f:3,4"]),
    ("cumsum_dim0", "x0.cumsum(dim=0)", ["f:3,4"]),
    ("cumsum_0d", "x0.cumsum(0)", ["f:"]),
    ("cumsum_empty", "x0.cumsum(1)", ["f:2,0"]),
    ("cumsum_dtype", "x0.cumsum(1, dtype=f64)", ["f:3,4"]),
    ("cumprod_dim1", "x0.cumprod(1)", ["f:3,4"]),
    ("cumprod_zeros", "x0.cumprod(1)", ["z:4,6"]),
    ("cumprod_0d", "x0.cumprod(0)", ["f:"]),
    ("cummax_values", "x0.cummax(1).values", ["f:3,5"]),
    ("cummax_indices", "x0.cummax(0).indices", ["f:4,3"]),
    ("cummin_values", "x0.cummin(dim=0).values", ["f:4,3"]),
    ("cummin_indices", "x0.cummin(1).indices", ["f:3,5"]),
    ("logcumsumexp", "x0.logcumsumexp(1)", ["f:3,5"]),
    ("logcumsumexp_big", "x0.logcumsumexp(0)", ["big:6,2"]),
    ("sort_values", "x0.sort(dim=1).values", ["f:3,5"]),
    ("sort_descending", "x0.sort(dim=0, descending=True).values", ["f:4,3"]),
    ("sort_indices", "x0.sort(dim=-1).indices", ["f:2,3,4"]),
    ("argsort", "x0.argsort(dim=1)", ["f:3,5"]),
    ("argsort_descending", "x0.argsort(dim=0, descending=True)", ["f:4,3"]),
    ("topk_values", "x0.topk(2, dim=1).values", ["f:3,5"]),
    ("topk_smallest", "x0.topk(3, dim=0, largest=False).values", ["f:4,3"]),
    ("topk_indices", "x0.topk(2).indices", ["f:3,5"]),
    # -- shape --------------------------------------------------------------------------
    ("squeeze_all", "x0.squeeze()", ["f:1,3,1"]),
    ("squeeze_dim", "x0.squeeze(0)", ["f:1,3,1"]),
    ("squeeze_not_one", "x0.squeeze(1)", ["f:1,3,1"]),
    ("squeeze_dims", "x0.squeeze((0, 2))", ["f:1,3,1"]),
    ("unsqueeze_last", "x0.unsqueeze(-1)", ["f:3,4"]),
    ("unsqueeze_0d", "x0.unsqueeze(0)", ["f:"]),
    ("view", "x0.view(4, 3)", ["f:3,4"]),
    ("view_flat", "x0.view(-1)", ["f:2,3,2"]),
    ("expand_lead", "x0.expand(2, 3, 4)", ["f:3,1"]),
    ("expand_keep", "x0.expand(-1, 4)", ["f:3,1"]),
    ("permute", "x0.permute(2, 0, 1)", ["f:2,3,4"]),
    ("swapaxes", "x0.swapaxes(0, 2)", ["f:2,3,4"]),
    ("swapaxes_2d", "lib.swapaxes(x0, 0, 1)", ["f:3,4"]),
    ("flip_one", "x0.flip(0)", ["f:3,4"]),
    ("flip_two", "x0.flip((0, 2))", ["f:2,3,4"]),
    ("roll_dim", "x0.roll(1, 1)", ["f:3,4"]),
    ("roll_dims", "x0.roll((1, -2), (0, 1))", ["f:3,4"]),
    ("roll_flat", "x0.roll(2)", ["f:3,4"]),
    ("repeat", "x0.repeat(2, 3)", ["f:2,3"]),
    ("repeat_lead", "x0.repeat(2, 1, 3)", ["f:2,3"]),
    ("repeat_interleave_dim", "x0.repeat_interleave(2, dim=1)", ["f:2,3"]),
    ("repeat_interleave_flat", "x0.repeat_interleave(3)", ["f:2,2"]),
    ("repeat_interleave_tensor", "x0.repeat_interleave(x1, dim=0)", ["f:3,2", "i:3:3"]),
    ("unflatten", "x0.unflatten(1, (2, 3))", ["f:2,6"]),
    ("split_size", "x0.split(2, dim=1)", ["f:2,5"]),
    ("split_sections", "x0.split([1, 3], dim=1)", ["f:2,4"]),
    ("chunk", "x0.chunk(3, dim=1)", ["f:2,5"]),
    ("tril", "x0.tril()", ["f:2,3,4"]),
    ("triu_1", "x0.triu(1)", ["f:3,4"]),
    ("tril_m1", "x0.tril(-1)", ["f:4,3"]),
    ("diag_vector", "x0.diag(1)", ["f:4"]),
    ("diag_matrix", "x0.diag(-1)", ["f:3,4"]),
    ("diagonal", "x0.diagonal()", ["f:3,4"]),
    ("diagonal_dims", "x0.diagonal(1, 0, 2)", ["f:3,4,5"]),
    ("cat", "lib.cat([x0, x1], dim=1)", ["f:2,3", "f:2,2"]),
    ("cat_empty", "lib.cat([x0, x1], dim=1)", ["f:2,0", "f:2,3"]),
    # -- indexing -----------------------------------------------------------------------
    ("gather", "x0.gather(1, x1)", ["f:3,4", "i:3,2:4"]),
    ("gather_wider", "x0.gather(1, x1)", ["f:3,4", "i:2,6:4"]),
    ("gather_dim0", "lib.gather(x0, 0, x1)", ["f:3,4", "i:5,4:3"]),
    ("scatter", "x0.scatter(1, x1, x2)", ["f:3,4", "u:3,2:4", "f:3,2"]),
    ("scatter_value", "x0.scatter(1, x1, 2.5)", ["f:3,4", "u:3,2:4"]),
    ("scatter_add", "x0.scatter_add(0, x1, x2)", ["f:3,4", "i:5,4:3", "f:5,4"]),
    ("index_select", "x0.index_select(1, x1)", ["f:3,4", "i:5:4"]),
    ("index_select_dim0", "lib.index_select(x0, 0, x1)", ["f:3,4", "i:2:3"]),
    ("masked_fill", "x0.masked_fill(x1, -1.0)", ["f:3,4", "b:3,4"]),
    ("masked_fill_broadcast", "x0.masked_fill(x1, -1.0)", ["f:3,4", "b:4"]),
    ("masked_fill_tensor_value", "x0.masked_fill(x1, x2)", ["f:3,4", "b:3,4", "f:"]),
    ("masked_select", "x0.masked_select(x1)", ["f:3,4", "b:3,4"]),
    ("masked_select_broadcast", "x0.masked_select(x1)", ["f:3,1", "b:3,4"]),
    ("nonzero", "x0.nonzero()", ["z:3,4"]),
    ("nonzero_tuple", "lib.nonzero(x0, as_tuple=True)", ["z:3,4"]),
    ("take_along_dim", "lib.take_along_dim(x0, x1, dim=1)", ["f:3,4", "i:3,2:4"]),
    ("take_along_dim_broadcast", "lib.take_along_dim(x0, x1, dim=1)", ["f:1,4", "i:3,2:4"]),
    ("take_along_dim_flat", "lib.take_along_dim(x0, x1)", ["f:3,4", "i:5:12"]),
    ("getitem_mixed_separated", "x0[[0, 1], :, [1, 2]]", ["f:3,4,5"]),
    ("getitem_mixed_adjacent", "x0[:, [0, 2, 2], 1:3]", ["f:3,4,5"]),
    ("getitem_mask", "x0[x1]", ["f:3,4", "b:3,4"]),
    ("getitem_index_tensor", "x0[x1, 1:]", ["f:3,4", "i:2,2:3"]),
    # -- einsum, outer, norms, grids ------------------------------------------------------
    ("einsum_matmul", "lib.einsum('ij,jk->ik', x0, x1)", ["f:2,3", "f:3,4"]),
    ("einsum_trace", "lib.einsum('ii', x0)", ["f:3,3"]),
    ("einsum_diagonal", "lib.einsum('ii->i', x0)", ["f:3,3"]),
    ("einsum_batch", "lib.einsum('bij,bjk->bik', x0, x1)", ["f:2,3,4", "f:2,4,2"]),
    ("einsum_outer3", "lib.einsum('i,j,k->ijk', x0, x1, x2)", ["f:2", "f:3", "f:2"]),
    ("einsum_chain3", "lib.einsum('ij,jk,kl->il', x0, x1, x2)", ["f:2,3", "f:3,4", "f:4,2"]),
    ("einsum_sum_all", "lib.einsum('ij->', x0)", ["f:3,4"]),
    ("einsum_implicit_transpose", "lib.einsum('ji', x0)", ["f:3,4"]),
    ("einsum_ellipsis", "lib.einsum('...ij,...jk->...ik', x0, x1)", ["f:2,1,3,4", "f:5,4,2"]),
    ("einsum_broadcast_letter", "lib.einsum('ij,ij->i', x0, x1)", ["f:3,4", "f:1,4"]),
    ("einsum_sum_own_axis", "lib.einsum('ij,k->ik', x0, x1)", ["f:3,4", "f:2"]),
    ("outer", "lib.outer(x0, x1)", ["f:3", "f:4"]),
    ("meshgrid_ij", "lib.meshgrid(x0, x1, indexing='ij')", ["f:3", "f:2"]),
    ("meshgrid_xy", "lib.meshgrid(x0, x1, x2, indexing='xy')", ["f:3", "f:2", "f:4"]),
    ("one_hot", "F.one_hot(x0, 5)", ["i:3,2:5"]),
    ("one_hot_infer", "F.one_hot(x0)", ["i:6:4"]),
    ("normalize", "F.normalize(x0, dim=1)", ["f:3,4"]),
    ("normalize_p1", "F.normalize(x0, p=1.0, dim=0)", ["f:3,4"]),
    ("normalize_zero_row", "F.normalize(x0, dim=1)", ["r:3,4"]),
    ("clip_reversed", "x0.clip(0.5, -0.5)", ["f:3,4"]),
    ("clip_min", "x0.clip(min=-0.3)", ["f:3,4"]),
    # -- NaN, empty, 0-d, size-1 and broadcast edges ----------------------------------------
    ("max_all_nan", "x0.max()", ["n:3,4"]),
    ("max_dim_nan", "x0.max(dim=1).values", ["n:3,4"]),
    ("max_dim_nan_indices", "x0.max(dim=1).indices", ["n:3,4"]),
    ("argmax_nan", "x0.argmax(dim=1)", ["n:3,4"]),
    ("median_nan", "x0.median(dim=1).values", ["n:3,4"]),
    ("median_nan_all", "x0.median()", ["n:3,4"]),
    ("sort_nan", "x0.sort(dim=1).values", ["n:3,4"]),
    ("sort_nan_descending", "x0.sort(dim=1, descending=True).indices", ["n:3,4"]),
    ("cummax_nan", "x0.cummax(1).values", ["n:3,4"]),
    ("cummax_nan_indices", "x0.cummax(1).indices", ["n:3,4"]),
    ("cumprod_empty", "x0.cumprod(0)", ["f:0,3"]),
    ("sort_empty", "x0.sort(dim=0).values", ["f:0,3"]),
    ("gather_empty", "x0.gather(1, x1)", ["f:3,4", "i:3,0:4"]),
    ("masked_select_none", "x0.masked_select(x1)", ["f:3,4", "bf:3,4"]),
    ("einsum_empty", "lib.einsum('ij,jk->ik', x0, x1)", ["f:2,0", "f:0,3"]),
    ("std_empty_dim", "x0.std(dim=0, correction=1)", ["f:0,3"]),
    ("norm_empty", "x0.norm(dim=1)", ["f:2,0"]),
    ("topk_k0", "x0.topk(0, dim=1).values", ["f:3,4"]),
    ("split_empty", "x0.split(2)", ["f:0,3"]),
    ("index_select_empty", "x0.index_select(0, x1)", ["f:3,4", "i:0:3"]),
    ("repeat_zero", "x0.repeat(0, 2)", ["f:2,3"]),
    ("sort_0d", "x0.sort(0).values", ["f:"]),
    ("argsort_0d", "x0.argsort(0)", ["f:"]),
    ("topk_0d", "x0.topk(1, 0).values", ["f:"]),
    ("squeeze_0d", "x0.squeeze()", ["f:"]),
    ("gather_0d", "x0.gather(0, x1)", ["f:", "i::1"]),
    ("cummax_0d", "x0.cummax(0).values", ["f:"]),
    ("logcumsumexp_0d", "x0.logcumsumexp(0)", ["f:"]),
    ("median_0d", "x0.median()", ["f:"]),
    ("masked_fill_0d", "x0.masked_fill(x1, 1.0)", ["f:", "b:"]),
    ("argmin_0d_all", "x0.argmin()", ["f:"]),
    ("einsum_scale", "lib.einsum('ij,->ij', x0, x1)", ["f:3,4", "f:"]),
    ("outer_empty", "lib.outer(x0, x1)", ["f:0", "f:3"]),
    ("cumsum_size1", "x0.cumsum(0)", ["f:1,3"]),
    ("sort_size1", "x0.sort(dim=1).values", ["f:3,1"]),
    ("median_size1", "x0.median(dim=0).values", ["f:1,4"]),
    ("var_size1_correction0", "x0.var(dim=0, correction=0)", ["f:1,4"]),
    ("softmax_size1", "lib.softmax(x0, dim=1)", ["f:3,1"]),
    ("norm_inf_size1", "x0.norm(p=float('inf'), dim=1)", ["f:3,1"]),
    ("norm_minus_inf", "x0.norm(p=float('-inf'), dim=1)", ["f:3,4"]),
    ("masked_fill_column_mask", "x0.masked_fill(x1, 0.5)", ["f:3,4", "b:3,1"]),
    ("masked_select_row", "x0.masked_select(x1)", ["f:4", "b:3,4"]),
    ("take_along_dim_both_broadcast", "lib.take_along_dim(x0, x1, dim=1)",
     ["f:3,4,1", "i:1,2,5:4"]),
    ("einsum_batch_broadcast", "lib.einsum('bij,bjk->bik', x0, x1)", ["f:1,3,4", "f:2,4,5"]),
    ("einsum_size1_letter", "lib.einsum('i,i->', x0, x1)", ["f:1", "f:4"]),
]


def make_input(spec: str, rng: np.random.Generator) -> np.ndarray:
    kind, shape_text, *high = spec.split(":")
    shape = tuple(int(n) for n in shape_text.split(",") if n)
    if kind in ("f", "big", "z", "r", "n"):
        x = rng.standard_normal(shape) * (40 if kind == "big" else 1)
        if kind == "n":
            x[rng.random(shape) < 0.25] = np.nan
        if kind == "z":
            x[rng.random(shape) < 0.3] = 0.0
        if kind == "r":
            x[0] = 0.0
        return x
    if kind == "i":
        return rng.integers(0, int(high[0]), shape).astype(np.int64)
    if kind == "u":
        lanes = [rng.permutation(int(high[0]))[:shape[-1]] for _ in range(int(np.prod(shape[:-1])))]
        return np.array(lanes, dtype=np.int64).reshape(shape)
    if kind in ("b", "bf"):
        return rng.random(shape) < (0.5 if kind == "b" else 0)
    raise ValueError(f"unknown input kind {kind!r}")


def outputs(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def write(cases: list, out: Path, seed: int, make: Callable = make_input) -> None:
    """Evaluate every case in torch and write the npz described above. A case whose
    expression torch refuses stores ``<name>/error``, the name of the built-in exception
    class it raised (the first in its MRO), in place of outputs and gradients."""
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}
    for name, expr, specs in cases:
        inputs = [make(spec, rng) for spec in specs]
        for j, x in enumerate(inputs):
            arrays[f"{name}/in{j}"] = x
        fn = eval(f"lambda lib, F, f64, i32, i64, "
                  f"{', '.join(f'x{j}' for j in range(len(inputs)))}: {expr}")
        cotangents = None
        for dtype, torch_dtype in (("float32", torch.float32), ("float64", torch.float64)):
            xs = [torch.tensor(x.astype(dtype), requires_grad=True) if x.dtype.kind == "f"
                  else torch.tensor(x) for x in inputs]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    outs = outputs(fn(torch, torch.nn.functional, torch.float64, torch.int32,
                                      torch.int64, *xs))
            except Exception as error:   # noqa: BLE001  (the refusal is the oracle)
                builtin = next(c for c in type(error).__mro__ if c.__module__ == "builtins")
                arrays[f"{name}/error"] = np.array(builtin.__name__)
                break
            if cotangents is None:
                cotangents = [rng.standard_normal(tuple(o.shape)) for o in outs]
                for k, v in enumerate(cotangents):
                    arrays[f"{name}/cot{k}"] = v
            for k, o in enumerate(outs):
                arrays[f"{name}/{dtype}/out{k}"] = o.detach().numpy()
            floats = [(o, v) for o, v in zip(outs, cotangents) if o.dtype.is_floating_point]
            if floats and any(o.requires_grad for o, _ in floats):
                loss = sum((o * torch.tensor(v, dtype=o.dtype)).sum() for o, v in floats
                           if o.requires_grad)
                loss.backward()
            for j, x in enumerate(xs):
                if x.dtype == torch_dtype:
                    grad = x.grad if x.grad is not None else torch.zeros_like(x)
                    arrays[f"{name}/{dtype}/grad{j}"] = grad.numpy()
    arrays["cases"] = np.array(json.dumps([{"name": n, "expr": e, "inputs": s}
                                           for n, e, s in cases]))
    np.savez_compressed(out, **arrays)
    print(f"wrote {len(cases)} cases to {out}")


if __name__ == "__main__":
    write(CASES, OUT, SEED)
