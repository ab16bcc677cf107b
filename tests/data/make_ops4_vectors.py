"""Write tests/data/ops4_vectors.npz: PyTorch's values, gradients and refusals for the
torch.* functions and Tensor methods that a tutorial script reaches for (the nsgaps
work: heaviside, trapezoid, inner, dist, addmv, renorm, det, inverse, vander,
block_diag, cartesian_prod, combinations, split_with_sizes, dsplit, sum_to_size, put,
logspace, tril/triu_indices, strides, ...), the oracle that tests/test_ops2_torch.py
reads (it needs no torch), and PyTorch's dtype promotion tables, which
tests/test_torch_gaps.py reads:

    promote                promote_types(a, b)'s name for a, b in DTYPES (a matrix)
    can_cast               can_cast(a, b) (a bool matrix)
    result                 JSON: {"<kind>:<a>/<kind>:<b>": result_type's name}, kinds
                           as in RESULT_OPERANDS, and "number:<value>" of NUMBERS

Regenerate (needs torch; written with torch 2.13, CPU) from the repository root:

    python tests/data/make_ops4_vectors.py

The cases' format and input kinds are those of make_ops2_vectors.py and
make_ops3_vectors.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from make_ops2_vectors import write
from make_ops3_vectors import make

OUT = Path(__file__).with_name("ops4_vectors.npz")
SEED = 20261207

CASES = [
    # -- heaviside has no derivative: its inputs are detached ----------------------------
    ("heaviside", "lib.heaviside(x0.detach(), x1.detach())", ["z:3,4", "f:4"]),
    ("heaviside_nan", "lib.heaviside(x0.detach(), x1.detach())", ["n:3,4", "f:1"]),
    ("heaviside_int", "lib.heaviside(x0, x1)", ["s:3,4:-2:3", "s:1:5:9"]),
    ("heaviside_dtypes_refused", "lib.heaviside(x0.detach(), x1)", ["f:3", "s:3:0:3"]),
    ("heaviside_", "x0.detach().clone().heaviside_(x1.detach())", ["z:3,4", "f:4"]),
    # -- trapezoid and cumulative_trapezoid -------------------------------------------------
    ("trapezoid", "lib.trapezoid(x0)", ["f:3,5"]),
    ("trapezoid_dx_dim", "lib.trapezoid(x0, dx=0.5, dim=0)", ["f:3,5"]),
    ("trapezoid_x", "lib.trapezoid(x0, x1)", ["f:3,5", "f:5"]),
    ("trapezoid_x_nd", "lib.trapezoid(x0, x1, dim=0)", ["f:3,5", "f:3,5"]),
    ("trapezoid_int", "lib.trapezoid(x0)", ["s:3,4:-3:3"]),
    ("trapezoid_one_sample", "lib.trapezoid(x0)", ["f:3,1"]),
    ("trapezoid_x_length_refused", "lib.trapezoid(x0, x1)", ["f:3,5", "f:4"]),
    ("trapz_x", "lib.trapz(x0, x1)", ["f:2,4", "f:4"]),
    ("cumulative_trapezoid", "lib.cumulative_trapezoid(x0)", ["f:3,5"]),
    ("cumulative_trapezoid_x_dim", "lib.cumulative_trapezoid(x0, x1, dim=0)", ["f:4,3", "f:4"]),
    ("cumulative_trapezoid_dx", "lib.cumulative_trapezoid(x0, dx=2)", ["f:5"]),
    # -- products and norms -----------------------------------------------------------------
    ("inner", "lib.inner(x0, x1)", ["f:2,3", "f:4,3"]),
    ("inner_3d_1d", "x0.inner(x1)", ["f:2,2,3", "f:3"]),
    ("inner_0d", "lib.inner(x0, x1)", ["f:", "f:4,2"]),
    ("inner_vectors", "lib.inner(x0, x1)", ["f:5", "f:5"]),
    ("inner_mismatch_refused", "lib.inner(x0, x1)", ["f:2,3", "f:4,2"]),
    ("dist", "lib.dist(x0, x1)", ["f:3,4", "f:4"]),
    ("dist_p1", "x0.dist(x1, 1)", ["f:3,4", "f:3,4"]),
    ("dist_p3", "lib.dist(x0, x1, 3)", ["f:3,4", "f:3,4"]),
    ("dist_inf", "lib.dist(x0, x1, float('inf'))", ["f:3,4", "f:3,4"]),
    ("dist_int_refused", "lib.dist(x0, x1)", ["s:3:0:3", "s:3:0:3"]),
    ("addmv", "lib.addmv(x0, x1, x2)", ["f:3", "f:3,4", "f:4"]),
    ("addmv_beta_alpha", "x0.addmv(x1, x2, beta=0.5, alpha=2)", ["f:3", "f:3,4", "f:4"]),
    ("addmv_broadcast", "lib.addmv(x0, x1, x2)", ["f:1", "f:3,4", "f:4"]),
    ("addmv_beta0_nan", "lib.addmv(x0, x1, x2, beta=0)", ["n:3", "f:3,4", "f:4"]),
    ("addmv_int_truncates_scalars", "lib.addmv(x0, x1, x2, beta=1.7, alpha=2.6)",
     ["s:3:-3:3", "s:3,4:-3:3", "s:4:-3:3"]),
    ("addmv_size_refused", "lib.addmv(x0, x1, x2)", ["f:4", "f:3,4", "f:4"]),
    ("addmv_", "x0.detach().clone().addmv_(x1.detach(), x2.detach())", ["f:3", "f:3,4", "f:4"]),
    ("renorm", "lib.renorm(x0, 2, 0, 1.5)", ["f:3,4"]),
    ("renorm_p1_dim1", "x0.renorm(1, 1, 2.0)", ["f:3,4"]),
    ("renorm_3d", "lib.renorm(x0, 3, -1, 1.0)", ["f:2,3,4"]),
    ("renorm_inf", "lib.renorm(x0, float('inf'), 0, 1.0)", ["f:3,4"]),
    ("renorm_no_change", "lib.renorm(x0, 2, 0, 100.0)", ["f:3,4"]),
    ("renorm_", "x0.detach().clone().renorm_(2, 0, 1.0)", ["f:3,4"]),
    ("renorm_1d_refused", "lib.renorm(x0, 2, 0, 1.0)", ["f:4"]),
    ("renorm_p0_refused", "lib.renorm(x0, 0, 0, 1.0)", ["f:3,4"]),
    ("renorm_maxnorm_refused", "lib.renorm(x0, 2, 0, -1.0)", ["f:3,4"]),
    # -- det and inverse ---------------------------------------------------------------------
    ("det", "lib.det(x0)", ["f:3,3"]),
    ("det_batch", "x0.det()", ["f:2,4,4"]),
    ("det_singular", "lib.det(x0 @ x1)", ["f:3,2", "f:2,3"]),
    ("det_1x1", "lib.det(x0)", ["f:1,1"]),
    ("det_nonsquare_refused", "lib.det(x0)", ["f:2,3"]),
    ("det_int_refused", "lib.det(x0)", ["s:2,2:0:3"]),
    ("inverse", "lib.inverse(x0)", ["f:3,3"]),
    ("inverse_batch", "x0.inverse()", ["f:2,3,3"]),
    ("inverse_singular_refused", "lib.inverse(x0 * 0)", ["f:2,2"]),
    ("inverse_nonsquare_refused", "lib.inverse(x0)", ["f:3,2"]),
    # -- assembled tensors ------------------------------------------------------------------
    # torch 2.13's vander backward fails ("modified by an inplace operation"): values only
    ("vander", "lib.vander(x0.detach())", ["f:4"]),
    ("vander_zeros_increasing", "lib.vander(x0.detach(), N=3, increasing=True)", ["z:5"]),
    ("vander_int", "lib.vander(x0)", ["s:3:-3:3"]),
    ("vander_int32", "lib.vander(x0, 4)", ["i32:3:-3:3"]),
    ("vander_N0", "lib.vander(x0, N=0)", ["f:3"]),
    ("vander_2d_refused", "lib.vander(x0)", ["f:2,2"]),
    ("block_diag", "lib.block_diag(x0, x1, x2)", ["f:2,3", "f:", "f:2"]),
    ("block_diag_int_float", "lib.block_diag(x0, x1)", ["f:2,2", "s:2:0:5"]),
    ("block_diag_empty_block", "lib.block_diag(x0, x1)", ["f:0,2", "f:1,1"]),
    ("block_diag_3d_refused", "lib.block_diag(x0)", ["f:2,2,2"]),
    ("cartesian_prod", "lib.cartesian_prod(x0, x1)", ["f:2", "f:3"]),
    ("cartesian_prod_three", "lib.cartesian_prod(x0, x1, x2)", ["f:2", "f:3", "f:2"]),
    ("cartesian_prod_one", "lib.cartesian_prod(x0)", ["f:3"]),
    ("cartesian_prod_int", "lib.cartesian_prod(x0, x1)", ["s:2:0:9", "s:3:0:9"]),
    ("cartesian_prod_2d_refused", "lib.cartesian_prod(x0)", ["f:2,2"]),
    ("combinations", "lib.combinations(x0)", ["f:4"]),
    ("combinations_3", "lib.combinations(x0, r=3)", ["f:5"]),
    ("combinations_replacement", "lib.combinations(x0, 2, with_replacement=True)", ["f:3"]),
    ("combinations_r0", "lib.combinations(x0, 0)", ["f:3"]),
    ("combinations_r_too_big", "lib.combinations(x0, 4)", ["s:3:0:9"]),
    ("combinations_empty", "lib.combinations(x0)", ["f:0"]),
    ("combinations_negative_refused", "lib.combinations(x0, -1)", ["f:3"]),
    # -- splits and sums to a size ---------------------------------------------------------
    ("split_with_sizes", "lib.split_with_sizes(x0, [1, 3])", ["f:4,2"]),
    ("split_with_sizes_dim", "x0.split_with_sizes([2, 0, 1], dim=1)", ["f:2,3"]),
    ("split_with_sizes_sum_refused", "lib.split_with_sizes(x0, [1, 2])", ["f:4,2"]),
    ("split_with_sizes_negative_refused", "lib.split_with_sizes(x0, [5, -1])", ["f:4,2"]),
    ("dsplit", "lib.dsplit(x0, 2)", ["f:2,2,4"]),
    ("dsplit_indices", "x0.dsplit([1, 3])", ["f:2,2,4"]),
    ("dsplit_2d_refused", "lib.dsplit(x0, 2)", ["f:2,4"]),
    ("dsplit_uneven_refused", "lib.dsplit(x0, 3)", ["f:2,2,4"]),
    ("sum_to_size", "x0.sum_to_size(1, 4)", ["f:3,4"]),
    ("sum_to_size_tuple", "x0.sum_to_size((4,))", ["f:3,4"]),
    ("sum_to_size_column", "x0.sum_to_size(2, 1, 1)", ["f:2,3,4"]),
    ("sum_to_size_int", "x0.sum_to_size(3, 1)", ["s:3,4:-3:3"]),
    ("sum_to_size_bool", "x0.sum_to_size(1, 4)", ["b:3,4"]),
    ("sum_to_size_refused", "x0.sum_to_size(2, 4)", ["f:3,4"]),
    # -- put ---------------------------------------------------------------------------------
    ("put", "x0.put(x1, x2)", ["f:3,4", "u:5:12", "f:5"]),
    ("put_negative", "lib.put(x0, x1 - 12, x2)", ["f:3,4", "u:2,2:12", "f:2,2"]),
    ("put_accumulate", "x0.put(x1, x2, accumulate=True)", ["f:3,4", "i:8:5", "f:8"]),
    ("put_", "x0.detach().clone().put_(x1, x2.detach())", ["f:3,4", "u:5:12", "f:5"]),
    ("put_out_of_range_refused", "x0.put(x1, x2)", ["f:3", "s:1:5:6", "f:1"]),
    ("put_count_refused", "x0.put(x1, x2)", ["f:3", "u:2:3", "f:1"]),
    ("put_float_index_refused", "x0.put(x1.detach(), x2)", ["f:3", "f:1", "f:1"]),
    # -- methods -----------------------------------------------------------------------------
    ("where_method", "x0.where(x1, x2)", ["f:3,4", "b:3,4", "f:4"]),
    ("maximum_method", "x0.maximum(x1)", ["f:3,4", "f:4"]),
    ("minimum_method", "x0.minimum(x1)", ["f:3,4", "f:3,1"]),
    ("allclose", "lib.tensor([lib.allclose(x0, x0 + 1e-9), x0.allclose(x0 + 1),"
     " lib.allclose(x0, x0 + 0.5, atol=1)])", ["f:3,4"]),
    ("allclose_nan", "lib.tensor([lib.allclose(x0, x0), lib.allclose(x0, x0, equal_nan=True)])",
     ["n:3,4"]),
    ("allclose_broadcast", "lib.tensor(lib.allclose(x0, x0[:1]))", ["f:3,4"]),
    ("allclose_dtypes_refused", "lib.allclose(x0.float(), x0.double())", ["f:3"]),
    ("equal", "lib.tensor([lib.equal(x0, x0.clone()), x0.equal(x0 + 1),"
     " lib.equal(x0, x0[:1]), lib.equal(x0, x0.double())])", ["f:3,4"]),
    ("equal_nan", "lib.tensor(lib.equal(x0, x0))", ["n:3,4"]),
    # -- in-place forms, on values (test_ops2_torch's dtype check wraps every op, which
    # hides the names that tell the engine an op's backward does not read its output) ----
    ("cumsum_", "x0.detach().clone().cumsum_(1)", ["f:3,4"]),
    ("cumprod_", "x0.detach().clone().cumprod_(0)", ["f:3,4"]),
    ("lgamma_", "x0.detach().clone().lgamma_()", ["p:3,4"]),
    ("erfc_", "x0.detach().clone().erfc_()", ["f:3,4"]),
    ("sinc_", "x0.detach().clone().sinc_()", ["f:3,4"]),
    ("addmm_", "x0.detach().clone().addmm_(x1.detach(), x2.detach(), beta=2)",
     ["f:2,3", "f:2,4", "f:4,3"]),
    ("eq_", "x0.detach().clone().eq_(x1.detach())", ["k:3,4:3", "k:4:3"]),
    ("lt_", "x0.detach().clone().lt_(x1.detach())", ["f:3,4", "f:4"]),
    ("logical_and_", "x0.detach().clone().logical_and_(x1.detach())", ["z:3,4", "z:3,4"]),
    ("logical_not_", "x0.clone().logical_not_()", ["s:3,4:-1:2"]),
    ("bitwise_xor_", "x0.clone().bitwise_xor_(x1)", ["s:3,4:0:8", "s:4:0:8"]),
    # -- creation ----------------------------------------------------------------------------
    ("logspace", "lib.logspace(0, 2, 5)", []),
    ("logspace_base", "lib.logspace(-1, 1.5, 4, base=2)", []),
    ("logspace_int", "lib.logspace(0, 2, 3, dtype=i64)", []),
    ("logspace_f64", "lib.logspace(0, 1, 4, dtype=f64)", []),
    ("logspace_negative_refused", "lib.logspace(0, 1, -1)", []),
    ("tril_indices", "lib.tril_indices(3, 4, 1)", []),
    ("triu_indices", "lib.triu_indices(4, 3, -1)", []),
    ("tril_indices_int32", "lib.tril_indices(3, 3, dtype=i32)", []),
    ("triu_indices_empty", "lib.triu_indices(0, 3)", []),
    ("tril_indices_negative_refused", "lib.tril_indices(-1, 3)", []),
    ("as_tensor_cast", "lib.as_tensor(x0, dtype=f64)", ["f:3"]),
    ("as_tensor_list", "lib.as_tensor([[1, 2], [3, 4]])", []),
    # -- memory layout, as tensors --------------------------------------------------------------
    ("stride", "lib.tensor([x0.stride(), x0.t().stride(), x0[:, ::2].stride()])", ["f:3,4"]),
    ("stride_dim", "lib.tensor([x0.stride(0), x0.stride(-1), x0.expand(2, 3, 4).stride(0)])",
     ["f:3,4"]),
    ("stride_dim_refused", "x0.stride(2)", ["f:3,4"]),
    ("storage_offset", "lib.tensor([x0.storage_offset(), x0[1:, 2:].storage_offset(),"
     " x0[2].storage_offset(), x0.t()[1].storage_offset()])", ["f:3,4"]),
    ("is_contiguous", "lib.tensor([x0.is_contiguous(), x0.t().is_contiguous(),"
     " x0[:, :1].is_contiguous(), x0[:1].is_contiguous(), x0.t().contiguous().is_contiguous()])",
     ["f:3,4"]),
    ("element_size", "lib.tensor([x0.element_size(), x0.nbytes, x0.itemsize, x1.element_size(),"
     " x1.nbytes])", ["f:3,4", "s:5:0:2"]),
    ("numel", "lib.tensor([lib.numel(x0), lib.is_tensor(x0), lib.is_tensor(3),"
     " lib.is_complex(x0), lib.is_floating_point(x0), lib.is_floating_point(x1)])",
     ["f:3,4", "s:2:0:2"]),
    ("clone_detach", "lib.detach(lib.clone(x0) * 2) + lib.clone(x0)", ["f:3"]),
    ("size_numel", "lib.tensor(x0.size().numel())", ["f:2,3,4"]),
]

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
RESULT_OPERANDS = {   # name: how to make the operand from a torch dtype name
    "tensor": lambda dtype: torch.ones(2, dtype=getattr(torch, dtype)),
    "scalar_tensor": lambda dtype: torch.tensor(1, dtype=getattr(torch, dtype)),
}
NUMBERS = {"True": True, "2": 2, "2.5": 2.5}


def promotion_tables() -> dict[str, np.ndarray]:
    """promote_types, can_cast and result_type over minidl's dtypes, as dtype names."""
    def name(dtype: torch.dtype) -> str:
        return str(dtype).removeprefix("torch.")
    dtypes = [getattr(torch, d) for d in DTYPES]
    results = {}
    for a in DTYPES:
        for ka, make_a in RESULT_OPERANDS.items():
            for b in DTYPES:
                for kb, make_b in RESULT_OPERANDS.items():
                    results[f"{ka}:{a}/{kb}:{b}"] = name(torch.result_type(make_a(a), make_b(b)))
            for text, number in NUMBERS.items():
                results[f"{ka}:{a}/number:{text}"] = name(torch.result_type(make_a(a), number))
    return {"promote": np.array([[name(torch.promote_types(a, b)) for b in dtypes]
                                 for a in dtypes]),
            "can_cast": np.array([[torch.can_cast(a, b) for b in dtypes] for a in dtypes]),
            "result": np.array(json.dumps(results))}


if __name__ == "__main__":
    write(CASES, OUT, SEED, make)
    with np.load(OUT) as written:
        arrays = dict(written)
    np.savez_compressed(OUT, **arrays, **promotion_tables())
    print(f"added the promotion tables to {OUT}")
