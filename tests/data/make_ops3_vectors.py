"""Write tests/data/ops3_vectors.npz: PyTorch's values, gradients and refusals for issue 17,
the oracle that tests/test_ops2_torch.py also reads (it needs no torch): the places where
minidl answered differently from PyTorch, integer and bool dtypes, PyTorch's exception
types, and the ops added for issue 17.

Regenerate (needs torch; written with torch 2.13, CPU) from the repository root:

    python tests/data/make_ops3_vectors.py

The format and the input kinds are those of make_ops2_vectors.py, plus

    s     int64 in [low, high): ``s:shape:low:high``     i32  the same in int32
    ig    int64 class targets that all equal -100 (PyTorch's ignore_index)
    p     positive floats in [0.5, 1.5)                  q    floats in [0.05, 0.95)
    c     floats in (-0.9, 0.9)                          k    whole floats in [0, high)
    inf   normal floats with some nan, inf and -inf
(the float kinds require grad).

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
    # -- new ops: elementwise ---------------------------------------------------------------
    ("erfc", "lib.erfc(x0)", ["f:3,4"]),
    ("erfinv", "lib.erfinv(x0)", ["c:3,4"]),
    ("lgamma", "lib.lgamma(x0)", ["f:3,4"]),
    ("digamma", "lib.digamma(x0)", ["p:3,4"]),
    ("digamma_negative", "x0.digamma()", ["f:3,4"]),
    ("logit", "lib.logit(x0)", ["q:3,4"]),
    ("logit_eps", "x0.logit(eps=0.2)", ["q:3,4"]),
    ("sinc", "lib.sinc(x0)", ["z:3,4"]),
    ("nan_to_num", "lib.nan_to_num(x0)", ["inf:3,4"]),
    ("nan_to_num_given", "x0.nan_to_num(nan=1.5, posinf=9.0, neginf=-9.0)", ["inf:3,4"]),
    ("nan_to_num_int", "lib.nan_to_num(x0)", ["s:3,4:-3:3"]),
    ("frac", "lib.frac(x0)", ["big:3,4"]),
    ("atan2", "lib.atan2(x0, x1)", ["f:3,4", "f:4"]),
    ("atan2_int", "lib.atan2(x0, x1)", ["s:3,4:-3:3", "s:3,4:1:3"]),
    ("hypot", "lib.hypot(x0, x1)", ["f:3,4", "f:3,1"]),
    ("xlogy", "lib.xlogy(x0, x1)", ["z:3,4", "p:3,4"]),
    ("xlogy_zero_y", "lib.xlogy(x0, x1)", ["z:3,4", "z:3,4"]),
    ("fmax", "lib.fmax(x0, x1)", ["n:3,4", "n:3,4"]),
    ("fmin", "lib.fmin(x0, x1)", ["n:3,4", "f:4"]),
    ("fmax_ties", "lib.fmax(x0, x1)", ["k:3,4:3", "k:3,4:3"]),
    ("float_power", "lib.float_power(x0, x1)", ["p:3,4", "f:3,4"]),
    ("float_power_number", "x0.float_power(2)", ["f:3,4"]),
    ("float_power_int", "lib.float_power(x0, -1)", ["s:3,4:1:5"]),
    ("addcmul", "lib.addcmul(x0, x1, x2, value=0.5)", ["f:3,4", "f:4", "f:3,1"]),
    ("addcdiv", "x0.addcdiv(x1, x2, value=-2)", ["f:3,4", "f:3,4", "p:3,4"]),
    ("left_shift", "lib.bitwise_left_shift(x0, x1)", ["s:3,4:-9:9", "s:3,4:0:4"]),
    ("right_shift_operator", "x0 >> x1", ["s:3,4:-9:9", "s:4:0:4"]),
    ("left_shift_operator", "x0 << 2", ["i32:3,4:-9:9"]),
    # -- new ops: reductions and statistics ------------------------------------------------
    ("amax_all", "lib.amax(x0)", ["r:3,4"]),
    ("amax_dim", "x0.amax(dim=1)", ["k:3,4:3"]),
    ("amin_dims_keepdim", "x0.amin(dim=(0, 2), keepdim=True)", ["k:2,3,4:3"]),
    ("aminmax_dim", "lib.aminmax(x0, dim=1)", ["k:3,4:3"]),
    ("aminmax_all", "x0.aminmax()", ["f:3,4"]),
    ("count_nonzero", "x0.count_nonzero(dim=1)", ["z:3,4"]),
    ("count_nonzero_all", "lib.count_nonzero(x0)", ["z:3,4"]),
    ("nansum", "x0.nansum(dim=1)", ["n:3,4"]),
    ("nansum_all", "lib.nansum(x0)", ["n:3,4"]),
    ("nanmean", "x0.nanmean(dim=0)", ["n:3,4"]),
    ("var_mean", "lib.var_mean(x0, dim=1)", ["f:3,4"]),
    ("std_mean_keepdim", "lib.std_mean(x0, dim=0, keepdim=True, correction=0)", ["f:3,4"]),
    ("quantile", "x0.quantile(0.3, dim=1)", ["f:3,5"]),
    ("quantile_all", "lib.quantile(x0, 0.75)", ["f:3,4"]),
    ("quantile_tensor_q", "x0.quantile(x1.detach(), dim=0, keepdim=True)", ["f:4,3", "q:2"]),
    ("quantile_lower", "x0.quantile(0.4, dim=1, interpolation='lower')", ["f:3,6"]),
    ("quantile_higher", "x0.quantile(0.4, dim=1, interpolation='higher')", ["f:3,6"]),
    ("quantile_midpoint", "x0.quantile(0.4, dim=1, interpolation='midpoint')", ["f:3,6"]),
    ("quantile_nearest", "x0.quantile(0.5, dim=1, interpolation='nearest')", ["f:3,6"]),
    ("quantile_nan", "x0.quantile(0.5, dim=1)", ["n:4,5"]),
    ("quantile_all_keepdim", "x0.quantile(0.5, keepdim=True)", ["f:2,3"]),
    ("nanquantile", "x0.nanquantile(0.3, dim=1)", ["n:4,5"]),
    ("quantile_q_out_of_range", "x0.quantile(1.5)", ["f:3"]),
    ("mode", "x0.mode(dim=1)", ["k:3,7:3"]),
    ("mode_keepdim", "lib.mode(x0, 0, keepdim=True)", ["k:6,3:3"]),
    ("mode_int", "x0.mode()", ["s:3,7:0:3"]),
    ("kthvalue", "x0.kthvalue(2, dim=1)", ["f:3,5"]),
    ("kthvalue_keepdim", "lib.kthvalue(x0, 3, 0, keepdim=True)", ["f:4,3"]),
    ("diff", "x0.diff()", ["f:3,5"]),
    ("diff_n2_prepend", "lib.diff(x0, n=2, dim=0, prepend=x1, append=x2)",
     ["f:3,4", "f:1,4", "f:2,4"]),
    ("diff_bool", "x0.diff(dim=1)", ["b:3,4"]),
    ("diff_int", "lib.diff(x0)", ["s:3,4:-9:9"]),
    ("cov", "lib.cov(x0)", ["f:3,6"]),
    ("cov_1d_correction0", "lib.cov(x0, correction=0)", ["f:6"]),
    ("cov_weights", "lib.cov(x0, fweights=x1, aweights=x2.detach())", ["f:3,6", "s:6:1:4", "p:6"]),
    ("cov_fweights", "x0.cov(fweights=x1)", ["f:2,6", "s:6:1:4"]),
    ("corrcoef", "lib.corrcoef(x0)", ["f:3,6"]),
    ("bincount", "lib.bincount(x0)", ["i:10:5"]),
    ("bincount_minlength", "x0.bincount(minlength=8)", ["i:10:5"]),
    ("bincount_weights", "lib.bincount(x0, weights=x1.detach())", ["i:10:5", "f:10"]),
    ("histc", "lib.histc(x0.detach(), bins=5)", ["f:20"]),
    ("histc_range", "x0.detach().histc(bins=4, min=-1, max=1)", ["f:20"]),
    # -- new ops: linear algebra -------------------------------------------------------------
    ("mm", "lib.mm(x0, x1)", ["f:3,4", "f:4,2"]),
    ("mm_1d_refused", "x0.mm(x1)", ["f:4", "f:4,2"]),
    ("bmm", "x0.bmm(x1)", ["f:2,3,4", "f:2,4,2"]),
    ("mv", "lib.mv(x0, x1)", ["f:3,4", "f:4"]),
    ("dot", "x0.dot(x1)", ["f:4", "f:4"]),
    ("dot_2d_refused", "lib.dot(x0, x1)", ["f:2,2", "f:2,2"]),
    ("addmm", "lib.addmm(x0, x1, x2, beta=0.5, alpha=2)", ["f:2", "f:3,4", "f:4,2"]),
    ("baddbmm", "x0.baddbmm(x1, x2, alpha=-1)", ["f:2,3,2", "f:2,3,4", "f:2,4,2"]),
    ("kron", "lib.kron(x0, x1)", ["f:2,3", "f:3,2"]),
    ("kron_ranks", "x0.kron(x1)", ["f:2", "f:2,3"]),
    ("tensordot", "lib.tensordot(x0, x1)", ["f:2,3,4", "f:3,4,2"]),
    ("tensordot_dims", "lib.tensordot(x0, x1, dims=([1, 0], [0, 2]))", ["f:2,3,4", "f:3,5,2"]),
    ("tensordot_0", "lib.tensordot(x0, x1, dims=0)", ["f:2", "f:3"]),
    ("trace", "x0.trace()", ["f:3,4"]),
    ("cross", "lib.cross(x0, x1, dim=1)", ["f:4,3", "f:1,3"]),
    ("cross_dim0", "x0.cross(x1, dim=0)", ["f:3,2", "f:3,2"]),
    ("cdist", "lib.cdist(x0, x1)", ["f:3,4", "f:5,4"]),
    ("cdist_p1_batch", "lib.cdist(x0, x1, p=1.0)", ["f:2,3,4", "f:2,5,4"]),
    ("cdist_inf", "lib.cdist(x0, x1, p=float('inf'))", ["f:3,4", "f:2,4"]),
    # -- new ops: shapes ---------------------------------------------------------------------
    ("movedim", "x0.movedim(0, -1)", ["f:2,3,4"]),
    ("movedim_many", "lib.movedim(x0, (0, 1), (2, 0))", ["f:2,3,4"]),
    ("t", "x0.t()", ["f:3,4"]),
    ("t_1d", "lib.t(x0)", ["f:4"]),
    ("t_3d_refused", "x0.t()", ["f:2,3,4"]),
    ("ravel", "x0.ravel()", ["f:2,3,4"]),
    ("narrow", "x0.narrow(1, 1, 2)", ["f:3,4"]),
    ("narrow_negative_start", "lib.narrow(x0, -1, -3, 2)", ["f:3,4"]),
    ("narrow_too_long", "x0.narrow(1, 3, 2)", ["f:3,4"]),
    ("select", "x0.select(1, -1)", ["f:3,4"]),
    ("select_out_of_range", "x0.select(0, 3)", ["f:3,4"]),
    ("unbind", "x0.unbind(1)", ["f:3,4"]),
    ("unfold", "x0.unfold(1, 2, 1)", ["f:3,5"]),
    ("unfold_step", "x0.unfold(0, 2, 2)", ["f:5,2"]),
    ("tile", "x0.tile((2, 1, 2))", ["f:3,4"]),
    ("tile_fewer", "lib.tile(x0, (2,))", ["f:3,4"]),
    ("tensor_split_sections", "x0.tensor_split(3, dim=1)", ["f:3,7"]),
    ("tensor_split_indices", "lib.tensor_split(x0, [1, 5, 4], dim=1)", ["f:3,7"]),
    ("hsplit", "x0.hsplit(2)", ["f:3,4"]),
    ("hsplit_uneven_refused", "x0.hsplit(3)", ["f:3,4"]),
    ("vsplit_indices", "lib.vsplit(x0, [1])", ["f:3,4"]),
    ("rot90", "x0.rot90()", ["f:3,4"]),
    ("rot90_k2_dims", "lib.rot90(x0, 2, [1, 2])", ["f:2,3,4"]),
    ("rot90_k_minus1", "x0.rot90(-1, [0, 1])", ["f:3,4"]),
    ("fliplr", "x0.fliplr()", ["f:3,4"]),
    ("flipud", "lib.flipud(x0)", ["f:3,4"]),
    ("atleast_1d", "lib.atleast_1d(x0)", ["f:"]),
    ("atleast_2d", "lib.atleast_2d(x0)", ["f:4"]),
    ("atleast_3d", "lib.atleast_3d(x0, x1)", ["f:4", "f:2,3"]),
    ("broadcast_to", "x0.broadcast_to((2, 3, 4))", ["f:3,1"]),
    ("broadcast_tensors", "lib.broadcast_tensors(x0, x1)", ["f:3,1", "f:4"]),
    ("hstack", "lib.hstack([x0, x1])", ["f:3,2", "f:3,4"]),
    ("hstack_1d", "lib.hstack([x0, x1])", ["f:2", "f:3"]),
    ("vstack", "lib.vstack([x0, x1])", ["f:4", "f:2,4"]),
    ("dstack", "lib.dstack([x0, x1])", ["f:4", "f:1,4"]),
    ("column_stack", "lib.column_stack([x0, x1])", ["f:3", "f:3,2"]),
    ("diag_embed", "lib.diag_embed(x0)", ["f:2,3"]),
    ("diag_embed_offset_dims", "x0.diag_embed(offset=-1, dim1=0, dim2=2)", ["f:2,3"]),
    ("diagflat", "x0.diagflat(1)", ["f:2,2"]),
    # -- new ops: indexing -------------------------------------------------------------------
    ("index_add", "x0.index_add(1, x1, x2, alpha=2)", ["f:2,4", "i:3:4", "f:2,3"]),
    ("index_add_dim0", "lib.index_add(x0, 0, x1, x2)", ["f:3,2", "i:5:3", "f:5,2"]),
    ("index_copy", "x0.index_copy(1, x1, x2)", ["f:2,4", "u:3:4", "f:2,3"]),
    ("index_fill", "x0.index_fill(0, x1, -1.5)", ["f:3,4", "i:2:3"]),
    ("index_fill_tensor_value", "lib.index_fill(x0, 1, x1, x2)", ["f:3,4", "i:2:4", "f:"]),
    ("scatter_reduce_sum", "x0.scatter_reduce(1, x1, x2, 'sum')", ["f:3,4", "i:3,5:4", "f:3,5"]),
    ("scatter_reduce_mean", "x0.scatter_reduce(1, x1, x2, 'mean')", ["f:3,4", "i:3,5:4", "f:3,5"]),
    ("scatter_reduce_mean_exclude", "x0.scatter_reduce(0, x1, x2, 'mean', include_self=False)",
     ["f:4,3", "i:5,3:4", "f:5,3"]),
    ("scatter_reduce_amax", "x0.scatter_reduce(1, x1, x2, 'amax')", ["f:3,4", "i:3,5:4", "f:3,5"]),
    ("scatter_reduce_amin_exclude", "x0.scatter_reduce(1, x1, x2, 'amin', include_self=False)",
     ["f:3,4", "i:3,5:4", "f:3,5"]),
    ("scatter_reduce_amax_ties", "x0.scatter_reduce(1, x1, x2, 'amax')",
     ["k:3,4:2", "i:3,5:4", "k:3,5:2"]),
    ("scatter_reduce_prod", "lib.scatter_reduce(x0, 1, x1, x2, 'prod')",
     ["p:3,4", "i:3,5:4", "p:3,5"]),
    ("scatter_reduce_sum_int", "x0.scatter_reduce(0, x1, x2, 'sum', include_self=False)",
     ["s:3,4:-5:5", "i:2,4:3", "s:2,4:-5:5"]),
    ("masked_scatter", "x0.masked_scatter(x1, x2)", ["f:3,4", "b:3,4", "f:13"]),
    ("masked_scatter_broadcast", "x0.masked_scatter(x1, x2)", ["f:4", "b:3,4", "f:12"]),
    ("take", "x0.take(x1)", ["f:3,4", "i:2,3:12"]),
    ("take_negative", "lib.take(x0, x1 - 12)", ["f:3,4", "i:5:12"]),
    ("argwhere", "lib.argwhere(x0)", ["z:3,4"]),
    ("searchsorted", "lib.searchsorted(x0.sort().values, x1)", ["f:6", "f:3,4"]),
    ("searchsorted_right_int32",
     "lib.searchsorted(x0.sort().values, x1, right=True, out_int32=True)",
     ["s:6:0:3", "s:5:0:4"]),
    ("searchsorted_side_2d", "lib.searchsorted(x0.sort(dim=1).values, x1, side='right')",
     ["f:3,5", "f:3,4"]),
    ("bucketize", "lib.bucketize(x1, x0.sort().values)", ["f:5", "f:3,4"]),
    ("bucketize_right", "lib.bucketize(x1, x0.sort().values, right=True)",
     ["s:4:0:9", "s:3,4:0:9"]),
    ("unique", "lib.unique(x0)", ["s:10:0:4"]),
    ("unique_inverse_counts", "x0.unique(return_inverse=True, return_counts=True)",
     ["s:3,4:-2:3"]),
    ("unique_dim", "lib.unique(x0, dim=0, return_inverse=True, return_counts=True)",
     ["s:6,2:0:2"]),
    ("unique_float", "lib.unique(x0.detach())", ["k:10:4"]),
    ("isin", "lib.isin(x0, x1)", ["s:3,4:0:6", "s:4:0:6"]),
    ("isin_invert", "lib.isin(x0, x1, invert=True)", ["s:3,4:0:6", "s:2,2:0:6"]),
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
    if kind == "q":
        return rng.random(shape) * 0.9 + 0.05
    if kind == "c":
        return rng.random(shape) * 1.8 - 0.9
    if kind == "k":
        return rng.integers(0, int(bounds[0]), shape).astype(np.float64)
    if kind == "inf":
        x = rng.standard_normal(shape)
        x.flat[rng.permutation(x.size)[:3]] = [np.nan, np.inf, -np.inf]
        return x
    return make_input(spec, rng)


if __name__ == "__main__":
    write(CASES, OUT, SEED, make)
