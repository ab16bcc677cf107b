"""Write tests/data/ops3_vectors.npz: PyTorch's values, gradients and refusals for issue 17,
the oracle that tests/test_ops2_torch.py also reads (it needs no torch): the places where
minidl answered differently from PyTorch, integer and bool dtypes, PyTorch's exception
types, and the ops added for issue 17.

Regenerate (needs torch; written with torch 2.13, CPU) from the repository root:

    python tests/data/make_ops3_vectors.py

The format and the input kinds are those of make_ops2_vectors.py, plus

    s     int64 in [low, high): ``s:shape:low:high``     i32  the same in int32
    ig    int64 class targets that all equal -100 (PyTorch's ignore_index)
    p     positive floats in [0.5, 1.5), requiring grad

and a case that PyTorch refuses stores the exception type it raised.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from make_ops2_vectors import make_input, write

OUT = Path(__file__).with_name("ops3_vectors.npz")
SEED = 20261206

CASES = [
    # -- clamp with tensor bounds: the gradient goes to the bound where it is active ------
    ("clamp_tensor_bounds", "lib.clamp(x0, x1, x2)", ["f:3,4", "f:4", "f:3,1"]),
    ("clamp_tensor_min", "x0.clamp(min=x1)", ["f:3,4", "f:3,4"]),
    ("clip_tensor_max", "x0.clip(max=x1)", ["f:3,4", "f:1,4"]),
    ("clamp_min_tensor", "lib.clamp_min(x0, x1)", ["f:3,4", "f:4"]),
    ("clamp_max_number", "x0.clamp_max(0.2)", ["f:3,4"]),
    ("clamp_int32_bound", "lib.clamp(x0, min=x1)", ["f:3,4", "i32:4:-1:2"]),
    ("clamp_int_input_float_number", "lib.clamp(x0, min=0.5)", ["s:3,4:-3:3"]),
    ("clamp_int_input_int_number", "lib.clamp(x0, -1, 1)", ["s:3,4:-3:3"]),
    # -- every target ignored: nan, and a zero gradient --------------------------------
    ("cross_entropy_all_ignored", "F.cross_entropy(x0, x1)", ["f:3,4", "ig:3"]),
    ("cross_entropy_all_ignored_smoothing", "F.cross_entropy(x0, x1, label_smoothing=0.1)",
     ["f:3,4", "ig:3"]),
    ("cross_entropy_all_ignored_weight", "F.cross_entropy(x0, x1, weight=x2.detach())",
     ["f:3,4", "ig:3", "p:4"]),
    ("cross_entropy_all_ignored_sum", "F.cross_entropy(x0, x1, reduction='sum')",
     ["f:3,4", "ig:3"]),
    ("cross_entropy_all_ignored_2d", "F.cross_entropy(x0, x1)", ["f:2,3,2,2", "ig:2,2,2"]),
    ("nll_loss_all_ignored", "F.nll_loss(x0, x1)", ["f:3,4", "ig:3"]),
    # -- integer and bool inputs ----------------------------------------------------------
    ("hardtanh_int32", "F.hardtanh(x0)", ["i32:3,4:-3:3"]),
    ("relu6_int64", "F.relu6(x0)", ["s:3,4:-3:9"]),
    ("relu_int32", "F.relu(x0)", ["i32:3,4:-3:3"]),
    ("softsign_int", "F.softsign(x0)", ["s:3,4:-3:3"]),
    ("elu_int_refused", "F.elu(x0)", ["s:3,4:-3:3"]),
    ("leaky_relu_int_refused", "F.leaky_relu(x0)", ["s:3,4:-3:3"]),
    ("gelu_int_refused", "F.gelu(x0)", ["s:3,4:-3:3"]),
    ("silu_int_refused", "F.silu(x0)", ["s:3,4:-3:3"]),
    ("hardswish_int_refused", "F.hardswish(x0)", ["s:3,4:-3:3"]),
    ("square_bool", "lib.square(x0)", ["b:3,4"]),
    ("sign_bool", "lib.sign(x0)", ["b:3,4"]),
    ("einsum_int32", "lib.einsum('ij,jk->ik', x0, x1)", ["i32:3,4:-9:9", "i32:4,2:-9:9"]),
    ("pow_int_negative_number", "x0 ** -1", ["s:3,4:1:5"]),
    ("pow_int_negative_tensor", "x0 ** x1", ["s:3,4:-2:3", "s:3,4:-3:3"]),
    ("pow_int_positive_tensor", "x0 ** x1", ["s:3,4:-4:4", "s:3,4:0:4"]),
    # -- norm with p = 0 and negative p ---------------------------------------------------
    ("norm_p0", "x0.norm(p=0, dim=1)", ["z:3,4"]),
    ("norm_p0_all", "x0.norm(0)", ["z:3,4"]),
    ("norm_p_minus1", "x0.norm(p=-1, dim=1)", ["f:3,4"]),
    ("norm_p_minus2_zeros", "x0.norm(p=-2, dim=1)", ["z:4,5"]),
    ("norm_p_minus_half", "x0.norm(p=-0.5)", ["f:3,4"]),
    ("normalize_p0", "F.normalize(x0, p=0)", ["z:3,4"]),
    ("normalize_p_minus1", "F.normalize(x0, p=-1, dim=0)", ["f:3,4"]),
    # -- dim=() and dim=[] reduce over every axis ----------------------------------------
    ("sum_dim_empty_list", "x0.sum(dim=[])", ["f:3,4"]),
    ("mean_dim_empty_tuple", "x0.mean(dim=())", ["f:3,4"]),
    ("sum_dim_empty_keepdim", "lib.sum(x0, dim=(), keepdim=True)", ["f:2,3,4"]),
    # -- 0-d tensors and empty indices ---------------------------------------------------
    ("gather_0d_index_0d", "x0.gather(0, x1)", ["f:", "i::1"]),
    ("gather_1d_index_0d", "lib.gather(x0, 0, x1)", ["f:5", "i::5"]),
    ("gather_0d_empty_index", "x0.gather(0, x1)", ["f:", "i:0:1"]),
    ("gather_empty_index_fewer_dims", "x0.gather(0, x1)", ["f:3,4", "i:0:3"]),
    ("scatter_0d", "lib.scatter(x0, 0, x1, x2)", ["f:", "i::1", "f:"]),
    ("scatter_add_0d", "lib.scatter_add(x0, 0, x1, x2)", ["f:", "i::1", "f:"]),
    ("scatter_1d_index_0d", "x0.scatter(0, x1, x2)", ["f:4", "i::4", "f:"]),
    ("transpose_0d", "x0.transpose(0, 0)", ["f:"]),
    ("transpose_0d_minus1", "x0.transpose(-1, 0)", ["f:"]),
    ("transpose_same_axis", "x0.transpose(1, 1)", ["f:3,4"]),
    ("index_select_0d", "x0.index_select(0, x1)", ["f:", "i:1:1"]),
    ("index_select_0d_index_0d", "lib.index_select(x0, 0, x1)", ["f:", "i::1"]),
    ("index_select_0d_empty_refused", "x0.index_select(0, x1)", ["f:", "i:0:1"]),
    # -- integer dtypes with float bounds -------------------------------------------------
    ("arange_int_float_bounds", "lib.arange(0.5, 5.7, 1.3, dtype=i64)", []),
    ("arange_int_float_end", "lib.arange(5.5, dtype=i32)", []),
    ("arange_int_negative_start", "lib.arange(-2.5, 3.5, 1.5, dtype=i64)", []),
    ("arange_int_step_truncated_to_0", "lib.arange(-1.5, 2.7, 0.9, dtype=i64)", []),
    ("linspace_int_float_bounds", "lib.linspace(0.5, 5.7, 5, dtype=i64)", []),
    ("linspace_int_negative", "lib.linspace(-2.5, 3.9, 7, dtype=i32)", []),
    ("linspace_int_one_step", "lib.linspace(3.7, 1, 1, dtype=i64)", []),
    ("linspace_int_descending", "lib.linspace(9, -3.2, 6, dtype=i64)", []),
    # -- masked_fill with a mask that broadcasts x larger -----------------------------------
    ("masked_fill_larger_mask", "x0.masked_fill(x1, 0.5)", ["f:4", "b:3,4"]),
    ("masked_fill_larger_mask_both", "lib.masked_fill(x0, x1, -1.0)", ["f:3,1", "b:1,4"]),
    # -- exception types ------------------------------------------------------------------
    ("sum_dim_out_of_range", "x0.sum(dim=2)", ["f:3,4"]),
    ("sum_dim_twice", "x0.sum(dim=(1, -1))", ["f:3,4"]),
    ("softmax_dim_out_of_range", "lib.softmax(x0, dim=-3)", ["f:3,4"]),
    ("add_shapes_mismatch", "x0 + x1", ["f:3,4", "f:3"]),
    ("mul_shapes_mismatch", "x0 * x1", ["f:2,3", "f:3,2"]),
    ("where_shapes_mismatch", "lib.where(x2, x0, x1)", ["f:3", "f:3", "b:2"]),
    ("matmul_shapes_mismatch", "x0 @ x1", ["f:2,3", "f:4,5"]),
    ("reshape_mismatch", "x0.reshape(5)", ["f:2,3"]),
    ("cat_shapes_mismatch", "lib.cat([x0, x1], dim=0)", ["f:2,3", "f:2,4"]),
    ("stack_shapes_mismatch", "lib.stack([x0, x1])", ["f:2", "f:3"]),
    ("expand_mismatch", "x0.expand(4, 4)", ["f:2,3"]),
    ("permute_not_a_permutation", "x0.permute(0, 0)", ["f:2,3"]),
    ("transpose_dim_out_of_range", "x0.transpose(0, 2)", ["f:2,3"]),
    ("squeeze_dim_out_of_range", "x0.squeeze(3)", ["f:2,3"]),
    ("unsqueeze_dim_out_of_range", "x0.unsqueeze(4)", ["f:2,3"]),
    ("flip_dim_out_of_range", "x0.flip(2)", ["f:2,3"]),
    ("index_select_out_of_range", "x0.index_select(0, x1 + 5)", ["f:2,3", "i:2:2"]),
    ("gather_dim_out_of_range", "x0.gather(2, x1)", ["f:2,3", "i:2,3:2"]),
    ("split_sections_mismatch", "x0.split([1, 1], dim=1)", ["f:2,3"]),
    ("topk_k_too_large", "x0.topk(9)", ["f:2,3"]),
    ("diagonal_same_dim", "x0.diagonal(0, 1, 1)", ["f:2,3"]),
    ("einsum_sizes_mismatch", "lib.einsum('ij,jk->ik', x0, x1)", ["f:2,3", "f:4,2"]),
    ("max_dim_out_of_range", "x0.max(dim=2)", ["f:2,3"]),
    ("argmax_dim_out_of_range", "x0.argmax(dim=-3)", ["f:2,3"]),
    ("cumsum_dim_out_of_range", "x0.cumsum(2)", ["f:2,3"]),
    ("masked_fill_mask_not_bool", "x0.masked_fill(x1, 0.0)", ["f:2,3", "i:2,3:2"]),
    ("mse_loss_shapes_mismatch", "F.mse_loss(x0, x1)", ["f:2,3", "f:3,2"]),
]


def make(spec: str, rng: np.random.Generator) -> np.ndarray:
    """An input from its spec: the kinds above, else make_ops2_vectors.make_input's."""
    kind, shape_text, *bounds = spec.split(":")
    shape = tuple(int(n) for n in shape_text.split(",") if n)
    if kind in ("s", "i32"):
        low, high = (int(b) for b in bounds)
        return rng.integers(low, high, shape).astype(np.int32 if kind == "i32" else np.int64)
    if kind == "ig":
        return np.full(shape, -100, dtype=np.int64)
    if kind == "p":
        return rng.random(shape) + 0.5
    return make_input(spec, rng)


if __name__ == "__main__":
    write(CASES, OUT, SEED, make)
